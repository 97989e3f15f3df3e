"""A resume from a fresh ``trials.csv`` never replays the study, and writes what a replaying resume writes.

Each run is copied twice: one copy keeps its stamp (the resume starts from
the table, :mod:`swarmdesign.table_trials`), the other loses it (the resume
replays the journal through Optuna, as before). Both then search 16 more
trials and run every recommendation stage; Optuna must read the same trials
and the same recommendation back from both journals, and the derived files
must agree.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import optuna
import pandas as pd
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from swarmdesign.commands._common import check_run_matches_study
from swarmdesign.errors import SwarmdesignError
from swarmdesign.fitness import Scenario
from swarmdesign.recommend import cli as rec_cli
from swarmdesign.resources import resolve
from swarmdesign.runner import Run, RunSettings
from swarmdesign.space import SearchSpace
from swarmdesign.storage import CONFIG_NAME, JOURNAL_NAME, TRIALS_NAME
from swarmdesign.table_cache import STAMP_NAME
from swarmdesign.table_trials import PLACEHOLDER_START


def _searched(out: Path, optimizer: str, *, budget: int = 48, fitness: str = "software_project") -> Path:
    """A run whose search finished and whose recommendation stages have not run yet (killed before them)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    settings = RunSettings(
        space=SearchSpace.load(resolve("software_team", "search_spaces", option="space")),
        scenario=Scenario.load(resolve(fitness, "fitness", option="fitness")),
        optimizer=optimizer,
        budget=budget,
        seed=5,
        name="r",
        out=out,
    )
    run = Run.create(settings)
    opts = rec_cli.options(recommend=True, top=3, seeds=2, trim_tolerance=None, robustness=2)
    rec_cli.bind(run, opts, explicit=True)
    run.execute()
    return out / "r"


def _resume(run_dir: Path, extra: int) -> Run:
    """What ``swarmdesign resume --budget B+extra`` does, in this process."""
    run = Run.open(run_dir)
    check_run_matches_study(run)
    run.execute(budget=run.budget + extra)
    rec_cli.after_search(run, quiet=True)
    return run


def _study(run_dir: Path) -> optuna.Study:
    storage = JournalStorage(JournalFileBackend(str(run_dir / JOURNAL_NAME)))
    return optuna.load_study(study_name="r", storage=storage)


def _attrs(attrs: dict) -> str:
    """User attributes as comparable text: the wall time a trial took is the one thing that may differ."""
    kept = {k: v for k, v in attrs.items() if k != "eval_seconds"}
    return json.dumps(kept, sort_keys=True, default=str)


def _same_journals(ours: Path, theirs: Path) -> None:
    a, b = _study(ours), _study(theirs)
    ta, tb = a.get_trials(deepcopy=False), b.get_trials(deepcopy=False)
    assert len(ta) == len(tb)
    for x, y in zip(ta, tb, strict=True):
        assert (x.number, x.state, x.params, x.values) == (y.number, y.state, y.params, y.values), x.number
        assert x.distributions == y.distributions, x.number
        assert _attrs(x.user_attrs) == _attrs(y.user_attrs), x.number
    assert json.dumps(a.user_attrs, sort_keys=True) == json.dumps(b.user_attrs, sort_keys=True)


def _same_outputs(ours: Path, theirs: Path) -> None:
    fa, fb = pd.read_csv(ours / TRIALS_NAME), pd.read_csv(theirs / TRIALS_NAME)
    pd.testing.assert_frame_equal(fa.drop(columns="duration_s"), fb.drop(columns="duration_s"))
    sa, sb = json.loads((ours / STAMP_NAME).read_text()), json.loads((theirs / STAMP_NAME).read_text())
    for key in ("trials", "kinds", "fill", "uncounted", "best_trial", "pareto", "recommendation"):
        assert sa[key] == sb[key], key
    assert (ours / "best.yaml").read_text() == (theirs / "best.yaml").read_text()


@pytest.mark.parametrize("optimizer", ["random", "pso"])
def test_a_resume_from_the_table_writes_what_a_replaying_one_writes(tmp_path: Path, optimizer: str) -> None:
    made = _searched(tmp_path / "made", optimizer)
    assert (made / STAMP_NAME).exists()
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    shutil.copytree(made, ours)
    shutil.copytree(made, theirs)
    (theirs / STAMP_NAME).unlink()

    fast = _resume(ours, 16)
    assert not fast.study_opened  # search, every recommendation stage and the outputs, without Optuna's replay
    slow = _resume(theirs, 16)
    assert slow.study_opened

    rec = fast.trials.recommendation()
    assert rec is not None and "robustness" in rec
    assert any(not t.params for t in fast.trials.trials())  # a baseline outside the space was written too
    _same_journals(ours, theirs)
    _same_outputs(ours, theirs)


def test_rebuilt_trials_equal_the_replayed_ones(tmp_path: Path) -> None:
    """Every field a rebuilt trial holds is the replayed trial's (the timestamps only by their difference)."""
    made = _searched(tmp_path / "made", "random", fitness="math_qa")
    _resume(made, 0)  # the recommendation stages add trials without parameters and list-valued attributes
    run = Run.open(made)
    rebuilt = run.trials.trials()
    assert not run.study_opened
    replayed = _study(made).get_trials(deepcopy=False)
    assert len(rebuilt) == len(replayed) > 48
    for x, y in zip(rebuilt, replayed, strict=True):
        assert (x.number, x.state, x.params, x.values) == (y.number, y.state, y.params, y.values)
        assert [type(v) for v in x.params.values()] == [type(v) for v in y.params.values()]
        assert x.distributions == y.distributions
        assert x.user_attrs["design"] == y.user_attrs["design"]  # read from the trial's own journal line
        assert _attrs(dict(x.user_attrs)) == _attrs(y.user_attrs)
        assert x.datetime_start == PLACEHOLDER_START
        took = (y.datetime_complete - y.datetime_start).total_seconds()
        assert math.isclose((x.datetime_complete - x.datetime_start).total_seconds(), took, abs_tol=1e-6)
    assert not run.study_opened


def test_a_trial_written_over_several_lines_is_read_from_optunas_replay(tmp_path: Path) -> None:
    made = _searched(tmp_path / "made", "random", budget=16)
    study = _study(made)
    design = json.loads(study.trials[0].user_attrs["design"])
    design["name"] = "written after the trial was created"
    trial = study.ask(SearchSpace.load(resolve("software_team", "search_spaces", option="space")).distributions())
    trial.set_user_attr("design", json.dumps(design))
    study.tell(trial, state=TrialState.FAIL)
    Run.open(made).write_outputs()  # the study changed: this open replays it, and stamps the table again
    assert (made / STAMP_NAME).exists()

    run = Run.open(made)
    trials = run.trials.trials()
    assert len(trials) == 17 and not run.study_opened
    assert trials[3].user_attrs["design"].startswith("{")
    assert not run.study_opened  # a trial recorded whole is read from its own line
    assert json.loads(trials[16].user_attrs["design"]) == design
    assert run.study_opened  # that one needed Optuna's replay of its several lines


def test_an_edited_space_is_still_refused(tmp_path: Path) -> None:
    made = _searched(tmp_path / "made", "random", budget=16)
    config = (made / CONFIG_NAME).read_text()
    (made / CONFIG_NAME).write_text(config.replace("max: 3", "max: 4", 1))
    assert (made / CONFIG_NAME).read_text() != config
    run = Run.open(made)
    with pytest.raises(SwarmdesignError, match="has another range"):
        check_run_matches_study(run)


@pytest.mark.parametrize("gaps", [0, 3, 64, 70])
def test_rows_are_grouped_by_which_cells_they_have(gaps: int) -> None:
    """Each row's pattern of present cells, packed into one integer (or whole rows past 64 gappy columns),
    and each row rebuilt from its pattern holds exactly its present cells, in column order."""
    import numpy as np

    from swarmdesign.table_attrs import AttrColumns, RowView
    from swarmdesign.table_attrs import presence_patterns as _patterns

    rng = np.random.default_rng(gaps)
    n, full = 500, 5
    mask = np.ones((n, full + gaps), dtype=bool)
    mask[:, full:] = rng.random((n, gaps)) < 0.9
    patterns, inverse = _patterns(mask)
    assert (patterns[inverse] == mask).all()
    assert len(patterns) == len({row.tobytes() for row in mask})
    names = [f"c{j}" for j in range(mask.shape[1])]
    data = {c: [(i, j) for i in range(n)] for j, c in enumerate(names)}
    columns = AttrColumns.of_lists(names, data, {c: mask[:, j] for j, c in enumerate(names)}, n)
    for i in rng.integers(0, n, 50).tolist():
        assert RowView(columns, i) == {c: (i, j) for j, c in enumerate(names) if mask[i, j]}
        assert list(RowView(columns, i)) == [c for j, c in enumerate(names) if mask[i, j]]
