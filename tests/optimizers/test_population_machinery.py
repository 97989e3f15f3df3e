"""PopulationOptimizer: incremental trial index, replay, generations finished elsewhere, ask(n)."""

from __future__ import annotations

import warnings

import numpy as np
import optuna
import pytest
from helpers_optimizers import bound, distance_objective, drive, load_space
from optuna.trial import TrialState

from swarmdesign.optimizers.base import _TrialIndex

optuna.logging.set_verbosity(optuna.logging.WARNING)


def full_scan(study: optuna.Study, name: str) -> dict[int, dict[int, int]]:
    out: dict[int, dict[int, int]] = {}
    for t in study.get_trials(deepcopy=False):
        if t.state not in (TrialState.COMPLETE, TrialState.FAIL) or t.user_attrs.get("optimizer") != name:
            continue
        if t.state == TrialState.FAIL and t.user_attrs.get("fail_reason", "abandoned") == "abandoned":
            continue
        out.setdefault(t.user_attrs["generation"], {}).setdefault(t.user_attrs["particle"], t.number)
    return out


def test_incremental_index_matches_a_full_scan_with_running_and_abandoned_trials() -> None:
    space = load_space("qa_ensemble")
    opt = bound("psoga", space, population=6)
    objective = distance_objective(space, np.full(space.dim, 0.4))
    study = optuna.create_study(direction="maximize")
    index = _TrialIndex("psoga")
    running = study.ask()  # a sampler's trial in flight, finished later
    for budget in range(4, 40, 4):
        drive(opt, space, objective, budget + 1, study=study, batch=4)
        got = {g: {p: t.number for p, t in ps.items()} for g, ps in index.update(study).items()}
        assert got == full_scan(study, "psoga")
    abandoned = study.ask()
    abandoned.set_user_attr("fail_reason", "abandoned")
    study.tell(abandoned, state=TrialState.FAIL)
    study.tell(running, 1.0)
    got = {g: {p: t.number for p, t in ps.items()} for g, ps in index.update(study).items()}
    assert got == full_scan(study, "psoga")


def test_ask_returns_at_most_n_missing_particles() -> None:
    space = load_space("qa_ensemble")
    opt = bound("ga", space, population=6)
    study = optuna.create_study(direction="maximize")
    first = opt.ask(study, 4)
    assert [p.attrs["particle"] for p in first] == [0, 1, 2, 3]
    assert [p.attrs["particle"] for p in opt.ask(study, 10)] == [0, 1, 2, 3, 4, 5]  # nothing recorded yet
    assert opt.ask(study, 0) == []


def test_a_new_object_replays_every_generation_other_processes_recorded() -> None:
    """An optimizer reads the study once (on its first ask or tell, as in a resume); later it learns from tell."""
    space = load_space("qa_ensemble")
    objective = distance_objective(space, np.full(space.dim, 0.4))
    mine, other = bound("pso", space, population=6), bound("pso", space, population=6)
    study = optuna.create_study(direction="maximize")
    drive(other, space, objective, 12, study=study, batch=6)  # generations 0 and 1, recorded by "another process"
    mine.ask(study, 6)  # syncs: replays both generations
    assert mine.generation == 2
    drive(other, space, objective, 18, study=study, batch=6)
    assert mine.generation == 2  # no per-batch rereading of the study
    late = bound("pso", space, population=6)
    proposals = late.ask(study, 6)
    assert late.generation == 3
    assert {p.attrs["generation"] for p in proposals} == {3}
    np.testing.assert_allclose(late.positions, other.positions)


def test_replay_prefers_the_recorded_designs_and_warns_when_they_differ() -> None:
    space = load_space("qa_ensemble")
    objective = distance_objective(space, np.full(space.dim, 0.4))
    study = drive(bound("ga", space, population=6, seed=1), space, objective, 12, batch=6)
    resumed = bound("ga", space, population=6, seed=2)  # another seed: its replay differs from the study
    with pytest.warns(RuntimeWarning, match="differs from its replay"):
        resumed.ask(study, 6)
    assert resumed.generation == 2


def test_replay_of_a_consistent_study_is_silent_and_exact() -> None:
    space = load_space("software_team")
    objective = distance_objective(space, np.full(space.dim, 0.4))
    whole = bound("psoga", space, population=8)
    study = drive(whole, space, objective, 44, batch=8)  # 5 generations and a half
    resumed = bound("psoga", space, population=8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        proposals = resumed.ask(study, 8)
    assert resumed.generation == whole.generation == 5
    assert [p.params for p in proposals] == [p.params for p in whole.ask(study, 8)]
