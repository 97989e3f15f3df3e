"""``swarmdesign dashboard``: open a run's study in optuna-dashboard."""

from __future__ import annotations

import signal
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def dashboard(
        run_dir: Path = typer.Argument(..., help="A run folder."),
        port: int = typer.Option(8080, "--port", help="Port to listen on."),  # -p means --optimizer-param
        host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (0.0.0.0 exposes it to the network)."),
        storage: str = typer.Option(None, "--storage", help="Storage URL, when the run's has a password not stored."),
    ) -> None:
        """Serve RUN_DIR's Optuna study with optuna-dashboard until Ctrl-C (live while the run goes on)."""
        from swarmdesign.commands._common import run_dir_arg, stderr_console
        from swarmdesign.errors import SwarmdesignError
        from swarmdesign.results import load_run
        from swarmdesign.storage import JOURNAL_NAME

        if not 0 < port < 65536:
            raise SwarmdesignError(f"expected a port in 1..65535, got {port}", field="--port")
        try:
            import optuna_dashboard
        except ImportError:
            raise SwarmdesignError(
                "optuna-dashboard is not installed; pip install 'swarmdesign[report]' (or optuna-dashboard)"
            ) from None
        results = load_run(run_dir_arg(run_dir), storage=storage)
        where = results.config.get("storage") or str(run_dir / JOURNAL_NAME)
        shown = "localhost" if host in ("127.0.0.1", "::1") else host
        name = results.study.study_name
        stderr_console().print(
            f"optuna-dashboard for study '{name}' ({where}) at http://{shown}:{port}/ — Ctrl-C stops it"
        )
        if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
            # Started by a launcher that ignores Ctrl-C (Python then installs no KeyboardInterrupt): the
            # server would run until killed, against the line above. It has nothing to save on a stop.
            signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            # load_run's storage reads the journal unbuffered: trials show as a live run flushes them.
            optuna_dashboard.run_server(results.storage, host=host, port=port)
        except OSError as exc:
            raise SwarmdesignError(f"cannot listen on {host}:{port}: {exc.strerror or exc}", field="--port") from None
        except KeyboardInterrupt:
            raise typer.Exit(0) from None
