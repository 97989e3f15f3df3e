"""A deliberately slow evaluator, for measuring parallel runs and killing workers mid-batch.

``sleeping`` scores designs exactly like ``simulated`` (same metrics for the
same seed) and then sleeps ``sleep_s`` seconds per design, standing in for
an expensive evaluation (an LLM run). Chosen over an environment variable
read by some evaluator: the sleep is an ordinary evaluator parameter, stored
in the run's config and in the study, so every worker process sleeps alike
without sharing an environment.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from swarmdesign.evaluators import Evaluator, evaluator_names, register_evaluator

if TYPE_CHECKING:
    import pandas as pd

    from swarmdesign.design import Design
    from swarmdesign.fitness import Scenario


class SleepingEvaluator(Evaluator):
    """The simulated evaluator, then ``sleep_s`` seconds of sleep per design.

    Args:
        sleep_s: Seconds slept per design after scoring (the batch sleeps ``n * sleep_s``).
        replicas: Monte-Carlo replicas, passed to the simulated evaluator.
    """

    name: ClassVar[str] = "sleeping"

    def __init__(self, sleep_s: float = 0.1, replicas: int = 16) -> None:
        if not isinstance(sleep_s, int | float) or sleep_s < 0:
            raise ValueError(f"sleep_s must be a number >= 0, got {sleep_s!r}")
        from swarmdesign.sim import SimulatedEvaluator

        self.sleep_s = float(sleep_s)
        self.replicas = int(replicas)
        self._inner = SimulatedEvaluator(replicas=self.replicas)

    def params(self) -> dict[str, Any]:
        return {"sleep_s": self.sleep_s, "replicas": self.replicas}

    def evaluate(self, designs: Sequence[Design], scenario: Scenario, *, seed: int) -> pd.DataFrame:
        frame = self._inner.evaluate(designs, scenario, seed=seed)
        time.sleep(self.sleep_s * len(designs))
        return frame


def register() -> None:
    """Register ``sleeping`` in this process (idempotent).

    Workers need not call this: they import the evaluator by the class path
    the driver stores in the study.
    """
    if SleepingEvaluator.name not in evaluator_names():
        register_evaluator(SleepingEvaluator.name, SleepingEvaluator)
