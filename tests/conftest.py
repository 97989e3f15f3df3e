"""Shared fixtures: an isolated home for every test, and a CLI runner that uses a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Libraries that write under $HOME (matplotlib, crewai) write into a temp dir instead."""
    home = tmp_path_factory.mktemp("home")
    for var in ("HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "MPLCONFIGDIR"):
        monkeypatch.setenv(var, str(home / var.lower()))
    monkeypatch.setenv("CREWAI_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 300, env: dict[str, str] | None = None) -> CliResult:
    """Run ``swarmdesign ARGS`` in a fresh interpreter, as a user would."""
    proc = subprocess.run(
        [sys.executable, "-m", "swarmdesign.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def cli():
    return run_cli


def start_run(out: Path, name: str, *args: str) -> subprocess.Popen[str]:
    """Start ``swarmdesign run --out OUT --name NAME --quiet ARGS`` as a background process."""
    cmd = [sys.executable, "-m", "swarmdesign.cli", "run", "--out", str(out), "--name", name, "--quiet", *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_progress(run_dir: Path, proc: subprocess.Popen[str], min_bytes: int, timeout: float = 60) -> None:
    """Block until the run's journal holds ``min_bytes`` (some finished batches); fail if the run ended first."""
    import time

    journal = run_dir / "study.journal"
    deadline = time.time() + timeout
    while time.time() < deadline and (not journal.exists() or journal.stat().st_size < min_bytes):
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    assert proc.poll() is None, f"the run ended before it could be stopped: {proc.communicate()[1][-2000:]}"
