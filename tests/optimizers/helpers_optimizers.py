"""A runner-shaped loop on an in-memory study with a cheap, exact objective, for unit tests of optimizers.

It records proposals exactly as the runner does (``create_trial`` with the
proposal's attrs, then ``tell``); the objective is a pure function of the
params, so unit tests stay fast. The conformance suite covers the real runner.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import optuna

from swarmdesign.optimizers import make_optimizer
from swarmdesign.optimizers.base import Optimizer, Outcome
from swarmdesign.resources import resolve
from swarmdesign.space import SearchSpace


def load_space(name: str) -> SearchSpace:
    return SearchSpace.load(resolve(name, "search_spaces", option="SPACE"))


def distance_objective(space: SearchSpace, target: np.ndarray) -> Callable[[dict[str, Any]], float]:
    """Higher is better: minus the box distance of the params' encoding to ``target``."""

    def score(params: dict[str, Any]) -> float:
        return -float(np.abs(space.params_to_vector(params) - target).sum())

    return score


def drive(
    opt: Optimizer,
    space: SearchSpace,
    objective: Callable[[dict[str, Any]], float | list[float]],
    budget: int,
    *,
    study: optuna.Study | None = None,
    batch: int = 8,
    directions: tuple[str, ...] = ("maximize",),
    violation: Callable[[dict[str, Any]], float] | None = None,
) -> optuna.Study:
    """Ask, score, record (as the runner does) and tell until ``budget`` trials exist."""
    study = study or optuna.create_study(directions=list(directions))
    dists = space.distributions()
    while (done := len(study.get_trials(deepcopy=False))) < budget:
        proposals = opt.ask(study, min(batch, budget - done))
        outcomes, trials = [], []
        for p in proposals:
            raw = objective(p.params)
            values = [float(v) for v in raw] if isinstance(raw, list) else [float(raw)]
            v = violation(p.params) if violation else 0.0
            outcomes.append(Outcome(values=values, score=values[0], violation=v))
            attrs = {**p.attrs, "score": values[0], "violation": v}
            trials.append(
                optuna.trial.create_trial(params=p.params, distributions=dists, values=values, user_attrs=attrs)
            )
        study.add_trials(trials)
        opt.tell(study, proposals, outcomes)
    return study


def bound(name: str, space: SearchSpace, *, seed: int = 0, directions: tuple[str, ...] = ("maximize",), **params: Any):
    opt = make_optimizer(name, **params)
    opt.bind(space, list(directions), seed)
    return opt
