"""The whole agent mode on small cases whose outcome can be computed by hand.

These would fail if the agent mode used the fast mode's closed forms: the
vote is beta-binomial (not a real-valued Kish count), and a call's faults
follow the retry sequence (not the fast mode's product form).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from agent_helpers import binomial_se, evaluate, fixed_difficulty, scenario
from scipy.special import expit
from scipy.stats import betabinom, binom

from swarmdesign.sim.metrics import METRICS
from swarmdesign.sim.testing import make_design

REPLICAS = 1024  # 16 sampled tasks per replica
TASKS = 16 * REPLICAS
P = float(expit(0.5))  # skill 0 + match bonus 0.5 at difficulty 0.5


def _majority(pmf: np.ndarray) -> float:
    k = pmf.size - 1
    j = np.arange(k + 1)
    return float(pmf[2 * j > k].sum() + 0.5 * pmf[2 * j == k].sum())


@pytest.mark.parametrize(("k", "rho"), [(3, 0.0), (3, 0.5), (8, 0.3)])
def test_votes_of_one_model_match_the_hand_computed_vote(k: int, rho: float) -> None:
    voting = {"correlation_same_model": rho, "correlation_cross_model": 0.0}
    scen = scenario(workload=fixed_difficulty(), simulator={"voting": voting})
    design = make_design([("coder", 40, "m0")], "independent", redundancy=k)
    j = np.arange(k + 1)
    if rho == 0:
        expected = _majority(binom.pmf(j, k, P))
    else:
        expected = _majority(betabinom.pmf(j, k, P * (1 - rho) / rho, (1 - P) * (1 - rho) / rho))
    q = evaluate([design], scen, replicas=REPLICAS, mode="agent")["quality"].iloc[0]
    assert q == pytest.approx(expected, abs=4 * binomial_se(expected, TASKS) + 0.002)


def test_faults_follow_the_retry_sequence() -> None:
    """f = 0.3, half silent, one retry: a call survives with (1 - f)(1 + (1 - s) f) = 0.805.

    The fast mode's product form (1 - f s)(1 - ((1 - s) f)^2) gives 0.831.
    """
    f, silent = 0.3, 0.5
    scen = scenario(
        workload=fixed_difficulty(),
        environment={"fault_rate": f},
        simulator={"faults": {"silent_share": silent, "max_retries": 1}},
    )
    row = evaluate([make_design([("coder", 1, "m0")], "single")], scen, replicas=REPLICAS, mode="agent").iloc[0]
    survive = (1 - f) * (1 + (1 - silent) * f)
    assert row["robustness"] == pytest.approx(survive, abs=0.02)
    assert abs(row["robustness"] - (1 - f * silent) * (1 - ((1 - silent) * f) ** 2)) > 0.015


def test_measured_voter_correlation_follows_the_models_present() -> None:
    """Two random producers share a model half the time here: rho = (0.6 + 0.2) / 2, measured on draws."""
    voting = {"correlation_same_model": 0.6, "correlation_cross_model": 0.2}
    scen = scenario(workload=fixed_difficulty(), simulator={"voting": voting, "skill": {"task_mix": {"coder": 1.0}}})
    design = make_design([("coder", 20, "m0"), ("coder", 20, "m1")], "independent", redundancy=3)
    row = evaluate([design], scen, replicas=256, mode="agent").iloc[0]
    assert row["voter_correlation"] == pytest.approx(0.4, abs=0.05)
    assert row["effective_voters"] == pytest.approx(3 / (1 + 2 * row["voter_correlation"]))


M = "m0"
EVERY_KIND = [
    make_design([("coder", 1, M)], "single"),
    make_design([("coder", 6, M)], "independent", redundancy=3),
    make_design([("coder", 5, M)], "chain", review_rounds=1),
    make_design([("coder", 5, M)], "ring"),
    make_design([("planner", 1, M), ("coder", 6, M), ("reviewer", 1, M)], "star", redundancy=2, aggregation="judge"),
    make_design([("orchestrator", 1, M), ("coder", 12, M)], "hierarchical", branching=3),
    make_design([("coder", 6, M)], "mesh", redundancy=2, aggregation="first_valid"),
    make_design([("coder", 8, M)], "pubsub", brokers=2),
    make_design([("orchestrator", 2, M), ("coder", 8, M)], "federated", clusters=2),
]


def test_every_metric_is_finite_for_every_topology() -> None:
    scen = scenario(
        workload={"subtasks": 4, "dependency_depth": 2, "parallel_fraction": 0.8}, environment={"fault_rate": 0.05}
    )
    df = evaluate(EVERY_KIND, scen, replicas=16, mode="agent")
    assert list(df.columns) == list(METRICS)
    bad = {c: df[c].tolist() for c in df.columns if not np.isfinite(df[c]).all()}
    assert not bad
    assert (df["cost"] > df["ideal_cost"]).all() and (df["latency"] > 0).all()
    # the loss ledger adds up to the cost; quality and latency losses are not attributed (0)
    costs = df[[c for c in df.columns if c.startswith("loss_cost_")]].sum(axis=1) + df["ideal_cost"]
    assert np.allclose(costs, df["cost"], rtol=1e-9)
    assert (df[[c for c in df.columns if c.startswith(("loss_quality_", "loss_latency_"))]] == 0).all().all()
    assert math.isclose(df["agents"].iloc[0], 1.0)
