"""Each export runs on a real model: SmolLM2-135M behind the project's local OpenAI-compatible server.

The offline tests prove the wiring with each framework's fake model; these
prove that what a user does to run an export on their own model works as
written: CrewAI through its ``LLM`` class with ``base_url``, AutoGen through
``OpenAIChatCompletionClient(base_url=...)`` via the export's ``team.py``,
LangGraph through ``ChatOpenAI(base_url=...)``. Each run must complete with
the design's agents speaking in the design's order. The model is tiny, so
nothing is asserted about what it says, and replies are capped at a few tokens.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from export_helpers import import_path, require

from swarmdesign.design import Design
from swarmdesign.export import export_design
from swarmdesign.llm.localserver import LocalServer, server_available, start_server

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

MAX_TOKENS = 24
TASK = "Write a function that adds two numbers."
#: A three-role chain without loops, so the speaking order is fixed by the design alone.
CHAIN = {
    "swarmdesign": 1,
    "name": "real-model chain",
    "roles": [
        {"name": "planner", "archetype": "planner", "count": 1, "model": "openai/gpt-4o"},
        {"name": "coder", "archetype": "coder", "count": 1, "model": "openai/gpt-4o-mini"},
        {"name": "tester", "archetype": "tester", "count": 1, "model": "openai/gpt-4o-mini"},
    ],
    "topology": {"kind": "chain"},
    "coordination": {"review_rounds": 0},
}
ORDER = ["planner", "coder", "tester"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    if not server_available():
        pytest.skip("the local model server is not installed (bash scripts/install_llm_extras.sh)")
    log = tmp_path_factory.mktemp("server") / "server.log"
    srv = start_server(log_path=log, n_ctx=4096)
    try:
        yield srv
    finally:
        srv.stop()


def _design() -> Design:
    return Design.from_dict(CHAIN)


def test_crewai_export_runs_on_a_local_model(server: LocalServer, tmp_path: Path) -> None:
    crewai = require("crewai")
    out = tmp_path / "crew"
    export_design(_design(), "crewai", out)
    crew_module = import_path(out / "src" / "swarm_crew" / "crew.py", "crew_real_model", register=True)
    llm = crewai.LLM(model=server.model, base_url=server.api_base, api_key="unused", max_tokens=MAX_TOKENS)
    crew = crew_module.build_crew(llm=llm)
    for agent in crew.agents:
        agent.max_iter = 1  # a 135M model rarely follows the ReAct format: take its first answer
    result = crew.kickoff(inputs={"task": TASK})
    assert [t.agent for t in result.tasks_output] == ORDER
    assert all(isinstance(t.raw, str) for t in result.tasks_output)


def test_crewai_run_runs_the_exported_project(server: LocalServer, tmp_path: Path) -> None:
    """`crewai run` in the export, as a user runs it: CrewAI's CLI reads pyproject.toml and runs `uv run run_crew`.

    Offline, so instead of `crewai install` (uv sync, which fetches crewai from PyPI) the project is
    installed without dependencies into a venv that sees this interpreter's packages, and uv is told to use
    that environment as it is. The model is chosen the way the export documents: MODEL and BASE_URL.
    """
    require("crewai")
    for tool in ("crewai", "uv"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not on PATH")
    out = tmp_path / "project"
    export_design(_design(), "crewai", out)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation"]
    subprocess.run([*pip, "--no-index", str(out)], check=True, capture_output=True)
    env = os.environ | {
        "UV_PROJECT_ENVIRONMENT": str(venv),
        "UV_NO_SYNC": "1",
        "UV_OFFLINE": "1",
        "BASE_URL": server.api_base,
        "MODEL": server.alias,
        "MAX_TOKENS": str(MAX_TOKENS),
        "WORK_ITEM": TASK,
    }
    proc = subprocess.run(
        ["crewai", "run"], cwd=out, env=env, capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-2000:]
    assert "An error occurred" not in output and "Traceback" not in output, output[-2000:]
    # CrewAI records the latest kickoff's task outputs (what `crewai log-tasks-outputs` shows): one per agent, in order.
    storage = require("crewai.memory.storage.kickoff_task_outputs_storage").KickoffTaskOutputsSQLiteStorage()
    assert [row["output"]["agent"] for row in storage.load()] == ORDER


def test_autogen_export_runs_on_a_local_model(server: LocalServer, tmp_path: Path) -> None:
    require("autogen_agentchat")
    require("autogen_ext.models.openai")
    out = tmp_path / "team"
    export_design(_design(), "autogen", out)
    team_module = import_path(out / "team.py", "team_real_model")
    client = team_module.local_client(server.api_base, server.alias, "unused")
    client["config"]["max_tokens"] = MAX_TOKENS
    team = team_module.load_team(models=dict.fromkeys(("openai/gpt-4o", "openai/gpt-4o-mini"), client))
    result = asyncio.run(team.run(task=TASK))
    speakers = [m.source for m in result.messages if m.source != "user"]
    assert speakers == ORDER


def test_langgraph_export_runs_on_a_local_model(server: LocalServer, tmp_path: Path) -> None:
    require("langgraph")
    chat_openai = require("langchain_openai").ChatOpenAI
    out = tmp_path / "graph"
    export_design(_design(), "langgraph", out)
    graph_module = import_path(out / "graph.py", "graph_real_model")
    # extra_body: langchain-openai sends max_completion_tokens, which llama.cpp's server does not read.
    llm = chat_openai(
        model=server.alias, base_url=server.api_base, api_key="unused", extra_body={"max_tokens": MAX_TOKENS}
    )
    final: dict[str, Any] = graph_module.run(TASK, llm)
    assert [o["node"] for o in final["outputs"]] == ORDER
    assert all(o["content"] for o in final["outputs"])
