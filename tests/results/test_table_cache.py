"""load_run reads a stamped trials.csv instead of replaying the journal, only when the stamp proves it fresh."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import optuna
import pandas as pd
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

from swarmdesign import results
from swarmdesign.errors import SwarmdesignError
from swarmdesign.results import load_run
from swarmdesign.runner import Run
from swarmdesign.storage import JOURNAL_NAME, TRIALS_NAME
from swarmdesign.table_cache import STAMP_NAME


def full_replay(run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> results.RunResults:
    """The run loaded the slow way: every trial replayed from the journal."""
    with monkeypatch.context() as m:
        m.setattr(results, "fresh_table", lambda _: None)
        return load_run(run_dir)


def assert_same(fast: results.RunResults, slow: results.RunResults) -> None:
    pd.testing.assert_frame_equal(fast.trials, slow.trials)
    assert fast.summary() == slow.summary()
    assert fast.best_trial == slow.best_trial
    assert fast.recommendation == slow.recommendation
    assert fast.top(5).equals(slow.top(5))
    assert fast._stamp["pareto"] == slow.pareto.frame["trial"].tolist()  # noqa: SLF001
    # the front's designs from their journal lines, not from the replayed study
    pd.testing.assert_frame_equal(fast.pareto.frame, slow.pareto.frame)
    assert [d.to_dict() for d in fast.pareto.designs] == [d.to_dict() for d in slow.pareto.designs]


def test_a_finished_run_is_read_from_its_stamped_table(default_run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert (default_run / STAMP_NAME).exists()
    fast = load_run(default_run)
    assert fast._stamp is not None and fast._study is None  # noqa: SLF001 - the journal was not replayed
    slow = full_replay(default_run, monkeypatch)
    assert slow._stamp is None  # noqa: SLF001
    assert_same(fast, slow)
    assert fast.best.to_dict() == slow.best.to_dict()
    for n in range(0, len(slow.trials), 7):
        assert fast.design(n).to_dict() == slow.design(n).to_dict(), n
    assert fast._study is None  # noqa: SLF001 - summary, best, top, the front and designs need no replay
    with pytest.raises(SwarmdesignError, match="no trial"):
        fast.design(len(fast.trials))
    assert len(fast.study.trials) == len(fast.trials)


def test_a_recommended_run_with_list_columns_reads_back_equal(
    recommended_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = tmp_path / "rec"
    shutil.copytree(recommended_run, run_dir)
    Run.open(run_dir).write_outputs()  # the final refresh stamps the table whatever stage wrote last
    fast = load_run(run_dir)
    assert fast._stamp is not None  # noqa: SLF001
    assert fast.recommendation is not None
    assert "score_seeds" in fast.trials.columns
    assert_same(fast, full_replay(run_dir, monkeypatch))


def test_a_journal_grown_by_another_writer_is_replayed(run_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process appended a trial after the stamp: the table is not trusted, the new trial is seen."""
    before = load_run(run_copy)
    assert before._stamp is not None  # noqa: SLF001
    storage = JournalStorage(JournalFileBackend(str(run_copy / JOURNAL_NAME)))
    study = optuna.load_study(study_name=before.name, storage=storage)
    template = study.trials[0]
    study.add_trial(
        optuna.trial.create_trial(
            params=template.params,
            distributions=template.distributions,
            values=template.values,
            user_attrs={**template.user_attrs, "score": 99.0},
        )
    )
    after = load_run(run_copy)
    assert after._stamp is None  # noqa: SLF001
    assert len(after.trials) == len(before.trials) + 1
    assert after.best_trial == len(before.trials)  # the new trial's score wins
    pd.testing.assert_frame_equal(after.trials, full_replay(run_copy, monkeypatch).trials)


@pytest.mark.parametrize(
    "damage",
    [
        "torn stamp",
        "stamp of another format",
        "stamp with a wrong journal digest",
        "csv edited in place",
        "csv row removed",
        "journal rewritten to the same size",
    ],
)
def test_a_damaged_stamp_or_table_falls_back_to_the_journal(
    run_copy: Path, damage: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stamp_path, csv_path = run_copy / STAMP_NAME, run_copy / TRIALS_NAME
    stamp = json.loads(stamp_path.read_text())
    if damage == "torn stamp":
        stamp_path.write_text(stamp_path.read_text()[:-40])
    elif damage == "stamp of another format":
        stamp_path.write_text(json.dumps({**stamp, "format": 99}))
    elif damage == "stamp with a wrong journal digest":
        stamp_path.write_text(json.dumps({**stamp, "journal_tail": "0" * 40}))
    elif damage == "csv edited in place":  # same size, one score changed: only the digest can tell
        text = csv_path.read_text()
        i = text.index("\n1,") + 3
        csv_path.write_text(text[:i] + ("X" if text[i] != "X" else "Y") + text[i + 1 :])
    elif damage == "csv row removed":
        lines = csv_path.read_text().splitlines(keepends=True)
        csv_path.write_text("".join(lines[:-1]))
    else:  # a journal whose last line was changed but keeps its length (a different study)
        journal = run_copy / JOURNAL_NAME
        data = bytearray(journal.read_bytes())
        at = data.rindex(b'"score":') + len(b'"score":')
        data[at] = ord("1") if data[at] != ord("1") else ord("2")
        journal.write_bytes(bytes(data))
    res = load_run(run_copy)
    assert res._stamp is None  # noqa: SLF001 - replayed, never wrong
    pd.testing.assert_frame_equal(res.trials, full_replay(run_copy, monkeypatch).trials)


def test_a_resume_restamps_the_table(run_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    n = len(load_run(run_copy).trials)
    run = Run.open(run_copy)
    run.execute(budget=run.budget + 8)
    fast = load_run(run_copy)
    assert fast._stamp is not None and len(fast.trials) == n + 8  # noqa: SLF001
    assert_same(fast, full_replay(run_copy, monkeypatch))


def test_a_run_with_a_shared_storage_is_never_read_from_its_table(run_copy: Path) -> None:
    assert (run_copy / STAMP_NAME).exists()
    config = (run_copy / "config.yaml").read_text()
    (run_copy / "config.yaml").write_text(config.replace("storage: null", f"storage: {run_copy / JOURNAL_NAME}"))
    assert load_run(run_copy)._stamp is None  # noqa: SLF001 - a shared journal may have other writers
