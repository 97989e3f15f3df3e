"""One writer per run folder: an exclusive ``flock`` on ``<run>/run.lock``.

Two processes writing one run folder (a ``resume`` while the run still goes
on) evaluate the same slots twice and leave ``trials.csv`` out of step with
the study. Every process that writes a run folder therefore holds this lock
first; a second ``run``/``resume`` meets it and stops with exit 2, naming the
holder's PID.

Why ``flock`` on an open file descriptor and not a lock *file* whose
existence is the lock (Optuna's journal lock, a PID file): the kernel drops
an ``flock`` the moment its holder dies, ``kill -9`` included, so a dead
holder never leaves a stale lock to wait out or guess about. The file itself
stays behind (it only records the last holder's PID for the message).

The lock is per process and re-entrant: within one process any number of
handles on the same folder share one descriptor (``flock`` would otherwise
refuse a second descriptor of the very process that holds the first), and
the descriptor closes when the last handle is released or collected.
"""

from __future__ import annotations

import os
import socket
import weakref
from pathlib import Path

from swarmdesign.errors import SwarmdesignError

LOCK_NAME = "run.lock"

#: Open lock descriptors of this process: resolved run folder -> [fd, number of live handles].
_HELD: dict[str, list[int]] = {}
#: Handles taken when a run folder is created, kept until its journal writer takes over (or the process ends).
_PINNED: dict[str, RunLock] = {}


class RunLock:
    """A handle on the writer lock of one run folder; see the module docstring."""

    def __init__(self, key: str) -> None:
        self.key = key
        self._finalizer = weakref.finalize(self, _drop, key)

    def release(self) -> None:
        """Give the handle back; the lock itself goes when this process holds no other handle."""
        self._finalizer()


def _drop(key: str) -> None:
    entry = _HELD.get(key)
    if entry is None:
        return
    entry[1] -= 1
    if entry[1] <= 0:
        del _HELD[key]
        os.close(entry[0])  # closing the descriptor releases the flock


def acquire(run_dir: Path) -> RunLock:
    """Become the writer of ``run_dir`` (an existing folder), or raise naming the process that is."""
    import fcntl

    key = str(Path(run_dir).resolve())
    entry = _HELD.get(key)
    if entry is not None:
        entry[1] += 1
        return RunLock(key)
    path = Path(key) / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise SwarmdesignError(f"cannot open the run lock: {exc.strerror or exc}", file=str(path)) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _read_holder(fd)
        os.close(fd)
        raise SwarmdesignError(
            f"another swarmdesign process ({holder}) is writing this run; wait for it to end or stop it, "
            f"then 'swarmdesign resume {run_dir}'",
            file=str(run_dir),
        ) from None
    except OSError as exc:  # a filesystem without flock support
        os.close(fd)
        raise SwarmdesignError(f"cannot lock the run folder: {exc.strerror or exc}", file=str(path)) from None
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {socket.gethostname()}\n".encode(), 0)
    except OSError:
        pass  # the PID is only for the message; the lock is what counts (a full disk must not stop a resume)
    _HELD[key] = [fd, 1]
    return RunLock(key)


def _read_holder(fd: int) -> str:
    try:
        text = os.pread(fd, 200, 0).decode("utf-8", "replace").split()
    except OSError:
        text = []
    if text and text[0].isdigit():
        elsewhere = len(text) > 1 and text[1] != socket.gethostname()
        return f"PID {text[0]} on host {text[1]}" if elsewhere else f"PID {text[0]}"
    return "PID unknown"


def pin(run_dir: Path) -> None:
    """Hold ``run_dir``'s lock until :func:`unpin` (or the end of the process)."""
    lock = acquire(run_dir)
    previous = _PINNED.pop(lock.key, None)
    _PINNED[lock.key] = lock
    if previous is not None:
        previous.release()


def unpin(run_dir: Path) -> None:
    """Let go of the handle :func:`pin` took (other handles of this process keep the lock)."""
    lock = _PINNED.pop(str(Path(run_dir).resolve()), None)
    if lock is not None:
        lock.release()


def held(run_dir: Path) -> bool:
    """Whether this process holds ``run_dir``'s lock."""
    return str(Path(run_dir).resolve()) in _HELD
