"""``swarmdesign import crewai PROJECT`` (or ``AGENTS TASKS``): turn an existing team into a Design."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Turn an existing agent team into a Design (to seed a search).", no_args_is_help=True)

    @group.command("crewai")
    def crewai(
        agents_yaml: Path = typer.Argument(
            ..., help="A CrewAI project folder (src/<package>/config/*.yaml), or its agents.yaml."
        ),
        tasks_yaml: Path | None = typer.Argument(None, help="CrewAI tasks.yaml (left out for a project folder)."),
        out: Path | None = typer.Option(None, "--out", help="Design file to write (default: print to stdout)."),
        process: str | None = typer.Option(
            None, "--process", help="sequential or hierarchical (default: from the files, else sequential)."
        ),
        name: str | None = typer.Option(None, "--name", help="Name of the design."),
    ) -> None:
        """Read a CrewAI team; warnings list every field that did not fit."""
        from swarmdesign.commands._common import check_output_target
        from swarmdesign.importers.crewai import import_crewai

        if out is not None:
            check_output_target(out, kind="file")  # before reading: nothing is written for an unusable --out
        design, warnings = import_crewai(agents_yaml, tasks_yaml, process=process, name=name)
        for line in warnings:
            typer.echo(f"warning: {line}", err=True)
        if out is None:
            typer.echo(design.to_yaml(), nl=False)
        else:
            design.save(out)
            typer.echo(f"wrote {out} ({len(design.active_roles)} roles, {design.total_agents} agents)", err=True)

    app.add_typer(group, name="import")
