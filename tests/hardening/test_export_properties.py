"""Exports of designs with arbitrary Unicode names, models and prompts stay well-formed, for every target.

User text must only ever land in generated files as *data*: YAML that
re-parses to the same strings, JSON that AutoGen loads, Python modules that
compile and hold the text in literals (checked on the syntax tree, never by
running the module), Mermaid whose every line still parses as the line it
was meant to be.
"""

from __future__ import annotations

import ast
import json
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hardening_strategies import designs, examples
from hypothesis import given

from swarmdesign import yamlio
from swarmdesign.design import Design
from swarmdesign.export import TARGETS, export_design, get_target
from swarmdesign.export.mermaid import to_mermaid
from swarmdesign.importers.crewai import import_crewai
from tests.export.export_helpers import HOSTILE, require


def _export(design: Design, target: str, out: Path) -> dict[str, Path]:
    paths = export_design(design, target, out, role_level=True)
    assert [p.relative_to(out).as_posix() for p in paths] == list(get_target(target).files)
    assert all(out in p.parents for p in paths)
    assert [p.name for p in out.parent.iterdir()] == [out.name]  # nothing written beside the folder
    return {p.name: p for p in paths}


def _module_literals(path: Path) -> tuple[ast.Module, dict[str, Any]]:
    """The module's syntax tree and its top-level constant assignments, read with literal_eval (never run)."""
    source = path.read_text(encoding="utf-8")
    compile(source, str(path), "exec")
    tree = ast.parse(source)
    values: dict[str, Any] = {}
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None
        if isinstance(node, ast.AnnAssign):
            target = node.target
        if isinstance(target, ast.Name) and node.value is not None:
            try:
                values[target.id] = ast.literal_eval(node.value)
            except ValueError:
                continue  # code, not data
    return tree, values


def _code_names(tree: ast.Module) -> set[str]:
    """Identifiers used as code (names and attributes), which must never come from user text."""
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    names |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    names |= {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef)}
    return names


def _known_code_names(target: str, file: str) -> set[str]:
    """Every identifier the generator writes as code for the bundled designs (whose text is plain)."""
    from swarmdesign.resources import bundled_dir

    names: set[str] = set()
    with tempfile.TemporaryDirectory() as tmp:
        for i, path in enumerate(sorted(bundled_dir("designs").glob("*.yaml"))):
            exported = _export(Design.load(path), target, Path(tmp) / str(i) / "out")[file]
            names |= _code_names(_module_literals(exported)[0])
    return names


KNOWN_CODE_NAMES = {("crewai", "crew.py"): set(), ("langgraph", "graph.py"): set()}


def _reference_code_names(target: str, file: str) -> set[str]:
    if not KNOWN_CODE_NAMES[target, file]:
        KNOWN_CODE_NAMES[target, file] = _known_code_names(target, file)
    return KNOWN_CODE_NAMES[target, file]


#: Mermaid label text: safe characters, entities and the line breaks the exporter writes itself.
_LABEL = r"(?:[A-Za-z0-9 .,:_+/×·-]|#\d+;|<br/>)*"
_MERMAID_LINES = [
    re.compile(p)
    for p in (
        rf'^    r\d+(?:\["{_LABEL}"\]|\{{\{{"{_LABEL}"\}}\}})$',
        r"^    r\d+ -->(?:\|[a-z_]+\|)? r\d+$",
        r"^    r\d+ -\. revise ×\d+ \.-> r\d+$",
        r"^    classDef inactive stroke-dasharray: 4 4,opacity:0\.6$",
        r"^    class r\d+(?:,r\d+)* inactive$",
        rf'^    coordination\["{_LABEL}"\]:::note$',
        r"^    classDef note fill:#fff8dc,stroke:#c8b560$",
    )
]


def check_mermaid(text: str) -> None:
    head, sep, body = text.partition("\nflowchart LR\n")
    assert sep, "no flowchart header"
    assert re.fullmatch(rf'---\ntitle: "{_LABEL}"\n---', head), head
    for line in body.rstrip("\n").split("\n"):
        assert any(p.match(line) for p in _MERMAID_LINES), f"a Mermaid line out of shape: {line!r}"


def check_export(design: Design, target: str, out: Path) -> None:
    """Every file of ``target`` is well-formed and holds the design's text as data."""
    files = _export(design, target, out)
    active = {r.name for r in design.active_roles}
    if target == "yaml":
        assert Design.load(files["design.yaml"]) == design
    elif target == "mermaid":
        text = files["design.mmd"].read_text(encoding="utf-8")
        assert text == to_mermaid(design)
        check_mermaid(text)
    elif target == "crewai":
        agents = yamlio.load_file(files["agents.yaml"])
        tasks = yamlio.load_file(files["tasks.yaml"])
        assert isinstance(agents, dict) and isinstance(tasks, dict)
        assert yaml.safe_load(files["agents.yaml"].read_text(encoding="utf-8")) == agents
        tree, _ = _module_literals(files["crew.py"])
        # One @agent / @task method per YAML key (identifiers), as CrewAI's own project template has.
        assert _code_names(tree) <= _reference_code_names("crewai", "crew.py") | set(agents) | set(tasks)
        imported, _ = import_crewai(files["agents.yaml"], files["tasks.yaml"])  # model names come back trimmed
        assert {r.name: (r.archetype, r.count, r.model) for r in imported.active_roles} == {
            r.name: (r.archetype, r.count, r.model.strip()) for r in design.active_roles
        }
    elif target == "autogen":
        team = json.loads(files["team.json"].read_text(encoding="utf-8"))
        assert team["component_type"] == "team"
        meta = [p["config"].get("metadata") or {} for p in team["config"]["participants"]]
        assert {m["swarmdesign_role"] for m in meta if "swarmdesign_role" in m} == active
    else:
        assert target == "langgraph"
        tree, values = _module_literals(files["graph.py"])
        assert values["DESIGN_NAME"] == design.name
        assert {spec["name"] for spec in values["ROLES"].values()} == active
        assert {spec["model"] for spec in values["ROLES"].values()} == {r.model for r in design.active_roles}
        assert _code_names(tree) <= _reference_code_names("langgraph", "graph.py")


@pytest.mark.parametrize("target", TARGETS)
@examples(60)
@given(design=designs())
def test_arbitrary_text_exports_to_well_formed_files(target: str, design: Design) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        check_export(design, target, Path(tmp) / "out")


@pytest.mark.parametrize("target", TARGETS)
def test_the_hostile_design_exports_to_well_formed_files(target: str, tmp_path: Path) -> None:
    """The hand-picked injection attempts of tests/export, through the same checks as the generated ones."""
    check_export(Design.from_dict(HOSTILE), target, tmp_path / "out")


# ------------------------------------------------------------ loading in AutoGen
REPLAY = "autogen_ext.models.replay.ReplayChatCompletionClient"
MODEL_INFO = {
    "vision": False,
    "function_calling": True,
    "json_output": True,
    "family": "unknown",
    "structured_output": True,
}


def _offline(node: Any) -> Any:
    """Every model client replaced by a replay client, so loading needs no key and no network."""
    if isinstance(node, list):
        return [_offline(x) for x in node]
    if not isinstance(node, dict):
        return node
    if node.get("component_type") == "model":
        return {
            "provider": REPLAY,
            "component_type": "model",
            "config": {"chat_completions": ["ok"], "model_info": MODEL_INFO},
        }
    return {k: _offline(v) for k, v in node.items()}


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@examples(20)
@given(design=designs(max_roles=4))
def test_autogen_loads_the_team_of_any_design(design: Design) -> None:
    team_type = require("autogen_agentchat.base").Team
    with tempfile.TemporaryDirectory() as tmp:
        path = export_design(design, "autogen", Path(tmp) / "out", role_level=True)[0]  # team.json
        config = _offline(json.loads(path.read_text(encoding="utf-8")))
    team = team_type.load_component(config)
    dumped = json.dumps(team.dump_component().model_dump(mode="json"))
    for role in design.active_roles:
        assert json.dumps(role.name)[1:-1] in dumped  # the role's name survives as data
