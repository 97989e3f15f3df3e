"""The Design: one multi-agent system, the product's output.

A Design is a versioned YAML document (``swarmdesign: 1``) that says which
roles exist (archetype, how many agents, which model, an optional prompt), how
they are wired (a topology kind and its parameters, optional role-level
edges) and how they coordinate (redundancy, aggregation, review rounds,
heterogeneity, routing). A run adds ``metrics`` and ``provenance``.

Validation happens on load and names the field that is wrong. Dumping is
canonical, so ``Design.from_yaml(d.to_yaml()) == d`` and a canonical file
dumps back to the same text.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from swarmdesign import yamlio
from swarmdesign.archetypes import (
    COORDINATORS,
    HUB_KINDS,
    STAGE_OF,
    STAGES,
    TOPOLOGY_PARAMS,
    Aggregation,
    Archetype,
    Routing,
    TopologyKind,
)
from swarmdesign.errors import SwarmdesignError, choices, from_validation_error

FORMAT_VERSION = 1
MAX_ROLE_COUNT = 100_000_000
MAX_TOTAL_AGENTS = 1_000_000_000
MAX_REDUNDANCY = 64
MAX_REVIEW_ROUNDS = 10
MAX_BRANCHING = 1024
MAX_BROKERS = 1024
MAX_CLUSTERS = 1_000_000


def _a_number(value: Any) -> Any:
    """Refuse what pydantic would quietly turn into a number.

    YAML reads ``yes``/``no``/``on``/``off`` as booleans and quoted digits as
    text; ``count: no`` must not become zero agents.
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got the boolean {str(value).lower()}")
    if isinstance(value, str | bytes):
        raise ValueError(f"expected a number, got the text {value!r}")
    return value


#: An integer / a float that is written as a number (not a boolean, not text).
Int = Annotated[int, BeforeValidator(_a_number)]
Float = Annotated[float, BeforeValidator(_a_number)]


def _check_text(value: str, what: str) -> str:
    if not value.strip():
        raise ValueError(f"{what} must not be blank")
    if "\x00" in value:
        raise ValueError(f"{what} must not contain NUL characters")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, validate_assignment=False)


class Role(_Strict):
    """A group of identical agents: ``count`` replicas of one archetype on one model."""

    name: str = Field(min_length=1, max_length=200)
    archetype: Archetype
    count: Int = Field(ge=0, le=MAX_ROLE_COUNT)
    model: str = Field(min_length=1, max_length=200)
    prompt: str | None = Field(default=None, max_length=20_000)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _check_text(v, "role name")

    @field_validator("model")
    @classmethod
    def _model(cls, v: str) -> str:
        return _check_text(v, "model")

    @property
    def stage(self) -> str:
        return STAGE_OF[self.archetype]


class Topology(_Strict):
    """How agents are wired. Parameters other than the kind's own are refused."""

    kind: TopologyKind
    branching: Int | None = Field(default=None, ge=2, le=MAX_BRANCHING, description="fan-out of a hierarchical tree")
    brokers: Int | None = Field(default=None, ge=1, le=MAX_BROKERS, description="broker replicas of a pub/sub bus")
    clusters: Int | None = Field(default=None, ge=1, le=MAX_CLUSTERS, description="clusters of a federation")

    @model_validator(mode="after")
    def _params_of_kind(self) -> Topology:
        allowed = TOPOLOGY_PARAMS[self.kind]
        for param in ("branching", "brokers", "clusters"):
            value = getattr(self, param)
            if param not in allowed and value is not None:
                raise ValueError(f"parameter '{param}' does not apply to topology kind '{self.kind}'")
            if param in allowed and value is None:
                setattr(self, param, allowed[param])
        return self

    def params(self) -> dict[str, int]:
        return {p: getattr(self, p) for p in TOPOLOGY_PARAMS[self.kind]}


class Coordination(_Strict):
    """How the agents of a design combine their work."""

    redundancy: Int = Field(default=1, ge=1, le=MAX_REDUNDANCY, description="attempts per work item")
    aggregation: Aggregation = "majority_vote"
    review_rounds: Int = Field(default=0, ge=0, le=MAX_REVIEW_ROUNDS)
    heterogeneity: Float = Field(default=0.0, ge=0.0, le=1.0, description="0 = identical agents, 1 = all different")
    routing: Routing = "broadcast"


class Provenance(_Strict):
    """Where a design produced by a run came from."""

    space: str | None = None
    scenario: str | None = None
    optimizer: str | None = None
    evaluator: str | None = None
    seed: int | None = None
    trial: int | None = None
    run: str | None = None
    version: str | None = None


class Design(_Strict):
    """One multi-agent system. See the module docstring."""

    swarmdesign: Literal[1] = FORMAT_VERSION
    name: str = Field(min_length=1, max_length=200)
    description: str | None = None
    roles: list[Role] = Field(min_length=1, max_length=1000)
    topology: Topology
    edges: list[tuple[str, str]] = Field(default_factory=list)
    coordination: Coordination = Field(default_factory=Coordination)
    metrics: dict[str, float] | None = None
    provenance: Provenance | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _check_text(v, "design name")

    @model_validator(mode="after")
    def _consistent(self) -> Design:
        names = [r.name for r in self.roles]
        seen: set[str] = set()
        for i, n in enumerate(names):
            if n in seen:
                raise ValueError(f"roles[{i}].name: duplicate role name '{n}'")
            seen.add(n)
        pairs: set[tuple[str, str]] = set()
        for i, (src, dst) in enumerate(self.edges):
            for end in (src, dst):
                if end not in seen:
                    raise ValueError(f"edges[{i}]: unknown role {end!r}; expected one of {choices(names)}")
            if src == dst:
                raise ValueError(f"edges[{i}]: an edge from role '{src}' to itself is not allowed")
            if (src, dst) in pairs:
                raise ValueError(f"edges[{i}]: duplicate edge {src} -> {dst}")
            pairs.add((src, dst))
        total = self.total_agents
        if total < 1:
            raise ValueError("roles: at least one role needs count >= 1")
        if total > MAX_TOTAL_AGENTS:
            raise ValueError(f"roles: {total} agents in total; at most {MAX_TOTAL_AGENTS} are supported")
        kind = self.topology.kind
        if kind == "single" and total != 1:
            raise ValueError(f"topology.kind: 'single' needs exactly one agent in total, got {total}")
        if kind in HUB_KINDS and not any(r.archetype in COORDINATORS and r.count > 0 for r in self.roles):
            raise ValueError(
                f"topology.kind: '{kind}' needs a coordinator role (archetype planner or orchestrator) with count >= 1"
            )
        return self

    # ----------------------------------------------------------------- queries
    @property
    def total_agents(self) -> int:
        return sum(r.count for r in self.roles)

    @property
    def active_roles(self) -> list[Role]:
        return [r for r in self.roles if r.count > 0]

    def role(self, name: str) -> Role:
        for r in self.roles:
            if r.name == name:
                return r
        raise KeyError(name)

    def role_graph(self) -> list[tuple[str, str]]:
        """Role-level hand-offs among active roles: the explicit edges, else stage order.

        Without explicit edges, each active role hands off to every active role of
        the next non-empty stage (plan -> produce -> check -> merge), which is the
        workflow every bundled archetype assumes.
        """
        active = {r.name for r in self.active_roles}
        if self.edges:
            return [(a, b) for a, b in self.edges if a in active and b in active]
        by_stage = [[r.name for r in self.active_roles if r.stage == s] for s in STAGES]
        by_stage = [s for s in by_stage if s]
        return [(a, b) for left, right in itertools.pairwise(by_stage) for a in left for b in right]

    # ------------------------------------------------------------------ YAML io
    def to_dict(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", exclude_none=True)
        data["edges"] = [list(e) for e in self.edges]
        if not data["edges"]:
            del data["edges"]
        return data

    def to_yaml(self) -> str:
        return yamlio.dumps(self.to_dict())

    def save(self, path: str | Path) -> Path:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(self.to_yaml(), encoding="utf-8")
        return p

    @classmethod
    def from_dict(cls, data: Any, *, file: str | None = None) -> Design:
        if not isinstance(data, dict):
            raise SwarmdesignError(
                f"expected a mapping with swarmdesign, name, roles, topology; got {type(data).__name__}",
                file=file,
                field="(document)",
            )
        version = data.get("swarmdesign")
        if version is None:
            raise SwarmdesignError(
                "required field is missing (expected 'swarmdesign: 1')", file=file, field="swarmdesign"
            )
        if type(version) is not int or version != FORMAT_VERSION:
            raise SwarmdesignError(
                f"unsupported design format version {version!r}; expected {FORMAT_VERSION}",
                file=file,
                field="swarmdesign",
            )
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise _design_error(exc, file) from None

    @classmethod
    def from_yaml(cls, text: str, *, file: str = "<string>") -> Design:
        return cls.from_dict(yamlio.loads(text, file=file), file=file)

    @classmethod
    def load(cls, path: str | Path) -> Design:
        return cls.from_dict(yamlio.load_file(path), file=str(path))


def _design_error(exc: ValidationError, file: str | None) -> SwarmdesignError:
    """Model-level validators report their own field path as 'path: message'."""
    err = from_validation_error(exc, file=file)
    head, sep, rest = err.message.partition(": ")
    if err.field == "(document)" and sep and (head.startswith(("roles", "edges", "topology"))):
        return SwarmdesignError(rest, file=file, field=head)
    return err
