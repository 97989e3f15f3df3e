"""``pso``: a particle swarm on the search space's unit box, on the pyswarms backend.

Every design is a point of ``[0, 1]^d`` (integers and categories occupy
equal bins of their dimension, see :mod:`swarmdesign.space`), so one swarm
serves every space. Each generation is one pyswarms step:

* ``compute_pbest`` and the topology's ``compute_gbest`` record the losses,
* ``compute_velocity`` (inertia ``w``, cognitive ``c1``, social ``c2``,
  velocity clamped to ``±max_velocity``) and ``compute_position`` (boundary
  handling, ``reflective`` by default) move the particles.

Neighbourhoods (``topology``): ``star`` (global best), ``ring`` (the ``k``
nearest particles in the box, Minkowski ``p``-norm; pyswarms' dynamic ring)
and ``vonneumann`` (a fixed lattice, see :mod:`._pyswarms`). pyswarms'
``Pyramid`` and ``Random`` are not offered: they break on numpy 2.

The swarm optimises one number: the scenario's declared ``score`` (the runner
gives single-objective optimizers a ``score`` study), or the one objective.

Determinism and resume: generation ``g``'s positions depend only on the seed
and the losses of generations before ``g``. Velocities and personal and
neighbourhood bests are rebuilt by replaying those generations from the
study (:class:`PopulationOptimizer`), never kept elsewhere; pyswarms' draws
from the global ``np.random`` are seeded from the generation's own generator
and the global state is restored afterwards.

Defaults: ``w = 0.7298``, ``c1 = c2 = 1.49618`` are Clerc and Kennedy's (2002)
constriction coefficients, the standard convergent setting.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from swarmdesign.optimizers._genes import latin_hypercube
from swarmdesign.optimizers._pyswarms import BOUNDARY_STRATEGIES, TOPOLOGIES, VELOCITY_STRATEGIES, ParticleSwarm
from swarmdesign.optimizers._pyswarms import state_classes as swarm_state_classes
from swarmdesign.optimizers.base import PopulationOptimizer

#: Hyperparameters :func:`swarm_settings` checks; optimizers pass them on from ``self.hyperparameters``.
SWARM_KEYS: tuple[str, ...] = ("w", "c1", "c2", "topology", "k", "p", "max_velocity", "boundary", "velocity_strategy")


def swarm_settings(
    *,
    w: float,
    c1: float,
    c2: float,
    topology: str,
    k: int,
    p: int,
    max_velocity: float,
    boundary: str,
    velocity_strategy: str,
) -> dict[str, Any]:
    """Validated swarm hyperparameters (``ValueError`` names the bad one), as :class:`ParticleSwarm` keywords."""
    if topology not in TOPOLOGIES:
        raise ValueError(f"topology must be one of {list(TOPOLOGIES)}, got {topology!r}")
    if boundary not in BOUNDARY_STRATEGIES:
        raise ValueError(f"boundary must be one of {list(BOUNDARY_STRATEGIES)}, got {boundary!r}")
    if velocity_strategy not in VELOCITY_STRATEGIES:
        raise ValueError(f"velocity_strategy must be one of {list(VELOCITY_STRATEGIES)}, got {velocity_strategy!r}")
    for key, value in (("w", w), ("c1", c1), ("c2", c2)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 4.0:
            raise ValueError(f"{key} must be a number in [0, 4], got {value!r}")
    if isinstance(max_velocity, bool) or not isinstance(max_velocity, int | float) or not 0.0 < max_velocity <= 1.0:
        raise ValueError(f"max_velocity must be in (0, 1] (a share of the box), got {max_velocity!r}")
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    if p not in (1, 2):
        raise ValueError(f"p must be 1 or 2, got {p!r}")
    return {
        "options": {"w": float(w), "c1": float(c1), "c2": float(c2)},
        "topology": topology,
        "k": int(k),
        "p": int(p),
        "max_velocity": float(max_velocity),
        "boundary": boundary,
        "velocity_strategy": velocity_strategy,
    }


class ParticleSwarmOptimizer(PopulationOptimizer):
    """Particle swarm optimisation on the encoded box; see the module docstring.

    Args:
        population: Particles per generation.
        w, c1, c2: Inertia, cognitive and social coefficients.
        topology: ``star``, ``ring`` or ``vonneumann``.
        k, p: Ring neighbours (the particle included) and Minkowski norm.
        max_velocity: Velocity clamp per dimension, as a share of the box.
        boundary: pyswarms boundary strategy for particles leaving the box.
        velocity_strategy: pyswarms velocity strategy (clamping always applies).
    """

    name = "pso"
    scales_with_budget = True
    multi_objective = False

    def __init__(
        self,
        population: int = 20,
        w: float = 0.7298,
        c1: float = 1.49618,
        c2: float = 1.49618,
        topology: str = "star",
        k: int = 3,
        p: int = 2,
        max_velocity: float = 0.5,
        boundary: str = "reflective",
        velocity_strategy: str = "unmodified",
    ) -> None:
        super().__init__(
            population=population,
            w=w,
            c1=c1,
            c2=c2,
            topology=topology,
            k=k,
            p=p,
            max_velocity=max_velocity,
            boundary=boundary,
            velocity_strategy=velocity_strategy,
        )
        self._settings = swarm_settings(**{k: self.hyperparameters[k] for k in SWARM_KEYS})
        self.swarm: ParticleSwarm | None = None

    def _state_classes(self) -> dict[str, type]:
        return {**super()._state_classes(), **swarm_state_classes()}

    def _start(self, rng: np.random.Generator) -> np.ndarray:
        assert self.space is not None
        positions = latin_hypercube(rng, self.population, self.space.dim)
        self.swarm = ParticleSwarm(self.population, self.space.dim, init_pos=positions, rng=rng, **self._settings)
        return positions

    def _advance(self, rng: np.random.Generator, positions: np.ndarray, losses: np.ndarray) -> np.ndarray:
        assert self.swarm is not None
        self.swarm.observe(positions, losses)
        return self.swarm.move(rng)


OPTIMIZERS = [ParticleSwarmOptimizer]
