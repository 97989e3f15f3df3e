"""What every export target must do, whatever the framework (fast: no framework is imported)."""

from __future__ import annotations

import ast
import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml
from export_helpers import BUNDLED, LARGE, expected_edges, export_options, hostile_design, load_design, require

from swarmdesign.archetypes import TOPOLOGY_KINDS
from swarmdesign.design import Design
from swarmdesign.errors import SwarmdesignError
from swarmdesign.export import TARGETS, export_design, get_target
from swarmdesign.export.mermaid import to_mermaid
from swarmdesign.export.plan import identifier, plan_export, split_loops, wiring

CAPPED = ("crewai", "autogen", "langgraph")


def test_bundled_designs_cover_every_topology_and_coordination() -> None:
    designs = [load_design(n) for n in BUNDLED]
    assert {d.topology.kind for d in designs} == set(TOPOLOGY_KINDS)
    assert any(d.coordination.redundancy > 1 for d in designs)
    assert any(d.coordination.redundancy == 1 for d in designs)
    assert any(d.coordination.review_rounds > 0 for d in designs)
    assert any(wiring(d)[1] and d.coordination.review_rounds == 0 for d in designs)  # an explicit cycle
    assert any(d.coordination.routing == "routed" for d in designs)
    assert any(d.total_agents > 64 for d in designs)


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", BUNDLED)
def test_export_writes_only_its_files_and_is_deterministic(target: str, name: str, tmp_path: Path) -> None:
    design = load_design(name)
    first = export_design(design, target, tmp_path / "a", **export_options(design))
    second = export_design(design, target, tmp_path / "b", **export_options(design))
    assert [p.relative_to(tmp_path / "a").as_posix() for p in first] == list(get_target(target).files)
    written = (p for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert sorted(p.relative_to(tmp_path / "a").as_posix() for p in written) == sorted(get_target(target).files)
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()


@pytest.mark.parametrize("target", TARGETS)
def test_hostile_names_export_to_well_formed_files(target: str, tmp_path: Path) -> None:
    """Every output parses as its format; the Python ones compile; no file lands outside the folder."""
    paths = export_design(hostile_design(), target, tmp_path / "out")
    for path in paths:
        assert tmp_path / "out" in path.parents
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".toml":
            assert tomllib.loads(text)["tool"]["crewai"] == {"type": "crew"}
        elif path.suffix == ".yaml":
            assert isinstance(yaml.safe_load(text), dict)
        elif path.name == "langgraph.json":
            assert json.loads(text)["graphs"] == {"swarmdesign": "./graph.py:make_graph"}
        elif path.name == "models.json":
            assert all(c["component_type"] == "model" for c in json.loads(text)["clients"].values())
        elif path.suffix == ".json":
            assert json.loads(text)["component_type"] == "team"
        elif path.suffix == ".py":
            tree = ast.parse(text)
            # No call, attribute or name in the module mentions the payload: it is only ever data.
            code_names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
            assert "__import__" not in code_names and "system" not in code_names
            strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
            # The loaders (crew.py, team.py) are fixed code: only the design's data files hold its text.
            loaders = ("crew.py", "main.py", "__init__.py", "team.py")
            assert any("__import__('os')" in s for s in strings) or path.name in loaders
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize("target", CAPPED)
def test_too_many_agents_is_refused_with_a_way_out(target: str, tmp_path: Path) -> None:
    design = load_design(LARGE)
    with pytest.raises(SwarmdesignError) as info:
        export_design(design, target, tmp_path)
    message = str(info.value)
    assert "--role-level" in message and "--max-agents 64" in message and str(design.total_agents) in message
    assert "\n" not in message
    assert export_design(design, target, tmp_path, role_level=True)
    assert export_design(load_design("hierarchical_org"), target, tmp_path, max_agents=19)
    with pytest.raises(SwarmdesignError, match="more than --max-agents 18"):
        export_design(load_design("hierarchical_org"), target, tmp_path, max_agents=18)


@pytest.mark.parametrize("target", ("mermaid", "yaml"))
def test_role_level_targets_have_no_cap(target: str, tmp_path: Path) -> None:
    assert export_design(load_design(LARGE), target, tmp_path, max_agents=1)


def test_unknown_target_names_the_choices(tmp_path: Path) -> None:
    with pytest.raises(SwarmdesignError, match=r"--to: unknown export target 'pdf'; expected one of crewai, "):
        export_design(load_design("single_agent"), "pdf", tmp_path)


def test_yaml_target_is_the_canonical_design(tmp_path: Path) -> None:
    design = load_design("code_review_chain")
    [path] = export_design(design, "yaml", tmp_path)
    assert Design.load(path) == design
    assert path.read_text(encoding="utf-8") == design.to_yaml()


def _parse_mermaid(text: str) -> tuple[dict[str, str], set[tuple[str, str]], set[tuple[str, str]]]:
    labels = dict(re.findall(r"^\s+(r\d+)[\[{]+\"(.*?)\"[\]}]+$", text, re.M))
    forward = set(re.findall(r"^\s+(r\d+) -->(?:\|[^|]*\|)? (r\d+)$", text, re.M))
    loops = set(re.findall(r"^\s+(r\d+) -\. .*? \.-> (r\d+)$", text, re.M))
    return labels, forward, loops


@pytest.mark.parametrize("name", BUNDLED)
def test_mermaid_shows_roles_counts_and_edges(name: str) -> None:
    design = load_design(name)
    labels, forward, loops = _parse_mermaid(to_mermaid(design))
    ids = {r.name: f"r{i}" for i, r in enumerate(design.roles)}
    assert set(labels) == set(ids.values())
    for role in design.roles:
        assert f"×{role.count}" in labels[ids[role.name]]
    fwd, back, _ = wiring(design)
    assert forward == {(ids[a], ids[b]) for a, b in fwd}
    assert loops == {(ids[a], ids[b]) for a, b in back}
    assert forward | loops == {(ids[a], ids[b]) for a, b in expected_edges(design)}


def test_mermaid_labels_cannot_break_out() -> None:
    text = to_mermaid(hostile_design())
    body = text.split("flowchart LR\n", 1)[1]
    for line in body.splitlines():
        assert line.startswith("    ")
        assert line.count('"') in (0, 2)
    assert "DROP TABLE" in text  # plain words survive
    assert "#34;#34;#34;" in text  # quotes are entities


def test_identifiers_are_safe_and_unique() -> None:
    for text in ["class", "__import__('os')", "", "9lives", "名前", "start", "a" * 300, "x--y__z"]:
        ident = identifier(text)
        assert ident.isidentifier() and ident.isascii() and "__" not in ident and len(ident) <= 45
    plan = plan_export(hostile_design())
    keys = [a for r in plan.roles for a in r.agents]
    assert len(keys) == len(set(keys)) == 6
    assert "user" not in keys


def test_loops_are_split_by_role_order_not_edge_order() -> None:
    roles = ["a", "b", "c"]
    for edges in ([("a", "b"), ("b", "c"), ("c", "a")], [("c", "a"), ("b", "c"), ("a", "b")]):
        forward, loops = split_loops(roles, edges)
        assert loops == [("c", "a")] and set(forward) == {("a", "b"), ("b", "c")}


def test_review_rounds_add_loops_and_cycles_run_once() -> None:
    chain = load_design("code_review_chain")
    assert wiring(chain) == (list(chain.role_graph()), [("reviewer", "coder")], 2)
    ring = load_design("ring_relay")
    assert wiring(ring)[1:] == ([("critic", "researcher")], 1)
    assert wiring(load_design("star_research"))[1:] == ([], 0)


def test_a_missing_framework_fails_in_ci_and_skips_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="must be installed in CI"):
        require("swarmdesign_no_such_framework")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        require("swarmdesign_no_such_framework")
