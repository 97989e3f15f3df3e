"""Crash consistency: ``kill -9`` at random moments, a full disk, two writers at once.

Each case ends with :func:`tests.crash.harness.assert_consistent`: exactly the
budget of finished trials, a study plain Optuna reads, nothing RUNNING, and
``trials.csv`` equal to the study. Kill moments come from a seeded generator
(journal sizes), so a failure names a reproducible case.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from swarmdesign.errors import SwarmdesignError
from swarmdesign.fitness import Scenario
from swarmdesign.resources import resolve
from swarmdesign.runner import Run, RunSettings
from swarmdesign.space import SearchSpace
from swarmdesign.storage import JOURNAL_NAME
from tests.crash.harness import (
    SLOW,
    assert_consistent,
    kill_9,
    random_threshold,
    read_study,
    resume,
    start_cli,
    wait_for_bytes,
)


def _run_args(out: Path, name: str, budget: int, *extra: str) -> list[str]:
    return [
        "run", "--out", str(out), "--name", name, "--quiet", "--no-recommend", "--optimizer", "random",
        "--budget", str(budget), "--batch-size", "4", *SLOW, *extra,
    ]  # fmt: skip


@pytest.mark.parametrize("seed", [1, pytest.param(2, marks=pytest.mark.slow), pytest.param(3, marks=pytest.mark.slow)])
def test_kill_9_during_run_and_resume_ends_with_the_exact_budget(tmp_path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    budget = 160
    run_dir = tmp_path / "k"
    proc = start_cli(*_run_args(tmp_path, "k", budget))
    killed = 0
    for _ in range(3):  # the run, then two resumes, each killed at a random journal size
        if wait_for_bytes(run_dir / JOURNAL_NAME, proc, random_threshold(rng, run_dir, 20_000, 120_000)):
            kill_9(proc)
            killed += 1
        else:
            proc.communicate(timeout=60)
            break
        proc = start_cli("resume", str(run_dir), "--quiet")
    else:
        proc.communicate(timeout=600)
    assert killed >= 1, "no kill landed mid-run"
    final = resume(run_dir)
    assert final.returncode == 0, final.stderr
    assert_consistent(run_dir, budget)


def test_concurrent_resume_is_refused_naming_the_writer_then_a_dead_writer_frees_the_folder(tmp_path: Path) -> None:
    budget = 400
    run_dir = tmp_path / "c"
    proc = start_cli(*_run_args(tmp_path, "c", budget))
    assert wait_for_bytes(run_dir / JOURNAL_NAME, proc, 30_000)
    second = resume(run_dir, timeout=300)
    assert second.returncode == 2, second.stderr
    lines = [ln for ln in second.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and f"PID {proc.pid}" in lines[0] and "Traceback" not in second.stderr
    kill_9(proc)
    third = resume(run_dir)  # the kernel dropped the dead writer's lock: no stale lock to wait out
    assert third.returncode == 0, third.stderr
    assert_consistent(run_dir, budget)


def _settings(out: Path, name: str, budget: int) -> RunSettings:
    return RunSettings(
        space=SearchSpace.load(resolve("qa_ensemble", "search_spaces", option="SPACE")),
        scenario=Scenario.load(resolve("math_qa", "fitness", option="--fitness")),
        optimizer="random",
        budget=budget,
        batch_size=8,
        out=out,
        name=name,
        evaluator_params={"replicas": 4},
    )


def _mount_tmpfs(where: Path, size: str) -> None:
    where.mkdir()
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], check=True,
                       capture_output=True, timeout=30)  # fmt: skip
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"mounting a small tmpfs to fill is not permitted here ({exc})")


def test_a_full_disk_stops_the_run_cleanly_and_resume_finishes_it(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    _mount_tmpfs(disk, "160k")
    try:
        budget = 400
        with pytest.raises(SwarmdesignError, match="No space left on device"):
            Run.create(_settings(disk, "full", budget)).execute()
        run_dir = disk / "full"
        journal = (run_dir / JOURNAL_NAME).read_bytes()
        assert journal.endswith(b"\n")  # the failed write was cut back off: no torn line
        assert not [p.name for p in run_dir.iterdir() if ".tmp-" in p.name]  # no half-written derived file
        subprocess.run(["mount", "-o", "remount,size=16m", str(disk)], check=True, capture_output=True, timeout=30)
        Run.open(run_dir).execute()
        study = assert_consistent(run_dir, budget)
        assert len(study.trials) >= budget
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True, timeout=30)


def test_a_torn_journal_tail_is_cut_off_before_the_next_append(tmp_path: Path) -> None:
    Run.create(_settings(tmp_path, "t", 16)).execute()
    journal = tmp_path / "t" / JOURNAL_NAME
    size = journal.stat().st_size
    with open(journal, "r+b") as f:  # a write that died mid-line (power cut): the last 37 bytes never arrived
        f.truncate(size - 37)
    assert not journal.read_bytes().endswith(b"\n")
    Run.open(tmp_path / "t").execute(budget=40)
    assert_consistent(tmp_path / "t", 40)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_second_stop_signal_during_clean_up_keeps_trials_csv_in_step(tmp_path: Path, sig: signal.Signals) -> None:
    budget = 400
    run_dir = tmp_path / "s"
    proc = start_cli(*_run_args(tmp_path, "s", budget))
    assert wait_for_bytes(run_dir / JOURNAL_NAME, proc, 40_000)
    proc.send_signal(sig)
    time.sleep(0.01)
    proc.send_signal(sig)  # while the first stop is still writing
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == (130 if sig == signal.SIGINT else 143), err
    assert "Traceback" not in err and "swarmdesign resume" in err
    study = read_study(run_dir)
    rows = (run_dir / "trials.csv").read_text().splitlines()[1:]
    assert len(rows) == len(study.trials)
    final = resume(run_dir)
    assert final.returncode == 0, final.stderr
    assert_consistent(run_dir, budget)
