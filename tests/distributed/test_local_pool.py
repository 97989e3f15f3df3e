"""``--workers N``: batches shared between the run's process and its pool, and no process left behind.

Real processes (``spawn``), short sleeps: a few seconds each.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from dist_helpers import POPULATION, REPO, Reference, check_distributed_study, deadline, settings

from swarmdesign.parallel import ProcessPoolBatchExecutor
from swarmdesign.runner import Run


def test_shared_batches_record_what_one_process_records(tmp_path: Path, reference: Callable[[str], Reference]) -> None:
    """Pieces of a batch go to both processes (this one and the pool's); the study is a one-process run's."""
    run = Run.create(settings(tmp_path, "shared", sleep_s=0.02))
    with deadline(120), ProcessPoolBatchExecutor(2, startup_s=0, min_batch_s=0, timed_batches=1) as pool:
        summary = run.execute(batch_executor=pool)
        pids = pool.worker_pids
    assert summary.finished == 3 * POPULATION
    counts = vars(pool)
    assert pool.in_process_batches >= 1 and pool.pool_batches >= 1, counts
    assert pool.local_pieces >= 1 and pool.restarts == 0, counts
    assert len(pids) <= 1  # --workers 2: this process and one pool process
    assert pool.worker_pids == []  # shut down with the block
    check_distributed_study(run.study, summary.budget, reference("psoga"))


class _DyingPool(ProcessPoolBatchExecutor):
    """A pool whose processes die while starting (as one the out-of-memory killer takes)."""

    def _start_pool(self) -> None:
        super()._start_pool()
        assert self._pool is not None
        self._warming.append(self._pool.submit(os._exit, 3))


def test_a_pool_that_keeps_dying_leaves_the_run_to_this_process(tmp_path: Path) -> None:
    """Pool processes that die while starting: restarted, then given up; the run finishes here and says so once."""
    from concurrent.futures import wait

    run = Run.create(settings(tmp_path, "dying", sleep_s=0.01))
    said: list[str] = []
    with deadline(120), _DyingPool(2, startup_s=0, min_batch_s=0, max_restarts=1, log=said.append) as pool:
        pool._start_pool()
        for restarts in (1, 2):
            wait(pool._warming)
            assert not pool._pool_ready() and pool.restarts == restarts
        assert pool._pool is None and pool.worker_pids == []
        summary = run.execute(batch_executor=pool)
    assert summary.finished == 3 * POPULATION
    assert pool.pool_batches == 0 and pool.in_process_batches == 3
    assert sum("died" in m for m in said) == 1


#: Seconds a process of the run's group may take to exit after the run did (see _run_in_own_group).
GRACE_S = 5.0


def _group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of process group ``pgid``."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def _run_in_own_group(args: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[str], int]:
    """``swarmdesign ARGS`` in a new session; the most processes its group had while it ran.

    Fails if any process of the group is alive once the command has exited.
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", "swarmdesign.cli", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    most = [1]

    def watch() -> None:
        while proc.poll() is None:
            most[0] = max(most[0], len(_group_members(proc.pid)))
            time.sleep(0.1)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        out, err = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
    # multiprocessing's resource tracker (started with the spawn pool) leaves when it reads EOF from the run's
    # exit, a moment after it: a process of the group still alive after a grace period has outlived the run.
    deadline = time.monotonic() + GRACE_S
    while (leftover := _group_members(proc.pid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    watcher.join()
    assert leftover == [], f"processes outlived the run by more than {GRACE_S} s: {leftover}"
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err), most[0]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process groups from /proc")
def test_workers_run_leaves_no_process_behind(tmp_path: Path) -> None:
    """``run --workers 2`` on a slow evaluator: the pool really starts, and nothing of it outlives the run."""
    args = "run --budget 64 --batch-size 16 --workers 2 -e swarmdesign.testing.sleepy:SleepingEvaluator"
    res, most = _run_in_own_group(
        [*args.split(), "-E", "sleep_s=0.2", "--out", str(tmp_path), "--name", "w", "--quiet", "--no-recommend"], REPO
    )
    assert res.returncode == 0, res.stderr
    assert most >= 2, "the pool never started; the test proves nothing"
    trials = pd.read_csv(tmp_path / "w" / "trials.csv")
    assert (trials["state"] == "COMPLETE").sum() == 64


def test_agent_mode_runs_through_run_and_leaves_no_process_behind(tmp_path: Path) -> None:
    """The agent-level simulator as a slow, exact evaluator: every trial completes with finite objectives."""
    args = "run -E mode=agent -E replicas=2 --budget 8 --batch-size 4 --workers 2 --quiet --no-recommend"
    res, _ = _run_in_own_group([*args.split(), "--out", str(tmp_path), "--name", "a"], REPO)
    assert res.returncode == 0, res.stderr
    trials = pd.read_csv(tmp_path / "a" / "trials.csv")
    assert len(trials) == 8 and (trials["state"] == "COMPLETE").all()
    assert trials[["quality", "cost", "latency", "score"]].notna().all().all()
