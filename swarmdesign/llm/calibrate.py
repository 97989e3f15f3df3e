"""Fit the simulator's parameters to real traces, and measure how well it then predicts.

From the ``task`` records of ``llm_traces.jsonl`` files (and the ``design``
records that say which design produced them), on a *fit* share of the task
ids:

* ``environment.models[m].skill`` - per design model, the logit skill at
  which the simulator's single-agent quality equals the real single-attempt
  accuracy of that model's producer steps (found by bisection through the
  simulator itself, so it holds whatever the simulator's skill curve is);
* ``environment.models[m].seconds_per_call`` - mean latency of real calls;
* ``workload.input_tokens_per_step`` / ``output_tokens_per_step`` - mean
  prompt / completion tokens of a producer call; the review, plan and judge
  token shares - tokens of those calls relative to a producer call; and
  ``environment.message_tokens`` - by a grid search on tokens per task;
* ``simulator.review.detection_bonus[archetype]`` and ``false_alarm`` - how
  often checkers sent back wrong / right answers;
* ``simulator.voting.correlation_same_model`` - correlation of correctness
  between attempts on the same task, and ``wrong_answer_concentration`` - how
  often two wrong attempts agree.

Per-(archetype, model) producer accuracy is reported too. Then every traced
design is scored by the simulator under the base and the calibrated scenario
and compared with its real accuracy on the *held-out* task ids.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from swarmdesign.errors import SwarmdesignError
from swarmdesign.llm.tasks import vote_key
from swarmdesign.llm.traces import read_traces

if TYPE_CHECKING:
    import pandas as pd

    from swarmdesign.design import Design
    from swarmdesign.fitness import Scenario

MIN_OBSERVATIONS = 5
SKILL_BOUNDS = (-8.0, 8.0)


@dataclass
class Observations:
    """What the traces say, restricted to one set of task ids."""

    designs: dict[str, Design] = field(default_factory=dict)
    tasks: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))  # design_id -> records


def load_observations(paths: Iterable[str | Path]) -> Observations:
    from swarmdesign.design import Design

    obs = Observations()
    for rec in read_traces(paths):
        if rec.get("type") == "design":
            obs.designs[rec["design_id"]] = Design.from_dict(rec["design_yaml"])
        elif rec.get("type") == "task":
            obs.tasks[rec["design_id"]].append(rec)
    obs.tasks = {k: v for k, v in obs.tasks.items() if k in obs.designs}
    if not obs.tasks:
        raise SwarmdesignError("the traces hold no evaluated design (no 'design' and 'task' records)", field="TRACES")
    return obs


def split_tasks(obs: Observations, holdout: float, seed: int) -> tuple[set[str], set[str]]:
    ids = sorted({r["task_id"] for recs in obs.tasks.values() for r in recs})
    if holdout <= 0 or len(ids) < 2:
        return set(ids), set()
    order = np.random.default_rng(seed).permutation(len(ids))
    n_hold = min(max(1, round(holdout * len(ids))), len(ids) - 1)
    held = {ids[int(i)] for i in order[:n_hold]}
    return set(ids) - held, held


def _producer_steps(obs: Observations, keep: set[str]) -> Iterable[tuple[Design, dict[str, Any], dict[str, Any]]]:
    for did, recs in obs.tasks.items():
        design = obs.designs[did]
        for r in recs:
            if r["task_id"] not in keep:
                continue
            for s in r["steps"]:
                if s.get("error"):
                    continue
                yield design, r, s


def _logit(p: float) -> float:
    p = min(max(p, 1e-3), 1 - 1e-3)
    return math.log(p / (1 - p))


def statistics(obs: Observations, keep: set[str]) -> dict[str, Any]:
    """Raw figures from the traces (the calibration targets)."""
    acc: dict[str, list[bool]] = defaultdict(list)  # design model -> first-attempt correctness
    arch_acc: dict[tuple[str, str], list[bool]] = defaultdict(list)
    latency: dict[str, list[float]] = defaultdict(list)
    tokens_in, tokens_out = [], []
    kind_tokens: dict[str, list[float]] = defaultdict(list)  # produce / check / plan / judge -> tokens per call
    detect: dict[str, list[bool]] = defaultdict(list)
    false_alarm: list[bool] = []
    pairs_same, pairs_wrong_agree = [], []
    for design, rec, s in _producer_steps(obs, keep):
        model = design.role(s["role"]).model
        if not s.get("cached"):
            latency[model].append(float(s["latency_s"]))
        used = int(s["prompt_tokens"]) + int(s["completion_tokens"])
        if s["kind"] == "judge":  # the simulator sizes a judge call per attempt it reads
            used = used / max(s["messages"][-1]["content"].count("Candidate "), 1)
        kind_tokens[s["kind"]].append(used)
        if s["kind"] == "produce" and str(s.get("tag", "")).startswith("attempt") and "correct" in s:
            acc[model].append(bool(s["correct"]))
            arch_acc[(s["archetype"], model)].append(bool(s["correct"]))
            tokens_in.append(s["prompt_tokens"])
            tokens_out.append(s["completion_tokens"])
        if s["kind"] == "check":
            answer = s["messages"][-1]["content"].rsplit("Proposed answer:", 1)[-1].strip()
            right = vote_key(f"ANSWER: {answer}", rec["check"]) == vote_key(f"ANSWER: {rec['expected']}", rec["check"])
            sent_back = "revise" in s["response"].lower()
            (false_alarm if right else detect[s["archetype"]]).append(sent_back)
    for recs in obs.tasks.values():
        for r in recs:
            if r["task_id"] not in keep:
                continue
            attempts = [s for s in r["steps"] if str(s.get("tag", "")).startswith("attempt") and "correct" in s]
            for i in range(len(attempts)):
                for j in range(i + 1, len(attempts)):
                    a, b = attempts[i], attempts[j]
                    pairs_same.append((a["correct"], b["correct"]))
                    if not a["correct"] and not b["correct"]:
                        ka, kb = vote_key(a["response"], r["check"]), vote_key(b["response"], r["check"])
                        pairs_wrong_agree.append(bool(ka) and ka == kb)
    return {
        "accuracy": {m: (float(np.mean(v)), len(v)) for m, v in acc.items()},
        "accuracy_by_archetype": {f"{a}@{m}": (float(np.mean(v)), len(v)) for (a, m), v in arch_acc.items()},
        "seconds_per_call": {m: float(np.mean(v)) for m, v in latency.items() if v},
        "input_tokens_per_step": float(np.mean(tokens_in)) if tokens_in else None,
        "output_tokens_per_step": float(np.mean(tokens_out)) if tokens_out else None,
        "tokens_per_call": {k: float(np.mean(v)) for k, v in kind_tokens.items() if v},
        "detection": {a: (float(np.mean(v)), len(v)) for a, v in detect.items()},
        "false_alarm": (float(np.mean(false_alarm)), len(false_alarm)) if false_alarm else None,
        "correlation": _pair_correlation(pairs_same),
        "wrong_agree": (float(np.mean(pairs_wrong_agree)), len(pairs_wrong_agree)) if pairs_wrong_agree else None,
    }


def _pair_correlation(pairs: list[tuple[bool, bool]]) -> tuple[float, int] | None:
    """Intra-class correlation of correctness between two attempts at one task."""
    if len(pairs) < MIN_OBSERVATIONS:
        return None
    x = np.array(pairs, dtype=float)
    p = x.mean()
    if p <= 0 or p >= 1:
        return None
    rho = (float((x[:, 0] * x[:, 1]).mean()) - p * p) / (p * (1 - p))
    return min(max(rho, 0.0), 1.0), len(pairs)


def single_agent(model: str) -> Design:
    from swarmdesign.design import Design

    return Design.model_validate(
        {
            "name": "probe",
            "roles": [{"name": "solver", "archetype": "solver", "count": 1, "model": model}],
            "topology": {"kind": "single"},
        }
    )


def fit_skill(scenario: Scenario, model: str, target: float, *, seed: int = 0) -> float:
    """Skill of ``model`` at which the simulator's single-agent quality is ``target`` (bisection)."""
    from swarmdesign.sim import SimulatedEvaluator

    sim = SimulatedEvaluator()
    probe = single_agent(model)
    lo, hi = SKILL_BOUNDS

    def quality(skill: float) -> float:
        sc = with_model(scenario, model, skill=skill)
        return float(sim.evaluate([probe], sc, seed=seed).iloc[0]["quality"])

    if quality(lo) >= target:
        return lo
    if quality(hi) <= target:
        return hi
    for _ in range(22):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if quality(mid) < target else (lo, mid)
    return round((lo + hi) / 2, 3)


def with_model(scenario: Scenario, model: str, **fields: float) -> Scenario:
    from swarmdesign.fitness import Scenario

    data = scenario.to_dict()
    models = data["environment"].setdefault("models", {})
    spec = dict(models.get(model, scenario.model(model).model_dump()))
    spec.update(fields)
    models[model] = spec
    return Scenario.from_dict(data)


def calibrate(
    scenario: Scenario,
    stats: dict[str, Any],
    *,
    seed: int = 0,
    targets: list[tuple[Design, float]] | None = None,
) -> tuple[Scenario, list[str]]:
    """The calibrated scenario and one line per change made.

    ``targets`` (design, real tokens per task) on the fit tasks also fits
    ``environment.message_tokens`` (see :func:`token_targets`).
    """
    from swarmdesign.fitness import Scenario

    changes: list[str] = []
    current = scenario
    for model, (p, n) in sorted(stats["accuracy"].items()):
        if n < MIN_OBSERVATIONS:
            changes.append(f"{model}: only {n} producer attempts, skill left as it was")
            continue
        skill = fit_skill(current, model, p, seed=seed)
        updates: dict[str, float] = {"skill": skill}
        if model in stats["seconds_per_call"]:
            updates["seconds_per_call"] = round(max(stats["seconds_per_call"][model], 1e-3), 3)
        current = with_model(current, model, **updates)
        changes.append(f"environment.models.{model}: skill {skill} (accuracy {p:.3f} over {n} attempts), {updates}")
    data = current.to_dict()
    for key in ("input_tokens_per_step", "output_tokens_per_step"):
        if stats[key]:
            data["workload"][key] = max(1, round(stats[key]))
            changes.append(f"workload.{key}: {data['workload'][key]}")
    sim = data.setdefault("simulator", {})
    review = sim.setdefault("review", {})
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
    for arch, (rate, n) in stats["detection"].items():
        if n >= MIN_OBSERVATIONS:
            base_p = np.mean([p for p, _ in stats["accuracy"].values()]) if stats["accuracy"] else 0.5
            bonus = round(min(max(_logit(rate) - _logit(float(base_p)), -5.0), 5.0), 3)
            review.setdefault("detection_bonus", {})[arch] = bonus
            changes.append(f"simulator.review.detection_bonus.{arch}: {bonus} (caught {rate:.2f} of {n} errors)")
    if stats["false_alarm"] and stats["false_alarm"][1] >= MIN_OBSERVATIONS:
        review["false_alarm"] = round(stats["false_alarm"][0], 3)
        changes.append(f"simulator.review.false_alarm: {review['false_alarm']}")
    voting = sim.setdefault("voting", {})
    if stats["correlation"]:
        cross = current_voting(current).correlation_cross_model
        voting["correlation_same_model"] = round(max(stats["correlation"][0], cross), 3)
        changes.append(f"simulator.voting.correlation_same_model: {voting['correlation_same_model']}")
    if stats["wrong_agree"] and stats["wrong_agree"][1] >= MIN_OBSERVATIONS:
        voting["wrong_answer_concentration"] = round(min(max(stats["wrong_agree"][0], 0.01), 1.0), 3)
        changes.append(f"simulator.voting.wrong_answer_concentration: {voting['wrong_answer_concentration']}")
    calibrated = Scenario.from_dict(data)
    if targets:
        calibrated, line = fit_message_tokens(calibrated, targets, seed=seed)
        changes.append(line)
    return calibrated, changes


def fit_message_tokens(
    scenario: Scenario, targets: list[tuple[Design, float]], *, seed: int = 0
) -> tuple[Scenario, str]:
    """``environment.message_tokens`` minimising the mean relative error of tokens per task."""
    from swarmdesign.fitness import Scenario
    from swarmdesign.sim import SimulatedEvaluator

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


def token_targets(obs: Observations, keep: set[str]) -> list[tuple[Design, float]]:
    """(design, real tokens per task) over the tasks in ``keep``."""
    out = []
    for did, recs in obs.tasks.items():
        chosen = [r["prompt_tokens"] + r["completion_tokens"] for r in recs if r["task_id"] in keep]
        if chosen:
            out.append((obs.designs[did], float(np.mean(chosen))))
    return out


def current_voting(scenario: Scenario) -> Any:
    from swarmdesign.sim.params import validate_simulator_section

    return validate_simulator_section(scenario.simulator).voting


def predictions(obs: Observations, keep: set[str], scenarios: dict[str, Scenario], *, seed: int = 0) -> pd.DataFrame:
    """Real accuracy and tokens per task on ``keep`` vs the simulator's, one row per design."""
    import pandas as pd

    from swarmdesign.sim import SimulatedEvaluator

    sim = SimulatedEvaluator()
    rows = []
    for did, recs in sorted(obs.tasks.items(), key=lambda kv: obs.designs[kv[0]].name):
        chosen = [r for r in recs if r["task_id"] in keep]
        if not chosen:
            continue
        design = obs.designs[did]
        row: dict[str, Any] = {
            "design": design.name,
            "tasks": len(chosen),
            "real_quality": float(np.mean([r["verdict"] for r in chosen])),
            "real_tokens_per_task": float(np.mean([r["prompt_tokens"] + r["completion_tokens"] for r in chosen])),
        }
        for label, sc in scenarios.items():
            m = sim.evaluate([design], sc, seed=seed).iloc[0]
            row[f"{label}_quality"] = float(m["quality"])
            row[f"{label}_tokens_per_task"] = float(m["tokens"]) / sc.workload.tasks
        rows.append(row)
    return pd.DataFrame(rows)


def errors(table: pd.DataFrame, labels: Iterable[str]) -> dict[str, dict[str, float]]:
    """Mean absolute error of quality (points) and tokens (relative) per scenario label."""
    out = {}
    for label in labels:
        q = (table[f"{label}_quality"] - table["real_quality"]).abs()
        t = (table[f"{label}_tokens_per_task"] - table["real_tokens_per_task"]).abs() / table["real_tokens_per_task"]
        out[label] = {"quality_mae": float(q.mean()), "tokens_mape": float(t.mean())}
    return out
