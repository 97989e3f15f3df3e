"""The fixed vocabulary of agent archetypes and topology kinds.

An archetype says what a role *does* in a workflow; the simulator, the
exporters and the LLM evaluator all key their behaviour on it, so it is a
closed set. Each archetype belongs to one *stage* of the canonical pipeline
(plan -> produce -> check -> merge); a design without explicit edges is wired
stage by stage in that order.
"""

from __future__ import annotations

from typing import Literal, get_args

Archetype = Literal[
    "planner",
    "orchestrator",
    "architect",
    "coder",
    "solver",
    "worker",
    "researcher",
    "generalist",
    "reviewer",
    "tester",
    "judge",
    "integrator",
    "aggregator",
]
ARCHETYPES: tuple[str, ...] = get_args(Archetype)

STAGE_OF: dict[str, str] = {
    "planner": "plan",
    "orchestrator": "plan",
    "architect": "plan",
    "coder": "produce",
    "solver": "produce",
    "worker": "produce",
    "researcher": "produce",
    "generalist": "produce",
    "reviewer": "check",
    "tester": "check",
    "judge": "check",
    "integrator": "merge",
    "aggregator": "merge",
}
STAGES: tuple[str, ...] = ("plan", "produce", "check", "merge")

#: Archetypes that can act as the hub of a star / hierarchy / federation.
COORDINATORS: frozenset[str] = frozenset({"planner", "orchestrator"})

TopologyKind = Literal[
    "single", "independent", "chain", "star", "hierarchical", "mesh", "ring", "pubsub", "federated", "hybrid"
]
TOPOLOGY_KINDS: tuple[str, ...] = get_args(TopologyKind)

#: Topology kinds whose wiring runs through a coordinator role (the hub). ``hybrid`` is a star whose
#: members also talk to each other directly (Kim et al. 2025's Hybrid: an orchestrator plus peer exchange).
HUB_KINDS: frozenset[str] = frozenset({"star", "hierarchical", "federated", "hybrid"})

#: Kinds whose non-coordinating members exchange messages with every peer directly.
PEER_MESH_KINDS: frozenset[str] = frozenset({"mesh", "hybrid"})

#: Per-kind parameters and their defaults; any other parameter is an error.
TOPOLOGY_PARAMS: dict[str, dict[str, int]] = {
    "single": {},
    "independent": {},
    "chain": {},
    "star": {},
    "hierarchical": {"branching": 8},
    "mesh": {},
    "ring": {},
    "pubsub": {"brokers": 1},
    "federated": {"clusters": 4},
    "hybrid": {},
}

Aggregation = Literal["majority_vote", "judge", "first_valid"]
AGGREGATIONS: tuple[str, ...] = get_args(Aggregation)

Routing = Literal["broadcast", "routed"]
ROUTINGS: tuple[str, ...] = get_args(Routing)
