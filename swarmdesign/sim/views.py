"""Role-level views of a design batch shared by both halves of the fast simulator.

Everything here is per design ``(D,)`` or per role ``(D, R)``; nothing is per
agent, which is why a design of a million agents costs what one of ten does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from swarmdesign.archetypes import HUB_KINDS
from swarmdesign.sim import topology
from swarmdesign.sim.batch import ARCH_INDEX, CHECK, COORD_ARCH, MERGE, PRODUCE, DesignBatch
from swarmdesign.sim.params import SimParams


def _masked_mean(values: np.ndarray, weights: np.ndarray, fallback: np.ndarray | float) -> np.ndarray:
    """Weighted mean over roles ``(D, R) -> (D,)``; ``fallback`` where the weights sum to 0.

    The sums call ``np.add.reduce`` (what ``.sum`` ends in, same result): a call of the fast mode makes
    dozens of these on arrays of a few hundred numbers, where the method's wrappers cost more than the sum.
    """
    total = _ADD_REDUCE(weights, axis=1)
    mean = _ADD_REDUCE(values * weights, axis=1) / np.maximum(total, 1e-300)
    return np.where(total > 0, mean, fallback)


def _masked_max(values: np.ndarray, mask: np.ndarray, fallback: np.ndarray | float) -> np.ndarray:
    out = _MAX_REDUCE(np.where(mask, values, -np.inf), axis=1)
    return np.where(np.isfinite(out), out, fallback)


_ADD_REDUCE, _MAX_REDUCE = np.add.reduce, np.maximum.reduce


@dataclass(frozen=True)
class RoleViews:
    """Masks, counts and model figures of a batch; see field comments for units."""

    batch: DesignBatch
    count: np.ndarray  # (D, R) agents
    skill: np.ndarray  # (D, R) logits
    seconds: np.ndarray  # (D, R) seconds per call
    usd_in: np.ndarray  # (D, R) USD per input token
    usd_out: np.ndarray  # (D, R) USD per output token
    producer: np.ndarray  # (D, R) bool: does the production work
    producer_arch: np.ndarray  # (D, R) bool: archetype is a producer archetype
    coordinator: np.ndarray  # (D, R) bool
    checker: np.ndarray  # (D, R) bool: check-stage role wired to producers
    merger: np.ndarray  # (D, R) bool
    n_agents: np.ndarray  # (D,)
    n_producers: np.ndarray  # (D,)
    n_coordinators: np.ndarray  # (D,)
    n_checkers: np.ndarray  # (D,)
    n_mergers: np.ndarray  # (D,)
    has_architect: np.ndarray  # (D,) bool
    hub_kind: np.ndarray  # (D,) bool: star / hierarchical / federated with a coordinator
    pubsub: np.ndarray  # (D,) bool
    single: np.ndarray  # (D,) bool
    pipeline_kind: np.ndarray  # (D,) bool: chain / ring pass work agent to agent
    planned: np.ndarray  # (D,) bool: a coordinator plans each task
    split: np.ndarray  # (D,) bool: a task's pieces are spread over several agents
    coordinator_skill: np.ndarray  # (D,) logits (best coordinator, planner bonus included)
    coordinator_seconds: np.ndarray  # (D,)
    checker_seconds: np.ndarray  # (D,)
    merger_seconds: np.ndarray  # (D,)
    heard: np.ndarray  # (D,) messages read per step
    messages_per_step: np.ndarray  # (D,)
    channels: np.ndarray  # (D,)
    spread_rounds: np.ndarray  # (D,)
    handoff_hops: np.ndarray  # (D,)

    def arch_is(self, name: str) -> np.ndarray:
        return self.batch.arch == ARCH_INDEX[name]

    @classmethod
    def build(cls, batch: DesignBatch, params: SimParams, subtasks: int) -> RoleViews:
        m = batch.models
        count = batch.count
        stage = batch.stage
        active = count > 0
        producer_arch = stage == PRODUCE
        has_prod = (active & producer_arch).any(axis=1)
        producer = active & (producer_arch | ~has_prod[:, None])
        coordinator = active & COORD_ARCH[batch.arch]
        # independent agents have no channels: nobody hands out plans or reviews others' work
        connected = ~batch.is_kind("independent")
        checker = active & (stage == CHECK) & batch.checks_on_edge & connected[:, None]
        merger = active & (stage == MERGE)
        skill = m.skill[batch.model]
        seconds = m.seconds[batch.model]
        n_agents = count.sum(axis=1)
        n_prod = (count * producer).sum(axis=1)
        n_coord = (count * coordinator).sum(axis=1)
        n_check = (count * checker).sum(axis=1)
        n_merge = (count * merger).sum(axis=1)
        hub_kind = batch.is_kind(*HUB_KINDS) & (n_coord > 0)
        single = batch.is_kind("single")
        planner_bonus = np.where(batch.arch == ARCH_INDEX["planner"], params.decomposition.planner_bonus, 0.0)
        mean_prod_skill = _masked_mean(skill, count * producer, 0.0)
        kind, branching, clusters = batch.kind, batch.branching, batch.clusters
        comm = params.communication
        return cls(
            batch=batch,
            count=count,
            skill=skill,
            seconds=seconds,
            usd_in=m.usd_in[batch.model],
            usd_out=m.usd_out[batch.model],
            producer=producer,
            producer_arch=producer_arch,
            coordinator=coordinator,
            checker=checker,
            merger=merger,
            n_agents=n_agents,
            n_producers=n_prod,
            n_coordinators=n_coord,
            n_checkers=n_check,
            n_mergers=n_merge,
            has_architect=((batch.arch == ARCH_INDEX["architect"]) & active).any(axis=1),
            hub_kind=hub_kind,
            pubsub=batch.is_kind("pubsub"),
            single=single,
            pipeline_kind=batch.is_kind("chain", "ring"),
            planned=(n_coord > 0) & connected,
            split=(n_prod > 1) & (subtasks > 1) & ~single,
            coordinator_skill=_masked_max(skill + planner_bonus, coordinator, mean_prod_skill),
            coordinator_seconds=_masked_mean(seconds, count * coordinator, 0.0),
            checker_seconds=_masked_mean(seconds, count * checker, _masked_mean(seconds, count * producer, 1.0)),
            merger_seconds=_masked_mean(seconds, count * merger, 0.0),
            heard=topology.neighbours_heard(kind, n_agents, comm.pubsub_subscribers, n_coord),
            messages_per_step=topology.messages_per_step(
                kind,
                n_agents,
                branching,
                clusters,
                params.queueing.hub_messages_per_step,
                comm.pubsub_subscribers,
                n_coord,
                n_prod,
            ),
            channels=topology.channels(kind, n_agents, batch.brokers, clusters, n_coord),
            spread_rounds=topology.spread_rounds(kind, n_agents, branching, clusters, comm.gossip_fanout, n_prod),
            handoff_hops=topology.handoff_hops(kind, n_agents, branching, n_prod),
        )

    @property
    def mean_skill_producers(self) -> np.ndarray:
        return _masked_mean(self.skill, self.count * self.producer, 0.0)


__all__ = ["CHECK", "MERGE", "PRODUCE", "RoleViews"]
