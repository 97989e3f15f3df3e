"""The run loop through the real simulator and a real journal storage."""

from __future__ import annotations

import signal
from pathlib import Path

import optuna
import pandas as pd
import pytest

from swarmdesign import records
from swarmdesign.design import Design
from swarmdesign.fitness import Scenario
from swarmdesign.resources import resolve
from swarmdesign.runner import Run, RunSettings
from swarmdesign.space import SearchSpace
from tests.conftest import run_cli, start_run, wait_for_progress


def _settings(tmp_path: Path, name: str, **kw) -> RunSettings:
    space = SearchSpace.load(resolve(kw.pop("space", "software_team"), "search_spaces", option="SPACE"))
    scenario = Scenario.load(resolve(kw.pop("fitness", "software_project"), "fitness", option="--fitness"))
    return RunSettings(
        space=space, scenario=scenario, optimizer=kw.pop("optimizer", "tpe"), out=tmp_path, name=name, **kw
    )


def _objective_columns(run_dir: Path) -> pd.DataFrame:
    config = Run.open(run_dir).config
    frame = pd.read_csv(run_dir / "trials.csv")
    return frame[["trial", *[o["name"] for o in config["objectives"]]]]


@pytest.mark.parametrize("optimizer", ["tpe", "random", "nsga2", "cmaes"])
def test_same_seed_same_trials(tmp_path: Path, optimizer: str) -> None:
    for name in ("a", "b"):
        Run.create(_settings(tmp_path, name, optimizer=optimizer, budget=40, seed=7, batch_size=8)).execute()
    a, b = _objective_columns(tmp_path / "a"), _objective_columns(tmp_path / "b")
    assert len(a) == 40
    pd.testing.assert_frame_equal(a, b)


def test_run_folder_holds_config_study_csv_best_and_pareto(tmp_path: Path) -> None:
    s = _settings(tmp_path, "r", budget=24, batch_size=8)
    summary = Run.create(s).execute()
    run_dir = tmp_path / "r"
    assert summary.finished == 24
    for name in ("config.yaml", "study.journal", "trials.csv", "best.yaml"):
        assert (run_dir / name).is_file(), name
    best = Design.load(run_dir / "best.yaml")
    assert best.provenance is not None and best.provenance.trial is not None
    assert best.provenance.space == "software_team" and best.provenance.optimizer == "tpe"
    assert {"quality", "cost", "latency", "score"} <= set(best.metrics or {})
    # The journal is a plain Optuna journal any Optuna tool can read.
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    study = optuna.load_study(
        study_name="r", storage=JournalStorage(JournalFileBackend(str(run_dir / "study.journal")))
    )
    assert len(study.trials) == 24
    assert all("design" in t.user_attrs for t in study.trials)
    if len(study.directions) > 1:
        assert sorted(p.name for p in (run_dir / "pareto").glob("*.yaml"))
        for p in (run_dir / "pareto").glob("*.yaml"):
            Design.load(p)


def test_resume_extends_the_budget_without_redoing_trials(tmp_path: Path) -> None:
    Run.create(_settings(tmp_path, "r", budget=16, batch_size=8)).execute()
    run = Run.open(tmp_path / "r")
    before = {t.number: t.values for t in run.study.trials}
    run.execute(budget=40)
    after = Run.open(tmp_path / "r")
    assert after.finished() == 40
    assert {t.number: t.values for t in after.study.trials if t.number in before} == before


def test_kill_9_then_resume_reaches_exactly_the_budget(tmp_path: Path) -> None:
    budget = 3000
    proc = start_run(tmp_path, "k", "--optimizer", "random", "--budget", str(budget), "--batch-size", "4")
    wait_for_progress(tmp_path / "k", proc, min_bytes=200_000)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    killed = Run.open(tmp_path / "k")
    done_before = {t.number: (t.params, t.values) for t in records.finished_trials(killed.study)}
    assert 0 < len(done_before) < budget
    res = run_cli("resume", str(tmp_path / "k"), "--quiet", timeout=600)
    assert res.code == 0, res.stderr
    final = Run.open(tmp_path / "k")
    finished = records.finished_trials(final.study)
    assert len(finished) == budget
    assert {t.number: (t.params, t.values) for t in finished if t.number in done_before} == done_before
    assert not [t for t in final.study.trials if t.state.name == "RUNNING"]
