"""The search-space YAML document, validated (``search_spaces/*.yaml``, ``swarmdesign_space: 1``).

These pydantic models are the user-input side of a space: every bound and
name is checked here, once, with errors that name the field. What they
describe is compiled into searched parameters by :class:`swarmdesign.space.SearchSpace`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from swarmdesign.archetypes import COORDINATORS, HUB_KINDS, Aggregation, Archetype, Routing, TopologyKind
from swarmdesign.design import (
    MAX_BRANCHING,
    MAX_BROKERS,
    MAX_CLUSTERS,
    MAX_REDUNDANCY,
    MAX_REVIEW_ROUNDS,
    MAX_ROLE_COUNT,
    Float,
    Int,
    _check_text,
)
from swarmdesign.errors import choices

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
