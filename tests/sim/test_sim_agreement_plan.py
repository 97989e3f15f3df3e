"""A level's plan is one draw for every attempt, redo and check of its piece, in both modes.

The agent mode draws a plan's soundness per task and level, and the level's attempts, votes, reviews, the
hub's verification, the peers' critique and every redo share it. The fast mode averaged the attempt's
success over the plan first and then applied those steps, all non-linear in it: an error is likelier
under an unsound plan, where its redo fails more often too, so the average overrated planned teams. Over
the 600 designs of ``benchmarks/sim_agreement.py`` the fast mode was 0.0048 above the agent mode on
average (0.0011 with plans that change nothing); a mesh of 373 coders with two planners scored 0.855
against the agent mode's 0.797-0.816. Each test below failed before the fast mode ran a level once per
plan outcome.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from sim_helpers import bundled, evaluate

from swarmdesign.fitness import Scenario
from swarmdesign.sim import SimulatedEvaluator, fast
from swarmdesign.sim.testing import make_design

LLAMA, G4, MINI = "llama-3.1-8b", "gpt-4o", "gpt-4o-mini"


def _mesh_with_planners() -> object:
    roles = [("planner", 2, LLAMA), ("coder", 373, G4), ("integrator", 8, LLAMA)]
    return make_design(
        roles, "mesh", redundancy=7, aggregation="first_valid", review_rounds=0, heterogeneity=0.12, routing="routed"
    )


def _small_hybrid() -> object:
    roles = [("planner", 1, LLAMA), ("coder", 1, LLAMA), ("integrator", 6, MINI)]
    return make_design(
        roles,
        "hybrid",
        redundancy=2,
        aggregation="first_valid",
        review_rounds=3,
        heterogeneity=0.5,
        routing="broadcast",
    )


def test_planned_teams_score_as_the_agent_mode_draws_their_plans() -> None:
    """The two designs furthest apart before: 0.047 and 0.028 above the agent mode (mean of three seeds)."""
    scn = bundled("software_project")
    designs = [_mesh_with_planners(), _small_hybrid()]
    fast_q = evaluate(designs, scn, seed=3)["quality"].to_numpy()
    agent_q = np.mean([evaluate(designs, scn, seed=s, mode="agent")["quality"].to_numpy() for s in (3, 4, 5)], axis=0)
    assert fast_q == pytest.approx(agent_q, abs=0.02)


def _chain_quality(design: object, scenario: object, sound: float | None) -> tuple[float, float]:
    """Quality of one replica (one item difficulty), with the plan's chance of being sound forced to ``sound``."""
    sim = SimulatedEvaluator(replicas=1)
    captured: dict[str, float] = {}
    original = fast.quality_chains

    def chains(views, prod, *args, **kwargs):  # type: ignore[no-untyped-def]
        captured["sound"] = float(prod.plan_sound[0, 0])
        if sound is not None:
            prod = dataclasses.replace(prod, plan_sound=np.full_like(prod.plan_sound, sound))
        return original(views, prod, *args, **kwargs)

    try:
        fast.quality_chains = chains  # the evaluator looks it up on the module at every call
        quality = float(sim.evaluate([design], scenario, seed=3)["quality"].iloc[0])
    finally:
        fast.quality_chains = original
    return quality, captured["sound"]


def test_a_level_is_the_mixture_of_its_sound_and_unsound_plan() -> None:
    """One level, one difficulty: the quality is the plan-weighted mixture of the two outcomes, exactly.

    Averaging the attempt's success first instead gives a different (higher) figure, because first-valid
    retries and the hub's verification redo wrong pieces with that same success.
    """
    base = bundled("software_project").model_dump(mode="json")
    # no faults: a hub's crash exposure follows the attempts made, which the plan changes too, and is
    # charged on the design's expected attempts (nearly linear in them, not exactly)
    scn = Scenario.from_dict(
        {
            **base,
            "workload": {**base["workload"], "dependency_depth": 1},
            "environment": {**base["environment"], "fault_rate": 0.0},
        }
    )
    design = make_design(
        [("orchestrator", 1, LLAMA), ("coder", 6, MINI), ("reviewer", 1, MINI)],
        "star",
        redundancy=3,
        aggregation="first_valid",
        review_rounds=1,
        routing="routed",
    )
    mixed, w = _chain_quality(design, scn, None)
    good, _ = _chain_quality(design, scn, 1.0)
    bad, _ = _chain_quality(design, scn, 0.0)
    assert 0.05 < w < 0.95 and good > bad + 0.02  # the plan matters here
    assert mixed == pytest.approx(w * good + (1.0 - w) * bad, rel=1e-9)
