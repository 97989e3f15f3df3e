"""The trials of an open run, kept in memory, and how new ones are written to the study.

Why: during a run, everything that looks at past trials (the count toward
the budget, the best design, the Pareto front, ``trials.csv``) read them
from the Optuna study, and every such read made Optuna's journal storage
replay the log lines appended since the last one, parsing each trial's
distributions again. The run already holds every trial it wrote as a
:class:`~optuna.trial.FrozenTrial`, so it keeps the list itself.

The study remains the single source of truth:

* on the run folder's own journal (one writer, :mod:`swarmdesign.runlock`),
  finished trials are appended as Optuna's own journal records
  (:mod:`swarmdesign.journal_format`) and Optuna replays them whenever
  anyone opens or reads the study;
* the list is checked against the journal before each use: when anything
  else appended to the journal (a recommendation stage, a sampler's
  ``study.ask``, this process's clean-up through Optuna's API), the list is
  read again from the study;
* a shared storage (``--storage``: SQLite, PostgreSQL, a shared journal)
  keeps Optuna's public API for every write and every read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import optuna
from optuna.distributions import BaseDistribution
from optuna.trial import FrozenTrial

from swarmdesign.journal_format import TrialRecords
from swarmdesign.recommend.best import recommendation
from swarmdesign.storage import StudyStore


class RunTrials:
    """The study's trials as a list that grows with each batch at O(batch) cost; see the module docstring."""

    def __init__(self, study: optuna.Study, store: StudyStore, distributions: Mapping[str, BaseDistribution]) -> None:
        self.study = study
        self.store = store
        self.directions = list(study.directions)
        self._distributions = distributions
        self._trials: list[FrozenTrial] | None = None
        self._recommendation: dict[str, Any] | None = None
        self._logs_seen = -1  # journal records the list reflects (-1: not read yet)
        self._records: TrialRecords | None = None
        self._study_id: int | None = None

    @property
    def direct(self) -> bool:
        """Whether finished trials are appended as journal records by this process (the run's own journal)."""
        return self.store.backend is not None

    def trials(self) -> list[FrozenTrial]:
        """Every trial of the study, in number order (the list itself: do not change it)."""
        backend = self.store.backend
        if backend is None:
            return self.study.get_trials(deepcopy=False)
        if self._trials is None or backend.log_count != self._logs_seen:
            self._trials = list(self.study.get_trials(deepcopy=False))
            self._recommendation = recommendation(self.study)
            self._logs_seen = backend.log_count
        return self._trials

    def recommendation(self) -> dict[str, Any] | None:
        """The study's stored recommendation (:func:`swarmdesign.recommend.best.recommendation`)."""
        if self.store.backend is None:
            return recommendation(self.study)
        self.trials()
        return self._recommendation

    def seed(self, trials: Sequence[FrozenTrial], recommended: dict[str, Any] | None) -> None:
        """Start from trials read elsewhere (a stamped trials table proven fresh against the journal)."""
        backend = self.store.backend
        if backend is None:
            return
        self._trials, self._recommendation, self._logs_seen = list(trials), recommended, backend.log_count

    def add(self, frozen: Sequence[FrozenTrial]) -> None:
        """Record finished trials (numbers are assigned here, in order)."""
        storage = self.store.storage
        if self._study_id is None:
            self._study_id = storage.get_study_id_from_name(self.study.study_name)
        backend = self.store.backend
        if backend is None or not frozen:
            for t in frozen:
                storage.create_new_trial(self._study_id, template_trial=t)
            return
        if self._records is None:
            self._records = TrialRecords(self._study_id, self._distributions)
        records = self._records
        if not all(records.accepts(t) for t in frozen):
            for t in frozen:  # another parameter set: Optuna's API writes it; the list is read again
                storage.create_new_trial(self._study_id, template_trial=t)
            return
        trials = self.trials()
        n = len(trials)
        for i, t in enumerate(frozen):
            t.number = n + i
        backend.append_lines(records.lines(frozen))
        trials.extend(frozen)
        self._logs_seen = backend.log_count
