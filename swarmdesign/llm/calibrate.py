"""Fit the simulator's parameters to real traces, so it predicts designs it never ran.

The targets come from :mod:`swarmdesign.llm.trace_stats`; every parameter is
fitted *through the simulator's own curves* (bisection or a grid on the
simulator's output, or on its skill-against-difficulty curve), so the fit
holds whatever form the simulator gives a mechanism:

* ``environment.models[m].skill`` - the single agent's simulated quality
  equals model ``m``'s real single-attempt accuracy; ``seconds_per_call``;
* ``simulator.voting.wrong_answer_concentration`` - how often two wrong
  answers agree; then ``correlation_same_model`` - the simulated quality of a
  ``k``-vote of one model equals the real plurality accuracy over
  ``k``-subsets of that model's attempts on each item. This is what carries
  the per-item correctness distribution (Chen et al. 2024): items a model
  usually gets wrong make votes worse, items it usually gets right better.
  Without items of three or more attempts, the pairwise correlation is used;
* ``simulator.review``: per checker archetype the ``detection_bonus`` at which
  the simulator's catch rate equals the real one, and ``false_alarm_by_checker``;
  a producer checking its own work (review rounds without a checker) sets
  ``self_review_detection`` / ``self_review_false_alarm``;
* ``simulator.voting.judge_bonus`` - a judge's real share of right picks;
* ``simulator.decomposition`` - what reading a plan does to an attempt, from
  planned against plain attempts on the same tasks (:mod:`swarmdesign.llm.plan_fit`);
  ``simulator.propagation.hub_catch`` is 0, because the ``llm`` workflow's
  coordinators plan but never check the producers' reports;
* token sizes per call kind and ``environment.message_tokens``.

Models are the ones that really answered: the design's model names go
through the scenario's ``llm.model_map`` (the mapping the ``llm`` evaluator
uses) and what the traces recorded, and every mapped name gets the fitted
model's figures, so the calibrated scenario predicts any design of the space
for the model that would really run it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from swarmdesign.llm.holdout import errors, mapped, predictions, spearman, token_targets
from swarmdesign.llm.plan_fit import fit_planning, planning_statistics
from swarmdesign.llm.sim_probe import bisect as _bisect
from swarmdesign.llm.sim_probe import quality as _quality
from swarmdesign.llm.sim_probe import sim_params as _sim_params
from swarmdesign.llm.sim_probe import single_agent
from swarmdesign.llm.sim_probe import with_simulator as _with_simulator
from swarmdesign.llm.trace_stats import (
    MIN_OBSERVATIONS,
    Observations,
    item_histogram,
    load_observations,
    split_tasks,
    statistics,
)

if TYPE_CHECKING:
    import pandas as pd

    from swarmdesign.design import Design
    from swarmdesign.fitness import Scenario

__all__ = [
    "Observations",
    "calibrate",
    "errors",
    "fit",
    "fit_skill",
    "item_histogram",
    "leave_one_design_out",
    "load_observations",
    "model_aliases",
    "predictions",
    "spearman",
    "split_tasks",
    "statistics",
    "token_targets",
    "with_model",
]

SKILL_BOUNDS = (-8.0, 8.0)
BONUS_BOUNDS = (-6.0, 6.0)
RHO_GRID = tuple(round(x, 3) for x in np.linspace(0.0, 0.95, 39))


def model_aliases(scenario: Scenario, obs: Observations | None = None) -> dict[str, str]:
    """Design model name -> the model that really answers: ``llm.model_map``, overridden by what the traces recorded.

    The traces win where both speak: they say which model produced the
    figures being fitted.
    """
    out: dict[str, str] = {}
    if scenario.llm is not None:
        from swarmdesign.llm.settings import validate_llm_section

        out.update(validate_llm_section(scenario.llm).model_map)
    if obs is not None:
        for did, recs in obs.tasks.items():
            design = obs.designs[did]
            for r in recs[:3]:
                for s in r["steps"]:
                    if s.get("model"):
                        out[design.role(s["role"]).model] = str(s["model"])
    return {k: v for k, v in out.items() if k != v}


def vote_probe(model: str, k: int) -> Design:
    from swarmdesign.design import Design

    return Design.model_validate(
        {
            "name": f"probe-vote{k}",
            "roles": [{"name": "solver", "archetype": "solver", "count": k, "model": model}],
            "topology": {"kind": "independent"},
            "coordination": {"redundancy": k, "aggregation": "majority_vote"},
        }
    )


def fit_skill(scenario: Scenario, model: str, target: float, *, seed: int = 0) -> float:
    """Skill of ``model`` at which the simulator's single-agent quality is ``target``."""
    probe = single_agent(model)
    return _bisect(lambda s: _quality(with_model(scenario, model, skill=s), probe, seed), target, *SKILL_BOUNDS)


def with_model(scenario: Scenario, model: str, **fields: float) -> Scenario:
    from swarmdesign.fitness import Scenario

    data = scenario.to_dict()
    models = data["environment"].setdefault("models", {})
    spec = dict(models.get(model, scenario.model(model).model_dump()))
    spec.update(fields)
    models[model] = spec
    return Scenario.from_dict(data)


def _item_success(scenario: Scenario, ability: float, spread: float | None = None) -> np.ndarray:
    """The simulator's success of an agent of ``ability`` (logits) on 256 items of the workload's difficulty."""
    from swarmdesign.sim.skill import difficulty_draws, success_probability

    sk = _sim_params(scenario).skill
    difficulty = scenario.workload.difficulty
    if spread is not None:
        difficulty = difficulty.model_copy(update={"spread": spread})
    alpha, beta = difficulty.beta_params()
    d = difficulty_draws(np.random.default_rng(0), 256, alpha, beta)
    return success_probability(np.array(ability), d, sk.slope, sk.center)


def mean_success(scenario: Scenario, ability: float) -> float:
    """The simulator's success of an agent of ``ability``, averaged over the workload's difficulty."""
    return float(_item_success(scenario, ability).mean())


def item_correlation(scenario: Scenario, accuracy: float, spread: float) -> float:
    """Correlation of two attempts' correctness on one item that difficulty alone gives (no latent rho).

    ``Var(p_d) / (p (1 - p))`` for the ability whose mean success is ``accuracy``:
    how spread out per-item correctness is in the simulator at this spread.
    """
    ability = _bisect(lambda a: float(_item_success(scenario, a, spread).mean()), accuracy, *SKILL_BOUNDS)
    p_items = _item_success(scenario, ability, spread)
    p = float(p_items.mean())
    return float(p_items.var()) / max(p * (1 - p), 1e-9)


def fit_spread(scenario: Scenario, accuracy: float, target: float) -> float | None:
    """``workload.difficulty.spread`` at which difficulty alone spreads per-item correctness as the traces do.

    Only lowered: when the real items are *less* alike in difficulty than the
    scenario says, no latent correlation (>= 0) can undo it, and votes would be
    predicted too weak. None when the scenario's spread is not too large.
    """
    current = scenario.workload.difficulty.spread
    if item_correlation(scenario, accuracy, current) <= target:
        return None
    mean = scenario.workload.difficulty.mean
    top = min(current, math.sqrt(mean * (1 - mean)) * 0.99)
    lo, hi = 0.005, top
    for _ in range(16):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if item_correlation(scenario, accuracy, mid) < target else (lo, mid)
    return round((lo + hi) / 2, 4)


def fit_bonus(scenario: Scenario, skill: float, rate: float) -> float:
    """Logit bonus on top of ``skill`` at which :func:`mean_success` equals ``rate``."""
    return _bisect(lambda b: mean_success(scenario, skill + b), rate, *BONUS_BOUNDS)


def fit_correlation(scenario: Scenario, model: str, k: int, target: float, *, seed: int = 0) -> float:
    """``correlation_same_model`` at which a simulated ``k``-vote of ``model`` scores ``target`` (grid search).

    A grid, not bisection: whether more correlation raises or lowers a vote
    depends on whether the model is mostly right or mostly wrong.
    """
    probe = vote_probe(model, k)
    cross = _sim_params(scenario).voting.correlation_cross_model

    def miss(rho: float) -> float:
        sc = _with_simulator(scenario, "voting", correlation_same_model=rho, correlation_cross_model=min(cross, rho))
        return abs(_quality(sc, probe, seed) - target)

    return min(RHO_GRID, key=miss)


def _skill_of(scenario: Scenario, model: str) -> float:
    return float(scenario.model(model).skill)


def calibrate(
    scenario: Scenario,
    stats: dict[str, Any],
    *,
    seed: int = 0,
    targets: list[tuple[Design, float]] | None = None,
    aliases: dict[str, str] | None = None,
) -> tuple[Scenario, list[str]]:
    """The calibrated scenario and one line per change made.

    ``aliases`` (design model -> real model, :func:`model_aliases`) copies each
    fitted model's figures to the names designs use for it; ``targets``
    (design, real tokens per task) also fits ``environment.message_tokens``.
    """
    aliases = aliases or {}
    changes: list[str] = []
    current = _fit_spread(_no_hub_verification(_one_item_per_task(scenario, changes), changes), stats, changes)
    for model, (p, n) in sorted(stats["accuracy"].items()):
        if n < MIN_OBSERVATIONS:
            changes.append(f"{model}: only {n} producer attempts, skill left as it was")
            continue
        skill = fit_skill(current, model, p, seed=seed)
        updates: dict[str, float] = {"skill": skill}
        if model in stats["seconds_per_call"]:
            updates["seconds_per_call"] = round(max(stats["seconds_per_call"][model], 1e-3), 3)
        current = with_model(current, model, **updates)
        changes.append(f"environment.models.{model}: skill {skill} (accuracy {p:.3f} over {n} attempts)")
    current = _copy_aliases(current, stats, aliases, changes)
    current = _fit_tokens(current, stats, changes)
    current = _fit_review(current, stats, changes)
    current = _fit_voting(current, stats, aliases, changes, seed)
    if "planning" in stats:
        current = fit_planning(current, stats["planning"], changes, seed=seed)
    if targets:
        current, line = fit_message_tokens(current, [(mapped(d, aliases), t) for d, t in targets], seed=seed)
        changes.append(line)
    return current, changes


def _one_item_per_task(scenario: Scenario, changes: list[str]) -> Scenario:
    """The ``llm`` evaluator answers each task whole: one item, no dependent sub-steps to split or hand off."""
    from swarmdesign.fitness import Scenario

    data = scenario.to_dict()
    wl = data["workload"]
    if wl.get("subtasks", 1) == 1 and wl.get("dependency_depth", 1) == 1:
        return scenario
    wl["subtasks"], wl["dependency_depth"] = 1, 1
    changes.append("workload.subtasks: 1, dependency_depth: 1 (a traced task is answered whole, as one item)")
    return Scenario.from_dict(data)


def _no_hub_verification(scenario: Scenario, changes: list[str]) -> Scenario:
    """The ``llm`` evaluator's coordinators plan but never read the producers' reports: no hub catches an error."""
    if _sim_params(scenario).propagation.hub_catch == 0:
        return scenario
    changes.append("simulator.propagation.hub_catch: 0 (a traced coordinator plans; it does not check reports)")
    return _with_simulator(scenario, "propagation", hub_catch=0.0)


def _fit_spread(scenario: Scenario, stats: dict[str, Any], changes: list[str]) -> Scenario:
    from swarmdesign.fitness import Scenario

    corr = stats["correlation"]
    acc = [v for v in stats["accuracy"].values() if v[1] >= MIN_OBSERVATIONS]
    if not corr or not acc:
        return scenario
    p = max(acc, key=lambda v: v[1])[0]
    if not 0.02 < p < 0.98:
        return scenario
    spread = fit_spread(scenario, p, corr[0])
    if spread is None:
        return scenario
    data = scenario.to_dict()
    data["workload"]["difficulty"]["spread"] = spread
    changes.append(
        f"workload.difficulty.spread: {spread} (per-item correctness as alike as the traces: attempt "
        f"correlation {corr[0]:.3f} over {corr[1]} pairs)"
    )
    return Scenario.from_dict(data)


def _copy_aliases(current: Scenario, stats: dict[str, Any], aliases: dict[str, str], changes: list[str]) -> Scenario:
    fitted = {m for m, (_, n) in stats["accuracy"].items() if n >= MIN_OBSERVATIONS}
    copied = []
    for name, real in sorted(aliases.items()):
        if real in fitted:
            spec = current.model(real).model_dump()
            current = with_model(current, name, **spec)
            copied.append(f"{name}->{real}")
    if copied:
        changes.append(f"environment.models: design names given the model that really runs them: {', '.join(copied)}")
    return current


def _fit_tokens(current: Scenario, stats: dict[str, Any], changes: list[str]) -> Scenario:
    from swarmdesign.fitness import Scenario

    data = current.to_dict()
    for key in ("input_tokens_per_step", "output_tokens_per_step"):
        if stats[key]:
            data["workload"][key] = max(1, round(stats[key]))
            changes.append(f"workload.{key}: {data['workload'][key]}")
    sim = data.setdefault("simulator", {})
    per_call = stats["tokens_per_call"]
    if per_call.get("produce"):
        step = per_call["produce"]
        shares = {("review", "review_token_share"): "check", ("decomposition", "plan_token_share"): "plan",
                  ("voting", "judge_token_share"): "judge"}  # fmt: skip
        for (section, key), kind in shares.items():
            if per_call.get(kind):
                share = round(min(max(per_call[kind] / step, 0.0), 20.0), 3)
                sim.setdefault(section, {})[key] = share
                changes.append(f"simulator.{section}.{key}: {share} (tokens per {kind} call / per producer call)")
    return Scenario.from_dict(data)


def _pooled(checkers: dict[str, Any], key: str, exclude: str) -> tuple[float, int] | None:
    """One rate over every checker kind but ``exclude`` (a stand-in for a kind never traced)."""
    hits = n = 0.0
    for who, fig in checkers.items():
        if who != exclude and fig[key]:
            hits += fig[key][0] * fig[key][1]
            n += fig[key][1]
    return (hits / n, int(n)) if n else None


def _with_stand_ins(checkers: dict[str, Any], changes: list[str]) -> dict[str, Any]:
    """Fill a checker kind with no traces from the others: the same models judging the same answers.

    A design with review rounds but no checker role lets its producer check
    itself; one with a reviewer asks the same model under another prompt. With
    traces of only one of the two, the other is predicted from it, not from
    the defaults.
    """
    out = dict(checkers)
    if not checkers:
        return out
    model = next(iter(checkers.values()))["model"]
    for who in ("self", "reviewer"):
        if who not in out or not (out[who]["caught"] and out[who]["false_reject"]):
            caught, rejected = _pooled(checkers, "caught", who), _pooled(checkers, "false_reject", who)
            if caught and rejected:
                out[who] = {"caught": caught, "false_reject": rejected, "model": model, "stand_in": True}
                changes.append(f"no traced '{who}' checks: fitted from the other checkers' {caught[1]} errors")
    return out


def _fit_review(current: Scenario, stats: dict[str, Any], changes: list[str]) -> Scenario:
    review: dict[str, Any] = {}
    bonus = dict(_sim_params(current).review.detection_bonus)
    false_alarm = dict(_sim_params(current).review.false_alarm_by_checker)
    for who, fig in sorted(_with_stand_ins(stats["checkers"], changes).items()):
        caught, rejected = fig["caught"], fig["false_reject"]
        if who == "self":
            if caught and caught[1] >= MIN_OBSERVATIONS:
                review["self_review_detection"] = round(caught[0], 3)
                changes.append(f"simulator.review.self_review_detection: {caught[0]:.3f} ({caught[1]} own errors)")
            if rejected and rejected[1] >= MIN_OBSERVATIONS:
                review["self_review_false_alarm"] = round(rejected[0], 3)
                changes.append(f"simulator.review.self_review_false_alarm: {rejected[0]:.3f} ({rejected[1]} right)")
            continue
        if caught and caught[1] >= MIN_OBSERVATIONS:
            bonus[who] = fit_bonus(current, _skill_of(current, fig["model"]), caught[0])
            changes.append(
                f"simulator.review.detection_bonus.{who}: {bonus[who]} (caught {caught[0]:.2f} of {caught[1]} errors)"
            )
        if rejected and rejected[1] >= MIN_OBSERVATIONS:
            false_alarm[who] = round(rejected[0], 3)
            changes.append(
                f"simulator.review.false_alarm_by_checker.{who}: {rejected[0]:.3f} (of {rejected[1]} right answers)"
            )
    review["detection_bonus"] = bonus
    review["false_alarm_by_checker"] = false_alarm
    current = _with_simulator(current, "review", **review)
    judge = stats.get("judge")
    if judge and judge["accuracy"][1] >= MIN_OBSERVATIONS and judge["model"]:
        value = fit_bonus(current, _skill_of(current, judge["model"]), judge["accuracy"][0])
        current = _with_simulator(current, "voting", judge_bonus=value)
        a, n = judge["accuracy"]
        changes.append(f"simulator.voting.judge_bonus: {value} (recognised a right candidate {a:.2f}, {n} picks)")
    return current


def _fit_voting(
    current: Scenario, stats: dict[str, Any], aliases: dict[str, str], changes: list[str], seed: int
) -> Scenario:
    if stats["wrong_agree"] and stats["wrong_agree"][1] >= MIN_OBSERVATIONS:
        value = round(min(max(stats["wrong_agree"][0], 0.01), 1.0), 3)
        current = _with_simulator(current, "voting", wrong_answer_concentration=value)
        changes.append(f"simulator.voting.wrong_answer_concentration: {value} (wrong pairs that agree)")
    votes = {key: v for key, v in stats["votes"].items() if v[1] >= MIN_OBSERVATIONS}
    rho: float | None = None
    if votes:  # the vote over the most attempts per item, on the best-observed model
        key = max(votes, key=lambda kk: (int(kk.rpartition("@")[2]), votes[kk][1]))
        model, _, k = key.rpartition("@")
        rho = fit_correlation(current, model, int(k), votes[key][0], seed=seed)
        changes.append(
            f"simulator.voting.correlation_same_model: {rho} (a simulated {k}-vote of {model} matches the real "
            f"{k}-subset vote accuracy {votes[key][0]:.3f} over {votes[key][1]} items)"
        )
    elif stats["correlation"]:
        rho = round(stats["correlation"][0], 3)
        changes.append(f"simulator.voting.correlation_same_model: {rho} (pairwise, {stats['correlation'][1]} pairs)")
    if rho is None:
        return current
    cross = _sim_params(current).voting.correlation_cross_model
    if stats.get("correlation_cross"):
        cross = stats["correlation_cross"][0]
    if len(set(aliases.values())) == 1 and set(aliases.values()) <= set(stats["accuracy"]):
        cross = rho  # every design model is one real model: "different" models are the same one
        changes.append("simulator.voting.correlation_cross_model: as same-model (all design models map to one)")
    return _with_simulator(current, "voting", correlation_same_model=rho, correlation_cross_model=min(cross, rho))


def fit_message_tokens(
    scenario: Scenario, targets: list[tuple[Design, float]], *, seed: int = 0
) -> tuple[Scenario, str]:
    """``environment.message_tokens`` minimising the mean relative error of tokens per task."""
    from swarmdesign.fitness import Scenario
    from swarmdesign.sim.evaluator import SimulatedEvaluator

    sim = SimulatedEvaluator(replicas=8)
    designs = [d for d, _ in targets]
    real = np.array([t for _, t in targets])

    def error(tokens: int) -> float:
        data = scenario.to_dict()
        data["environment"]["message_tokens"] = int(tokens)
        sc = Scenario.from_dict(data)
        predicted = sim.evaluate(designs, sc, seed=seed)["tokens"].to_numpy() / sc.workload.tasks
        return float(np.mean(np.abs(predicted - real) / real))

    grid = [0, 10, 25, 50, 100, 150, 200, 300, 500, 800, 1200, 2000]
    best = min(grid, key=error)
    data = scenario.to_dict()
    data["environment"]["message_tokens"] = best
    return Scenario.from_dict(data), f"environment.message_tokens: {best} (tokens per task error {error(best):.1%})"


def fit(base: Scenario, obs: Observations, keep: set[str], *, seed: int = 0) -> tuple[Scenario, list[str], dict]:
    """Calibrate ``base`` on the task ids ``keep`` of every design in ``obs``: (scenario, changes, statistics)."""
    stats = statistics(obs, keep)
    stats["planning"] = planning_statistics(obs, keep)
    aliases = model_aliases(base, obs)
    new, changes = calibrate(base, stats, seed=seed, targets=token_targets(obs, keep), aliases=aliases)
    return new, changes, stats


def leave_one_design_out(base: Scenario, obs: Observations, *, seed: int = 0) -> pd.DataFrame:
    """Per traced design: its real figures and the simulator's prediction, base and fitted on the *other* designs.

    The held-out design's traces take no part in its own fit: this is the
    error to expect on designs that were never run. Designs are predicted for
    the models that really ran them (:func:`model_aliases`).
    """
    import pandas as pd

    aliases = model_aliases(base, obs)
    rows = []
    for did in sorted(obs.tasks, key=lambda k: obs.designs[k].name):
        others = obs.restricted(k for k in obs.tasks if k != did)
        if not others.tasks:
            continue
        keep = {r["task_id"] for recs in others.tasks.values() for r in recs}
        fitted, _, _ = fit(base, others, keep, seed=seed)
        single = obs.restricted([did])
        ids = {r["task_id"] for r in single.tasks[did]}
        table = predictions(single, ids, {"base": base, "calibrated": fitted}, seed=seed, aliases=aliases)
        rows.append(table)
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
