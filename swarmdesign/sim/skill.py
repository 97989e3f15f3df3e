"""Skill against difficulty, and the difficulty of the workload.

Item-response theory (Rasch / two-parameter logistic model): an agent of
ability ``theta`` (logits; the model's ``skill`` plus the archetype's fit to
the work) solves an item of difficulty ``d`` in [0, 1] with probability::

    p = 1 / (1 + exp(-(theta - slope * (d - center))))

so a strong agent saturates easy work (p -> 1 as d falls) and every agent
fails on work far above its level. Difficulty is drawn per Monte-Carlo
replica from the scenario's Beta distribution, stratified so that 64
replicas already cover the distribution evenly.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def success_probability(ability: np.ndarray, difficulty: np.ndarray, slope: float, center: float) -> np.ndarray:
    """Probability that one attempt succeeds (unitless, 0..1), broadcast over the inputs' shapes.

    ``ability`` is on the logit scale, ``difficulty`` in [0, 1].
    """
    # scipy.special on first use: its ~0.2 s import is not for validating a scenario
    from scipy.special import expit

    return expit(ability - slope * (difficulty - center))


def difficulty_draws(rng: np.random.Generator, replicas: int, alpha: float, beta: float) -> np.ndarray:
    """Stratified Beta(alpha, beta) draws, shape ``(replicas,)``.

    One uniform per stratum ``[(i)/n, (i+1)/n)`` mapped through the inverse
    CDF: the same rng gives the same draws, so every design of a batch sees
    the same tasks (common random numbers).
    """
    # scipy.special on first use: its ~0.2 s import is not for validating a scenario
    from scipy.special import betaincinv

    u = (np.arange(replicas) + rng.random(replicas)) / replicas
    return np.clip(betaincinv(alpha, beta, u), 1e-6, 1 - 1e-6)


class Abilities:
    """The distinct values of a ``(D, R)`` ability array, found once for several weighted sums over it.

    :func:`weighted_success` sorts the abilities (``np.unique``) on every
    call; production weighs the same abilities three ways (ideal, routed and
    planned routing) on two difficulty grids, so it sorts once here and
    evaluates each grid's logistic table once. Every sum is the one
    :func:`weighted_success` forms.
    """

    def __init__(self, ability: np.ndarray) -> None:
        uniq, inv = np.unique(ability, return_inverse=True)
        self.uniq = uniq
        n, u = ability.shape[0], uniq.size
        self.shape = (n, u)
        self.flat = (np.arange(n)[:, None] * u + inv.reshape(ability.shape)).ravel()

    def table(
        self,
        difficulty: np.ndarray,
        slope: float,
        center: float,
        transform: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> np.ndarray:
        """``g(p(ability_u, difficulty_q))`` per distinct ability, ``(U, Q)``."""
        table = success_probability(self.uniq[:, None], difficulty[None, :], slope, center)
        return table if transform is None else transform(table)

    def weigh(self, weights: np.ndarray, table: np.ndarray) -> np.ndarray:
        """``sum_r weights[d, r] * table[u(d, r), q]``, ``(D, Q)``."""
        n, u = self.shape
        w = np.bincount(self.flat, weights=np.asarray(weights, dtype=float).ravel(), minlength=n * u).reshape(n, u)
        # einsum's own loop, not a BLAS call: the matrices are tiny (U distinct abilities), and a BLAS call would
        # wake its thread pool for every design scored alone
        return np.einsum("du,uq->dq", w, table)


def weighted_success(
    ability: np.ndarray,
    weights: np.ndarray,
    difficulty: np.ndarray,
    slope: float,
    center: float,
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """``sum_r weights[d, r] * g(p(ability[d, r], difficulty[q]))``, shape ``(D, Q)``.

    Abilities take few distinct values (models x archetype bonuses), so the
    logistic is evaluated once per distinct ability and difficulty, ``(U,
    Q)``, and combined with a ``(D, U)`` weight matrix by one matrix product
    instead of a ``(D, R, Q)`` array. ``g`` (``transform``) defaults to the
    identity.
    """
    abilities = Abilities(ability)
    return abilities.weigh(weights, abilities.table(difficulty, slope, center, transform))


# up to this many (design, replica) cells the logistic is evaluated per cell, not per distinct ability
_DIRECT_CELLS = 8192


def row_success(ability: np.ndarray, difficulty: np.ndarray, slope: float, center: float) -> np.ndarray:
    """``p(ability[d], difficulty[q])``, shape ``(D, Q)``, one logistic per distinct ability.

    In a small batch the logistic of every cell costs less than sorting the
    abilities; either way each cell is the logistic of the same argument.
    """
    if ability.size * difficulty.size <= _DIRECT_CELLS:
        return success_probability(ability[:, None], difficulty[None, :], slope, center)
    uniq, inv = np.unique(ability, return_inverse=True)
    return success_probability(uniq[:, None], difficulty[None, :], slope, center)[inv]
