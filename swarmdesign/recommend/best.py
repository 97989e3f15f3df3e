"""The one definition of "best", used by the progress bar, the run summary,
``show``, ``report``, ``best.yaml`` and ``load_run().best``.

Before the recommendation stage has run, the best trial is the *search*
trial with the highest declared ``score`` (the scenario's scalarisation,
which already carries the constraint penalty) among feasible designs; when no
design is feasible, among all. Ties go to the earlier trial. The Pareto
front is not used to pick it: a front has many members and the report lists
them separately, while "best" must be one design everyone agrees on.

Once the recommendation stage has run (:mod:`swarmdesign.recommend.pipeline`),
the best trial is the one it recommended (re-scored on fresh seeds, trimmed,
or a baseline when the search did not beat it beyond noise); the study keeps
that choice in its user attribute :data:`RECOMMENDATION_ATTR`.

This module imports only Optuna, so :mod:`swarmdesign.records` can call it
without an import circle.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

#: User attribute naming the stage of a trial that is not a search proposal.
STAGE_ATTR = "stage"
#: Stages written by the recommendation pipeline, in the order they run.
STAGES = ("archive", "rescore", "baseline", "trim", "robustness")
#: Study user attribute holding the recommendation (a JSON-safe dict).
RECOMMENDATION_ATTR = "recommendation"

RankKey = tuple[int, float, int]


#: Stages whose trials are search proposals too (archive filling explores the space like the optimizer).
SEARCH_STAGES = frozenset({"archive"})


def is_search(trial: FrozenTrial) -> bool:
    """True for a trial that explored the space (not a re-score, baseline, trim or robustness check)."""
    stage = trial.user_attrs.get(STAGE_ATTR)
    return stage is None or stage in SEARCH_STAGES


def rank_key(score: float | None, feasible: bool, number: int) -> RankKey | None:
    """Larger is better: feasible first, then the higher score, then the earlier trial."""
    if score is None or not math.isfinite(score):
        return None
    return (1 if feasible else 0, float(score), -int(number))


def trial_key(trial: FrozenTrial) -> RankKey | None:
    if trial.state != TrialState.COMPLETE:
        return None
    score = trial.user_attrs.get("score")
    return rank_key(None if score is None else float(score), bool(trial.user_attrs.get("feasible", True)), trial.number)


def best_search_trial(trials: Iterable[FrozenTrial]) -> FrozenTrial | None:
    """The best search trial by :func:`rank_key` (see the module docstring)."""
    best, best_key = None, None
    for t in trials:
        if not is_search(t):
            continue
        key = trial_key(t)
        if key is not None and (best_key is None or key > best_key):
            best, best_key = t, key
    return best


def recommendation(study: optuna.Study) -> dict[str, Any] | None:
    """The recommendation the pipeline stored in the study, or None before it ran."""
    return recommendation_of(study.user_attrs.get(RECOMMENDATION_ATTR))


def recommendation_of(value: Any) -> dict[str, Any] | None:  # noqa: ANN401 - a study attribute's JSON value
    """A stored recommendation attribute as the recommendation (anything but a mapping is none)."""
    return value if isinstance(value, dict) else None


def best_trial(study: optuna.Study, trials: Sequence[FrozenTrial] | None = None) -> FrozenTrial | None:
    """The best trial of ``study`` (see the module docstring); ``trials`` saves a re-read when known."""
    trials = study.get_trials(deepcopy=False) if trials is None else trials
    return best_of(trials, recommendation(study))


def best_of(trials: Sequence[FrozenTrial], rec: dict[str, Any] | None) -> FrozenTrial | None:
    """:func:`best_trial` from a study's trials and its stored recommendation (a run keeps both in memory)."""
    recommended = recommended_trial(trials, rec)
    return recommended if recommended is not None else best_search_trial(trials)


def recommended_trial(trials: Sequence[FrozenTrial], rec: dict[str, Any] | None) -> FrozenTrial | None:
    """The trial the stored recommendation ``rec`` names, when it is one of ``trials`` (else None)."""
    if rec is not None:
        number = rec.get("trial")
        if isinstance(number, int) and 0 <= number < len(trials) and trials[number].number == number:
            return trials[number]
    return None


class RunningBest:
    """Best search score so far, updated batch by batch at O(batch) cost (the progress bar)."""

    def __init__(self, study: optuna.Study | None = None) -> None:
        self.key: RankKey | None = None
        if study is not None:
            t = best_search_trial(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
            self.key = None if t is None else trial_key(t)

    def update(self, outcomes: Iterable[Any]) -> float | None:
        """Fold in a batch of :class:`~swarmdesign.optimizers.Outcome` (score, violation); return the best score."""
        for o in outcomes:
            key = rank_key(o.score, float(getattr(o, "violation", 0.0) or 0.0) <= 0.0, 0)
            if key is not None and (self.key is None or key[:2] > self.key[:2]):
                self.key = key
        return self.score

    @property
    def score(self) -> float | None:
        return None if self.key is None else self.key[1]


__all__ = [
    "RECOMMENDATION_ATTR",
    "STAGES",
    "STAGE_ATTR",
    "RunningBest",
    "best_of",
    "best_search_trial",
    "best_trial",
    "is_search",
    "rank_key",
    "recommendation",
    "recommended_trial",
]
