"""The numpy non-dominated sort, crowding and selections give DEAP's own answers, order for order.

The optimizers' proposals depend on the order of fronts, the crowding
distances bit for bit and the draws of the tournaments, so each function is
compared with the DEAP tool it replaces on populations full of ties (equal
loss vectors, equal values on one objective), where orders are easiest to
get wrong.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from deap import base, tools
from deap.tools.emo import assignCrowdingDist

from swarmdesign.optimizers import _deap, _pareto


def population(seed: int, n: int, m: int, levels: int) -> np.ndarray:
    """``n`` loss vectors on ``levels`` values per objective: many exact ties."""
    rng = np.random.default_rng(seed)
    return rng.integers(levels, size=(n, m)).astype(float) * 0.37 + rng.choice([0.0, 1e-9], size=(n, m))


class LossFitness(base.Fitness):
    """A DEAP fitness over losses: every objective minimised."""

    weights = (-1.0,)

    def __init__(self, losses: list[float]) -> None:
        self.weights = (-1.0,) * len(losses)  # instance attribute: any number of objectives
        super().__init__(tuple(losses))


class Individual(list):
    """An empty genome with its fitness and its row: what DEAP's tools sort and select."""

    def __init__(self, losses: list[float], row: int) -> None:
        super().__init__()
        self.fitness = LossFitness(losses)
        self.row = row


def deap_pop(losses: np.ndarray) -> list[Individual]:
    return [Individual(v, i) for i, v in enumerate(losses.tolist())]


CASES = [(seed, n, m, levels) for seed in range(6) for n, m, levels in ((30, 2, 4), (60, 3, 3), (25, 2, 25), (8, 4, 2))]


@pytest.mark.parametrize(("seed", "n", "m", "levels"), CASES)
def test_fronts_match_deap_sort_in_order(seed: int, n: int, m: int, levels: int) -> None:
    losses = population(seed, n, m, levels)
    for k in (1, n // 3, n // 2, n):
        want = [[ind.row for ind in front] for front in tools.sortNondominated(deap_pop(losses), k)]
        assert _pareto.sorted_fronts(losses, k) == want


@pytest.mark.parametrize(("seed", "n", "m", "levels"), CASES)
def test_rank_and_crowding_match_deap_bit_for_bit(seed: int, n: int, m: int, levels: int) -> None:
    losses = population(seed, n, m, levels)
    pop = deap_pop(losses)
    rank = np.zeros(n, dtype=int)
    crowd = np.zeros(n)
    for r, front in enumerate(tools.sortNondominated(pop, n)):
        assignCrowdingDist(front)
        for ind in front:
            rank[ind.row] = r
            crowd[ind.row] = ind.fitness.crowding_dist
    got_rank, got_crowd = _pareto.rank_and_crowding(losses)
    assert got_rank.tolist() == rank.tolist()
    assert got_crowd.tobytes() == crowd.tobytes()


@pytest.mark.parametrize(("seed", "n", "m", "levels"), CASES)
def test_nsga2_selection_matches_deap(seed: int, n: int, m: int, levels: int) -> None:
    losses = population(seed, n, m, levels)
    for k in (1, n // 4, n // 2, n - 1):
        want = [ind.row for ind in tools.selNSGA2(deap_pop(losses), k)]
        assert _pareto.select_nsga2(losses, k).tolist() == want


@pytest.mark.parametrize("seed", range(5))
def test_tournaments_draw_and_pick_as_deap(seed: int) -> None:
    losses = population(seed, 40, 1, 6)
    rows = list(range(3, 40, 2))
    random.seed(seed)
    want = [ind.row for ind in tools.selTournament([deap_pop(losses)[i] for i in rows], 25, tournsize=3)]
    random.seed(seed)
    assert _deap.tournaments(losses[:, 0].tolist(), rows, 25, 3) == want


def test_a_wrong_front_order_is_caught() -> None:
    """The comparison can fail: reversing a later front's order differs from DEAP on a tied population."""
    losses = population(0, 60, 3, 3)
    fronts = _pareto.sorted_fronts(losses)
    want = [[ind.row for ind in front] for front in tools.sortNondominated(deap_pop(losses), len(losses))]
    later = next(i for i, f in enumerate(fronts) if i > 0 and len(set(f)) > 1)
    fronts[later] = fronts[later][::-1]
    assert fronts != want
