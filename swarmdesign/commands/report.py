"""``swarmdesign report``: one self-contained HTML page for a run."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def report(
        run_dir: Path = typer.Argument(..., help="A run folder."),
        out: Path = typer.Option(None, "--out", help="HTML file to write (default: RUN_DIR/report.html)."),
        static: bool = typer.Option(
            False, "--static", help="PNG plots only, no interactive section (a tenth of the size)."
        ),
        top: int = typer.Option(20, "--top", "-k", help="Rows of the top-trials table."),
        storage: str = typer.Option(None, "--storage", help="Storage URL, when the run's has a password not stored."),
    ) -> None:
        """Write an HTML report of RUN_DIR that opens without network: summary, plots, best design, top trials."""
        from swarmdesign.commands._common import run_dir_arg
        from swarmdesign.errors import SwarmdesignError

        if top < 1:
            raise SwarmdesignError(f"expected --top >= 1, got {top}", field="--top")
        if out is not None and out.is_dir():
            raise SwarmdesignError("is a directory; expected an HTML file path", file=str(out), field="--out")
        from swarmdesign.results import load_run

        results = load_run(run_dir_arg(run_dir), storage=storage)
        import importlib.util

        # Looked up, not imported: the report imports each where it draws (matplotlib in a forked child).
        for package in ("matplotlib", "plotly"):
            if importlib.util.find_spec(package) is None:
                raise SwarmdesignError(
                    f"the report needs matplotlib and plotly ({package} is missing); pip install 'swarmdesign[report]'"
                )
        from swarmdesign.report import write_report

        path = write_report(results, out, interactive=not static, top=top)
        typer.echo(str(path))
