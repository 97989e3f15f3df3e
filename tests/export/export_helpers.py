"""Helpers for the export tests: bundled and hostile designs, framework imports, the CLI."""

from __future__ import annotations

import importlib
import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from swarmdesign.design import Design

REPO = Path(__file__).resolve().parents[2]
DESIGNS_DIR = REPO / "designs"
BUNDLED = sorted(p.stem for p in DESIGNS_DIR.glob("*.yaml"))
LARGE = "federated_large"  # more agents than the default --max-agents: exported at role level

#: Strings that would break or inject into any exporter that pasted user text into code or markup.
EVIL = "__import__('os').system('touch PWNED')"
HOSTILE = {
    "swarmdesign": 1,
    "name": 'evil"""\n' + EVIL + "\n'''#{name}",
    "description": "}}{{ \\ \u202e",
    "roles": [
        {
            "name": 'Robert\'); DROP TABLE roles;--"""',
            "archetype": "planner",
            "count": 1,
            "model": "openai/gpt-4o-mini",
            "prompt": "{task} {evil} {{x}} \\n \\ \"\"\" ''' \n# comment\n" + EVIL,
        },
        {
            "name": EVIL,
            "archetype": "coder",
            "count": 2,
            "model": "x'); " + EVIL + " #",
            "prompt": "ünïcødé 名前 \u2028 line\r\nbreak\ttab {0} %s ${HOME} `rm -rf /`",
        },
        {"name": "class", "archetype": "reviewer", "count": 1, "model": "openai/gpt-4o-mini", "prompt": "lambda: 1"},
        {"name": "end", "archetype": "tester", "count": 1, "model": "openai/gpt-4o-mini"},
        {"name": "user", "archetype": "integrator", "count": 1, "model": "openai/gpt-4o-mini"},
    ],
    "topology": {"kind": "chain"},
    "coordination": {"redundancy": 2, "review_rounds": 1},
}


#: Role names whose keys would clash with the crew class's own names or with another agent's task keys.
CLASHING_KEYS = {
    "swarmdesign": 1,
    "name": "clashing keys",
    "roles": [
        {"name": "Coder", "archetype": "coder", "count": 1, "model": "openai/gpt-4o-mini"},
        {"name": "Coder Task", "archetype": "reviewer", "count": 1, "model": "openai/gpt-4o-mini"},
        {"name": "crew", "archetype": "tester", "count": 1, "model": "openai/gpt-4o-mini"},
        {"name": "task", "archetype": "integrator", "count": 1, "model": "openai/gpt-4o-mini"},
    ],
    "topology": {"kind": "chain"},
    "coordination": {"review_rounds": 1},
}


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require(module: str) -> ModuleType:
    """Import a framework; missing it fails the test in CI and skips it elsewhere."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if in_ci():
            pytest.fail(f"{module} must be installed in CI (pip install -e '.[frameworks]'): {exc}")
        pytest.skip(f"{module} is not installed")


def load_design(name: str) -> Design:
    return Design.load(DESIGNS_DIR / f"{name}.yaml")


def hostile_design() -> Design:
    return Design.from_dict(HOSTILE)


def export_options(design: Design) -> dict[str, object]:
    """Expand small designs, role level for the large one."""
    return {"role_level": design.total_agents > 64}


def import_path(path: Path, name: str, *, register: bool = False) -> ModuleType:
    """Import a generated Python file by path, without putting it on sys.path.

    ``register`` adds it to ``sys.modules``, which CrewAI's ``@CrewBase`` needs to find the module's folder.
    """
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    if register:
        sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``swarmdesign ARGS`` in a fresh interpreter, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "swarmdesign.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )


def expected_edges(design: Design) -> set[tuple[str, str]]:
    """Role hand-offs an export must wire, computed from the design without the exporters' planner.

    The role graph, plus a checker -> producer loop for every produce -> check
    hand-off when the design has review rounds.
    """
    stage = {
        "produce": {"coder", "solver", "worker", "researcher", "generalist"},
        "check": {"reviewer", "tester", "judge"},
    }
    edges = set(design.role_graph())
    if design.coordination.review_rounds > 0:
        for a, b in design.role_graph():
            if design.role(a).archetype in stage["produce"] and design.role(b).archetype in stage["check"]:
                edges.add((b, a))
    return edges
