"""The pyswarms backend, made safe to call from a library.

Three things about pyswarms 1.3 need care:

* **Logging side effects.** Every pyswarms object (and the package import)
  builds a ``Reporter`` that calls ``logging.config.dictConfig``: it adds an
  INFO handler on stderr to the *root* logger and creates ``report.log`` in
  the current directory. :func:`quiet` suspends ``dictConfig`` while pyswarms
  is imported and its objects are built, so a user's logging and working
  directory are left alone.
* **Global randomness.** ``create_swarm`` and ``compute_velocity`` draw from
  the legacy global ``np.random``. :func:`numpy_global_from` seeds it from
  the caller's generator for the block and restores its previous state, so a
  swarm step is a function of its generator alone.
* **Topologies.** ``Pyramid`` and ``Random`` build ragged arrays that numpy 2
  rejects; they are not offered. pyswarms' ``VonNeumann`` is a k-nearest
  neighbourhood whose k (a Delannoy number, 2d+1 for range 1) exceeds the
  swarm in the 10-30 dimensions of a design space and then fails;
  :class:`LatticeVonNeumann` replaces it with the classic von Neumann lattice
  of Kennedy & Mendes (2002): particles on a 2-D torus by index, each seeing
  itself and its four neighbours.
"""

from __future__ import annotations

import logging.config
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

TOPOLOGIES = ("star", "ring", "vonneumann")
BOUNDARY_STRATEGIES = ("reflective", "nearest", "periodic", "shrink", "intermediate", "random")
VELOCITY_STRATEGIES = ("unmodified", "invert", "zero", "adjust")


@contextmanager
def quiet() -> Iterator[None]:
    """Suspend ``logging.config.dictConfig`` while pyswarms imports or builds objects."""
    original = logging.config.dictConfig
    logging.config.dictConfig = _ignore_config  # type: ignore[assignment]
    try:
        yield
    finally:
        logging.config.dictConfig = original  # type: ignore[assignment]


def _ignore_config(config: Any) -> None:
    return None


@contextmanager
def numpy_global_from(rng: np.random.Generator) -> Iterator[None]:
    """Seed the legacy global ``np.random`` from ``rng`` for the block, then restore it."""
    saved = np.random.get_state()
    np.random.seed(int(rng.integers(2**32)))
    try:
        yield
    finally:
        np.random.set_state(saved)


def backend() -> Any:
    """``pyswarms.backend`` (imported quietly, on first use: it costs ~0.4 s)."""
    with quiet():
        import pyswarms.backend as ps_backend
        import pyswarms.backend.topology  # noqa: F401 - the topologies used below

    return ps_backend


def state_classes() -> dict[str, type]:
    """The classes of a :class:`ParticleSwarm`'s state, for a saved optimizer state (:mod:`._state`)."""
    backend()
    from pyswarms.backend.swarms import Swarm

    return {"ParticleSwarm": ParticleSwarm, "Swarm": Swarm}


#: ParticleSwarm attributes that are pyswarms objects with a reporter (they hold an open stream).
_HANDLER_ATTRS = ("topology", "bh", "vh")
#: Their attributes rebuilt rather than pickled: the reporter, and method tables bound to the object.
_REBUILT = ("rep", "strategies")


def _handlers(*, n: int, topology: str, boundary: str, velocity_strategy: str) -> tuple[Any, Any, Any]:
    """pyswarms' topology, boundary handler and velocity handler for these settings."""
    b = backend()
    from pyswarms.backend import topology as ps_topology

    with quiet():
        if topology == "star":
            topo: Any = ps_topology.Star()
        elif topology == "ring":
            topo = ps_topology.Ring(static=False)
        elif topology == "vonneumann":
            topo = LatticeVonNeumann(n)
        else:
            raise ValueError(f"unknown topology '{topology}'; expected one of {list(TOPOLOGIES)}")
        return topo, b.BoundaryHandler(strategy=boundary), b.VelocityHandler(strategy=velocity_strategy)


class ParticleSwarm:
    """One pyswarms ``Swarm`` plus its topology and handlers, stepped by ask/tell.

    ``observe`` records a generation's losses (personal and neighbourhood
    bests, ``compute_pbest`` / ``compute_gbest``); ``move`` produces the next
    positions (``compute_velocity`` with clamping, ``compute_position`` with
    boundary handling). Every piece of state lives in this object, which the
    optimizer rebuilds by replaying the study.
    """

    def __init__(
        self,
        n: int,
        d: int,
        *,
        options: dict[str, float],
        topology: str,
        k: int,
        p: int,
        max_velocity: float,
        boundary: str,
        velocity_strategy: str,
        init_pos: np.ndarray,
        rng: np.random.Generator,
    ) -> None:
        b = backend()
        self._spec = {"n": n, "topology": topology, "boundary": boundary, "velocity_strategy": velocity_strategy}
        self.bounds = (np.zeros(d), np.ones(d))
        self.clamp = (-max_velocity, max_velocity)
        self.topology, self.bh, self.vh = _handlers(**self._spec)
        self.gbest_kwargs: dict[str, int] = {"p": p, "k": max(1, min(k, n))} if topology == "ring" else {}
        with numpy_global_from(rng):
            self.swarm = b.create_swarm(
                n, d, options=dict(options), bounds=self.bounds, init_pos=np.asarray(init_pos, float), clamp=self.clamp
            )
        self.swarm.pbest_cost = np.full(n, np.inf)
        self.swarm.best_cost = np.inf
        self._compute_pbest = b.compute_pbest

    def __getstate__(self) -> dict[str, Any]:
        """State for a saved optimizer state (or a copy): pyswarms' topology and handlers hold a reporter with an
        open stream, so they travel as their other attributes and are rebuilt around them."""
        state = self.__dict__.copy()
        for name in _HANDLER_ATTRS:
            state[name] = {k: v for k, v in vars(state[name]).items() if k not in _REBUILT}
        state.pop("_compute_pbest", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        saved = {name: state.pop(name) for name in _HANDLER_ATTRS}
        self.__dict__.update(state)
        self.topology, self.bh, self.vh = _handlers(**self._spec)
        for name, attrs in saved.items():
            vars(getattr(self, name)).update(attrs)  # memories of the handlers, a ring's neighbours
        self._compute_pbest = backend().compute_pbest

    @property
    def n(self) -> int:
        return int(self.swarm.n_particles)

    def observe(self, positions: np.ndarray, losses: np.ndarray) -> np.ndarray:
        """Record one generation; returns which particles improved their personal best, shape ``(n,)``."""
        s = self.swarm
        s.position = np.array(positions, dtype=float)
        s.current_cost = np.asarray(losses, dtype=float)
        before = s.pbest_cost.copy()
        s.pbest_pos, s.pbest_cost = self._compute_pbest(s)
        s.best_pos, s.best_cost = self.topology.compute_gbest(s, **self.gbest_kwargs)
        return s.pbest_cost < before

    def observe_pareto(self, positions: np.ndarray, take: np.ndarray, leaders: np.ndarray) -> None:
        """Several objectives: the caller decides which personal bests change (``take``, ``(n,)``) and
        each particle's leader (``leaders``, ``(n, d)``); pyswarms' scalar bests are not used."""
        s = self.swarm
        s.position = np.array(positions, dtype=float)
        s.pbest_pos = np.where(np.asarray(take)[:, None], s.position, s.pbest_pos)
        s.best_pos = np.asarray(leaders, dtype=float)

    def restart(self, i: int, position: np.ndarray) -> None:
        """Put particle ``i`` at ``position`` with zero velocity; its personal best is kept."""
        self.swarm.position[i] = position
        self.swarm.velocity[i] = 0.0

    def move(self, rng: np.random.Generator) -> np.ndarray:
        """Velocity and position update for every particle; new positions ``(n, d)`` in the box."""
        s = self.swarm
        with numpy_global_from(rng):
            s.velocity = self.topology.compute_velocity(s, self.clamp, self.vh, self.bounds)
            s.position = self.topology.compute_position(s, self.bounds, self.bh)
        return np.clip(s.position, 0.0, 1.0)

    def leader(self) -> int:
        """Index of the particle holding the best personal best (ties: lowest index)."""
        return int(np.argmin(self.swarm.pbest_cost))


def lattice_neighbours(n: int) -> np.ndarray:
    """Von Neumann neighbours of ``n`` particles on a ``rows x cols`` torus, shape ``(n, 5)``, self first.

    ``rows`` is the largest divisor of ``n`` not above its square root, so
    every cell holds a particle (a prime ``n`` gives a ring).
    """
    rows = max(r for r in range(1, math.isqrt(n) + 1) if n % r == 0)
    cols = n // rows
    out = np.empty((n, 5), dtype=int)
    for i in range(n):
        r, c = divmod(i, cols)
        cells = ((r, c), ((r - 1) % rows, c), ((r + 1) % rows, c), (r, (c - 1) % cols), (r, (c + 1) % cols))
        out[i] = [rr * cols + cc for rr, cc in cells]
    return out


class LatticeVonNeumann:
    """Static von Neumann lattice (see the module docstring), a pyswarms topology by its interface.

    Velocity and position updates are pyswarms' own operators; only the
    neighbourhood best differs from ``Ring``.
    """

    def __init__(self, n: int) -> None:
        self.neighbor_idx = lattice_neighbours(n)

    def compute_gbest(self, swarm: Any, **kwargs: Any) -> tuple[np.ndarray, float]:
        idx = self.neighbor_idx
        best = idx[np.arange(idx.shape[0]), swarm.pbest_cost[idx].argmin(axis=1)]
        return swarm.pbest_pos[best], float(np.min(swarm.pbest_cost[best]))

    def compute_velocity(self, swarm: Any, clamp: Any, vh: Any, bounds: Any) -> np.ndarray:
        return backend().compute_velocity(swarm, clamp, vh, bounds)

    def compute_position(self, swarm: Any, bounds: Any, bh: Any) -> np.ndarray:
        return backend().compute_position(swarm, bounds, bh)
