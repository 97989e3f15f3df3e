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
        workers: int = typer.Option(1, "--workers", "-w", help="Evaluate each batch in N local processes."),
        driver: bool = typer.Option(
            False, "--driver", help="Queue each batch in the run's storage for 'swarmdesign worker' processes."
        ),
        heartbeat: int = typer.Option(10, "--heartbeat", help="--driver: seconds between worker heartbeats."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    ) -> None:
        """Continue RUN_DIR until it has its budget of finished trials."""
        from swarmdesign.commands._common import run_dir_arg
        from swarmdesign.commands._progress import execute_with_progress
        from swarmdesign.parallel import check_options
        from swarmdesign.runner import Run

        run_obj = Run.open(run_dir_arg(run_dir), storage=storage)
        check_options(workers=workers, driver=driver, storage=storage or run_obj.config.get("storage"))
        execute_with_progress(run_obj, quiet=quiet, budget=budget, workers=workers, driver=driver, heartbeat=heartbeat)
        from swarmdesign.recommend.cli import after_search

        after_search(run_obj, quiet=quiet)  # finishes stages a killed run left half-done; reuses the rest
