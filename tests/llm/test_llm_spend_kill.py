"""The cost cap survives ``kill -9``: every paid call is in the run folder before its task ends.

A real CLI run of the ``llm`` evaluator on the offline fake provider (slowed
to 0.15 s a call so kills land inside tasks) is killed twice and resumed. The
response cache is the independent witness of what was paid: each answered
call is cached right after its spending is recorded, so the recorded spending
must cover every cached call, and the resumed runs must keep all of it under
the cap.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from swarmdesign.llm.traces import TRACE_FILE, spent_in

MODEL = "fake/skill-0.6-delay-0.15"
RATE_IN, RATE_OUT = 20.0, 80.0  # USD per Mtok: a task costs about a cent, so the cap is reached mid-run
CAP = 0.06

pytestmark = pytest.mark.slow  # three CLI processes, two of them killed: about two minutes on 2 busy cores


def _scenario(path: Path) -> Path:
    data = {
        "swarmdesign_scenario": 1,
        "name": "kill-cap",
        "workload": {"tasks": 10, "subtasks": 1, "dependency_depth": 1},
        "objectives": [{"name": "quality"}],
        "llm": {
            "n_tasks": 4,
            "max_tokens": 32,
            "concurrency": 4,
            "retries": 0,
            "max_cost_usd": CAP,
            "model_map": {m: MODEL for m in ("gpt-4o", "gpt-4o-mini", "claude-3-5-haiku", "llama-3.1-8b")},
            "prices": {MODEL: {"input_usd_per_mtok": RATE_IN, "output_usd_per_mtok": RATE_OUT}},
        },
    }
    path.write_text(yaml.safe_dump(data))
    return path


def _env(cache: Path) -> dict[str, str]:
    return {**os.environ, "SWARMDESIGN_LLM_CACHE": str(cache), "LITELLM_LOCAL_MODEL_COST_MAP": "True"}


def _paid(cache: Path) -> float:
    """Dollars of every answered call, from the response cache."""
    total = 0.0
    for entry in cache.rglob("*.json"):
        if entry.name.startswith(".tmp-"):
            continue
        hit = json.loads(entry.read_text())
        total += (hit["prompt_tokens"] * RATE_IN + hit["completion_tokens"] * RATE_OUT) / 1e6
    return total


def _calls_recorded(traces: Path) -> int:
    if not traces.exists():
        return 0
    return sum(1 for line in traces.read_text().splitlines() if '"type": "call"' in line)


def _kill_after_calls(cmd: list[str], env: dict[str, str], traces: Path, calls: int) -> None:
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 180
    while _calls_recorded(traces) < calls and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)  # land inside the next calls of the tasks in flight
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)


def test_kill_9_mid_task_keeps_every_paid_call_under_the_cap(tmp_path):
    cache = tmp_path / "cache"
    scenario = _scenario(tmp_path / "kill.yaml")
    run_dir = tmp_path / "runs" / "r"
    traces = run_dir / TRACE_FILE
    env = _env(cache)
    start = [sys.executable, "-m", "swarmdesign.cli", "run", "qa_ensemble", "--fitness", str(scenario)]
    start += ["--evaluator", "llm", "--budget", "16", "--seed", "3", "--out", str(tmp_path / "runs"), "--name", "r"]
    _kill_after_calls([*start, "--quiet"], env, traces, calls=3)
    assert run_dir.is_dir()
    first_paid, first_recorded = _paid(cache), spent_in(run_dir)
    assert first_paid > 0
    assert first_recorded >= first_paid - 1e-12  # calls of unfinished tasks are counted too
    resume = [sys.executable, "-m", "swarmdesign.cli", "resume", str(run_dir), "--quiet"]
    _kill_after_calls(resume, env, traces, calls=_calls_recorded(traces) + 4)
    assert spent_in(run_dir) >= _paid(cache) - 1e-12
    done = subprocess.run(resume, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode in (0, 3), done.stderr  # finished, or stopped cleanly at the cap
    paid, recorded = _paid(cache), spent_in(run_dir)
    assert recorded >= paid - 1e-12
    assert recorded <= CAP + 1e-12 and paid <= CAP + 1e-12
