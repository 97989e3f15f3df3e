"""Agent mode: the population of individual agents and how work lands on them.

The fast mode reasons per role with closed forms; the agent mode
instantiates every agent (arrays of length ``n``, this module), wires an
explicit graph for the topology (:mod:`agent_graph`), samples individual
tasks and follows every attempt, vote, review, hand-off and merge
(:mod:`agent_quality`, :mod:`agent_votes`, :mod:`agent_events`), and runs
the workload through a discrete-event simulation of worker groups, hub
queues and checker pools (:mod:`agent_schedule`; :mod:`agent_run` ties
the steps together). It shares the mechanism
parameters and the design's packed arrays, but none of the fast mode's
formulas for the quantities it checks (voting, correlation, fault
survival, hub loss, contention, tree depth, gossip), which is what makes
the comparison between the two modes a test of the fast one.

It is meant for designs up to about 10^4 agents.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from swarmdesign.archetypes import TOPOLOGY_KINDS
from swarmdesign.errors import SwarmdesignError
from swarmdesign.sim.batch import ARCH_INDEX, CHECK, COORD_ARCH, MERGE, PRODUCE, DesignBatch
from swarmdesign.sim.params import SimParams

if TYPE_CHECKING:
    from swarmdesign.design import Design
    from swarmdesign.fitness import Scenario

MAX_AGENTS = 100_000


@dataclass(frozen=True)
class Population:
    """One design's agents; arrays of shape ``(n,)`` unless stated."""

    batch: DesignBatch
    arch: np.ndarray  # archetype index
    model: np.ndarray  # model index
    skill: np.ndarray  # logits
    seconds: np.ndarray
    usd_in: np.ndarray
    usd_out: np.ndarray
    producers: np.ndarray  # agent indices doing production work
    coordinators: np.ndarray
    planners: np.ndarray  # coordinators that can hand out plans (none without channels)
    checker_roles: list[np.ndarray]  # per checker role wired to producers, its agents
    mergers: np.ndarray
    judges: np.ndarray

    @property
    def n(self) -> int:
        return int(self.arch.size)

    @classmethod
    def build(cls, design: Design, scenario: Scenario) -> Population:
        if design.total_agents > MAX_AGENTS:
            raise SwarmdesignError(
                f"agent mode simulates every agent and supports at most {MAX_AGENTS} agents; "
                f"design '{design.name}' has {design.total_agents} (use mode 'fast')",
                field="evaluator.mode",
            )
        b = DesignBatch.pack([design], scenario)
        counts = b.count[0].astype(np.int64)
        role = np.repeat(np.arange(counts.size), counts)
        arch = b.arch[0][role]
        model = b.model[0][role]
        stage = b.stage[0][role]
        m = b.models
        idx = np.arange(role.size)
        is_prod = stage == PRODUCE
        producers = idx[is_prod] if is_prod.any() else idx
        # independent agents have no channels: nobody hands out plans or reviews others' work
        connected = TOPOLOGY_KINDS[int(b.kind[0])] != "independent"
        checker_roles = [
            idx[role == r]
            for r in range(counts.size)
            if connected and counts[r] > 0 and b.stage[0][r] == CHECK and b.checks_on_edge[0][r]
        ]
        return cls(
            batch=b,
            arch=arch,
            model=model,
            skill=m.skill[model],
            seconds=m.seconds[model],
            usd_in=m.usd_in[model],
            usd_out=m.usd_out[model],
            producers=producers,
            coordinators=idx[COORD_ARCH[arch]],
            planners=idx[COORD_ARCH[arch]] if connected else idx[:0],
            checker_roles=checker_roles,
            mergers=idx[stage == MERGE],
            judges=idx[arch == ARCH_INDEX["judge"]],
        )

    def kind(self) -> str:
        return TOPOLOGY_KINDS[int(self.batch.kind[0])]


def ability_bonus(pop: Population, agents: np.ndarray, task_type: np.ndarray, params: SimParams) -> np.ndarray:
    """Logit bonus of ``agents`` working on tasks of archetype index ``task_type`` (same shape)."""
    sp = params.skill
    arch = pop.arch[agents]
    producer_arch = np.isin(arch, [ARCH_INDEX[a] for a in ("coder", "solver", "worker", "researcher", "generalist")])
    return np.where(
        arch == task_type,
        sp.match_bonus,
        np.where(
            arch == ARCH_INDEX["generalist"],
            sp.generalist_bonus,
            np.where(producer_arch, -sp.mismatch_penalty, -sp.non_producer_penalty),
        ),
    )


class Dispatcher:
    """Lands tasks of each type on concrete agents: broadcast claiming or a routed index."""

    def __init__(self, pop: Population, params: SimParams) -> None:
        self.pop = pop
        self.params = params
        prods = pop.producers
        self.types = np.array([ARCH_INDEX[a] for a in params.skill.normalised_mix()])
        self.mix = np.array(list(params.skill.normalised_mix().values()))
        gen = prods[pop.arch[prods] == ARCH_INDEX["generalist"]]
        self.right: list[np.ndarray] = []
        for t in self.types:
            spec = prods[pop.arch[prods] == t]
            self.right.append(spec if spec.size else gen)
        routed = bool(pop.batch.routed[0])
        rp = params.routing
        self.p_direct = rp.routed_accuracy if routed else rp.broadcast_self_selection

    def land(self, rng: np.random.Generator, type_slot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Agents for tasks whose type slot is ``type_slot`` (any shape); also whether each is a right archetype."""
        prods = self.pop.producers
        agent = prods[rng.integers(0, prods.size, size=type_slot.shape)]
        direct = rng.random(type_slot.shape) < self.p_direct
        for slot, right in enumerate(self.right):
            if right.size == 0:
                continue
            sel = direct & (type_slot == slot)
            agent[sel] = right[rng.integers(0, right.size, size=int(sel.sum()))]
        is_right = np.zeros(type_slot.shape, dtype=bool)
        for slot, right in enumerate(self.right):
            sel = type_slot == slot
            is_right[sel] = np.isin(agent[sel], right)
        return agent, is_right
