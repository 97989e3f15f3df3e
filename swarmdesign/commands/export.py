"""``swarmdesign export DESIGN --to TARGET``: write a design for an agent framework."""

from __future__ import annotations

from pathlib import Path

import typer

from swarmdesign.export.plan import DEFAULT_MAX_AGENTS

TARGET_HELP = "Target: crewai, autogen, langgraph, mermaid or yaml."


def register(app: typer.Typer) -> None:
    @app.command()
    def export(
        design: str = typer.Argument(..., help="Design YAML file, or the bare name of a bundled design."),
        to: str = typer.Option(..., "--to", help=TARGET_HELP),
        out: Path | None = typer.Option(None, "--out", help="Output folder (default: ./<design>-<target>)."),
        max_agents: int = typer.Option(
            DEFAULT_MAX_AGENTS, "--max-agents", help="Refuse to expand to more agents than this."
        ),
        role_level: bool = typer.Option(
            False, "--role-level", help="One agent per role; replica counts are kept as metadata."
        ),
    ) -> None:
        """Write DESIGN as files the TARGET framework loads as they are."""
        from swarmdesign.commands._common import check_output_target, resolve_design
        from swarmdesign.design import Design
        from swarmdesign.errors import SwarmdesignError
        from swarmdesign.export import export_design, get_target

        get_target(to)  # an unknown target is reported before any file is read
        path = resolve_design(design)
        loaded = Design.load(path)
        folder = out if out is not None else Path(f"{path.stem}-{to}")
        check_output_target(folder, kind="folder")  # one line, nothing created, for an unusable --out
        try:
            written = export_design(loaded, to, folder, max_agents=max_agents, role_level=role_level)
        except SwarmdesignError as exc:
            raise exc.with_file(str(path)) from None
        for file in written:
            typer.echo(str(file))
