"""A run's trials rebuilt from its stamped ``trials.csv``, so that ``resume`` need not replay the study.

Why: a resume needs every trial of the study (the count toward the budget,
the best so far, the optimizer's generations, the recommendation stages'
earlier scores), and opening the study makes Optuna replay the whole
journal: 40 s for 10^5 trials. When :mod:`swarmdesign.table_cache` proves
that ``trials.csv`` is the journal's current state, every trial's state,
parameters and user attributes are in the table already; this module turns
its rows back into :class:`~optuna.trial.FrozenTrial` objects (~3 s for
10^5 trials), and fills in what the table does not hold from the journal
itself, on demand (:mod:`swarmdesign.journal_index`):

* a trial's user attributes and its parameters are views on its row, each
  cell kept once in its column (:mod:`swarmdesign.table_attrs`; the
  parameters are cast back to their distributions' types one column at a
  time, as Optuna's replay gives them); the bookkeeping attributes
  ``trials.csv`` leaves out (``design``, ``eval_seconds``, ``seed_design``)
  are read from the trial's own journal line the first time one is asked
  for; a trial whose line alone is not the whole trial is taken from
  Optuna's replay instead (``exact``);
* the distributions are the ones the journal recorded for the first trial
  with parameters, checked against the space;
* a trial's timestamps are not in the table, only their difference
  (``duration_s``), which is all a row of ``trials.csv`` shows; so the start
  is a fixed placeholder and the completion lies ``duration_s`` after it;
* system attributes are not in the table: they are empty. Only Optuna's
  samplers read them, and a run driven by one opens the study as before.

The journal stays the single source of truth: new trials are appended to it
as Optuna's own records (:class:`swarmdesign.run_trials.RunTrials`), and
anything that needs Optuna's study still opens it.
"""

from __future__ import annotations

import datetime as _dt
import gc
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import FrozenTrial, TrialState

from swarmdesign.journal_index import JournalIndex, TrialSource
from swarmdesign.table_attrs import AttrColumns, JournalAttrs, RowView

if TYPE_CHECKING:
    import pandas as pd

#: Columns of ``trials.csv`` that are not user attributes.
_NOT_ATTRS = frozenset({"trial", "state", "duration_s"})
#: The placeholder start time of a rebuilt trial (only the duration is known).
PLACEHOLDER_START = _dt.datetime(2000, 1, 1)

#: Reads trial ``number`` exactly (Optuna's replay): the fallback for a trial whose line is not the whole trial.
ExactTrial = Callable[[int], FrozenTrial]


class TableTrialError(ValueError):
    """The table cannot stand for the study (the caller replays the study instead)."""


def table_trials(
    frame: pd.DataFrame,
    index: JournalIndex,
    space_distributions: Mapping[str, BaseDistribution],
    objectives: Sequence[str],
    exact: ExactTrial,
) -> list[FrozenTrial]:
    """Every trial of the study from its fresh ``trials.csv`` (``frame``, :func:`table_cache.fresh_table`).

    Raises :class:`TableTrialError` when the table and journal disagree in any way checked here (trial
    count, the recorded distributions against the space, a row's parameters against its journal line).
    """
    n = len(frame)
    if n != len(index.offsets):
        raise TableTrialError(f"{n} rows, {len(index.offsets)} trials in the journal")
    with _collector_paused():
        source = TrialSource(index, exact)
        columns = list(frame.columns)
        present = {c: ~frame[c].isna().to_numpy() for c in columns}
        param_names = [c for c in columns if c.startswith("param.")]
        # Python values for the parameters and the trial's own fields; user attributes stay in their columns
        data = {c: _column(frame[c]) for c in (*param_names, "state", "duration_s")}
        recorded = _recorded_distributions(index, present, param_names, space_distributions)
        for c in param_names:  # cast once per column: ints stay ints beside missing cells
            name = c[len("param.") :]
            data[c] = _cast_column(
                data[c], present[c], str(frame[c].dtype), recorded.get(name) or space_distributions.get(name)
            )
        attr_names = [c for c in columns if c not in _NOT_ATTRS and not c.startswith("param.")]
        params_of = AttrColumns.of_lists(param_names, data, present, n, strip="param.")
        attrs_of = AttrColumns.of_frame(frame, attr_names, present)
        states = [TrialState[s] for s in data["state"]]
        durations = data["duration_s"]
        out: list[FrozenTrial] = []
        for i in range(n):
            params = RowView(params_of, i)
            if len(params) == len(recorded):
                dists: Mapping[str, BaseDistribution] = recorded
            else:
                dists = {k: recorded.get(k) or space_distributions[k] for k in params}
            attrs = JournalAttrs(attrs_of, i, source)
            state = states[i]
            values = None
            if state == TrialState.COMPLETE:
                values = [attrs.get(o) for o in objectives]
                if not all(isinstance(v, float | int) and not isinstance(v, bool) and math.isfinite(v) for v in values):
                    values = source.values(i)
            duration = durations[i]
            out.append(
                FrozenTrial(
                    number=i,
                    state=state,
                    value=None,
                    values=values,
                    datetime_start=PLACEHOLDER_START,
                    datetime_complete=None
                    if _missing(duration)
                    else PLACEHOLDER_START + _dt.timedelta(seconds=float(duration)),
                    params=params,
                    distributions=dists,
                    user_attrs=attrs,
                    system_attrs={},
                    intermediate_values={},
                    trial_id=i,
                )
            )
        _check_rows(out, index)
        return out


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic collector off meanwhile: rebuilding 10^5 trials makes millions of containers, none
    cyclic, and the collector's passes over them cost ~40 % of the time."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _column(series: pd.Series) -> list[Any]:
    """A column as Python values; pandas' missing integers (``<NA>``) become None."""
    if str(series.dtype) == "Int64":
        missing = series.isna().tolist()
        return [None if gone else int(v) for v, gone in zip(series.tolist(), missing, strict=True)]
    return series.tolist()


def _missing(value: Any) -> bool:  # noqa: ANN401
    return value is None or (isinstance(value, float) and math.isnan(value))


def _recorded_distributions(
    index: JournalIndex,
    present: dict[str, Any],
    param_names: list[str],
    space_distributions: Mapping[str, BaseDistribution],
) -> dict[str, BaseDistribution]:
    """The distributions the journal recorded with the first trial that has every parameter."""
    if not param_names:
        return {}
    every = np.logical_and.reduce([present[c] for c in param_names])
    if not every.any():
        return dict(space_distributions)
    full = int(np.argmax(every))
    recorded = index.distributions(full)
    if recorded is None:
        raise TableTrialError(f"trial {full}'s journal line is not the whole trial")
    if set(recorded) != {c[len("param.") :] for c in param_names}:
        raise TableTrialError(f"trial {full}'s parameters differ between the table and the journal")
    # Identical to the space's (the check that refuses an edited space compares them): keep that object.
    return space_distributions if dict(space_distributions) == recorded else recorded  # type: ignore[return-value]


def _cast_column(values: list[Any], present: Any, dtype: str, dist: BaseDistribution | None) -> list[Any]:  # noqa: ANN401
    """A parameter column back to the values Optuna would give, None where the cell is missing.

    A complete column that pandas read as ``int64`` for an integer parameter,
    or as ``float64`` for a float one, already holds them: it is kept as it is
    (casting 30 columns of 10^5 cells one by one was a sixth of a resume's rebuild).
    """
    if present.all() and (
        (isinstance(dist, IntDistribution) and dtype == "int64")
        or (isinstance(dist, FloatDistribution) and dtype == "float64")
    ):
        return values
    cast = _cast(dist)
    ok = present.tolist()
    if isinstance(dist, CategoricalDistribution):  # few distinct cells: each looked up once
        keys = list(zip(map(type, values), values, strict=True))
        memo = {key: cast(key[1]) for key in {key for key, good in zip(keys, ok, strict=True) if good}}
        return [memo[key] if good else None for key, good in zip(keys, ok, strict=True)]
    return [cast(v) if good else None for v, good in zip(values, ok, strict=True)]


def _cast(dist: BaseDistribution | None) -> Callable[[Any], Any]:
    """A table cell back to the parameter value Optuna would give (ints stay ints beside missing cells)."""
    if isinstance(dist, IntDistribution):
        return int
    if isinstance(dist, CategoricalDistribution):
        choices = dist.choices
        known: dict[tuple[type, Any], Any] = {}

        def choice(value: Any) -> Any:  # noqa: ANN401
            key = (type(value), value)
            hit = known.get(key, known)
            if hit is not known:
                return hit
            same = [c for c in choices if c == value]
            exact = [c for c in same if type(c) is type(value)]
            if not same:
                raise TableTrialError(f"{value!r} is not one of {list(choices)}")
            known[key] = (exact or same)[0]
            return known[key]

        return choice
    return float


def _check_rows(trials: Sequence[FrozenTrial], index: JournalIndex) -> None:
    """The first and last trials' parameters and state match their journal lines (a cheap guard)."""
    for t in {trials[0].number, trials[-1].number} if trials else ():
        trial = trials[t]
        log = index.record(t)
        if log is None:
            continue  # read from Optuna's replay when needed; nothing to compare cheaply
        dists = trial.distributions
        internal = {k: dists[k].to_internal_repr(v) for k, v in trial.params.items()}
        if log["params"] != internal or int(log["state"]) != trial.state.value:
            raise TableTrialError(f"trial {t} differs between trials.csv and the journal")


@dataclass
class FreshStart:
    """What a resume starts from instead of Optuna's replay: the fresh table, its stamp, the journal's index."""

    frame: pd.DataFrame
    stamp: dict[str, Any]
    index: JournalIndex

    def trials(
        self, space_distributions: Mapping[str, BaseDistribution], objectives: Sequence[str], exact: ExactTrial
    ) -> list[FrozenTrial]:
        if len(self.frame) == 0:
            if self.index.offsets:
                raise TableTrialError("an empty table for a journal that holds trials")
            return []
        return table_trials(self.frame, self.index, space_distributions, objectives, exact)


def fresh_start(run_dir: Path, study_name: str) -> FreshStart | None:
    """The run folder's fresh ``trials.csv`` and its journal's index, or None (then the study is replayed)."""
    from swarmdesign.storage import JOURNAL_NAME
    from swarmdesign.table_cache import fresh_table

    table = fresh_table(run_dir)
    if table is None:
        return None
    index = JournalIndex.scan(run_dir / JOURNAL_NAME)
    if index is None or index.size != table[1]["journal_bytes"] or index.study_name != study_name:
        return None
    return FreshStart(table[0], table[1], index)
