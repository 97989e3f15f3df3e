"""CrewAI target: a project as ``crewai create crew`` makes it, which ``crewai run`` runs.

The layout and the code around the YAML are in :mod:`swarmdesign.export.crewai_project`;
this module maps the design onto CrewAI's own schema (see :mod:`swarmdesign.export.plan`
for the wiring rules every target shares):

* each agent of the plan is a CrewAI agent (``role``, ``goal``, ``backstory``,
  ``llm``, ``allow_delegation``); replicas are named ``<role>_<i>`` with role
  text ``"<Role> (replica i of n)"`` — distinct role texts matter because a
  CrewAI manager delegates to a coworker by role text;
* each agent has one task per attempt (``<agent>_task`` or
  ``<agent>_attempt_<j>``); a task's ``context`` lists the tasks of the roles
  that hand work to it, so the sequential process follows the design's edges;
* CrewAI tasks cannot form cycles, so a loop is laid out as rounds: every role
  on it has a task per round ``1..rounds`` (``<agent>_round_<k>``), the loop
  target reading the loop source's previous-round verdict. Round tasks are
  ``ConditionalTask`` s in ``crew.py`` that run only while a verdict of the
  round before asks for changes, so an approval ends the loop (a ``Flow``
  would split the crew into one crew per round and lose the single
  ``tasks.yaml`` that ``crewai run`` and the import both read);
* star / hierarchical / federated / hybrid designs run ``Process.hierarchical``
  with the first coordinator agent as ``manager_agent``; everything else runs
  ``Process.sequential``. Mesh agents, and a hybrid's members (who also talk
  to each other directly), get ``allow_delegation``: CrewAI's way for an
  agent to ask a peer;
* each agent carries a ``swarmdesign`` mapping (archetype, replica, replicas)
  and ``agents.yaml`` starts with a ``# swarmdesign:`` comment holding the
  design's topology and coordination; CrewAI ignores both, and the CrewAI
  import reads them back.

CrewAI fills ``{name}`` placeholders from ``kickoff(inputs=...)`` in every
text field and fails on unknown names, so user text is escaped with
:func:`escape_placeholders`; only the exported ``{task}`` placeholder remains.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import TYPE_CHECKING, Any

from swarmdesign import yamlio
from swarmdesign.archetypes import HUB_KINDS, PEER_MESH_KINDS
from swarmdesign.export import crewai_project as project
from swarmdesign.export import texts
from swarmdesign.export.plan import DEFAULT_MAX_AGENTS, ExportPlan, plan_export

if TYPE_CHECKING:
    from pathlib import Path

    from swarmdesign.design import Design

META_PREFIX = "# swarmdesign: "
TASK_PLACEHOLDER = "{task}"

# A zero-width space after "{" keeps CrewAI from reading "{name}" as a placeholder.
_ZWSP = "\u200b"
_ESCAPE = re.compile(r"\{(?=[A-Za-z_\u200b])")
_UNESCAPE = re.compile(r"\{\u200b")

Node = tuple[str, int]  # (role name, round)


def escape_placeholders(text: str) -> str:
    """Make ``text`` literal for CrewAI's interpolation; :func:`unescape_placeholders` reverses it exactly."""
    return _ESCAPE.sub("{" + _ZWSP, text)


def unescape_placeholders(text: str) -> str:
    return _UNESCAPE.sub("{", text)


def replica_role_text(name: str, replica: int, replicas: int) -> str:
    return f"{name} (replica {replica} of {replicas})"


def process_of(plan: ExportPlan) -> str:
    hub = plan.design.topology.kind in HUB_KINDS and plan.coordinator() is not None
    return "hierarchical" if hub else "sequential"


def _unrolled(plan: ExportPlan) -> tuple[list[Node], dict[Node, list[Node]]]:
    """Role rounds in execution order and, for each, the role rounds it reads.

    Round 0 runs every role; rounds ``1..rounds`` re-run the loop body. A role
    outside the body that follows one inside it waits for the last round.
    """
    body = set(plan.loop_body())
    last = plan.rounds
    nodes: list[Node] = [(r.name, 0) for r in plan.roles]
    nodes += [(name, k) for k in range(1, last + 1) for name in plan.topo_order() if name in body]
    preds: dict[Node, list[Node]] = {n: [] for n in nodes}

    def link(a: Node, b: Node) -> None:
        if a not in preds[b]:
            preds[b].append(a)

    for a, b in plan.forward:
        if a in body and b not in body:
            link((a, last), (b, 0))
            continue
        link((a, 0), (b, 0))
        if b in body:
            for k in range(1, last + 1):
                link((a, k if a in body else 0), (b, k))
    for source, target in plan.loops:
        for k in range(1, last + 1):
            link((source, k - 1), (target, k))
    for name in body:
        for k in range(1, last + 1):
            link((name, k - 1), (name, k))
    topo = {name: i for i, name in enumerate(plan.topo_order())}
    indegree = {n: len(preds[n]) for n in nodes}
    succs: dict[Node, list[Node]] = {n: [] for n in nodes}
    for n in nodes:
        for p in preds[n]:
            succs[p].append(n)
    ready = sorted((n for n in nodes if indegree[n] == 0), key=lambda n: (n[1], topo[n[0]]))
    order: list[Node] = []
    while ready:
        node = ready.pop(0)
        order.append(node)
        for s in succs[node]:
            indegree[s] -= 1
            if indegree[s] == 0:
                ready.append(s)
        ready.sort(key=lambda n: (n[1], topo[n[0]]))
    return order, preds


_TASK_KEY_SUFFIX = re.compile(r"_(?:task|attempt_\d+|round_\d+)$")


def with_method_keys(plan: ExportPlan) -> ExportPlan:
    """The plan with agent keys that can be method names of the crew class beside every task key.

    ``@CrewBase`` finds an agent or task by the method of the same name, so an
    agent key must not be a name the class already has, nor a task key another
    agent's tasks get (role "Coder Task" next to role "Coder"); such keys gain
    ``_agent``. Task keys end in ``_task`` / ``_attempt_<j>`` / ``_round_<k>``
    and so never collide with each other or with a renamed agent.
    """
    keys = [a for r in plan.roles for a in r.agents]

    def clashes(key: str, others: set[str]) -> bool:
        if key in project.RESERVED_METHOD_NAMES:
            return True
        match = _TASK_KEY_SUFFIX.search(key)
        return bool(match) and key[: match.start()] in others - {key}

    renamed = {k: k for k in keys}
    changed = True
    while changed:  # a new name may make another key a task key of it: repeat until nothing clashes
        changed = False
        used = set(renamed.values())
        for key, current in renamed.items():
            if clashes(current, used):
                new, n = f"{current}_agent", 2
                while new in used:
                    new, n = f"{current}_agent_{n}", n + 1
                used.add(new)
                renamed[key], changed = new, True
    if all(k == v for k, v in renamed.items()):
        return plan
    roles = tuple(dataclasses.replace(r, agents=tuple(renamed[a] for a in r.agents)) for r in plan.roles)
    return dataclasses.replace(plan, roles=roles)


def task_key(agent: str, round_: int, attempt: int, attempts: int) -> str:
    if round_ > 0:
        return f"{agent}_round_{round_}"
    return f"{agent}_task" if attempts == 1 else f"{agent}_attempt_{attempt}"


def _tasks_of(plan: ExportPlan, node: Node) -> list[tuple[str, str, int]]:
    """(task key, agent key, attempt) for every task of one role round."""
    role = plan.get(node[0])
    attempts = role.attempts if node[1] == 0 else 1
    return [(task_key(agent, node[1], j, attempts), agent, j) for agent in role.agents for j in range(1, attempts + 1)]


def _description(plan: ExportPlan, node: Node, attempt: int, attempts: int, upstream: int) -> str:
    """``upstream`` is the largest number of tasks one upstream role round hands in."""
    name, round_ = node
    role = plan.get(name)
    parts = []
    if round_ > 0 and plan.loop_sources(name):
        parts.append(f"{texts.REVISION_HINT} (round {round_} of {plan.rounds})")
    else:
        parts.append(texts.GOALS[role.archetype] + (f" (round {round_} of {plan.rounds})" if round_ else ""))
    parts.append(f"Work item: {TASK_PLACEHOLDER}")
    if attempts > 1:
        parts.append(f"This is attempt {attempt} of {attempts}; work independently of the other attempts.")
    if upstream > 1:
        parts.append(texts.AGGREGATION_HINTS[plan.design.coordination.aggregation])
    if plan.loop_targets(name):
        parts.append(texts.VERDICT_HINT)
    return "\n\n".join(parts)


def build_files(plan: ExportPlan) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The agents and tasks mappings and the design-level metadata, as data."""
    design = plan.design
    process = process_of(plan)
    coordinator = plan.coordinator() if process == "hierarchical" else None
    manager = coordinator.agents[0] if coordinator else None
    agents: dict[str, Any] = {}
    for role in plan.roles:
        backstory = role.role.prompt or texts.default_backstory(role.archetype)
        delegates = design.topology.kind in PEER_MESH_KINDS or (process == "hierarchical" and role is coordinator)
        for i, agent in enumerate(role.agents, start=1):
            expanded = len(role.agents) > 1
            text = replica_role_text(role.name, i, role.replicas) if expanded else role.name
            agents[agent] = {
                "role": escape_placeholders(text),
                "goal": texts.GOALS[role.archetype],
                "backstory": escape_placeholders(backstory),
                "llm": role.role.model,
                "allow_delegation": delegates,
                "swarmdesign": {
                    "role": role.name,
                    "archetype": role.archetype,
                    "replica": i if expanded else None,
                    "replicas": role.replicas,
                },
            }
            if not expanded:
                del agents[agent]["swarmdesign"]["replica"]
    order, preds = _unrolled(plan)
    keys_of: dict[Node, list[tuple[str, str, int]]] = {n: _tasks_of(plan, n) for n in order}
    tasks: dict[str, Any] = {}
    for node in order:
        role = plan.get(node[0])
        attempts = role.attempts if node[1] == 0 else 1
        for key, agent, attempt in keys_of[node]:
            context: list[str] = []
            for p in preds[node]:
                if p[0] == node[0]:  # the same role's previous round: its own earlier work only
                    context += [k for k, a, _ in keys_of[p] if a == agent]
                else:
                    context += [k for k, _, _ in keys_of[p]]
            upstream = max((len(keys_of[p]) for p in preds[node] if p[0] != node[0]), default=0)
            entry: dict[str, Any] = {
                "description": _description(plan, node, attempt, attempts, upstream),
                "expected_output": texts.EXPECTED_OUTPUTS[role.stage],
                "agent": agent,
            }
            if context:
                entry["context"] = context
            tasks[key] = entry
    meta = {
        "name": design.name,
        "topology": design.topology.model_dump(exclude_none=True),
        "coordination": design.coordination.model_dump(mode="json"),
        "process": process,
        "manager": manager,
        "role_level": plan.role_level,
        # What the crew itself cannot carry, so that the import gives the design back exactly:
        # the explicit edges, and the roles with count 0 (no agent) in their place in the role order.
        "description": design.description,
        "edges": [list(e) for e in design.edges],
        "role_order": [r.name for r in design.roles],
        "inactive_roles": [r.model_dump(mode="json", exclude_none=True) for r in design.roles if r.count == 0],
    }
    return agents, tasks, meta


def round_gates(plan: ExportPlan) -> dict[str, tuple[list[str], list[str]]]:
    """For each task of round ``k >= 1``: the verdict tasks of round ``k-1``, and its agent's own work of ``k-1``.

    A round runs while any loop source (a checker, or the role closing an
    explicit cycle) asked for changes in the round before: the work is not
    accepted until every verdict accepts it. Round 0 always runs.
    """
    sources = list(dict.fromkeys(source for source, _ in plan.loops))
    gates: dict[str, tuple[list[str], list[str]]] = {}
    for k in range(1, plan.rounds + 1):
        verdicts = [key for s in sources for key, _, _ in _tasks_of(plan, (s, k - 1))]
        for name in plan.loop_body():
            before = _tasks_of(plan, (name, k - 1))
            for key, agent, _ in _tasks_of(plan, (name, k)):
                gates[key] = (verdicts, [b for b, a, _ in before if a == agent])
    return gates


def export(
    design: Design, out_dir: Path, *, max_agents: int = DEFAULT_MAX_AGENTS, role_level: bool = False
) -> list[Path]:
    """Write the CrewAI project (:data:`crewai_project.FILES`) into ``out_dir``."""
    plan = with_method_keys(plan_export(design, max_agents=max_agents, role_level=role_level))
    agents, tasks, meta = build_files(plan)
    header = (
        META_PREFIX + json.dumps(meta, ensure_ascii=True) + "\n"
        "# CrewAI agents exported by swarmdesign; crew.py beside config/ builds them.\n"
        "# The 'swarmdesign' keys are metadata for `swarmdesign import crewai`; CrewAI ignores them.\n"
    )
    crew = project.crew_module(meta["process"], meta["manager"], list(agents), list(tasks), round_gates(plan))
    texts_by_path = {
        "pyproject.toml": project.pyproject([r.role.model for r in plan.roles]),
        project.AGENTS_PATH: header + yamlio.dumps(agents),
        project.TASKS_PATH: yamlio.dumps(tasks),
        project.CREW_PATH: crew,
        project.MAIN_PATH: project.main_module(),
        project.INIT_PATH: "",
        ".env.example": project.env_example(),
        ".gitignore": project.gitignore(),
    }
    paths = []
    for relative in project.FILES:
        path = out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(texts_by_path[relative], encoding="utf-8")
        paths.append(path)
    return paths
