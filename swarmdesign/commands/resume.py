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
        from swarmdesign import runlock
        from swarmdesign.commands._common import (
            check_options_before_start,
            check_run_config,
            check_run_matches_study,
            run_dir_arg,
        )
        from swarmdesign.commands._progress import execute_with_progress
        from swarmdesign.parallel import check_options
        from swarmdesign.runner import Run

        check_options_before_start(
            seed=0, budget=budget, batch_size=None, heartbeat=heartbeat, workers=workers, floats={}, storage=storage
        )
        folder = run_dir_arg(run_dir)
        runlock.pin(folder)  # one writer per run folder: a second resume (or the run itself) stops here
        check_run_config(folder)
        run_obj = open_run(Run, folder, storage)
        check_run_matches_study(run_obj)
        check_options(workers=workers, driver=driver, storage=storage or run_obj.config.get("storage"))
        execute_with_progress(run_obj, quiet=quiet, budget=budget, workers=workers, driver=driver, heartbeat=heartbeat)
        from swarmdesign.recommend.cli import after_search

        after_search(run_obj, quiet=quiet)  # finishes stages a killed run left half-done; reuses the rest


def open_run(run_cls, folder: Path, storage: str | None):  # noqa: ANN001, ANN201 - runner.Run, imported lazily
    """``Run.open``; a config that passed the key check but still cannot be rebuilt is named, not a traceback."""
    from swarmdesign.errors import SwarmdesignError
    from swarmdesign.storage import CONFIG_NAME

    try:
        return run_cls.open(folder, storage=storage)
    except SwarmdesignError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SwarmdesignError(
            f"cannot rebuild the run from it ({type(exc).__name__}: {exc}); the file was edited or is damaged",
            file=str(folder / CONFIG_NAME),
        ) from None
