"""Cheap writes for workers: a trial's results in one storage round trip where the storage allows.

Recording a trial is one user attr per metric (the layout of
:mod:`swarmdesign.records`), and Optuna writes each attr on its own: on a
journal file one fsync'd line each, on a database one transaction (and one
commit flush) each. A worker holds its trials exclusively, so it can group
those writes safely: one journal append, or one database statement.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from optuna.storages import BaseStorage, RDBStorage
from optuna.storages.journal import BaseJournalBackend


def set_user_attrs(storage: BaseStorage, trial_id: int, attrs: dict[str, Any]) -> None:
    """Set several user attrs of a trial this process holds: one statement on PostgreSQL and SQLite.

    Optuna has no bulk call, so this writes Optuna's own table the way its
    per-attr method does (an upsert of ``trial_id, key, value_json``), with
    all rows in one statement after the same "still running" check. Any
    other storage, or an Optuna whose internals moved, gets one call per attr.
    """
    rdb = getattr(storage, "_backend", storage)  # Optuna wraps RDB storages in a cache
    if isinstance(rdb, RDBStorage) and attrs and _upsert_user_attrs(rdb, trial_id, attrs):
        return
    for key, value in attrs.items():
        storage.set_trial_user_attr(trial_id, key, value)


def _upsert_user_attrs(rdb: RDBStorage, trial_id: int, attrs: dict[str, Any]) -> bool:
    """One multi-row upsert into ``trial_user_attributes``; False if not possible here."""
    try:
        from optuna.storages._rdb import models
        from optuna.storages._rdb.storage import _create_scoped_session

        if rdb.engine.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        elif rdb.engine.name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:
            return False
        model = models.TrialUserAttributeModel
        find = models.TrialModel.find_or_raise_by_id
    except (ImportError, AttributeError):
        return False
    rows = [{"trial_id": trial_id, "key": k, "value_json": json.dumps(v)} for k, v in attrs.items()]
    with _create_scoped_session(rdb.scoped_session) as session:
        trial = find(trial_id, session, for_update=True)
        rdb.check_trial_is_updatable(trial_id, trial.state)
        stmt = insert(model).values(rows)
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=[model.trial_id, model.key], set_={"value_json": stmt.excluded.value_json}
            )
        )
    return True


def set_params(storage: BaseStorage, trial_id: int, params: dict[str, Any], space_dists: dict[str, Any]) -> None:
    """Write a claimed trial's params (from ``fixed_params``): one insert on PostgreSQL and SQLite.

    Optuna's per-param call also checks each distribution against the rest
    of the study with a query over all its params; every trial here uses the
    space's fixed distributions, so one insert into ``trial_params`` is
    equivalent. Elsewhere: Optuna's per-param call.
    """
    rdb = getattr(storage, "_backend", storage)
    if isinstance(rdb, RDBStorage) and params and _insert_params(rdb, trial_id, params, space_dists):
        return
    for name, value in params.items():
        dist = space_dists[name]
        storage.set_trial_param(trial_id, name, dist.to_internal_repr(value), dist)


def _insert_params(rdb: RDBStorage, trial_id: int, params: dict[str, Any], space_dists: dict[str, Any]) -> bool:
    try:
        from optuna.distributions import distribution_to_json
        from optuna.storages._rdb import models
        from optuna.storages._rdb.storage import _create_scoped_session

        if rdb.engine.name not in ("postgresql", "sqlite"):
            return False
        model = models.TrialParamModel
        find = models.TrialModel.find_or_raise_by_id
    except (ImportError, AttributeError):
        return False
    rows = [
        {
            "trial_id": trial_id,
            "param_name": name,
            "param_value": space_dists[name].to_internal_repr(value),
            "distribution_json": distribution_to_json(space_dists[name]),
        }
        for name, value in params.items()
    ]
    from sqlalchemy import insert

    with _create_scoped_session(rdb.scoped_session) as session:
        trial = find(trial_id, session, for_update=True)
        rdb.check_trial_is_updatable(trial_id, trial.state)
        session.execute(insert(model), rows)
    return True


class GroupedJournalBackend(BaseJournalBackend):
    """A shared journal file where one thread can group its appends into one write and one fsync.

    Optuna's journal fsyncs every line, and recording a trial is one line per
    metric: on a shared file that is most of a worker's time. Unlike the run
    folder's single-writer buffer, pending lines are never served to reads:
    the journal is replayed in file order, so a group simply lands after
    whatever other processes appended meanwhile. Group only writes about
    trials this process holds (never a claim, which must be read back at once).
    """

    def __init__(self, inner: BaseJournalBackend) -> None:
        self._inner = inner
        self._local = threading.local()

    def read_logs(self, log_number_from: int) -> Iterable[dict[str, Any]]:
        return self._inner.read_logs(log_number_from)

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        pending = getattr(self._local, "pending", None)
        if pending is None:
            self._inner.append_logs(logs)
        else:
            pending.extend(logs)

    @contextmanager
    def grouped(self) -> Iterator[None]:
        """Appends of this thread inside the block go to the file in one write at its end."""
        self._local.pending = []
        try:
            yield
        finally:
            pending, self._local.pending = self._local.pending, None
            if pending:
                self._inner.append_logs(pending)
