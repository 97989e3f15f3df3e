"""``swarmdesign show``: a table of a run's best trials."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def show(
        run_dir: Path = typer.Argument(..., help="A run folder."),
        top: int = typer.Option(10, "--top", "-k", help="How many trials to list."),
    ) -> None:
        """List the TOP best trials of RUN_DIR (by score) with their key metrics."""
        import json

        from rich.console import Console
        from rich.table import Table

        from swarmdesign.commands._common import run_dir_arg
        from swarmdesign.errors import SwarmdesignError
        from swarmdesign.runner import Run

        if top < 1:
            raise SwarmdesignError(f"expected --top >= 1, got {top}", field="--top")
        run_obj = Run.open(run_dir_arg(run_dir))
        trials = [t for t in run_obj.study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
        trials.sort(key=lambda t: -float(t.user_attrs.get("score", float("-inf"))))
        finished = run_obj.finished()
        table = Table(title=f"{run_dir} · {finished}/{run_obj.budget} trials · top {min(top, len(trials))} by score")
        for col in ("trial", "score", "quality", "cost $", "latency s", "agents", "topology", "gen"):
            table.add_column(col, justify="right" if col not in ("topology",) else "left")
        for t in trials[:top]:
            a = t.user_attrs
            design = json.loads(a["design"])
            agents = sum(r["count"] for r in design["roles"])
            table.add_row(
                str(t.number),
                f"{a.get('score', float('nan')):.4f}",
                f"{a.get('quality', float('nan')):.3f}",
                f"{a.get('cost', float('nan')):.4g}",
                f"{a.get('latency', float('nan')):.4g}",
                f"{agents:,}",
                design["topology"]["kind"],
                "" if a.get("generation") is None else str(a["generation"]),
            )
        Console().print(table)
