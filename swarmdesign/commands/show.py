"""``swarmdesign show``: a run's recommendation and best trials, or the best of each kind."""

from __future__ import annotations

from pathlib import Path

import typer

BY_CHOICES = ("score", "topology", "size")


def register(app: typer.Typer) -> None:
    @app.command()
    def show(
        run_dir: Path = typer.Argument(..., help="A run folder."),
        top: int = typer.Option(10, "--top", "-k", help="How many trials to list."),
        by: str = typer.Option(
            "score", "--by", help="score: the best trials; topology / size: the best design of each kind / size band."
        ),
        storage: str = typer.Option(None, "--storage", help="Storage URL, when the run's has a password not stored."),
    ) -> None:
        """List the recommendation and the TOP best trials of RUN_DIR, or the best design of each kind (--by)."""
        from swarmdesign.commands._common import run_dir_arg
        from swarmdesign.errors import SwarmdesignError

        if top < 1:
            raise SwarmdesignError(f"expected --top >= 1, got {top}", field="--top")
        if by not in BY_CHOICES:
            raise SwarmdesignError(f"expected one of {list(BY_CHOICES)}, got '{by}'", field="--by")
        from rich.console import Console

        from swarmdesign.results import load_run

        res = load_run(run_dir_arg(run_dir), storage=storage)  # read-only: a live run is not disturbed
        console = Console(highlight=False)
        summary = res.summary()
        head = f"{run_dir} · {summary['finished']}/{res.budget} trials"
        if by == "score":
            _print_recommendation(console, res)
            frame = res.top(top)
            title = f"{head} · top {len(frame)} search trials (feasible first, then score)"
        else:
            frame = res.archive(by).head(top)
            title = f"{head} · best design per {'topology kind' if by == 'topology' else 'agent-count band'}"
        console.print(_table(frame, title, by))


def _print_recommendation(console, res) -> None:  # noqa: ANN001 - rich and results are imported lazily
    from swarmdesign.recommend.text import recommendation_lines

    rec = res.recommendation
    if rec is None:
        console.print(
            f"best (trial {res.best_trial}): the highest score among feasible search trials; no recommendation "
            "stage yet (re-scores, baselines, trim), so no standard errors.",
            markup=False,
        )
        return
    for line in recommendation_lines(rec):
        console.print(line, markup=False)


def _table(frame, title: str, by: str):  # noqa: ANN001, ANN202
    import math

    from rich.table import Table

    table = Table(title=title)
    cols = [("trial", "trial"), ("score", "score"), ("score_se", "± SE"), ("quality", "quality"),
            ("cost", "cost $"), ("latency", "latency s"), ("agents", "agents"), ("topology", "topology")]  # fmt: skip
    if by != "score":
        cols = [("bin", by), ("designs", "designs"), *cols]
    cols = [(c, h) for c, h in cols if c in frame.columns]
    for _, header in cols:
        table.add_column(header, justify="left" if header in ("topology", by) else "right")
    for _, row in frame.iterrows():
        cells = []
        for c, _ in cols:
            v = row[c]
            if v is None or (isinstance(v, float) and math.isnan(v)):
                cells.append("")
            elif c in ("trial", "designs"):
                cells.append(str(int(v)))
            elif c == "agents":
                cells.append(f"{int(v):,}")
            elif c == "score_se":
                cells.append(f"{v:.2g}")
            elif c in ("score", "quality"):
                cells.append(f"{v:.4f}")
            elif c in ("cost", "latency"):
                cells.append(f"{v:.4g}")
            else:
                cells.append(str(v))
        table.add_row(*cells)
    return table
