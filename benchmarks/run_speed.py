"""Whole-run speed: trials per second, optimizer overhead, workers, CLI start-up.

A run is more than its evaluations: every trial is recorded in the Optuna
study, the optimizer keeps its generation, and the derived files are
refreshed. This script measures the whole loop on the simulated evaluator
and compares it with what the evaluator alone allows:

* **throughput**: trials per second of ``Run.execute`` by optimizer and
  budget, plus the time per trial in the first and the last tenth of the
  batches (a flat run has a ratio near 1: no per-batch cost grows with the
  trials already run); each run gets what ``swarmdesign run -n BUDGET`` gives
  it: a population optimizer's population grows with a large budget
  (:mod:`swarmdesign.optimizers.population`), one generation per batch;
* **overhead**: ``pso`` against a plain pyswarms backend loop and ``ga``
  against a plain DEAP ``eaSimple`` loop over the *same* objective (decode,
  simulate, score) for the same number of evaluations, timed in the same
  process one after the other (ratios, so a loaded machine matters less);
* **resume**: opening a finished run and evaluating one more batch;
* **workers**: ``--workers 1`` and ``2`` on the fast simulator and on the
  ``sleeping`` evaluator (0.1 s per design);
* **CLI**: wall time of ``--help``, ``validate`` and ``evaluate`` in a fresh
  interpreter;
* **memory** (``--memory BUDGETS``, Linux): peak RSS of ``swarmdesign run -n
  BUDGET --no-recommend`` as typed, and of its ``resume`` plus one batch.
* **live memory** (``--live BUDGETS``): the Python objects a run holds at its
  end (``tracemalloc``), and what each trial adds between the budgets.

Prints each figure as it is measured and writes
``benchmarks/results/run_speed.md``. Run with
``python benchmarks/run_speed.py [--budgets 1000,10000] [--big 100000] [--quick]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import optuna

from swarmdesign.commands._common import load_scenario, load_space
from swarmdesign.runner import Run, RunSettings

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "run_speed.md"
SPACE, SCENARIO = "software_team", "software_project"
OPTIMIZERS = ("psoga", "pso", "ga", "tpe", "random")


def settings(out: Path, optimizer: str, budget: int, **extra: Any) -> RunSettings:
    scenario, source = load_scenario(SCENARIO)
    from swarmdesign.optimizers import budget_population, make_optimizer

    params = dict(extra.pop("optimizer_params", {}))
    scaled = budget_population(optimizer, params, budget)  # the population `swarmdesign run -n BUDGET` gives
    if scaled is not None:
        params["population"] = scaled
    opt = make_optimizer(optimizer, **params)
    batch = int(getattr(opt, "population", 16)) if opt.population_based else 16
    return RunSettings(
        space=load_space(SPACE),
        scenario=scenario,
        scenario_source=source,
        optimizer=optimizer,
        optimizer_params=params,
        budget=budget,
        seed=0,
        batch_size=extra.pop("batch_size", batch),
        name=f"bench-{uuid.uuid4().hex[:8]}",
        out=out,
        **extra,
    )


def timed_run(out: Path, optimizer: str, budget: int, **extra: Any) -> dict[str, float]:
    """Trials/s of one run, and the time per trial in its first and last tenth of batches."""
    chosen = settings(out, optimizer, budget, **extra)
    run = Run.create(chosen)
    marks: list[tuple[int, float]] = []
    inner, spent = run.evaluator.evaluate_columns, [0.0]

    def evaluate(*args: Any, **kwargs: Any) -> Any:  # the simulator's own CPU time, to show the rest apart
        c = time.process_time()
        try:
            return inner(*args, **kwargs)
        finally:
            spent[0] += time.process_time() - c

    run.evaluator.evaluate_columns = evaluate  # type: ignore[method-assign]  # what a run calls

    def on_batch(done: int, total: int, best: float | None) -> None:
        marks.append((done, time.perf_counter()))

    t0, c0 = time.perf_counter(), time.process_time()
    run.execute(on_batch=on_batch)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    stamps = [(0, t0), *marks]
    tenth = max(1, len(marks) // 10)

    def per_trial(a: int, b: int) -> float:
        return (stamps[b][1] - stamps[a][1]) / max(stamps[b][0] - stamps[a][0], 1)

    first = per_trial(0, tenth)
    last = per_trial(len(stamps) - 1 - tenth, len(stamps) - 1)
    return {
        "seconds": seconds,
        "cpu": cpu,
        "evaluator_cpu": spent[0],
        "trials_per_s": budget / seconds,
        "trials_per_cpu_s": budget / cpu,
        "first_ms": first * 1000,
        "last_ms": last * 1000,
        "run_dir": str(run.run_dir),
        "batch": float(chosen.batch_size),
    }


# ------------------------------------------------------------- plain loops
class Objective:
    """What a run scores, without the run: decode a unit-box batch, simulate, return losses (-score)."""

    def __init__(self) -> None:
        from swarmdesign.evaluators import make_evaluator

        self.space = load_space(SPACE)
        self.scenario, _ = load_scenario(SCENARIO)
        self.evaluator = make_evaluator("simulated")
        self.evaluator.prepare(self.scenario)
        self.calls = 0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        # the cheapest path a plain loop has: trusted decodes, and the evaluator's arrays (no frame)
        designs = [self.space.decode_params(self.space.vector_to_params(row), trusted=True) for row in np.asarray(x)]
        columns = self.scenario.finish_columns(self.evaluator.evaluate_columns(designs, self.scenario, seed=0))
        self.calls += len(designs)
        return -np.asarray(columns["score"], dtype=float)


def plain_pyswarms(evaluations: int, particles: int = 20) -> float:
    """Seconds of a pyswarms backend loop (star topology, Clerc-Kennedy coefficients) for ``evaluations``."""
    from swarmdesign.optimizers._pyswarms import quiet

    with quiet():
        import pyswarms.backend as P
        from pyswarms.backend.topology import Star

    f = Objective()
    d = f.space.dim
    bounds = (np.zeros(d), np.ones(d))
    np.random.seed(0)
    with quiet():
        topology = Star()
        bh, vh = P.BoundaryHandler(strategy="reflective"), P.VelocityHandler(strategy="unmodified")
    t0 = time.process_time()
    swarm = P.create_swarm(particles, d, options={"w": 0.7298, "c1": 1.49618, "c2": 1.49618}, bounds=bounds,
                           clamp=(-0.5, 0.5))  # fmt: skip
    swarm.pbest_cost = np.full(particles, np.inf)
    while f.calls < evaluations:
        swarm.current_cost = f(swarm.position)
        swarm.pbest_pos, swarm.pbest_cost = P.compute_pbest(swarm)
        swarm.best_pos, swarm.best_cost = topology.compute_gbest(swarm)
        swarm.velocity = topology.compute_velocity(swarm, (-0.5, 0.5), vh, bounds)
        swarm.position = topology.compute_position(swarm, bounds, bh)
    return time.process_time() - t0


def plain_deap(evaluations: int, population: int = 20) -> float:
    """Seconds of DEAP's ``eaSimple`` (SBX, polynomial mutation, tournament) until ``evaluations``."""
    import random

    from deap import algorithms, base, creator, tools

    f = Objective()
    d = f.space.dim
    if not hasattr(creator, "BenchFitness"):
        creator.create("BenchFitness", base.Fitness, weights=(-1.0,))
        creator.create("BenchIndividual", list, fitness=creator.BenchFitness)
    random.seed(0)
    toolbox = base.Toolbox()
    toolbox.register("individual", tools.initRepeat, creator.BenchIndividual, random.random, d)
    toolbox.register("population", tools.initRepeat, list, toolbox.individual)
    toolbox.register("mate", tools.cxSimulatedBinaryBounded, eta=15.0, low=0.0, up=1.0)
    toolbox.register("mutate", tools.mutPolynomialBounded, eta=20.0, low=0.0, up=1.0, indpb=1.0 / d)
    toolbox.register("select", tools.selTournament, tournsize=3)

    def evaluate_all(individuals: list[Any]) -> list[tuple[float]]:
        return [(float(v),) for v in f(np.array(individuals))]

    toolbox.register("map", lambda _fn, inds: evaluate_all(list(inds)))
    toolbox.register("evaluate", lambda ind: None)  # evaluated through "map", one batch per generation
    t0 = time.process_time()
    pop = toolbox.population(n=population)
    while f.calls < evaluations:
        pop, _ = algorithms.eaSimple(pop, toolbox, cxpb=0.9, mutpb=0.2, ngen=1, verbose=False)
    return time.process_time() - t0


def overhead(out: Path, evaluations: int) -> dict[str, float]:
    """CPU-time ratios: ``pso`` / plain pyswarms and ``ga`` / plain DEAP, same objective and evaluations.

    CPU seconds of this process, not wall time: on a shared machine wall time
    mostly measures the other processes.
    """
    res: dict[str, float] = {}
    res["pyswarms_s"] = plain_pyswarms(evaluations)
    # The optimizers' default populations, as the plain loops use (not the larger one a budget would give).
    res["pso_s"] = timed_run(out, "pso", evaluations, optimizer_params={"population": 20})["cpu"]
    res["deap_s"] = plain_deap(evaluations)
    res["ga_s"] = timed_run(out, "ga", evaluations, optimizer_params={"population": 16})["cpu"]
    res["pso_ratio"] = res["pso_s"] / res["pyswarms_s"]
    res["ga_ratio"] = res["ga_s"] / res["deap_s"]
    return res


# ------------------------------------------------------------------ resume
def timed_resume(run_dir: str, extra: int) -> float:
    """CPU seconds to open a finished run and finish ``extra`` more trials (one batch)."""
    t0 = time.process_time()
    run = Run.open(Path(run_dir))
    run.execute(budget=run.budget + extra)
    return time.process_time() - t0


# ------------------------------------------------------------------- scale
def scale(run_dir: Path, tmp: Path) -> dict[str, float]:
    """Wall seconds to open a big finished run: ``load_run``, ``show`` and ``resume`` (open + one batch).

    "replay" times are the journal read trial by trial (what every open cost
    before ``trials.csv`` was stamped, and what a run without a valid stamp
    still costs); "stamped" times read the stamped table.
    """
    from swarmdesign import results
    from swarmdesign.table_cache import STAMP_NAME

    copy = tmp / f"scale-{run_dir.name}"
    shutil.copytree(run_dir, copy)
    r: dict[str, float] = {"trials": float(len(results.load_run(copy).trials))}
    t0 = time.perf_counter()
    res = results.load_run(copy)
    r["load_stamped"] = time.perf_counter() - t0
    r["stamped"] = float(res._stamp is not None)  # noqa: SLF001
    r["show_stamped"] = cli_seconds(["show", str(copy)], repeat=1)
    saved, results.fresh_table = results.fresh_table, (lambda _: None)
    try:
        t0 = time.perf_counter()
        results.load_run(copy)
        r["load_replay"] = time.perf_counter() - t0
    finally:
        results.fresh_table = saved
    stamp = copy / STAMP_NAME
    stamp.rename(copy / "stamp.away")
    r["show_replay"] = cli_seconds(["show", str(copy)], repeat=1)
    (copy / "stamp.away").rename(stamp)
    other = tmp / f"scale-{run_dir.name}-replay"
    shutil.copytree(copy, other)
    (other / STAMP_NAME).unlink()
    for key, folder in (("resume_stamped", copy), ("resume_replay", other)):
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "swarmdesign.cli", "resume", str(folder), "-q", "--budget",
             str(int(r["trials"]) + 16)],
            capture_output=True, cwd=ROOT, check=True,
        )  # fmt: skip
        r[key] = time.perf_counter() - t0
        shutil.rmtree(folder, ignore_errors=True)
    return r


# ------------------------------------------------------------------ memory
def peak_memory(out: Path, budget: int) -> dict[str, float]:
    """Wall seconds and peak RSS (MB) of ``swarmdesign run -n BUDGET --no-recommend``, then of its resume.

    Each command runs in its own process, reaped with ``os.wait4`` for that
    process's own resource usage (``ru_maxrss``: KB on Linux).
    """
    name = f"memory-{budget}-{uuid.uuid4().hex[:6]}"
    commands = {
        "run": ["run", "-n", str(budget), "--no-recommend", "-q", "--out", str(out), "--name", name],
        "resume": ["resume", str(out / name), "-q", "-n", str(budget + 256)],
    }
    r: dict[str, float] = {}
    for key, argv in commands.items():
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "swarmdesign.cli", *argv],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
        )  # fmt: skip
        _, status, usage = os.wait4(proc.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"swarmdesign {' '.join(argv)} failed")
        r[f"{key}_s"] = time.perf_counter() - t0
        r[f"{key}_mb"] = usage.ru_maxrss / 1024
    shutil.rmtree(out / name, ignore_errors=True)
    return r


#: Child process of :func:`live_memory`: the run stays referenced, so what it holds is still traced at the end.
_LIVE = """
import gc, sys, tracemalloc
tracemalloc.start()
from swarmdesign import runner
held = []
execute = runner.Run.execute
def keep(self, *a, **k):
    held.append(self)
    return execute(self, *a, **k)
runner.Run.execute = keep
from swarmdesign.cli import main
try:
    main(sys.argv[1:])
except SystemExit as e:
    if e.code:
        raise
gc.collect()
now, peak = tracemalloc.get_traced_memory()
print(now, peak)
"""


def live_memory(out: Path, budget: int) -> dict[str, float]:
    """Python memory traced (``tracemalloc``) at the end of ``run -n BUDGET --no-recommend``, run object held, and
    its peak during the run, in MB.

    Peak RSS also holds the interpreter and its libraries and, by design, up
    to ``swarmdesign.sim.heap.TRIM_BYTES`` of freed heap kept for the
    simulator's temporaries, which hides what a trial costs; the difference
    of the traced memory of two budgets is what each trial adds.
    """
    name = f"live-{budget}-{uuid.uuid4().hex[:6]}"
    argv = ["run", "-n", str(budget), "--no-recommend", "-q", "--out", str(out), "--name", name]
    done = subprocess.run(
        [sys.executable, "-c", _LIVE, *argv], capture_output=True, text=True, cwd=ROOT, check=True
    )  # fmt: skip
    now, peak = (int(v) for v in done.stdout.split()[-2:])
    shutil.rmtree(out / name, ignore_errors=True)
    return {"now_mb": now / 2**20, "peak_mb": peak / 2**20}


# ----------------------------------------------------------------- workers
def timed_workers(out: Path, workers: int, budget: int, evaluator: str, params: dict[str, Any]) -> float:
    from swarmdesign.parallel import batch_executor

    run = Run.create(settings(out, "psoga", budget, evaluator=evaluator, evaluator_params=params))
    t0 = time.perf_counter()
    with batch_executor(run, workers=workers) as ex:
        run.execute(batch_executor=ex)
    return time.perf_counter() - t0


# --------------------------------------------------------------------- CLI
def cli_seconds(args: list[str], repeat: int = 3) -> float:
    """Best wall time of ``swarmdesign ARGS`` in a fresh interpreter."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "swarmdesign.cli", *args], capture_output=True, cwd=ROOT, check=False)
        best = min(best, time.perf_counter() - t0)
    return best


def row(name: str, budget: int, r: dict[str, float]) -> str:
    return (
        f"| {name} | {budget} | {r.get('batch', float('nan')):.0f} | {r['seconds']:.1f} | {r['cpu']:.1f} | "
        f"{r['evaluator_cpu']:.1f} | "
        f"{(r['cpu'] - r['evaluator_cpu']) / budget * 1000:.2f} | {r['trials_per_s']:.0f} | "
        f"{r['trials_per_cpu_s']:.0f} | {r['first_ms']:.2f} | {r['last_ms']:.2f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", default="1000,10000", help="Comma-separated budgets for every optimizer.")
    parser.add_argument("--big", type=int, default=0, help="Also one run of this budget with the fastest optimizer.")
    parser.add_argument("--study", type=Path, default=None, help="Time opening this finished run folder (scale).")
    parser.add_argument("--overhead-evals", type=int, default=5000)
    parser.add_argument("--slow-trials", type=int, default=32, help="Trials of the 0.1 s/design worker runs.")
    parser.add_argument("--optimizers", default=",".join(OPTIMIZERS))
    parser.add_argument("--skip", default="", help="Comma-separated parts to skip: throughput,overhead,resume,"
                        "workers,cli")  # fmt: skip
    parser.add_argument("--memory", default="", help="Comma-separated budgets: peak memory of run and resume.")
    parser.add_argument("--live", default="", help="Comma-separated budgets: Python memory a run holds (tracemalloc).")
    parser.add_argument("--label", default="", help="A note for the results file (e.g. the machine's load).")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    skip = set(filter(None, args.skip.split(",")))
    lines: list[str] = []

    def emit(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    tmp = Path(tempfile.mkdtemp(prefix="swarmdesign-run-speed-"))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    emit(f"# Run speed ({SPACE} / {SCENARIO}, simulated evaluator)\n")
    emit(f"{platform.python_version()}, {os.cpu_count()} CPUs, load average at start {load:.1f}. {args.label}\n")
    try:
        done: dict[tuple[str, int], dict[str, float]] = {}
        if "throughput" not in skip:
            emit("## Throughput\n")
            emit("Wall time is shared with the machine's other processes; CPU time is this process's own.\n")
            emit("| optimizer | budget | batch | wall s | CPU s | simulator CPU s | rest CPU ms/trial | trials/s | "
                 "trials per CPU-s | ms/trial first 10% | ms/trial last 10% |")  # fmt: skip
            emit("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
            budgets = [int(b) for b in args.budgets.split(",") if b]
            for budget in budgets:
                for name in args.optimizers.split(","):
                    r = timed_run(tmp, name, budget)
                    done[(name, budget)] = r
                    emit(row(name, budget, r))
            if args.big:
                r = timed_run(tmp, "random", args.big)
                done[("random", args.big)] = r
                emit(row("random", args.big, r))
            emit("")
        if "resume" not in skip and done:
            emit("## Resume (open a finished run, evaluate one more batch)\n")
            emit("| optimizer | trials in the study | original run CPU s | resume + one batch CPU s |")
            emit("|---|---:|---:|---:|")
            for (name, budget), r in sorted(done.items(), key=lambda kv: kv[0][1]):
                if name in ("psoga", "ga", "pso") and budget == max(b for (_, b) in done):
                    emit(f"| {name} | {budget} | {r['cpu']:.1f} | {timed_resume(r['run_dir'], 16):.2f} |")
            emit("")
        big_dir = args.study or (Path(done[("random", args.big)]["run_dir"]) if args.big else None)
        if "scale" not in skip and big_dir is not None:
            r = scale(big_dir, tmp)
            emit(f"## Opening a big run ({int(r['trials'])} trials, wall seconds)\n")
            emit("Stamped: `trials.csv` proven in step with the journal is read (a resume rebuilds its trials")
            emit("from it); replay: every trial is replayed from the journal by Optuna (a folder without a")
            emit("valid stamp).\n")
            emit("| command | replay s | stamped s |")
            emit("|---|---:|---:|")
            emit(f"| load_run | {r['load_replay']:.1f} | {r['load_stamped']:.1f} |")
            emit(f"| swarmdesign show | {r['show_replay']:.1f} | {r['show_stamped']:.1f} |")
            emit(f"| swarmdesign resume + one batch of 16 | {r['resume_replay']:.1f} | {r['resume_stamped']:.1f} |")
            emit("")
        if "overhead" not in skip:
            o = overhead(tmp, args.overhead_evals)
            emit(f"## Optimizer overhead ({args.overhead_evals} evaluations, same objective)\n")
            emit("| loop | CPU s | ratio |")
            emit("|---|---:|---:|")
            emit(f"| plain pyswarms backend loop | {o['pyswarms_s']:.2f} | 1 |")
            emit(f"| swarmdesign pso | {o['pso_s']:.2f} | {o['pso_ratio']:.2f} |")
            emit(f"| plain DEAP eaSimple | {o['deap_s']:.2f} | 1 |")
            emit(f"| swarmdesign ga | {o['ga_s']:.2f} | {o['ga_ratio']:.2f} |")
            emit("")
        if "workers" not in skip:
            from swarmdesign.testing.sleepy import register

            register()
            emit("## Workers\n")
            emit("| evaluator | trials | 1 worker s | 2 workers s | speed-up |")
            emit("|---|---:|---:|---:|---:|")
            for evaluator, params, trials in (
                ("simulated", {}, 2000),
                ("sleeping", {"sleep_s": 0.1}, args.slow_trials),
            ):
                one = timed_workers(tmp, 1, trials, evaluator, params)
                two = timed_workers(tmp, 2, trials, evaluator, params)
                emit(f"| {evaluator} {params or ''} | {trials} | {one:.2f} | {two:.2f} | {one / two:.2f} |")
            emit("")
        if args.memory:
            emit("## Memory (`swarmdesign run -n BUDGET --no-recommend`, then `resume -n BUDGET+256`)\n")
            emit("| budget | run wall s | run peak RSS MB | resume wall s | resume peak RSS MB |")
            emit("|---:|---:|---:|---:|---:|")
            for budget in (int(b) for b in args.memory.split(",") if b):
                m = peak_memory(tmp, budget)
                emit(
                    f"| {budget} | {m['run_s']:.1f} | {m['run_mb']:.0f} | {m['resume_s']:.1f} | {m['resume_mb']:.0f} |"
                )
            emit("")
        if args.live:
            emit("## Memory a run holds (`tracemalloc`; `swarmdesign run -n BUDGET --no-recommend`, run object kept)\n")
            emit("| budget | traced at the end MB | traced peak MB |")
            emit("|---:|---:|---:|")
            held = [(int(b), live_memory(tmp, int(b))) for b in args.live.split(",") if b]
            for budget, m in held:
                emit(f"| {budget} | {m['now_mb']:.1f} | {m['peak_mb']:.1f} |")
            if len(held) > 1:
                (b0, m0), (b1, m1) = held[0], held[-1]
                per = (m1["now_mb"] - m0["now_mb"]) * 2**20 / 1024 / (b1 - b0)
                emit(f"\nEach trial adds {per:.2f} KB of Python objects (budgets {b0} to {b1}).")
            emit("")
        if "cli" not in skip:
            design = str(ROOT / "designs" / "star_research.yaml")
            emit("## CLI start (best of 3, fresh interpreter)\n")
            emit("| command | seconds |")
            emit("|---|---:|")
            for label, argv in (
                ("--help", ["--help"]),
                ("validate DESIGN", ["validate", design]),
                ("evaluate DESIGN", ["evaluate", design]),
            ):
                emit(f"| {label} | {cli_seconds(argv):.2f} |")
            emit("")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
