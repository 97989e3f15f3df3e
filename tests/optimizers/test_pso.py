"""pso: pyswarms backend, topologies, clamping, isolation of pyswarms' global side effects."""

from __future__ import annotations

import logging
import random
from pathlib import Path

import numpy as np
import optuna
import pytest
from helpers_optimizers import bound, distance_objective, drive, load_space

from swarmdesign.errors import SwarmdesignError
from swarmdesign.optimizers import make_optimizer
from swarmdesign.optimizers._pyswarms import lattice_neighbours

optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.mark.parametrize("topology", ["star", "ring", "vonneumann"])
def test_every_topology_runs_on_a_29_dimensional_space_and_improves(topology: str) -> None:
    space = load_space("software_team")
    target = np.random.default_rng(0).random(space.dim)
    opt = bound("pso", space, topology=topology, population=12)
    study = drive(opt, space, distance_objective(space, target), 12 * 8)
    values = [t.value for t in study.trials]
    assert max(values[12:]) > max(values[:12])  # later generations beat generation 0
    assert opt.swarm is not None
    assert (np.abs(opt.swarm.swarm.velocity) <= 0.5 + 1e-12).all()  # clamped
    assert ((opt.swarm.swarm.position >= 0) & (opt.swarm.swarm.position <= 1)).all()


def test_pyswarms_global_side_effects_are_contained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    np.random.seed(99)
    random.seed(99)
    expected_np, expected_py = np.random.random(), random.random()
    np.random.seed(99)
    random.seed(99)
    for name in ("pso", "psoga"):
        space = load_space("qa_ensemble")
        drive(bound(name, space), space, distance_objective(space, np.full(space.dim, 0.3)), 40)
    assert np.random.random() == expected_np
    assert random.random() == expected_py
    assert not (tmp_path / "report.log").exists()
    assert root.handlers == handlers and root.level == level


def test_lattice_neighbours_form_a_torus() -> None:
    nb = lattice_neighbours(20)  # 4 x 5
    assert nb.shape == (20, 5)
    assert (nb[:, 0] == np.arange(20)).all()
    for i in range(20):  # neighbourhood is symmetric
        for j in nb[i, 1:]:
            assert i in nb[j]
    assert lattice_neighbours(7).shape == (7, 5)  # a prime count is a ring


@pytest.mark.parametrize(
    "params",
    [{"topology": "pyramid"}, {"w": -1}, {"max_velocity": 0}, {"boundary": "bounce"}, {"p": 3}, {"population": 1}],
)
def test_bad_parameters_are_user_errors(params: dict[str, object]) -> None:
    with pytest.raises(SwarmdesignError):
        make_optimizer("pso", **params)


def test_pso_is_single_objective_so_the_runner_gives_it_the_score() -> None:
    assert make_optimizer("pso").multi_objective is False
    assert make_optimizer("pso").population_based is True
