"""The swarmagentic optimizer through the runner, offline with the fake provider."""

from __future__ import annotations

import json

import pytest
from llm_helpers import design

from swarmdesign.fitness import Scenario
from swarmdesign.llm import flaws as F
from swarmdesign.optimizers import optimizer_names, register_optimizer
from swarmdesign.optimizers.swarmagentic import SwarmAgenticOptimizer, evaluate_decoded
from swarmdesign.runner import Run, RunSettings
from swarmdesign.space import SearchSpace


def space(model: str = "fake/skill-0.4") -> SearchSpace:
    return SearchSpace.from_dict(
        {
            "swarmdesign_space": 1,
            "name": "tiny",
            "models": [model],
            "roles": [
                {"name": "solver", "archetype": "solver", "count": {"min": 1, "max": 3}, "prompt": "Solve it."},
                {"name": "reviewer", "archetype": "reviewer", "count": {"min": 0, "max": 1}, "prompt": "Check it."},
            ],
            "topology": {"kinds": ["independent"]},
            "coordination": {"redundancy": {"min": 1, "max": 3}, "review_rounds": {"min": 0, "max": 1}},
        }
    )


def ensure_registered() -> None:
    if "swarmagentic" not in optimizer_names():  # names() loads the built-ins first
        register_optimizer("swarmagentic", SwarmAgenticOptimizer)


def start(tmp_path, llm: dict, *, population=2, budget=6, sp=None, **opt) -> Run:
    ensure_registered()
    sc = Scenario.model_validate({"name": "t", "objectives": [{"name": "quality"}], "llm": llm})
    settings = RunSettings(
        space=sp or space(),
        scenario=sc,
        optimizer="swarmagentic",
        optimizer_params={"population": population, **opt},
        evaluator="llm",
        budget=budget,
        seed=3,
        batch_size=population,
        out=tmp_path / "runs",
        name="r",
    )
    run = Run.create(settings)
    run.evaluator.trace_dir = str(run.run_dir)
    run.optimizer.bind_run(run.run_dir)
    return run


def test_policies_change_in_response_to_recorded_flaws(tmp_path, fake):
    run = start(tmp_path, {"n_tasks": 6})
    run.execute(batch_executor=evaluate_decoded)
    trials = run.study.get_trials()
    assert len(trials) == 6
    gen0 = [t for t in trials if t.user_attrs["generation"] == 0]
    gen1 = [t for t in trials if t.user_attrs["generation"] == 1]
    assert all(json.loads(t.user_attrs["failures"]) for t in gen0)  # the feedback is in the study
    for t in gen1:
        adjustments = json.loads(t.user_attrs["adjustments"])
        assert any(a["action"] == "rewrite_policy" and a["flaw"] == "deficient_role_policy" for a in adjustments)
        policy = json.loads(t.user_attrs["prompts"])["solver"]
        assert policy != "Solve it."
        assert json.loads(t.user_attrs["design"])["roles"][0]["prompt"] == policy  # evaluated with it
    # the fake rewards a "step by step" policy: the language move raised quality
    assert max(t.values[0] for t in gen1) > max(t.values[0] for t in gen0)
    traced = [json.loads(x) for x in (run.run_dir / "llm_traces.jsonl").read_text().splitlines()]
    steps = {r["step"] for r in traced if r["type"] == "swarmagentic"}
    assert {"flaws", "velocity", "policy:solver"} <= steps
    assert all(r["messages"] and "answer" in r for r in traced if r.get("step") == "velocity")


def test_structural_adjustments_move_the_position(tmp_path, fake):
    run = start(tmp_path, {"n_tasks": 6})
    run.execute(batch_executor=evaluate_decoded)
    later = [t for t in run.study.get_trials() if t.user_attrs["generation"] >= 1]
    applied = [a for t in later for a in json.loads(t.user_attrs["adjustments"])]
    moved = [a for a in applied if a["action"] in ("enable_role", "add_review")]
    assert moved and all(a["how"].startswith("position") for a in moved)


def test_resume_rebuilds_the_same_state_from_the_study(tmp_path, fake):
    run = start(tmp_path, {"n_tasks": 4}, budget=4)
    run.execute(batch_executor=evaluate_decoded)
    state = ([dict(p) for p in run.optimizer.prompts], run.optimizer.positions.copy(), run.optimizer.failed)
    calls = fake.calls
    reopened = Run.open(run.run_dir)
    proposals = reopened.optimizer.ask(reopened.study, 2)
    assert fake.calls == calls  # replay used the recorded prompts, not new LLM calls
    assert [json.loads(p.attrs["prompts"]) for p in proposals] == state[0]
    assert reopened.optimizer.failed == state[2]


def test_failed_adjustments_are_not_repeated():
    adj = F.Adjustment("rewrite_policy", "solver", "wrong", "deficient_role_policy")
    other = F.Adjustment("add_review", "review_rounds", "unchecked", "missing_workflow_step")

    def ask(system, user, tag):
        assert "rewrite_policy:solver" in user  # the failure memory is shown to the LLM
        return "ADJUST: 1"

    chosen = F.velocity([], [adj, other], {adj.key}, 0.5, 0.6, ask)
    assert chosen == [other]


def test_flaw_parsing_keeps_only_typed_flaws_on_known_roles():
    d = design("d", [{"name": "solver", "archetype": "solver"}])
    text = (
        "FLAW: deficient_role_policy | solver | sloppy\nFLAW: made_up | solver | x\n"
        "FLAW: redundant_role | ghost | y\nFLAW: missing_role | reviewer | nobody checks\n"
    )
    assert [(f.type, f.role) for f in F.parse_flaws(text, d)] == [
        ("deficient_role_policy", "solver"),
        ("missing_role", "reviewer"),
    ]


def test_rule_flaws_need_no_llm():
    d = design("d", [{"name": "solver", "archetype": "solver"}])
    failures = [{"steps": [{"role": "solver", "kind": "produce", "said": "I think 5", "correct": False}]}]
    types = {f.type for f in F.rule_flaws(d, failures)}
    assert types == {"inappropriate_output", "missing_workflow_step"}


def test_unusable_policy_answer_falls_back_to_an_amendment():
    adj = F.Adjustment("rewrite_policy", "solver", "no ANSWER line", "inappropriate_output")
    policy, how = F.rewritten_policy("Solve it.", adj, "solver", lambda *a: "???")
    assert how == "amendment" and "ANSWER" in policy and policy.startswith("Solve it.")


def test_hyperparameters_are_checked():
    with pytest.raises(ValueError):
        SwarmAgenticOptimizer(guidance=2.0)
    assert SwarmAgenticOptimizer(population=3, llm_model="fake/x").params()["llm_model"] == "fake/x"


def test_the_optimizer_calls_the_scenario_s_mapped_model_not_the_hosted_one(tmp_path, fake):
    # A space of hosted model names, a scenario that maps them to the offline fake provider:
    # the optimizer's own steps must go to the mapped model (no API key, no network).
    run = start(tmp_path, {"n_tasks": 6, "model_map": {"gpt-4o-mini": "fake/skill-0.6"}}, sp=space("gpt-4o-mini"))
    run.execute()
    steps = [json.loads(line) for line in (run.run_dir / "llm_traces.jsonl").read_text().splitlines()]
    models = {s["model"] for s in steps if "step" in s and "model" in s}
    assert models == {"fake/skill-0.6"}
    assert not [s for s in steps if s.get("error")]
