"""A reusable harness for crash-consistency tests: start a real process, kill it at a random moment, check the folder.

Every test here ends the same way, whatever it killed (a run, a resume, a
trim, an LLM evaluation): :func:`assert_consistent` — the study reads with
plain Optuna, it holds exactly the budget of finished trials, nothing is left
RUNNING, and ``trials.csv`` lists exactly the study's trials in their states.
To add a kind of kill, start the process with :func:`start_cli`, wait with
:func:`wait_for_bytes` (a random threshold from the test's seeded generator)
and :func:`kill_9` it; then resume with :func:`resume` and check.
"""

from __future__ import annotations

import contextlib
import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import optuna
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

from swarmdesign import records
from swarmdesign.storage import CONFIG_NAME, JOURNAL_NAME, TRIALS_NAME

#: Simulated evaluator slowed down a little, so a kill lands mid-run on any machine.
SLOW = ("--evaluator", "swarmdesign.testing.sleepy:SleepingEvaluator", "-E", "sleep_s=0.01", "-E", "replicas=4")


def start_cli(*args: str, cwd: Path | None = None) -> subprocess.Popen[str]:
    """``swarmdesign ARGS`` as a background process in its own session (so a kill reaches only it)."""
    return subprocess.Popen(
        [sys.executable, "-m", "swarmdesign.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        start_new_session=True,
    )


def wait_for_bytes(path: Path, proc: subprocess.Popen[str], min_bytes: int, timeout: float = 120) -> bool:
    """Wait until ``path`` holds ``min_bytes``; ``False`` if the process ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if path.exists() and path.stat().st_size >= min_bytes:
            return True
        time.sleep(0.02)
    raise AssertionError(f"{path} did not reach {min_bytes} bytes in {timeout} s")


def kill_9(proc: subprocess.Popen[str]) -> None:
    """SIGKILL the process and every process of its session (pool workers, evaluation children)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)


def random_threshold(rng: np.random.Generator, run_dir: Path, low: int, high: int) -> int:
    """A journal size to kill at: somewhere past what the folder already holds."""
    journal = run_dir / JOURNAL_NAME
    now = journal.stat().st_size if journal.exists() else 0
    return now + int(rng.integers(low, high))


def resume(run_dir: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "swarmdesign.cli", "resume", str(run_dir), "--quiet", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def read_study(run_dir: Path) -> optuna.Study:
    """The run's study through plain Optuna (no swarmdesign code on the read path)."""
    name = (run_dir / CONFIG_NAME).read_text().split("study_name:", 1)[1].split("\n", 1)[0].strip().strip("'\"")
    storage = JournalStorage(JournalFileBackend(str(run_dir / JOURNAL_NAME)))
    return optuna.load_study(study_name=name, storage=storage)


def assert_consistent(run_dir: Path, budget: int) -> optuna.Study:
    """Exact budget, readable study, no RUNNING trial, ``trials.csv`` equal to the study; returns the study."""
    raw = (run_dir / JOURNAL_NAME).read_bytes()
    assert raw.endswith(b"\n"), "the journal ends in a torn line"
    study = read_study(run_dir)
    trials = study.get_trials(deepcopy=False)
    assert len(records.finished_trials(study)) == budget
    assert not [t.number for t in trials if t.state.name == "RUNNING"]
    with open(run_dir / TRIALS_NAME, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["trial"]) for r in rows] == [t.number for t in trials]
    assert [r["state"] for r in rows] == [t.state.name for t in trials]
    return study
