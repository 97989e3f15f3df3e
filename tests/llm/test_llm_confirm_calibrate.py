"""Multi-fidelity confirmation and calibration, offline (simulator + fake provider)."""

from __future__ import annotations

import pytest
from llm_helpers import design, solo, voters

from swarmdesign.fitness import Scenario
from swarmdesign.llm import calibrate as cal
from swarmdesign.llm.confirm import CONFIRM_TABLE, confirm_run
from swarmdesign.llm.evaluator import LLMEvaluator
from swarmdesign.resources import resolve
from swarmdesign.runner import Run, RunSettings
from swarmdesign.space import SearchSpace


def test_confirm_top_k_side_by_side(tmp_path, fake):
    space = SearchSpace.load(resolve("qa_ensemble", "search_spaces", option="SPACE"))
    scenario = Scenario.load(resolve("math_qa", "fitness", option="--fitness"))
    settings = RunSettings(space=space, scenario=scenario, optimizer="random", budget=12, seed=1, out=tmp_path)
    run = Run.create(settings)
    run.execute()
    offline = Scenario.load(resolve("llm_offline", "fitness", option="--confirm-fitness"))
    table = confirm_run(run.run_dir, 3, offline.model_copy(update={"llm": {**offline.llm, "n_tasks": 5}}))
    assert len(table) == 3
    for m in ("quality", "cost", "latency", "score"):
        assert {f"sim_{m}", f"llm_{m}"} <= set(table.columns)
    assert table["sim_quality"].between(0, 1).all() and table["llm_quality"].between(0, 1).all()
    assert (run.run_dir / CONFIRM_TABLE).exists() and (run.run_dir / "confirm" / "llm_traces.jsonl").exists()
    top = run.study.trials[int(table["trial"].iloc[0])]
    assert table["sim_score"].iloc[0] == pytest.approx(top.user_attrs["score"])


def test_confirm_needs_an_llm_scenario(tmp_path):
    from swarmdesign.errors import SwarmdesignError

    scenario = Scenario.model_validate({"name": "no-llm"})
    with pytest.raises(SwarmdesignError, match="llm"):
        confirm_run(tmp_path, 2, scenario)


def traced_runs(tmp_path, models=("fake/skill-0.3", "fake/skill-0.8")):
    """Real-format traces of several designs on 24 tasks, as a run would leave them."""
    out = tmp_path / "traces"
    llm = {"n_tasks": 24, "prices": {m: {"input_usd_per_mtok": 0.1, "output_usd_per_mtok": 0.4} for m in models}}
    sc = Scenario.model_validate({"name": "t", "llm": llm})
    designs = []
    for m in models:
        roles = [
            {"name": "solver", "archetype": "solver", "model": m},
            {"name": "rev", "archetype": "reviewer", "model": m},
        ]
        reviewed = design("rev-" + m, roles, "chain")
        designs += [solo(m).model_copy(update={"name": "solo-" + m}), voters(3, m), reviewed]
    LLMEvaluator(trace_dir=str(out)).evaluate(designs, sc, seed=0)
    return out


def test_calibration_fits_skill_and_predicts_held_out_runs_better(tmp_path, fake):
    traces = traced_runs(tmp_path)
    base = Scenario.model_validate({"name": "base"})
    obs = cal.load_observations([traces])
    fit, held = cal.split_tasks(obs, 0.3, seed=0)
    assert fit and held and not fit & held
    stats = cal.statistics(obs, fit)
    new, changes = cal.calibrate(base, stats, targets=cal.token_targets(obs, fit))
    weak, strong = new.model("fake/skill-0.3").skill, new.model("fake/skill-0.8").skill
    assert weak < strong
    assert new.workload.input_tokens_per_step == round(stats["input_tokens_per_step"])
    assert any("skill" in c for c in changes)
    table = cal.predictions(obs, held, {"base": base, "calibrated": new})
    err = cal.errors(table, ["base", "calibrated"])
    assert err["calibrated"]["quality_mae"] < err["base"]["quality_mae"]
    assert err["calibrated"]["tokens_mape"] < err["base"]["tokens_mape"]
    # the single agent's predicted quality tracks its real held-out accuracy
    solo_rows = table[table["design"].str.startswith("solo-")]
    assert (solo_rows["calibrated_quality"] - solo_rows["real_quality"]).abs().max() < 0.25
