"""Stopping a run: a second Ctrl-C (or SIGTERM) while the first one's clean-up runs.

After a stop, a run writes what it finished (the journal's last batch,
``trials.csv``, ``best.yaml``) before it exits. A user who presses Ctrl-C
again at that moment used to abort the clean-up with a traceback and leave
``trials.csv`` out of step with the study. During the clean-up, further
SIGINT/SIGTERM are caught: the first says once what is happening, none
interrupts the writing, and the clean-up (a second or so) always ends.
"""

from __future__ import annotations

import atexit
import contextlib
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

MESSAGE = "stopping: saving the finished trials first (trials.csv, best.yaml); this takes a moment"

# Set by the command line: once a stop has begun the process is on its way out, so later
# stop signals are held until it exits. A library caller (a notebook) gets its handlers back.
_hold_until_exit = False


def hold_stops_until_exit() -> None:
    """Make the first stop signal of this process the last one that changes what it does.

    Why: between the run's clean-up and the interpreter's exit there are a few
    bytecodes where SIGTERM's default action would kill the process (exit -15
    instead of 143) and a second Ctrl-C would print a traceback. Only the
    command line asks for this; it exits right after the stop.
    """
    global _hold_until_exit
    _hold_until_exit = True


def _ignore_stops_at_exit() -> None:
    """From the interpreter's exit on, a stop signal is ignored by the OS.

    Why not the Python handler: the interpreter's finalisation puts SIGINT and
    SIGTERM back to their default action before it ends (it leaves SIG_IGN
    alone), and that can take a moment after a large run (threads joined,
    modules torn down). A second signal landing then killed a stopped run
    with -2/-15 instead of its exit code 130/143.
    """
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError):
            signal.signal(sig, signal.SIG_IGN)


_said: set[str] = set()  # messages said since the current stop began: once per stop, however many handlers


def _message_once(message: str) -> Any:
    def handler(signum: int, frame: Any) -> None:  # noqa: ARG001
        if message not in _said:
            _said.add(message)
            print(message, file=sys.stderr, flush=True)

    return handler


@contextmanager
def stop_signals(interrupt: type[BaseException], terminate: type[BaseException]) -> Iterator[None]:
    """SIGINT raises ``interrupt``, SIGTERM raises ``terminate``; any later stop signal is held.

    The first stop begins the clean-up; a second one (an impatient user, a
    supervisor sending SIGTERM twice) must not cut it short, so from the
    first stop on both signals only say, once, that the run is saving.
    """
    stopped = False
    _said.clear()
    hold = _message_once(MESSAGE)

    def handler(signum: int, frame: Any) -> None:  # noqa: ARG001
        nonlocal stopped
        if _hold_until_exit and not stopped:
            atexit.register(_ignore_stops_at_exit)
        stopped = True
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, hold)
        raise terminate if signum == signal.SIGTERM else interrupt

    try:
        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        if not (stopped and _hold_until_exit):
            for sig, old in previous.items():
                signal.signal(sig, old if old is not None else signal.SIG_DFL)


@contextmanager
def cleanup_shield(message: str = MESSAGE) -> Iterator[None]:
    """Hold off SIGINT and SIGTERM while the body runs; say ``message`` once on stderr if one arrives."""
    handler = _message_once(message)
    try:
        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread: signals go to the main thread anyway
        yield
        return
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old if old is not None else signal.SIG_DFL)
