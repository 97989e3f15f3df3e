"""Best score found on the bundled space, searching the score against searching the Pareto front.

Usage::

    python benchmarks/search_target.py                      # psoga, ga, pso; 40 seeds (~1 min on 2 cores)
    python benchmarks/search_target.py --seeds 16 --optimizers nsga2,tpe,cmaes,random --no-pareto
    python benchmarks/search_target.py --markdown benchmarks/results/search_target.md

Why: "best" is the scenario's declared score everywhere (``best.yaml``, the
recommendation's re-scores and baselines), while ``software_project`` also
declares two objectives, quality and cost. A run searches the score unless it
is started with ``--pareto`` (``swarmdesign/search_target.py``); this script
measures what that choice is worth on the bundled ``software_team`` space (29
parameters, counts up to thousands on log scales), which is too large to
enumerate, so the figure is the best score found, not a share of a known
optimum. Each optimizer runs through the real :class:`~swarmdesign.runner.Run`
(simulated evaluator, journal storage in a temporary folder, batches of its
generation) for 800 evaluations per seed; the best score among the first 200,
400 and 800 is read from the study. Printed per search: the median over seeds
with a bootstrap 90 % interval of that median (from ``search_quality.py``),
and the worst seed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import platform
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from search_quality import median_interval, optimizer_spec  # noqa: E402

from swarmdesign import records  # noqa: E402
from swarmdesign.commands._common import load_scenario, load_space  # noqa: E402
from swarmdesign.optimizers import make_optimizer  # noqa: E402
from swarmdesign.runner import Run, RunSettings  # noqa: E402

BUDGETS = (200, 400, 800)
SPACE, SCENARIO = "software_team", "software_project"


def run_scores(
    optimizer: str,
    budget: int,
    seed: int,
    *,
    pareto: bool = False,
    params: dict[str, Any] | None = None,
    space: str = SPACE,
    fitness: str = SCENARIO,
) -> tuple[list[float], float]:
    """Scores of one run's finished trials, in order, and the run's CPU seconds.

    One run of ``budget`` evaluations on a bundled space (``software_team`` by default) through the real
    runner (simulated evaluator, journal storage in a temporary folder, one generation per batch).
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    scenario, source = load_scenario(fitness)
    opt = make_optimizer(optimizer, **(params or {}))
    batch = int(getattr(opt, "population", 16)) if opt.population_based else 16
    with tempfile.TemporaryDirectory() as tmp:
        run = Run.create(
            RunSettings(
                space=load_space(space),
                scenario=scenario,
                scenario_source=source,
                optimizer=optimizer,
                optimizer_params=dict(params or {}),
                budget=budget,
                seed=seed,
                batch_size=batch,
                out=Path(tmp),
                name="target",
                pareto=pareto,
            )
        )
        c0 = time.process_time()
        run.execute()
        cpu = time.process_time() - c0
        scores = [float(t.user_attrs.get("score", -math.inf)) for t in records.finished_trials(run.study)]
    return scores, cpu


def best_scores(optimizer: str, pareto: bool, seed: int) -> list[float]:
    """Best score among the first 200, 400 and 800 evaluations of one run (``psoga[screen=1]``: a variant)."""
    name, params = optimizer_spec(optimizer)
    scores, _ = run_scores(name, max(BUDGETS), seed, pareto=pareto, params=params)
    return [max(scores[:b]) for b in BUDGETS]


def _job(args: tuple[str, bool, int]) -> tuple[str, bool, int, list[float]]:
    optimizer, pareto, seed = args
    return optimizer, pareto, seed, best_scores(optimizer, pareto, seed)


def table(results: dict[tuple[str, bool], list[list[float]]]) -> str:
    head = " | ".join(f"{b} evaluations" for b in BUDGETS)
    lines = [
        f"| search | {head} | worst seed at {BUDGETS[-1]} | seeds |",
        "|---|" + "---:|" * (len(BUDGETS) + 2),
    ]
    for (optimizer, pareto), runs in results.items():
        per_budget = np.asarray(runs)  # (seeds, budgets)
        cells = []
        for j in range(len(BUDGETS)):
            lo, hi = median_interval(per_budget[:, j])
            cells.append(f"{np.median(per_budget[:, j]):.4f} [{lo:.3f}–{hi:.3f}]")
        name = f"`{optimizer} --pareto`" if pareto else f"`{optimizer}` on the score"
        lines.append(f"| {name} | {' | '.join(cells)} | {per_budget[:, -1].min():.4f} | {len(runs)} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=40)
    parser.add_argument("--optimizers", default="psoga,ga,pso")
    parser.add_argument("--no-pareto", action="store_true", help="only the score searches")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--markdown", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)
    searches: list[tuple[str, bool]] = []
    for name in args.optimizers.split(","):
        searches.append((name, False))
        if not args.no_pareto and make_optimizer(name).multi_objective:
            searches.append((name, True))
    jobs = [(o, p, s) for o, p in searches for s in range(args.seeds)]
    started = time.perf_counter()
    results: dict[tuple[str, bool], list[list[float]]] = {key: [] for key in searches}
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for optimizer, pareto, _seed, best in pool.map(_job, jobs):
            results[(optimizer, pareto)].append(best)
    report = "\n".join(
        [
            f"# Best score on `{SPACE}` under `{SCENARIO}`: the score searched, or the Pareto front",
            "",
            f"Median over seeds 0-{args.seeds - 1} of the best score found [bootstrap 90 % interval of that median].",
            "",
            table(results),
            "",
            f"Machine: {platform.python_version()}, {platform.machine()}; {dt.date.today()}; "
            f"{time.perf_counter() - started:.0f} s with {args.jobs} jobs.",
            "",
        ]
    )
    print(report)
    if args.markdown:
        args.markdown.write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
