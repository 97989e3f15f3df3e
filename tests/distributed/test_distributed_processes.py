"""Real processes: a driver and ``swarmdesign worker`` processes on PostgreSQL and on a shared journal
file, and a local process pool; one worker is SIGKILLed in the middle of a batch every time.

Each run must reach its budget with exactly one COMPLETE trial per planned
candidate, leave nothing WAITING or RUNNING, and evaluate exactly the designs
a single-process run with the same seed evaluates (so the same best design).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from dist_helpers import (
    POPULATION,
    Killer,
    Reference,
    check_distributed_study,
    deadline,
    settings,
    start_workers,
    stop_workers,
)

from swarmdesign.distributed import Driver
from swarmdesign.parallel import ProcessPoolBatchExecutor
from swarmdesign.runner import Run

pytestmark = pytest.mark.slow

SLEEP_S = 0.25  # per design: slow enough to kill a worker while it holds a trial


def drive_and_kill_one(
    tmp_path: Path, storage: str, optimizer: str, n_workers: int, reference: Callable[[str], Reference]
) -> None:
    name = f"dist-{optimizer}-{uuid.uuid4().hex[:8]}"
    # Workers first: they wait for the study to appear, as on a cluster.
    workers = start_workers(storage, name, n_workers, tmp_path / "logs", "--idle-timeout", "120")
    run = Run.create(settings(tmp_path / "runs", name, storage=storage, optimizer=optimizer, sleep_s=SLEEP_S))
    # Killed while it holds a trial of the second batch: mid-generation, after the first one is told.
    killer = Killer(storage, name, workers[0], min_number=POPULATION)
    killer.start()
    notes: list[str] = []
    try:
        with deadline(150), Driver(run, heartbeat_s=1, poll_s=0.05, log=notes.append) as driver:
            summary = run.execute(batch_executor=driver)
    finally:
        killer.stop()
        codes = stop_workers(workers)
    logs = "\n".join(p.read_text() for p in sorted((tmp_path / "logs").glob("*.log")))
    assert killer.killed_holding is not None, f"the worker was never seen holding a trial\n{logs}"
    assert codes[0] == -9
    assert codes[1:] == [0] * (n_workers - 1), logs
    assert summary.finished == summary.budget == 3 * POPULATION
    assert run.study.user_attrs["swarmdesign_state"] == "done"
    abandoned = check_distributed_study(run.study, summary.budget, reference(optimizer))
    assert killer.killed_holding in [t.number for t in abandoned], notes
    assert driver.requeued == len(abandoned) >= 1
    assert any("queued again" in n for n in notes)


def test_postgres_driver_and_three_workers_survive_a_killed_worker(
    tmp_path: Path, postgres_url: str, reference: Callable[[str], Reference]
) -> None:
    drive_and_kill_one(tmp_path, postgres_url, "psoga", 3, reference)


@pytest.mark.parametrize("optimizer", ["psoga", "random"])
def test_journal_file_driver_and_workers_survive_a_killed_worker(
    tmp_path: Path, optimizer: str, reference: Callable[[str], Reference]
) -> None:
    """A shared, unbuffered journal file given as --storage; ``random`` hands its own trials over."""
    drive_and_kill_one(tmp_path, str(tmp_path / "shared" / "study.journal"), optimizer, 2, reference)


def test_local_pool_of_two_survives_a_killed_process(tmp_path: Path, reference: Callable[[str], Reference]) -> None:
    """``--workers 2`` on the run folder's own (buffered) journal; a pool process dies mid-batch."""
    import os
    import signal

    run = Run.create(settings(tmp_path, "pool", sleep_s=SLEEP_S))
    killed: list[int] = []
    # Start the pool after one batch even in this short run (it would otherwise keep its batches in-process).
    with deadline(120), ProcessPoolBatchExecutor(2, startup_s=0, timed_batches=1) as pool:

        def on_batch(done: int, total: int, best: float | None) -> None:
            if done == POPULATION:  # the second batch starts now; each chunk sleeps 4 * SLEEP_S

                def kill() -> None:
                    pid = pool.worker_pids[0]
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)

                threading.Timer(2 * SLEEP_S, kill).start()

        summary = run.execute(batch_executor=pool, on_batch=on_batch)
    assert killed and pool.restarts >= 1
    assert summary.finished == 3 * POPULATION
    check_distributed_study(run.study, summary.budget, reference("psoga"))
