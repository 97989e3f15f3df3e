"""Several machines: one driver and any number of ``swarmdesign worker`` processes on one storage.

This is Optuna's own distributed recipe; the only coordination is the shared
Optuna storage (PostgreSQL, MySQL, SQLite, or a journal file every process
can reach). There is no queue or server of our own:

* The **driver** (``swarmdesign run --storage URL --driver``) owns the
  optimizer. For every batch it puts the candidates in the study as WAITING
  trials: population optimizers' candidates with ``enqueue``-style trials
  (fixed params plus their ``generation``/``particle`` attrs); a sampler's
  trials, which the sampler must open itself to sample into, are handed
  over by setting them back to WAITING. Then it waits until every candidate
  of the batch has a finished trial, whoever ran it, and tells the optimizer.
* A **worker** claims WAITING trials (the storage's WAITING -> RUNNING
  transition is atomic: exactly one process wins a trial), evaluates them,
  and tells the study. It needs only the storage URL and the study name:
  the driver publishes the space, scenario and evaluator in the study's
  user attr ``swarmdesign_config``. Workers exit when the driver sets
  ``swarmdesign_state`` to ``done`` (or after ``--idle-timeout``).
* **Dead workers.** A worker beats a heartbeat for each trial it holds:
  Optuna's RDB heartbeat (``heartbeat_interval``/``grace_period``, failed by
  ``optuna.storages.fail_stale_trials``) on database storages, a
  ``swarmdesign:heartbeat`` system attr on journal files (Optuna has no
  journal heartbeat). The driver fails trials whose heartbeat went silent
  and queues a copy of the candidate (params, attrs, and the sampler's system
  attrs, like ``optuna.storages.RetryFailedTrialCallback``). A worker marks a
  trial ``fail_reason: abandoned`` when it claims it and clears that on
  success, so a trial failed for silence never counts as finished
  (:func:`swarmdesign.records.is_finished`): a killed worker costs one
  re-evaluation, never a stuck batch or a lost candidate.

The candidates of one batch are told apart by the system attr
``swarmdesign:candidate``, which every retry copy inherits.
"""

from __future__ import annotations

from swarmdesign.distributed._driver import Driver, worker_config
from swarmdesign.distributed._liveness import (
    CANDIDATE_KEY,
    CONFIG_ATTR,
    DEFAULT_HEARTBEAT_S,
    STATE_ATTR,
    Heartbeat,
    fail_stale_trials,
)
from swarmdesign.distributed._worker import Worker, WorkerContext, WorkerSummary
from swarmdesign.distributed._writes import GroupedJournalBackend, set_user_attrs

__all__ = [
    "CANDIDATE_KEY",
    "CONFIG_ATTR",
    "DEFAULT_HEARTBEAT_S",
    "STATE_ATTR",
    "Driver",
    "GroupedJournalBackend",
    "Heartbeat",
    "Worker",
    "WorkerContext",
    "WorkerSummary",
    "fail_stale_trials",
    "set_user_attrs",
    "worker_config",
]
