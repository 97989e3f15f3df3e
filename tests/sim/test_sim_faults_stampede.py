"""Faults (single points of failure, retries) and stampedes (herding on scarce options)."""

from __future__ import annotations

import numpy as np
import pytest
from sim_helpers import bundled, evaluate, make_scenario

from swarmdesign.sim import stampede
from swarmdesign.sim.testing import make_design


def test_unreplicated_hub_loses_more_quality_than_a_mesh_under_faults() -> None:
    scenario = make_scenario(workload={"subtasks": 4}, environment={"fault_rate": 0.1})
    star = make_design([("orchestrator", 1, "m0"), ("worker", 20, "m0")], "star")
    replicated = make_design([("orchestrator", 3, "m0"), ("worker", 20, "m0")], "star")
    mesh = make_design([("worker", 21, "m0")], "mesh", routing="routed")
    df = evaluate([star, replicated, mesh], scenario)
    robustness = df["robustness"].to_numpy()
    assert robustness[0] < robustness[2] - 0.05
    assert robustness[1] > robustness[0] + 0.05
    assert np.all((robustness > 0) & (robustness <= 1))
    calm = evaluate([star, replicated, mesh], make_scenario(workload={"subtasks": 4}))
    assert np.allclose(calm["robustness"], 1.0)
    # failed calls are retried: more calls, more money
    assert np.all(df["llm_calls"] > calm["llm_calls"])
    assert np.all(df["loss_cost_faults"] > 0)


def test_identical_agents_stampede_on_scarce_seats() -> None:
    scenario = bundled("ticket_rush")
    roles = [("worker", 300, "gpt-4o-mini")]
    identical = make_design(roles, "mesh", heterogeneity=0.0, routing="routed")
    diverse = make_design(roles, "mesh", heterogeneity=1.0, routing="routed")
    mixed = make_design(
        [("worker", 75, m) for m in ("gpt-4o-mini", "gpt-4o", "claude-3-5-haiku", "llama-3.1-8b")],
        "mesh",
        heterogeneity=1.0,
        routing="routed",
    )
    df = evaluate([identical, diverse, mixed], scenario)
    share = df["collision_share"].to_numpy()
    assert share[0] > 3 * share[1]
    assert share[2] < share[1]
    assert df["stampede_collisions"][0] > 3 * df["stampede_collisions"][1]
    assert df["quality"][0] < df["quality"][1]


def test_no_scarce_resource_and_assigned_work_means_no_stampede() -> None:
    scenario = make_scenario()
    design = make_design([("orchestrator", 2, "m0"), ("worker", 50, "m0")], "star")
    assert evaluate([design], scenario)["collision_share"][0] == 0.0


def test_occupancy_formula_limits() -> None:
    n, r = np.array([100.0]), np.array([100.0])
    assert stampede.collision_share(n, r, np.array([1.0]), np.array([0.0]))[0] > 0.98  # all on one option
    assert stampede.collision_share(n, r, np.array([0.0]), np.array([1.0]))[0] == 0.0  # perfectly spread
    uniform = stampede.collision_share(n, r, np.array([0.0]), np.array([0.0]))[0]
    assert abs(uniform - (1 - (1 - (1 - 1 / 100) ** 100))) < 1e-9  # balls into bins: ~ 1/e lost


def test_a_few_agents_collide_as_often_as_their_picks_say() -> None:
    """Each agent is organised or herded on its own: the organised count is binomial, and collisions need two
    herded agents. The fast mode put the count's mean into the occupancy formula, so two agents each organised
    with probability 0.52 (one organised, 0.96 of a herded one) never collided; picking agent by agent, as the
    agent mode does, they collide in 1.8 % of their picks. Large crowds are close to their mean."""
    from swarmdesign.sim.agent_run import stampede_rounds

    rng = np.random.default_rng(0)
    for n in (2, 3, 8, 20):
        drawn = stampede_rounds(rng, n, 500, 0.385, 0.519, picks=200_000)
        formula = stampede.collision_share(np.array([float(n)]), np.array([500.0]), 0.385, np.array([0.519]))[0]
        assert formula == pytest.approx(drawn, rel=0.05, abs=2e-4), n
