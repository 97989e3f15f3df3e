"""An evaluator whose true scores are known, plus seeded noise: the yardstick of the recommendation tests.

Used by import path (``-e tests.recommend.known_truth:KnownTruthEvaluator``),
the way a user plugs in their own evaluator.

``quality`` = truth + noise, where the truth depends only on the design and
the noise is Gaussian with sd ``noise``, drawn per (design, seed): the same
design on the same seed always gets the same draw, another seed a new one.
A search evaluates everything on the run's seed, so its top score is the
maximum of many noisy draws (biased upward); fresh seeds are not.

``shape="team"``: truth grows with the agents up to 6 and falls after,
so a multi-agent design is best and a large one carries dead weight.
``shape="single"``: every agent, vote and review round beyond one costs
quality, so one agent is best.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from swarmdesign.evaluators import Evaluator

if TYPE_CHECKING:
    from swarmdesign.design import Design
    from swarmdesign.fitness import Scenario


def true_quality(design: Design, shape: str) -> float:
    n = sum(r.count for r in design.roles)
    votes = design.coordination.redundancy
    rounds = design.coordination.review_rounds
    if shape == "single":
        return 0.8 - 0.03 * (n - 1) - 0.02 * (votes - 1) - 0.02 * rounds
    return 0.5 + 0.05 * min(n, 6) - 0.002 * max(n - 6, 0) + 0.004 * min(votes, 3) + 0.01 * min(rounds, 1)


class KnownTruthEvaluator(Evaluator):
    name: ClassVar[str] = "known-truth"

    def __init__(self, noise: float = 0.02, shape: str = "team", sleep_s: float = 0.0) -> None:
        self.noise = float(noise)
        self.shape = shape
        self.sleep_s = float(sleep_s)  # per call: gives a test time to kill a run mid-stage

    def params(self) -> dict[str, Any]:
        return {"noise": self.noise, "shape": self.shape, "sleep_s": self.sleep_s}

    def evaluate(self, designs: Sequence[Design], scenario: Scenario, *, seed: int) -> pd.DataFrame:
        if self.sleep_s:
            time.sleep(self.sleep_s)
        truth = np.array([true_quality(d, self.shape) for d in designs])
        noise = np.array([_draw(d, seed) for d in designs]) * self.noise
        agents = np.array([float(sum(r.count for r in d.roles)) for d in designs])
        votes = np.array([float(d.coordination.redundancy) for d in designs])
        return pd.DataFrame(
            {
                "quality": truth + noise,
                "cost": 0.01 * agents * votes,
                "latency": 10.0 + agents,
                "robustness": np.ones(len(designs)),
                "agents": agents,
            }
        )


def _draw(design: Design, seed: int) -> float:
    data = design.to_dict()
    for k in ("name", "description", "metrics", "provenance"):
        data.pop(k, None)
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).digest()
    return float(np.random.default_rng([int(seed), int.from_bytes(digest[:8], "little")]).standard_normal())
