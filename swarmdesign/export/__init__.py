"""Export a Design to files that an agent framework loads as they are.

One module per target, each with ``export(design, out_dir, *, max_agents,
role_level) -> list[Path]`` (a target's ``files`` are paths relative to
``out_dir``); this registry maps target names to those modules
and imports them only when used, so that naming the targets costs nothing.
The exporters never import the frameworks themselves: a design can be
exported on a machine where the framework is not installed.

Example:
    >>> from swarmdesign.export import TARGETS
    >>> TARGETS
    ('crewai', 'autogen', 'langgraph', 'mermaid', 'yaml')
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from swarmdesign.errors import SwarmdesignError
from swarmdesign.export.plan import DEFAULT_MAX_AGENTS

if TYPE_CHECKING:
    from swarmdesign.design import Design


@dataclass(frozen=True)
class Target:
    """A registered export target: its name, module and what it writes."""

    name: str
    module: str
    files: tuple[str, ...]
    summary: str


_REGISTRY: tuple[Target, ...] = (
    Target(
        "crewai",
        "swarmdesign.export.crewai",
        (
            "pyproject.toml",
            "src/swarm_crew/config/agents.yaml",
            "src/swarm_crew/config/tasks.yaml",
            "src/swarm_crew/crew.py",
            "src/swarm_crew/main.py",
            "src/swarm_crew/__init__.py",
            ".env.example",
            ".gitignore",
        ),
        "CrewAI project as `crewai create crew` makes it (pyproject.toml, src/swarm_crew/), run by `crewai run`",
    ),
    Target(
        "autogen",
        "swarmdesign.export.autogen",
        ("team.json", "models.json", "team.py"),
        "AutoGen AgentChat declarative team (Team.load_component), its model map and loader",
    ),
    Target(
        "langgraph",
        "swarmdesign.export.langgraph",
        ("graph.py", "langgraph.json"),
        "Python module building a LangGraph StateGraph, and its langgraph.json",
    ),
    Target(
        "mermaid", "swarmdesign.export.mermaid", ("design.mmd",), "Mermaid flowchart of roles, counts and hand-offs"
    ),
    Target("yaml", "swarmdesign.export.canonical", ("design.yaml",), "the canonical swarmdesign YAML"),
)

#: Names of the export targets, in the order the CLI lists them.
TARGETS: tuple[str, ...] = tuple(t.name for t in _REGISTRY)


def get_target(name: str) -> Target:
    """The registered target called ``name``; a one-line error names the choices otherwise."""
    for t in _REGISTRY:
        if t.name == name:
            return t
    raise SwarmdesignError(f"unknown export target {name!r}; expected one of {', '.join(TARGETS)}", field="--to")


def export_design(
    design: Design,
    target: str,
    out_dir: Path,
    *,
    max_agents: int = DEFAULT_MAX_AGENTS,
    role_level: bool = False,
) -> list[Path]:
    """Write ``design`` for ``target`` into ``out_dir``; return the files written.

    File names are fixed per target (never derived from the design), so a
    design cannot make an export write outside ``out_dir``.

    Raises:
        SwarmdesignError: unknown target, or more than ``max_agents`` agents
            without ``role_level``.
    """
    spec = get_target(target)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise SwarmdesignError("exists and is not a directory; expected an output folder", file=str(out), field="--out")
    module = importlib.import_module(spec.module)  # each target creates the folder once its checks pass
    return module.export(design, out, max_agents=max_agents, role_level=role_level)


__all__ = ["TARGETS", "Target", "export_design", "get_target"]
