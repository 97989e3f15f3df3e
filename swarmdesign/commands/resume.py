"""``swarmdesign resume``: continue a run to its budget; finished trials are never redone."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def resume(
        run_dir: Path = typer.Argument(..., help="The run folder to continue."),
        budget: int = typer.Option(None, "--budget", "-n", help="New total budget (default: the run's own)."),
        storage: str = typer.Option(None, "--storage", help="Storage URL, if the run's needs a password again."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    ) -> None:
        """Continue RUN_DIR until it has its budget of finished trials."""
        from swarmdesign.commands._common import run_dir_arg
        from swarmdesign.commands._progress import execute_with_progress
        from swarmdesign.runner import Run

        run_obj = Run.open(run_dir_arg(run_dir), storage=storage)
        execute_with_progress(run_obj, quiet=quiet, budget=budget)
