"""Names shared by driver and workers, and the liveness of trials held by workers.

A worker beats a heartbeat for every trial it holds. On database storages
this is Optuna's own RDB heartbeat (``heartbeat_interval`` /
``grace_period``; stale trials are failed by
:func:`optuna.storages.fail_stale_trials`). Optuna has no heartbeat for
journal files, so there a beat is the trial's ``swarmdesign:heartbeat``
system attr (unix seconds) and the driver compares it with the clock: on a
journal shared between machines, keep their clocks in sync (NTP).
"""

from __future__ import annotations

import os
import socket
import threading
import time
import warnings
from collections.abc import Callable

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial, TrialState

CONFIG_ATTR = "swarmdesign_config"
STATE_ATTR = "swarmdesign_state"
CANDIDATE_KEY = "swarmdesign:candidate"
HEARTBEAT_KEY = "swarmdesign:heartbeat"
WORKER_ATTR = "worker"
ABANDONED = "abandoned"
#: Seconds between heartbeats; a trial is given up after ``GRACE_BEATS`` silent intervals.
DEFAULT_HEARTBEAT_S = 10
GRACE_BEATS = 3
#: Attempts at one candidate whose workers all died before it is recorded as failed.
MAX_ATTEMPTS = 3

Log = Callable[[str], None]


def open_with_heartbeat(url: str, heartbeat_s: int) -> BaseStorage:
    """The RDB storage at ``url`` with Optuna's heartbeat on (its "experimental" warning silenced)."""
    from swarmdesign.storage import storage_from_url

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return storage_from_url(url, heartbeat=heartbeat_s)


def quiet(_: str) -> None:
    """The default log: say nothing."""


def worker_id() -> str:
    """``host:pid``, recorded on every trial a worker evaluates (attr ``worker``)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def is_database(storage: BaseStorage) -> bool:
    """An RDB storage (or Optuna's cache around one): it has Optuna's heartbeat and costly per-row writes.

    Recognised by the heartbeat methods it offers: Optuna's ``BaseHeartbeat``
    and its cache wrapper live in private modules, which this package does not import.
    """
    return callable(getattr(storage, "record_heartbeat", None)) and callable(
        getattr(storage, "get_heartbeat_interval", None)
    )


# ---------------------------------------------------------------- liveness
class Heartbeat:
    """A thread that beats for every trial this process holds, every ``interval_s`` seconds.

    Beats go to Optuna's RDB heartbeat table or, on a journal file, to the
    trial's ``swarmdesign:heartbeat`` system attr (unix seconds).
    """

    def __init__(self, storage: BaseStorage, interval_s: float) -> None:
        self.storage = storage
        self.interval_s = interval_s
        self._trial_ids: set[int] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="swarmdesign-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def beat(self, trial_id: int) -> None:
        """One beat now (also before a claim, so a trial is never RUNNING without one)."""
        try:
            if is_database(self.storage):
                self.storage.record_heartbeat(trial_id)  # type: ignore[attr-defined]
            else:
                self.storage.set_trial_system_attr(trial_id, HEARTBEAT_KEY, time.time())
        except UpdateFinishedTrialError:
            # A refused beat for a trial finished meanwhile (replaying the journal may
            # report it during the next beat, whichever trial that is): nothing to do;
            # the thread that finished the trial releases it.
            pass

    def hold(self, trial_id: int) -> None:
        with self._lock:
            self._trial_ids.add(trial_id)

    def release(self, trial_id: int) -> None:
        with self._lock:
            self._trial_ids.discard(trial_id)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            with self._lock:
                held = sorted(self._trial_ids)
            for trial_id in held:
                try:
                    self.beat(trial_id)
                except Exception:
                    continue


def fail_stale_trials(study: optuna.Study, heartbeat_study: optuna.Study | None, grace_s: float) -> None:
    """FAIL the RUNNING trials whose worker stopped beating.

    ``heartbeat_study`` is the study opened on an RDB storage with Optuna's
    heartbeat enabled (Optuna's :func:`optuna.storages.fail_stale_trials`);
    ``None`` for a journal file, whose trials are checked against their
    ``swarmdesign:heartbeat`` attr (or their start, before the first beat).
    """
    if heartbeat_study is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(heartbeat_study)
        return
    storage = study._storage
    now = time.time()
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        last = t.system_attrs.get(HEARTBEAT_KEY)
        if last is None and t.datetime_start is not None:
            last = t.datetime_start.timestamp()
        if last is None or now - float(last) <= grace_s:
            continue
        try:
            storage.set_trial_user_attr(t._trial_id, "fail_reason", ABANDONED)
            storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
        except UpdateFinishedTrialError:
            continue  # its worker finished it after all


def given_up(trial: FrozenTrial) -> bool:
    """Failed by the driver for a silent heartbeat, not finished by its worker."""
    return trial.state == TrialState.FAIL and trial.user_attrs.get("fail_reason") == ABANDONED
