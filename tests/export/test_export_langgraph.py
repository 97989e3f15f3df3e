"""The LangGraph export is a module that builds a real ``StateGraph`` and runs on fake chat models.

``build_graph(llm)`` gets one ``FakeListChatModel`` per node (or one
``GenericFakeChatModel`` for all); the tests check the compiled graph's nodes
and edges against the design, then run it and check who ran, how often
(replicas × attempts via ``Send``), in which order, and that loops run their rounds.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from export_helpers import (
    BUNDLED,
    EVIL,
    expected_edges,
    export_options,
    hostile_design,
    import_path,
    load_design,
    require,
)

from swarmdesign.design import Design
from swarmdesign.export import export_design
from swarmdesign.export.plan import plan_export, wiring

pytestmark = pytest.mark.slow


def _role(node: str) -> str:
    """The role node behind a helper node (``coder__fanout``, ``coder__join``)."""
    return node.removesuffix("__join").removesuffix("__fanout")


def _module(design: Design, out: Path, name: str) -> Any:
    path = export_design(design, "langgraph", out, **export_options(design))[0]  # graph.py
    return import_path(path, f"graph_{name}")


def _role_edges(module: Any, app: Any) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(edges, conditional edges) between role nodes of the compiled graph, seen through helper nodes."""
    edges = {(_role(e.source), _role(e.target), e.conditional) for e in app.get_graph().edges}
    edges = {(a, b, c) for a, b, c in edges if a in module.ROLES and b in module.ROLES and a != b}
    return {(a, b) for a, b, _ in edges}, {(a, b) for a, b, c in edges if c}


@pytest.mark.parametrize("name", [*BUNDLED, "hostile"])
def test_langgraph_export_builds_and_runs(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require("langgraph")
    fakes = require("langchain_core.language_models.fake_chat_models")
    monkeypatch.chdir(tmp_path)
    design = hostile_design() if name == "hostile" else load_design(name)
    module = _module(design, tmp_path / "out", name)
    role_of = {node: spec["name"] for node, spec in module.ROLES.items()}
    assert sorted(role_of.values()) == sorted(r.name for r in design.active_roles)

    forward, loops, rounds = wiring(design)
    body = set(plan_export(design, **export_options(design)).loop_body())  # roles each round re-runs
    loop_sources = {src for src, _ in loops}
    llms = {}
    for node, role in role_of.items():
        # A loop source asks for revision every time; REVIEW_ROUNDS must stop it.
        reply = "REVISE please" if role in loop_sources else f"{node} done"
        llms[node] = fakes.FakeListChatModel(responses=[reply])
    app = module.build_graph(llms)
    wired, conditional = _role_edges(module, app)
    assert {(role_of[a], role_of[b]) for a, b in wired} == expected_edges(design)
    assert {(role_of[a], role_of[b]) for a, b in conditional} >= set(loops)

    ran: list[str] = []
    final = None
    for update in app.stream(
        {"task": "todo app", "outputs": []}, {"recursion_limit": module.RECURSION_LIMIT}, stream_mode="updates"
    ):
        ran += [node for node in update if node in module.ROLES]
        final = update
    assert final is not None
    assert set(ran) == set(module.ROLES)
    per_activation = {node: spec["fan_out"] * spec["attempts"] for node, spec in module.ROLES.items()}
    role_level = export_options(design)["role_level"]
    for node, spec in module.ROLES.items():
        role = design.role(role_of[node])
        assert spec["fan_out"] == (1 if role_level else role.count)
        runs = ran.count(node) // per_activation[node]
        assert ran.count(node) % per_activation[node] == 0
        assert runs == (rounds + 1 if role_of[node] in body else 1), f"{node} ran {runs} times"
    first = {node: ran.index(node) for node in module.ROLES}
    node_of = {v: k for k, v in role_of.items()}
    for a, b in forward:
        assert first[node_of[a]] < first[node_of[b]]
    assert not (tmp_path / "PWNED").exists()


def test_langgraph_takes_a_shared_chat_model_and_stops_on_approval(tmp_path: Path) -> None:
    require("langgraph")
    fakes = require("langchain_core.language_models.fake_chat_models")
    messages = require("langchain_core.messages")
    module = _module(load_design("code_review_chain"), tmp_path, "shared")
    replies = itertools.cycle([messages.AIMessage(content="APPROVE")])
    final = module.run("todo app", fakes.GenericFakeChatModel(messages=replies))
    nodes = [o["node"] for o in final["outputs"]]
    assert nodes == ["planner", "coder", "coder", "reviewer", "tester"]  # approved first time: no revision round


def test_generated_module_keeps_user_text_as_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The payload is in the module only inside string literals, and importing it runs nothing of it."""
    monkeypatch.chdir(tmp_path)
    path = export_design(hostile_design(), "langgraph", tmp_path / "out")[0]  # graph.py
    source = path.read_text(encoding="utf-8")
    compile(source, str(path), "exec")
    for line in source.splitlines():
        if EVIL in line:
            assert line.lstrip().startswith(("'", '"')) or ": '" in line or ': "' in line, line
    require("langgraph")
    module = import_path(path, "graph_hostile_data")
    assert hostile_design().name == module.DESIGN_NAME
    assert {spec["name"] for spec in module.ROLES.values()} == {r.name for r in hostile_design().roles}
    assert not (tmp_path / "PWNED").exists()


def test_node_metadata_keeps_non_ascii_role_names(tmp_path: Path) -> None:
    """Node names are sanitised identifiers; the design's own role name survives in the node's metadata."""
    require("langgraph")
    fakes = require("langchain_core.language_models.fake_chat_models")
    name = "naïve—角色 🚀 3"
    design = Design.from_dict(
        {
            "swarmdesign": 1,
            "name": "unicode",
            "roles": [
                {"name": name, "archetype": "planner", "count": 1, "model": "openai/gpt-4o-mini"},
                {"name": "coder", "archetype": "coder", "count": 1, "model": "openai/gpt-4o-mini"},
            ],
            "topology": {"kind": "chain"},
        }
    )
    module = _module(design, tmp_path / "out", "unicode")
    app = module.build_graph(fakes.FakeListChatModel(responses=["ok"]))
    metadata = {node: data.metadata for node, data in app.get_graph().nodes.items() if data.metadata}
    assert metadata["naive_3"]["swarmdesign_role"] == name
    assert {m["swarmdesign_role"] for m in metadata.values()} == {name, "coder"}
    config = json.loads((tmp_path / "out" / "langgraph.json").read_text(encoding="utf-8"))
    assert config["graphs"] == {"swarmdesign": "./graph.py:make_graph"}
