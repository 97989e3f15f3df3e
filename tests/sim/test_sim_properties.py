"""Contract of the simulated evaluator: columns, ranges, determinism, common random numbers, speed."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
from sim_helpers import FITNESS, bundled, evaluate

from swarmdesign.errors import SwarmdesignError
from swarmdesign.evaluators import make_evaluator
from swarmdesign.sim import METRICS, SimulatedEvaluator
from swarmdesign.sim.metrics import COST_LOSSES, LATENCY_LOSSES, QUALITY_LOSSES
from swarmdesign.sim.testing import make_design, random_designs

SCENARIOS = sorted(p.stem for p in FITNESS.glob("*.yaml"))
UNIT = ("quality", "robustness", "routing_accuracy", "collision_share", "hub_busy", "voter_correlation")


@pytest.fixture(scope="module")
def designs() -> list:
    return random_designs(np.random.default_rng(3), 400, max_count=3000)


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_metric_finite_and_in_range(name: str, designs: list) -> None:
    df = evaluate(designs, bundled(name))
    assert list(df.columns) == list(METRICS)
    assert len(df) == len(designs)
    values = df.to_numpy(dtype=float)
    assert np.isfinite(values).all()
    for col in UNIT:
        assert df[col].between(0.0, 1.0).all(), col
    nonneg = [c for c in METRICS if not c.startswith("loss_") or c == "loss_cost_faults"]
    assert (df[[c for c in nonneg if c not in ("loss_quality_voting",)]] >= 0).all().all()
    assert (df["latency"] > 0).all() and (df["cost"] > 0).all()


def test_loss_breakdowns_add_up(designs: list) -> None:
    df = evaluate(designs, bundled("software_project"))
    quality_losses = df[[f"loss_quality_{m}" for m in QUALITY_LOSSES]].sum(axis=1)
    assert np.allclose(1.0 - df["quality"], quality_losses, atol=1e-9)
    latency_losses = df[[f"loss_latency_{m}" for m in LATENCY_LOSSES]].sum(axis=1)
    assert np.allclose(df["latency"], df["ideal_latency"] + latency_losses, rtol=1e-9)
    cost_losses = df[[f"loss_cost_{m}" for m in COST_LOSSES]].sum(axis=1)
    assert np.allclose(df["cost"], df["ideal_cost"] + cost_losses, rtol=1e-9)


def test_deterministic_for_a_seed_and_seed_sensitive(designs: list) -> None:
    scenario = bundled("math_qa")
    a = evaluate(designs[:50], scenario, seed=1)
    pd.testing.assert_frame_equal(a, evaluate(designs[:50], scenario, seed=1))
    assert not a["quality"].equals(evaluate(designs[:50], scenario, seed=2)["quality"])


def test_common_random_numbers_a_design_scores_the_same_in_any_batch(designs: list) -> None:
    scenario = bundled("software_project")
    batch = evaluate(designs[:40], scenario, seed=5)
    alone = evaluate([designs[17]], scenario, seed=5)
    reordered = evaluate(designs[17:40][::-1], scenario, seed=5)
    pd.testing.assert_series_equal(batch.iloc[17], alone.iloc[0], check_names=False)
    pd.testing.assert_series_equal(batch.iloc[17], reordered.iloc[-1], check_names=False)


def test_evaluator_contract() -> None:
    ev = make_evaluator("simulated", replicas=16)
    assert isinstance(ev, SimulatedEvaluator) and ev.name == "simulated"
    assert ev.params() == {"replicas": 16, "mode": "fast"}
    assert SimulatedEvaluator(**ev.params()).params() == ev.params()
    empty = ev.evaluate([], bundled("math_qa"), seed=0)
    assert list(empty.columns) == list(METRICS) and len(empty) == 0
    for bad in ({"replicas": 0}, {"mode": "exact"}, {"replicas": 2.5}):
        with pytest.raises(SwarmdesignError):
            SimulatedEvaluator(**bad)
    assert all(isinstance(v, str) and v for v in METRICS.values())


def test_scenario_finish_metrics_accepts_the_output(designs: list) -> None:
    scenario = bundled("software_project")
    out = scenario.finish_metrics(evaluate(designs[:20], scenario))
    assert {"score", "feasible", "violation"} <= set(out.columns)
    assert np.isfinite(out["score"]).all()


def _cpu_seconds(design: object, scenario: object, repeats: int = 15) -> float:
    ev = SimulatedEvaluator()
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        ev.evaluate([design], scenario, seed=0)
        best = min(best, time.process_time() - start)
    return best


def test_a_million_agents_score_as_fast_as_ten() -> None:
    scenario = bundled("software_project")
    big = make_design([("orchestrator", 1000), ("worker", 999_000), ("reviewer", 1000)], "hierarchical", branching=16)
    small = make_design([("orchestrator", 1), ("worker", 8), ("reviewer", 1)], "hierarchical", branching=16)
    _cpu_seconds(small, scenario, 2)  # warm-up
    assert _cpu_seconds(big, scenario) <= 2.0 * _cpu_seconds(small, scenario) + 1e-3
