"""How an evaluation is written into, and read back from, the Optuna study.

One evaluation = one trial:

* ``params``: the space's encoded fields (fixed distributions),
* ``values``: the scenario's objectives,
* ``user_attrs``: every metric under its own name, the decoded design as
  compact JSON (``design``), and optimizer bookkeeping (``optimizer``,
  ``generation``, ``particle``), or ``fail_reason`` for a failed trial.

Everything that reads a run (``trials.csv``, ``best.yaml``, ``show``, the
results API) goes through this module so the layout is defined once.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from swarmdesign import jsontext
from swarmdesign.design import Design, Provenance

if TYPE_CHECKING:
    import pandas as pd

BOOKKEEPING = ("optimizer", "generation", "particle", "seed_design", "fail_reason", "design", "eval_seconds")
# trials.csv keeps these bookkeeping attributes as columns of their own and drops the rest.
_BOOKKEEPING_COLUMNS = ("optimizer", "generation", "particle", "fail_reason")
_BOOKKEEPING_DROPPED = tuple(k for k in BOOKKEEPING if k not in _BOOKKEEPING_COLUMNS)


def metric_attrs(row: dict[str, Any]) -> dict[str, Any]:
    """Metrics as JSON-safe user attributes (numpy scalars to Python)."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        kind = type(value)
        if kind is float or kind is bool or kind is str:  # already plain (rows from evaluate_safely)
            out[key] = value
        elif isinstance(value, bool) or kind.__name__ == "bool_":
            out[key] = bool(value)
        elif isinstance(value, int | float) or hasattr(value, "item"):
            out[key] = float(value)
        else:
            out[key] = value
    return out


def design_json(design: Design) -> str:
    """The design's compact JSON, as each trial records it (``user_attrs["design"]``)."""
    return jsontext.dumps(design.to_dict(), ensure_ascii=False)


def is_finished(trial: FrozenTrial) -> bool:
    """Counts toward the budget: complete, or failed by its own evaluation (not abandoned).

    Trials of the recommendation stages (re-scores, baselines, trims) are not
    search proposals and never count toward the search budget.
    """
    if "stage" in trial.user_attrs:
        return False
    if trial.state == TrialState.COMPLETE:
        return True
    return trial.state == TrialState.FAIL and trial.user_attrs.get("fail_reason", "abandoned") != "abandoned"


def finished_trials(study: optuna.Study) -> list[FrozenTrial]:
    return [t for t in study.get_trials(deepcopy=False) if is_finished(t)]


def design_of(trial: FrozenTrial, *, provenance: dict[str, Any] | None = None) -> Design:
    """The trial's design with its metrics and provenance attached."""
    return design_from_attrs(trial.number, trial.user_attrs, provenance=provenance)


def design_from_attrs(number: int, attrs: Mapping[str, Any], *, provenance: dict[str, Any] | None = None) -> Design:
    """:func:`design_of` from trial ``number``'s user attributes alone (read from its journal line, say)."""
    data = json.loads(attrs["design"])
    base = data.get("name", "design")
    data["name"] = f"{base}-trial-{number}"
    data["metrics"] = {
        k: float(v)
        for k, v in attrs.items()
        if k not in BOOKKEEPING and isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
    }
    prov = dict(provenance or {})
    prov["trial"] = number
    data["provenance"] = Provenance(**prov).model_dump(exclude_none=True)
    return Design.from_dict(data)


def best_trial(study: optuna.Study) -> FrozenTrial | None:
    """The one definition of the best trial: :func:`swarmdesign.recommend.best.best_trial`."""
    from swarmdesign.recommend.best import best_trial as _best

    return _best(study)


def pareto_trials(study: optuna.Study, front: Sequence[tuple[str, str]] | None = None) -> list[FrozenTrial]:
    """Non-dominated complete trials, in trial order (``front``: see :func:`pareto_of`).

    Computed here rather than with ``study.best_trials``, which deep-copies
    every trial (seconds for a few thousand trials, and it runs every batch).
    """
    return pareto_of(study.get_trials(deepcopy=False), study.directions, front)


def pareto_of(
    trials: Sequence[FrozenTrial],
    directions: Sequence[optuna.study.StudyDirection],
    front: Sequence[tuple[str, str]] | None = None,
) -> list[FrozenTrial]:
    """:func:`pareto_trials` from a study's trials and directions (a run keeps both in memory).

    ``front``: the scenario's objectives as ``(metric, direction)`` when the study searched its
    score instead (:func:`front_objectives`); the front is then taken over those recorded metrics.
    """
    from swarmdesign.recommend.best import best_search_trial, is_search

    # Search designs only (the archive fill's among them, as for the best design): not re-scores, baselines, trims.
    complete = [t for t in trials if t.state == TrialState.COMPLETE and is_search(t)]
    # Designs that break the scenario's constraints only count when nothing is feasible.
    complete = [t for t in complete if t.user_attrs.get("feasible", True)] or complete
    if not complete:
        return []
    if not front and len(directions) == 1:
        best = best_search_trial(complete)
        return [best] if best is not None else []
    losses = front_losses(complete, directions, front)
    return sorted((complete[i] for i in nondominated(losses)), key=lambda t: t.number)


def front_objectives(config: dict[str, Any]) -> list[tuple[str, str]] | None:
    """The objectives whose front a run of the score reports: its scenario's own, when it declares several.

    A run searches the declared score unless started with ``--pareto``
    (:mod:`swarmdesign.search_target`), but a scenario that declares several
    objectives still asks for their trade-off: its front is taken over the
    recorded metrics. None when the study's own objectives are the front
    (a ``--pareto`` run, or a scenario of one objective).
    """
    if len(config.get("objectives", [])) != 1:
        return None
    declared = config.get("scenario", {}).get("spec", {}).get("objectives") or []
    named = [(str(o["name"]), str(o.get("direction", "maximize"))) for o in declared if isinstance(o, dict)]
    return named if len(named) > 1 else None


def front_losses(
    trials: Sequence[FrozenTrial],
    directions: Sequence[optuna.study.StudyDirection],
    front: Sequence[tuple[str, str]] | None = None,
) -> np.ndarray:
    """``(n, m)`` minimised losses of complete ``trials`` for their front.

    The study's values by its ``directions``; with ``front`` (:func:`front_objectives`), those recorded
    metrics instead (a missing one: +inf).
    """
    if not front:
        signs = np.array([-1.0 if d == optuna.study.StudyDirection.MAXIMIZE else 1.0 for d in directions])
        return np.array([t.values for t in trials], dtype=float) * signs
    signs = np.array([-1.0 if direction == "maximize" else 1.0 for _, direction in front])
    attrs = [t.user_attrs for t in trials]
    values = np.empty((len(attrs), len(front)))
    for j, (name, _) in enumerate(front):
        try:  # a column at a time: a list of rows through ``np.array`` cost 6x as much (0.35 s for 10^5 trials)
            values[:, j] = np.fromiter((a.get(name, math.nan) for a in attrs), dtype=float, count=len(attrs))
        except (TypeError, ValueError):  # a value float() refuses (None): numpy's own conversion, as before
            values[:, j] = np.array([a.get(name, math.nan) for a in attrs], dtype=float)
    return np.where(np.isfinite(values), values * signs, np.inf)


#: Points tested against the front at once (a resume or a final refresh folds in every trial at once).
_BLOCK = 256


def nondominated(losses: np.ndarray) -> list[int]:
    """Rows of ``losses`` (minimised) that no other row dominates or equals; of equal rows, the first.

    Rows are taken in lexicographic order, in which no later row can dominate
    an earlier one, and each is tested against the rows kept so far. Most rows
    of a long run fall to that front, so they are tested a block at a time
    (numpy) and only the survivors one by one: the same rows as a plain loop,
    at a fraction of its cost over 10^5 trials.
    """
    order = np.lexsort(losses.T[::-1])  # stable: of equal rows the earlier comes first
    kept: list[int] = []
    for start in range(0, len(order), _BLOCK):
        block = order[start : start + _BLOCK]
        if kept:
            block = block[~(losses[kept][None, :, :] <= losses[block][:, None, :]).all(axis=2).any(axis=1)]
        for i in block.tolist():
            if kept and (losses[kept] <= losses[i]).all(axis=1).any():
                continue
            kept.append(i)
    return kept


def trial_row(t: FrozenTrial) -> dict[str, Any]:
    """One trial as a ``trials.csv`` row: bookkeeping, every metric, every param (``param.<name>``)."""
    attrs = t.user_attrs
    row: dict[str, Any] = {
        "trial": t.number,
        "state": t.state.name,
        "duration_s": (t.datetime_complete - t.datetime_start).total_seconds()
        if t.datetime_complete and t.datetime_start
        else math.nan,
        "optimizer": attrs.get("optimizer"),
        "generation": attrs.get("generation"),
        "particle": attrs.get("particle"),
        "fail_reason": attrs.get("fail_reason"),
    }
    # One update and a few pops, not a membership test per attribute (~60 per trial):
    # the bookkeeping keys above keep their places, the metrics follow in order.
    row.update(attrs if type(attrs) is dict else attrs.copy())  # a rebuilt or compacted trial's view: one dict
    for k in _BOOKKEEPING_DROPPED:
        row.pop(k, None)
    for k, v in t.params.items():
        row[f"param.{k}"] = v
    return row


def trials_frame(study: optuna.Study) -> pd.DataFrame:
    """One row per trial (:func:`trial_row`).

    Objective values are the metrics of the same name; for a failed trial they
    are missing and ``fail_reason`` says why.
    """
    import pandas as pd  # here: a run records trials without pandas (its import is a tenth of a short run)

    frame = pd.DataFrame([trial_row(t) for t in study.get_trials(deepcopy=False)])
    if frame.empty:
        return frame
    for col in ("generation", "particle"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("Int64")
    return frame
