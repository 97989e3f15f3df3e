"""Scores with standard errors, and the stage trials that keep them in the study.

A search trial is one evaluation on the run's seed: a Monte-Carlo estimate
with no spread attached. Here a design is scored on several independent
seeds (each seed redraws the evaluator's randomness: task difficulties,
faults); the mean is the estimate and ``sd / sqrt(n_seeds)`` its standard
error. Designs compared with each other are scored on the *same* seeds
(common random numbers), so the standard error of a difference comes from
the per-seed differences and is much smaller than either score's own.

Every multi-seed score is written as one trial (``stage`` and a
deterministic ``stage_key`` in its user attributes) before the next step
uses it, so a pipeline killed half-way is resumed by looking the keys up:
nothing is evaluated twice.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from swarmdesign import records
from swarmdesign.recommend.best import STAGE_ATTR

if TYPE_CHECKING:
    from swarmdesign.design import Design
    from swarmdesign.evaluators import Evaluator
    from swarmdesign.runner import Run

KEY_ATTR = "stage_key"
SEEDS_ATTR = "score_seeds"
SE_ATTR = "score_se"


@dataclass
class Scored:
    """A design's scores on a list of seeds; ``scores`` has shape ``(n_seeds,)``, NaN where it failed."""

    design: Design
    scores: np.ndarray
    metrics: dict[str, float] = field(default_factory=dict)
    trial: int | None = None
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def mean(self) -> float:
        ok = self.scores[np.isfinite(self.scores)]
        return float(ok.mean()) if ok.size else math.nan

    @property
    def se(self) -> float:
        return standard_error(self.scores)

    @property
    def feasible(self) -> bool:
        return bool(self.metrics.get("feasible", 1.0) >= 0.5)

    @property
    def ok(self) -> bool:
        return bool(np.isfinite(self.scores).all())

    @property
    def agents(self) -> int:
        return int(sum(r.count for r in self.design.roles))


def standard_error(values: np.ndarray) -> float:
    """Standard error of the mean of finite ``values`` (0 for one value: no spread is known)."""
    ok = np.asarray(values, dtype=float)
    ok = ok[np.isfinite(ok)]
    if ok.size < 2:
        return 0.0
    return float(ok.std(ddof=1) / math.sqrt(ok.size))


def paired_difference(a: Scored, b: Scored) -> tuple[float, float]:
    """Mean and standard error of ``a - b`` over the seeds both were scored on (common random numbers)."""
    d = a.scores - b.scores
    d = d[np.isfinite(d)]
    if d.size == 0:
        return math.nan, math.nan
    return float(d.mean()), standard_error(d)


def fresh_seeds(run_seed: int, purpose: str, n: int) -> list[int]:
    """``n`` seeds independent of the search's seed and of every other ``purpose``."""
    tag = int.from_bytes(hashlib.sha256(purpose.encode()).digest()[:4], "little")
    state = np.random.SeedSequence([int(run_seed) & 0xFFFFFFFF, tag]).generate_state(n, dtype=np.uint32)
    return [int(s) for s in state]


def fingerprint(design: Design) -> str:
    """What the design *is* (roles, wiring, coordination), without its name, metrics or provenance."""
    data = design.to_dict()
    for k in ("name", "description", "metrics", "provenance"):
        data.pop(k, None)
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def score_designs(evaluator: Evaluator, designs: Sequence[Design], scenario: Any, seeds: Sequence[int]) -> list[Scored]:
    """Score every design on every seed: one batched evaluation per seed, failures isolated per design."""
    from swarmdesign.evaluation import evaluate_safely

    n, r = len(designs), len(seeds)
    scores = np.full((n, r), np.nan)
    sums: list[dict[str, float]] = [{} for _ in range(n)]
    counts = np.zeros(n)
    if n == 0:
        return []
    for j, seed in enumerate(seeds):
        rows, _ = evaluate_safely(evaluator, designs, scenario, int(seed))
        for i, row in enumerate(rows):
            if row is None:
                continue
            scores[i, j] = float(row["score"])
            counts[i] += 1
            for k, v in records.metric_attrs(row).items():
                if isinstance(v, bool):
                    v = float(v)
                if isinstance(v, float) and math.isfinite(v):
                    sums[i][k] = sums[i].get(k, 0.0) + v
    out = []
    for i, d in enumerate(designs):
        metrics = {k: v / counts[i] for k, v in sums[i].items()} if counts[i] else {}
        out.append(Scored(d, scores[i], metrics))
    return out


def rescoring_evaluator(run: Run, factor: int) -> Evaluator:
    """The run's evaluator, with ``factor`` times its Monte-Carlo replicas when it has that parameter."""
    from swarmdesign.evaluators import make_evaluator

    params = dict(run.config["evaluator"].get("params") or {})
    if factor > 1 and isinstance(params.get("replicas"), int):
        params["replicas"] = min(params["replicas"] * factor, 100_000)
        return make_evaluator(run.config["evaluator"]["name"], **params)
    return run.evaluator


class StageTrials:
    """Read and write the trials of the recommendation stages of one run."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self._by_key: dict[str, FrozenTrial] = {}
        for t in run.trials.select((TrialState.COMPLETE,)):
            key = t.user_attrs.get(KEY_ATTR)
            if key is not None:
                self._by_key[str(key)] = t

    def recorded_keys(self) -> list[str]:
        """The keys of every stage score recorded so far."""
        return list(self._by_key)

    def get(self, key: str) -> Scored | None:
        """A stage score recorded earlier under ``key`` (resume), or None."""
        t = self._by_key.get(key)
        if t is None:
            return None
        return scored_of(t)

    def record(self, stage: str, items: Sequence[tuple[str, Scored]]) -> None:
        """Write ``(key, scored)`` pairs as complete trials (one flush) and set each ``scored.trial``."""
        if not items:
            return
        dists = self.run.space.distributions()
        objective_names = [o["name"] for o in self.run.config["objectives"]]
        new = []
        for key, s in items:
            try:
                params = self.run.space.design_to_params(s.design)
                trial_dists = dists
            except Exception:  # noqa: BLE001 - a baseline may lie outside the space: no params then
                params, trial_dists = {}, {}
            metrics = dict(s.metrics)
            metrics["score"] = s.mean
            metrics["feasible"] = s.feasible
            attrs: dict[str, Any] = {
                k: v for k, v in metrics.items() if isinstance(v, bool) or (isinstance(v, float) and math.isfinite(v))
            }
            attrs.update(
                {
                    STAGE_ATTR: stage,
                    KEY_ATTR: key,
                    "design": records.design_json(s.design),
                    SEEDS_ATTR: [None if not math.isfinite(x) else float(x) for x in s.scores],
                    **s.attrs,
                }
            )
            if np.isfinite(s.scores).sum() >= 2:  # one seed has no spread: its SE is the search's (results API)
                attrs[SE_ATTR] = s.se
            values = [float(metrics.get(n, math.nan)) for n in objective_names]
            ok = s.ok and all(math.isfinite(v) for v in values)
            new.append(
                optuna.trial.create_trial(
                    state=TrialState.COMPLETE if ok else TrialState.FAIL,
                    params=params,
                    distributions=trial_dists,
                    values=values if ok else None,
                    user_attrs=attrs if ok else {**attrs, "fail_reason": "a stage evaluation failed"},
                )
            )
        self.run.trials.add(new)
        self.run.store.flush()
        recent = self.run.trials.trials()[-len(new) :]
        for (key, s), t in zip(items, recent, strict=True):
            s.trial = t.number
            if t.state == TrialState.COMPLETE:
                self._by_key[key] = t


def scored_of(trial: FrozenTrial) -> Scored:
    """A stage trial read back as a :class:`Scored`."""
    from swarmdesign.design import Design

    a = trial.user_attrs
    seeds = np.array([math.nan if x is None else float(x) for x in a.get(SEEDS_ATTR, [])], dtype=float)
    metrics = {k: float(v) for k, v in a.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    metrics["feasible"] = 1.0 if a.get("feasible", True) else 0.0
    extra = {k: v for k, v in a.items() if k.startswith("rec_")}
    return Scored(Design.from_dict(json.loads(a["design"])), seeds, metrics, trial.number, extra)


__all__ = [
    "KEY_ATTR",
    "SEEDS_ATTR",
    "SE_ATTR",
    "Scored",
    "StageTrials",
    "fingerprint",
    "fresh_seeds",
    "paired_difference",
    "rescoring_evaluator",
    "score_designs",
    "scored_of",
    "standard_error",
]
