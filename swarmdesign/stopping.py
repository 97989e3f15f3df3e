"""Stopping a run: a second Ctrl-C (or SIGTERM) while the first one's clean-up runs.

After a stop, a run writes what it finished (the journal's last batch,
``trials.csv``, ``best.yaml``) before it exits. A user who presses Ctrl-C
again at that moment used to abort the clean-up with a traceback and leave
``trials.csv`` out of step with the study. During the clean-up, further
SIGINT/SIGTERM are caught: the first says once what is happening, none
interrupts the writing, and the clean-up (a second or so) always ends.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

MESSAGE = "stopping: saving the finished trials first (trials.csv, best.yaml); this takes a moment"


@contextmanager
def cleanup_shield(message: str = MESSAGE) -> Iterator[None]:
    """Hold off SIGINT and SIGTERM while the body runs; say ``message`` once on stderr if one arrives."""
    said = False

    def handler(signum: int, frame: Any) -> None:  # noqa: ARG001
        nonlocal said
        if not said:
            said = True
            print(message, file=sys.stderr, flush=True)

    try:
        previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread: signals go to the main thread anyway
        yield
        return
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
