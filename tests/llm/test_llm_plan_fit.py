"""Planning calibrated from planned designs' traces: planned against plain attempts, paired by task."""

from __future__ import annotations

import pytest
from llm_helpers import design, solo

from swarmdesign.fitness import Scenario
from swarmdesign.llm import calibrate as cal
from swarmdesign.llm.evaluator import LLMEvaluator
from swarmdesign.llm.plan_fit import fit_planning, planning_statistics
from swarmdesign.llm.sim_probe import planned_attempt, quality, sim_params, single_agent
from swarmdesign.llm.trace_stats import Observations

MODEL = "fake/skill-0.5"
MODEL_RUN = "fake/gpt-4o-mini"


def _attempt(role: str, right: bool, user: str) -> dict:
    return {
        "kind": "produce",
        "tag": "attempt0",
        "role": role,
        "archetype": "solver",
        "model": MODEL,
        "correct": right,
        "messages": [{"role": "user", "content": user}],
        "response": "ANSWER: 1",
        "prompt_tokens": 10,
        "completion_tokens": 5,
    }


def _observations(plain: list[bool], first: list[bool], second: list[bool]) -> Observations:
    """A single design and a planned chain on the same tasks, with the given attempt outcomes per task."""
    chain = design(
        "planned_chain",
        [
            {"name": "planner", "archetype": "planner", "model": MODEL},
            {"name": "first", "archetype": "solver", "model": MODEL},
            {"name": "second", "archetype": "solver", "model": MODEL},
        ],
        "chain",
    )
    obs = Observations({"s": solo(MODEL), "c": chain}, {"s": [], "c": []})
    for t, (p, a, b) in enumerate(zip(plain, first, second, strict=True)):
        obs.tasks["s"].append({"task_id": f"t{t}", "verdict": p, "steps": [_attempt("solver", p, "Task: x")]})
        steps = [
            _attempt("first", a, "Task: x\nPlan:\nadd them"),
            _attempt("second", b, "Task: x\nPlan:\nadd them\nPrevious team member's answer: 3"),
        ]
        obs.tasks["c"].append({"task_id": f"t{t}", "verdict": b, "steps": steps})
    return obs


def test_planned_attempts_are_paired_with_plain_ones_and_relays_counted():
    plain = [True] * 8 + [False] * 2
    first = [True] * 4 + [False] * 6
    second = [True, False, False, False] + [False] * 5 + [True]
    obs = _observations(plain, first, second)
    stats = planning_statistics(obs, {f"t{t}" for t in range(10)})
    f = stats["planned"][MODEL]
    assert (f["planned"], f["plain"], f["tasks"], f["attempts"]) == (0.4, 0.8, 10, 10)
    relay = stats["relay"]
    assert relay["n"] == 10 and relay["received"] == 0.4 and relay["relayed"] == 0.2
    assert relay["kept"] == 0.25 and relay["fixed"] == pytest.approx(1 / 6)
    only_some = planning_statistics(obs, {"t0", "t9"})
    assert only_some["planned"][MODEL]["tasks"] == 2 and only_some["relay"]["n"] == 2


def _scenario() -> Scenario:
    return Scenario.model_validate({"name": "plan", "simulator": {"skill": {"task_mix": {"solver": 1.0}}}})


@pytest.mark.parametrize(("planned", "key"), [(0.36, "bad_plan_harm"), (0.6, "plan_relief")])
def test_the_simulated_planned_attempt_matches_the_traced_ratio(planned, key):
    base = _scenario()
    stats = {"planned": {MODEL: {"planned": planned, "plain": 0.4, "tasks": 50, "attempts": 50}}, "relay": None}
    changes: list[str] = []
    fitted = fit_planning(base, stats, changes, seed=0)
    dp = sim_params(fitted).decomposition
    assert getattr(dp, key) > 0
    assert (dp.plan_relief == 0) != (dp.bad_plan_harm == 0)
    ratio = quality(fitted, planned_attempt(MODEL), 0) / quality(fitted, single_agent(MODEL), 0)
    assert ratio == pytest.approx(planned / 0.4, abs=0.03)
    assert any(line.startswith(f"simulator.decomposition.{key}") for line in changes)


def test_without_planned_traces_planning_is_kept_and_said_so():
    base = _scenario()
    changes: list[str] = []
    stats = {"planned": {MODEL: {"planned": 0.1, "plain": 0.4, "tasks": 2, "attempts": 2}}, "relay": None}
    assert fit_planning(base, stats, changes) is base
    assert changes == ["simulator.decomposition: no traced planned attempts; planning left as it was"]


def test_calibrating_a_planned_run_fits_planning_through_the_real_evaluator(tmp_path):
    """On the fake provider a plan changes nothing: planned and plain attempts agree up to sampling noise, and
    the simulated planned attempt reproduces whatever ratio the traces show (or the nearest one it can)."""
    from swarmdesign.llm._litellm import import_litellm
    from swarmdesign.llm.fake import ensure_fake_provider

    ensure_fake_provider(import_litellm())
    roles = [{"name": "planner", "archetype": "planner", "count": 1}, {"name": "solver", "archetype": "solver"}]
    fanout = design("planned_fanout", [roles[0], {**roles[1], "count": 3}], "star", redundancy=3)
    for r in fanout.roles:
        assert r.model == MODEL_RUN
    sc = Scenario.model_validate(
        {"name": "p", "simulator": {"skill": {"task_mix": {"solver": 1.0}}}, "llm": {"n_tasks": 40}}
    )
    LLMEvaluator(trace_dir=str(tmp_path / "t"), cache_dir=str(tmp_path / "c")).evaluate([solo(), fanout], sc, seed=0)
    obs = cal.load_observations([tmp_path / "t"])
    ids = {r["task_id"] for recs in obs.tasks.values() for r in recs}
    fitted, changes, stats = cal.fit(sc, obs, ids)
    f = stats["planning"]["planned"][MODEL_RUN]
    assert f["tasks"] == 40 and f["attempts"] == 120
    assert abs(f["planned"] - f["plain"]) < 0.2
    dp = sim_params(fitted).decomposition
    ratio = quality(fitted, planned_attempt(MODEL_RUN), 0) / quality(fitted, single_agent(MODEL_RUN), 0)
    assert ratio == pytest.approx(f["planned"] / f["plain"], abs=0.03) or 1.0 in (dp.plan_relief, dp.bad_plan_harm)
    assert sim_params(fitted).propagation.hub_catch == 0
    assert any(c.startswith("simulator.decomposition.") for c in changes)
