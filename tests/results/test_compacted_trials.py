"""Trials whose user attributes are held as columns read and write exactly what plain dicts do.

A run compacts its trials once :data:`swarmdesign.run_trials.COMPACT_EVERY`
of them are in ``trials.csv`` (:mod:`swarmdesign.table_attrs`); here the
threshold is lowered so that a short run compacts, and the same run with
plain dicts must write the same files, record the same journal (the
recommendation stages read their candidates' designs back from it) and
resume the same way.
"""

from __future__ import annotations

import copy
import json
import math
import pickle
import shutil
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

from swarmdesign import run_trials
from swarmdesign.fitness import Scenario
from swarmdesign.journal_format import CREATE_TRIAL
from swarmdesign.recommend import cli as rec_cli
from swarmdesign.resources import resolve
from swarmdesign.runner import Run, RunSettings
from swarmdesign.space import SearchSpace
from swarmdesign.storage import JOURNAL_NAME, TRIALS_NAME
from swarmdesign.table_attrs import AttrColumns, JournalAttrs, RowView
from swarmdesign.table_cache import STAMP_NAME


def _run(out: Path, *, budget: int) -> tuple[Path, int]:
    """A ``psoga`` run with every recommendation stage; returns its folder and how many trials were compacted."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    settings = RunSettings(
        space=SearchSpace.load(resolve("software_team", "search_spaces", option="space")),
        scenario=Scenario.load(resolve("software_project", "fitness", option="fitness")),
        optimizer="psoga",
        budget=budget,
        seed=7,
        name="r",
        out=out,
    )
    run = Run.create(settings)
    rec_cli.bind(run, rec_cli.options(recommend=True, top=3, seeds=2, trim_tolerance=None, robustness=2), explicit=True)
    run.execute()
    trials = run.trials.trials()
    compacted = sum(isinstance(t.user_attrs, JournalAttrs) for t in trials)
    assert compacted == sum(isinstance(t.params, RowView) for t in trials)  # parameters compacted with them
    rec_cli.after_search(run, quiet=True)
    return out / "r", compacted


def _resume(run_dir: Path, extra: int) -> None:
    run = Run.open(run_dir)
    run.execute(budget=run.budget + extra)
    rec_cli.after_search(run, quiet=True)


def _journal(run_dir: Path) -> list[tuple]:
    study = optuna.load_study(study_name="r", storage=JournalStorage(JournalFileBackend(str(run_dir / JOURNAL_NAME))))
    return [
        (t.number, t.state, t.params, t.values, json.dumps(t.user_attrs | {"eval_seconds": 0}, sort_keys=True))
        for t in study.get_trials(deepcopy=False)
    ] + [json.dumps(study.user_attrs, sort_keys=True)]


def _same(a: Path, b: Path) -> None:
    fa, fb = pd.read_csv(a / TRIALS_NAME), pd.read_csv(b / TRIALS_NAME)
    pd.testing.assert_frame_equal(fa.drop(columns="duration_s"), fb.drop(columns="duration_s"))
    assert (a / "best.yaml").read_text() == (b / "best.yaml").read_text()
    assert sorted(p.name for p in (a / "pareto").iterdir()) == sorted(p.name for p in (b / "pareto").iterdir())
    sa, sb = json.loads((a / STAMP_NAME).read_text()), json.loads((b / STAMP_NAME).read_text())
    for key in ("trials", "kinds", "fill", "uncounted", "best_trial", "pareto", "recommendation"):
        assert sa[key] == sb[key], key
    assert _journal(a) == _journal(b)


def test_a_compacted_run_writes_and_resumes_as_a_plain_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plain, none = _run(tmp_path / "plain", budget=96)
    monkeypatch.setattr(run_trials, "COMPACT_EVERY", 16)
    compact, held = _run(tmp_path / "compact", budget=96)
    assert none == 0 and held >= 64  # the lowered threshold compacted most of the run
    _same(plain, compact)
    for run_dir in (plain, compact):  # a resume rebuilds from the table, then compacts its own new trials
        _resume(run_dir, 48)
    _same(plain, compact)


def _rows(rng: np.random.Generator, n: int) -> list[dict]:
    """Trial attributes of every kind a run records, some keys missing, some in another order."""
    rows = []
    for i in range(n):
        row = {
            "generation": int(rng.integers(0, 5)),
            "optimizer": "psoga",
            "design": json.dumps({"i": i}),
            "quality": float(rng.random()),
            "feasible": bool(rng.random() < 0.5),
            "big": 2**70 + i,
            "mixed": [1.0, 2, "x", None][i % 4],
            "cost": math.nan if i % 7 == 0 else float(i),
        }
        if i % 3 == 0:
            row["fail_reason"] = "boom"
            del row["quality"]
        if i % 5 == 0:
            row = dict(reversed(list(row.items())))
        rows.append(row)
    return rows


class _Journal:
    def __init__(self, rows: list[dict], first: int) -> None:
        self.rows, self.first, self.reads = rows, first, 0

    def attrs(self, number: int) -> dict:
        self.reads += 1
        return dict(self.rows[number - self.first])


def test_a_view_reads_what_its_dict_held() -> None:
    rng = np.random.default_rng(0)
    first = 1000
    rows = _rows(rng, 40)
    journal = _Journal(rows, first)
    columns = AttrColumns.of_dicts(rows, first=first, leave_out=frozenset({"design"}))
    for i, row in enumerate(rows):
        view = JournalAttrs(columns, first + i, journal)
        held = {k: v for k, v in row.items() if k != "design"}
        assert list(view) == list(held) and len(view) == len(held)  # each row's own key order
        for k, v in held.items():
            assert type(view[k]) is type(v) and (view[k] == v or (math.isnan(v) and math.isnan(view[k])))
        assert view.get("quality", "none") == held.get("quality", "none")
        assert ("quality" in view) == ("quality" in held) and "nothing" not in view
        assert journal.reads == i  # nothing so far needed the journal
        assert view["design"] == row["design"] and journal.reads == i + 1  # the design: from the journal, once
        assert view.get("design") == row["design"] and journal.reads == i + 1


def test_copies_are_plain_dicts_and_serialisers_refuse_the_view() -> None:
    rows = _rows(np.random.default_rng(1), 6)
    columns = AttrColumns.of_dicts(rows, first=0, leave_out=frozenset({"design"}))
    view = JournalAttrs(columns, 1, _Journal(rows, 0))
    for made in (copy.copy(view), copy.deepcopy(view), pickle.loads(pickle.dumps(view))):
        assert type(made) is dict and json.dumps(made) == json.dumps(rows[1])
    with pytest.raises(TypeError):  # a dict subclass would have been written as "{}"
        json.dumps(JournalAttrs(columns, 2, _Journal(rows, 0)))
    view = JournalAttrs(columns, 2, _Journal(rows, 0))
    view["quality"] = -1.0
    view["new"] = "n"
    assert view["quality"] == -1.0 and list(view)[-1] == "new"
    del view["generation"]
    assert "generation" not in view and view["optimizer"] == "psoga"
    assert view == {k: v for k, v in rows[2].items() if k not in ("design", "generation")} | {
        "quality": -1.0,
        "new": "n",
    }


def test_rebuilt_trials_keep_their_metrics_in_columns(tmp_path: Path) -> None:
    """A resume's rebuilt trials hold no dict of attributes, and read the same values as the replayed study."""
    made, _ = _run(tmp_path / "made", budget=48)
    ours = tmp_path / "ours"
    shutil.copytree(made, ours)
    run = Run.open(ours)
    rebuilt = run.trials.trials()
    assert not run.study_opened and all(isinstance(t.user_attrs, JournalAttrs) for t in rebuilt)
    replayed = optuna.load_study(
        study_name="r", storage=JournalStorage(JournalFileBackend(str(made / JOURNAL_NAME)))
    ).get_trials(deepcopy=False)
    decoded = 0
    for a, b in zip(rebuilt, replayed, strict=True):
        assert isinstance(a.params, RowView) and a.params == b.params and list(a.params) == list(b.params)
        assert [type(v) for v in a.params.values()] == [type(v) for v in b.params.values()]
        if set(b.params) == set(run.space.distributions()):  # a search trial (a stage's may hold fewer)
            assert run.space.decode_params(a.params) == run.space.decode_params(b.params), a.number
            decoded += 1
        for k, v in b.user_attrs.items():
            if k != "eval_seconds":
                assert a.user_attrs[k] == v, (a.number, k)
    assert decoded >= 48  # every search trial decodes from its view to the replayed trial's design


def test_a_journal_index_extended_as_the_journal_grows_equals_a_fresh_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lines that straddle the scan's reads, and lines appended after a scan, are indexed as one scan would."""
    from swarmdesign import journal_index
    from swarmdesign.journal_index import JournalIndex

    made, _ = _run(tmp_path / "made", budget=48)
    lines = (made / JOURNAL_NAME).read_bytes().splitlines(keepends=True)
    whole = JournalIndex.scan(made / JOURNAL_NAME)
    assert whole is not None
    assert len(whole.offsets) == sum(json.loads(line)["op_code"] == CREATE_TRIAL for line in lines) > 48
    monkeypatch.setattr(journal_index, "_CHUNK", 997)  # every line crosses a read
    grown = tmp_path / JOURNAL_NAME
    grown.write_bytes(b"".join(lines[:10]) + lines[10][:25])  # ... and the last one is torn
    index = JournalIndex.scan(grown)
    assert index is not None
    grown.write_bytes(b"".join(lines))
    assert index.extend()
    for field in ("offsets", "log_count", "size", "changed", "study_name", "directions"):
        assert getattr(index, field) == getattr(whole, field), field
    assert [index.record(i) for i in (0, len(index.offsets) - 1)] == [
        whole.record(i) for i in (0, len(whole.offsets) - 1)
    ]


def test_a_parameter_view_reads_its_row_and_copies_to_a_dict() -> None:
    """Parameters as columns: each row's keys and values with their types, read-only, copies plain dicts."""
    rows = [
        {"count.coder": 3, "model.coder": "gpt-4o", "coordination.heterogeneity": 0.25, "use.tester": True},
        {"count.coder": 2**70, "model.coder": "claude", "coordination.heterogeneity": 0.5},  # no use.tester
        {"model.coder": "gpt-4o", "count.coder": 1, "coordination.heterogeneity": -0.0, "use.tester": False},
    ]
    columns = AttrColumns.of_dicts(rows, first=10)
    for i, row in enumerate(rows):
        view = RowView(columns, 10 + i)
        assert view == row and row == view and (row != view) is False
        assert list(view) == list(row) and len(view) == len(row)
        assert [type(v) for v in view.values()] == [type(v) for v in row.values()]
        assert ("use.tester" in view) == ("use.tester" in row) and view.get("nothing", "none") == "none"
        for made in (dict(view), view.copy(), copy.copy(view), copy.deepcopy(view), pickle.loads(pickle.dumps(view))):
            assert type(made) is dict and made == row
        with pytest.raises(TypeError):
            view["count.coder"] = 4  # type: ignore[index]
    assert RowView(columns, 10) != RowView(columns, 12) and RowView(columns, 10) != {}
    with pytest.raises(KeyError):
        RowView(columns, 11)["use.tester"]


def test_parameter_columns_from_cast_lists_keep_each_cell() -> None:
    """``of_lists`` (a resume's parameters): an integer column with a gap stays integers, gaps stay absent."""
    data = {"param.n": [1, None, 3], "param.m": ["a", "b", "c"], "param.h": [0.5, 0.25, None]}
    present = {c: np.array([v is not None for v in cells]) for c, cells in data.items()}
    columns = AttrColumns.of_lists(list(data), data, present, 3, strip="param.")
    assert [dict(RowView(columns, i)) for i in range(3)] == [
        {"n": 1, "m": "a", "h": 0.5},
        {"m": "b", "h": 0.25},
        {"n": 3, "m": "c"},
    ]
    assert type(RowView(columns, 2)["n"]) is int and type(RowView(columns, 0)["h"]) is float
