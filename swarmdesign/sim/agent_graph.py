"""Explicit wiring of individual agents for the agent mode.

Each topology kind becomes concrete links between agent indices (a mesh
stays implicit: all pairs), hub queues with their servers (replicated
coordinators, promoted team leads, brokers), and the rounds a piece of news
needs to reach everyone, measured by breadth-first search on the links or,
for pub/sub, by simulating push gossip (Karp et al. 2000).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import shortest_path

from swarmdesign.sim.agent import Population
from swarmdesign.sim.params import SimParams


@dataclass(frozen=True)
class Wiring:
    """Links, hubs and spread of one design's agents."""

    kind: str
    channels: float  # undirected links
    heard: np.ndarray  # (n,) messages read into context per step
    hub_of: np.ndarray  # (n,) hub queue of each agent, -1 without
    hub_servers: np.ndarray  # (n_queues,) servers of each queue
    hub_service_s: float  # seconds per message
    manager_parent: np.ndarray  # (n_queues,) parent queue of a queue in a hierarchy, -1 at the top
    promoted: np.ndarray  # agent indices that manage instead of producing
    spread_rounds: float
    subscribers: int  # deliveries per publish (pub/sub)
    peer_hubs: int  # other hubs a federated hub reports to
    cluster_size: float  # agents per federated cluster
    branching: int


def _bfs_eccentricity(n: int, edges: np.ndarray, source: int) -> float:
    if n <= 1 or edges.size == 0:
        return 0.0
    a = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n)).tocsr()
    dist = shortest_path(a, directed=False, unweighted=True, indices=[source])[0]
    return float(np.max(dist[np.isfinite(dist)]))


def _gossip_rounds(rng: np.random.Generator, n: int, fanout: int) -> float:
    """Rounds of push gossip (each informed agent tells ``fanout`` random agents) until all know."""
    informed = np.zeros(n, dtype=bool)
    informed[0] = True
    rounds = 0
    while not informed.all() and rounds < 10 * n:
        senders = int(informed.sum())
        informed[rng.integers(0, n, size=senders * fanout)] = True
        rounds += 1
    return float(rounds)


def build_wiring(pop: Population, params: SimParams, rng: np.random.Generator) -> Wiring:
    """Wire ``pop`` by its design's topology kind (see the module docstring)."""
    b = pop.batch
    kind = pop.kind()
    n = pop.n
    qp, comm = params.queueing, params.communication
    idx = np.arange(n)
    heard = np.zeros(n)
    hub_of = np.full(n, -1, dtype=np.int64)
    servers = np.zeros(0)
    parent = np.zeros(0, dtype=np.int64)
    promoted = np.zeros(0, dtype=np.int64)
    edges = np.zeros((0, 2), dtype=np.int64)
    spread = 0.0
    subscribers = min(n - 1, comm.pubsub_subscribers)
    coord_service = qp.hub_service_fraction * (
        float(pop.seconds[pop.coordinators].mean()) if pop.coordinators.size else 1.0
    )
    service = coord_service
    peer_hubs, cluster_size = 0, float(n)
    branching = int(b.branching[0])
    if kind == "chain":
        edges = np.stack([idx[:-1], idx[1:]], axis=1)
        heard[1:] = 1.0
        spread = _bfs_eccentricity(n, edges, 0)
    elif kind == "ring":
        edges = np.stack([idx, (idx + 1) % n], axis=1) if n > 2 else np.stack([idx[:-1], idx[1:]], axis=1)
        heard[:] = min(n - 1, 2)
        spread = _bfs_eccentricity(n, edges, 0)
    elif kind == "mesh":
        heard[:] = n - 1
        spread = 1.0 if n > 1 else 0.0
    elif kind == "star":
        hubs = pop.coordinators
        others = np.setdiff1d(idx, hubs)
        edges = np.concatenate(
            [
                np.stack([others, hubs[np.arange(others.size) % hubs.size]], axis=1),
                np.stack([hubs[:-1], hubs[1:]], axis=1),
            ]
        )
        heard[others] = 1.0
        hub_of[pop.producers] = 0
        servers = np.array([float(hubs.size)])
        parent = np.array([-1])
        spread = _bfs_eccentricity(n, edges, int(others[0]) if others.size else 0)
    elif kind == "hierarchical":
        prods = pop.producers
        blocks = int(np.ceil(prods.size / branching))
        coords = pop.coordinators
        # leaf managers: coordinators share the blocks; blocks without one promote their first producer
        servers = np.zeros(blocks)
        n_staffed = min(blocks, coords.size)
        np.add.at(servers, np.arange(coords.size) % blocks, 1.0)
        promoted = prods[np.arange(n_staffed, blocks) * branching]
        servers[n_staffed:] = 1.0
        hub_of[prods] = np.arange(prods.size) // branching
        hub_of[promoted] = -1
        # managers above the leaf level form a tree of the same branching
        parent = np.where(np.arange(blocks) > 0, (np.arange(blocks) - 1) // branching, -1)
        depth = 1 + (np.ceil(np.log(blocks) / np.log(branching)) if blocks > 1 else 0)
        edges = np.zeros((0, 2), dtype=np.int64)
        heard[prods] = 1.0
        spread = 2.0 * depth
    elif kind == "pubsub":
        heard[:] = subscribers
        hub_of[pop.producers] = 0
        servers = np.array([float(b.brokers[0])])
        parent = np.array([-1])
        service = qp.broker_service_s
        spread = 1.0 + _gossip_rounds(rng, n, comm.gossip_fanout)
    elif kind == "federated":
        k = int(min(b.clusters[0], n))
        cluster = idx % k
        servers = np.zeros(k)
        np.add.at(servers, cluster[pop.coordinators], 1.0)
        servers = np.maximum(servers, 1.0)
        hub_of[pop.producers] = cluster[pop.producers]
        parent = np.full(k, -1)
        heard[:] = 1.0 if n > 1 else 0.0
        peer_hubs, cluster_size = k - 1, n / k
        spread = min(n - 1, 3.0)
    channels = _channels(kind, n, edges, b, servers)
    return Wiring(
        kind=kind,
        channels=channels,
        heard=heard,
        hub_of=hub_of,
        hub_servers=servers,
        hub_service_s=service,
        manager_parent=parent,
        promoted=promoted,
        spread_rounds=spread,
        subscribers=max(subscribers, 0),
        peer_hubs=peer_hubs,
        cluster_size=cluster_size,
        branching=branching,
    )


def _channels(kind: str, n: int, edges: np.ndarray, b: object, servers: np.ndarray) -> float:
    """Links counted on the explicit wiring (degrees for the implicit mesh)."""
    if kind == "mesh":
        return float(np.full(n, n - 1).sum() / 2)
    if kind in ("chain", "ring", "star"):
        return float(len({(min(u, v), max(u, v)) for u, v in edges.tolist() if u != v}))
    if kind == "hierarchical":
        return float(max(n - 1, 0))
    if kind == "pubsub":
        brokers = float(servers[0])
        return n + brokers * (brokers - 1) / 2
    if kind == "federated":
        k = float(servers.size)
        return (n - k) + k * (k - 1) / 2
    return 0.0
