"""An evaluator that fails on purpose, for testing how runs survive bad evaluations.

``FaultyEvaluator`` scores designs like ``simulated`` but, for a deterministic
share of designs (chosen by a hash of the design, so a resumed run fails the
same ones), it raises, hangs, or returns NaN. Use it by import path:
``--evaluator swarmdesign.testing.faulty:FaultyEvaluator -E mode=hang -E share=0.2``.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from swarmdesign.evaluators import Evaluator

if TYPE_CHECKING:
    import pandas as pd

    from swarmdesign.design import Design
    from swarmdesign.fitness import Scenario

MODES = ("raise", "hang", "nan")


class FaultyEvaluator(Evaluator):
    """The simulated evaluator, except that a share of designs raise, hang or give NaN.

    Args:
        mode: ``raise`` (RuntimeError), ``hang`` (sleeps ``hang_s``), or ``nan`` (quality = NaN).
        share: Fraction of designs (0..1) that misbehave, chosen by design hash.
        hang_s: How long a hanging evaluation sleeps, in seconds.
    """

    name: ClassVar[str] = "faulty"

    def __init__(self, mode: str = "raise", share: float = 0.2, hang_s: float = 3600.0) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if not 0.0 <= float(share) <= 1.0:
            raise ValueError(f"share must be in [0, 1], got {share!r}")
        from swarmdesign.sim import SimulatedEvaluator

        self.mode = mode
        self.share = float(share)
        self.hang_s = float(hang_s)
        self._inner = SimulatedEvaluator()

    def params(self) -> dict[str, Any]:
        return {"mode": self.mode, "share": self.share, "hang_s": self.hang_s}

    def is_faulty(self, design: Design) -> bool:
        what = design.model_dump_json(include={"roles", "topology", "edges", "coordination"})
        digest = hashlib.sha256(what.encode("utf-8")).digest()
        return int.from_bytes(digest[:4], "big") / 2**32 < self.share

    def evaluate(self, designs: Sequence[Design], scenario: Scenario, *, seed: int) -> pd.DataFrame:
        bad = [self.is_faulty(d) for d in designs]
        if any(bad) and self.mode == "raise":
            raise RuntimeError(f"evaluator crashed on design '{designs[bad.index(True)].name}'")
        if any(bad) and self.mode == "hang":
            time.sleep(self.hang_s)
        frame = self._inner.evaluate(designs, scenario, seed=seed)
        if self.mode == "nan":
            frame.loc[np.asarray(bad), "quality"] = float("nan")
        return frame
