"""ga: no repeated designs, elitism, constrained NSGA-II, no DEAP creator globals."""

from __future__ import annotations

import numpy as np
import optuna
from deap import creator
from helpers_optimizers import bound, distance_objective, drive, load_space

from swarmdesign.optimizers import _deap

optuna.logging.set_verbosity(optuna.logging.WARNING)


def test_no_design_is_evaluated_twice() -> None:
    space = load_space("bench_small")
    opt = bound("ga", space)
    study = drive(opt, space, distance_objective(space, np.full(space.dim, 0.2)), 160)
    designs = [opt._keys(space.params_to_vector(t.params)) for t in study.trials]  # noqa: SLF001
    assert len(set(designs)) == len(designs)


def test_the_best_design_always_survives() -> None:
    space = load_space("qa_ensemble")
    opt = bound("ga", space, population=8)
    objective = distance_objective(space, np.full(space.dim, 0.7))
    study = optuna.create_study(direction="maximize")
    for budget in range(8, 80, 8):
        drive(opt, space, objective, budget, study=study)
        assert opt._pool is not None  # noqa: SLF001
        best_loss = -max(t.value for t in study.trials)
        assert np.isclose(opt._pool[1][:, 0].min(), best_loss)  # noqa: SLF001


def test_feasible_designs_survive_before_infeasible_ones() -> None:
    losses = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.5], [5.0, 5.0]])
    violations = np.array([3.0, 0.0, 0.0, 0.0])  # the dominating row 0 is infeasible
    keep = _deap.select_survivors(
        _deap.finite_losses(losses, violations), 2, elite=0, tournament=2, rng=np.random.default_rng(0)
    )
    assert sorted(keep.tolist()) == [1, 2]


def test_several_objectives_give_a_spread_front() -> None:
    space = load_space("qa_ensemble")
    opt = bound("ga", space, directions=("minimize", "minimize"))
    a, b = np.full(space.dim, 0.1), np.full(space.dim, 0.9)

    def two(params: dict[str, object]) -> list[float]:
        x = space.params_to_vector(params)
        return [float(np.abs(x - a).sum()), float(np.abs(x - b).sum())]

    study = drive(opt, space, two, 96, directions=("minimize", "minimize"))
    assert len(study.best_trials) >= 4


def test_deap_creator_is_never_touched() -> None:
    before = set(vars(creator))
    space = load_space("qa_ensemble")
    drive(bound("ga", space), space, distance_objective(space, np.full(space.dim, 0.5)), 32)
    assert set(vars(creator)) == before
