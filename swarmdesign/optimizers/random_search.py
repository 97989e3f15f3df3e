"""Uniform random search on the space's unit box: the baseline every other optimizer must beat.

Why not Optuna's ``RandomSampler``: asking it goes through a trial of an
in-memory study, one ``suggest`` per parameter, each of which copies the
trial. With ~30 parameters that cost ~2.5 ms per proposal, six times what the
simulator takes to score a design, so ``random`` was the slowest optimizer
of all. The space's codec (:mod:`swarmdesign.space_codec`) maps the unit box
onto each parameter as that sampler draws it: uniform over an integer range
widened by half a step on each side (in log space for a log range), uniform
over a categorical's choices, uniform or log-uniform over a float range. A
uniform point of the box is therefore a draw from the same distribution, and
a whole batch is decoded at once.

Point ``t`` of a run comes from ``default_rng([seed, t])``: a resume continues
the sequence from the number of trials the study holds, with no saved state,
and the batch size never changes which designs a run sees. Seed designs
(``--seed-design``) come first, in a run that has not recorded any trial yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import optuna

from swarmdesign.optimizers.base import Optimizer, Outcome, Proposal


class RandomOptimizer(Optimizer):
    """Uniform random search; see the module docstring."""

    name = "random"
    independent_proposals = True
    reads_trials_only = True

    def __init__(self, **hyperparameters: Any) -> None:
        if hyperparameters:
            raise TypeError(f"'random' takes no parameters, got {sorted(hyperparameters)}")
        super().__init__()
        self._next: int | None = None  # index of the next point (trials in the study when first asked)
        self._seeded = 0  # seed designs proposed so far

    def ask(self, study: optuna.Study, n: int) -> list[Proposal]:
        assert self.space is not None, "bind() first"
        if self._next is None:
            self._next = len(study.get_trials(deepcopy=False))
            self._seeded = len(self.initial) if self._next else 0
        n = max(int(n), 0)
        out: list[Proposal] = []
        while self._seeded < len(self.initial) and len(out) < n:
            attrs = {"optimizer": self.name, "seed_design": True}
            out.append(Proposal(params=dict(self.initial[self._seeded]), attrs=attrs))
            self._seeded += 1
        k = n - len(out)
        if k:
            start, self._next = self._next, self._next + k
            dim = self.space.dim
            box = np.stack([np.random.default_rng([self.seed, t]).random(dim) for t in range(start, start + k)])
            out.extend(Proposal(params=p, attrs={"optimizer": self.name}) for p in self.space.vectors_to_params(box))
        return out

    def tell(self, study: optuna.Study, proposals: Sequence[Proposal], outcomes: Sequence[Outcome]) -> None:
        """Nothing to learn: every point is drawn independently of the outcomes."""


OPTIMIZERS = [RandomOptimizer]
