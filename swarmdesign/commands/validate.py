"""``swarmdesign validate``: check designs, search spaces and scenarios."""

from __future__ import annotations

from pathlib import Path

import typer

KINDS = {"swarmdesign": "design", "swarmdesign_space": "search space", "swarmdesign_scenario": "scenario"}


def validate_file(path: Path) -> str:
    """Validate one file of any kind; return its kind or raise SwarmdesignError."""
    from swarmdesign import yamlio
    from swarmdesign.design import Design
    from swarmdesign.errors import SwarmdesignError
    from swarmdesign.fitness import Scenario
    from swarmdesign.space import SearchSpace

    data = yamlio.load_file(path)
    keys = [k for k in KINDS if isinstance(data, dict) and k in data]
    if len(keys) != 1:
        raise SwarmdesignError(
            "cannot tell what this file is; expected exactly one of the keys 'swarmdesign' (design), "
            "'swarmdesign_space' (search space), 'swarmdesign_scenario' (scenario)",
            file=str(path),
            field="(document)",
        )
    loader = {
        "swarmdesign": Design.from_dict,
        "swarmdesign_space": SearchSpace.from_dict,
        "swarmdesign_scenario": Scenario.from_dict,
    }[keys[0]]
    loader(data, file=str(path))
    return KINDS[keys[0]]


def register(app: typer.Typer) -> None:
    @app.command()
    def validate(files: list[Path] = typer.Argument(..., help="YAML files to check.")) -> None:
        """Check FILES; exit 0 when all are valid, 2 (one line per problem) otherwise."""
        from swarmdesign.errors import SwarmdesignError

        problems = 0
        for f in files:
            try:
                kind = validate_file(f)
            except SwarmdesignError as exc:
                problems += 1
                typer.echo(f"error: {exc}", err=True)
            else:
                typer.echo(f"ok: {f} ({kind})")
        if problems:
            raise typer.Exit(2)
