"""CrewAI target: ``agents.yaml`` + ``tasks.yaml`` in CrewAI's own schema, and ``crew.py``.

Mapping (see :mod:`swarmdesign.export.plan` for the shared wiring rules):

* each agent of the plan is a CrewAI agent (``role``, ``goal``, ``backstory``,
  ``llm``, ``allow_delegation``); replicas are named ``<role>_<i>`` with role
  text ``"<Role> (replica i of n)"`` — distinct role texts matter because a
  CrewAI manager delegates to a coworker by role text;
* each agent has one task per attempt (``<agent>_task`` or
  ``<agent>_attempt_<j>``); a task's ``context`` lists the tasks of the roles
  that hand work to it, so the sequential process follows the design's edges;
* CrewAI tasks cannot form cycles, so loops are unrolled: every role on a loop
  runs again in rounds ``1..rounds`` (``<agent>_round_<k>``), the loop target
  reading the loop source's previous-round verdict;
* star / hierarchical / federated designs run ``Process.hierarchical`` with
  the first coordinator agent as ``manager_agent``; everything else runs
  ``Process.sequential``;
* each agent carries a ``swarmdesign`` mapping (archetype, replica, replicas)
  and ``agents.yaml`` starts with a ``# swarmdesign:`` comment holding the
  design's topology and coordination; CrewAI ignores both, and the CrewAI
  import reads them back.

CrewAI fills ``{name}`` placeholders from ``kickoff(inputs=...)`` in every
text field and fails on unknown names, so user text is escaped with
:func:`escape_placeholders`; only the exported ``{task}`` placeholder remains.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from swarmdesign import yamlio
from swarmdesign.archetypes import HUB_KINDS
from swarmdesign.export import texts
from swarmdesign.export.plan import DEFAULT_MAX_AGENTS, ExportPlan, plan_export

if TYPE_CHECKING:
    from pathlib import Path

    from swarmdesign.design import Design

AGENTS_FILE = "agents.yaml"
TASKS_FILE = "tasks.yaml"
CREW_FILE = "crew.py"
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
        delegates = design.topology.kind == "mesh" or (process == "hierarchical" and role is coordinator)
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


_CREW_TEMPLATE = '''\
"""Build the CrewAI crew described by agents.yaml and tasks.yaml (exported by swarmdesign).

Run: python crew.py "the work item" (add --base-url URL --model NAME for a local server).
In code: build_crew(llm=None).kickoff(inputs={{"task": ...}}).
`llm` replaces the model of every agent (a LLM object, or a dict from agent key to LLM),
which is how the crew runs offline with a fake model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from crewai import Agent, Crew, Process, Task

HERE = Path(__file__).resolve().parent
PROCESS = {process}
MANAGER = {manager}


def _load(name: str) -> dict[str, Any]:
    with open(HERE / name, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _llm_for(llm: Any, key: str) -> dict[str, Any]:
    chosen = llm.get(key) if isinstance(llm, dict) else llm
    return {{"llm": chosen}} if chosen is not None else {{}}


def build_crew(llm: Any = None) -> Crew:
    """The crew, with the agents' own models unless `llm` overrides them."""
    agents = {{key: Agent(config=cfg, **_llm_for(llm, key)) for key, cfg in _load("agents.yaml").items()}}
    tasks: dict[str, Task] = {{}}
    for key, cfg in _load("tasks.yaml").items():
        cfg = dict(cfg)
        agent_key = cfg.pop("agent")
        context = [tasks[name] for name in cfg.pop("context", [])]
        # In a hierarchical crew the manager runs every task; its own tasks name no worker.
        agent = None if agent_key == MANAGER else agents[agent_key]
        tasks[key] = Task(config=cfg, agent=agent, context=context or None, name=key)
    options: dict[str, Any] = {{}}
    if MANAGER is not None:
        options["manager_agent"] = agents.pop(MANAGER)
    return Crew(agents=list(agents.values()), tasks=list(tasks.values()), process=Process(PROCESS), **options)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Run the exported crew on one work item.")
    parser.add_argument("task", nargs="*", help="the work item (asked for when omitted)")
    parser.add_argument("--base-url", help="an OpenAI-compatible server for every agent, e.g. http://127.0.0.1:8080/v1")
    parser.add_argument("--model", help="the model name on that server")
    args = parser.parse_args()
    llm = None
    if args.base_url:
        import os

        from crewai import LLM

        key = os.environ.get("OPENAI_API_KEY", "unused")
        llm = LLM(model="openai/" + (args.model or "default"), base_url=args.base_url, api_key=key)
    work_item = " ".join(args.task) or input("Work item: ")
    print(build_crew(llm).kickoff(inputs={{"task": work_item}}).raw)
'''


def crew_module(process: str, manager: str | None) -> str:
    """The text of ``crew.py``; the only design-derived values are ``repr`` literals."""
    return _CREW_TEMPLATE.format(process=repr(process), manager=repr(manager))


def export(
    design: Design, out_dir: Path, *, max_agents: int = DEFAULT_MAX_AGENTS, role_level: bool = False
) -> list[Path]:
    """Write ``agents.yaml``, ``tasks.yaml`` and ``crew.py`` into ``out_dir``."""
    plan = plan_export(design, max_agents=max_agents, role_level=role_level)
    agents, tasks, meta = build_files(plan)
    out_dir.mkdir(parents=True, exist_ok=True)
    header = (
        META_PREFIX + json.dumps(meta, ensure_ascii=True) + "\n"
        "# CrewAI agents exported by swarmdesign; load them with crew.py beside this file.\n"
        "# The 'swarmdesign' keys are metadata for `swarmdesign import crewai`; CrewAI ignores them.\n"
    )
    paths = [out_dir / AGENTS_FILE, out_dir / TASKS_FILE, out_dir / CREW_FILE]
    paths[0].write_text(header + yamlio.dumps(agents), encoding="utf-8")
    paths[1].write_text(yamlio.dumps(tasks), encoding="utf-8")
    paths[2].write_text(crew_module(meta["process"], meta["manager"]), encoding="utf-8")
    return paths
