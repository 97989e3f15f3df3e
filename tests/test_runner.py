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
    s = _settings(tmp_path, "r", budget=24, batch_size=8, pareto=True)
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
    assert len(study.directions) == 2  # --pareto: the scenario's quality and cost
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


# ------------------------------------------------------------- speed machinery
@pytest.mark.parametrize("pareto", [True, False])
def test_incremental_outputs_match_a_full_rebuild(tmp_path: Path, pareto: bool) -> None:
    """trials.csv appended batch by batch, best.yaml and pareto/ folded in equal what the whole study gives.

    Without ``--pareto`` the study is the score's and pareto/ holds the front of the scenario's two
    objectives, taken over their recorded metrics.
    """
    import swarmdesign.outputs as outputs

    outputs.PARETO_EVERY_S, saved = 0.0, outputs.PARETO_EVERY_S
    try:
        run = Run.create(_settings(tmp_path, "inc", optimizer="psoga", budget=64, batch_size=16, pareto=pareto))
        for budget in (16, 40, 64):  # several refreshes, one with a generation cut short
            run.execute(budget=budget)
            run.write_outputs(final=False)
    finally:
        outputs.PARETO_EVERY_S = saved
    written = pd.read_csv(tmp_path / "inc" / "trials.csv")
    full = records.trials_frame(run.study)
    full_csv = pd.read_csv(__import__("io").StringIO(full.to_csv(index=False)))
    pd.testing.assert_frame_equal(written, full_csv)
    front = sorted(p.name for p in (tmp_path / "inc" / "pareto").glob("trial-*.yaml"))
    full_front = records.pareto_of(run.study.trials, run.study.directions, records.front_objectives(run.config))
    assert len(full_front) > 1
    assert front == [f"trial-{t.number:06d}.yaml" for t in full_front]
    best = Design.load(tmp_path / "inc" / "best.yaml")
    assert best.provenance is not None and best.provenance.trial == records.best_trial(run.study).number


def test_trials_csv_text_is_what_pandas_writes() -> None:
    """Rows written in one call, NaN blanked only where a cell is NaN, strings holding "nan" kept."""
    from swarmdesign.outputs import _csv_text

    columns = ["trial", "quality", "note", "param.model"]
    rows = [
        {"trial": 0, "quality": 0.5, "note": "finance", "param.model": "nan-7b"},
        {"trial": 1, "quality": float("nan"), "note": None, "param.model": "a, b"},
        {"trial": 2, "quality": 1e-300, "note": "nan", "param.model": "x"},
        {"trial": 3, "quality": 0.25},  # missing cells
    ]
    for header in (True, False):
        expected = pd.DataFrame(rows, columns=columns).to_csv(index=False, header=header)
        assert _csv_text(columns, rows, header=header) == expected
    clean = rows[:1]
    assert _csv_text(columns, clean, header=False) == pd.DataFrame(clean).to_csv(index=False, header=False)


def test_trials_csv_text_is_what_the_csv_module_writes() -> None:
    """Column by column, every kind of cell comes out as ``csv.writer`` writes it (NaN and missing blank)."""
    import csv
    import io
    import math
    import random

    import numpy as np

    from swarmdesign.outputs import _csv_text

    def reference(columns: list[str], rows: list[dict], header: bool) -> str:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        if header:
            writer.writerow(columns)
        for row in rows:
            cells = [row.get(c) for c in columns]
            writer.writerow(["" if isinstance(v, float) and math.isnan(v) else v for v in cells])
        return buf.getvalue()

    rng = random.Random(3)
    cells = [
        0.5,
        1e-5,
        3e17,
        -0.0,
        math.nan,
        math.inf,
        7,
        True,
        None,
        "nan",
        "a,b",
        'q"x',
        "",
        " s",
        "x\ny",
        "x\rz",
        np.float64(0.25),
        np.float64(math.nan),
        np.int64(4),
        [1, 2],
        "é",
    ]
    for case in range(2_000):
        columns = rng.choice([["a"], ["a", "b"], ["a", "b", "c", "d"], ["x,y", 'h"q', "c"]])
        rows = []
        for _ in range(rng.randint(0, 5)):
            if case % 3 == 0:  # columns of floats only, as a run's metrics are
                rows.append({c: rng.choice([rng.random() * 10.0 ** rng.randint(-8, 18), math.nan]) for c in columns})
            else:
                rows.append({c: rng.choice(cells) for c in columns if rng.random() > 0.15})
        for header in (True, False):
            assert _csv_text(columns, rows, header=header) == reference(columns, rows, header), rows


def test_value_kinds_are_the_same_whatever_the_rows_key_order() -> None:
    """The fast same-keys transposition and the per-key path fold to the same kinds."""
    from swarmdesign.table_cache import fold_kinds

    rows = [{"a": 1, "b": "x", "c": None}, {"a": 2.5, "b": "", "c": None}, {"a": 3, "b": "y", "c": 1.0}]
    shuffled = [dict(reversed(list(r.items()))) for r in rows]
    shuffled[1] = {"b": "", "a": 2.5}  # a missing cell: the same as None
    same, mixed = {}, {}
    fold_kinds(same, rows)
    fold_kinds(mixed, shuffled)
    assert same == mixed
    assert same["b"] == "mixed" and same["c"] is not None


def test_a_new_column_rewrites_trials_csv_whole(tmp_path: Path) -> None:
    run = Run.create(_settings(tmp_path, "col", optimizer="random", budget=8, batch_size=8))
    run.execute()
    trial = run.study.ask()
    trial.set_user_attr("note", "added later")
    trial.set_user_attr("fail_reason", "a trial another tool added")
    run.study.tell(trial, state=optuna.trial.TrialState.FAIL)
    run.store.flush()
    run.write_outputs()
    frame = pd.read_csv(tmp_path / "col" / "trials.csv")
    assert len(frame) == 9 and frame["note"].iloc[-1] == "added later" and frame["note"].iloc[:8].isna().all()


def test_non_finite_diagnostics_are_dropped_but_objectives_fail() -> None:
    import numpy as np

    from swarmdesign.runner import frame_rows

    frame = pd.DataFrame(
        {"quality": [0.5, np.nan], "score": [0.4, 0.3], "diag": [np.nan, 1.0], "ok": [True, False], "kind": ["a", "b"]}
    )
    rows = frame_rows(frame, {"quality", "score"})
    assert rows[0] == {"quality": 0.5, "score": 0.4, "ok": True, "kind": "a"}
    assert rows[1] == "non-finite metric(s): quality"
    assert all(type(v) in (float, bool, str) for v in rows[0].values())


def test_workers_keep_cheap_batches_in_process_and_say_so(tmp_path: Path) -> None:
    from swarmdesign.parallel import batch_executor, usable_cores

    run = Run.create(_settings(tmp_path, "cheap", optimizer="psoga", budget=48, batch_size=16))
    said: list[str] = []
    with batch_executor(run, workers=usable_cores() + 1, log=said.append) as pool:
        summary = run.execute(batch_executor=pool)
        assert pool.pool_batches == 0 and pool.worker_pids == []  # the simulator is cheaper than shipping batches
    assert summary.finished == 48
    assert said[0].startswith("warning: --workers") and "CPU cores" in said[0]
    assert sum("evaluated here" in m for m in said) == 1  # said once, not every batch


def test_resume_continues_trials_csv_without_rewriting_it(tmp_path: Path) -> None:
    Run.create(_settings(tmp_path, "cont", optimizer="psoga", budget=32, batch_size=16)).execute()
    path = tmp_path / "cont" / "trials.csv"
    head, inode = path.read_bytes(), path.stat().st_ino
    run = Run.open(tmp_path / "cont")
    run.execute(budget=48)
    assert path.read_bytes().startswith(head) and path.stat().st_ino == inode  # appended to, not replaced
    written = pd.read_csv(path)
    full = pd.read_csv(__import__("io").StringIO(records.trials_frame(run.study).to_csv(index=False)))
    pd.testing.assert_frame_equal(written, full)


def test_trials_csv_is_written_a_chunk_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Many new trials at one refresh are turned into text a few at a time: same file, same column kinds.

    Chunks of 3: the first write (a whole file), appends of several chunks, and an append whose later
    chunk brings a new column (the file is then rewritten whole) all give what the whole study gives.
    """
    import swarmdesign.outputs as outputs
    from swarmdesign.table_cache import stamp_kinds

    kinds = {}
    for chunk in (outputs.CSV_CHUNK, 3):
        monkeypatch.setattr(outputs, "CSV_CHUNK", chunk)
        run = Run.create(_settings(tmp_path, f"c{chunk}", optimizer="psoga", budget=40, batch_size=16))
        run.execute(budget=16)
        run.execute(budget=40)
        for i in range(5):  # trials another tool added, the last with a column the file lacks
            trial = run.study.ask()
            if i == 4:
                trial.set_user_attr("note", "added later")
            run.study.tell(trial, state=optuna.trial.TrialState.FAIL)
        run.store.flush()
        run.write_outputs()
        path = tmp_path / f"c{chunk}" / "trials.csv"
        written = pd.read_csv(path)
        full = pd.read_csv(__import__("io").StringIO(records.trials_frame(run.study).to_csv(index=False)))
        pd.testing.assert_frame_equal(written, full)
        assert len(written) == 45 and written["note"].iloc[-1] == "added later"
        kinds[chunk] = stamp_kinds(tmp_path / f"c{chunk}", path.stat().st_size)
    assert kinds[3] is not None and kinds[3] == kinds[outputs.CSV_CHUNK]


def test_trials_csv_is_refreshed_every_so_many_trials_whatever_the_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The time rule alone let the gap between refreshes grow without end on a fast run (each refresh
    costs more than a tenth of the trials it writes); the trials not yet written hold the most memory."""
    from swarmdesign import runner

    monkeypatch.setattr(runner, "OUTPUT_EVERY_S", 1e9)  # the time rule never fires
    monkeypatch.setattr(runner, "OUTPUT_MAX_TRIALS", 32)
    run = Run.create(_settings(tmp_path, "r", optimizer="psoga", budget=128, seed=3, batch_size=16))
    seen: list[tuple[int, int]] = []

    def rows_now(finished: int, _budget: int, _best: float | None) -> None:
        path = tmp_path / "r" / "trials.csv"
        seen.append((finished, len(pd.read_csv(path)) if path.exists() else 0))

    run.execute(on_batch=rows_now)
    assert [f for f, _ in seen] == list(range(16, 129, 16))
    assert all(f - 32 < rows <= f for f, rows in seen[:-1]), seen  # never more than 32 trials behind
