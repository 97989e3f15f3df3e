"""CrewAI import: round trip of our own export, a hand-written crew, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from export_helpers import BUNDLED, CLASHING_KEYS, LARGE, export_options, hostile_design, load_design

from swarmdesign.archetypes import HUB_KINDS
from swarmdesign.design import Design
from swarmdesign.errors import SwarmdesignError
from swarmdesign.export import export_design
from swarmdesign.export.plan import wiring
from swarmdesign.importers.crewai import import_crewai
from swarmdesign.importers.keywords import archetype_from_text

CONFIG = Path("src") / "swarm_crew" / "config"


def _exported(folder: Path) -> tuple[Path, Path]:
    """The agents.yaml and tasks.yaml of an exported CrewAI project."""
    return folder / CONFIG / "agents.yaml", folder / CONFIG / "tasks.yaml"


def _roles(design: Design) -> list[tuple[str, str, int, str, str | None]]:
    return [(r.name, r.archetype, r.count, r.model, r.prompt) for r in design.active_roles]


def _strip_metadata(folder: Path) -> None:
    """What a user's hand-edited copy looks like: no header comment, no swarmdesign keys."""
    path = _exported(folder)[0]
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for cfg in data.values():
        cfg.pop("swarmdesign")
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


@pytest.mark.parametrize("name", [*BUNDLED, "hostile"])
def test_round_trip_gives_back_roles_counts_and_edges(name: str, tmp_path: Path) -> None:
    design = hostile_design() if name == "hostile" else load_design(name)
    export_design(design, "crewai", tmp_path, **export_options(design))
    imported, warnings = import_crewai(*_exported(tmp_path))
    assert warnings == []
    assert _roles(imported) == _roles(design)
    assert imported.role_graph() == design.role_graph()
    assert wiring(imported) == wiring(design)
    assert (imported.topology, imported.coordination, imported.name) == (
        design.topology,
        design.coordination,
        design.name,
    )


@pytest.mark.parametrize("name", [n for n in BUNDLED if n != LARGE])
def test_round_trip_without_our_metadata(name: str, tmp_path: Path) -> None:
    """Replica naming, default goals and unrolled rounds alone give back roles, counts and wiring."""
    design = load_design(name)
    export_design(design, "crewai", tmp_path)
    _strip_metadata(tmp_path)
    imported, warnings = import_crewai(*_exported(tmp_path))
    assert warnings == []
    assert _roles(imported) == _roles(design)
    assert wiring(imported) == wiring(design)
    assert imported.coordination.redundancy == design.coordination.redundancy
    assert imported.coordination.review_rounds == design.coordination.review_rounds
    hub = design.topology.kind in HUB_KINDS
    kind = "hybrid" if design.topology.kind == "hybrid" else "star"  # members who may delegate: peers who talk
    assert imported.topology.kind == (kind if hub else "single" if design.total_agents == 1 else "chain")


def test_role_level_export_keeps_replica_counts(tmp_path: Path) -> None:
    design = load_design(LARGE)
    export_design(design, "crewai", tmp_path, role_level=True)
    assert len(yaml.safe_load(_exported(tmp_path)[0].read_text(encoding="utf-8"))) == 4
    imported, _ = import_crewai(*_exported(tmp_path))
    assert [(r.name, r.count) for r in imported.active_roles] == [(r.name, r.count) for r in design.active_roles]


USER_AGENTS = """\
researcher:
  role: >
    {topic} Senior Data Researcher
  goal: >
    Uncover cutting-edge developments in {topic}
  backstory: >
    You're a seasoned researcher.
  tools: [serper_dev]
  verbose: true
qa:
  role: QA Engineer
  goal: Find bugs
  backstory: Picky.
  llm: anthropic/claude-3-5-haiku-20241022
  colour: blue
writer_a:
  role: Blog Writer
  goal: Write posts
  backstory: Writes.
  llm: openai/gpt-4o
writer_b:
  role: Blog Writer
  goal: Write posts
  backstory: Writes.
  llm: openai/gpt-4o
boss:
  role: Chief Vibes Officer
  goal: Keep it fun
  backstory: Fun.
  llm: openai/gpt-4o
"""
USER_TASKS = """\
research_task:
  description: Research {topic}
  expected_output: Ten bullet points
  agent: researcher
writing_task:
  description: Write it up
  expected_output: A post
  agent: writer_a
  context: [research_task]
  output_file: post.md
second_draft:
  description: Write another
  expected_output: A post
  agent: writer_b
  context: [research_task]
qa_task:
  description: Check the posts
  expected_output: Findings
  agent: qa
  context: [writing_task, second_draft]
  approve: yes
"""


def _user_crew(tmp_path: Path, tasks: str = USER_TASKS, crew_py: str | None = None) -> tuple[Path, Path]:
    config = tmp_path / "config"
    config.mkdir()
    (config / "agents.yaml").write_text(USER_AGENTS, encoding="utf-8")
    (config / "tasks.yaml").write_text(tasks, encoding="utf-8")
    if crew_py is not None:
        (tmp_path / "crew.py").write_text(crew_py, encoding="utf-8")
    return config / "agents.yaml", config / "tasks.yaml"


def test_hand_written_crew_imports_with_every_loss_reported(tmp_path: Path) -> None:
    agents, tasks = _user_crew(tmp_path)
    design, warnings = import_crewai(agents, tasks)
    roles = {r.name: (r.archetype, r.count, r.model) for r in design.roles}
    assert roles == {
        "{topic} Senior Data Researcher": ("researcher", 1, "gpt-4o-mini"),
        "QA Engineer": ("tester", 1, "anthropic/claude-3-5-haiku-20241022"),
        "Blog Writer": ("researcher", 2, "openai/gpt-4o"),
        "Chief Vibes Officer": ("generalist", 1, "openai/gpt-4o"),
    }
    assert design.role("QA Engineer").prompt == "Find bugs\n\nPicky."
    assert set(design.role_graph()) == {
        ("{topic} Senior Data Researcher", "Blog Writer"),
        ("Blog Writer", "QA Engineer"),
    }
    assert design.topology.kind == "chain"
    text = "\n".join(warnings)
    for expected in [
        f"{agents}: researcher.tools: CrewAI agent field a Design cannot hold",
        f"{agents}: researcher.verbose: CrewAI agent field",
        f"{agents}: qa.colour: unknown field (not a CrewAI agent field)",
        f"{agents}: researcher.llm: no llm given; used CrewAI's default gpt-4o-mini",
        f"{agents}: boss.role: no archetype keyword in 'Chief Vibes Officer'; mapped to generalist",
        f"{tasks}: writing_task.output_file: CrewAI task field",
        f"{tasks}: qa_task.approve: unknown field (not a CrewAI task field)",
        f"{tasks}: (tasks): task descriptions and expected outputs are not part of a Design",
    ]:
        assert expected in text
    assert all("\n" not in w for w in warnings)


def test_hierarchical_crew_becomes_a_star_with_a_coordinator(tmp_path: Path) -> None:
    crew_py = "from crewai import Crew, Process\ncrew = Crew(agents=[], tasks=[], process=Process.hierarchical)\n"
    agents, tasks = _user_crew(tmp_path, crew_py=crew_py)
    design, warnings = import_crewai(agents, tasks)
    assert design.topology.kind == "star"
    assert design.roles[0].name == "manager" and design.roles[0].archetype == "orchestrator"
    assert ("manager", "{topic} Senior Data Researcher") in design.role_graph()
    assert any("added the coordinator role 'manager'" in w for w in warnings)
    sequential, _ = import_crewai(agents, tasks, process="sequential")
    assert sequential.topology.kind == "chain"


@pytest.mark.parametrize(
    ("tasks", "field", "expected"),
    [
        ("t:\n  description: x\n  expected_output: y\n  agent: ghost\n", "t.agent", "unknown agent 'ghost'"),
        ("t:\n  description: x\n  agent: qa\n  context: [later]\nlater:\n  agent: qa\n", "t.context[0]", "later"),
        ("t:\n  agent: qa\n  context: research\n", "t.context", "expected a list of task names"),
        ("- just\n- a list\n", "(document)", "expected a mapping of task names"),
    ],
)
def test_bad_crews_fail_with_one_line(tmp_path: Path, tasks: str, field: str, expected: str) -> None:
    agents, tasks_path = _user_crew(tmp_path, tasks=tasks)
    with pytest.raises(SwarmdesignError) as info:
        import_crewai(agents, tasks_path)
    assert info.value.file == str(tasks_path)
    assert info.value.field == field
    assert expected in info.value.message and "\n" not in str(info.value)


def test_agent_without_role_is_an_error(tmp_path: Path) -> None:
    agents = tmp_path / "agents.yaml"
    agents.write_text("a:\n  goal: g\n  backstory: b\n", encoding="utf-8")
    (tmp_path / "tasks.yaml").write_text("{}\n", encoding="utf-8")
    with pytest.raises(SwarmdesignError, match=r"a\.role: required field is missing"):
        import_crewai(agents, tmp_path / "tasks.yaml")


@pytest.mark.parametrize(
    ("text", "archetype"),
    [
        ("Project Manager", "planner"),
        ("Senior Software Engineer", "coder"),
        ("Lead Developer", "coder"),
        ("QA Engineer", "tester"),
        ("Code Reviewer", "reviewer"),
        ("Technical Writer", "researcher"),
        ("Market Researcher", "researcher"),
        ("Release Manager", "integrator"),
        ("Solutions Architect", "architect"),
        ("Answer Judge", "judge"),
        ("Crew Coordinator", "orchestrator"),
        ("Zorblax", None),
    ],
)
def test_role_keywords(text: str, archetype: str | None) -> None:
    assert archetype_from_text(text) == archetype


@pytest.mark.parametrize("name", [*BUNDLED, "hostile"])
def test_round_trip_is_identical(name: str, tmp_path: Path) -> None:
    """Explicit edges, count-0 roles, coordination and the description all come back: the same design."""
    design = hostile_design() if name == "hostile" else load_design(name)
    export_design(design, "crewai", tmp_path, **export_options(design))
    imported, warnings = import_crewai(*_exported(tmp_path))
    assert warnings == []
    assert imported.to_dict() == design.to_dict()


def test_round_trip_of_a_run_result_keeps_its_edges(tmp_path: Path) -> None:
    """A searched design (explicit edges, a role switched off) survives export and import unchanged."""
    design = Design.from_dict(
        {
            "swarmdesign": 1,
            "name": "searched",
            "roles": [
                {"name": "planner", "archetype": "planner", "count": 1, "model": "openai/gpt-4o"},
                {"name": "coder", "archetype": "coder", "count": 3, "model": "openai/gpt-4o-mini"},
                {"name": "spare", "archetype": "tester", "count": 0, "model": "openai/gpt-4o-mini"},
                {"name": "reviewer", "archetype": "reviewer", "count": 1, "model": "openai/gpt-4o"},
            ],
            "topology": {"kind": "chain"},
            "edges": [["planner", "coder"], ["planner", "reviewer"], ["coder", "reviewer"], ["coder", "spare"]],
            "coordination": {"redundancy": 2, "review_rounds": 1, "aggregation": "judge"},
        }
    )
    export_design(design, "crewai", tmp_path)
    imported, warnings = import_crewai(*_exported(tmp_path))
    assert warnings == []
    assert imported.to_dict() == design.to_dict()


def test_round_trip_with_keys_renamed_for_crewai(tmp_path: Path) -> None:
    """Agent keys renamed so they can be method names of the crew class still give back the same design."""
    design = Design.from_dict(CLASHING_KEYS)
    export_design(design, "crewai", tmp_path)
    imported, warnings = import_crewai(*_exported(tmp_path))
    assert warnings == []
    assert imported.to_dict() == design.to_dict()
    _strip_metadata(tmp_path)
    assert _roles(import_crewai(*_exported(tmp_path))[0]) == _roles(design)


def test_a_project_folder_is_read_from_its_package_config(tmp_path: Path) -> None:
    """The folder `crewai create crew` (or our export) makes is enough: src/<package>/config/*.yaml."""
    design = load_design("hierarchical_org")
    export_design(design, "crewai", tmp_path / "my_crew")
    imported, warnings = import_crewai(tmp_path / "my_crew")
    assert warnings == []
    assert imported.to_dict() == design.to_dict()
    user = tmp_path / "user"
    user.mkdir()
    agents, tasks = _user_crew(user)
    assert import_crewai(user)[0] == import_crewai(agents, tasks)[0]  # config/ beside the folder


def test_a_folder_without_one_crew_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(SwarmdesignError, match=r"no CrewAI project here; expected agents.yaml and tasks.yaml"):
        import_crewai(tmp_path)
    for package in ("a", "b"):
        export_design(load_design("single_agent"), "crewai", tmp_path / package)
        (tmp_path / "src").mkdir(exist_ok=True)
        (tmp_path / package / "src" / "swarm_crew").rename(tmp_path / "src" / package)
    with pytest.raises(SwarmdesignError, match=r"several crews \(a, b\)") as info:
        import_crewai(tmp_path)
    assert "\n" not in str(info.value)
