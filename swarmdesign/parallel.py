"""Local parallelism: evaluate each batch in N processes of this machine.

``swarmdesign run --workers N`` shares every batch (a swarm generation)
between the run's own process and a pool of N - 1 worker processes: N
processes evaluate, as N asks. The batch is cut into a few contiguous pieces
(each a fraction of a second of evaluation, so a piece stays one vectorised
evaluator call) and every process takes the next piece when it finishes its
last, from opposite ends: a slower process, or one still starting, takes
fewer pieces, and no process waits for another while pieces are left.
Splitting is exact: the simulator's metrics for a design depend only on the
design and the seed (common random numbers are drawn per seed, not per
batch), so a shared batch scores every design as the whole batch would.

Only evaluation is parallel. Recording stays in the run's own process, which
keeps the run folder's journal a single-writer file (buffered, one fsync per
batch) and the trial order identical to a single-process run.

Shipping a batch to other processes costs time too: starting them (each
imports the package, a second or more on a busy machine), pickling designs
and the scenario, a round trip per piece. So the pool is used only where it
wins:

* batches are evaluated here, and timed (the quickest of the last three
  counts, so a batch slowed by other processes starts nothing), until two
  of them show that the pool pays, or one when it took
  :data:`SURE_POOL_BATCH_S` or more; a batch still running after
  :data:`WATCH_POOL_S` starts the pool at once when the rest of the run
  can repay it, so the pool's start-up overlaps that batch;
* the pool pays when a batch takes at least :data:`MIN_POOL_BATCH_S` here
  and the rest of the run, spread over the workers, saves more than
  :data:`POOL_STARTUP_S`;
* while its processes start, this process goes on evaluating; they join in
  as soon as they are ready, in the middle of a batch if need be;
* a pool that turns out slower than this process alone (a loaded machine,
  a cheap evaluator) is shut down.

Each choice against the pool is said once on the run's log, so
``--workers N`` is never much slower than one process.

Processes start with ``spawn``: they are the run's own children, joined when
the pool shuts down, so none outlives the run (a ``forkserver`` server
process stayed behind after the run exited).

A worker process killed mid-batch (OOM killer, ``kill -9``) breaks the pool;
the pieces it held are evaluated here and a fresh pool starts, so a dead
worker costs a re-evaluation, not the run; after :data:`MAX_POOL_RESTARTS`
restarts the run goes on in this process alone. Evaluators marked
``costly`` (LLM calls) are never forked: their concurrency is asynchronous
and bounded inside the evaluator, and forking would multiply budgets and
connections.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from swarmdesign.errors import SwarmdesignError

if TYPE_CHECKING:
    from swarmdesign.design import Design
    from swarmdesign.evaluators import Evaluator
    from swarmdesign.fitness import Scenario
    from swarmdesign.optimizers import Outcome, Proposal
    from swarmdesign.runner import BatchExecutor, Run

#: Pool restarts (a worker process died) tolerated in a run; after them the run goes on in its own process.
MAX_POOL_RESTARTS = 3
#: A batch that evaluates faster than this in-process is not shared with the pool (seconds).
MIN_POOL_BATCH_S = 0.25
#: A batch this slow in-process starts the pool after one timing instead of ``timed_batches`` (seconds);
#: a batch still running after this long starts it at once (when the rest of the run repays the start-up).
SURE_POOL_BATCH_S = 4 * MIN_POOL_BATCH_S
#: A batch still running in-process after this long starts the pool during the batch, when the rest of the run
#: (at this batch's pace so far, a lower bound) repays the start-up (seconds).
WATCH_POOL_S = 2 * MIN_POOL_BATCH_S
#: Seconds a pool must save over the rest of the run before it is started (its processes' start-up).
POOL_STARTUP_S = 3.0
#: Seconds of evaluation a piece of a shared batch is cut to (its round trip to a pool process is ~1 ms).
PIECE_S = 0.1
#: Pieces per evaluating process, at most: enough to even out processes of different speeds.
MAX_PIECES_PER_PROCESS = 4

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
    """Score one piece of a batch (in a worker process or here): rows, failure reasons, seconds spent.

    Module-level (not a method) so it pickles by reference into the pool.
    """
    from swarmdesign.evaluation import evaluate_safely

    t0 = time.perf_counter()
    rows, reasons = evaluate_safely(evaluator, designs, scenario, seed, timeout=timeout)
    return rows, reasons, time.perf_counter() - t0


def _warm_up(evaluator: Evaluator | None) -> None:
    """Import what evaluating needs, in a pool process that is starting while batches run elsewhere.

    Everything a piece's first evaluation would otherwise import: the
    evaluator's module (unpickling ``evaluator`` imports it), what unpickling a piece needs (designs, the scenario),
    pandas (evaluators return frames) and, for the bundled evaluators, which
    score with the simulator, ``scipy.special`` (the simulator imports it at
    its first evaluation).
    """
    import pandas  # noqa: F401

    import swarmdesign.design
    import swarmdesign.evaluation
    import swarmdesign.fitness  # noqa: F401

    if type(evaluator).__module__.startswith("swarmdesign."):
        import scipy.special  # noqa: F401


def _ignore_sigint() -> None:
    """Pool processes leave Ctrl-C to the run's process, which stops the pool itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class ProcessPoolBatchExecutor:
    """A :data:`~swarmdesign.runner.BatchExecutor` that evaluates in ``workers`` local processes.

    This process and ``workers - 1`` pool processes. Use as a context manager
    around :meth:`Run.execute` so the pool is shut down whatever happens::

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
        #: Wall seconds per design of the latest batch in this process / shared with the pool (None: not timed).
        self.local_s: float | None = None
        self._recent_local: list[float] = []
        self.pool_s: float | None = None
        self.in_process_batches = 0
        #: Batches shared with the pool (its processes took part, or were still starting).
        self.pool_batches = 0
        #: Pieces evaluated by the pool's processes / by this process in shared batches.
        self.pool_pieces = 0
        self.local_pieces = 0
        self._said: set[str] = set()
        self._warming: list[Future[None]] = []
        self._pool_lost = False  # the pool proved slower, or kept dying: not started again
        self._pool: ProcessPoolExecutor | None = None
        self._evaluator: Evaluator | None = None

    @property
    def pool_processes(self) -> int:
        """Processes of the pool: this process is the N-th worker."""
        return self.workers - 1

    # ------------------------------------------------------------ lifecycle
    def __enter__(self) -> ProcessPoolBatchExecutor:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.close(wait=exc_type is None)

    def close(self, *, wait: bool = True) -> None:
        """Shut the pool down; after an error, stop its processes instead of waiting for them."""
        pool, self._pool = self._pool, None
        self._warming = []
        if pool is None:
            return
        if not wait:
            for proc in list((getattr(pool, "_processes", None) or {}).values()):
                proc.terminate()
        pool.shutdown(wait=True, cancel_futures=True)

    @property
    def worker_pids(self) -> list[int]:
        """Process ids of the live pool processes (empty before the pool starts)."""
        pool = self._pool
        if pool is None:
            return []
        return sorted(p.pid for p in list((getattr(pool, "_processes", None) or {}).values()) if p.pid is not None)

    def _start_pool(self) -> None:
        """Start the pool's processes in the background; they import what evaluating needs."""
        ctx = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(self.pool_processes, mp_context=ctx, initializer=_ignore_sigint)
        self._warming = [pool.submit(_warm_up, self._evaluator) for _ in range(self.pool_processes)]
        self._pool = pool

    def _pool_ready(self) -> bool:
        """The pool exists and every process has started (a process that died starting restarts it)."""
        if self._pool is None:
            return False
        if self._warming:
            if not all(f.done() for f in self._warming):
                return False
            failed = any(f.cancelled() or f.exception() is not None for f in self._warming)
            self._warming = []
            if failed:
                self._pool_died()
                return False
        return True

    def _pool_died(self) -> None:
        """A pool process died: stop the pool, and start a fresh one unless that happened too often."""
        self.restarts += 1
        self.close(wait=False)
        if self.restarts > self.max_restarts:
            self._pool_lost = True
            self._say(
                "died",
                f"note: worker processes died {self.restarts} times (out of memory? a crashing evaluator?); "
                "evaluating in this process from now on",
            )
            return
        self._start_pool()

    # ------------------------------------------------------------ executing
    def __call__(self, run: Run, proposals: Sequence[Proposal], seed: int) -> tuple[list[Outcome], int]:
        """Evaluate ``proposals`` here or shared with the pool, and record them in ``run`` (in order, one flush)."""
        if self.workers < 2 or len(proposals) < 2 or run.evaluator.costly:
            return run.evaluate_and_record(proposals, seed)
        self._evaluator = run.evaluator
        remaining = max(run.budget - run.finished_so_far - len(proposals), 0)
        if self._pool is None:
            return self._local_batch(run, proposals, seed, remaining)
        return self._shared_batch(run, proposals, seed)

    def _local_batch(
        self, run: Run, proposals: Sequence[Proposal], seed: int, remaining: int
    ) -> tuple[list[Outcome], int]:
        """A batch in this process alone, timed; a slow one starts the pool while it runs."""
        watch = None
        if not self._pool_lost:
            per_design = WATCH_POOL_S / len(proposals)  # at least, once the timer fires
            if per_design * remaining * (1.0 - 1.0 / self.workers) >= self.startup_s:
                watch = threading.Timer(WATCH_POOL_S, self._start_pool)
                watch.daemon = True
                watch.start()
        t0 = time.perf_counter()
        try:
            result = run.evaluate_and_record(proposals, seed)
        finally:
            if watch is not None:
                watch.cancel()
                watch.join()
        # The quickest of the last few batches: one batch slowed by other processes must not start a pool.
        self._recent_local = [*self._recent_local[-2:], (time.perf_counter() - t0) / len(proposals)]
        self.local_s = min(self._recent_local)
        self.in_process_batches += 1
        if self._pool is None and not self._pool_lost:
            self._consider_pool(len(proposals), remaining)
        return result

    def _consider_pool(self, batch: int, remaining: int) -> None:
        """After a batch in this process: start the pool when the rest of the run repays it (module docstring)."""
        assert self.local_s is not None
        # One batch suffices when it is clearly slow (no momentary slow-down makes a cheap batch take 4x the
        # threshold): each batch timed here is one the pool could have shared.
        slow = self.local_s * batch >= SURE_POOL_BATCH_S
        if len(self._recent_local) < (1 if slow else self.timed_batches):
            return
        gain = self.local_s * remaining * (1.0 - 1.0 / self.workers)
        if self.local_s * batch < self.min_batch_s or gain < self.startup_s:
            self._say(
                "cheap",
                f"note: a batch of {batch} takes {self.local_s * batch * 1000:.0f} ms in this process; sharing "
                f"batches with {self.pool_processes} worker process{'es' if self.pool_processes > 1 else ''} "
                "would not pay for their start-up, so they are evaluated here while that holds",
            )
            return
        self._start_pool()

    def _shared_batch(self, run: Run, proposals: Sequence[Proposal], seed: int) -> tuple[list[Outcome], int]:
        """A batch shared between this process and the pool, recorded here in order."""
        designs = [run.optimizer.decode(p) for p in proposals]
        timeout = run.config.get("eval_timeout_s")
        ready_at_start = self._pool_ready()
        self.pool_batches += 1
        t0 = time.perf_counter()
        results = self._evaluate_shared(run.evaluator, run.scenario, designs, seed, float(timeout) if timeout else None)
        elapsed = (time.perf_counter() - t0) / len(designs)
        rows: list[dict[str, Any] | None] = []
        reasons: list[str | None] = []
        seconds = 0.0
        for piece_rows, piece_reasons, piece_seconds in results:
            rows.extend(piece_rows)
            reasons.extend(piece_reasons)
            seconds += piece_seconds
        if ready_at_start and self._pool is not None:
            self.pool_s = elapsed
            if self.local_s is not None and self.pool_s >= self.local_s:
                self._say("slower", "note: sharing batches with the worker processes is slower than this process "
                          "alone (a busy machine?); evaluating in this process from now on")  # fmt: skip
                self._pool_lost = True
                self.close(wait=True)
        return run.record(proposals, designs, rows, reasons, seconds / len(designs))

    def _pieces(self, n: int) -> list[range]:
        """Cut ``n`` designs into pieces of about :data:`PIECE_S` each, at least one per process."""
        per_batch = (self.local_s or 0.0) * n
        wanted = int(per_batch / PIECE_S) if per_batch > 0 else 2 * self.workers
        return split_evenly(n, max(self.workers, min(wanted, MAX_PIECES_PER_PROCESS * self.workers)))

    def _evaluate_shared(
        self, evaluator: Evaluator, scenario: Scenario, designs: Sequence[Design], seed: int, timeout: float | None
    ) -> list[ChunkResult]:
        """Every piece's result, in order: this process takes pieces from the end, the pool's from the front.

        One feeding thread per pool process submits a piece and waits for it,
        so a pool process never waits for this one to finish its own piece.
        Pieces a dying pool held are put back and evaluated here.
        """
        chunks = [[designs[i] for i in piece] for piece in self._pieces(len(designs))]
        pending = deque(range(len(chunks)))
        results: dict[int, ChunkResult] = {}
        lock = threading.Lock()
        lost = threading.Event()
        feeders: list[threading.Thread] = []

        def take(*, front: bool) -> int | None:
            with lock:
                if not pending:
                    return None
                return pending.popleft() if front else pending.pop()

        def feed(pool: ProcessPoolExecutor) -> None:
            while not lost.is_set() and (i := take(front=True)) is not None:
                try:
                    results[i] = pool.submit(evaluate_chunk, evaluator, chunks[i], scenario, seed, timeout).result()
                except BaseException:  # noqa: BLE001 - a dead or stopped pool: this process takes the piece back
                    with lock:
                        pending.appendleft(i)
                    lost.set()
                    return
                with lock:
                    self.pool_pieces += 1

        def start_feeders() -> None:
            pool = self._pool
            assert pool is not None
            for _ in range(self.pool_processes):
                thread = threading.Thread(target=feed, args=(pool,), name="swarmdesign-pool-feed", daemon=True)
                thread.start()
                feeders.append(thread)

        if self._pool_ready():
            start_feeders()
        while True:
            i = take(front=False)
            if i is None:
                for thread in feeders:
                    thread.join()
                i = take(front=False)  # a piece a dead pool gave back
                if i is None:
                    break
            results[i] = evaluate_chunk(evaluator, chunks[i], scenario, seed, timeout)
            self.local_pieces += 1
            if not feeders and not lost.is_set() and self._pool_ready():
                start_feeders()
        if lost.is_set() and self._pool is not None:
            self._pool_died()
        return [results[i] for i in range(len(chunks))]

    def _say(self, key: str, message: str) -> None:
        if key in self._said or self.log is None:
            return
        self._said.add(key)
        self.log(message)


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
