"""Hub queueing: Erlang C, a saturating single hub, relief by replicas and hierarchies."""

from __future__ import annotations

import heapq

import numpy as np
import pytest
from sim_helpers import evaluate, make_scenario

from swarmdesign.sim import queueing
from swarmdesign.sim.testing import make_design

WORKERS = [2, 4, 8, 16, 32, 64, 128, 256]


def test_erlang_c_known_values() -> None:
    c = np.array([1.0, 2.0, 5.0])
    a = np.array([0.5, 1.0, 4.0])
    assert np.allclose(queueing.erlang_c(c, a), [0.5, 1.0 / 3.0, 0.554112554], atol=1e-6)


def test_open_queue_wait_explodes_near_saturation_but_stays_finite() -> None:
    rho = np.array([0.5, 0.9, 0.99, 0.999, 1.5, 100.0])
    wait, util = queueing.hub_wait(rho, np.ones_like(rho), np.ones_like(rho), 0.999)
    assert np.all(np.isfinite(wait))
    assert np.all(np.diff(wait[:4]) > 0) and wait[3] > 100 * wait[0]
    assert util[-1] == pytest.approx(100.0)


def test_closed_loop_wait_grows_steeply_then_linearly() -> None:
    n = np.array([1.0, 5.0, 10.0, 20.0, 1000.0, 1e6])
    wait, busy, offered = queueing.closed_loop_wait(n, np.full(6, 2.0), np.full(6, 5.0), np.full(6, 0.25), np.ones(6))
    assert np.all(np.isfinite(wait)) and np.all(busy < 1.0)
    assert np.all(np.diff(wait) > 0)
    assert wait[-1] / wait[-2] == pytest.approx(1000.0, rel=0.02)  # past saturation: linear in workers
    assert offered[2] == pytest.approx(1.0)


def _repairman_wait(clients: int, servers: int, think: float, service: float, messages: int = 200_000) -> float:
    """Mean wait per message of ``clients`` that think, send one message and wait for it, by brute force.

    Exponential think and service times, first come first served on ``servers`` servers.
    """
    rng = np.random.default_rng(7)
    thinks = rng.exponential(think, messages + clients).tolist()
    services = rng.exponential(service, messages + clients).tolist()
    arrivals = [(thinks[i], i) for i in range(clients)]  # (time the message arrives, client)
    heapq.heapify(arrivals)
    free = [0.0] * servers  # when each server is next free
    waited, drawn = 0.0, clients
    for k in range(messages):
        at, client = heapq.heappop(arrivals)
        start = max(at, heapq.heappop(free))
        done = start + services[k]
        heapq.heappush(free, done)
        waited += start - at
        heapq.heappush(arrivals, (done + thinks[drawn], client))
        drawn += 1
    return waited / messages


@pytest.mark.parametrize(("clients", "servers"), [(2, 1), (4, 2), (8, 1), (30, 3)])
def test_a_few_clients_wait_as_the_machine_repairman_queue_says(clients: int, servers: int) -> None:
    """A hub with a handful of clients: a waiting client sends nothing more, so its queue stays short.

    Erlang C's endless population put four coders reporting to two planners at 2.3x the wait the queue has.
    """
    think, service = 6.0, 8.0 / servers  # offered load above one server's worth: clients do wait
    wait, busy, _ = queueing.closed_loop_wait(
        np.array([float(clients)]), np.ones(1), np.array([think]), np.array([service]), np.array([float(servers)])
    )
    assert wait[0] == pytest.approx(_repairman_wait(clients, servers, think, service), rel=0.05)
    assert 0.0 < busy[0] <= 1.0


def _bulk_first_wait(batch: int, rho: float, service: float, batches: int = 200_000) -> float:
    """Mean wait of the first message of a batch in the M^X/M/1 queue, by brute force (Lindley's recursion).

    Batches of ``batch`` messages arrive as a Poisson stream at utilisation ``rho``; exponential services.
    """
    rng = np.random.default_rng(11)
    gaps = rng.exponential(batch * service / rho, batches)
    work = rng.exponential(service, (batches, batch)).sum(axis=1)  # the server time each batch brings
    waited, w = 0.0, 0.0
    for k in range(1, batches):
        w = max(w + work[k - 1] - gaps[k], 0.0)
        waited += w
    return waited / (batches - 1)


@pytest.mark.parametrize("batch", [1, 3, 6])
def test_messages_arriving_in_batches_wait_as_the_bulk_input_queue_says(batch: int) -> None:
    """Voters report together, and a federation's summaries of their reports reach each peer hub together.

    The closed loop took arrivals one by one (the M/M/1 wait), so a batch of six waited 3.5 times less
    behind the other batches than the bulk-input queue M^X/M/1 has them wait. Many clients with a small
    demand each: the closed loop's open-queue limit, here at utilisation 0.6.
    """
    clients, service, rho = 1e6, 0.4, 0.6
    think = clients * service / rho - service  # one message per cycle: utilisation rho if nobody waited
    wait, busy, _ = queueing.closed_loop_wait(
        np.array([clients]), np.ones(1), np.array([think]), np.array([service]), np.ones(1), batch=float(batch)
    )
    assert busy[0] == pytest.approx(rho, rel=0.02)
    assert wait[0] == pytest.approx(_bulk_first_wait(batch, busy[0], service), rel=0.06)


def _star(workers: int, hubs: int = 1) -> object:
    return make_design([("orchestrator", hubs, "m0"), ("worker", workers, "m0")], "star", name=f"s{workers}x{hubs}")


def test_single_hub_star_explodes_past_saturation_and_replicas_fix_it() -> None:
    scenario = make_scenario(workload={"tasks": 500, "subtasks": 8})
    df = evaluate([_star(n) for n in WORKERS], scenario)
    util, wait, latency = (df[c].to_numpy() for c in ("hub_utilisation", "hub_wait_s", "latency"))
    assert util[0] < 0.5 < 1.0 < util[-1]
    saturated = util > 1.0
    assert wait[saturated].min() > 20 * wait[0]
    best = int(np.argmin(latency))
    assert 0 < best < len(WORKERS) - 1  # past saturation, more workers make the workload later
    assert latency[-1] > 2 * latency[best]
    relieved = evaluate([_star(256, 32)], scenario)
    assert relieved["latency"][0] < 0.25 * latency[-1]
    assert relieved["hub_utilisation"][0] < 1.0


def test_deeper_hierarchy_relieves_the_hub() -> None:
    # one orchestration round: the tree's single top coordinator re-planning every task would be a bound of
    # its own (the plan stage), and this test is about the hub queue
    scenario = make_scenario(
        workload={"tasks": 500, "subtasks": 8}, simulator={"decomposition": {"orchestration_rounds": 1}}
    )
    star = _star(256)
    tree = make_design([("orchestrator", 1, "m0"), ("worker", 256, "m0")], "hierarchical", branching=8)
    df = evaluate([star, tree], scenario)
    assert df["latency"][1] < 0.25 * df["latency"][0]
    assert df["hub_wait_s"][1] < 0.1 * df["hub_wait_s"][0]
