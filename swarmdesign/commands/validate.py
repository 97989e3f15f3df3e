"""``swarmdesign validate``: check designs, search spaces and scenarios."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from swarmdesign.fitness import Scenario

KINDS = {"swarmdesign": "design", "swarmdesign_space": "search space", "swarmdesign_scenario": "scenario"}


def validate_file(path: Path) -> str:
    """Validate one file of any kind; return its kind or raise SwarmdesignError.

    Only the loader of the kind found is imported: a design needs pydantic
    alone, so ``validate design.yaml`` does not pay for optuna or pandas.
    """
    from swarmdesign import yamlio
    from swarmdesign.errors import SwarmdesignError

    data = yamlio.load_file(path)
    keys = [k for k in KINDS if isinstance(data, dict) and k in data]
    if len(keys) != 1:
        got = "" if isinstance(data, dict) else f"; got {type(data).__name__}"
        raise SwarmdesignError(
            "cannot tell what this file is; expected a mapping with exactly one of the keys 'swarmdesign' "
            f"(design), 'swarmdesign_space' (search space), 'swarmdesign_scenario' (scenario){got}",
            file=str(path),
            field="(document)",
        )
    if keys[0] == "swarmdesign":
        from swarmdesign.design import Design

        Design.from_dict(data, file=str(path))
    elif keys[0] == "swarmdesign_space":
        from swarmdesign.space import SearchSpace

        SearchSpace.from_dict(data, file=str(path))
    else:
        from swarmdesign.fitness import Scenario

        scenario = Scenario.from_dict(data, file=str(path))
        if scenario.llm is not None:
            _check_task_set(scenario, str(path))
    return KINDS[keys[0]]


def _check_task_set(scenario: Scenario, file: str) -> None:
    """An llm scenario's task set is read only when a real run starts: read it now."""
    from swarmdesign.errors import SwarmdesignError
    from swarmdesign.llm.evaluator import select_tasks
    from swarmdesign.llm.settings import validate_llm_section

    settings = validate_llm_section(scenario.llm, file=file)
    try:
        select_tasks(settings, seed=0)
    except SwarmdesignError as exc:
        if exc.file == settings.tasks and exc.field == "llm.tasks":  # the reference itself resolves to nothing
            raise SwarmdesignError(f"{settings.tasks!r}: {exc.message}", file=file, field="llm.tasks") from None
        raise exc.with_file(file) from None


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
