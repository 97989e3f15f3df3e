"""Evaluations per second with 1 and 2 workers, and the coordination cost per trial.

A deliberately slow evaluator (``sleeping``: the simulator's metrics, then
``--sleep`` seconds per design) stands in for an expensive evaluation, so the
figures show the parallel speed-up and what coordination costs on top:

* ``in-process``: the plain run (one process, the run folder's own journal);
* ``local pool``: ``--workers N`` as a user runs it (this process and N - 1 pool processes),
  the pool's start-up inside the clock: the run decides when to start it and evaluates
  in-process meanwhile;
* ``journal file``: a driver and N ``swarmdesign worker`` processes on a shared journal file;
* ``postgresql``: the same on PostgreSQL (``--postgres URL``, else a throw-away server
  started with ``scripts/postgres.sh``, which runs without fsync).

Coordination overhead per trial = (wall seconds x workers - trials x sleep) / trials:
the worker-seconds each trial costs beyond its sleep (the simulator's own
few milliseconds included). The driver's worker start-up is not timed: workers
are started first and wait for the study, as on a cluster.

Prints a table and writes ``benchmarks/results/parallel_speed.json``. Run with
``python benchmarks/parallel_speed.py [--trials 48] [--sleep 0.1] [--modes local,journal,postgres]
[--postgres URL]``; goal 4 of the run-speed work is measured with ``--modes local --trials 320``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import optuna

from swarmdesign.commands._common import load_scenario, load_space
from swarmdesign.distributed import Driver
from swarmdesign.parallel import ProcessPoolBatchExecutor, batch_executor
from swarmdesign.runner import Run, RunSettings
from swarmdesign.testing.sleepy import register

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "parallel_speed.json"


def make_run(out: Path, storage: str | None, trials: int, sleep_s: float, batch: int) -> Run:
    scenario, source = load_scenario("software_project")
    return Run.create(
        RunSettings(
            space=load_space("software_team"),
            scenario=scenario,
            scenario_source=source,
            optimizer="psoga",
            optimizer_params={"population": batch},
            evaluator="sleeping",
            evaluator_params={"sleep_s": sleep_s},
            budget=trials,
            seed=0,
            batch_size=batch,
            name=f"bench-{uuid.uuid4().hex[:8]}",
            out=out,
            storage=storage,
        )
    )


def timed_local(out: Path, workers: int, trials: int, sleep_s: float, batch: int) -> float:
    """Wall seconds of ``run --workers N`` (pool start-up included); prints where the batches went."""
    run = make_run(out, None, trials, sleep_s, batch)
    notes: list[str] = []
    t0 = time.perf_counter()
    with batch_executor(run, workers=workers, log=notes.append) as ex:
        run.execute(batch_executor=ex)
        seconds = time.perf_counter() - t0
        if isinstance(ex, ProcessPoolBatchExecutor):
            print(
                f"  batches in-process {ex.in_process_batches}, shared {ex.pool_batches} "
                f"(pieces: pool {ex.pool_pieces}, this process {ex.local_pieces}); restarts {ex.restarts}"
                + "".join(f"\n  {n}" for n in notes)
            )
    return seconds


def timed_driver(out: Path, storage: str, workers: int, trials: int, sleep_s: float, batch: int) -> float:
    run = make_run(out, storage, trials, sleep_s, batch)
    name = run.config["study_name"]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "swarmdesign.cli", "worker", "--storage", storage, "--study", name, "-q"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    try:
        with Driver(run, heartbeat_s=5) as driver:
            time.sleep(6.0)  # the workers start, find the study and its config, and wait for trials
            t0 = time.perf_counter()
            run.execute(batch_executor=driver)
            seconds = time.perf_counter() - t0
    finally:
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
    return seconds


@contextmanager
def postgres(url: str | None) -> Iterator[str | None]:
    """The given URL, or a throw-away local server (None if it cannot be started)."""
    if url:
        yield url
        return
    data = Path(tempfile.mkdtemp(prefix="swarmdesign-bench-pg-", dir="/tmp"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = ROOT / "scripts" / "postgres.sh"
    proc = subprocess.run(
        ["bash", str(script), "start", "--data", str(data), "--port", str(port)], capture_output=True, text=True
    )
    if proc.returncode != 0:
        print(f"(no PostgreSQL: {proc.stderr.strip()[-300:]})")
        shutil.rmtree(data, ignore_errors=True)
        yield None
        return
    try:
        yield proc.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run(["bash", str(script), "stop", "--data", str(data)], capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=48, help="Evaluations per measurement.")
    parser.add_argument("--sleep", type=float, default=0.1, help="Seconds of sleep per design.")
    parser.add_argument("--batch", type=int, default=16, help="Population / batch size.")
    parser.add_argument("--modes", default="local,journal,postgres", help="Comma-separated modes to measure.")
    parser.add_argument("--postgres", default=os.environ.get("SWARMDESIGN_TEST_POSTGRES_URL"), help="Storage URL.")
    args = parser.parse_args()
    modes = set(args.modes.split(","))
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    register()
    rows: list[dict[str, object]] = []

    def record(mode: str, workers: int, seconds: float) -> None:
        overhead = (seconds * workers - args.trials * args.sleep) / args.trials
        rows.append(
            {
                "mode": mode,
                "workers": workers,
                "seconds": round(seconds, 3),
                "evals_per_s": round(args.trials / seconds, 2),
                "overhead_s_per_trial": round(overhead, 4),
            }
        )
        print(
            f"{mode:<14} {workers:>2} workers  {args.trials / seconds:7.2f} evals/s  "
            f"{seconds:6.2f} s  overhead {overhead * 1000:7.1f} ms/trial",
            flush=True,
        )

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"{args.trials} trials, sleep {args.sleep} s per design, batch {args.batch}, {os.cpu_count()} CPUs, "
        f"load average {load:.2f} at start"
    )
    tmp = Path(tempfile.mkdtemp(prefix="swarmdesign-bench-"))
    try:
        if "local" in modes:
            for workers in (1, 2):
                record(
                    "in-process" if workers == 1 else "local pool",
                    workers,
                    timed_local(tmp, workers, args.trials, args.sleep, args.batch),
                )
        if "journal" in modes:
            for workers in (1, 2):
                journal = str(tmp / f"shared-{workers}.journal")
                seconds = timed_driver(tmp, journal, workers, args.trials, args.sleep, args.batch)
                record("journal file", workers, seconds)
        if "postgres" in modes:
            with postgres(args.postgres) as url:
                if url is not None:
                    for workers in (1, 2):
                        seconds = timed_driver(tmp, url, workers, args.trials, args.sleep, args.batch)
                        record("postgresql", workers, seconds)
    finally:
        with suppress(OSError):
            shutil.rmtree(tmp)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "trials": args.trials,
                "sleep_s": args.sleep,
                "batch": args.batch,
                "cpus": os.cpu_count(),
                "load_average_at_start": round(load, 2),
                "python": platform.python_version(),
                "optuna": optuna.__version__,
                "rows": rows,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"-> {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
