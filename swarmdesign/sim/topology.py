"""Communication and context cost by topology, in closed form (never an n x n matrix).

For ``n`` agents (AgentPrune, Zhang et al. 2024; G-Designer, Zhang et al.
2024; MacNet, Qian et al. 2024; Karp et al. 2000 for gossip):

=============  =====================  ===================  ==================
kind           channels               messages per step    rounds to spread
=============  =====================  ===================  ==================
single         0                      0                    0
independent    0                      0                    0 (never shares)
chain          n - 1                  1                    n - 1
ring           n                      2                    ceil(n / 2)
star           n - 1                  hub messages         2
hierarchical   n - 1                  hub msgs * b/(b-1)   2 ceil(log_b n)
mesh           n (n - 1) / 2          n - 1                1
pubsub         n + B (B - 1) / 2      1 + subscribers      1 + gossip(n)
federated      n - k + k (k - 1) / 2  hub msgs + k(k-1)/n  3
hybrid         n - 1 + m (m - 1) / 2  hub msgs + m - 1      1
=============  =====================  ===================  ==================

``hybrid`` (Kim et al. 2025's Hybrid architecture) is a star whose ``m = n - c``
members (all but its ``c`` coordinators) also exchange messages with each
other directly: the hub plans, verifies and merges as in a star, and every
member hears the hub plus its ``m - 1`` peers, as in a mesh.

Every message sent is read into its receiver's context, so the context of a
mesh agent grows with n - 1 neighbours heard per step and the mesh's total
message and token cost grows as n^2 when every agent works, while trees,
chains, stars and buses grow linearly.
"""

from __future__ import annotations

import numpy as np

from swarmdesign.archetypes import TOPOLOGY_KINDS

_K = {k: i for i, k in enumerate(TOPOLOGY_KINDS)}


def _by_kind(kind: np.ndarray, table: dict[str, np.ndarray | float]) -> np.ndarray:
    """Pick, per design, the entry of ``table`` for its topology kind (missing kinds -> 0).

    One row per kind, then one gather: a chain of ``np.where`` over the kinds
    cost two numpy calls per kind, most of this function's time in a
    swarm-sized batch. The values are only copied, never computed on.
    """
    n = kind.size
    rows = np.zeros((len(_K), n))
    for name, value in table.items():
        rows[_K[name]] = value
    return rows[kind.reshape(-1), np.arange(n)].reshape(kind.shape)


def _log_base(x: np.ndarray, base: np.ndarray | float) -> np.ndarray:
    return np.log(np.maximum(x, 1.0)) / np.log(np.maximum(base, 1.0 + 1e-9))


def tree_depth(n: np.ndarray, branching: np.ndarray | float) -> np.ndarray:
    """Levels of a tree of span ``b`` above ``n`` leaves: the least integer ``L`` with ``b^L >= n`` (0 for n <= 1).

    A floating ``ceil(log n / log b)`` gives 4 levels for 125 agents at span 5
    (``log 125 / log 5 = 3.0000000000000004``); the estimate is corrected with
    exact powers, so every exact power of the span gets its integer depth.
    """
    n = np.maximum(np.asarray(n, dtype=float), 1.0)
    b = np.maximum(np.asarray(branching, dtype=float), 2.0)
    levels = np.maximum(np.ceil(np.log(n) / np.log(b)), 0.0)
    levels = levels - ((levels > 0) & (b ** (levels - 1.0) >= n))
    return levels + (b**levels < n)


def push_gossip_rounds(n: np.ndarray, fanout: int) -> np.ndarray:
    """Rounds until push gossip with ``fanout`` informs all ``n`` nodes: ``log_{1+f} n + ln(n) / f``.

    The informed set grows by a factor ``1 + f`` per round until most nodes
    know, then each remaining node is missed with probability ``e^-f`` per
    round, a tail of ``ln(n) / f`` rounds (Pittel 1987 for ``f = 1``:
    ``log2 n + ln n``; Karp et al. 2000).
    """
    n = np.maximum(np.asarray(n, dtype=float), 1.0)
    return np.ceil(_log_base(n, fanout + 1.0) + np.log(n) / fanout)


def _members(n: np.ndarray, coordinators: np.ndarray | float) -> np.ndarray:
    """Agents of a hybrid that are not its coordinators (at least one coordinator is its hub)."""
    return np.maximum(n - np.maximum(coordinators, 1.0), 0.0)


def channels(
    kind: np.ndarray, n: np.ndarray, brokers: np.ndarray, clusters: np.ndarray, coordinators: np.ndarray | float = 1.0
) -> np.ndarray:
    """Communication channels (undirected links) among ``n`` agents, ``(D,)``."""
    k = np.minimum(clusters, n)
    m = _members(n, coordinators)
    return _by_kind(
        kind,
        {
            "chain": n - 1,
            "ring": np.where(n > 2, n, n - 1),
            "star": n - 1,
            "hierarchical": n - 1,
            "mesh": n * (n - 1) / 2,
            "pubsub": n + brokers * (brokers - 1) / 2,
            "federated": n - k + k * (k - 1) / 2,
            "hybrid": np.maximum(n - 1, 0.0) + m * (m - 1) / 2,
        },
    )


def messages_per_step(
    kind: np.ndarray,
    n: np.ndarray,
    branching: np.ndarray,
    clusters: np.ndarray,
    hub_messages: float,
    subscribers: int,
    coordinators: np.ndarray | float = 1.0,
    producers: np.ndarray | None = None,
) -> np.ndarray:
    """Messages one producing step causes, relays included, ``(D,)``.

    A hybrid member's step goes to the hub (``hub_messages``, queued there as in
    a star) and to each of its ``m - 1`` peers (not queued: :func:`peer_messages`).
    A hierarchy's lead forwards one summary up per ``b`` messages it receives,
    through the ``L - 1`` tiers above the leaves of its tree over the
    ``producers``: ``1 + sum_{j < L} b^-j`` messages per report (a finite tree,
    not the infinite series ``b / (b - 1)``).
    """
    k = np.minimum(clusters, n)
    return _by_kind(
        kind,
        {
            "chain": np.minimum(n - 1, 1.0),
            "ring": np.minimum(n - 1, 2.0),
            "star": hub_messages,
            "hierarchical": hub_messages * (1.0 + _relays_up(n if producers is None else producers, branching)),
            "mesh": n - 1,
            "pubsub": 1.0 + np.minimum(n - 1, subscribers),
            "federated": hub_messages + k * (k - 1) / np.maximum(n, 1.0),
            "hybrid": hub_messages + peer_messages(kind, n, coordinators),
        },
    )


def _relays_up(n: np.ndarray, branching: np.ndarray) -> np.ndarray:
    """Summaries per report climbing a tree of span ``b`` over ``n`` producers: ``sum_{j=1}^{L-1} b^-j``."""
    b = np.maximum(np.asarray(branching, dtype=float), 2.0)
    above = np.maximum(tree_depth(n, b) - 1.0, 0.0)
    return (1.0 - b**-above) / (b - 1.0)


def peer_messages(kind: np.ndarray, n: np.ndarray, coordinators: np.ndarray | float = 1.0) -> np.ndarray:
    """Messages a hybrid member's step sends straight to its peers, ``m - 1`` (0 for every other kind), ``(D,)``."""
    return np.where(kind == _K["hybrid"], np.maximum(_members(n, coordinators) - 1.0, 0.0), 0.0)


def neighbours_heard(
    kind: np.ndarray, n: np.ndarray, subscribers: int, coordinators: np.ndarray | float = 1.0
) -> np.ndarray:
    """Messages a producing agent reads into its context per step, ``(D,)`` (a hybrid member: hub and peers)."""
    return _by_kind(
        kind,
        {
            "chain": np.minimum(n - 1, 1.0),
            "ring": np.minimum(n - 1, 2.0),
            "star": np.minimum(n - 1, 1.0),
            "hierarchical": np.minimum(n - 1, 1.0),
            "mesh": n - 1,
            "pubsub": np.minimum(n - 1, subscribers),
            "federated": np.minimum(n - 1, 1.0),
            "hybrid": np.minimum(n - 1, 1.0) + peer_messages(kind, n, coordinators),
        },
    )


def readers_per_piece(
    kind: np.ndarray, n: np.ndarray, subscribers: int, coordinators: np.ndarray | float = 1.0
) -> np.ndarray:
    """Agents that read one agent's output, averaged over the agents (mean out-degree), ``(D,)``.

    A chain's last agent has no reader, ``(n - 1) / n``; a star or tree
    centre is read by every leaf and reads each of them, ``2 (n - 1) / n``; a
    mesh ``n - 1``; a ring 2; a bus the subscribers of a topic; a hybrid's
    members their ``m - 1`` peers (the hub's verification is counted apart).
    """
    nn = np.maximum(n, 1.0)
    return _by_kind(
        kind,
        {
            "chain": (nn - 1.0) / nn,
            "ring": np.minimum(n - 1, 2.0),
            "star": 2.0 * (nn - 1.0) / nn,
            "hierarchical": 2.0 * (nn - 1.0) / nn,
            "mesh": n - 1,
            "pubsub": np.minimum(n - 1, subscribers),
            "federated": 2.0 * (nn - 1.0) / nn,
            "hybrid": peer_messages(kind, n, coordinators),  # the members read each other's pieces directly
        },
    )


def spread_rounds(
    kind: np.ndarray,
    n: np.ndarray,
    branching: np.ndarray,
    clusters: np.ndarray,
    fanout: int,
    leaves: np.ndarray | None = None,
) -> np.ndarray:
    """Message rounds until news from one agent reaches all, ``(D,)``.

    O(1) for a mesh, O(log n) for trees and gossip/pub-sub (push gossip with
    its tail, :func:`push_gossip_rounds`), O(n) for chains and rings. A
    hierarchy's tree is built over its ``leaves`` (its producers, as the hub
    paths count it; default ``n``): its other members work through the leaf
    managers without adding tiers, so news climbs and descends the producers'
    tree.
    """
    return _by_kind(
        kind,
        {
            "chain": n - 1,
            "ring": np.ceil(n / 2),
            "star": np.minimum(n - 1, 2.0),
            "hierarchical": 2 * tree_depth(n if leaves is None else leaves, branching),
            "mesh": np.minimum(n - 1, 1.0),
            "pubsub": 1 + push_gossip_rounds(n, fanout),
            "federated": np.minimum(n - 1, 3.0),
            "hybrid": np.minimum(n - 1, 1.0),
        },
    )


def handoff_hops(
    kind: np.ndarray, n: np.ndarray, branching: np.ndarray, producers: np.ndarray | None = None
) -> np.ndarray:
    """Mean hops a dependent hand-off travels between two producing agents, ``(D,)``.

    A hierarchy's hand-off climbs to the two producers' lowest common manager
    and comes down again (:func:`tree_handoff_hops`); its tree manages the
    ``producers`` (checkers, mergers and other members work through the hubs
    without adding levels).
    """
    managed = n if producers is None else producers
    return _by_kind(
        kind,
        {
            "chain": 1.0,
            "ring": 1.0,
            "star": 2.0,
            "hierarchical": tree_handoff_hops(managed, branching),
            "mesh": 1.0,
            "pubsub": 2.0,
            "federated": 2.0,
            "hybrid": 1.0,  # dependent work passes peer to peer
        },
    ) * (n > 1)


def tree_handoff_hops(n: np.ndarray, branching: np.ndarray | float) -> np.ndarray:
    """Mean hops between two distinct producers of a management tree of span ``b`` over ``n`` of them, ``(D,)``.

    Producers sit in blocks of ``b`` under leaf managers, and every ``b``
    managers of a tier report to one of them, the lead of leads (the agent
    mode's explicit tree, :func:`swarmdesign.sim.agent_graph.build_wiring`).
    Two producers in one block talk through their manager (2 hops). Further
    apart, the hand-off climbs to the level ``h`` of their lowest common
    manager and down again; the two share the subtree of height ``h - 1``
    with probability ``(b^(h-1) - 1) / (n - 1)`` (distinct producers placed in
    order), so ``E[h] = L - ((b^L - 1) / (b - 1) - L) / (n - 1)`` for a tree
    of ``L`` levels (:func:`tree_depth`). A lead of leads is one of the
    managers below it, so of the ``h - 1`` manager levels climbed a message
    skips, on average, the ``1 / b`` whose manager is the next tier's lead:
    ``2 (1 + (E[h] - 1)(1 - 1/b))``. The plain ``2 L`` is the longest such
    path, not the mean; the mean is what a workload of many hand-offs pays.
    """
    n = np.maximum(np.asarray(n, dtype=float), 1.0)
    b = np.maximum(np.asarray(branching, dtype=float), 2.0)
    levels = tree_depth(n, b)
    shared = ((b**levels - 1.0) / (b - 1.0) - levels) / np.maximum(n - 1.0, 1.0)
    lca = np.maximum(levels - shared, 1.0)
    return 2.0 * (1.0 + (lca - 1.0) * (1.0 - 1.0 / b))


def orchestration_transcript(
    pieces: float | np.ndarray, workers: np.ndarray, coordinators: np.ndarray, relays: np.ndarray, rounds: int
) -> tuple[np.ndarray, np.ndarray]:
    """Messages delivered and message-sized reads per task of an orchestrator's ``rounds`` rounds, ``(D,)`` each.

    Each round the coordinators brief the task's ``pieces`` and read one
    report per piece (``2 pieces`` messages, plus ``relays`` between
    federated hubs), then re-plan; every later round starts from the task's
    transcript, so each of the ``workers + coordinators`` participants is sent
    the earlier round's messages and re-reads all rounds so far (Anthropic
    2025: the lead agent synthesises the subagents' results and decides
    whether another round is needed; Kim et al. 2025, Table 2: centralised
    calls grow as ``r n k``). With a piece per worker, messages grow as
    ``n^2`` in the team size and reads as ``n^2 r^2``; one round
    (``rounds = 1``) has no transcript to share.
    """
    per_round = 2.0 * pieces + relays
    participants = workers + coordinators
    messages = (rounds - 1.0) * per_round * participants
    reads = per_round * participants * rounds * (rounds - 1.0) / 2.0
    return messages, reads
