"""Does the recommendation still hold if the scenario is a little wrong?

A scenario's numbers are estimates: each model's skill, the fault rate, list
prices, how hard the tasks are. Here the contenders (the recommendation, the
re-scored top designs, the untrimmed winner and the baselines) are scored
under ``n`` perturbed copies of the scenario:

* each model's ``skill`` shifted by an independent uniform draw in ``±skill``
  (so the models' ranking can change, which is what would upset a choice);
* ``fault_rate`` multiplied by a log-uniform factor in ``[1/fault, fault]``;
* each model's prices multiplied by a log-uniform factor in ``[1/price, price]``;
* the difficulty mean shifted by a uniform draw in ``±difficulty``.

The ranges come from the scenario's ``robustness:`` section (how wrong its
author thinks its numbers may be), else the defaults of :class:`Perturbation`;
the ``robustness`` command's options override either.

Per design: how often it is the best of the contenders (``win_share``), how
often it is within ``near`` of the best (``near_best_share``; ``near`` is the
trim tolerance, the loss the user already accepted by trimming, so a trimmed
design that is never strictly best can still always be good enough), and
its regret, the score it leaves on the table against the best contender of
that scenario (``worst_regret`` = the largest). All contenders of a scenario
are scored in one batch on the same seeds, so the comparison is paired.

Each perturbed scenario is one trial (``stage: robustness``; its design is the
recommendation, its user attributes the perturbation and every contender's
score), written before the next scenario is scored: resume after a kill
picks up at the first scenario not yet recorded.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from swarmdesign.errors import SwarmdesignError
from swarmdesign.recommend.best import RECOMMENDATION_ATTR
from swarmdesign.recommend.scoring import (
    Scored,
    StageTrials,
    fingerprint,
    fresh_seeds,
    rescoring_evaluator,
    score_designs,
    scored_of,
)

if TYPE_CHECKING:
    import pandas as pd

    from swarmdesign.design import Design
    from swarmdesign.fitness import Scenario
    from swarmdesign.runner import Run

SEEDS_PER_SCENARIO = 2


@dataclass(frozen=True)
class Perturbation:
    """Half-widths / factors of the perturbations (see the module docstring)."""

    skill: float = 0.3
    fault: float = 2.0
    price: float = 1.5
    difficulty: float = 0.1

    @classmethod
    def of(cls, scenario: Scenario, **given: float | None) -> Perturbation:
        """The scenario's ``robustness:`` ranges (the defaults without one), with the ``given`` values that are
        not None on top: options on the command line win over the file."""
        section = scenario.robustness
        base = cls() if section is None else cls(section.skill, section.fault, section.price, section.difficulty)
        return base.updated(**given)

    def updated(self, **given: float | None) -> Perturbation:
        """These ranges with the ``given`` values that are not None."""
        return replace(self, **{k: float(v) for k, v in given.items() if v is not None})

    def check(self) -> Perturbation:
        for name, value, low in (("skill", self.skill, 0), ("fault", self.fault, 1), ("price", self.price, 1),
                                 ("difficulty", self.difficulty, 0)):  # fmt: skip
            if not (math.isfinite(value) and value >= low):
                raise SwarmdesignError(f"expected a number >= {low}, got {value}", field=f"--{name}")
        return self


def perturbed_scenarios(scenario: Scenario, n: int, ranges: Perturbation, seed: int) -> list[tuple[Scenario, dict]]:
    """``n`` perturbed copies of ``scenario`` with what was changed, from a seeded generator."""
    from swarmdesign.fitness import Scenario as _Scenario

    rng = np.random.default_rng(fresh_seeds(seed, "robustness", 1)[0])
    base = scenario.to_dict()
    out = []
    for _ in range(n):
        d = _deep(base)
        env, work = d.setdefault("environment", {}), d.setdefault("workload", {})
        what: dict[str, Any] = {}
        f = math.exp(rng.uniform(-math.log(ranges.fault), math.log(ranges.fault)))
        env["fault_rate"] = float(min(float(env.get("fault_rate", 0.0)) * f, 0.5))
        what["fault_x"] = f
        for name, m in (env.get("models") or {}).items():
            ds = rng.uniform(-ranges.skill, ranges.skill)
            px = math.exp(rng.uniform(-math.log(ranges.price), math.log(ranges.price)))
            m["skill"] = float(m.get("skill", 0.0)) + ds
            for k in ("input_usd_per_mtok", "output_usd_per_mtok"):
                if k in m:
                    m[k] = float(m[k]) * px
            what[f"skill_{name}"] = ds
            what[f"price_x_{name}"] = px
        diff = work.setdefault("difficulty", {"mean": 0.5, "spread": 0.2})
        dd = rng.uniform(-ranges.difficulty, ranges.difficulty)
        diff["mean"] = float(np.clip(float(diff.get("mean", 0.5)) + dd, 0.05, 0.95))
        what["difficulty_shift"] = dd
        out.append((_Scenario.from_dict(d, file="(perturbed scenario)"), what))
    return out


def contenders(run: Run) -> list[tuple[str, Design]]:
    """The designs compared under perturbation: recommendation first, then the other stage designs."""
    rec = run.trials.recommendation()
    if rec is None:
        raise SwarmdesignError("no recommendation yet: run the search to its end first", file=str(run.run_dir))
    trials = run.trials.trials()
    numbers = [rec["trial"], rec.get("winner_trial")]
    numbers += [c.get("trial") for c in rec.get("candidates", [])]
    numbers += [b.get("trial") for b in rec.get("baselines", [])]
    out, seen = [], set()
    for n in numbers:
        if not isinstance(n, int) or not 0 <= n < len(trials) or "design" not in trials[n].user_attrs:
            continue
        s = scored_of(trials[n])
        fp = fingerprint(s.design)
        if fp in seen:
            continue
        seen.add(fp)
        out.append((_label(trials[n], n, rec), s.design))
    return out


def _label(trial: Any, number: int, rec: dict) -> str:
    a = trial.user_attrs
    if number == rec["trial"]:
        return f"recommended (trial {number})"
    if a.get("rec_baseline"):
        base = next((b["name"] for b in rec.get("baselines", []) if b.get("trial") == number), a["rec_baseline"])
        return f"{base} (trial {number})"
    if number == rec.get("winner_trial"):
        return f"untrimmed winner (trial {number})"
    source = next((c["search_trial"] for c in rec.get("candidates", []) if c.get("trial") == number), "?")
    return f"search trial {source} re-scored (trial {number})"


def robustness_stage(
    run: Run, n: int, *, ranges: Perturbation | None = None, log: Callable[[str], None] = print
) -> dict[str, Any]:
    """Score the contenders under ``n`` perturbed scenarios (resumable); store the summary in the recommendation."""
    ranges = (ranges or Perturbation.of(run.scenario)).check()
    rec = run.trials.recommendation()
    if rec is None:
        raise SwarmdesignError("no recommendation yet: run the search to its end first", file=str(run.run_dir))
    named = contenders(run)
    labels, designs = [x[0] for x in named], [x[1] for x in named]
    evaluator = rescoring_evaluator(run, 1)
    seeds = fresh_seeds(int(run.config["seed"]), "robustness-seeds", SEEDS_PER_SCENARIO)
    stage = StageTrials(run)
    tag = f"{fingerprint(designs[0])}:{ranges.skill}:{ranges.fault}:{ranges.price}:{ranges.difficulty}"
    rows = []
    log(f"robustness: {len(designs)} designs under {n} perturbed scenarios")
    for i, (scenario, what) in enumerate(perturbed_scenarios(run.scenario, n, ranges, int(run.config["seed"]))):
        key = f"robustness:{tag}:{i}"
        done = stage.get(key)
        if done is not None and len(done.attrs.get("rec_scores", [])) == len(designs):
            scores = [math.nan if v is None else float(v) for v in done.attrs["rec_scores"]]
        else:
            scored = score_designs(evaluator, designs, scenario, seeds)
            scores = [s.mean for s in scored]
            first: Scored = scored[0]
            first.attrs.update(
                {"rec_scenario": i, "rec_perturbation": what, "rec_labels": labels,
                 "rec_scores": [None if not math.isfinite(v) else v for v in scores]}
            )  # fmt: skip
            stage.record("robustness", [(key, first)])
        rows.append(scores)
    near = float(rec.get("trim_tolerance") or 0.005)
    table = summarise(labels, np.array(rows, dtype=float), near=near)
    summary = {
        "scenarios": n,
        "ranges": asdict(ranges),
        "win_share": float(table.iloc[0]["win_share"]),
        "near": near,
        "near_best_share": float(table.iloc[0]["near_best_share"]),
        "worst_regret": float(table.iloc[0]["worst_regret"]),
        "table": table.to_dict("records"),
    }
    rec = {**rec, "robustness": _finite(summary)}
    run.trials.set_study_attr(RECOMMENDATION_ATTR, rec)
    run.write_outputs()  # flushes, and stamps trials.csv against the journal as it now stands
    return rec


def summarise(labels: list[str], scores: np.ndarray, *, near: float = 0.005) -> pd.DataFrame:
    """Per design: mean score, share of scenarios where it is best (or within ``near`` of it), mean and worst
    regret; ``scores`` has shape ``(n_scenarios, n_designs)``."""
    import pandas as pd

    best = np.nanmax(scores, axis=1, keepdims=True)
    regret = best - scores
    winners = np.nanargmax(np.where(np.isfinite(scores), scores, -np.inf), axis=1)
    win = np.array([(winners == j).mean() for j in range(scores.shape[1])])
    return pd.DataFrame(
        {
            "design": labels,
            "mean_score": np.nanmean(scores, axis=0),
            "win_share": win,
            "near_best_share": (regret <= near + 1e-12).mean(axis=0),
            "mean_regret": np.nanmean(regret, axis=0),
            "worst_regret": np.nanmax(regret, axis=0),
        }
    )


def _deep(d: Any) -> Any:
    import copy

    return copy.deepcopy(d)


def _finite(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):
        return _finite(value.item())
    return value


__all__ = ["Perturbation", "contenders", "perturbed_scenarios", "robustness_stage", "summarise"]
