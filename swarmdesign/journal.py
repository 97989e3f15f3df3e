"""The run folder's own study journal: buffered appends that never build on a torn line.

Why swarmdesign appends to a run's own journal itself instead of through
Optuna's ``JournalFileBackend.append_logs``: a write that dies half-way (a
full disk, a power cut) leaves a torn last line that Optuna's reader skips,
and the next append would be glued onto it, making the file unreadable from
then on. The run folder's single writer (see :mod:`swarmdesign.runlock`)
cuts a torn tail off before every append and after a failed one. It also
avoids Optuna's symlink lock, whose stale link after a ``kill -9`` costs the
next writer a 30 s wait; the run lock already makes this process the only
writer.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from optuna.storages.journal import BaseJournalBackend, JournalFileBackend

from swarmdesign import runlock
from swarmdesign.errors import SwarmdesignError

#: Longest a search's per-batch flushes go without an fsync (see :meth:`BufferedJournalBackend.flush`).
SYNC_EVERY_S = 1.0


class BufferedJournalBackend(BaseJournalBackend):
    """A journal file whose appends are held in memory until :meth:`flush`.

    Only for a single writer: the first flush takes the run folder's writer
    lock (:mod:`swarmdesign.runlock`), so a second process writing the same
    folder stops with a clear error instead of interleaving its logs with
    ours. ``read_logs`` serves the buffered tail from memory, so Optuna's
    replay sees its own writes at once.
    """

    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)
        self._inner = JournalFileBackend(str(path))
        self._persisted = 0  # log lines known to be in the file
        self._read_once = False
        #: Buffered logs: dicts from Optuna, or JSON lines written by :mod:`swarmdesign.journal_format`.
        self._buffer: list[dict[str, Any] | str] = []
        self._lock: runlock.RunLock | None = None
        self._synced_at = time.monotonic()
        self._unsynced = False  # written but not yet fsynced (a non-durable flush)

    @property
    def path(self) -> Path:
        return self._path

    def read_logs(self, log_number_from: int) -> Iterable[dict[str, Any]]:
        if not self._read_once or log_number_from < self._persisted:
            return self._read_file(log_number_from)
        return [_as_log(log) for log in self._buffer[log_number_from - self._persisted :]]

    def _read_file(self, log_number_from: int) -> Iterator[dict[str, Any]]:
        """The file's logs from ``log_number_from``, then the buffered ones, one at a time.

        A generator, not a list: Optuna's replay keeps only part of each log
        (a trial's attributes, not its distributions' JSON), so streaming lets
        the rest go as it is read. Holding every parsed line at once made
        opening a 10^5-trial study peak at 3.1 GB.
        """
        read = 0
        for log in self._inner.read_logs(log_number_from):
            read += 1
            yield log
        self._persisted = log_number_from + read if read else max(self._persisted, log_number_from)
        self._read_once = True
        for log in list(self._buffer):
            yield _as_log(log)

    def adopt(self, log_count: int) -> None:
        """Take the file as holding ``log_count`` logs, known without reading it here (a resume's own scan).

        Appends then count from there; Optuna's first read still reads the file, from its first line.
        """
        assert not self._buffer and not self._read_once
        self._persisted, self._read_once = int(log_count), True

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        self._buffer.extend(logs)

    def append_lines(self, lines: list[str]) -> None:
        """Buffer journal records that are already JSON text (one record per line, no newline)."""
        self._buffer.extend(lines)

    @property
    def log_count(self) -> int:
        """Log records in the journal as this writer knows it: read or written, buffered or not."""
        return self._persisted + len(self._buffer)

    def flush(self, *, durable: bool = True) -> None:
        """Append the buffered logs with one write, and fsync the file.

        SIGINT and SIGTERM are held back meanwhile (delivered right after), so a
        stop never lands half-way through a write. A failed write (a full disk)
        is cut back off the file and reported as one line; the logs stay
        buffered, and every batch written before is intact.

        ``durable=False`` (a search's per-batch flush) skips the fsync unless
        :data:`SYNC_EVERY_S` have passed since the last one. The write itself
        always happens, so a killed process loses nothing; only a crash of the
        machine can lose the last second of trials. An fsync per batch of 20
        cost as much as recording the batch; any later durable flush (the end of
        a run, a stage, a stop) syncs what is pending.
        """
        if not self._buffer:
            if durable and self._unsynced:
                _sync_file(self._path)
                self._unsynced, self._synced_at = False, time.monotonic()
            return
        if self._lock is None:
            self._lock = runlock.acquire(self._path.parent)
            runlock.unpin(self._path.parent)  # the creation's handle: this writer holds the lock from now on
        sync = durable or time.monotonic() - self._synced_at >= SYNC_EVERY_S
        with _signals_deferred():
            data = ("\n".join(_as_line(log) for log in self._buffer) + "\n").encode()
            append_journal(self._path, data, sync=sync)
            self._persisted += len(self._buffer)
            self._buffer = []
        if sync:
            self._unsynced, self._synced_at = False, time.monotonic()
        else:
            self._unsynced = True

    @property
    def pending(self) -> int:
        return len(self._buffer)


def _as_log(log: dict[str, Any] | str) -> dict[str, Any]:
    return json.loads(log) if isinstance(log, str) else log


def _as_line(log: dict[str, Any] | str) -> str:
    return log if isinstance(log, str) else json.dumps(log, separators=(",", ":"))


def append_journal(path: Path, data: bytes, *, sync: bool = True) -> None:
    """Append ``data`` (whole log lines) to the journal at ``path``, never onto a torn line; ``sync``: fsync it."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise SwarmdesignError(f"cannot open the study journal: {exc.strerror or exc}", file=str(path)) from None
    try:
        end = intact_end(fd)
        try:
            if end != os.fstat(fd).st_size:
                os.ftruncate(fd, end)
            view = memoryview(data)
            at = end
            while view:
                n = os.pwrite(fd, view, at)
                view, at = view[n:], at + n
            if sync:
                os.fsync(fd)
        except OSError as exc:
            try:  # leave no torn line behind: the file ends where the last whole batch ended
                os.ftruncate(fd, end)
                os.fsync(fd)
            except OSError:
                pass  # the next writer cuts it off before appending
            raise SwarmdesignError(
                f"cannot write the study journal: {exc.strerror or exc}; every batch written before is kept "
                "(fix the cause, then 'swarmdesign resume')",
                file=str(path),
            ) from None
    finally:
        os.close(fd)


def _sync_file(path: Path) -> None:
    """fsync a journal written earlier without one (its pages may still be only in the OS cache)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return  # nothing to sync: the next durable write reports a real problem
    try:
        os.fsync(fd)
    except OSError as exc:
        raise SwarmdesignError(f"cannot sync the study journal: {exc.strerror or exc}", file=str(path)) from None
    finally:
        os.close(fd)


def intact_end(fd: int, chunk: int = 1 << 16) -> int:
    """Length of the file up to and including its last newline: a torn last line lies beyond it."""
    size = os.fstat(fd).st_size
    pos = size
    while pos > 0:
        start = max(0, pos - chunk)
        block = os.pread(fd, pos - start, start)
        cut = block.rfind(b"\n")
        if cut >= 0:
            return start + cut + 1
        pos = start
    return 0


@contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM back until the body is done, then deliver the first one to its usual handler.

    Why Python-level handlers and not a signal mask: a mask only steers the
    OS signal to another thread (a progress bar's refresh thread), and
    Python still runs its handler in the main thread at the next bytecode,
    inside the write. A stop between writing a batch and marking it written
    wrote that batch twice on the clean-up's flush (duplicate trials on disk).
    Python runs every signal handler in the main thread, so replacing them
    there holds a stop off whichever thread the OS picked.
    """
    caught: list[int] = []

    def hold(signum: int, frame: object) -> None:  # noqa: ARG001
        caught.append(signum)

    stops = (signal.SIGINT, signal.SIGTERM)
    try:
        previous = {sig: signal.signal(sig, hold) for sig in stops}
    except ValueError:  # not the main thread: no Python handler runs here, nothing can interrupt the body
        yield
        return
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old if old is not None else signal.SIG_DFL)
        if caught:
            signal.raise_signal(caught[0])  # now, to the handler that was in place (KeyboardInterrupt, ...)


def journal_problem(path: Path) -> str:
    """Say which line of a journal Optuna could not replay (it reports no position itself)."""
    try:
        with open(path, "rb") as f:
            for number, line in enumerate(f, start=1):
                if not line.endswith(b"\n"):
                    break  # a torn last line is skipped on reading and cut off before the next write
                if not _is_journal_record(line):
                    return (
                        f"line {number}: not a journal record (the file is damaged); expected one JSON object "
                        "with an 'op_code' per line"
                    )
    except OSError as exc:
        return f"cannot read the study journal: {exc.strerror or exc}"
    return (
        "the study journal cannot be replayed (a record refers to something that does not exist); the file is damaged"
    )


def _is_journal_record(line: bytes) -> bool:
    try:
        record = json.loads(line)
    except ValueError:
        return False
    return isinstance(record, dict) and "op_code" in record


def check_journal_path(path: Path) -> None:
    """A shared journal path that Optuna can use without this process damaging someone's file."""
    what = "--storage"
    try:
        if path.is_dir():
            raise SwarmdesignError(
                "is a directory; expected a journal file path or a storage URL", file=str(path), field=what
            )
        if path.exists():
            if not path.is_file():
                raise SwarmdesignError(
                    "is not a regular file; expected an Optuna journal file", file=str(path), field=what
                )
            with open(path, "rb") as f:
                head = f.readline(1 << 20)
            if head and not (_is_journal_record(head) or head.startswith(b'{"op_code"')):
                raise SwarmdesignError(
                    "is not an Optuna journal file (its first line is not a journal record); refusing to append to it",
                    file=str(path),
                    field=what,
                )
            return
        ancestor = path.parent
        while not ancestor.exists() and ancestor != ancestor.parent:
            ancestor = ancestor.parent
        if not ancestor.is_dir():
            raise SwarmdesignError(f"'{ancestor}' is not a directory", file=str(path), field=what)
    except OSError as exc:
        raise SwarmdesignError(f"cannot use this path: {exc.strerror or exc}", file=str(path), field=what) from None
