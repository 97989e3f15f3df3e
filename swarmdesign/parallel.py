"""Local parallelism: evaluate each batch in N processes of this machine.

``swarmdesign run --workers N`` splits every batch (a swarm generation) into
N contiguous chunks and scores each chunk with *one* vectorised evaluator
call in a worker process, so the simulator's batch path stays the fast path.
Splitting is exact: the simulator's metrics for a design depend only on the
design and the seed (common random numbers are drawn per seed, not per
batch), so a chunked batch scores every design as the whole batch would.

Only evaluation is parallel. Recording stays in the run's own process, which
keeps the run folder's journal a single-writer file (buffered, one fsync per
batch) and the trial order identical to a single-process run.

Shipping a batch to other processes costs time too: starting them (each
imports the package, seconds on a busy machine), pickling designs and the
scenario, a round trip per batch. So the pool is used only where it wins:

* the first two batches are evaluated here and timed (the quickest of the
  last three counts, so a batch slowed by other processes starts nothing);
  one is enough when it took :data:`SURE_POOL_BATCH_S` or more;
* the pool is started (in the background: batches keep being evaluated
  here while its processes import) only when a batch takes at least
  :data:`MIN_POOL_BATCH_S` here and the rest of the run, spread over the
  workers, saves more than :data:`POOL_STARTUP_S`;
* once started, a batch goes to the pool while the pool finishes batches
  faster than this process does (both timings are kept up to date); a pool
  that turns out slower (a loaded machine, a cheap evaluator) is shut down.

Each choice against the pool is said once on the run's log, so
``--workers N`` is never much slower than one process. On a 0.1 s per
design evaluator a pool of two takes over from the third batch.

Processes start with ``spawn``: they are the run's own children, joined when
the pool shuts down, so none outlives the run (a ``forkserver`` server
process stayed behind after the run exited).

A worker process killed mid-batch (OOM killer, ``kill -9``) breaks the pool;
the lost chunks are evaluated again in a fresh pool, so a dead worker costs a
re-evaluation, not the run. Evaluators marked ``costly`` (LLM calls) are
never forked: their concurrency is asynchronous and bounded inside the
evaluator, and forking would multiply budgets and connections.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from swarmdesign.errors import SwarmdesignError

if TYPE_CHECKING:
    from swarmdesign.design import Design
    from swarmdesign.evaluators import Evaluator
    from swarmdesign.fitness import Scenario
    from swarmdesign.optimizers import Outcome, Proposal
    from swarmdesign.runner import BatchExecutor, Run

#: Pool restarts tolerated while evaluating one batch before the run stops.
MAX_POOL_RESTARTS = 3
#: A batch that evaluates faster than this in-process is not sent to the pool (seconds).
MIN_POOL_BATCH_S = 0.25
#: A batch this slow in-process starts the pool after one timing instead of ``timed_batches`` (seconds).
SURE_POOL_BATCH_S = 4 * MIN_POOL_BATCH_S
#: Seconds a pool must save over the rest of the run before it is started (its processes' start-up).
POOL_STARTUP_S = 3.0

ChunkResult = tuple[list[dict[str, Any] | None], list[str | None], float]


def split_evenly(n: int, parts: int) -> list[range]:
    """``range(n)`` cut into at most ``parts`` contiguous, non-empty pieces whose sizes differ by at most one."""
    parts = max(1, min(parts, n))
    base, extra = divmod(n, parts)
    out, start = [], 0
    for i in range(parts):
        stop = start + base + (1 if i < extra else 0)
        out.append(range(start, stop))
        start = stop
    return [r for r in out if len(r)]


def evaluate_chunk(
    evaluator: Evaluator, designs: Sequence[Design], scenario: Scenario, seed: int, timeout: float | None = None
) -> ChunkResult:
    """Score one chunk in a worker process: rows, failure reasons, seconds spent.

    Module-level (not a method) so it pickles by reference into the pool.
    """
    from swarmdesign.evaluation import evaluate_safely

    t0 = time.perf_counter()
    rows, reasons = evaluate_safely(evaluator, designs, scenario, seed, timeout=timeout)
    return rows, reasons, time.perf_counter() - t0


def _warm_up() -> None:
    """Import what evaluating needs, in a pool process that is starting while batches run elsewhere."""
    import swarmdesign.evaluation  # noqa: F401
    import swarmdesign.sim  # noqa: F401


def _ignore_sigint() -> None:
    """Pool processes leave Ctrl-C to the run's process, which stops the pool itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class ProcessPoolBatchExecutor:
    """A :data:`~swarmdesign.runner.BatchExecutor` that evaluates in ``workers`` local processes.

    Use as a context manager around :meth:`Run.execute` so the pool is shut
    down whatever happens::

        with ProcessPoolBatchExecutor(4) as pool:
            run.execute(batch_executor=pool)

    Processes start with ``spawn``: forking the run's own process would copy
    its storage connections and the threads of progress bars and database
    drivers, and a ``forkserver`` outlives the run. Batches cheaper than
    ``min_batch_s`` in this process stay in it (see the module docstring).
    """

    def __init__(
        self,
        workers: int,
        *,
        max_restarts: int = MAX_POOL_RESTARTS,
        min_batch_s: float = MIN_POOL_BATCH_S,
        startup_s: float = POOL_STARTUP_S,
        timed_batches: int = 2,
        log: Callable[[str], None] | None = None,
    ) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise SwarmdesignError(f"workers must be an integer >= 1, got {workers!r}", field="--workers")
        self.workers = workers
        self.max_restarts = max_restarts
        self.restarts = 0
        self.min_batch_s = float(min_batch_s)
        self.startup_s = float(startup_s)
        self.timed_batches = int(timed_batches)
        self.log = log
        #: Wall seconds per design of the latest batch in this process / in the pool (None: not timed yet).
        self.local_s: float | None = None
        self._recent_local: list[float] = []
        self.pool_s: float | None = None
        self.in_process_batches = 0
        self.pool_batches = 0
        self._said: set[str] = set()
        self._warming: list[Future[None]] = []
        self._pool_lost = False  # the pool proved slower than this process: not started again
        self._pool: ProcessPoolExecutor | None = None

    # ------------------------------------------------------------ lifecycle
    def __enter__(self) -> ProcessPoolBatchExecutor:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.close(wait=exc_type is None)

    def close(self, *, wait: bool = True) -> None:
        """Shut the pool down; after an error, stop its processes instead of waiting for them."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if not wait:
            for proc in list(getattr(pool, "_processes", {}).values()):
                proc.terminate()
        pool.shutdown(wait=True, cancel_futures=True)

    @property
    def worker_pids(self) -> list[int]:
        """Process ids of the live pool processes (empty before the first batch)."""
        if self._pool is None:
            return []
        return sorted(p.pid for p in getattr(self._pool, "_processes", {}).values() if p.pid is not None)

    def _ensure_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            ctx = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_ignore_sigint)
        return self._pool

    # ------------------------------------------------------------ executing
    def __call__(self, run: Run, proposals: Sequence[Proposal], seed: int) -> tuple[list[Outcome], int]:
        """Evaluate ``proposals`` in the pool and record them in ``run`` (in order, one flush)."""
        if self.workers < 2 or len(proposals) < 2 or run.evaluator.costly:
            return run.evaluate_and_record(proposals, seed)
        if not self._use_pool(len(proposals), max(run.budget - run.finished_so_far, 0)):
            t0 = time.perf_counter()
            result = run.evaluate_and_record(proposals, seed)
            # The quickest of the last few batches: one batch slowed by other processes must not start a pool.
            self._recent_local = [*self._recent_local[-2:], (time.perf_counter() - t0) / len(proposals)]
            self.local_s = min(self._recent_local)
            self.in_process_batches += 1
            return result
        self.pool_batches += 1
        t0 = time.perf_counter()
        result = self._pool_batch(run, proposals, seed)
        self.pool_s = (time.perf_counter() - t0) / len(proposals)
        if self.local_s is not None and self.pool_s >= self.local_s:
            self._say("slower", "note: the worker processes finish batches slower than this process (a busy machine?); "
                      "evaluating in this process from now on")  # fmt: skip
            self._pool_lost = True
            self.close(wait=True)
        return result

    def _use_pool(self, batch: int, remaining: int) -> bool:
        """Where the next batch goes (see the module docstring); starts the pool in the background when worth it."""
        if self.local_s is None or self._pool_lost:
            return False
        # One batch suffices when it is clearly slow (no momentary slow-down makes a cheap batch take 4x the
        # threshold): each batch timed here is one the pool could have halved.
        slow = self.local_s * batch >= SURE_POOL_BATCH_S
        if len(self._recent_local) < (1 if slow else self.timed_batches):
            return False
        if self._pool is None:
            gain = self.local_s * remaining * (1.0 - 1.0 / self.workers)
            if self.local_s * batch < self.min_batch_s or gain < self.startup_s:
                self._say(
                    "cheap",
                    f"note: a batch of {batch} takes {self.local_s * batch * 1000:.0f} ms in this process; sending "
                    f"batches to {self.workers} worker processes would not pay for their start-up, so they are "
                    "evaluated here while that holds",
                )
                return False
            pool = self._ensure_pool()
            self._warming = [pool.submit(_warm_up) for _ in range(self.workers)]
            return False
        if self._warming:
            if not all(f.done() for f in self._warming):
                return False
            broken = [f for f in self._warming if f.exception() is not None]
            self._warming = []
            if broken:  # a process died while starting: start afresh
                self.restarts += 1
                self.close(wait=False)
                return False
        return True

    def _say(self, key: str, message: str) -> None:
        if key in self._said or self.log is None:
            return
        self._said.add(key)
        self.log(message)

    def _pool_batch(self, run: Run, proposals: Sequence[Proposal], seed: int) -> tuple[list[Outcome], int]:
        designs = [run.optimizer.decode(p) for p in proposals]
        chunks = split_evenly(len(designs), self.workers)
        timeout = run.config.get("eval_timeout_s")
        results = self._evaluate_chunks(
            run.evaluator,
            run.scenario,
            [[designs[i] for i in c] for c in chunks],
            seed,
            float(timeout) if timeout else None,
        )
        rows: list[dict[str, Any] | None] = []
        reasons: list[str | None] = []
        seconds = 0.0
        for chunk_rows, chunk_reasons, chunk_seconds in results:
            rows.extend(chunk_rows)
            reasons.extend(chunk_reasons)
            seconds += chunk_seconds
        return run.record(proposals, designs, rows, reasons, seconds / len(designs))

    def _evaluate_chunks(
        self, evaluator: Evaluator, scenario: Scenario, chunks: list[list[Design]], seed: int, timeout: float | None
    ) -> list[ChunkResult]:
        """Every chunk's result, in order; chunks lost with a dead pool are submitted again."""
        results: dict[int, ChunkResult] = {}
        for attempt in range(self.max_restarts + 1):
            pool = self._ensure_pool()
            futures: dict[int, Future[ChunkResult]] = {
                i: pool.submit(evaluate_chunk, evaluator, chunk, scenario, seed, timeout)
                for i, chunk in enumerate(chunks)
                if i not in results
            }
            for i, future in futures.items():
                try:
                    results[i] = future.result()
                except BrokenProcessPool:
                    continue
            if len(results) == len(chunks):
                return [results[i] for i in range(len(chunks))]
            # A process of the pool died (killed, out of memory): start a fresh pool.
            self.restarts += 1
            self.close(wait=False)
            if attempt == self.max_restarts:
                break
        raise SwarmdesignError(
            f"local worker processes died {self.max_restarts + 1} times while evaluating one batch "
            "(out of memory? a crashing evaluator?); run with fewer --workers or without",
            field="--workers",
        )


def check_options(*, workers: int = 1, driver: bool = False, storage: str | None = None) -> None:
    """Refuse impossible ``--workers`` / ``--driver`` combinations before a run folder is made."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise SwarmdesignError(f"expected an integer >= 1, got {workers!r}", field="--workers")
    if driver and workers != 1:
        raise SwarmdesignError(
            "does not combine with --driver; start more 'swarmdesign worker' processes instead", field="--workers"
        )
    if driver and not storage:
        raise SwarmdesignError(
            "needs --storage that the workers can reach: postgresql://... (or a journal file on a shared disk)",
            field="--driver",
        )


@contextmanager
def batch_executor(
    run: Run,
    *,
    workers: int = 1,
    driver: bool = False,
    heartbeat_s: int | None = None,
    log: Callable[[str], None] | None = None,
) -> Iterator[BatchExecutor | None]:
    """The batch executor for ``run`` as the CLI options ask; ``None`` means in-process.

    ``driver=True`` queues every batch in the run's shared storage for
    ``swarmdesign worker`` processes (:class:`swarmdesign.distributed.Driver`,
    with ``heartbeat_s`` and ``log``); ``workers > 1`` evaluates in a local
    process pool. They do not combine: in driver mode, start more workers.
    """
    check_options(workers=workers, driver=driver, storage=run.store.url if driver else None)
    if driver:
        from swarmdesign.distributed import DEFAULT_HEARTBEAT_S, Driver

        with Driver(run, heartbeat_s=heartbeat_s or DEFAULT_HEARTBEAT_S, log=log) as drv:
            yield drv
        return
    if workers == 1:
        yield None
        return
    say = log or _stderr
    cores = usable_cores()
    if workers > cores:
        say(
            f"warning: --workers {workers} is more than the {cores} CPU cores this process may use; "
            "extra processes share cores and make each batch slower, not faster"
        )
    with ProcessPoolBatchExecutor(workers, log=say) as pool:
        yield pool


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the platform has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)
