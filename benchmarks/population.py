"""Population against budget: best score found and run speed, per population, on the bundled space.

Usage::

    python benchmarks/population.py                         # psoga, ga, pso; 8 seeds; ~6 min on 2 cores
    python benchmarks/population.py --optimizers psoga --populations 16,100,256 --budget 100000 --seeds 3
    python benchmarks/population.py --markdown benchmarks/results/population.md
    python benchmarks/population.py --space qa_ensemble --fitness math_qa     # another bundled space

Why: ``swarmdesign run -n BUDGET`` gives the swarm and genetic optimizers a
population of ``budget // 100`` (between their default and 256) when the user
sets none (``swarmdesign/optimizers/population.py``). This script shows what
that rule is worth on the bundled ``software_team`` space (29 parameters, too
large to enumerate, so the figure is the best score found): for each
optimizer and population, one run per seed through the real
:class:`~swarmdesign.runner.Run` (simulated evaluator, journal storage in a
temporary folder, one generation per batch) of ``--budget`` evaluations. The
best score among the first 1,000, 3,000 and all evaluations is read from the
study. Printed: median over seeds [bootstrap 90 % interval], mean, worst seed,
and the run's trials per CPU-second (process CPU time of the run, so other
jobs on the machine matter less; runs share the machine's cores with
``--jobs``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from search_quality import median_interval  # noqa: E402
from search_target import SCENARIO, SPACE, run_scores  # noqa: E402

from swarmdesign.optimizers import budget_population, make_optimizer  # noqa: E402


def checkpoints(budget: int) -> list[int]:
    return [b for b in (1000, 3000) if b < budget] + [budget]


def one_run(args: tuple[str, int, int, int, str, str]) -> tuple[str, int, list[float], float]:
    """Best score at each checkpoint of one seed's run, and its trials per CPU-second."""
    optimizer, population, budget, seed, space, fitness = args
    scores, cpu = run_scores(optimizer, budget, seed, params={"population": population}, space=space, fitness=fitness)
    return optimizer, population, [max(scores[:b]) for b in checkpoints(budget)], budget / cpu


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--optimizers", default="psoga,ga,pso")
    parser.add_argument("--populations", default="", help="comma-separated (default: the optimizer's, 32, 100, 256)")
    parser.add_argument("--budget", type=int, default=10_000)
    parser.add_argument("--space", default=SPACE, help="a bundled search space")
    parser.add_argument("--fitness", default=SCENARIO, help="a bundled scenario")
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--markdown", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)
    searches: list[tuple[str, int]] = []
    for name in args.optimizers.split(","):
        default = make_optimizer(name).population
        pops = [int(p) for p in args.populations.split(",") if p] or sorted({default, 32, 100, 256})
        searches += [(name, p) for p in pops]
    jobs = [(o, p, args.budget, s, args.space, args.fitness) for o, p in searches for s in range(args.seeds)]
    started = time.perf_counter()
    best: dict[tuple[str, int], list[list[float]]] = {key: [] for key in searches}
    speed: dict[tuple[str, int], list[float]] = {key: [] for key in searches}
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for optimizer, population, scores, per_cpu_s in pool.map(one_run, jobs):
            best[(optimizer, population)].append(scores)
            speed[(optimizer, population)].append(per_cpu_s)
    marks = checkpoints(args.budget)
    head = " | ".join(f"median at {b:,}" for b in marks)
    lines = [
        f"# Population against budget on `{args.space}` under `{args.fitness}`",
        "",
        f"Best score found, seeds 0-{args.seeds - 1}: median [bootstrap 90 % interval of the median]; mean and worst "
        f"seed at {args.budget:,} evaluations; trials per CPU-second of the run (median over seeds). The population "
        f"`swarmdesign run -n {args.budget:,}` gives is marked *rule*.",
        "",
        f"| optimizer | population | {head} | mean at {args.budget:,} | worst at {args.budget:,} | trials per CPU-s |",
        "|---|---:|" + "---:|" * (len(marks) + 3),
    ]
    for (optimizer, population), runs in best.items():
        a = np.asarray(runs)
        cells = []
        for j in range(len(marks)):
            lo, hi = median_interval(a[:, j])
            cells.append(f"{np.median(a[:, j]):.4f} [{lo:.4f}–{hi:.4f}]")
        rule = budget_population(optimizer, {}, args.budget) or make_optimizer(optimizer).population
        mark = f"{population} *rule*" if population == rule else str(population)
        lines.append(
            f"| `{optimizer}` | {mark} | {' | '.join(cells)} | {a[:, -1].mean():.4f} | {a[:, -1].min():.4f} | "
            f"{np.median(speed[(optimizer, population)]):,.0f} |"
        )
    lines += [
        "",
        f"Machine: {platform.python_version()}, {platform.machine()}; {dt.date.today()}; "
        f"{time.perf_counter() - started:.0f} s with {args.jobs} jobs.",
        "",
    ]
    report = "\n".join(lines)
    print(report)
    if args.markdown:
        args.markdown.write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
