"""Each topology and coordination setting runs the steps the workflow documents."""

from __future__ import annotations

from collections import Counter

import pytest
from llm_helpers import design, scenario

from swarmdesign.llm.evaluator import LLMEvaluator
from swarmdesign.llm.traces import read_traces

S = {"name": "solver", "archetype": "solver"}


def steps_of(tmp_path, d, **llm):
    LLMEvaluator(trace_dir=str(tmp_path)).evaluate([d], scenario(n_tasks=1, **llm), seed=0)
    rec = next(r for r in read_traces([tmp_path]) if r["type"] == "task")
    return rec, Counter(s["stage"] for s in rec["steps"])


def test_single(tmp_path, fake):
    _, stages = steps_of(tmp_path, design("d", [dict(S)]))
    assert stages == {"produce": 1}


def test_star_planner_decomposes_and_producers_see_the_plan(tmp_path, fake):
    d = design("d", [{"name": "lead", "archetype": "planner"}, dict(S, count=2)], "star", redundancy=2)
    rec, stages = steps_of(tmp_path, d)
    assert stages == {"plan": 1, "produce": 2}
    produce = [s for s in rec["steps"] if s["stage"] == "produce"]
    assert all("Plan:" in s["messages"][1]["content"] for s in produce)


def test_independent_ignores_planner(tmp_path, fake):
    d = design("d", [{"name": "lead", "archetype": "planner"}, dict(S)], "independent")
    rec, stages = steps_of(tmp_path, d)
    assert "plan" not in stages and any("not consulted" in n for n in rec["notes"])


def test_chain_runs_producers_in_sequence(tmp_path, fake):
    d = design("d", [dict(S), {"name": "coder", "archetype": "coder"}], "chain")
    rec, _ = steps_of(tmp_path, d)
    second = next(s for s in rec["steps"] if s["role"] == "coder")
    assert "Previous team member's answer" in second["messages"][1]["content"]


@pytest.mark.parametrize(("kind", "peers"), [("mesh", 2), ("ring", 1)])
def test_debate_round(tmp_path, fake, kind, peers):
    rec, stages = steps_of(tmp_path, design("d", [dict(S, count=3)], kind, redundancy=3))
    assert stages == {"produce": 3, "debate": 3}
    debate = next(s for s in rec["steps"] if s["stage"] == "debate")
    assert debate["messages"][1]["content"].count("\n- ") == peers


def test_judge_aggregation_and_aggregator(tmp_path, fake):
    roles = [dict(S, count=3), {"name": "j", "archetype": "judge"}, {"name": "agg", "archetype": "aggregator"}]
    d = design("d", roles, "independent", redundancy=3, aggregation="judge")
    rec, stages = steps_of(tmp_path, d)
    assert stages == {"produce": 3, "aggregate": 1, "merge": 1}
    assert rec["output"] == next(s for s in rec["steps"] if s["stage"] == "merge")["response"]


def test_review_rounds_send_back_for_revision(tmp_path, fake):
    reviewer = {"name": "rev", "archetype": "reviewer", "model": "fake/skill-1.0"}
    d = design("d", [dict(S, model="fake/skill-0.0"), reviewer], "chain", review_rounds=2)
    _rec, stages = steps_of(tmp_path, d)
    assert stages["review"] >= 1 and stages["revise"] >= 1  # a perfect reviewer catches a hopeless solver


def test_review_rounds_without_checker_self_check(tmp_path, fake):
    rec, stages = steps_of(tmp_path, design("d", [dict(S)], "independent", review_rounds=1))
    assert stages["review"] == 1 and any("checks itself" in n for n in rec["notes"])


def test_heterogeneity_gives_distinct_approaches(tmp_path, fake):
    rec, _ = steps_of(tmp_path, design("d", [dict(S, count=4)], "independent", redundancy=4, heterogeneity=1.0))
    systems = {s["messages"][0]["content"] for s in rec["steps"]}
    assert len(systems) == 4


def test_role_prompt_is_the_policy(tmp_path, fake):
    rec, _ = steps_of(tmp_path, design("d", [dict(S, prompt="Always double-check.")]))
    assert "Always double-check." in rec["steps"][0]["messages"][0]["content"]
