"""Regression tests for the bugs the hardening work found, one per bug, in-process and fast.

Most bad inputs are covered end to end by the corpus (test_corpus.py); these
pin down the cases a file cannot express or that need a closer look.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from swarmdesign import yamlio
from swarmdesign.design import Design
from swarmdesign.errors import SwarmdesignError, choices
from swarmdesign.export.autogen import team_kind
from swarmdesign.export.plan import plan_export
from swarmdesign.fitness import LLM_METRICS, Scenario, known_metrics, reported_metrics
from swarmdesign.importers.crewai import import_crewai
from swarmdesign.llm.tasks import load_tasks
from swarmdesign.space import SearchSpace
from tests.conftest import REPO, run_cli


# ---------------------------------------------------------------- YAML loading
def test_merge_keys_and_shared_anchors_still_load() -> None:
    data = yamlio.loads("base: &b {x: 1}\nd:\n  <<: *b\n  y: 2\ne: [*b, *b]\n", file="m.yaml")
    assert data == {"base": {"x": 1}, "d": {"x": 1, "y": 2}, "e": [{"x": 1}, {"x": 1}]}


def test_nesting_is_refused_before_libyaml_composes_it() -> None:
    """50 000 levels used to kill the interpreter (libyaml's composer recurses in C)."""
    with pytest.raises(SwarmdesignError, match="nesting deeper than 64 levels"):
        yamlio.loads("a: " + "[" * 50_000 + "]" * 50_000, file="deep.yaml")
    assert yamlio.loads("a: " + "[" * 60 + "]" * 60, file="ok.yaml")


def test_duplicate_keys_name_the_key_and_line() -> None:
    with pytest.raises(SwarmdesignError) as err:
        yamlio.loads("a:\n  b: 1\n  b: 2\n", file="dup.yaml")
    assert err.value.field == "a.b" and "line 3" in str(err.value)


# ------------------------------------------------------------------ messages
def test_choice_lists_are_cut_short() -> None:
    text = choices([f"r{i}" for i in range(1000)])
    assert text.endswith("... (988 more)") and len(text) < 200
    assert choices(["a", "b"]) == "'a', 'b'"


def test_a_validator_naming_its_field_gets_the_full_path() -> None:
    with pytest.raises(SwarmdesignError) as err:
        Scenario.from_dict({"swarmdesign_scenario": 1, "name": "s", "environment": {"models": {}}}, file="s.yaml")
    assert err.value.field == "environment.models"
    assert str(err.value) == "s.yaml: environment.models: at least one model is needed"


# ------------------------------------------------------------------ spaces
def _space(**patch: object) -> SearchSpace:
    return SearchSpace.from_dict({"swarmdesign_space": 1, "name": "s", **patch}, file="s.yaml")


def test_role_names_holding_an_arrow_encode_their_own_edge() -> None:
    space = _space(
        roles=[
            {"name": "a->b", "archetype": "coder"},
            {"name": "c", "archetype": "reviewer"},
            {"name": "a", "archetype": "coder"},
            {"name": "b->c", "archetype": "reviewer"},
        ],
        edges={"fixed": [["a", "c"]], "search": [["c", "a->b"], ["a", "b->c"]]},
    )
    params = {name: 0 for name in space.distributions()}
    params["edge.c->a->b"] = 1
    design = space.decode_params(params)
    assert design.edges == [("a", "c"), ("c", "a->b")]
    assert space.decode(space.encode(design)) == design


def test_the_total_cap_drops_optional_roles_before_cutting_a_required_one() -> None:
    """The cap used to leave a required role below its minimum and encode-decode unstable."""
    space = _space(
        roles=[
            {"name": "x", "archetype": "planner", "count": {"min": 0, "max": 1}},
            {"name": "y", "archetype": "planner", "count": {"min": 0, "max": 1}},
            {"name": "z", "archetype": "planner", "count": {"min": 2, "max": 2}},
        ],
        topology={"kinds": ["independent"]},
        constraints={"max_total_agents": 2},
    )
    design = space.decode(np.ones(space.dim))
    assert {r.name: r.count for r in design.roles} == {"z": 2}
    assert space.decode(space.encode(design)) == design


def test_the_cap_scales_only_what_lies_above_the_minimums() -> None:
    space = _space(
        roles=[
            {"name": "big", "archetype": "worker", "count": {"min": 5, "max": 100}},
            {"name": "small", "archetype": "worker", "count": {"min": 5, "max": 100}},
        ],
        topology={"kinds": ["independent"]},
        constraints={"max_total_agents": 10},
    )
    design = space.decode_params({"count.big": 100, "count.small": 5})
    assert {r.name: r.count for r in design.roles} == {"big": 5, "small": 5}
    assert space.decode(space.encode(design)) == design


@pytest.mark.parametrize("log", [False, True])
def test_float_ranges_decode_inside_their_bounds_and_encode_exactly(log: bool) -> None:
    low = 0.15290222168777004
    space = _space(
        roles=[{"name": "w", "archetype": "worker"}],
        coordination={"heterogeneity": {"min": low, "max": 1.0, "log": log}},
    )
    for u in np.linspace(0.0, 1.0, 101):
        design = space.decode(np.array([u]))
        assert low <= design.coordination.heterogeneity <= 1.0
        assert space.decode(space.encode(design)) == design


def test_a_log_range_one_ulp_wide_encodes() -> None:
    low = 0.004711741298972339
    space = _space(
        roles=[{"name": "w", "archetype": "worker"}],
        coordination={"heterogeneity": {"min": low, "max": float(np.nextafter(low, 1.0)), "log": True}},
    )
    design = space.decode(np.zeros(space.dim))
    assert space.decode(space.encode(design)) == design


# ---------------------------------------------------------------- scenarios
def test_the_llm_metric_list_matches_what_the_llm_evaluator_reports() -> None:
    from swarmdesign.llm.evaluator import LLMEvaluator

    record = {
        "verdict": True,
        "cost_usd": 0.1,
        "latency_s": 1.0,
        "failed_calls": 0,
        "spent_usd": 0.1,
        "wall_s": 1.0,
        "calls": 2,
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "cached_calls": 0,
        "notes": [],
    }
    scenario = Scenario.from_dict({"swarmdesign_scenario": 1, "name": "s"})
    frame = LLMEvaluator._metrics([None], [None], {(0, 0): record}, scenario)  # type: ignore[list-item]
    numeric = {c for c in frame.columns if c not in ("failures", "agents_capped")}
    assert numeric == {"quality", "cost", "latency", "robustness", *LLM_METRICS}
    assert numeric <= known_metrics()


def test_objectives_the_evaluator_does_not_report_are_refused_before_a_run() -> None:
    from swarmdesign.sim import SimulatedEvaluator

    custom = Scenario.from_dict(
        {"swarmdesign_scenario": 1, "name": "s", "objectives": [{"name": "happiness", "direction": "maximize"}]}
    )
    with pytest.raises(SwarmdesignError, match="does not report metric 'happiness'") as err:
        custom.check_evaluator(SimulatedEvaluator())
    assert err.value.field == "objectives[0].name"
    assert reported_metrics(object()) is None  # a third-party evaluator without a declaration: not checked
    frame = SimulatedEvaluator(replicas=4).evaluate(
        [Design.load(REPO / "designs" / "single_agent.yaml")], custom, seed=0
    )
    with pytest.raises(SwarmdesignError, match="objective names metric 'happiness'"):
        custom.finish_metrics(frame)  # a clean one-line error, where a KeyError used to escape


# ---------------------------------------------------------------- task sets
def test_json_lines_split_on_newlines_only(tmp_path: Path) -> None:
    """U+2028 inside a JSON string is legal; str.splitlines() used to cut the line there."""
    path = tmp_path / "t.jsonl"
    rows = [{"id": "a", "input": "x\u2028y\u0085z\x1c", "answer": "1"}, {"id": "b", "input": "q", "answer": "2"}]
    path.write_text("\r\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\r\n", encoding="utf-8")
    assert [t.input for t in load_tasks(path)] == ["x\u2028y\u0085z\x1c", "q"]


# -------------------------------------------------------------------- crewai
def _crew(tmp_path: Path, agents: str, tasks: str = "t:\n  agent: a\n") -> tuple[Design, list[str]]:
    (tmp_path / "agents.yaml").write_text(agents, encoding="utf-8")
    (tmp_path / "tasks.yaml").write_text(tasks, encoding="utf-8")
    return import_crewai(tmp_path / "agents.yaml", tmp_path / "tasks.yaml")


def test_an_unreadable_header_is_a_warning_not_a_crash(tmp_path: Path) -> None:
    for header in ("[" * 100_000 + "]" * 100_000, '{"x": ' + "9" * 5000 + "}"):
        design, warnings = _crew(tmp_path, f"# swarmdesign: {header}\na:\n  role: Coder\n")
        assert design.roles[0].name == "Coder"
        assert any("unreadable '# swarmdesign:' comment" in w for w in warnings)


def test_metadata_keeps_role_names_exactly_and_ignores_odd_values(tmp_path: Path) -> None:
    design, _ = _crew(tmp_path, 'a:\n  role: Coder\n  swarmdesign: {role: " Coder\\r\\n", replicas: true}\n')
    assert [(r.name, r.count) for r in design.roles] == [(" Coder\r\n", 1)]
    design, _ = _crew(tmp_path, "a:\n  role: Coder\n  swarmdesign: {role: [1, 2]}\n")
    assert design.roles[0].name == "Coder"


# -------------------------------------------------------------------- export
def test_a_mesh_of_one_agent_is_not_a_selector_group_chat() -> None:
    """AutoGen refuses a SelectorGroupChat with fewer than two participants."""
    lone = Design.from_dict(
        {
            "swarmdesign": 1,
            "name": "lone",
            "roles": [{"name": "p", "archetype": "planner", "count": 1, "model": "m"}],
            "topology": {"kind": "mesh"},
        }
    )
    assert team_kind(plan_export(lone, role_level=True)) == "graphflow"
    pair = Design.from_dict({**lone.to_dict(), "roles": [{**lone.roles[0].model_dump(), "count": 2}]})
    assert team_kind(plan_export(pair)) == "selector"


# ------------------------------------------------------------------ commands
def test_validate_reads_the_task_set_of_an_llm_scenario(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("swarmdesign_scenario: 1\nname: s\nllm: {tasks: arithmetic}\n", encoding="utf-8")
    res = run_cli("validate", str(good), cwd=tmp_path)
    assert res.code == 0 and "ok:" in res.stdout, res.stderr
    missing = tmp_path / "missing.yaml"
    missing.write_text("swarmdesign_scenario: 1\nname: s\nllm: {tasks: nope.jsonl}\n", encoding="utf-8")
    res = run_cli("validate", str(missing), cwd=tmp_path)
    assert res.code == 2
    assert res.stderr.startswith(f"error: {missing}: llm.tasks: 'nope.jsonl': no such file"), res.stderr
