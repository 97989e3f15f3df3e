"""psoga: the replacement rule (stagnating, worst, duplicate particles) and its guarantees."""

from __future__ import annotations

import math

import numpy as np
import optuna
from helpers_optimizers import bound, distance_objective, drive, load_space

from swarmdesign.optimizers import _deap

optuna.logging.set_verbosity(optuna.logging.WARNING)


def test_worst_particles_become_offspring_with_zero_velocity_and_kept_personal_bests() -> None:
    space = load_space("bench_small")
    opt = bound("psoga", space, population=10, replace=0.3)
    rng = np.random.default_rng(0)
    positions = opt._start(rng)  # noqa: SLF001
    losses = np.arange(10, dtype=float)  # particle 9 is the worst
    opt._advance(np.random.default_rng(1), positions, losses)  # noqa: SLF001
    pbest_before = opt.swarm.swarm.pbest_pos.copy()
    nxt = opt._advance(np.random.default_rng(2), positions.copy(), losses + 1.0)  # noqa: SLF001
    worst = np.argsort(-(losses + 1.0), kind="stable")[: math.ceil(0.3 * 10)]
    for i in worst:
        assert np.allclose(opt.swarm.swarm.velocity[i], 0.0)
        assert np.allclose(opt.swarm.swarm.pbest_pos[i], pbest_before[i])  # personal best kept
        assert np.allclose(nxt[i], opt._layout.snap_point(nxt[i]))  # noqa: SLF001 - a genetic child sits on bin centres


def test_stagnating_particles_are_replaced() -> None:
    space = load_space("qa_ensemble")
    opt = bound("psoga", space, population=8, replace=0.0, patience=2, dedupe=False)
    positions = opt._start(np.random.default_rng(0))  # noqa: SLF001
    losses = np.linspace(0, 1, 8)
    for g in range(1, 4):  # the same losses again and again: nobody improves
        positions = opt._advance(np.random.default_rng(g), positions, losses)  # noqa: SLF001
    assert (opt._stagnation < 2).all()  # noqa: SLF001 - everyone who reached patience was reset


def test_no_design_is_proposed_twice() -> None:
    space = load_space("bench_small")
    opt = bound("psoga", space)
    study = drive(opt, space, distance_objective(space, np.full(space.dim, 0.6)), 320, batch=16)
    designs = [opt._keys(space.params_to_vector(t.params)) for t in study.trials]  # noqa: SLF001
    assert len(set(designs)) == len(designs)


def test_beats_plain_pso_on_a_mixed_space() -> None:
    space = load_space("software_team")
    target = np.random.default_rng(5).random(space.dim)
    objective = distance_objective(space, target)
    best = {}
    for name in ("pso", "psoga"):
        runs = [drive(bound(name, space, seed=s), space, objective, 320, batch=16) for s in range(3)]
        best[name] = np.median([max(t.value for t in st.trials) for st in runs])
    assert best["psoga"] > best["pso"]


def test_several_objectives_with_constraints() -> None:
    space = load_space("qa_ensemble")
    opt = bound("psoga", space, directions=("minimize", "minimize"))
    a, b = np.full(space.dim, 0.2), np.full(space.dim, 0.8)

    def two(params: dict[str, object]) -> list[float]:
        x = space.params_to_vector(params)
        return [float(np.abs(x - a).sum()), float(np.abs(x - b).sum())]

    def violation(params: dict[str, object]) -> float:
        return max(0.0, float(space.params_to_vector(params)[0]) - 0.7)

    study = drive(opt, space, two, 96, directions=("minimize", "minimize"), violation=violation)
    assert len(study.trials) == 96
    fit = _deap.finite_losses(opt._pbest_loss, opt._pbest_viol)  # noqa: SLF001
    assert np.isfinite(fit).all()
