"""How much the recommendation stages may spend, from what the search itself cost.

The stages' default effort (5 designs on 8 seeds with 4x the replicas, the
baselines, a trim of up to 60 steps) costs a few seconds with the fast
simulator but a quarter of an hour with a slow evaluator, where a 20-trial
search took a minute. A user expects the step after a search to cost a
bounded share of the search. So the stages are sized from the search's own
cost, measured as the sum of its trials' ``eval_seconds`` (the evaluation
time per design the runner records):

* the cap is the search's evaluation time (``share`` = 1), but never less
  than :data:`FLOOR_S` seconds: below that nobody waits, and cutting the
  stages would only weaken the verdict (a full trim of a 2,000-agent design
  scores about a hundred designs: a few seconds with the simulator);
* the unit of cost is one design scored on one seed, ``unit_s`` seconds
  times the replica factor (an evaluator's cost grows with its replicas);
* the fixed part (re-score, confirmation, baselines)
  is reduced in the order that loses least: the extra replicas first, then
  seeds (down to :data:`MIN_SEEDS`), then the re-scored designs (down to
  one). It is cut until it leaves at least half the cap for trimming;
* trimming gets what remains of the cap, counted in designs scored.

Never reduced: the baselines and the confirmation of the winner (the
verdict needs them), and any option the user set (``RecommendOptions.auto``
names the ones left to this sizing; an explicit ``--rescore-top`` or
``--rescore-seeds`` wins). The robustness stage runs only when asked, so it
is never reduced either; its cost is counted so the plan states it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from swarmdesign.recommend.robustness import SEEDS_PER_SCENARIO as ROBUSTNESS_SEEDS

#: Below this cap (seconds) the stages run at full effort: nobody waits for them.
FLOOR_S = 10.0
#: Fewest fresh seeds the sizing goes down to (two give a standard error; three a usable one).
MIN_SEEDS = 3
#: Designs a typical full trim scores (about ten steps of six candidates): a smaller bound is worth a line.
TRIM_FULL = 60


@dataclass
class StagePlan:
    """The effort the stages will spend; costs are in seconds of evaluation (estimates)."""

    top: int
    seeds: int
    replicas_factor: int
    trim_designs: int | None  # designs trimming may score; None = unbounded
    unit_s: float
    search_s: float
    cap_s: float
    fixed_s: float
    reduced: list[str] = field(default_factory=list)

    def message(self) -> str | None:
        """One line saying what was reduced and how to ask for more; None when nothing was."""
        if not self.reduced:
            return None
        return (
            f"the search spent {self.search_s:.3g} s evaluating ({self.unit_s:.3g} s per design), so the "
            f"recommendation stages are sized to about {self.cap_s:.3g} s: {', '.join(self.reduced)}; "
            "pass --rescore-top / --rescore-seeds to choose the effort yourself"
        )


def search_seconds(trials: Sequence[Any]) -> tuple[float, int]:
    """Evaluation seconds the search spent and how many search trials carry a time."""
    from swarmdesign.recommend.best import STAGE_ATTR

    times = [
        float(t.user_attrs["eval_seconds"])
        for t in trials
        if t.user_attrs.get(STAGE_ATTR) is None and isinstance(t.user_attrs.get("eval_seconds"), int | float)
    ]
    times = [x for x in times if math.isfinite(x) and x >= 0]
    return float(sum(times)), len(times)


def plan(
    *,
    top: int,
    seeds: int,
    replicas_factor: int,
    auto: Sequence[str],
    n_models: int,
    search_s: float,
    n_search: int,
    robustness: int = 0,
    share: float = 1.0,
    floor_s: float = FLOOR_S,
) -> StagePlan:
    """Size the stages so their expected cost is about ``share`` times the search's (see the module docstring)."""
    unit = search_s / n_search if n_search else 0.0
    cap = max(share * search_s, floor_s)
    top0, seeds0, rf0 = top, seeds, replicas_factor

    def fixed(top: int, seeds: int, rf: int) -> float:
        # baselines: one agent per model, and at most one self-consistency vote per model
        designs_seeds = top * seeds + seeds + 2 * n_models * seeds
        return unit * rf * designs_seeds

    def robust_s(top: int) -> float:
        return unit * robustness * (top + 2 * n_models + 2) * ROBUSTNESS_SEEDS

    def over(top: int, seeds: int, rf: int) -> bool:
        return fixed(top, seeds, rf) + robust_s(top) > cap / 2

    if "replicas_factor" in auto:
        while replicas_factor > 1 and over(top, seeds, replicas_factor):
            replicas_factor = max(1, replicas_factor // 2)
    if "seeds" in auto:
        while seeds > MIN_SEEDS and over(top, seeds, replicas_factor):
            seeds -= 1
    if "top" in auto:
        while top > 1 and over(top, seeds, replicas_factor):
            top -= 1
    spent = fixed(top, seeds, replicas_factor) + robust_s(top)
    trim_designs: int | None = None
    reduced = []
    if top < top0:
        reduced.append(f"top {top} designs re-scored (of {top0})")
    if seeds < seeds0:
        reduced.append(f"{seeds} fresh seeds (of {seeds0})")
    if replicas_factor < rf0:
        reduced.append(f"replicas x{replicas_factor} (of x{rf0})")
    if "trim" in auto and unit > 0:
        trim_designs = int(max(cap - spent, 0.0) // (unit * replicas_factor * seeds))
        if trim_designs < TRIM_FULL:
            reduced.append(f"trimming scores at most {trim_designs} designs" if trim_designs else "no trimming")
    return StagePlan(top, seeds, replicas_factor, trim_designs, unit, search_s, cap, spent, reduced)


__all__ = ["FLOOR_S", "MIN_SEEDS", "StagePlan", "plan", "search_seconds"]
