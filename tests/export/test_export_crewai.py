"""The CrewAI export loads in real CrewAI and runs offline with a ``BaseLLM`` fake.

The exported project's ``crew.py`` (a ``@CrewBase`` class) is imported from its
``src/swarm_crew/`` folder as ``crewai run`` would import it. Sequential crews:
every agent is called, and every role hand-off of the design shows up at run
time as an upstream agent's output inside a downstream agent's prompt (the
fake asks for changes, so every review round runs). Hierarchical crews: a
scripted manager delegates through CrewAI's own "Delegate work to coworker"
tool, and every worker is reached.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from export_helpers import (
    BUNDLED,
    CLASHING_KEYS,
    expected_edges,
    export_options,
    hostile_design,
    import_path,
    load_design,
    require,
)

from swarmdesign.archetypes import HUB_KINDS
from swarmdesign.design import Design
from swarmdesign.export import export_design

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


PACKAGE = Path("src") / "swarm_crew"


def _fakes(calls: list[tuple[str, str]], verdict: str = "REVISE") -> tuple[type, type]:
    """A worker fake answering in CrewAI's ReAct text format, and a manager that delegates once per task.

    Every worker reply ends with ``verdict``; the default asks for changes, so every review round runs.
    """
    base_llm = require("crewai.llms.base_llm").BaseLLM

    def _text(messages: Any) -> str:
        return messages if isinstance(messages, str) else "\n".join(str(m.get("content")) for m in messages)

    class WorkerLLM(base_llm):
        tag: str = ""

        def call(
            self,
            messages: Any,
            tools: Any = None,
            callbacks: Any = None,
            available_functions: Any = None,
            from_task: Any = None,
            from_agent: Any = None,
            response_model: Any = None,
            **kw: Any,
        ) -> str:
            calls.append((self.tag, _text(messages)))
            n = sum(1 for tag, _ in calls if tag == self.tag)
            return f"Thought: I now can give a great answer\nFinal Answer: output of {self.tag} #{n} {verdict}"

        def supports_function_calling(self) -> bool:
            return False

    class ManagerLLM(base_llm):
        tag: str = "manager"

        def call(
            self,
            messages: Any,
            tools: Any = None,
            callbacks: Any = None,
            available_functions: Any = None,
            from_task: Any = None,
            from_agent: Any = None,
            response_model: Any = None,
            **kw: Any,
        ) -> str:
            text = _text(messages)
            calls.append((self.tag, text))
            if not isinstance(messages, str) and any(m.get("role") == "assistant" for m in messages):
                return "Thought: I now can give a great answer\nFinal Answer: managed"
            coworkers = re.search(r"Delegate a specific task to one of the following coworkers: (.*)", text)
            assert coworkers, "the manager was not given CrewAI's delegation tool"
            coworker = coworkers.group(1).split(",")[0].strip()
            action = json.dumps({"task": "do your part", "context": "the work item", "coworker": coworker})
            return f"Thought: delegate\nAction: Delegate work to coworker\nAction Input: {action}"

        def supports_function_calling(self) -> bool:
            return False

    return WorkerLLM, ManagerLLM


def _load(design: Design, out: Path, module_name: str) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    export_design(design, "crewai", out, **export_options(design))
    agents_cfg = yaml.safe_load((out / PACKAGE / "config" / "agents.yaml").read_text(encoding="utf-8"))
    tasks_cfg = yaml.safe_load((out / PACKAGE / "config" / "tasks.yaml").read_text(encoding="utf-8"))
    return import_path(out / PACKAGE / "crew.py", module_name, register=True), agents_cfg, tasks_cfg


@pytest.mark.parametrize("name", [*BUNDLED, "hostile"])
def test_crewai_export_loads_and_runs_offline(name: str, tmp_path: Path) -> None:
    require("crewai")
    from crewai import Process

    design = hostile_design() if name == "hostile" else load_design(name)
    crew_module, agents_cfg, tasks_cfg = _load(design, tmp_path, f"crew_{name}")
    calls: list[tuple[str, str]] = []
    worker_llm, manager_llm = _fakes(calls)
    hub = design.topology.kind in HUB_KINDS
    llms = {key: worker_llm(model="fake", tag=key) for key in agents_cfg}
    if hub:
        llms[crew_module.MANAGER] = manager_llm(model="fake-manager")
    crew = crew_module.build_crew(llm=llms)

    # Every role is there as agents: one per replica, or one standing for all at role level.
    role_of = {key: cfg["swarmdesign"]["role"] for key, cfg in agents_cfg.items()}
    per_role = Counter(role_of.values())
    role_level = export_options(design)["role_level"]
    assert per_role == {r.name: 1 if role_level else r.count for r in design.active_roles}
    members = [*crew.agents, *([crew.manager_agent] if crew.manager_agent else [])]
    assert len(members) == len(agents_cfg)
    assert crew.process == (Process.hierarchical if hub else Process.sequential)
    if hub:
        coordinator = next(r for r in design.active_roles if r.archetype in ("planner", "orchestrator"))
        assert role_of[crew_module.MANAGER] == coordinator.name

    # Task context follows the design's hand-offs (review loops unrolled into rounds).
    task_role = {key: role_of[cfg["agent"]] for key, cfg in tasks_cfg.items()}
    assert [t.name for t in crew.tasks] == list(tasks_cfg)
    wired = {(task_role[c.name], task_role[t.name]) for t in crew.tasks for c in (t.context or [])}
    assert {e for e in wired if e[0] != e[1]} == expected_edges(design)

    result = crew.kickoff(inputs={"task": "a todo app"})
    assert len(result.tasks_output) == len(crew.tasks)
    callers = {tag for tag, _ in calls}
    workers = set(agents_cfg) - ({crew_module.MANAGER} if hub else set())
    assert workers <= callers, f"never called: {sorted(workers - callers)}"
    if hub:
        assert "manager" in callers
        return
    # Run-time hand-offs: an agent of the upstream role's output is in a prompt of the downstream role.
    agents_of: dict[str, set[str]] = {}
    for key, role in role_of.items():
        agents_of.setdefault(role, set()).add(key)
    for src, dst in expected_edges(design):
        assert any(
            tag in agents_of[dst] and any(f"output of {a} #" in text for a in agents_of[src]) for tag, text in calls
        ), f"{src} -> {dst} did not hand off"


def test_crewai_escapes_placeholders_in_user_text(tmp_path: Path) -> None:
    """'{evil}' in a prompt must stay text: CrewAI would otherwise fail on a missing input."""
    require("crewai")
    crew_module, agents_cfg, _ = _load(hostile_design(), tmp_path, "crew_placeholders")
    calls: list[tuple[str, str]] = []
    worker_llm, _ = _fakes(calls)
    crew = crew_module.build_crew(llm={key: worker_llm(model="fake", tag=key) for key in agents_cfg})
    crew.kickoff(inputs={"task": "T-123"})
    planner_prompt = next(text for tag, text in calls if tag == next(iter(agents_cfg)))
    assert "T-123" in planner_prompt
    assert "{\u200bevil}" in planner_prompt and "{evil}" not in planner_prompt


def _scripted(calls: list[tuple[str, str]], verdicts: dict[str, list[str]]) -> type:
    """A fake whose replies end with the next scripted verdict of its agent (then its last one, repeated)."""
    base_llm = require("crewai.llms.base_llm").BaseLLM

    class ScriptedLLM(base_llm):
        tag: str = ""

        def call(self, messages: Any, tools: Any = None, callbacks: Any = None, **kw: Any) -> str:
            text = messages if isinstance(messages, str) else "\n".join(str(m.get("content")) for m in messages)
            calls.append((self.tag, text))
            n = sum(1 for tag, _ in calls if tag == self.tag)
            script = verdicts.get(self.tag, [""])
            verdict = script[min(n, len(script)) - 1]
            return f"Thought: I now can give a great answer\nFinal Answer: work of {self.tag} #{n} {verdict}"

        def supports_function_calling(self) -> bool:
            return False

    return ScriptedLLM


@pytest.mark.parametrize(
    ("reviewer_says", "rounds_run"),
    [
        (["APPROVE"], 0),  # approved at once: no review round runs
        (["REVISE", "APPROVE"], 1),  # approved in round 1: round 2 never runs
        (["REVISE"], 2),  # never approved: every round of the design's review_rounds runs
        (["REVISE and APPROVE? No: APPROVE"], 0),  # the last verdict word decides
    ],
)
def test_review_rounds_stop_when_the_reviewer_approves(
    reviewer_says: list[str], rounds_run: int, tmp_path: Path
) -> None:
    require("crewai")
    design = load_design("code_review_chain")
    assert design.coordination.review_rounds == 2
    module, agents_cfg, tasks_cfg = _load(design, tmp_path, f"crew_rounds_{rounds_run}_{len(reviewer_says)}")
    calls: list[tuple[str, str]] = []
    fake = _scripted(calls, {"reviewer": reviewer_says})
    result = module.build_crew(llm={key: fake(model="fake", tag=key) for key in agents_cfg}).kickoff(
        inputs={"task": "a todo app"}
    )

    ran = {t.name for t in result.tasks_output if t.raw}
    round_of = {key: int(m.group(1)) if (m := re.search(r"_round_(\d+)$", key)) else 0 for key in tasks_cfg}
    assert ran == {key for key, k in round_of.items() if k <= rounds_run}
    assert len(result.tasks_output) == len(tasks_cfg)  # skipped rounds are there, empty
    reviews = [text for tag, text in calls if tag == "reviewer"]
    assert len(reviews) == rounds_run + 1
    # The task after the loop reads the reviewer's latest work, whichever round that was.
    tester_prompt = next(text for tag, text in calls if tag == "tester")
    assert f"work of reviewer #{rounds_run + 1}" in tester_prompt
    assert f"work of reviewer #{rounds_run + 2}" not in tester_prompt
    assert result.raw.startswith("work of tester #1")


def test_a_crew_runs_twice_with_fresh_rounds(tmp_path: Path) -> None:
    """Rounds skipped in one kickoff are decided again in the next (no verdict carried over)."""
    require("crewai")
    module, agents_cfg, _ = _load(load_design("code_review_chain"), tmp_path, "crew_twice")
    calls: list[tuple[str, str]] = []
    fake = _scripted(calls, {"reviewer": ["APPROVE", "REVISE"]})
    crew = module.build_crew(llm={key: fake(model="fake", tag=key) for key in agents_cfg})
    crew.kickoff(inputs={"task": "first"})
    assert sum(1 for tag, _ in calls if tag == "reviewer") == 1
    crew.kickoff(inputs={"task": "second"})
    assert sum(1 for tag, _ in calls if tag == "reviewer") == 1 + 3  # REVISE from now on: all rounds


def test_hierarchical_review_loop_stops_on_approval(tmp_path: Path) -> None:
    """A hub design: the manager delegates each task; its approval of round 0 ends the loop."""
    require("crewai")
    design = load_design("hierarchical_org")
    module, agents_cfg, tasks_cfg = _load(design, tmp_path, "crew_hub_rounds")
    calls: list[tuple[str, str]] = []
    _, manager_llm = _fakes(calls)
    fake = _scripted(calls, {})
    llms = {key: fake(model="fake", tag=key) for key in agents_cfg}
    llms[module.MANAGER] = manager_llm(model="fake-manager")  # its final answers say neither verdict word
    result = module.build_crew(llm=llms).kickoff(inputs={"task": "a todo app"})
    rounds = [key for key in tasks_cfg if "_round_" in key]
    assert rounds
    assert {t.name for t in result.tasks_output if t.raw} == set(tasks_cfg) - set(rounds)


def test_keys_that_clash_with_method_names_are_renamed_and_run(tmp_path: Path) -> None:
    require("crewai")
    design = Design.from_dict(CLASHING_KEYS)
    module, agents_cfg, tasks_cfg = _load(design, tmp_path, "crew_clashing")
    assert {"coder", "coder_task_agent", "crew_agent", "task_agent"} == set(agents_cfg)
    assert set(agents_cfg).isdisjoint(tasks_cfg)
    calls: list[tuple[str, str]] = []
    worker_llm, _ = _fakes(calls)
    result = module.build_crew(llm={key: worker_llm(model="fake", tag=key) for key in agents_cfg}).kickoff(
        inputs={"task": "x"}
    )
    assert [t.name for t in result.tasks_output] == list(tasks_cfg)
    assert set(agents_cfg) <= {tag for tag, _ in calls}


def test_the_project_is_what_crewai_install_and_run_read(tmp_path: Path) -> None:
    """CrewAI's own CLI functions: a classic crew project, installed as a package, with the run_crew script."""
    require("crewai")
    project = require("crewai_core.project")
    install = require("crewai_cli.install_crew")
    utils = require("crewai_cli.utils")
    export_design(load_design("star_research"), "crewai", tmp_path)
    data = project.read_toml(tmp_path / "pyproject.toml")
    assert project.get_crewai_project_type(data) == "crew"
    package = utils.normalize_package_name(data["project"]["name"])
    assert (tmp_path / "src" / package / "crew.py").is_file()
    assert data["project"]["scripts"]["run_crew"] == f"{package}.main:run"
    assert data["build-system"]["build-backend"] == "hatchling.build"
    assert install._is_json_crew_project(tmp_path) is False  # `crewai install` installs it as a package
    assert any(dep.startswith("crewai") for dep in data["project"]["dependencies"])


def test_main_run_is_the_entry_point(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    """`run()` (what `crewai run` calls through `uv run run_crew`) runs the crew on the work item it is given."""
    require("crewai")
    export_design(load_design("code_review_chain"), "crewai", tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    for name in [m for m in sys.modules if m == "swarm_crew" or m.startswith("swarm_crew.")]:
        monkeypatch.delitem(sys.modules, name)
    main = importlib.import_module("swarm_crew.main")
    choose = main.choose_llm
    calls: list[tuple[str, str]] = []
    worker_llm, _ = _fakes(calls, verdict="APPROVE")
    chosen: list[tuple[str | None, str | None]] = []

    def fake_choice(model: str | None, base_url: str | None) -> Any:
        chosen.append((model, base_url))
        return worker_llm(model="fake", tag="any")

    monkeypatch.setattr(main, "choose_llm", fake_choice)
    monkeypatch.setattr(sys, "argv", ["run_crew", "--model", "m1", "--base-url", "http://h/v1", "Add", "two"])
    main.run()
    assert chosen == [("m1", "http://h/v1")]
    assert "Work item: Add two" in calls[0][1]
    assert capsys.readouterr().out.strip().startswith("output of any #")

    # The one place models are chosen: nothing set keeps each agent's own; MODEL + BASE_URL give one LLM.
    for var in ("MODEL", "BASE_URL", "OPENAI_API_BASE", "OPENAI_BASE_URL", "MAX_TOKENS"):
        monkeypatch.delenv(var, raising=False)
    assert choose() is None
    monkeypatch.setenv("MODEL", "smollm2")
    monkeypatch.setenv("BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("MAX_TOKENS", "24")
    llm = choose()
    assert (llm.model, llm.base_url, llm.max_tokens) == ("smollm2", "http://127.0.0.1:9/v1", 24)
    assert llm.provider == "openai"
    monkeypatch.setenv("MAX_TOKENS", "lots")
    with pytest.raises(SystemExit, match="MAX_TOKENS: expected a whole number"):
        choose()

    # A .env where `crewai run` runs is read; what the shell sets wins.
    for var in ("MODEL", "BASE_URL", "MAX_TOKENS"):
        monkeypatch.setenv(var, "recorded")  # so the teardown removes what the .env sets
        monkeypatch.delenv(var)
    (tmp_path / ".env").write_text("MODEL=from-dotenv\nBASE_URL=http://127.0.0.1:9/v1\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MODEL", "from-shell")
    main._load_env()
    assert (choose().model, choose().base_url) == ("from-shell", "http://127.0.0.1:9/v1")

    # Every project script of pyproject.toml is a function of main.py.
    scripts = tomllib.loads((tmp_path / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert {"run_crew", "train", "replay", "test"} <= set(scripts)
    for target in scripts.values():
        module_name, function = target.split(":")
        assert module_name == "swarm_crew.main" and callable(getattr(main, function))
