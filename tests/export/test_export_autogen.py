"""The AutoGen export loads with ``Team.load_component`` and runs offline on replayed models.

Every ``model`` component is swapped for a ``ReplayChatCompletionClient``
scripted per agent before loading, as AutoGen's own tests do. Then: every
role is present as agents, the graph / hand-offs / selector prompt match the
design's edges, and a run speaks in an order the edges allow.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from export_helpers import BUNDLED, expected_edges, export_options, hostile_design, load_design, require

from swarmdesign.design import Design
from swarmdesign.export import export_design

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

REPLAY = "autogen_ext.models.replay.ReplayChatCompletionClient"
MODEL_INFO = {
    "vision": False,
    "function_calling": True,
    "json_output": True,
    "family": "unknown",
    "structured_output": True,
}


def _replay(completions: list[Any]) -> dict[str, Any]:
    return {
        "provider": REPLAY,
        "component_type": "model",
        "config": {"chat_completions": completions, "model_info": MODEL_INFO},
    }


def _swap_models(node: Any, script: dict[str, list[Any]]) -> Any:
    """Replace each agent's model client with a replay client playing that agent's script."""
    if isinstance(node, list):
        return [_swap_models(x, script) for x in node]
    if not isinstance(node, dict):
        return node
    if node.get("component_type") == "agent":
        config = dict(node["config"])
        config["model_client"] = _replay(script[config["name"]])
        return {**node, "config": config}
    return {k: _swap_models(v, script) for k, v in node.items()}


def _handoff(target: str) -> dict[str, Any]:
    call = {"id": f"call_{target}", "name": f"transfer_to_{target}", "arguments": "{}"}
    return {
        "finish_reason": "function_calls",
        "content": [call],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1},
        "cached": False,
    }


def _export(design: Design, out: Path) -> dict[str, Any]:
    path = export_design(design, "autogen", out, **export_options(design))[0]  # team.json
    text = path.read_text(encoding="utf-8")
    assert "api_key" not in text
    return json.loads(text)


def _roles(team: dict[str, Any]) -> dict[str, str]:
    """Agent name -> design role name, from the agents' metadata (helper agents have none)."""
    out = {}
    for p in team["config"]["participants"]:
        meta = p["config"].get("metadata") or {}
        if "swarmdesign_role" in meta:
            out[p["config"]["name"]] = meta["swarmdesign_role"]
    return out


def _check_roles(design: Design, team: dict[str, Any]) -> dict[str, str]:
    role_of = _roles(team)
    role_level = export_options(design)["role_level"]
    counts: dict[str, int] = {}
    for role in role_of.values():
        counts[role] = counts.get(role, 0) + 1
    assert counts == {r.name: 1 if role_level else r.count for r in design.active_roles}
    return role_of


def _run(team_config: dict[str, Any], kinds: tuple[str, ...] = ("TextMessage",)) -> list[str]:
    """Load the team with AutoGen and run it; the sources of agent messages of ``kinds``, in order."""
    team_type = require("autogen_agentchat.base").Team

    async def go() -> list[str]:
        team = team_type.load_component(team_config)
        result = await team.run(task="build a todo app")
        return [m.source for m in result.messages if type(m).__name__ in kinds and m.source != "user"]

    return asyncio.run(go())


GRAPH_DESIGNS = [n for n in BUNDLED if n not in ("mesh_debate", "hybrid_team", "pubsub_routed")]


def _design(name: str) -> Design:
    if name == "hostile":
        return hostile_design()
    if name == "ring_replicated":  # several entry agents that are also loop targets: needs a start agent
        data = load_design("ring_relay").to_dict()
        data["roles"][0]["count"] = 2
        return Design.from_dict(data)
    return load_design(name)


@pytest.mark.parametrize("name", [*GRAPH_DESIGNS, "hostile", "ring_replicated"])
def test_graphflow_export_matches_the_design(name: str, tmp_path: Path) -> None:
    require("autogen_agentchat")
    design = _design(name)
    team = _export(design, tmp_path)
    assert team["provider"] == "autogen_agentchat.teams.GraphFlow"
    role_of = _check_roles(design, team)
    nodes = team["config"]["graph"]["nodes"]
    wired: set[tuple[str, str]] = set()
    for source, node in nodes.items():
        for edge in node["edges"]:
            if source in role_of and edge["target"] in role_of:
                wired.add((role_of[source], role_of[edge["target"]]))
                assert isinstance(edge.get("condition", ""), str)  # never a dropped callable
    assert wired == expected_edges(design)

    # Loop sources revise once, then approve: the run must take each loop once and then finish.
    revise = {(s, e["target"]) for s, n in nodes.items() for e in n["edges"] if e.get("condition") == "REVISE"}
    loops = {(role_of[a], role_of[b]) for a, b in revise if a in role_of and b in role_of}
    script = {}
    for p in team["config"]["participants"]:
        agent = p["config"]["name"]
        first_reply = ["REVISE: tighten it"] if any(role_of.get(agent) == src for src, _ in loops) else []
        script[agent] = [*first_reply, *[f"{agent} APPROVE done"] * 4]
    spoken = _run(_swap_models(team, script))
    assert set(role_of) <= set(spoken)
    helpers = [p["config"]["name"] for p in team["config"]["participants"] if p["config"]["name"] not in role_of]
    assert set(helpers) <= {"start", "finish"}
    assert ("start" in helpers) == (name == "ring_replicated")
    first = {agent: spoken.index(agent) for agent in role_of}
    agents_of = {r: [a for a in role_of if role_of[a] == r] for r in set(role_of.values())}
    for src, dst in expected_edges(design) - loops:
        assert min(first[a] for a in agents_of[src]) < min(first[b] for b in agents_of[dst]), f"{dst} before {src}"
    for _, dst in loops:
        for agent in agents_of[dst]:
            assert spoken.count(agent) >= 2, f"the loop into {agent} was not taken"


def test_handoff_design_exports_a_swarm(tmp_path: Path) -> None:
    require("autogen_agentchat")
    design = load_design("pubsub_routed")
    team = _export(design, tmp_path)
    assert team["provider"] == "autogen_agentchat.teams.Swarm"
    role_of = _check_roles(design, team)
    handoffs = {
        p["config"]["name"]: [h["target"] for h in p["config"].get("handoffs", [])]
        for p in team["config"]["participants"]
    }
    wired = {(role_of[a], role_of[t]) for a, targets in handoffs.items() for t in targets}
    assert wired == expected_edges(design)
    # Script a path: each agent transfers to its first hand-off target; the last one finishes.
    script = {}
    for agent, targets in handoffs.items():
        script[agent] = [_handoff(targets[0]), "ok"] if targets else ["all done TERMINATE"]
    spoken = _run(_swap_models(team, script), kinds=("TextMessage", "HandoffMessage"))
    path, agent = [], team["config"]["participants"][0]["config"]["name"]
    while True:
        path.append(agent)
        if not handoffs[agent]:
            break
        agent = handoffs[agent][0]
    assert spoken == path
    assert [role_of[a] for a in path] == ["dispatcher", "worker", "collector"]


@pytest.mark.parametrize("name", ["mesh_debate", "hybrid_team"])
def test_peer_designs_export_a_selector_group_chat(name: str, tmp_path: Path) -> None:
    """Peers who all hear each other (a mesh; a hybrid's members and its hub) share one group chat."""
    require("autogen_agentchat")
    design = load_design(name)
    team = _export(design, tmp_path)
    assert team["provider"] == "autogen_agentchat.teams.SelectorGroupChat"
    if design.topology.kind == "hybrid":  # the hub's model picks who speaks
        lead = next(r for r in design.roles if r.archetype == "orchestrator")
        assert team["config"]["model_client"]["config"]["model"] == lead.model.split("/", 1)[1]
    role_of = _check_roles(design, team)
    prompt = team["config"]["selector_prompt"]
    for src, dst in expected_edges(design):
        for a in [k for k, v in role_of.items() if v == src]:
            for b in [k for k, v in role_of.items() if v == dst]:
                assert f"{a} -> {b}" in prompt
    order = list(role_of)
    team["config"]["model_client"] = _replay(order)
    script = {agent: [f"{agent} says hi" + (" TERMINATE" if agent == order[-1] else "")] for agent in order}
    config = _swap_models(team, script)
    config["config"]["model_client"] = _replay(order)
    assert _run(config) == order
