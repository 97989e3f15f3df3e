"""The files around the crew's YAML: the project layout ``crewai create crew`` makes.

``crewai run`` reads ``pyproject.toml`` (``[tool.crewai] type = "crew"``) and
runs the project script ``run_crew`` through ``uv run``; ``crewai install``
is ``uv sync``. So the export is a package ``src/<pkg>/`` with ``crew.py``
(a ``@CrewBase`` class with one ``@agent`` / ``@task`` method per entry, as
CrewAI's own template writes it, so a user can add tools per agent),
``config/agents.yaml``, ``config/tasks.yaml`` and ``main.py`` (``run()``).

The package name is fixed (:data:`PACKAGE`), never derived from the design or
the output folder: the list of files a target writes stays fixed, and no
design text becomes a path. The only design-derived code is the method names,
which are the YAML keys: identifiers made by :func:`swarmdesign.export.plan.identifier`.
Everything else the design says stays in the YAML, as data.

Models are chosen in one place, ``main.py``'s ``choose_llm``: ``MODEL`` and
``BASE_URL`` (or CrewAI's ``OPENAI_API_BASE``) from the
environment or ``.env``, or ``--model`` / ``--base-url``, put every agent on
one model; without them each agent keeps the ``llm`` of its YAML entry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

PACKAGE = "swarm_crew"
CREW_CLASS = "SwarmCrew"
CONFIG_DIR = f"src/{PACKAGE}/config"
AGENTS_PATH = f"{CONFIG_DIR}/agents.yaml"
TASKS_PATH = f"{CONFIG_DIR}/tasks.yaml"
CREW_PATH = f"src/{PACKAGE}/crew.py"
MAIN_PATH = f"src/{PACKAGE}/main.py"
INIT_PATH = f"src/{PACKAGE}/__init__.py"

#: Every file of the export, relative to the output folder, in the order they are written.
FILES = ("pyproject.toml", AGENTS_PATH, TASKS_PATH, CREW_PATH, MAIN_PATH, INIT_PATH, ".env.example", ".gitignore")

#: Names an ``@agent`` method may not take in the generated class: CrewBase's own attributes and
#: methods, the class's own, and the decorators the class body uses (a method called ``task``
#: would rebind ``@task`` for the methods after it).
RESERVED_METHOD_NAMES = frozenset(
    """
    agent task crew before_kickoff agents tasks agents_config tasks_config chosen_llm
    base_directory is_crew_class original_agents_config_path original_tasks_config_path
    mcp_server_params mcp_connect_timeout close_mcp_server get_mcp_tools load_configurations
    load_yaml map_all_agent_variables map_all_task_variables
    """.split()  # noqa: SIM905 - a word list reads better than quoted strings
)

#: Provider prefixes of model names and the crewai extra that brings their client.
_PROVIDER_EXTRAS = {"anthropic": "anthropic", "gemini": "google-genai", "google": "google-genai"}

_PYPROJECT = """\
[project]
name = "{package}"
version = "0.1.0"
description = "A crew exported by swarmdesign, using crewAI"
requires-python = ">=3.10,<3.14"
dependencies = [
    "{crewai}>=1.15,<2",
]

[project.scripts]
{package} = "{package}.main:run"
run_crew = "{package}.main:run"
train = "{package}.main:train"
replay = "{package}.main:replay"
test = "{package}.main:test"

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[tool.crewai]
type = "crew"
"""

_ENV_EXAMPLE = f"""\
# Copy this file to .env (or export the variables in the shell) to run every agent on one model.
# Without MODEL and BASE_URL each agent uses the llm its entry in {AGENTS_PATH} names,
# with the provider's key from the environment (OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY).
#
# A hosted model for every agent:
# MODEL=openai/gpt-4o-mini
# OPENAI_API_KEY=...
#
# A local OpenAI-compatible server (llama.cpp, vLLM, Ollama's /v1):
# BASE_URL=http://127.0.0.1:8080/v1
# MODEL=smollm2
#
# A cap on each reply's length (tokens), for small local models:
# MAX_TOKENS=256
#
# The work item when `crewai run` is not given one on standard input:
# WORK_ITEM=Write a function that adds two numbers.
"""

_GITIGNORE = ".env\n__pycache__/\n.DS_Store\n.crewai/\n.venv/\n"

_MAIN = f'''\
#!/usr/bin/env python
"""Run the crew on one work item.

    crewai run                                   # the work item from WORK_ITEM or standard input
    uv run run_crew "Add two numbers"
    uv run run_crew --base-url http://127.0.0.1:8080/v1 --model smollm2 "Add two numbers"
    PYTHONPATH=src python -m {PACKAGE}.main "Add two numbers"

The models are chosen here, in one place (choose_llm): MODEL, and BASE_URL for an
OpenAI-compatible server, from the environment or .env (or --model / --base-url) put every
agent on that one model (MAX_TOKENS caps its replies); without them each agent uses the llm
its entry in config/agents.yaml names.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from dotenv import load_dotenv

from {PACKAGE}.crew import {CREW_CLASS}

PROJECT = Path(__file__).resolve().parents[2]


def _load_env() -> None:
    """The project's .env (where `crewai run` runs, else beside pyproject.toml); variables set in the shell win."""
    for env_file in (Path.cwd() / ".env", PROJECT / ".env"):
        load_dotenv(env_file)


def choose_llm(model: str | None = None, base_url: str | None = None) -> Any:
    """One CrewAI LLM for every agent, or None to keep each agent's own llm from agents.yaml."""
    model = model or os.environ.get("MODEL") or None
    # Not OPENAI_BASE_URL: the OpenAI client reads that one itself, for each agent's own model.
    base_url = base_url or os.environ.get("BASE_URL") or os.environ.get("OPENAI_API_BASE") or None
    if model is None and base_url is None:
        return None
    from crewai import LLM

    options: dict[str, Any] = {{}}
    if os.environ.get("MAX_TOKENS", "").strip():
        try:
            options["max_tokens"] = int(os.environ["MAX_TOKENS"])
        except ValueError:
            sys.exit(f"error: MAX_TOKENS: expected a whole number, got {{os.environ['MAX_TOKENS']!r}}")
    if base_url is None:
        return LLM(model=model, **options)
    name = model or "default"
    if not name.startswith("openai/"):
        name = "openai/" + name  # an OpenAI-compatible server: CrewAI's OpenAI client with base_url
    return LLM(model=name, base_url=base_url, api_key=os.environ.get("OPENAI_API_KEY") or "unused", **options)


def _work_item(words: list[str]) -> str:
    item = " ".join(words).strip() or os.environ.get("WORK_ITEM", "").strip()
    if item:
        return item
    try:
        item = input("Work item: ").strip()
    except EOFError:
        item = ""
    if not item:
        sys.exit("error: no work item; pass it as arguments, in WORK_ITEM, or on standard input")
    return item


def run() -> None:
    """Run the crew; the entry point of `crewai run` (project script run_crew)."""
    _load_env()
    parser = argparse.ArgumentParser(prog="run_crew", description="Run the exported crew on one work item.")
    parser.add_argument("task", nargs="*", help="the work item (else WORK_ITEM, else standard input)")
    parser.add_argument("--base-url", help="an OpenAI-compatible server for every agent, e.g. http://127.0.0.1:8080/v1")
    parser.add_argument("--model", help="one model for every agent (the model name on that server)")
    args = parser.parse_args(sys.argv[1:])
    crew = {CREW_CLASS}(llm=choose_llm(args.model, args.base_url)).crew()
    print(crew.kickoff(inputs={{"task": _work_item(args.task)}}).raw)


def train() -> None:
    """`crewai train -n N -f FILE`: train the crew for N iterations on the work item from WORK_ITEM."""
    _load_env()
    crew = {CREW_CLASS}(llm=choose_llm()).crew()
    crew.train(n_iterations=int(sys.argv[1]), filename=sys.argv[2], inputs={{"task": _work_item([])}})


def replay() -> None:
    """`crewai replay -t TASK_ID`: run the crew again from one task of the latest kickoff."""
    _load_env()
    {CREW_CLASS}(llm=choose_llm()).crew().replay(task_id=sys.argv[1])


def test() -> None:
    """`crewai test -n N -m MODEL`: run the crew N times and let MODEL score each task."""
    _load_env()
    crew = {CREW_CLASS}(llm=choose_llm()).crew()
    crew.test(n_iterations=int(sys.argv[1]), eval_llm=sys.argv[2], inputs={{"task": _work_item([])}})


if __name__ == "__main__":
    run()
'''

_CREW_HEAD = f'''\
"""The crew exported by swarmdesign: config/agents.yaml and config/tasks.yaml, built by {CREW_CLASS}.

In code: {CREW_CLASS}(llm=None).crew().kickoff(inputs={{{{"task": ...}}}}), or build_crew(llm).
`llm` replaces the model of every agent (a CrewAI LLM, or a dict from agent key to LLM);
None keeps each agent's llm from agents.yaml. main.py chooses it from MODEL / BASE_URL.

Review rounds run only while they are needed: each task of round k is a ConditionalTask
that runs while a verdict of round k-1 asks for changes (REVISE after the last APPROVE).
A skipped task keeps its agent's work of the round before, so the tasks after the loop
read the latest work, and a later round sees that no change was asked for.
"""

from __future__ import annotations

from typing import Any

from crewai import Agent, Crew, Process, Task
from crewai.agents.agent_builder.base_agent import BaseAgent
from crewai.project import CrewBase, agent, before_kickoff, crew, task
from crewai.tasks.conditional_task import ConditionalTask
from crewai.tasks.task_output import TaskOutput

PROCESS = {{process}}
MANAGER = {{manager}}
REVISE = "REVISE"
APPROVE = "APPROVE"
#: For each task of a review round: the verdict tasks of the round before, and its agent's work of the round before.
ROUNDS: dict[str, tuple[list[str], list[str]]] = {{rounds}}


def asks_for_changes(text: str) -> bool:
    """A verdict asks for changes when REVISE comes after its last APPROVE."""
    return text.rfind(REVISE) > text.rfind(APPROVE)


@CrewBase
class {CREW_CLASS}:
    """The exported crew; one @agent / @task method per entry of the YAML files."""

    agents: list[BaseAgent]
    tasks: list[Task]

    agents_config = "config/agents.yaml"
    tasks_config = "config/tasks.yaml"

    def __init__(self, llm: Any = None) -> None:
        self.chosen_llm = llm
'''

_CREW_TAIL = '''
    @before_kickoff
    def _forget_earlier_runs(self, inputs: dict[str, Any]) -> dict[str, Any]:
        for key in ROUNDS:
            self._named(key).output = None
        return inputs

    @crew
    def crew(self) -> Crew:
        manager = getattr(self, MANAGER)() if MANAGER else None
        workers = [a for a in self.agents if a is not manager]
        options: dict[str, Any] = {"manager_agent": manager} if manager is not None else {}
        return Crew(agents=workers, tasks=self.tasks, process=Process(PROCESS), **options)

    def _named(self, key: str) -> Any:
        return getattr(self, key)()

    def _agent(self, key: str) -> Agent:
        chosen = self.chosen_llm.get(key) if isinstance(self.chosen_llm, dict) else self.chosen_llm
        return Agent(config=self.agents_config[key], **({"llm": chosen} if chosen is not None else {}))

    def _task(self, key: str) -> Task:
        config = dict(self.tasks_config[key])
        worker = config.pop("agent", None)
        if MANAGER and worker is getattr(self, MANAGER)():
            worker = None  # a hierarchical crew's manager runs every task; its own tasks name no worker
        context = config.pop("context", None) or None
        if key not in ROUNDS:
            return Task(config=config, agent=worker, context=context, name=key)
        return ConditionalTask(
            config=config, agent=worker, context=context, name=key, condition=lambda _: self._still_revising(key)
        )

    def _still_revising(self, key: str) -> bool:
        verdicts, own_work = ROUNDS[key]
        if any(out is not None and asks_for_changes(out.raw) for out in self._outputs(verdicts)):
            return True
        earlier = [out for out in self._outputs(own_work) if out is not None]
        if earlier:  # skipped: keep the round before's work where the next tasks read it
            kept: TaskOutput = earlier[-1].model_copy(update={"raw": "\\n\\n".join(out.raw for out in earlier)})
            self._named(key).output = kept
        return False

    def _outputs(self, keys: list[str]) -> list[TaskOutput | None]:
        return [self._named(k).output for k in keys]


def build_crew(llm: Any = None) -> Crew:
    """The crew, with the agents' own models unless `llm` overrides them."""
    return {cls}(llm=llm).crew()
'''


def pyproject(models: Sequence[str]) -> str:
    """``pyproject.toml`` as ``crewai create crew`` writes it, with the extras the design's providers need."""
    extras = sorted({_PROVIDER_EXTRAS[m.split("/", 1)[0]] for m in models if m.split("/", 1)[0] in _PROVIDER_EXTRAS})
    requirement = "crewai" + (f"[{','.join(extras)}]" if extras else "")
    return _PYPROJECT.format(package=PACKAGE, crewai=requirement)


def crew_module(
    process: str,
    manager: str | None,
    agent_keys: Sequence[str],
    task_keys: Sequence[str],
    rounds: dict[str, tuple[list[str], list[str]]],
) -> str:
    """The text of ``crew.py``; the keys are identifiers, every other design value a ``repr`` literal."""
    for key in [*agent_keys, *task_keys]:
        if not key.isidentifier() or key.startswith("_") or key in RESERVED_METHOD_NAMES:
            raise ValueError(f"not a usable method name: {key!r}")  # the exporter's own invariant
    entries = "".join(f"\n    {key!r}: {value!r}," for key, value in rounds.items())
    head = _CREW_HEAD.format(
        process=repr(process), manager=repr(manager), rounds="{" + entries + ("\n}" if entries else "}")
    )
    methods = [f"\n    @agent\n    def {k}(self) -> Agent:\n        return self._agent({k!r})\n" for k in agent_keys]
    methods += [f"\n    @task\n    def {k}(self) -> Task:\n        return self._task({k!r})\n" for k in task_keys]
    return head + "".join(methods) + _CREW_TAIL.replace("{cls}", CREW_CLASS)


def main_module() -> str:
    return _MAIN


def env_example() -> str:
    return _ENV_EXAMPLE


def gitignore() -> str:
    return _GITIGNORE
