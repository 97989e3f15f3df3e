"""The target-independent shape of an export: agents, hand-offs, loops, rounds.

Every exporter answers the same questions about a Design — which agents exist
and under which names, who hands work to whom, which hand-offs close a loop
and how often a loop may run, how many attempts a role makes — so they are
answered once here and the target modules only translate. This keeps the
targets consistent with each other, which is what lets the CrewAI import read
back what the CrewAI export wrote.

Wiring rules shared by every target:

* the role-level hand-offs are :meth:`Design.role_graph` over the active roles;
* a hand-off that closes a cycle (found by a depth-first walk in role order)
  is a *loop* edge, as is the implicit review loop ``checker -> producer``
  that ``coordination.review_rounds > 0`` adds for every hand-off from a
  produce-stage role to a check-stage role;
* loops are taken at most ``rounds`` times: ``review_rounds``, or once when
  the design has an explicit cycle but no review rounds;
* redundancy ``r`` makes every produce-stage replica attempt its work ``r``
  times; the attempts are aggregated downstream by ``coordination.aggregation``.
"""

from __future__ import annotations

import keyword
import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from swarmdesign.archetypes import COORDINATORS, STAGE_OF
from swarmdesign.errors import SwarmdesignError

if TYPE_CHECKING:
    from swarmdesign.design import Design, Role

DEFAULT_MAX_AGENTS = 64
MAX_IDENTIFIER_LENGTH = 40

#: Names that mean something to a target framework and so never name an agent.
RESERVED_IDENTIFIERS = frozenset({"user", "start", "finish"})

Edge = tuple[str, str]


def identifier(text: str, *, fallback: str = "role") -> str:
    """A lower-case ASCII Python identifier derived from ``text``.

    Targets use identifiers as agent names (AutoGen requires them, OpenAI tool
    names allow only ``[a-zA-Z0-9_-]``), as YAML keys and as graph node names,
    so every user-supplied name goes through here; nothing else of the user's
    text reaches a name. The result never contains ``__``, which keeps helper
    names such as ``coder__join`` free of clashes.
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    ident = re.sub(r"[^a-z0-9]+", "_", ascii_text).strip("_")[:MAX_IDENTIFIER_LENGTH].strip("_")
    if not ident:
        ident = fallback
    if ident[0].isdigit():
        ident = f"{fallback}_{ident}"
    if keyword.iskeyword(ident) or keyword.issoftkeyword(ident) or ident in RESERVED_IDENTIFIERS:
        ident = f"{ident}_role"
    return ident


def _allocate(base: str, used: set[str]) -> str:
    name, n = base, 2
    while name in used:
        name, n = f"{base}_{n}", n + 1
    used.add(name)
    return name


@dataclass(frozen=True)
class PlannedRole:
    """One active role as the targets see it.

    ``agents`` holds one key per exported agent: a key per replica when the
    export is expanded, a single key standing for all ``replicas`` at role level.
    """

    name: str
    key: str
    role: Role
    agents: tuple[str, ...]
    attempts: int

    @property
    def archetype(self) -> str:
        return self.role.archetype

    @property
    def replicas(self) -> int:
        return self.role.count

    @property
    def stage(self) -> str:
        return STAGE_OF[self.role.archetype]


@dataclass(frozen=True)
class ExportPlan:
    """What every exporter needs to know about a Design, decided once."""

    design: Design
    role_level: bool
    roles: tuple[PlannedRole, ...]
    forward: tuple[Edge, ...]
    loops: tuple[Edge, ...]
    rounds: int

    # ------------------------------------------------------------- look-ups
    def get(self, name: str) -> PlannedRole:
        for r in self.roles:
            if r.name == name:
                return r
        raise KeyError(name)

    def successors(self, name: str) -> list[str]:
        return [b for a, b in self.forward if a == name]

    def predecessors(self, name: str) -> list[str]:
        return [a for a, b in self.forward if b == name]

    def loop_targets(self, name: str) -> list[str]:
        return [b for a, b in self.loops if a == name]

    def loop_sources(self, name: str) -> list[str]:
        return [a for a, b in self.loops if b == name]

    def sources(self) -> list[str]:
        """Roles nobody hands work to along forward edges: where a run starts."""
        targets = {b for _, b in self.forward}
        return [r.name for r in self.roles if r.name not in targets]

    def sinks(self) -> list[str]:
        origins = {a for a, _ in self.forward}
        return [r.name for r in self.roles if r.name not in origins]

    def topo_order(self) -> list[str]:
        """Forward edges in execution order; ties keep the design's role order."""
        index = {r.name: i for i, r in enumerate(self.roles)}
        indegree = {r.name: 0 for r in self.roles}
        for _, b in self.forward:
            indegree[b] += 1
        ready = sorted((n for n, d in indegree.items() if d == 0), key=index.__getitem__)
        order: list[str] = []
        while ready:
            node = ready.pop(0)
            order.append(node)
            for succ in self.successors(node):
                indegree[succ] -= 1
                if indegree[succ] == 0:
                    ready.append(succ)
                    ready.sort(key=index.__getitem__)
        return order

    def loop_body(self) -> list[str]:
        """Roles that run again in each round: on a forward path from a loop's target to its source."""
        body: set[str] = set()
        for source, target in self.loops:
            body |= self._reachable(target, forward=True) & self._reachable(source, forward=False)
        return [n for n in self.topo_order() if n in body]

    def _reachable(self, start: str, *, forward: bool) -> set[str]:
        seen = {start}
        stack = [start]
        while stack:
            node = stack.pop()
            nxt = self.successors(node) if forward else self.predecessors(node)
            for n in nxt:
                if n not in seen:
                    seen.add(n)
                    stack.append(n)
        return seen

    @property
    def agent_count(self) -> int:
        return sum(len(r.agents) for r in self.roles)

    def coordinator(self) -> PlannedRole | None:
        """The first active coordinator role (the hub of star, hierarchical and federated designs)."""
        for r in self.roles:
            if r.archetype in COORDINATORS:
                return r
        return None


def split_loops(roles: list[str], edges: list[Edge]) -> tuple[list[Edge], list[Edge]]:
    """Split role edges into a forward DAG and the edges that close a cycle.

    The walk starts from roles without incoming edges, then from any role not
    yet seen, always in role order, and visits successors in role order, so the
    split depends only on the set of edges and the role order — the CrewAI
    import rebuilds the same split from an export whatever order it reads.
    """
    index = {n: i for i, n in enumerate(roles)}
    succ: dict[str, list[str]] = {n: [] for n in roles}
    for a, b in edges:
        succ[a].append(b)
    for n in succ:
        succ[n].sort(key=index.__getitem__)
    has_parent = {b for _, b in edges}
    starts = [n for n in roles if n not in has_parent] + [n for n in roles if n in has_parent]
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    back: set[Edge] = set()
    for start in starts:
        if start in state:
            continue
        state[start] = 1
        stack = [(start, iter(succ[start]))]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1:
                back.add((node, child))
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(succ[child])))
    forward = [e for e in edges if e not in back]
    loops = [e for e in edges if e in back]
    return forward, loops


def review_loops(design: Design, forward: list[Edge]) -> list[Edge]:
    """The implicit ``checker -> producer`` loops that review rounds add."""
    if design.coordination.review_rounds <= 0:
        return []
    out: list[Edge] = []
    for producer, checker in forward:
        if (
            STAGE_OF[design.role(producer).archetype] == "produce"
            and STAGE_OF[design.role(checker).archetype] == "check"
        ):
            out.append((checker, producer))
    return out


def wiring(design: Design) -> tuple[list[Edge], list[Edge], int]:
    """Forward edges, loop edges and the number of rounds a loop may run."""
    roles = [r.name for r in design.active_roles]
    forward, explicit_loops = split_loops(roles, design.role_graph())
    loops = list(explicit_loops)
    for edge in review_loops(design, forward):
        if edge not in loops:
            loops.append(edge)
    rounds = design.coordination.review_rounds
    if explicit_loops and rounds == 0:
        rounds = 1
    if not loops:
        rounds = 0
    return forward, loops, rounds


def too_many_agents(total: int, max_agents: int) -> SwarmdesignError:
    return SwarmdesignError(
        f"the design has {total} agents, more than --max-agents {max_agents}; export one agent per role "
        "with --role-level (replica counts are kept as metadata) or raise --max-agents",
        field="roles",
    )


def plan_export(design: Design, *, max_agents: int = DEFAULT_MAX_AGENTS, role_level: bool = False) -> ExportPlan:
    """Decide agent names, attempts and wiring; refuse expansions beyond ``max_agents``.

    Raises:
        SwarmdesignError: ``max_agents`` is below 1, or the expanded export
            would have more than ``max_agents`` agents and ``role_level`` is off.
    """
    if max_agents < 1:
        raise SwarmdesignError(f"expected a positive number, got {max_agents}", field="--max-agents")
    active = design.active_roles
    total = sum(r.count for r in active)
    if not role_level and total > max_agents:
        raise too_many_agents(total, max_agents)
    used: set[str] = set()
    keys = {r.name: _allocate(identifier(r.name), used) for r in active}
    planned: list[PlannedRole] = []
    for role in active:
        key = keys[role.name]
        if role_level or role.count == 1:
            agents: tuple[str, ...] = (key,)
        else:
            agents = tuple(_allocate(f"{key}_{i}", used) for i in range(1, role.count + 1))
        attempts = design.coordination.redundancy if STAGE_OF[role.archetype] == "produce" else 1
        planned.append(PlannedRole(name=role.name, key=key, role=role, agents=agents, attempts=attempts))
    forward, loops, rounds = wiring(design)
    return ExportPlan(
        design=design,
        role_level=role_level,
        roles=tuple(planned),
        forward=tuple(forward),
        loops=tuple(loops),
        rounds=rounds,
    )
