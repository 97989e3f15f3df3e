"""What the quick commands import, and the lighter scoring path of ``evaluate``.

Start-up time is set by imports: pandas (with pyarrow), optuna and scipy
each cost 0.2-0.4 s. These tests check *which* libraries a command loads
(in a fresh interpreter, through ``sys.modules``), not how long it takes:
a behavioural guard that fails as soon as a module-level import creeps back
in. The figures themselves are printed by ``benchmarks/run_speed.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from swarmdesign.commands.evaluate import score_design
from swarmdesign.design import Design
from swarmdesign.evaluators import make_evaluator
from swarmdesign.fitness import SIMULATED_METRICS, Scenario
from tests.conftest import REPO

HEAVY = ("pandas", "pyarrow", "optuna", "scipy", "plotly", "matplotlib", "sqlalchemy", "litellm")

_PROBE = """
import json, sys
from swarmdesign.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
heavy = sorted({m.split('.')[0] for m in sys.modules} & set(HEAVY_NAMES))
print("PROBE " + json.dumps({"code": code, "heavy": heavy}), file=sys.stderr)
"""


def _heavy_imports(*args: str) -> list[str]:
    """The heavy libraries ``swarmdesign ARGS`` has imported when it exits (it must exit 0)."""
    probe = _PROBE.replace("HEAVY_NAMES", json.dumps(HEAVY))
    proc = subprocess.run(
        [sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=120, cwd=REPO, check=False
    )
    line = [ln for ln in proc.stderr.splitlines() if ln.startswith("PROBE ")]
    assert line, proc.stderr
    result = json.loads(line[-1].removeprefix("PROBE "))
    assert result["code"] in (0, None), proc.stderr
    return result["heavy"]


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("evaluate", "--help"),
        ("run", "--help"),
        ("validate", "designs/star_research.yaml"),
        ("validate", "fitness/software_project.yaml"),
    ],
    ids=["help", "evaluate-help", "run-help", "validate-design", "validate-scenario"],
)
def test_quick_commands_import_no_heavy_library(args: tuple[str, ...]) -> None:
    assert _heavy_imports(*args) == []


def test_evaluate_imports_scipy_but_not_pandas_or_optuna() -> None:
    # The simulator needs scipy.special (Beta quantiles, Erlang formulas); the table and the study do not.
    assert _heavy_imports("evaluate", "designs/star_research.yaml") == ["scipy"]


def test_a_simulated_run_with_its_recommendation_imports_no_pandas(tmp_path) -> None:
    """pandas (with pyarrow) was a tenth of the default run: recording, outputs and the recommendation use arrays."""
    heavy = _heavy_imports("run", "-n", "32", "-q", "--out", str(tmp_path), "--name", "r")
    assert "pandas" not in heavy and "pyarrow" not in heavy
    assert (tmp_path / "r" / "trials.csv").is_file() and (tmp_path / "r" / "best.yaml").is_file()


def test_simulated_metric_names_match_the_simulator() -> None:
    """The scenario checks metric names from a static list: it must be the simulator's, in its order."""
    from swarmdesign.sim.metrics import METRICS

    assert list(SIMULATED_METRICS) == list(METRICS)


def _scenario(name: str, **changes: object) -> Scenario:
    data = Scenario.load(REPO / "fitness" / f"{name}.yaml").to_dict()
    data.update(changes)
    return Scenario.from_dict(data)


@pytest.mark.parametrize(
    "scenario",
    [
        _scenario("software_project"),
        _scenario("math_qa"),
        # every constraint binding, and a weight on a column the scenario adds itself
        _scenario(
            "software_project",
            constraints={"max_cost_usd": 0.5, "max_latency_s": 60.0, "min_quality": 0.99},
            score={"weights": {"quality": 1.0, "cost": -0.2, "violation": -0.5}, "penalty": 2.0},
        ),
    ],
    ids=["software_project", "math_qa", "constrained"],
)
def test_evaluate_scores_like_the_evaluator(scenario: Scenario) -> None:
    """``evaluate``'s pandas-free path gives every number the run's path gives, for every bundled design."""
    evaluator = make_evaluator("simulated")
    designs = [Design.load(p) for p in sorted((REPO / "designs").glob("*.yaml"))]
    assert len(designs) >= 5
    for seed in (0, 7):
        for design in designs:
            light = score_design(evaluator, design, scenario, seed=seed)
            full = scenario.finish_metrics(evaluator.evaluate([design], scenario, seed=seed)).iloc[0].to_dict()
            assert list(light) == list(full)
            for name, value in full.items():
                assert light[name] == pytest.approx(value, rel=1e-12, abs=1e-12, nan_ok=True), (design.name, name)


def test_evaluate_of_the_agent_mode_takes_the_evaluator_path() -> None:
    scenario = _scenario("software_project", workload={"tasks": 4})
    design = Design.load(REPO / "designs" / "single_agent.yaml")
    evaluator = make_evaluator("simulated", mode="agent", replicas=2)
    row = score_design(evaluator, design, scenario, seed=0)
    full = scenario.finish_metrics(evaluator.evaluate([design], scenario, seed=0)).iloc[0].to_dict()
    assert row == pytest.approx(full)
    assert np.isfinite([v for v in row.values() if not isinstance(v, (bool, np.bool_))]).all()


def test_finish_columns_matches_finish_metrics() -> None:
    rng = np.random.default_rng(3)
    n = 50
    frame = pd.DataFrame(
        {
            "quality": rng.random(n),
            "cost": rng.random(n) * 3,
            "latency": rng.random(n) * 100,
            "robustness": rng.random(n),
        }
    )
    scenario = _scenario(
        "software_project",
        constraints={"max_cost_usd": 1.5, "max_latency_s": 50.0, "min_quality": 0.3},
        objectives=[{"name": "quality"}, {"name": "cost"}],
    )
    full = scenario.finish_metrics(frame)
    light = scenario.finish_columns({name: frame[name].to_numpy() for name in frame.columns})
    assert list(light) == list(full.columns)
    for name in full.columns:
        np.testing.assert_array_equal(light[name], full[name].to_numpy())
    assert 0 < int(light["feasible"].sum()) < n  # the constraints bind for some rows, not all
