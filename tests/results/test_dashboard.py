"""``swarmdesign dashboard`` serves a run's study with optuna-dashboard, read back over HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
@pytest.mark.parametrize("launcher_ignores_ctrl_c", [False, True])
def test_dashboard_serves_the_run_study(default_run: Path, tmp_path: Path, launcher_ignores_ctrl_c: bool) -> None:
    """Serves the study, and one Ctrl-C stops it, also when its launcher ignored SIGINT (inherited SIG_IGN)."""
    pytest.importorskip("optuna_dashboard")
    port = _free_port()
    log = (tmp_path / "dashboard.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "swarmdesign.cli", "dashboard", str(default_run), "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONFAULTHANDLER": "1"},  # a hung exit is dumped to the log (SIGABRT below)
        preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if launcher_ignores_ctrl_c else None,
    )
    try:
        payload = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/studies", timeout=2) as response:
                    payload = json.loads(response.read())
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        assert payload is not None, (tmp_path / "dashboard.log").read_text()
        studies = payload["study_summaries"]
        assert [s["study_name"] for s in studies] == ["defaults"]
        assert studies[0]["directions"] == ["maximize", "minimize"]
        study_id = studies[0]["study_id"]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/studies/{study_id}", timeout=10) as response:
            detail = json.loads(response.read())
        assert len(detail["trials"]) == 48
    finally:
        proc.send_signal(signal.SIGINT)  # one Ctrl-C must stop it (30 s: the exit on a busy CI machine)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGABRT)  # faulthandler writes every thread's stack to the log
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        log.close()
    assert proc.returncode in (0, -signal.SIGINT), (tmp_path / "dashboard.log").read_text()
