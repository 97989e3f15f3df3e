"""``swarmdesign worker``: evaluate the queued trials of a driver's study, on any machine."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def worker(
        storage: str = typer.Option(
            ...,
            "--storage",
            envvar="SWARMDESIGN_STORAGE",
            help="The driver's storage: postgresql://... or a journal path (or env SWARMDESIGN_STORAGE, "
            "which keeps a password out of the process list).",
        ),
        study: str = typer.Option(..., "--study", help="The study to work on (the driver's run name)."),
        idle_timeout: float = typer.Option(
            None,
            "--idle-timeout",
            help="Exit after this many seconds with nothing to do (default: wait for the driver).",
        ),
        batch: int = typer.Option(1, "--batch", help="Queued trials taken at once and evaluated in one call."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="Only the final line."),
    ) -> None:
        """Take queued trials of STUDY, evaluate them, record the results; exit when the driver is done.

        Start any number, on any machine that reaches the storage. A worker that
        dies costs one re-evaluation: its trials are queued again when its
        heartbeat stops.
        """
        from swarmdesign.commands._common import check_finite, check_int_range, stderr_console

        check_int_range("--batch", batch, 1, 100_000)
        check_finite({"--idle-timeout": idle_timeout})
        if idle_timeout is not None and idle_timeout < 0:
            from swarmdesign.errors import SwarmdesignError

            raise SwarmdesignError(f"expected seconds >= 0, got {idle_timeout}", field="--idle-timeout")
        import optuna

        from swarmdesign.distributed import Worker
        from swarmdesign.errors import SwarmdesignError

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        console = stderr_console()

        def log(message: str) -> None:
            if not quiet:
                console.print(message, markup=False)

        w = Worker(storage, study, batch=batch, idle_timeout_s=idle_timeout, log=log)
        try:
            summary = w.run()
        except KeyboardInterrupt:
            s = w.summary
            console.print(f"worker {s.worker}: interrupted after {s.evaluated} trials; held trials queued again")
            raise SystemExit(130) from None
        except SwarmdesignError:
            raise
        console.print(
            f"worker {summary.worker}: evaluated {summary.evaluated} trials ({summary.failed} failed"
            + (f", {summary.dropped} given up" if summary.dropped else "")
            + f"); {summary.reason}"
        )
