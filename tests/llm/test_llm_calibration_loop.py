"""The calibration loop offline: traces of every design kind the ``llm`` evaluator runs, on the fake provider.

The fake provider answers right with a fixed probability per model and its
checkers and judges are right with the same probability, so the fitted figures
have known targets.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from llm_helpers import design, solo, voters

from swarmdesign import yamlio
from swarmdesign.fitness import Scenario
from swarmdesign.llm import calibrate as cal
from swarmdesign.llm.evaluator import LLMEvaluator
from swarmdesign.llm.trace_stats import plurality_right

MODEL = "gpt-4o-mini"  # as the bundled spaces name it; the scenario maps it to the fake model that runs
REAL = "fake/skill-0.45"
PRICE = {"input_usd_per_mtok": 0.1, "output_usd_per_mtok": 0.4}


def base_scenario() -> Scenario:
    return Scenario.model_validate(
        {
            "name": "base",
            "simulator": {"skill": {"task_mix": {"solver": 1.0}}},
            "llm": {"n_tasks": 14, "model_map": {MODEL: REAL, "gpt-4o": REAL}, "prices": {REAL: PRICE}},
        }
    )


def kinds() -> list:
    m = MODEL
    solver = {"name": "solver", "archetype": "solver", "model": m}
    return [
        solo(m),
        voters(3, m),
        voters(5, m),
        design("selfcheck", [dict(solver)], "independent", review_rounds=1),
        design("reviewed", [dict(solver), {"name": "rev", "archetype": "reviewer", "model": m}], "chain"),
        design(
            "judged",
            [{**solver, "count": 3}, {"name": "judge", "archetype": "judge", "model": m}],
            "independent",
            redundancy=3,
            aggregation="judge",
        ),
    ]


@pytest.fixture(scope="module")
def traces(tmp_path_factory):
    from swarmdesign.llm._litellm import import_litellm
    from swarmdesign.llm.fake import make_fake_provider, register_fake_provider

    litellm = import_litellm()
    register_fake_provider(litellm, make_fake_provider(litellm))
    root = tmp_path_factory.mktemp("loop")
    out = root / "run1"
    LLMEvaluator(trace_dir=str(out), cache_dir=str(root / "cache")).evaluate(kinds(), base_scenario(), seed=0)
    return out


def test_plurality_of_answers():
    assert plurality_right(["7", "7", "8"], [True, True, False]) == 1.0
    assert plurality_right(["7", "8", "8"], [True, False, False]) == 0.0
    assert plurality_right(["7", "8", "9"], [True, False, False]) == pytest.approx(1 / 3)
    assert plurality_right(["7", "7", "8", "8"], [True, True, False, False]) == 0.5


def test_statistics_cover_every_kind_of_check(traces):
    obs = cal.load_observations([traces])
    stats = cal.statistics(obs, {r["task_id"] for recs in obs.tasks.values() for r in recs})
    assert set(stats["accuracy"]) == {REAL}  # keyed by the model that answered, not the design's name
    p, n = stats["accuracy"][REAL]
    assert n >= 60 and 0.3 < p < 0.6
    assert {"self", "reviewer"} <= set(stats["checkers"])  # a solver checking itself is the 'self' checker
    assert stats["judge"] is not None and 0.0 <= stats["judge"]["accuracy"][0] <= 1.0
    assert {f"{REAL}@3", f"{REAL}@5"} <= set(stats["votes"])
    assert len(stats["item_share"][REAL]) >= 14


def test_calibrate_self_check_and_model_map(traces):
    base = base_scenario()
    obs = cal.load_observations([traces])
    keep = {r["task_id"] for recs in obs.tasks.values() for r in recs}
    new, changes, stats = cal.fit(base, obs, keep)
    checked = Scenario.from_dict(new.to_dict())  # the real loader accepts everything written
    review = checked.simulator["review"]
    assert "self_review_detection" in review and "solver" not in review.get("detection_bonus", {})
    # every design name mapped to the model that ran gets its fitted skill, so unseen designs are predicted for it
    assert checked.model(MODEL).skill == checked.model(REAL).skill == checked.model("gpt-4o").skill
    other = solo("gpt-4o")
    from swarmdesign.sim.evaluator import SimulatedEvaluator

    q = SimulatedEvaluator().evaluate([other], checked, seed=0).iloc[0]["quality"]
    assert q == pytest.approx(stats["accuracy"][REAL][0], abs=0.03)
    assert any("correlation_same_model" in c for c in changes)


def test_leave_one_design_out_beats_the_base_simulator(traces):
    base = base_scenario()
    obs = cal.load_observations([traces])
    table = cal.leave_one_design_out(base, obs)
    assert sorted(table["design"]) == sorted(d.name for d in kinds())
    err = cal.errors(table, ["base", "calibrated"])
    assert err["calibrated"]["quality_mae"] < err["base"]["quality_mae"]
    assert err["calibrated"]["quality_mae"] < 0.15
    assert -1.0 <= err["calibrated"]["spearman"] <= 1.0


def test_spearman():
    assert cal.spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert cal.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert cal.spearman([1, 2], [1, 2]) != cal.spearman([1, 2], [1, 2])  # NaN below three designs


def test_calibrate_command_on_several_runs(traces, tmp_path):
    # a second run folder: an extra design, plus a task record whose design record never came (killed run)
    second = tmp_path / "run2"
    second.mkdir()
    lines = (traces / "llm_traces.jsonl").read_text().splitlines()
    task = next(json.loads(x) for x in lines if json.loads(x)["type"] == "task")
    orphan = {**task, "design_id": "0000deadbeef0000", "design": "killed"}
    (second / "llm_traces.jsonl").write_text(json.dumps(orphan) + "\n")
    out = tmp_path / "cal.yaml"
    base = tmp_path / "base.yaml"
    base.write_text(yamlio.dumps(base_scenario().to_dict()))
    cmd = [sys.executable, "-m", "swarmdesign.cli", "calibrate", str(traces), str(second), "--fitness", str(base)]
    done = subprocess.run([*cmd, "--out", str(out), "--holdout", "0.25"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "skipped design 'killed'" in done.stdout
    assert "leave-one-design-out" in done.stdout and "Spearman" in done.stdout and "held-out" in done.stdout
    assert "calibrated Spearman" in done.stdout and "resolved design pairs" in done.stdout
    calibrated = Scenario.load(out)
    assert calibrated.name == "base-calibrated"
    assert calibrated.model(MODEL).skill == calibrated.model(REAL).skill
    bad = subprocess.run(
        [*cmd[:4], str(tmp_path / "nope"), *cmd[6:], "--out", str(out)], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "no such trace file" in bad.stderr
