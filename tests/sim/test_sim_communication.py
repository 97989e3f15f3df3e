"""Message and context cost by topology; task routing."""

from __future__ import annotations

import numpy as np
import pytest
from sim_helpers import evaluate, make_scenario

from swarmdesign.sim import topology
from swarmdesign.sim.batch import KIND_INDEX
from swarmdesign.sim.testing import make_design

SIZES = [8, 16, 32, 64, 128]


def _growth_exponent(kind: str, metric: str, sizes: list[int] = SIZES, **topo: object) -> float:
    """Slope of log(metric) against log(n) under weak scaling (one task per agent)."""
    values = []
    for n in sizes:
        roles = (
            [("orchestrator", 1, "m0"), ("worker", n - 1, "m0")]
            if kind in ("star", "hierarchical")
            else [("worker", n, "m0")]
        )
        design = make_design(roles, kind, routing="routed", **topo)
        values.append(evaluate([design], make_scenario(workload={"tasks": n}))[metric][0])
    return float(np.polyfit(np.log(sizes), np.log(values), 1)[0])


@pytest.mark.parametrize("metric", ["messages", "tokens"])
def test_mesh_cost_grows_quadratically(metric: str) -> None:
    # the per-step base cost is linear; the context and messages of n - 1 neighbours take over as n grows
    assert _growth_exponent("mesh", metric, [128, 256, 512]) > 1.8


@pytest.mark.parametrize(
    ("kind", "topo"),
    [("chain", {}), ("ring", {}), ("star", {}), ("hierarchical", {"branching": 4}), ("pubsub", {})],
)
def test_chain_star_tree_bus_cost_grows_linearly(kind: str, topo: dict) -> None:
    assert 0.8 < _growth_exponent(kind, "messages", **topo) < 1.25
    # a single star hub re-reads the status of every worker it tracks on each message (as its service time
    # does), so its tokens grow faster than its messages, though below a mesh's n^2
    upper = 1.6 if kind == "star" else 1.25
    assert 0.8 < _growth_exponent(kind, "tokens", **topo) < upper


def test_channels_and_spread_in_closed_form_for_a_million_agents() -> None:
    n = np.full(4, 1e6)
    kinds = np.array([KIND_INDEX[k] for k in ("mesh", "chain", "hierarchical", "pubsub")])
    ch = topology.channels(kinds, n, np.ones(4), np.ones(4))
    assert ch[0] == pytest.approx(1e6 * (1e6 - 1) / 2)
    assert ch[1] == pytest.approx(1e6 - 1)
    rounds = topology.spread_rounds(kinds, n, np.full(4, 10.0), np.ones(4), 2)
    assert rounds[0] == 1 and rounds[1] == 1e6 - 1
    assert rounds[2] == 12  # 2 * log10(1e6)
    # push gossip, fanout 2: 1 broker hop + ceil(log3(1e6) + ln(1e6) / 2) = 1 + ceil(12.58 + 6.91), the tail included
    assert rounds[3] == 21


def _routing_case(n: int, routing: str) -> object:
    return make_design([("coder", n - n // 50, "m0"), ("researcher", n // 50, "m0")], "independent", routing=routing)


def test_routed_tasks_cost_log_n_messages_and_land_right_more_often() -> None:
    scenario = make_scenario(simulator={"skill": {"task_mix": {"coder": 0.7, "researcher": 0.3}}})
    n = 5000
    df = evaluate([_routing_case(n, "broadcast"), _routing_case(n, "routed")], scenario)
    broadcast, routed = df.iloc[0], df.iloc[1]
    assert broadcast["messages_per_task"] >= n
    assert routed["messages_per_task"] <= np.log2(n) + 2
    assert routed["routing_accuracy"] > broadcast["routing_accuracy"] + 0.15
    assert routed["quality"] > broadcast["quality"]
    small = evaluate([_routing_case(50, "broadcast"), _routing_case(50, "routed")], scenario)
    # the gap in messages opens with n: broadcast is O(n), routed O(log n)
    ratio_small = small["messages_per_task"][0] / small["messages_per_task"][1]
    assert broadcast["messages_per_task"] / routed["messages_per_task"] > 20 * ratio_small / 5


def test_context_overflow_costs_quality_in_a_huge_mesh() -> None:
    scenario = make_scenario()
    df = evaluate([make_design([("worker", n, "m0")], "mesh", routing="routed") for n in (100, 5000)], scenario)
    assert df["loss_quality_context"][0] == 0.0
    assert df["loss_quality_context"][1] > 0.05
