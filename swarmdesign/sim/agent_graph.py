"""Explicit wiring of individual agents for the agent mode.

Each topology kind becomes concrete links between agent indices (a mesh
stays implicit: all pairs), hub queues with their servers (replicated
coordinators, promoted team leads, brokers), and the rounds a piece of news
needs to reach everyone, measured by breadth-first search on the links or,
for pub/sub, by simulating push gossip (Karp et al. 2000). A hierarchy is
built as an explicit tree (producers under leaf managers, managers under
managers, ``branching`` children each), so its depth, the hops of a
hand-off and the managers a report passes are counted on the tree, never
taken from a logarithm.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import shortest_path

from swarmdesign.archetypes import HUB_KINDS
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
    leaf_queues: int  # the first queues, which workers report to (a hierarchy's upper tiers only forward)
    promoted: np.ndarray  # agent indices that manage instead of producing
    spread_rounds: float
    handoff_hops: float  # mean links between the producers of two dependent steps
    hub_messages: np.ndarray  # (n,) hub messages each attempt of an agent sends (0 when none carries them)
    hub_path: np.ndarray  # (n,) hub queues a report of an agent passes on its way to the top
    readers: np.ndarray  # (n,) agents that read each agent's output directly (its out-degree)
    subscribers: int  # deliveries per publish (pub/sub)
    cluster_of: np.ndarray  # (n,) federated cluster of each agent (0 elsewhere)
    peer_hubs: int  # other hubs a federated hub reports to
    cluster_size: float  # agents per federated cluster
    branching: int


def _distances(n: int, edges: np.ndarray, sources: np.ndarray) -> np.ndarray:
    """Hop counts from each of ``sources`` to every agent, ``(len(sources), n)`` (inf where unreachable)."""
    if n <= 1 or edges.size == 0:
        return np.zeros((sources.size, n))
    a = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n)).tocsr()
    return shortest_path(a, directed=False, unweighted=True, indices=sources)


def _bfs_eccentricity(n: int, edges: np.ndarray, source: int) -> float:
    dist = _distances(n, edges, np.array([source]))[0]
    return float(np.max(dist[np.isfinite(dist)], initial=0.0))


def _mean_hops(n: int, edges: np.ndarray, producers: np.ndarray, rng: np.random.Generator) -> float:
    """Mean hops between two distinct producers, from breadth-first search out of up to 32 of them."""
    if producers.size < 2 or edges.size == 0:
        return 0.0
    sources = rng.choice(producers, size=min(32, producers.size), replace=False)
    dist = _distances(n, edges, sources)[:, producers]
    off = dist[(dist > 0) & np.isfinite(dist)]
    return float(off.mean()) if off.size else 0.0


def _tree_depths(parent: np.ndarray) -> np.ndarray:
    """Depth of every node of a forest given each node's parent (-1 at a root); roots have depth 0."""
    depth = np.zeros(parent.size, dtype=np.int64)
    node = parent.copy()
    while (node >= 0).any():
        up = node >= 0
        depth[up] += 1
        node[up] = parent[node[up]]
    return depth


def _gossip_rounds(rng: np.random.Generator, n: int, fanout: int, runs: int = 8) -> float:
    """Mean rounds of push gossip (each informed agent tells ``fanout`` random agents) until all know.

    The last few agents are reached by chance (the push tail), so one run
    varies by about a round; the mean of ``runs`` independent runs is reported.
    """
    total = 0
    for _ in range(runs):
        informed = np.zeros(n, dtype=bool)
        informed[0] = True
        rounds = 0
        while not informed.all() and rounds < 10 * n:
            senders = int(informed.sum())
            informed[rng.integers(0, n, size=senders * fanout)] = True
            rounds += 1
        total += rounds
    return total / runs


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
    leaf_queues = -1  # all queues unless a hierarchy says otherwise
    cluster = np.zeros(n, dtype=np.int64)
    hop_edges: np.ndarray | None = None  # links a hand-off travels, where they differ from ``edges``
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
    elif kind in ("star", "hybrid"):
        hubs = pop.coordinators
        others = np.setdiff1d(idx, hubs)
        edges = np.concatenate(
            [
                np.stack([others, hubs[np.arange(others.size) % hubs.size]], axis=1),
                np.stack([hubs[:-1], hubs[1:]], axis=1),
            ]
        )
        # A hand-off goes through the hub's one queue, which any replica serves (the queue's servers below):
        # two hops from worker to worker however many replicas there are, not a walk along the replicas.
        hop_edges = np.concatenate(
            [
                np.stack([others, np.full(others.size, hubs[0])], axis=1),
                np.stack([hubs[1:], hubs[:1].repeat(hubs.size - 1)], axis=1),
            ]
        )
        # a hybrid's members also hear each other directly (peer links, not drawn: implicit as in a mesh)
        heard[others] = float(others.size) if kind == "hybrid" else 1.0
        hub_of[pop.producers] = 0
        servers = np.array([float(hubs.size)])
        parent = np.array([-1])
        # news spreads through the one queue too: a replica does not pass it along the others
        spread = (
            1.0 if kind == "hybrid" and n > 1 else _bfs_eccentricity(n, hop_edges, int(others[0]) if others.size else 0)
        )
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
        manager = np.empty(blocks, dtype=np.int64)  # the agent heading each block
        manager[:n_staffed] = coords[:n_staffed]
        manager[n_staffed:] = promoted
        # tiers above the leaf managers: every `branching` managers report to one manager of the next
        # tier, headed by the first of them (a lead of leads), until one tier has a single manager
        parent_list, heads, tier = [], [manager], np.arange(blocks)
        first = 0
        while tier.size > 1:
            up = tier.size // branching + (tier.size % branching > 0)
            parent_list.append(first + tier.size + np.arange(tier.size) // branching)
            first += tier.size
            tier = np.arange(up)
            heads.append(heads[-1][::branching])
        parent_list.append(np.full(tier.size, -1))
        parent = np.concatenate(parent_list)
        head = np.concatenate(heads)
        servers = np.concatenate([servers, np.ones(parent.size - blocks)])
        workers = prods[hub_of[prods] >= 0]
        up_edges = np.stack([head[parent >= 0], head[parent[parent >= 0]]], axis=1)
        edges = np.concatenate(
            [
                np.stack([workers, manager[hub_of[workers]]], axis=1),
                up_edges[up_edges[:, 0] != up_edges[:, 1]],
                # extra coordinators of a block are its co-managers
                np.stack([coords[n_staffed:], manager[np.arange(n_staffed, coords.size) % blocks]], axis=1),
            ]
        )
        heard[prods] = 1.0
        # news from the worker farthest from the top: try workers spread over the blocks
        sources = (
            workers[np.linspace(0, workers.size - 1, min(8, workers.size)).astype(int)] if workers.size else idx[:1]
        )
        dist = _distances(n, edges, sources)
        spread = float(np.max(np.where(np.isfinite(dist), dist, 0.0), initial=0.0))
        leaf_queues = blocks
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
    # reports climb the manager tree: one queue per level passed (a star, cluster or bus: one)
    hub_path = np.where(hub_of >= 0, 1.0, 0.0)
    carries = hub_of >= 0  # agents whose reports pass through a hub
    if kind == "hierarchical" and parent.size:
        depths = _tree_depths(parent)
        hub_path[hub_of >= 0] = 1.0 + depths[hub_of[hub_of >= 0]]
        # a promoted producer heads its own block: its reports start at the tier above it
        hub_path[promoted] = depths[blocks - promoted.size + np.arange(promoted.size)]
        carries[promoted] = True
    hub_kind = kind in HUB_KINDS and pop.coordinators.size > 0
    per_attempt = 1.0 + subscribers if kind == "pubsub" else (qp.hub_messages_per_step if hub_kind else 0.0)
    # who reads an agent's output: the next agent of a chain, both ring neighbours, every mesh peer, the
    # subscribers of a topic; in hub topologies the hub (its verification is modelled on its own)
    readers = np.zeros(n)
    if kind == "chain":
        readers[:-1] = 1.0
    elif kind in ("ring", "mesh", "pubsub"):
        readers[:] = heard
    elif kind == "hybrid" and pop.coordinators.size:  # each member's piece is read by its peers
        members = np.setdiff1d(idx, pop.coordinators)
        readers[members] = max(members.size - 1, 0)
    if kind in ("chain", "ring", "mesh", "hybrid"):
        hops = 1.0 if n > 1 else 0.0  # dependent work passes to a neighbour (a hybrid's: to a peer)
    elif kind in ("pubsub", "federated"):
        hops = 2.0 if n > 1 else 0.0  # through the broker / the cluster's hub
    else:
        hops = _mean_hops(n, edges if hop_edges is None else hop_edges, pop.producers, rng)
    return Wiring(
        kind=kind,
        channels=channels,
        heard=heard,
        hub_of=hub_of,
        hub_servers=servers,
        hub_service_s=service,
        manager_parent=parent,
        leaf_queues=servers.size if leaf_queues < 0 else leaf_queues,
        promoted=promoted,
        spread_rounds=spread,
        handoff_hops=hops,
        hub_messages=np.where(carries, per_attempt, 0.0),
        hub_path=hub_path,
        readers=readers,
        subscribers=max(subscribers, 0),
        cluster_of=cluster,
        peer_hubs=peer_hubs,
        cluster_size=cluster_size,
        branching=branching,
    )


def _channels(kind: str, n: int, edges: np.ndarray, b: object, servers: np.ndarray) -> float:
    """Links counted on the explicit wiring (degrees for the implicit mesh)."""
    if kind == "mesh":
        return float(np.full(n, n - 1).sum() / 2)
    if kind in ("chain", "ring", "star", "hybrid"):
        links = float(len({(min(u, v), max(u, v)) for u, v in edges.tolist() if u != v}))
        if kind == "hybrid":  # plus the implicit peer links among the members (all but the coordinators)
            m = float(n - int(servers[0])) if servers.size else float(n)
            links += m * (m - 1) / 2
        return links
    if kind == "hierarchical":
        return float(max(n - 1, 0))
    if kind == "pubsub":
        brokers = float(servers[0])
        return n + brokers * (brokers - 1) / 2
    if kind == "federated":
        k = float(servers.size)
        return (n - k) + k * (k - 1) / 2
    return 0.0
