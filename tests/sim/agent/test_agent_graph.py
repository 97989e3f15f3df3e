"""The agent mode's wiring is built explicitly: tree depth, hops and news spread are counted on it."""

from __future__ import annotations

import numpy as np
import pytest
from agent_helpers import scenario

from swarmdesign.sim.agent import Population
from swarmdesign.sim.agent_graph import build_wiring
from swarmdesign.sim.batch import DesignBatch
from swarmdesign.sim.params import SimParams
from swarmdesign.sim.testing import make_design
from swarmdesign.sim.views import RoleViews


def _wiring(design, seed: int = 0):
    scen = scenario()
    return build_wiring(Population.build(design, scen), SimParams(), np.random.default_rng(seed))


@pytest.mark.parametrize(("producers", "span", "levels"), [(125, 5, 3), (126, 5, 4), (64, 4, 3), (8, 8, 1), (9, 8, 2)])
def test_hierarchy_depth_is_counted_on_the_built_tree(producers: int, span: int, levels: int) -> None:
    """125 producers at span 5: 25 team leads, 5 leads of leads, 1 head: three levels (5^3 = 125).

    A floating log_5(125) = 3.0000000000000004 rounds up to 4; the tree
    counts what it built instead, and one more producer needs a fourth level.
    """
    w = _wiring(make_design([("orchestrator", 1, "m0"), ("coder", producers, "m0")], "hierarchical", branching=span))
    assert int(w.hub_path.max()) == levels
    assert int(w.hub_path[w.hub_of >= 0].min()) == levels  # every worker reports through every level
    # news from a worker climbs to the top and down again: at most two hops per level
    assert levels <= w.spread_rounds <= 2 * levels


def test_hand_off_hops_are_measured_between_producers() -> None:
    star = _wiring(make_design([("orchestrator", 1, "m0"), ("coder", 30, "m0")], "star"))
    assert star.handoff_hops == pytest.approx(2.0)  # producer -> hub -> producer
    tree = _wiring(make_design([("orchestrator", 1, "m0"), ("coder", 64, "m0")], "hierarchical", branching=4))
    # most pairs of producers meet only near the top: more than two hops, at most 2 x 3 levels
    assert 2.0 < tree.handoff_hops <= 6.0


def test_a_star_with_many_hub_replicas_is_still_two_hops() -> None:
    """A replicated hub is one pooled queue any replica serves: worker -> hub -> worker, two hops.

    Walking the chain of replicas instead made 13 coordinators cost about six hops, which the fast mode
    (two hops through the hub) never charged, and the two modes parted on stars with many planners.
    """
    star = _wiring(make_design([("orchestrator", 13, "m0"), ("coder", 40, "m0")], "star"))
    assert star.handoff_hops == pytest.approx(2.0, abs=0.05)


@pytest.mark.parametrize("span", [2, 3, 5, 8, 12])
@pytest.mark.parametrize("producers", [9, 30, 100, 400, 1403])
def test_fast_mode_hand_off_hops_are_the_built_trees_mean(span: int, producers: int) -> None:
    """The fast mode's closed form for a hierarchy's hops matches the mean measured on the explicit tree.

    The longest path, twice the depth, overstated it 1.1-2.3x: most pairs meet below the top, and a lead of
    leads is one of the managers below it, so climbing through its own block costs no hop. Every block has
    a coordinator here (no producer is promoted to head one), as the fast mode's queues assume.
    """
    coordinators = -(-producers // span)
    design = make_design(
        [("orchestrator", coordinators, "m0"), ("coder", producers, "m0")], "hierarchical", branching=span
    )
    scen = scenario()
    views = RoleViews.build(DesignBatch.pack([design], scen), SimParams(), scen.workload.subtasks)
    assert float(views.handoff_hops[0]) == pytest.approx(_wiring(design).handoff_hops, rel=0.15)


def test_push_gossip_has_a_tail_beyond_log_n() -> None:
    """Push gossip needs log_{f+1} n rounds plus a tail of about ln(n) / f (Pittel 1987; Karp et al. 2000)."""
    rounds = [
        _wiring(make_design([("coder", 1000, "m0")], "pubsub", brokers=1), seed=s).spread_rounds for s in range(5)
    ]
    log_only = 1 + np.ceil(np.log(1000) / np.log(3))
    assert np.mean(rounds) > log_only + 1
    assert np.mean(rounds) < log_only + np.log(1000)  # but still logarithmic


def test_channels_are_counted_on_the_links() -> None:
    assert _wiring(make_design([("coder", 6, "m0")], "chain")).channels == 5
    assert _wiring(make_design([("coder", 6, "m0")], "ring")).channels == 6
    assert _wiring(make_design([("coder", 6, "m0")], "mesh")).channels == 15
