"""Pack a batch of designs into padded numpy arrays.

The fast simulator never loops over agents, and not over roles either: a
batch of ``D`` designs with at most ``R`` roles each becomes arrays of shape
``(D, R)`` (padding has count 0) plus per-design vectors of shape ``(D,)``.
This module is the only place that touches the pydantic objects; it reads
each role once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from swarmdesign.archetypes import AGGREGATIONS, ARCHETYPES, STAGE_OF, STAGES, TOPOLOGY_KINDS

if TYPE_CHECKING:
    from swarmdesign.design import Design
    from swarmdesign.fitness import Scenario

ARCH_INDEX: dict[str, int] = {a: i for i, a in enumerate(ARCHETYPES)}
KIND_INDEX: dict[str, int] = {k: i for i, k in enumerate(TOPOLOGY_KINDS)}
AGG_INDEX: dict[str, int] = {a: i for i, a in enumerate(AGGREGATIONS)}
STAGE_INDEX: dict[str, int] = {s: i for i, s in enumerate(STAGES)}
#: stage index of each archetype index, shape (n_archetypes,)
ARCH_STAGE = np.array([STAGE_INDEX[STAGE_OF[a]] for a in ARCHETYPES])
PLAN, PRODUCE, CHECK, MERGE = (STAGE_INDEX[s] for s in STAGES)
COORD_ARCH = np.array([a in ("planner", "orchestrator") for a in ARCHETYPES])


@lru_cache(maxsize=64)
def _kind_mask(kinds: tuple[str, ...]) -> np.ndarray:
    """Boolean ``(n_kinds,)``: which topology kind indices are among ``kinds`` (read-only, shared)."""
    mask = np.zeros(len(KIND_INDEX), dtype=bool)
    mask[[KIND_INDEX[k] for k in kinds]] = True
    mask.flags.writeable = False
    return mask


@dataclass(frozen=True)
class ModelTable:
    """Per-model environment figures, indexed like ``names``; shapes ``(n_models,)``."""

    names: tuple[str, ...]
    skill: np.ndarray
    usd_in: np.ndarray  # USD per input token
    usd_out: np.ndarray  # USD per output token
    seconds: np.ndarray  # seconds per call

    @classmethod
    def from_scenario(cls, scenario: Scenario, extra: Sequence[str] = ()) -> ModelTable:
        names = list(scenario.environment.models)
        names += [m for m in dict.fromkeys(extra) if m not in scenario.environment.models]
        specs = [scenario.model(m) for m in names]
        return cls(
            names=tuple(names),
            skill=np.array([s.skill for s in specs], dtype=float),
            usd_in=np.array([s.input_usd_per_mtok for s in specs], dtype=float) / 1e6,
            usd_out=np.array([s.output_usd_per_mtok for s in specs], dtype=float) / 1e6,
            seconds=np.array([s.seconds_per_call for s in specs], dtype=float),
        )


@dataclass(frozen=True)
class DesignBatch:
    """A batch of designs as arrays. Role arrays are ``(D, R)``, design arrays ``(D,)``.

    ``checks_on_edge`` is False for a checker role that the design's explicit
    edges leave unconnected to any producer (it then verifies nothing).
    """

    count: np.ndarray  # float agents per role
    arch: np.ndarray  # int archetype index (0 for padding; count is 0 there)
    model: np.ndarray  # int model index
    checks_on_edge: np.ndarray  # bool
    kind: np.ndarray  # int topology kind index
    branching: np.ndarray  # float
    brokers: np.ndarray  # float
    clusters: np.ndarray  # float
    redundancy: np.ndarray  # float
    aggregation: np.ndarray  # int
    review_rounds: np.ndarray  # float
    heterogeneity: np.ndarray  # float
    routed: np.ndarray  # bool
    models: ModelTable

    @property
    def n_designs(self) -> int:
        return int(self.count.shape[0])

    @property
    def stage(self) -> np.ndarray:
        return ARCH_STAGE[self.arch]

    def is_kind(self, *kinds: str) -> np.ndarray:
        """Boolean ``(D,)``: the design's topology kind is one of ``kinds``.

        A table lookup: ``np.isin`` sorts its arguments on every call, which
        cost more than the rest of this check in a swarm-sized batch.
        """
        return _kind_mask(kinds)[self.kind]

    @classmethod
    def pack(cls, designs: Sequence[Design], scenario: Scenario) -> DesignBatch:
        n = len(designs)
        width = max((len(d.roles) for d in designs), default=1)
        count = np.zeros((n, width))
        arch = np.zeros((n, width), dtype=np.int64)
        model_idx = np.zeros((n, width), dtype=np.int64)
        on_edge = np.ones((n, width), dtype=bool)
        known = {m: i for i, m in enumerate(scenario.environment.models)}
        unknown: list[str] = []
        kind = np.empty(n, dtype=np.int64)
        branching = np.full(n, 2.0)  # unused outside hierarchies; 2 keeps log_b finite
        brokers = np.ones(n)
        clusters = np.ones(n)
        redundancy = np.empty(n)
        aggregation = np.empty(n, dtype=np.int64)
        review = np.empty(n)
        hetero = np.empty(n)
        routed = np.empty(n, dtype=bool)
        for i, d in enumerate(designs):
            for j, role in enumerate(d.roles):
                count[i, j] = role.count
                arch[i, j] = ARCH_INDEX[role.archetype]
                m = known.get(role.model)
                if m is None:
                    unknown.append(role.model)
                    known[role.model] = m = len(known)
                model_idx[i, j] = m
            if d.edges:
                on_edge[i, : len(d.roles)] = _checker_connected(d)
            t = d.topology
            kind[i] = KIND_INDEX[t.kind]
            if t.branching is not None:
                branching[i] = t.branching
            if t.brokers is not None:
                brokers[i] = t.brokers
            if t.clusters is not None:
                clusters[i] = t.clusters
            c = d.coordination
            redundancy[i] = c.redundancy
            aggregation[i] = AGG_INDEX[c.aggregation]
            review[i] = c.review_rounds
            hetero[i] = c.heterogeneity
            routed[i] = c.routing == "routed"
        return cls(
            count=count,
            arch=arch,
            model=model_idx,
            checks_on_edge=on_edge,
            kind=kind,
            branching=branching,
            brokers=brokers,
            clusters=clusters,
            redundancy=redundancy,
            aggregation=aggregation,
            review_rounds=review,
            heterogeneity=hetero,
            routed=routed,
            models=ModelTable.from_scenario(scenario, unknown),
        )


def _checker_connected(design: Design) -> list[bool]:
    """Per role: False for a check-stage role with no edge to or from a produce-stage role.

    Runs for every searched design (a space's decode makes its stage-order edges explicit), so it reads each
    edge's two stages once and compares strings, without a set per edge or a property call per lookup.
    """
    stages = [STAGE_OF[r.archetype] for r in design.roles]
    if "check" not in stages:
        return [True] * len(stages)
    stage = {r.name: s for r, s in zip(design.roles, stages, strict=True)}
    linked: set[str] = set()
    for a, b in design.edges:
        sa, sb = stage[a], stage[b]
        if (sa == "check" and sb == "produce") or (sa == "produce" and sb == "check"):
            linked.add(a)
            linked.add(b)
    return [s != "check" or r.name in linked for r, s in zip(design.roles, stages, strict=True)]
