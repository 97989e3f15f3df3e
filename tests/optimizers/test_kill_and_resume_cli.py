"""A real ``kill -9`` in the middle of a psoga run, then ``swarmdesign resume``: same trials as an unbroken run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
import yaml

from swarmdesign.records import finished_trials
from swarmdesign.resources import resolve
from swarmdesign.storage import JOURNAL_NAME

BUDGET = 600


def scenario_file(tmp_path: Path) -> Path:
    data = yaml.safe_load(resolve("math_qa", "fitness", option="--fitness").read_text())
    data["objectives"] = [{"name": "score"}]
    path = tmp_path / "score.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def run_args(tmp_path: Path, name: str) -> list[str]:
    return [sys.executable, "-m", "swarmdesign.cli", "run", "qa_ensemble", "--fitness", str(scenario_file(tmp_path)),
            "--optimizer", "psoga", "--budget", str(BUDGET), "--seed", "5", "--batch-size", "16",
            "--out", str(tmp_path), "--name", name, "--quiet"]  # fmt: skip


def trials_of(run_dir: Path) -> list[tuple]:
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(run_dir / JOURNAL_NAME)))
    study = optuna.load_study(study_name=run_dir.name, storage=storage)
    return [(t.params, t.values, t.user_attrs["generation"], t.user_attrs["particle"]) for t in finished_trials(study)]


@pytest.mark.slow
def test_sigkill_mid_run_then_resume_gives_the_uninterrupted_trials(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    whole = subprocess.run(run_args(tmp_path, "whole"), capture_output=True, text=True, env=env, timeout=300)
    assert whole.returncode == 0, whole.stderr

    proc = subprocess.Popen(run_args(tmp_path, "cut"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    journal = tmp_path / "cut" / JOURNAL_NAME
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if journal.exists() and journal.stat().st_size > 200_000:  # a few batches are in
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    partial = trials_of(tmp_path / "cut")
    assert 0 < len(partial) < BUDGET, "the kill did not land mid-run"

    resumed = subprocess.run(
        [sys.executable, "-m", "swarmdesign.cli", "resume", str(tmp_path / "cut"), "--quiet"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert trials_of(tmp_path / "cut") == trials_of(tmp_path / "whole")
