"""``swarmdesign evaluate``: score one design under a scenario."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from swarmdesign.commands._common import DEFAULT_FITNESS

if TYPE_CHECKING:
    from swarmdesign.design import Design
    from swarmdesign.evaluators import Evaluator
    from swarmdesign.fitness import Scenario


def score_design(evaluator: Evaluator, design: Design, scenario: Scenario, *, seed: int) -> dict[str, Any]:
    """Every metric of ``design`` after :meth:`Scenario.finish_metrics`, by name.

    Through :meth:`Evaluator.evaluate_columns` and
    :meth:`Scenario.finish_columns`, as a run records it: the simulator's fast
    mode then never builds a frame, so this command does not import pandas
    (a third of its start-up).
    """
    columns = scenario.finish_columns(evaluator.evaluate_columns([design], scenario, seed=seed))
    return {name: values[0] for name, values in columns.items()}


def register(app: typer.Typer) -> None:
    @app.command()
    def evaluate(
        design: str = typer.Argument(..., help="Design YAML file, or the bare name of a bundled design."),
        fitness: str = typer.Option(DEFAULT_FITNESS, "--fitness", "-f", help="Scenario: a bundled name or a path."),
        seed: int = typer.Option(0, "--seed", "-s", help="Seed of the evaluator."),
        evaluator: str = typer.Option("simulated", "--evaluator", "-e", help="Evaluator name."),
        as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of a table."),
    ) -> None:
        """Score DESIGN: quality, cost, latency, robustness, score and diagnostics."""
        import json
        import math

        from swarmdesign.commands._common import check_int_range, load_scenario, resolve_design
        from swarmdesign.design import Design
        from swarmdesign.evaluators import make_evaluator

        check_int_range("--seed", seed, 0, 2**32 - 1)
        d = Design.load(resolve_design(design))
        scenario, _ = load_scenario(fitness)
        # The evaluator directly, not through the runner: the runner imports optuna, which a single
        # evaluation never needs (it is most of this command's start-up).
        row = score_design(make_evaluator(evaluator), d, scenario, seed=seed)
        clean = {
            k: (bool(v) if isinstance(v, bool) or type(v).__name__ == "bool_" else float(v)) for k, v in row.items()
        }
        if as_json:
            out = {"design": d.name, "scenario": scenario.name, "seed": seed}
            out.update({k: (v if not isinstance(v, float) or math.isfinite(v) else None) for k, v in clean.items()})
            typer.echo(json.dumps(out))
            return
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"{d.name} on {scenario.name} (seed {seed})")
        table.add_column("metric")
        table.add_column("value", justify="right")
        for k, v in clean.items():
            table.add_row(k, f"{v:.6g}" if isinstance(v, float) else str(v))
        Console().print(table)
