"""Search spaces: what may vary in a design, and within which bounds.

A space (``search_spaces/*.yaml``, versioned ``swarmdesign_space: 1``) lists
the roles that may appear with their count ranges (log scale for large
ranges; ``min: 0`` makes a role optional), the model choices, the allowed
topology kinds and their parameter ranges, coordination ranges, edges that
are always present or searched on/off, and constraints.

It compiles to a fixed, ordered list of parameters, which gives two views of
the same point:

* Optuna distributions (``distributions()``), so that every evaluation, by any
  optimizer, is a trial with the same params, and
* the unit box ``[0, 1]^d`` (``decode(vector)`` / ``encode(design)``), so that
  continuous optimisers (PSO, CMA-ES, GA genes) serve every space.

Integers and categories occupy equal-width bins of the box (in log space for
log ranges), and ``encode`` returns a bin's centre, so ``decode(encode(d))``
reproduces ``d``. Every vector of the box decodes to a valid Design that
satisfies the constraints: ``decode`` *repairs* what the raw parameters may
violate (a hub topology without a hub, too many agents in total) by a fixed,
documented rule instead of rejecting the point, because rejection would leave
holes in the landscape that swarm optimisers fall into.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from swarmdesign import yamlio
from swarmdesign.archetypes import (
    AGGREGATIONS,
    COORDINATORS,
    HUB_KINDS,
    ROUTINGS,
    STAGE_OF,
    TOPOLOGY_KINDS,
    Aggregation,
    Archetype,
    Routing,
    TopologyKind,
)
from swarmdesign.design import (
    MAX_BRANCHING,
    MAX_BROKERS,
    MAX_CLUSTERS,
    MAX_REDUNDANCY,
    MAX_REVIEW_ROUNDS,
    MAX_ROLE_COUNT,
    Coordination,
    Design,
    Float,
    Int,
    Role,
    Topology,
    _check_text,
)
from swarmdesign.errors import SwarmdesignError, choices, from_validation_error

FORMAT_KEY = "swarmdesign_space"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IntRange(_Strict):
    min: Int
    max: Int
    log: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> IntRange:
        if self.min > self.max:
            raise ValueError(f"min {self.min} > max {self.max}; expected min <= max")
        return self


class FloatRange(_Strict):
    min: Float
    max: Float
    log: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> FloatRange:
        if self.min > self.max:
            raise ValueError(f"min {self.min} > max {self.max}; expected min <= max")
        if self.log and self.min <= 0:
            raise ValueError(f"log scale needs min > 0, got {self.min}")
        return self


def _as_int_range(v: Any) -> Any:
    return {"min": v, "max": v} if isinstance(v, int) and not isinstance(v, bool) else v


def _as_float_range(v: Any) -> Any:
    return {"min": v, "max": v} if isinstance(v, int | float) and not isinstance(v, bool) else v


#: A model name as a Design's role holds it (1..200 characters, not blank).
ModelName = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(lambda v: _check_text(v, "model"))]


class RoleSpec(_Strict):
    """A role that may appear; ``count.min: 0`` makes it optional."""

    name: str = Field(min_length=1, max_length=100)
    archetype: Archetype
    count: IntRange = Field(default_factory=lambda: IntRange(min=1, max=1))
    models: list[ModelName] | None = Field(default=None, min_length=1)
    prompt: str | None = Field(default=None, max_length=20_000)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _check_text(v, "role name")

    @model_validator(mode="before")
    @classmethod
    def _scalar_count(cls, data: Any) -> Any:
        if isinstance(data, dict) and "count" in data:
            data = {**data, "count": _as_int_range(data["count"])}
        return data

    @model_validator(mode="after")
    def _bounds(self) -> RoleSpec:
        if self.count.min < 0:
            raise ValueError(f"count.min: {self.count.min} is negative; expected >= 0")
        if self.count.max < 1:
            raise ValueError(f"count.max: {self.count.max}; expected >= 1 (a role that can never appear is pointless)")
        if self.count.max > MAX_ROLE_COUNT:
            raise ValueError(f"count.max: {self.count.max} exceeds the supported {MAX_ROLE_COUNT} agents per role")
        return self

    @property
    def optional(self) -> bool:
        return self.count.min == 0


class TopologySpec(_Strict):
    kinds: list[TopologyKind] = Field(min_length=1)
    branching: IntRange = Field(default_factory=lambda: IntRange(min=8, max=8))
    brokers: IntRange = Field(default_factory=lambda: IntRange(min=1, max=1))
    clusters: IntRange = Field(default_factory=lambda: IntRange(min=4, max=4))

    @model_validator(mode="before")
    @classmethod
    def _scalars(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            for key in ("branching", "brokers", "clusters"):
                if key in data:
                    data[key] = _as_int_range(data[key])
        return data

    @model_validator(mode="after")
    def _checks(self) -> TopologySpec:
        if len(set(self.kinds)) != len(self.kinds):
            raise ValueError(f"kinds: duplicate topology kinds in {self.kinds}")
        limits = (("branching", 2, MAX_BRANCHING), ("brokers", 1, MAX_BROKERS), ("clusters", 1, MAX_CLUSTERS))
        for key, low, high in limits:
            r: IntRange = getattr(self, key)
            if r.min < low:
                raise ValueError(f"{key}.min: {r.min}; expected >= {low}")
            if r.max > high:
                raise ValueError(f"{key}.max: {r.max}; expected <= {high}, the most a design's topology supports")
        return self


class CoordinationSpec(_Strict):
    redundancy: IntRange = Field(default_factory=lambda: IntRange(min=1, max=1))
    aggregation: list[Aggregation] = Field(default_factory=lambda: ["majority_vote"], min_length=1)
    review_rounds: IntRange = Field(default_factory=lambda: IntRange(min=0, max=0))
    heterogeneity: FloatRange = Field(default_factory=lambda: FloatRange(min=0.0, max=0.0))
    routing: list[Routing] = Field(default_factory=lambda: ["broadcast"], min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _scalars(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            for key in ("redundancy", "review_rounds"):
                if key in data:
                    data[key] = _as_int_range(data[key])
            if "heterogeneity" in data:
                data["heterogeneity"] = _as_float_range(data["heterogeneity"])
            for key in ("aggregation", "routing"):
                if isinstance(data.get(key), str):
                    data[key] = [data[key]]
        return data

    @model_validator(mode="after")
    def _bounds(self) -> CoordinationSpec:
        if not 1 <= self.redundancy.min <= self.redundancy.max <= MAX_REDUNDANCY:
            raise ValueError(f"redundancy: expected 1 <= min <= max <= {MAX_REDUNDANCY}")
        if not 0 <= self.review_rounds.min <= self.review_rounds.max <= MAX_REVIEW_ROUNDS:
            raise ValueError(f"review_rounds: expected 0 <= min <= max <= {MAX_REVIEW_ROUNDS}")
        if not 0.0 <= self.heterogeneity.min <= self.heterogeneity.max <= 1.0:
            raise ValueError("heterogeneity: expected 0 <= min <= max <= 1")
        return self


class EdgeSpec(_Strict):
    fixed: list[tuple[str, str]] = Field(default_factory=list)
    search: list[tuple[str, str]] = Field(default_factory=list)


class SpaceConstraints(_Strict):
    max_total_agents: Int = Field(default=MAX_ROLE_COUNT, ge=1, le=10**9)


class SpaceSpec(_Strict):
    """The YAML document, validated. :class:`SearchSpace` compiles it."""

    swarmdesign_space: Literal[1] = 1
    name: str = Field(min_length=1, max_length=100)
    description: str | None = None
    models: list[ModelName] = Field(default_factory=lambda: ["gpt-4o-mini"], min_length=1)
    roles: list[RoleSpec] = Field(min_length=1, max_length=64)
    topology: TopologySpec = Field(default_factory=lambda: TopologySpec(kinds=["chain"]))
    coordination: CoordinationSpec = Field(default_factory=CoordinationSpec)
    edges: EdgeSpec = Field(default_factory=EdgeSpec)
    constraints: SpaceConstraints = Field(default_factory=SpaceConstraints)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        # The name becomes the default run folder name (runs/<name>-<time>): no path tricks.
        _check_text(v, "space name")
        if any(ch in v for ch in "/\\") or v.startswith(".") or any(ord(ch) < 32 or ord(ch) == 127 for ch in v):
            raise ValueError("expected a name usable as a folder name: no '/', '\\', control characters, leading '.'")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> SpaceSpec:
        names = [r.name for r in self.roles]
        for i, n in enumerate(names):
            if n in names[:i]:
                raise ValueError(f"roles[{i}].name: duplicate role name '{n}'")
        for group in ("fixed", "search"):
            seen: set[str] = set()
            for i, (a, b) in enumerate(getattr(self.edges, group)):
                for end in (a, b):
                    if end not in names:
                        raise ValueError(f"edges.{group}[{i}]: unknown role {end!r}; expected one of {choices(names)}")
                if a == b:
                    raise ValueError(f"edges.{group}[{i}]: an edge from '{a}' to itself is not allowed")
                if f"{a}->{b}" in seen:  # the edge's parameter name: also catches 'a->b' + 'c' vs 'a' + 'b->c'
                    raise ValueError(f"edges.{group}[{i}]: duplicate edge {a} -> {b}")
                seen.add(f"{a}->{b}")
        has_coordinator = any(r.archetype in COORDINATORS for r in self.roles)
        for i, kind in enumerate(self.topology.kinds):
            if kind in HUB_KINDS and not has_coordinator:
                raise ValueError(
                    f"topology.kinds[{i}]: '{kind}' needs a coordinator role (archetype planner or orchestrator) "
                    "among roles"
                )
        needed = sum(r.count.min for r in self.roles)
        if not any(r.count.min > 0 for r in self.roles):
            needed = 1
        if needed > self.constraints.max_total_agents:
            raise ValueError(
                f"constraints.max_total_agents: {self.constraints.max_total_agents} is below the {needed} agents "
                "the roles' minimum counts already need; expected a bound that some design can meet"
            )
        coordinator_min = any(r.archetype in COORDINATORS and r.count.min > 0 for r in self.roles)
        for i, kind in enumerate(self.topology.kinds):
            # decode adds a coordinator to a hub kind when none is present; the bound must leave room for it
            hub_needs = needed if coordinator_min or not any(r.count.min > 0 for r in self.roles) else needed + 1
            if kind in HUB_KINDS and hub_needs > self.constraints.max_total_agents:
                raise ValueError(
                    f"topology.kinds[{i}]: '{kind}' needs {hub_needs} agents (a coordinator and the roles' minimum "
                    f"counts) but constraints.max_total_agents is {self.constraints.max_total_agents}; expected "
                    "a bound that leaves room for the hub"
                )
        return self


@dataclass(frozen=True)
class Param:
    """One searched dimension: its Optuna distribution and its bin layout in the box."""

    name: str
    distribution: BaseDistribution

    @property
    def is_categorical(self) -> bool:
        return isinstance(self.distribution, CategoricalDistribution)


class SearchSpace:
    """A compiled search space; see the module docstring."""

    def __init__(self, spec: SpaceSpec, *, source: str | None = None) -> None:
        self.spec = spec
        self.source = source
        self.params: list[Param] = self._compile()
        self._index = {p.name: i for i, p in enumerate(self.params)}

    # ------------------------------------------------------------ loading
    @classmethod
    def from_dict(cls, data: Any, *, file: str | None = None) -> SearchSpace:
        if not isinstance(data, dict):
            raise SwarmdesignError("expected a YAML mapping", file=file, field="(document)")
        if type(data.get(FORMAT_KEY)) is not int or data.get(FORMAT_KEY) != 1:
            raise SwarmdesignError(
                f"expected '{FORMAT_KEY}: 1' (a search space file), got {data.get(FORMAT_KEY)!r}",
                file=file,
                field=FORMAT_KEY,
            )
        try:
            spec = SpaceSpec.model_validate(data)
        except ValidationError as exc:
            err = from_validation_error(exc, file=file)
            head, sep, rest = err.message.partition(": ")
            if sep and head.startswith(("roles", "edges", "topology", "constraints", "count")):
                field = head if err.field == "(document)" else f"{err.field}.{head}"
                return_err = SwarmdesignError(rest, file=file, field=field)
                raise return_err from None
            raise err from None
        return cls(spec, source=file)

    @classmethod
    def load(cls, path: str | Path) -> SearchSpace:
        return cls.from_dict(yamlio.load_file(path), file=str(path))

    def to_dict(self) -> dict[str, Any]:
        return self.spec.model_dump(mode="json")

    @property
    def name(self) -> str:
        return self.spec.name

    # ----------------------------------------------------------- compiling
    def _compile(self) -> list[Param]:
        s = self.spec
        out: list[Param] = []

        def add_int(name: str, r: IntRange, low: int | None = None) -> None:
            lo = r.min if low is None else max(r.min, low)
            if lo < r.max:
                out.append(Param(name, IntDistribution(lo, r.max, log=r.log and lo >= 1)))

        for r in s.roles:
            if r.optional:
                out.append(Param(f"use.{r.name}", IntDistribution(0, 1)))
            add_int(f"count.{r.name}", r.count, low=1)
            models = r.models or s.models
            if len(models) > 1:
                out.append(Param(f"model.{r.name}", CategoricalDistribution(list(models))))
        kinds = s.topology.kinds
        if len(kinds) > 1:
            out.append(Param("topology.kind", CategoricalDistribution(list(kinds))))
        for key, kind in (("branching", "hierarchical"), ("brokers", "pubsub"), ("clusters", "federated")):
            if kind in kinds:
                add_int(f"topology.{key}", getattr(s.topology, key))
        c = s.coordination
        add_int("coordination.redundancy", c.redundancy)
        if len(c.aggregation) > 1:
            out.append(Param("coordination.aggregation", CategoricalDistribution(list(c.aggregation))))
        add_int("coordination.review_rounds", c.review_rounds)
        if c.heterogeneity.min < c.heterogeneity.max:
            out.append(
                Param(
                    "coordination.heterogeneity",
                    FloatDistribution(c.heterogeneity.min, c.heterogeneity.max, log=c.heterogeneity.log),
                )
            )
        if len(c.routing) > 1:
            out.append(Param("coordination.routing", CategoricalDistribution(list(c.routing))))
        for a, b in s.edges.search:
            out.append(Param(f"edge.{a}->{b}", IntDistribution(0, 1)))
        return out

    @property
    def dim(self) -> int:
        return len(self.params)

    def distributions(self) -> dict[str, BaseDistribution]:
        """The fixed Optuna distributions every trial of a run uses."""
        return {p.name: p.distribution for p in self.params}

    def size(self) -> float:
        """Number of distinct points (inf when a float dimension is searched)."""
        total = 1.0
        for p in self.params:
            d = p.distribution
            if isinstance(d, IntDistribution):
                total *= d.high - d.low + 1
            elif isinstance(d, CategoricalDistribution):
                total *= len(d.choices)
            else:
                return math.inf
        return total

    # ------------------------------------------------------- box <-> params
    def vector_to_params(self, x: np.ndarray) -> dict[str, Any]:
        """Map a point of ``[0,1]^d`` (clipped) to parameter values."""
        x = np.clip(np.asarray(x, dtype=float).reshape(-1), 0.0, 1.0)
        if x.shape[0] != self.dim:
            raise ValueError(f"expected a vector of length {self.dim}, got {x.shape[0]}")
        return {p.name: _from_unit(p.distribution, float(u)) for p, u in zip(self.params, x, strict=True)}

    def params_to_vector(self, params: dict[str, Any]) -> np.ndarray:
        """Centre of each parameter's bin in ``[0,1]^d``; missing params are an error."""
        out = np.empty(self.dim)
        for i, p in enumerate(self.params):
            if p.name not in params:
                raise KeyError(p.name)
            out[i] = _to_unit(p.distribution, params[p.name])
        return out

    def sample_params(self, rng: np.random.Generator) -> dict[str, Any]:
        return self.vector_to_params(rng.random(self.dim))

    # ------------------------------------------------------- params -> Design
    def decode(self, x: np.ndarray) -> Design:
        return self.decode_params(self.vector_to_params(x))

    def decode_params(self, params: dict[str, Any], *, name: str | None = None) -> Design:
        """Build the (repaired, valid) Design that ``params`` describe.

        Repair rules, applied in this order:
        1. ``single``: only the first present producing role (space order) keeps
           one agent; if none is present, the first producing role, else the
           first role.
        2. hub kinds (star, hierarchical, federated) with no coordinator present:
           the first coordinator role of the space joins with its minimum count
           (at least 1).
        3. if no role is present at all, the first role joins with its minimum.
        4. more agents than ``constraints.max_total_agents``: if the present
           roles' floors (their minimum count, at least 1) alone exceed the
           bound, optional roles are dropped, last first (never the only
           coordinator of a hub kind); then what every present role has above
           its floor is scaled down proportionally until the bound holds. No
           role ends below its minimum, so ``encode`` of the result is exact
           and ``decode(encode(d)) == d``.
        """
        s = self.spec

        def get(pname: str, default: Any) -> Any:
            return params[pname] if pname in self._index else default

        counts: dict[str, int] = {}
        models: dict[str, str] = {}
        for r in s.roles:
            present = bool(get(f"use.{r.name}", 1)) if r.optional else True
            counts[r.name] = int(get(f"count.{r.name}", max(r.count.min, 1))) if present else 0
            models[r.name] = str(get(f"model.{r.name}", (r.models or s.models)[0]))
        kind = str(get("topology.kind", s.topology.kinds[0]))
        role_order = [r.name for r in s.roles]
        by_name = {r.name: r for r in s.roles}
        if kind == "single":
            producers = [n for n in role_order if STAGE_OF[by_name[n].archetype] == "produce"]
            present = [n for n in producers if counts[n] > 0]
            chosen = present[0] if present else (producers[0] if producers else role_order[0])
            counts = {n: (1 if n == chosen else 0) for n in role_order}
        elif kind in HUB_KINDS and not any(counts[n] > 0 and by_name[n].archetype in COORDINATORS for n in role_order):
            first = next(n for n in role_order if by_name[n].archetype in COORDINATORS)
            counts[first] = max(by_name[first].count.min, 1)
        if sum(counts.values()) == 0:
            counts[role_order[0]] = max(by_name[role_order[0]].count.min, 1)
        cap = s.constraints.max_total_agents
        floors = {n: max(by_name[n].count.min, 1) for n in role_order}
        for n in reversed(role_order):  # rule 4: drop optional roles, last first, while the floors alone exceed
            if sum(counts.values()) <= cap or sum(floors[m] for m in role_order if counts[m] > 0) <= cap:
                break
            keeps_hub = (
                kind in HUB_KINDS
                and by_name[n].archetype in COORDINATORS
                and sum(counts[m] for m in role_order if by_name[m].archetype in COORDINATORS) == counts[n]
            )
            if by_name[n].optional and counts[n] > 0 and not keeps_hub:
                counts[n] = 0
        counts = _cap_total(counts, floors, cap)

        roles = [
            Role(name=n, archetype=by_name[n].archetype, count=counts[n], model=models[n], prompt=by_name[n].prompt)
            for n in role_order
            if counts[n] > 0
        ]
        present_names = {r.name for r in roles}
        if s.edges.fixed:
            edges = [(a, b) for a, b in s.edges.fixed if a in present_names and b in present_names]
        else:  # stage-order wiring among the present roles, made explicit
            edges = Design.model_construct(roles=roles, edges=[]).role_graph()
        edges += [
            (a, b)
            for a, b in s.edges.search
            if int(params.get(f"edge.{a}->{b}", 0))
            and a in present_names
            and b in present_names
            and (a, b) not in edges
        ]
        topo_params: dict[str, int] = {}
        if kind == "hierarchical":
            topo_params["branching"] = int(get("topology.branching", s.topology.branching.min))
        elif kind == "pubsub":
            topo_params["brokers"] = int(get("topology.brokers", s.topology.brokers.min))
        elif kind == "federated":
            topo_params["clusters"] = int(get("topology.clusters", s.topology.clusters.min))
        c = s.coordination
        coordination = Coordination(
            redundancy=int(get("coordination.redundancy", c.redundancy.min)),
            aggregation=str(get("coordination.aggregation", c.aggregation[0])),  # type: ignore[arg-type]
            review_rounds=int(get("coordination.review_rounds", c.review_rounds.min)),
            heterogeneity=float(get("coordination.heterogeneity", c.heterogeneity.min)),
            routing=str(get("coordination.routing", c.routing[0])),  # type: ignore[arg-type]
        )
        return Design(
            name=name or s.name,
            description=s.description,
            roles=roles,
            topology=Topology(kind=kind, **topo_params),  # type: ignore[arg-type]
            edges=edges,
            coordination=coordination,
        )

    # ------------------------------------------------------- Design -> params
    def design_to_params(self, design: Design, *, file: str | None = None) -> dict[str, Any]:
        """The parameters of the nearest point of this space to ``design``.

        Roles, models and topology kinds the space does not know are errors
        (naming the field); counts and ranges outside the bounds are clipped.
        """
        s = self.spec
        by_name = {r.name: r for r in s.roles}
        for i, role in enumerate(design.roles):
            if role.name not in by_name:
                raise SwarmdesignError(
                    f"role '{role.name}' is not in search space '{s.name}'; expected one of {list(by_name)}",
                    file=file,
                    field=f"roles[{i}].name",
                )
            if role.archetype != by_name[role.name].archetype:
                raise SwarmdesignError(
                    f"archetype '{role.archetype}' differs from the space's '{by_name[role.name].archetype}'",
                    file=file,
                    field=f"roles[{i}].archetype",
                )
        counts = {r.name: r.count for r in design.roles}
        models_of = {r.name: r.model for r in design.roles}
        params: dict[str, Any] = {}
        for p in self.params:
            d = p.distribution
            group, _, key = p.name.partition(".")
            value: Any
            if group == "use":
                value = int(counts.get(key, 0) > 0)
            elif group == "count":
                value = counts.get(key, 0) or by_name[key].count.min or 1
            elif group == "model":
                value = models_of.get(key, d.choices[0])  # type: ignore[union-attr]
                bare = str(value).split("/", 1)[-1]  # 'openai/gpt-4o' (framework spelling) -> 'gpt-4o'
                if value not in d.choices and bare in d.choices:  # type: ignore[union-attr]
                    value = bare
                if value not in d.choices:  # type: ignore[union-attr]
                    idx = [r.name for r in design.roles].index(key)
                    raise SwarmdesignError(
                        f"model '{value}' is not a choice of search space '{s.name}'; expected one of "
                        f"{list(d.choices)}",  # type: ignore[union-attr]
                        file=file,
                        field=f"roles[{idx}].model",
                    )
            elif p.name == "topology.kind":
                value = design.topology.kind
                if value not in d.choices:  # type: ignore[union-attr]
                    raise SwarmdesignError(
                        f"topology kind '{value}' is not allowed by search space '{s.name}'; expected one of "
                        f"{list(d.choices)}",  # type: ignore[union-attr]
                        file=file,
                        field="topology.kind",
                    )
            elif group == "topology":
                value = design.topology.params().get(key) or getattr(s.topology, key).min
            elif group == "coordination":
                value = getattr(design.coordination, key)
                if isinstance(d, CategoricalDistribution) and value not in d.choices:
                    value = d.choices[0]
            elif group == "edge":  # role names may hold '->' themselves: look the pair up, never split the name
                pair = next(e for e in s.edges.search if p.name == f"edge.{e[0]}->{e[1]}")
                value = int(tuple(pair) in set(design.edges))
            else:  # pragma: no cover - every compiled name has a group above
                raise AssertionError(p.name)
            params[p.name] = _clip(d, value)
        return params

    def encode(self, design: Design) -> np.ndarray:
        return self.params_to_vector(self.design_to_params(design))


# --------------------------------------------------------------- bin maths
def _int_edges(d: IntDistribution) -> tuple[float, float, bool]:
    if d.log:
        return math.log(d.low - 0.5), math.log(d.high + 0.5), True
    return d.low - 0.5, d.high + 0.5, False


def _from_unit(d: BaseDistribution, u: float) -> Any:
    if isinstance(d, CategoricalDistribution):
        return d.choices[min(int(u * len(d.choices)), len(d.choices) - 1)]
    if isinstance(d, IntDistribution):
        a, b, log = _int_edges(d)
        z = a + u * (b - a)
        v = math.exp(z) if log else z
        return int(min(max(math.floor(v + 0.5), d.low), d.high))
    assert isinstance(d, FloatDistribution)
    # exp/log rounding must not leave the range
    if d.log:
        lo, hi = math.log(d.low), math.log(d.high)
        return float(min(max(math.exp(lo + u * (hi - lo)), d.low), d.high))
    return float(min(max(d.low + u * (d.high - d.low), d.low), d.high))


def _to_unit(d: BaseDistribution, value: Any) -> float:
    if isinstance(d, CategoricalDistribution):
        return (list(d.choices).index(value) + 0.5) / len(d.choices)
    if isinstance(d, IntDistribution):
        a, b, log = _int_edges(d)
        v = math.log(int(value)) if log else float(int(value))
        return (v - a) / (b - a)
    assert isinstance(d, FloatDistribution)
    if d.high == d.low:
        return 0.5
    if d.log:  # a range one ulp wide has no width in log space
        span = math.log(d.high) - math.log(d.low)
        u = (math.log(float(value)) - math.log(d.low)) / span if span > 0 else 0.0
    else:
        u = (float(value) - d.low) / (d.high - d.low)
    u = min(max(u, 0.0), 1.0)
    for _ in range(8):  # float rounding: step u by ulps until it decodes to exactly this value
        got = _from_unit(d, u)
        if got == value:
            break
        u = math.nextafter(u, 1.0 if got < value else 0.0)
    return u


def _clip(d: BaseDistribution, value: Any) -> Any:
    if isinstance(d, IntDistribution):
        return int(min(max(int(value), d.low), d.high))
    if isinstance(d, FloatDistribution):
        return float(min(max(float(value), d.low), d.high))
    return value


def _cap_total(counts: dict[str, int], floors: dict[str, int], cap: int) -> dict[str, int]:
    """At most ``cap`` agents in total, no present role below its floor (see decode rule 4).

    What each present role has above its floor is scaled by one factor and
    rounded down, so the total never exceeds ``cap`` once the floors fit
    (the space's validation guarantees they do after optional roles are
    dropped).
    """
    if sum(counts.values()) <= cap:
        return counts
    present = {n: c for n, c in counts.items() if c > 0}
    room = cap - sum(floors[n] for n in present)
    above = sum(c - floors[n] for n, c in present.items())
    factor = max(room, 0) / above if above > 0 else 0.0
    return {n: (floors[n] + math.floor((c - floors[n]) * factor) if c > 0 else 0) for n, c in counts.items()}


__all__ = ["AGGREGATIONS", "ROUTINGS", "TOPOLOGY_KINDS", "Param", "SearchSpace", "SpaceSpec"]
