"""Search quality of every optimizer on three spaces small enough to enumerate, and swarm overhead.

Usage::

    python benchmarks/search_quality.py                 # the full table (~10 min on 2 cores)
    python benchmarks/search_quality.py --seeds 3 --quick --share 0.01 --problems qa_wide
    python benchmarks/search_quality.py --markdown benchmarks/results/search_quality.md

What it does:

1. **Brute force.** Every point of each space of ``PROBLEMS`` (the bundled
   ``bench_small``, 69,120 parameter combinations, where ``psoga``'s defaults
   were chosen; and two held-out variants of bundled spaces, ``qa_wide`` and
   ``team_small``) is scored once per distinct design by the simulated
   evaluator under its scenario, reduced to one objective: its declared ``score``
   (quality - 0.05 * cost in USD, minus the constraint penalty). The
   simulator runs once, in vectorised batches, with evaluator seed 0; its
   metrics are then served by a lookup evaluator so that every optimizer and
   every seed searches the same landscape (a run's own seed would otherwise
   change the simulator's Monte-Carlo draws). The true optimum is positive,
   so "% of optimum" is ``best found / optimum``.
2. **Optimizers through swarmdesign.** ``random, tpe, cmaes, nsga2, pso, ga,
   psoga`` each run through the real :class:`~swarmdesign.runner.Run`
   (journal storage in a temporary folder, batches of 20) for 5% of the
   space, over ``--seeds`` seeds (TPE for 2% only: its asks slow down as
   the study grows, ~100 s for 2,000 trials).
3. **Peers used directly**, on the same objective (decode the box point,
   look its score up): a plain ``pyswarms.single.GlobalBestPSO`` loop (20
   particles, Clerc's coefficients) and a plain DEAP ``algorithms.eaSimple``
   loop (population 50, two-point crossover, bounded polynomial mutation,
   tournaments of 3), each seeded as its users do (global ``np.random`` /
   ``random``).
4. **Overhead.** Wall time per evaluation of ``pso`` through swarmdesign
   (real simulator, study records, journal) against the plain pyswarms loop
   on the same vectorised objective (decode + one simulator call per
   swarm step), both at 5,000 evaluations.

Printed per optimizer: the median over seeds of the best score found as a
percentage of the optimum after 0.25%, 1%, 2% and 5% of the space was
evaluated, the median number of evaluations to reach 99% of the optimum
(``>N`` when most seeds did not within their budget), and how many seeds did.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import math
import os
import platform
import random
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
import yaml
from optuna.distributions import CategoricalDistribution, IntDistribution

from swarmdesign import records
from swarmdesign.evaluators import Evaluator, evaluator_names, make_evaluator, register_evaluator
from swarmdesign.fitness import Scenario
from swarmdesign.resources import resolve
from swarmdesign.runner import Run, RunSettings
from swarmdesign.sim import SimulatedEvaluator
from swarmdesign.space import SearchSpace

#: The tuning space (bundled) and two held-out spaces, each with its scenario. ``psoga``'s defaults were chosen on
#: the first only; the others are enumerable variants of bundled spaces that no default was ever tried on.
PROBLEMS: dict[str, dict[str, Any]] = {
    "bench_small": {"space": "bench_small", "scenario": "math_qa", "held_out": False},
    "qa_wide": {
        "space": "qa_ensemble",
        "scenario": "math_qa",
        "held_out": True,
        "edit": {
            "name": "qa_wide",
            "roles": [
                {"name": "orchestrator", "archetype": "orchestrator", "count": {"min": 0, "max": 1},
                 "models": ["gpt-4o-mini"]},
                {"name": "solver", "archetype": "solver", "count": {"min": 1, "max": 9}},
                {"name": "judge", "archetype": "judge", "count": {"min": 0, "max": 3}, "models": ["gpt-4o-mini",
                 "gpt-4o"]},
            ],
            "coordination": {"redundancy": {"min": 1, "max": 5}, "aggregation": ["majority_vote", "judge",
                             "first_valid"], "review_rounds": {"min": 0, "max": 2}, "heterogeneity": 0.5},
        },
    },
    "team_small": {
        "space": "software_team",
        "scenario": "software_project",
        "held_out": True,
        "edit": {
            "name": "team_small",
            "models": ["gpt-4o-mini", "gpt-4o", "llama-3.1-8b"],
            "roles": [
                {"name": "planner", "archetype": "planner", "count": {"min": 0, "max": 1}, "models": ["gpt-4o"]},
                {"name": "coder", "archetype": "coder", "count": {"min": 1, "max": 16}},
                {"name": "reviewer", "archetype": "reviewer", "count": {"min": 0, "max": 4}, "models": ["gpt-4o-mini"]},
                {"name": "tester", "archetype": "tester", "count": {"min": 0, "max": 1}, "models": ["gpt-4o-mini"]},
            ],
            "topology": {"kinds": ["chain", "star", "hierarchical"], "branching": {"min": 2, "max": 4}},
            "coordination": {"redundancy": {"min": 1, "max": 2}, "aggregation": ["majority_vote"],
                             "review_rounds": {"min": 0, "max": 2}, "heterogeneity": 0.5, "routing": ["broadcast"]},
            "edges": {"search": [["reviewer", "coder"]]},
            "constraints": {"max_total_agents": 24},
        },
    },
}  # fmt: skip
EVAL_SEED = 0
OPTIMIZERS = ("random", "tpe", "cmaes", "nsga2", "pso", "ga", "psoga")
PEERS = ("pyswarms GlobalBestPSO", "DEAP eaSimple")
#: Budget shares of the space reported (the largest one is run); 0.25% shows where the leaders differ.
SHARES = (0.0025, 0.01, 0.02, 0.05)
#: TPE's asks grow with the study; it runs to this share only.
TPE_SHARE = 0.02
TARGET = 0.99
#: The share of the space at which the worst seed is reported.
WORST_AT = 0.01
BATCH = 20
OVERHEAD_EVALS = 5000
#: Clerc & Kennedy's constriction coefficients, the defaults of ``pso`` too.
CLERC = {"c1": 1.49618, "c2": 1.49618, "w": 0.7298}


# ------------------------------------------------------------ the landscape
def load_problem(problem: str) -> tuple[SearchSpace, Scenario]:
    """The space (a bundled one, or a bundled one with the fields of ``edit`` replaced) and its reduced scenario."""
    spec = PROBLEMS[problem]
    space = SearchSpace.load(resolve(spec["space"], "search_spaces", option="SPACE"))
    if "edit" in spec:
        space = SearchSpace.from_dict({**space.to_dict(), **spec["edit"]}, file=problem)
    base = Scenario.load(resolve(spec["scenario"], "fitness", option="--fitness"))
    scenario = Scenario.from_dict({**base.to_dict(), "objectives": [{"name": "score"}]})
    return space, scenario


def every_point(space: SearchSpace) -> list[dict[str, Any]]:
    names, choices = [], []
    for p in space.params:
        d = p.distribution
        if isinstance(d, CategoricalDistribution):
            choices.append(list(d.choices))
        elif isinstance(d, IntDistribution):
            choices.append(list(range(d.low, d.high + 1)))
        else:
            raise SystemExit(f"{space.name}: parameter {p.name} is a float; the benchmark needs an enumerable space")
        names.append(p.name)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*choices)]


def brute_force(space: SearchSpace, scenario: Scenario) -> tuple[pd.DataFrame, dict[str, int], float]:
    """Simulator metrics of every distinct design (rows), the row of each design's JSON, and the optimum score."""
    rows: dict[str, int] = {}
    designs = []
    keys: set[tuple[Any, ...]] = set()
    for params in every_point(space):
        key = space.design_key(params)  # equal keys = equal designs: decode each design once
        if key in keys:
            continue
        keys.add(key)
        design = space.decode_params(params, trusted=True)
        rows[records.design_json(design)] = len(designs)
        designs.append(design)
    evaluator = SimulatedEvaluator()
    frames = [evaluator.evaluate(designs[i : i + 4096], scenario, seed=EVAL_SEED) for i in range(0, len(designs), 4096)]
    metrics = pd.concat(frames, ignore_index=True)
    score = scenario.finish_metrics(metrics)["score"].to_numpy()
    return metrics, rows, float(score.max())


def table_name(problem: str) -> str:
    return f"bench-table-{problem}"


class TableEvaluator(Evaluator):
    """The simulator's metrics for every design of the space, looked up (same landscape for every seed)."""

    name = "bench-table"

    def __init__(self, metrics: pd.DataFrame, rows: dict[str, int]) -> None:
        self.metrics, self.rows = metrics, rows

    def evaluate(self, designs: Sequence[Any], scenario: Scenario, *, seed: int) -> pd.DataFrame:
        idx = [self.rows[records.design_json(d)] for d in designs]
        return self.metrics.iloc[idx].reset_index(drop=True)


def _init_worker(tables: dict[str, tuple[pd.DataFrame, dict[str, int]]]) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    for problem, (metrics, rows) in tables.items():
        if table_name(problem) not in evaluator_names():
            register_evaluator(table_name(problem), lambda m=metrics, r=rows: TableEvaluator(m, r))


# --------------------------------------------------------------- the runs
def optimizer_spec(label: str) -> tuple[str, dict[str, Any]]:
    """``psoga[screen=1;patience=2]`` as ``("psoga", {"screen": 1, "patience": 2})``: a variant in one column."""
    name, _, rest = label.partition("[")
    params: dict[str, Any] = {}
    for item in rest.rstrip("]").split(";") if rest else []:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"{label}: expected key=value inside [...], got {item!r}")
        params[key.strip()] = yaml.safe_load(value)
    return name.strip(), params


def run_optimizer(problem: str, label: str, seed: int, budget: int) -> list[float]:
    """Scores of a swarmdesign run's evaluations, in order."""
    name, params = optimizer_spec(label)
    space, scenario = load_problem(problem)
    with tempfile.TemporaryDirectory() as tmp:
        run = Run.create(
            RunSettings(
                space=space,
                scenario=scenario,
                optimizer=name,
                optimizer_params=params,
                evaluator=table_name(problem),
                budget=budget,
                seed=seed,
                batch_size=BATCH,
                out=Path(tmp),
                name="bench",
            )
        )
        run.execute()
        return [float(t.user_attrs.get("score", -math.inf)) for t in records.finished_trials(run.study)]


def _scorer(space: SearchSpace, scenario: Scenario, metrics: pd.DataFrame, rows: dict[str, int]) -> Callable:
    score = scenario.finish_metrics(metrics)["score"].to_numpy()

    def of(x: np.ndarray) -> float:
        return float(score[rows[records.design_json(space.decode(x))]])

    return of


def run_pyswarms(problem: str, seed: int, budget: int, metrics: pd.DataFrame, rows: dict[str, int]) -> list[float]:
    """A plain GlobalBestPSO loop, as its documentation shows it."""
    from swarmdesign.optimizers._pyswarms import quiet

    with quiet():  # pyswarms otherwise writes ./report.log and configures the root logger
        import pyswarms

    space, scenario = load_problem(problem)
    score_of = _scorer(space, scenario, metrics, rows)
    trace: list[float] = []

    def cost(x: np.ndarray) -> np.ndarray:
        s = np.array([score_of(row) for row in x])
        trace.extend(s.tolist())
        return -s

    np.random.seed(seed)
    with quiet():
        opt = pyswarms.single.GlobalBestPSO(
            n_particles=20,
            dimensions=space.dim,
            options=CLERC,
            bounds=(np.zeros(space.dim), np.ones(space.dim)),
        )
    opt.optimize(cost, iters=math.ceil(budget / 20), verbose=False)
    return trace[:budget]


def run_deap(problem: str, seed: int, budget: int, metrics: pd.DataFrame, rows: dict[str, int]) -> list[float]:
    """A plain ``eaSimple`` loop with DEAP's usual real-valued operators."""
    from deap import algorithms, base, tools

    class Fitness(base.Fitness):
        weights = (1.0,)

    class Individual(list):
        def __init__(self, genes: Sequence[float]) -> None:
            super().__init__(genes)
            self.fitness = Fitness()

    space, scenario = load_problem(problem)
    score_of = _scorer(space, scenario, metrics, rows)
    trace: list[float] = []

    def evaluate(ind: Individual) -> tuple[float]:
        s = score_of(np.array(ind))
        trace.append(s)
        return (s,)

    d = space.dim
    tb = base.Toolbox()
    tb.register("evaluate", evaluate)
    tb.register("mate", tools.cxTwoPoint)
    tb.register("mutate", tools.mutPolynomialBounded, eta=20.0, low=0.0, up=1.0, indpb=1.0 / d)
    tb.register("select", tools.selTournament, tournsize=3)
    random.seed(seed)
    pop = [Individual([random.random() for _ in range(d)]) for _ in range(50)]
    algorithms.eaSimple(pop, tb, cxpb=0.7, mutpb=0.2, ngen=math.ceil(budget / 10), verbose=False)
    return trace[:budget]


def _job(problem: str, kind: str, name: str, seed: int, budget: int) -> tuple[str, str, int, list[float], float]:
    """One run in a worker process (the lookup tables were registered there by :func:`_init_worker`)."""
    t0 = time.perf_counter()
    if kind == "optimizer":
        trace = run_optimizer(problem, name, seed, budget)
    else:
        table_ev = make_evaluator(table_name(problem))
        assert isinstance(table_ev, TableEvaluator)
        peer = run_pyswarms if name == PEERS[0] else run_deap
        trace = peer(problem, seed, budget, table_ev.metrics, table_ev.rows)
    return problem, name, seed, trace, time.perf_counter() - t0


# ---------------------------------------------------------------- summary
def summarise(traces: list[list[float]], optimum: float, size: int, budget: int) -> dict[str, Any]:
    marks = [max(1, round(share * size)) for share in SHARES]
    best = [np.maximum.accumulate(np.asarray(t, dtype=float)) for t in traces]
    pct = []
    for m in marks:
        pct.append(float(np.median([100.0 * b[m - 1] / optimum for b in best])) if m <= budget else math.nan)
    one = max(1, round(WORST_AT * size))
    worst = float(min(100.0 * b[one - 1] / optimum for b in best)) if one <= budget else math.nan
    reach = [int(np.argmax(b >= TARGET * optimum)) + 1 if (b >= TARGET * optimum).any() else math.inf for b in best]
    return {
        "pct": pct,
        "worst": worst,
        "reach": float(np.median(reach)),
        "reach_ci": median_interval(reach),
        "hits": sum(r < math.inf for r in reach),
        "budget": budget,
    }


def median_interval(values: Sequence[float], *, level: float = 0.9, draws: int = 4000) -> tuple[float, float]:
    """Bootstrap percentile interval of the median of ``values`` (seeds), at ``level``.

    Why: the number of evaluations a seed needs to reach the target spreads
    over tens of evaluations, so two optimizers' medians over a few tens of
    seeds differ by a few evaluations from sampling alone; the interval says
    which gaps are real. Resampled with a fixed generator, so a re-run of the
    benchmark prints the same interval.
    """
    x = np.asarray(values, dtype=float)
    if x.size < 2:
        return (math.nan, math.nan)
    idx = np.random.default_rng(0).integers(x.size, size=(draws, x.size))
    medians = np.median(x[idx], axis=1)
    tail = (1.0 - level) / 2.0
    ends = np.quantile(medians, [tail, 1.0 - tail], method="inverted_cdf")  # no interpolation: budgets may be inf
    return float(ends[0]), float(ends[1])


def _evals(value: float, budget: int) -> str:
    return f"{value:,.0f}" if value < math.inf else f">{budget:,}"


def table(results: dict[str, dict[str, Any]], size: int, seeds: int, budget: int) -> str:
    shares = [s for s in SHARES if round(s * size) <= budget]
    marks = [round(s * size) for s in shares]
    cols = [f"% of optimum at {s * 100:g}% ({m:,} evals)" for s, m in zip(shares, marks, strict=True)]
    head = (
        "| optimizer | "
        + " | ".join(cols)
        + f" | worst seed at {WORST_AT:.0%} | median evals to {TARGET:.0%} | 90 % interval of that median"
        + f" | seeds reaching {TARGET:.0%} |"
    )
    lines = [head, "|" + "---|" * (len(shares) + 5)]
    for name, r in results.items():
        cells = ["—" if math.isnan(p) else f"{p:.2f}" for p in r["pct"][: len(shares)]]
        worst = "—" if math.isnan(r["worst"]) else f"{r['worst']:.2f}"
        reach = _evals(r["reach"], r["budget"])
        lo, hi = r["reach_ci"]
        ci = "—" if math.isnan(lo) else f"{_evals(lo, r['budget'])}–{_evals(hi, r['budget'])}"
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {worst} | {reach} | {ci} | {r['hits']}/{seeds} |")
    return "\n".join(lines)


def overhead(evals: int) -> tuple[float, float]:
    """ms per evaluation: pso through swarmdesign, and the plain pyswarms loop on the same objective."""
    from swarmdesign.optimizers._pyswarms import quiet

    with quiet():
        import pyswarms

    space, scenario = load_problem("bench_small")
    evaluator = SimulatedEvaluator()

    def cost(x: np.ndarray) -> np.ndarray:
        designs = [space.decode(row) for row in x]
        return -scenario.finish_metrics(evaluator.evaluate(designs, scenario, seed=EVAL_SEED))["score"].to_numpy()

    np.random.seed(0)
    with quiet():
        opt = pyswarms.single.GlobalBestPSO(
            20, space.dim, options=CLERC, bounds=(np.zeros(space.dim), np.ones(space.dim))
        )
    t0 = time.perf_counter()
    opt.optimize(cost, iters=evals // 20, verbose=False)
    plain = (time.perf_counter() - t0) / evals
    with tempfile.TemporaryDirectory() as tmp:
        run = Run.create(
            RunSettings(
                space=space, scenario=scenario, optimizer="pso", budget=evals, batch_size=BATCH, out=Path(tmp), name="o"
            )
        )
        t0 = time.perf_counter()
        run.execute()
        ours = (time.perf_counter() - t0) / evals
    return ours * 1e3, plain * 1e3


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--first-seed", type=int, default=0, help="seeds first-seed .. first-seed + seeds - 1")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument(
        "--optimizers",
        default=",".join(OPTIMIZERS + PEERS),
        help="comma-separated; a variant takes hyperparameters in brackets: psoga[screen=1;patience=2]",
    )
    ap.add_argument("--problems", default=",".join(PROBLEMS), help=f"spaces to search, of {', '.join(PROBLEMS)}")
    ap.add_argument("--share", type=float, default=max(SHARES), help="budget of every run, as a share of its space")
    ap.add_argument("--quick", action="store_true", help="skip the overhead measurement")
    ap.add_argument("--markdown", type=Path, help="also write the report to this file")
    args = ap.parse_args(argv)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    started = time.perf_counter()
    problems = [p.strip() for p in args.problems.split(",") if p.strip()]
    chosen = [n.strip() for n in args.optimizers.split(",") if n.strip()]
    seeds = range(args.first_seed, args.first_seed + args.seeds)

    tables: dict[str, tuple[pd.DataFrame, dict[str, int]]] = {}
    facts: dict[str, dict[str, Any]] = {}
    for problem in problems:
        space, scenario = load_problem(problem)
        t0 = time.perf_counter()
        metrics, rows, optimum = brute_force(space, scenario)
        size = int(space.size())
        if optimum <= 0:
            raise SystemExit(f"{problem}: optimum score {optimum} is not positive; '% of optimum' needs it to be")
        tables[problem] = (metrics, rows)
        facts[problem] = {"size": size, "designs": len(rows), "optimum": optimum, "scenario": scenario.name}
        print(
            f"{problem}: {size:,} points, {len(rows):,} distinct designs, scored in {time.perf_counter() - t0:.1f} s; "
            f"optimum score {optimum:.5f}",
            flush=True,
        )

    def budget_of(problem: str, name: str) -> int:
        share = min(args.share, TPE_SHARE) if name == "tpe" else args.share
        return round(share * facts[problem]["size"])

    jobs = []
    for problem in problems:
        for name in chosen:
            kind = "peer" if name in PEERS else "optimizer"
            jobs += [(problem, kind, name, seed, budget_of(problem, name)) for seed in seeds]
    jobs.sort(key=lambda j: j[2] != "tpe")  # the slowest first, so the pool ends together
    traces: dict[tuple[str, str], list[list[float]]] = {(p, n): [] for p in problems for n in chosen}
    seconds: dict[str, float] = dict.fromkeys(chosen, 0.0)
    with ProcessPoolExecutor(args.jobs, initializer=_init_worker, initargs=(tables,)) as pool:
        futures = [pool.submit(_job, *job) for job in jobs]
        for fut in futures:
            problem, name, _seed, trace, sec = fut.result()
            traces[(problem, name)].append(trace)
            seconds[name] += sec
    for name in chosen:
        print(f"  {name}: {seconds[name]:.0f} s for {args.seeds} seeds x {len(problems)} spaces", flush=True)
    report = [
        f"Median over seeds {seeds.start}-{seeds.stop - 1}; batches of {BATCH}; every run searches "
        f"{args.share:.2%} of its space (TPE at most {TPE_SHARE:.0%}). Each scenario is reduced to its declared "
        "score; its optimum is positive, so % of optimum = best / optimum.",
    ]
    for problem in problems:
        f = facts[problem]
        spec = PROBLEMS[problem]
        results = {n: summarise(traces[(problem, n)], f["optimum"], f["size"], budget_of(problem, n)) for n in chosen}
        origin = (
            f"held out: bundled `{spec['space']}` with fields replaced (see `PROBLEMS` in the script)"
            if spec["held_out"]
            else "bundled; `psoga`'s defaults were chosen here"
        )
        report += [
            "",
            f"## `{problem}` ({origin})",
            "",
            f"{f['size']:,} points, {f['designs']:,} distinct designs, scenario `{f['scenario']}`, "
            f"optimum {f['optimum']:.5f}.",
            "",
            table(results, f["size"], args.seeds, round(args.share * f["size"])),
        ]
    if not args.quick:
        ours, plain = overhead(OVERHEAD_EVALS)
        report += [
            "",
            f"Overhead at {OVERHEAD_EVALS:,} evaluations (real simulator, `bench_small`): `pso` through swarmdesign "
            f"(study record, journal) {ours:.2f} ms/evaluation; plain pyswarms GlobalBestPSO loop on the same "
            f"vectorised objective {plain:.2f} ms/evaluation; ratio {ours / plain:.2f}x.",
        ]
    report += [
        "",
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.machine()}; "
        f"{dt.date.today().isoformat()}; whole benchmark {time.perf_counter() - started:.0f} s with {args.jobs} jobs.",
    ]
    text = "\n".join(report)
    print()
    print(text)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text("# Search quality\n\n" + text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
