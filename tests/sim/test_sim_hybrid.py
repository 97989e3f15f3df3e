"""The ``hybrid`` topology: a star whose members also talk to each other directly.

What it must show, against a ``star`` with the same roles (and a ``mesh`` of
the same members), in both simulator modes:

* the hub still plans, verifies and merges, so on work without dependent
  hand-offs the hybrid's pieces are checked at least as well as the star's;
* members read each other's pieces, so they critique them (review-sized
  calls, as in a mesh) and hear ``m - 1`` peers per step: it costs more than
  the star, and more messages reach each agent;
* dependent hand-offs pass peer to peer, around the hub, so only peers can
  catch a misaligned one: on sequential work its hand-off loss is larger
  than the star's, where the hub sees every hand-off.
"""

from __future__ import annotations

import pytest
from sim_helpers import evaluate, make_scenario

from swarmdesign.sim.testing import make_design

TEAM = [("orchestrator", 1, "m0"), ("worker", 6, "m0")]


def _scenario(depth: int, subtasks: int = 6):
    return make_scenario(
        workload={"subtasks": subtasks, "dependency_depth": depth, "parallel_fraction": 0.5 if depth > 1 else 1.0}
    )


@pytest.mark.parametrize("mode", ["fast", "agent"])
def test_members_critique_each_other_and_pay_for_it(mode: str) -> None:
    designs = [make_design(TEAM, kind, routing="routed", name=kind) for kind in ("star", "hybrid")]
    star, hybrid = (row for _, row in evaluate(designs, _scenario(depth=1), seed=5, mode=mode).iterrows())
    assert hybrid["llm_calls"] > star["llm_calls"]  # peer critiques on top of the hub's work
    assert hybrid["cost"] > star["cost"] and hybrid["messages"] > star["messages"]
    assert hybrid["channels"] == star["channels"] + 6 * 5 / 2  # the members' peer links
    assert hybrid["quality"] >= star["quality"] - 0.02  # the hub verifies as before; critique only adds


@pytest.mark.parametrize("mode", ["fast", "agent"])
def test_hand_offs_go_around_the_hub(mode: str) -> None:
    designs = [make_design(TEAM, kind, routing="routed", name=kind) for kind in ("star", "hybrid")]
    frame = evaluate(designs, _scenario(depth=6), seed=5, mode=mode)
    star, hybrid = (row for _, row in frame.iterrows())
    if mode == "fast":  # the loss breakdown is the fast mode's
        assert hybrid["loss_quality_handoff"] > star["loss_quality_handoff"] + 0.002
    else:
        assert hybrid["quality"] < star["quality"] + 0.03


def test_without_peer_critique_and_hub_bypass_the_hybrid_is_the_star_plus_messages() -> None:
    """Knock-outs: no peer critique, no hand-offs: the hybrid's quality is the star's; it only costs more."""
    sc = make_scenario(
        workload={"subtasks": 6, "dependency_depth": 1, "parallel_fraction": 1.0},
        simulator={"propagation": {"peer_refinement": 0.0}},
    )
    designs = [make_design(TEAM, kind, routing="routed", name=kind) for kind in ("star", "hybrid")]
    star, hybrid = (row for _, row in evaluate(designs, sc, seed=5).iterrows())
    assert hybrid["quality"] == pytest.approx(star["quality"], abs=1e-9)
    assert hybrid["cost"] > star["cost"]
