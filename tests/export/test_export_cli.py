"""``swarmdesign export`` and ``swarmdesign import crewai`` as a user runs them (a real process)."""

from __future__ import annotations

from pathlib import Path

import pytest
from export_helpers import DESIGNS_DIR, LARGE, load_design, run_cli

from swarmdesign.design import Design

CONFIG = "src/swarm_crew/config"  # where a CrewAI export keeps its YAML


def _one_line_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.parametrize("target", ["crewai", "autogen", "langgraph", "mermaid", "yaml"])
def test_export_by_bundled_name(target: str, tmp_path: Path) -> None:
    proc = run_cli("export", "code_review_chain", "--to", target, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    written = [Path(line) for line in proc.stdout.splitlines()]
    assert written and all((tmp_path / p).is_file() for p in written)
    assert {p.parts[0] for p in written} == {f"code_review_chain-{target}"}


def test_export_large_design_at_role_level(tmp_path: Path) -> None:
    proc = run_cli(
        "export", str(DESIGNS_DIR / f"{LARGE}.yaml"), "--to", "crewai", "--role-level", "--out", "x", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "x" / CONFIG / "agents.yaml").read_text(encoding="utf-8").count("replicas: 2000") == 1


def test_too_many_agents_exits_2_and_says_how_to_export(tmp_path: Path) -> None:
    path = DESIGNS_DIR / f"{LARGE}.yaml"
    proc = run_cli("export", str(path), "--to", "autogen", cwd=tmp_path)
    assert proc.returncode == 2
    line = _one_line_error(proc.stderr)
    assert line.startswith(f"error: {path}: roles: the design has {load_design(LARGE).total_agents} agents")
    assert "--role-level" in line
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["export", "code_review_chain", "--to", "pdf"], "error: --to: unknown export target 'pdf'; expected one of "),
        (["export", "nope.yaml", "--to", "yaml"], "error: nope.yaml: DESIGN: no such file, and no bundled designs"),
        (["export", "code_review_chain", "--to", "crewai", "--max-agents", "0"], "--max-agents: expected a positive"),
        (["export", "bad.yaml", "--to", "yaml"], "error: bad.yaml: roles[0].count: "),
        (["import", "crewai", "missing.yaml", "tasks.yaml"], "error: missing.yaml: file not found"),
        (["import", "crewai", "bad.yaml", "bad.yaml", "--process", "flat"], "error: --process: unknown process 'flat'"),
    ],
)
def test_user_errors_exit_2_with_one_line(args: list[str], expected: str, tmp_path: Path) -> None:
    bad = load_design("single_agent").to_dict()
    bad["roles"][0]["count"] = -1
    (tmp_path / "bad.yaml").write_text(str(bad).replace("'", '"'), encoding="utf-8")
    proc = run_cli(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert expected in _one_line_error(proc.stderr)


def test_import_round_trip_through_the_cli(tmp_path: Path) -> None:
    assert run_cli("export", "star_research", "--to", "crewai", "--out", "crew", cwd=tmp_path).returncode == 0
    files = (f"crew/{CONFIG}/agents.yaml", f"crew/{CONFIG}/tasks.yaml")
    proc = run_cli("import", "crewai", *files, "--out", "seed.yaml", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "wrote seed.yaml (4 roles, 7 agents)" in proc.stderr
    original, seed = load_design("star_research"), Design.load(tmp_path / "seed.yaml")
    assert [(r.name, r.count) for r in seed.roles] == [(r.name, r.count) for r in original.roles]
    assert seed.role_graph() == original.role_graph()
    printed = run_cli("import", "crewai", *files, cwd=tmp_path)
    assert Design.from_yaml(printed.stdout) == seed


def test_import_prints_warnings_on_stderr(tmp_path: Path) -> None:
    (tmp_path / "agents.yaml").write_text("a:\n  role: Zorblax\n  goal: g\n  backstory: b\n  tools: []\n")
    (tmp_path / "tasks.yaml").write_text("t:\n  description: d\n  expected_output: e\n  agent: a\n")
    proc = run_cli("import", "crewai", "agents.yaml", "tasks.yaml", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    warnings = proc.stderr.splitlines()
    assert "warning: agents.yaml: a.tools: CrewAI agent field a Design cannot hold; not imported" in warnings
    assert "warning: agents.yaml: a.role: no archetype keyword in 'Zorblax'; mapped to generalist" in warnings
    assert Design.from_yaml(proc.stdout).roles[0].archetype == "generalist"
