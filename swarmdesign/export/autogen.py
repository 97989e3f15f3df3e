"""AutoGen target: an AgentChat declarative team (``team.json``) for ``Team.load_component``.

The team type follows the design:

* ``mesh`` or ``hybrid`` of two agents or more → ``SelectorGroupChat``: peers who all hear each
  other, a selector model picks who speaks (a hybrid's hub is one of them, and its model is the
  selector's); the design's hand-offs are written into the selector prompt as guidance;
* ``coordination.routing: routed`` → ``Swarm``: every agent gets hand-offs
  (``transfer_to_<agent>``) to the agents of the roles it hands work to;
* everything else → ``GraphFlow`` over the agent graph (what ``DiGraphBuilder``
  builds): one node per agent, an edge from every agent of a role to every
  agent of each role it hands work to, so replicas fan out and fan back in.
  Loop edges carry the **string** condition ``"REVISE"`` (a callable condition
  would be dropped by ``dump_component`` without a word) and the loop source's
  forward edges the condition ``"APPROVE"``, because GraphFlow refuses a node
  with both conditional and unconditional edges. GraphFlow also needs a node
  without parents and one without children: where loops take those away, a
  ``start`` or ``finish`` agent is added, and the description says so.
  A node waits for all agents of all roles that hand to it (activation
  ``"all"``); a loop re-enters through its own ``"any"`` group. A role fed
  both from inside and from outside a loop therefore runs once per round only
  if its outside feeders run again too — the default stage-order wiring never
  builds such a role.

Redundancy: GraphFlow runs an agent once per activation, so a produce-stage
agent is asked for ``redundancy`` numbered attempts and the roles it hands to
are told how to aggregate them (``coordination.aggregation``).

The JSON is written directly (AutoGen need not be installed to export); the
export tests load it with the real ``Team.load_component``. No API key is ever
written: model clients read their key from the environment at load time.
Models are chosen in one place, ``models.json`` (see
:mod:`swarmdesign.export.autogen_models`), which the generated ``team.py`` applies.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from swarmdesign.archetypes import PEER_MESH_KINDS
from swarmdesign.export import texts
from swarmdesign.export.autogen_models import MODELS_FILE, SELECTOR, model_client, model_map, team_module
from swarmdesign.export.plan import DEFAULT_MAX_AGENTS, ExportPlan, plan_export

if TYPE_CHECKING:
    from pathlib import Path

    from swarmdesign.design import Design

FILE_NAME = "team.json"
MODULE_FILE = "team.py"
START_AGENT = "start"
FINISH_AGENT = "finish"
TERMINATE = "TERMINATE"
LOOP_GROUP = "loop"


def _component(provider: str, component_type: str, config: dict[str, Any], version: int = 1) -> dict[str, Any]:
    return {
        "provider": provider,
        "component_type": component_type,
        "version": version,
        "component_version": version,
        "config": config,
    }


def _termination(max_messages: int, *, on_text: bool) -> dict[str, Any]:
    """A message cap, or'ed with "TERMINATE" for teams whose agents decide when they are done."""
    cap = _component(
        "autogen_agentchat.conditions.MaxMessageTermination",
        "termination",
        {"max_messages": max_messages, "include_agent_event": False},
    )
    if not on_text:
        return cap
    text = _component("autogen_agentchat.conditions.TextMentionTermination", "termination", {"text": TERMINATE})
    return _component("autogen_agentchat.base.OrTerminationCondition", "termination", {"conditions": [text, cap]})


def _agent(
    name: str, model: str, description: str, system_message: str, metadata: dict[str, str], handoffs: list[str]
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "name": name,
        "model_client": model_client(model),
        "description": description,
        "system_message": system_message,
        "model_client_stream": False,
        "reflect_on_tool_use": False,
        "tool_call_summary_format": "{result}",
        "metadata": metadata,
    }
    if handoffs:
        config["handoffs"] = [
            {
                "target": target,
                "description": f"Hand the work to {target}.",
                "name": f"transfer_to_{target}",
                "message": f"Transferred to {target}.",
            }
            for target in handoffs
        ]
    return _component("autogen_agentchat.agents.AssistantAgent", "agent", config, version=2)


def _agents_of(plan: ExportPlan, names: list[str]) -> list[str]:
    return [agent for name in names for agent in plan.get(name).agents]


def _participants(plan: ExportPlan, team: str) -> list[dict[str, Any]]:
    """One AssistantAgent per plan agent, in execution order."""
    aggregation = texts.AGGREGATION_HINTS[plan.design.coordination.aggregation]
    out = []
    for name in plan.topo_order():
        role = plan.get(name)
        notes = []
        if role.attempts > 1:
            notes.append(f"Give {role.attempts} independent attempts at your part, numbered.")
        if any(len(plan.get(p).agents) > 1 or plan.get(p).attempts > 1 for p in plan.predecessors(name)):
            notes.append(aggregation)
        if plan.loop_targets(name):
            notes.append(texts.VERDICT_HINT)
        if team != "graphflow" and not plan.successors(name):
            notes.append(f"When the whole work item is finished, end your reply with {TERMINATE}.")
        system = "\n\n".join([texts.system_prompt(role.archetype, role.role.prompt), *notes])
        handoffs = _agents_of(plan, plan.successors(name) + plan.loop_targets(name)) if team == "swarm" else []
        for i, agent in enumerate(role.agents, start=1):
            replica = f"replica {i} of {role.replicas}" if len(role.agents) > 1 else f"stands for {role.replicas}"
            metadata = {
                "swarmdesign_role": role.name,
                "archetype": role.archetype,
                "replicas": str(role.replicas),
                "model": role.role.model,
            }
            if len(role.agents) > 1:
                metadata["replica"] = str(i)
            description = f"{role.archetype} '{role.name}' ({replica}): {texts.GOALS[role.archetype]}"
            out.append(_agent(agent, role.role.model, description, system, metadata, handoffs))
    return out


def _helper_agent(name: str, model: str, system: str) -> dict[str, Any]:
    description = f"{name}: added so that AutoGen's GraphFlow has a {name}."
    return _agent(name, model, description, system, {"model": model}, [])


def _graph(plan: ExportPlan, participants: list[dict[str, Any]]) -> tuple[dict[str, Any], list[str]]:
    """The DiGraph (nodes with outgoing edges) and the names of helper agents added."""
    nodes: dict[str, dict[str, Any]] = {
        p["config"]["name"]: {"name": p["config"]["name"], "edges": [], "activation": "all"} for p in participants
    }
    for name in plan.topo_order():
        loop_source = bool(plan.loop_targets(name))
        for agent in plan.get(name).agents:
            for target in _agents_of(plan, plan.successors(name)):
                edge = {"target": target, "activation_group": target, "activation_condition": "all"}
                if loop_source:
                    edge["condition"] = texts.VERDICT_APPROVE
                nodes[agent]["edges"].append(edge)
            for target in _agents_of(plan, plan.loop_targets(name)):
                nodes[agent]["edges"].append(
                    {
                        "target": target,
                        "condition": texts.VERDICT_REVISE,
                        "activation_group": LOOP_GROUP,
                        "activation_condition": "any",
                    }
                )
    helpers: list[str] = []
    first_model = plan.get(plan.topo_order()[0]).role.model
    if all(node["edges"] for node in nodes.values()):
        # Every node hands on (the loop sources are the last roles): approval ends the run here.
        sources = [a for a, b in plan.loops]
        participants.append(_helper_agent(FINISH_AGENT, first_model, "Restate the approved result in full."))
        nodes[FINISH_AGENT] = {"name": FINISH_AGENT, "edges": [], "activation": "all"}
        for agent in _agents_of(plan, [s for s in dict.fromkeys(sources) if not plan.successors(s)]):
            nodes[agent]["edges"].append(
                {
                    "target": FINISH_AGENT,
                    "condition": texts.VERDICT_APPROVE,
                    "activation_group": FINISH_AGENT,
                    "activation_condition": "any",
                }
            )
        helpers.append(FINISH_AGENT)
    graph: dict[str, Any] = {"nodes": nodes}
    entry = _agents_of(plan, plan.sources())
    parentless = set(nodes) - {e["target"] for n in nodes.values() for e in n["edges"]}
    if parentless != set(entry):
        if len(entry) == 1:
            graph["default_start_node"] = entry[0]
        else:
            participants.insert(0, _helper_agent(START_AGENT, first_model, "Restate the work item for the team."))
            edges = [{"target": a, "activation_group": f"{a}_start", "activation_condition": "all"} for a in entry]
            nodes[START_AGENT] = {"name": START_AGENT, "edges": edges, "activation": "all"}
            helpers.append(START_AGENT)
    return graph, helpers


def team_kind(plan: ExportPlan) -> str:
    agents = sum(len(r.agents) for r in plan.roles)
    # peers who all talk to each other (mesh; a hybrid's members around its hub): a group chat whose next speaker
    # a model picks; SelectorGroupChat refuses a lone participant
    if plan.design.topology.kind in PEER_MESH_KINDS and agents >= 2:
        return "selector"
    if plan.design.coordination.routing == "routed":
        return "swarm"
    return "graphflow"


def _selector_prompt(plan: ExportPlan) -> str:
    """SelectorGroupChat's prompt (it is ``str.format``-ed: only agent keys, never user text, go in)."""
    pairs = [f"{a} -> {b}" for x, y in plan.forward for a in plan.get(x).agents for b in plan.get(y).agents]
    pairs += [f"{a} -> {b} (to revise)" for x, y in plan.loops for a in plan.get(x).agents for b in plan.get(y).agents]
    guide = "; ".join(pairs) if pairs else "any order"
    return (
        "You are in a role play game. The following roles are available:\n{roles}.\n"
        f"The team usually hands work on like this: {guide}.\n"
        "Read the following conversation. Then select the next role from {participants} to play. "
        "Only return the role.\n\n{history}\n\n"
        "Read the above conversation. Then select the next role from {participants} to play. Only return the role.\n"
    )


def build_team(plan: ExportPlan) -> dict[str, Any]:
    """The team component as a JSON-ready dict."""
    design = plan.design
    kind = team_kind(plan)
    participants = _participants(plan, kind)
    budget = len(participants) * (plan.rounds + 1) + 2
    lines = [f"Exported by swarmdesign from design {design.name!r} (topology {design.topology.kind})."]
    if plan.role_level:
        lines.append("Role level: each agent stands for all replicas of its role (see its metadata).")
    config: dict[str, Any] = {"name": "swarmdesign_team", "participants": participants}
    if kind == "graphflow":
        graph, helpers = _graph(plan, participants)
        if helpers:
            lines.append(f"Added for GraphFlow's rules: {', '.join(helpers)}.")
        # The graph itself ends the run; the cap only bounds loops that keep asking for revisions.
        config |= {
            "termination_condition": _termination(budget * 2, on_text=False),
            "max_turns": budget,
            "graph": graph,
        }
        provider = "autogen_agentchat.teams.GraphFlow"
    elif kind == "swarm":
        config |= {
            "termination_condition": _termination(budget * 2, on_text=True),
            "max_turns": budget,
            "emit_team_events": False,
        }
        provider = "autogen_agentchat.teams.Swarm"
    else:
        hub = plan.coordinator() or plan.get(plan.topo_order()[0])
        config |= {
            "model_client": model_client(hub.role.model),
            "termination_condition": _termination(budget * 2, on_text=True),
            "max_turns": budget,
            "selector_prompt": _selector_prompt(plan),
            "allow_repeated_speaker": False,
            "max_selector_attempts": 3,
            "emit_team_events": False,
            "model_client_streaming": False,
        }
        provider = "autogen_agentchat.teams.SelectorGroupChat"
    config["description"] = " ".join(lines)
    return _component(provider, "team", config)


def model_assignments(team: dict[str, Any], plan: ExportPlan) -> dict[str, str]:
    """Agent name (and the selector) -> the design model it runs on, read back from the built team."""
    out = {p["config"]["name"]: p["config"]["metadata"]["model"] for p in team["config"]["participants"]}
    if "model_client" in team["config"]:
        hub = plan.coordinator() or plan.get(plan.topo_order()[0])
        out[SELECTOR] = hub.role.model
    return out


def export(
    design: Design, out_dir: Path, *, max_agents: int = DEFAULT_MAX_AGENTS, role_level: bool = False
) -> list[Path]:
    """Write ``team.json``, its model map ``models.json`` and the loader ``team.py`` into ``out_dir``."""
    plan = plan_export(design, max_agents=max_agents, role_level=role_level)
    team = build_team(plan)
    models = model_map(model_assignments(team, plan))
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / FILE_NAME, out_dir / MODELS_FILE, out_dir / MODULE_FILE]
    paths[0].write_text(json.dumps(team, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    paths[1].write_text(json.dumps(models, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    paths[2].write_text(team_module(), encoding="utf-8")
    return paths
