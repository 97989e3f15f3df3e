"""Runs survive evaluators that crash, hang or return NaN, and signals."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
import yaml

from swarmdesign import records
from swarmdesign.errors import RunStopped
from swarmdesign.fitness import Scenario
from swarmdesign.resources import resolve
from swarmdesign.runner import Run, RunSettings
from swarmdesign.space import SearchSpace
from tests.conftest import run_cli, start_run, wait_for_progress

FAULTY = "swarmdesign.testing.faulty:FaultyEvaluator"


def _settings(tmp_path: Path, name: str, **kw) -> RunSettings:
    return RunSettings(
        space=SearchSpace.load(resolve("qa_ensemble", "search_spaces", option="SPACE")),
        scenario=Scenario.load(resolve("math_qa", "fitness", option="--fitness")),
        optimizer=kw.pop("optimizer", "random"),
        out=tmp_path,
        name=name,
        evaluator=FAULTY,
        **kw,
    )


@pytest.mark.parametrize(("mode", "reason"), [("raise", "RuntimeError: evaluator crashed"), ("nan", "non-finite")])
def test_failing_designs_are_failed_trials_and_the_run_goes_on(tmp_path: Path, mode: str, reason: str) -> None:
    s = _settings(tmp_path, mode, evaluator_params={"mode": mode, "share": 0.25}, budget=40, batch_size=8)
    summary = Run.create(s).execute()
    run = Run.open(tmp_path / mode)
    failed = [t for t in run.study.trials if t.state.name == "FAIL"]
    complete = [t for t in run.study.trials if t.state.name == "COMPLETE"]
    assert summary.finished == 40 == len(failed) + len(complete)
    assert failed and complete
    assert all(reason in t.user_attrs["fail_reason"] for t in failed)
    # Exactly the designs the evaluator misbehaves on failed, no others.
    ev = run.evaluator
    assert all(ev.is_faulty(records.design_of(t)) for t in failed)


def test_hanging_evaluations_time_out(tmp_path: Path) -> None:
    s = _settings(
        tmp_path,
        "hang",
        evaluator_params={"mode": "hang", "share": 0.3, "hang_s": 60},
        budget=9,  # random's first nine designs hold two the evaluator hangs on (the 7th and 8th)
        batch_size=3,
        eval_timeout_s=1.0,
        max_fail_share=1.0,  # this test is about the time-out; the batch of those two must not stop the run
    )
    start = time.perf_counter()
    Run.create(s).execute()
    assert time.perf_counter() - start < 45
    run = Run.open(tmp_path / "hang")
    failed = [t for t in run.study.trials if t.state.name == "FAIL"]
    assert run.finished() == 9
    assert failed and all("timed out" in t.user_attrs["fail_reason"] for t in failed)


def test_too_many_failures_stop_the_run_resumably(tmp_path: Path) -> None:
    s = _settings(
        tmp_path, "stop", evaluator_params={"mode": "raise", "share": 1.0}, budget=40, batch_size=8, max_fail_share=0.5
    )
    with pytest.raises(RunStopped, match="fix the cause") as err:
        Run.create(s).execute()
    assert err.value.exit_code == 3
    run_dir = tmp_path / "stop"
    assert Run.open(run_dir).finished() == 8
    # The user fixes the cause (here: the evaluator's parameters) and resumes.
    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    config["evaluator"]["params"]["share"] = 0.0
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    Run.open(run_dir).execute()
    assert Run.open(run_dir).finished() == 40


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signals_stop_cleanly_then_resume_completes(tmp_path: Path, sig: signal.Signals, code: int) -> None:
    budget = 400
    proc = start_run(
        tmp_path, "s", "--optimizer", "random", "--budget", str(budget), "--batch-size", "2",
        "--evaluator", "swarmdesign.testing.sleepy:SleepingEvaluator", "-E", "sleep_s=0.02",
    )  # fmt: skip
    wait_for_progress(tmp_path / "s", proc, min_bytes=60_000)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "swarmdesign resume" in err and "Traceback" not in err
    stopped = Run.open(tmp_path / "s")
    assert 0 < stopped.finished() < budget
    assert not [t for t in stopped.study.trials if t.state.name == "RUNNING"]
    res = run_cli("resume", str(tmp_path / "s"), "--quiet", timeout=300)
    assert res.code == 0, res.stderr
    assert Run.open(tmp_path / "s").finished() == budget
