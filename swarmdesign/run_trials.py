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
  keeps Optuna's public API for every write and every read;
* a resume whose ``trials.csv`` is proven fresh starts from the trials
  rebuilt from it (:mod:`swarmdesign.table_trials`) and does not open the
  study at all unless something needs Optuna itself: the recommendation
  stages write their trials and their recommendation through this object
  too.

Memory: a long run holds every trial, and a trial's user attributes (~60
metrics and its design's JSON) were two thirds of it, ~5 KB a trial.
Once :data:`COMPACT_EVERY` of this process's own trials are in
``trials.csv``, :meth:`RunTrials.compact` keeps their attributes as columns
(:class:`swarmdesign.table_attrs.AttrColumns`, 8 bytes a metric), their
parameters likewise (:class:`swarmdesign.table_attrs.RowView`), and their
designs only in the journal, read from there when asked (the best design,
the Pareto front's, a recommendation stage's candidates).
"""

from __future__ import annotations

from collections.abc import Callable, Container, Mapping, Sequence
from typing import Any

import optuna
from optuna.distributions import BaseDistribution
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial

from swarmdesign.journal_format import TrialRecords
from swarmdesign.journal_index import JournalIndex, TrialSource
from swarmdesign.recommend.best import RECOMMENDATION_ATTR, recommendation, recommendation_of
from swarmdesign.storage import StudyStore
from swarmdesign.table_attrs import AttrColumns, JournalAttrs, RowView

#: This process's trials compacted at once (:meth:`RunTrials.compact`); a shorter run holds plain dicts.
COMPACT_EVERY = 2048
#: User attributes a compacted trial reads from the journal, not from memory (the design's JSON, ~1.6 KB).
_JOURNAL_HELD = frozenset({"design"})


class RunTrials:
    """The study's trials as a list that grows with each batch at O(batch) cost; see the module docstring."""

    def __init__(
        self,
        study: optuna.Study | Callable[[], optuna.Study],
        store: StudyStore,
        distributions: Mapping[str, BaseDistribution],
        *,
        directions: Sequence[StudyDirection] | None = None,
    ) -> None:
        """``study`` may be a function that opens it (only called when something needs Optuna's study)."""
        self._open_study = (lambda: study) if isinstance(study, optuna.Study) else study
        self.store = store
        self.directions = list(directions if directions is not None else self._open_study().directions)
        self._distributions = distributions
        self._trials: list[FrozenTrial] | None = None
        self._recommendation: dict[str, Any] | None = None
        self._logs_seen = -1  # journal records the list reflects (-1: not read yet)
        self._records: TrialRecords | None = None
        self._study_id: int | None = None
        self._own_from = 0  # the first trial of the list that this object built (compactable)
        self._compacted = 0  # trials before this number hold their attributes as columns
        self._journal: TrialSource | None = None
        self.view = TrialsView(self)

    @property
    def study(self) -> optuna.Study:
        return self._open_study()

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
            study = self.study
            self._trials = list(study.get_trials(deepcopy=False))
            self._own_from = self._compacted = len(self._trials)  # Optuna's objects: never changed here
            self._recommendation = recommendation(study)
            self._logs_seen = backend.log_count
        return self._trials

    def recommendation(self) -> dict[str, Any] | None:
        """The study's stored recommendation (:func:`swarmdesign.recommend.best.recommendation`)."""
        if self.store.backend is None:
            return recommendation(self.study)
        self.trials()
        return self._recommendation

    def start_from(
        self,
        trials: Sequence[FrozenTrial],
        recommended: dict[str, Any] | None,
        study_id: int,
        index: JournalIndex | None = None,
    ) -> None:
        """Start from trials read elsewhere (rebuilt from a ``trials.csv`` proven fresh against the journal).

        ``index``: the journal's scan, if one was made (compacted trials read their designs through it).
        """
        backend = self.store.backend
        assert backend is not None, "only a run folder's own journal"
        self._trials, self._recommendation, self._logs_seen = list(trials), recommended, backend.log_count
        self._own_from = self._compacted = len(self._trials)  # already columns (swarmdesign.table_trials)
        self._study_id = study_id
        if index is not None:
            self._journal = TrialSource(index, self._exact)

    def _exact(self, number: int) -> FrozenTrial:
        """Trial ``number`` as Optuna replays it (a compacted trial whose journal line cannot be read alone)."""
        return self.study.get_trials(deepcopy=False)[number]

    def compact(self, upto: int) -> None:
        """Keep the user attributes of this object's own trials before ``upto`` as columns.

        Call with the trials already in ``trials.csv``: what is written there
        is what iterating a compacted trial's attributes gives; its design is
        read back from the journal (flushed before: every batch is).
        """
        trials, backend = self._trials, self.store.backend
        start = max(self._compacted, self._own_from)
        if trials is None or backend is None or upto - start < COMPACT_EVERY or backend.pending:
            return
        batch = trials[start:upto]
        if any(type(t.user_attrs) is not dict or type(t.params) is not dict for t in batch):
            self._compacted = upto  # not trials this object wrote as plain records: left as they are
            return
        if self._journal is None:
            self._journal = TrialSource(JournalIndex(backend.path), self._exact)
        columns = AttrColumns.of_dicts([t.user_attrs for t in batch], first=start, leave_out=_JOURNAL_HELD)
        params = AttrColumns.of_dicts([t.params for t in batch], first=start)
        for t in batch:
            t.user_attrs = JournalAttrs(columns, t.number, self._journal)
            t.params = RowView(params, t.number)  # type: ignore[assignment] - a read-only mapping
        self._compacted = upto

    def _writer(self) -> TrialRecords:
        if self._study_id is None:
            study = self.study
            self._study_id = self.store.storage.get_study_id_from_name(study.study_name)
        if self._records is None:
            self._records = TrialRecords(self._study_id, self._distributions)
        return self._records

    def add(self, frozen: Sequence[FrozenTrial]) -> None:
        """Record finished trials (numbers are assigned here, in order)."""
        if not frozen:
            return
        backend = self.store.backend
        if backend is None:
            study = self.study
            study_id = self.store.storage.get_study_id_from_name(study.study_name)
            for t in frozen:
                self.store.storage.create_new_trial(study_id, template_trial=t)
            return
        records = self._writer()
        trials = self.trials()
        n = len(trials)
        for i, t in enumerate(frozen):
            t.number = n + i
        backend.append_lines(records.lines(frozen))
        trials.extend(frozen)
        self._logs_seen = backend.log_count

    def set_study_attr(self, key: str, value: Any) -> None:  # noqa: ANN401 - any JSON value
        """``study.set_user_attr(key, value)``; on the run's own journal, written as Optuna's record directly."""
        backend = self.store.backend
        if backend is None:
            self.study.set_user_attr(key, value)
            return
        records = self._writer()
        self.trials()
        backend.append_lines([records.study_attr_line(key, value)])
        if key == RECOMMENDATION_ATTR:
            self._recommendation = recommendation_of(value)
        self._logs_seen = backend.log_count

    def select(self, states: Container[Any] | None = None) -> list[FrozenTrial]:
        """The trials in ``states`` (all of them when None: the list itself, not to be changed), in number order."""
        trials = self.trials()
        return trials if states is None else [t for t in trials if t.state in states]


class TrialsView:
    """The part of :class:`optuna.Study` an optimizer that learns only from finished trials reads.

    The native optimizers (``random``, ``pso``, ``ga``, ``psoga``) read the
    study's trials and directions, nothing else; handing them this view over
    :class:`RunTrials` lets a resume continue without opening the study.
    """

    def __init__(self, trials: RunTrials) -> None:
        self._trials = trials

    @property
    def directions(self) -> list[StudyDirection]:
        return self._trials.directions

    def get_trials(self, deepcopy: bool = False, states: Container[Any] | None = None) -> list[FrozenTrial]:
        if deepcopy:
            raise ValueError("a view of the run's trials is read-only; use deepcopy=False")
        return self._trials.select(states)
