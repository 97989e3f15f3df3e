"""First-valid stragglers: the slowest item and the longest task's chain of levels, checked by sampling."""

from __future__ import annotations

import numpy as np
import pytest

from swarmdesign.fitness import Workload
from swarmdesign.sim import voting
from swarmdesign.sim.stragglers import AttemptLaw


def _law(more_than: list[list[float]]) -> AttemptLaw:
    table = np.asarray(more_than, dtype=float)
    return AttemptLaw.build(table.shape[0], np.arange(table.shape[0]), table)


def _draw(law: AttemptLaw, row: int, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    q = law.survival[row]  # q_m = P(A >= m), m = 1..k+1
    pmf = q[:-1] - q[1:]
    return rng.choice(np.arange(1, q.size), p=pmf / pmf.sum(), size=shape)


def _chain_totals(law: AttemptLaw, levels: list[int], tasks: int, *, runs: int, rng: np.random.Generator) -> np.ndarray:
    """Sampled attempts along each task's levels (each level its slowest item), ``(runs, tasks)``."""
    total = np.zeros((runs, tasks))
    for size in levels:
        total += _draw(law, 0, rng, (runs, tasks, size)).max(axis=2)
    return total


@pytest.mark.parametrize("items", [1, 7, 300])
def test_most_attempts_of_many_items_matches_sampling(items: int) -> None:
    law = _law([[1.0, 0.4, 0.2, 0.05], [1.0, 0.1, 0.0, 0.0]])
    rng = np.random.default_rng(0)
    for row in range(2):
        sampled = _draw(law, row, rng, (20_000, items)).max(axis=1).mean()
        assert law.most_of(float(items))[row] == pytest.approx(sampled, abs=0.03)


@pytest.mark.parametrize(("levels", "tasks"), [([2, 2, 1, 1], 300.0), ([1], 50.0), ([3, 3, 3], 1.0)])
def test_longest_chain_of_levels_matches_sampling(levels: list[int], tasks: float) -> None:
    """Each level waits for its slowest item, a task for its levels in turn, the run for its longest task."""
    law = _law([[1.0, 0.38, 0.17, 0.08, 0.04]])
    total = _chain_totals(law, levels, int(tasks), runs=4000, rng=np.random.default_rng(1))
    assert law.longest_chain(levels, np.array([tasks]))[0] == pytest.approx(total.max(axis=1).mean(), rel=0.01)


@pytest.mark.parametrize(
    ("levels", "tasks", "gap", "earlier"),
    [([1], 3000.0, 0.0004, False), ([1], 40.0, 0.3, True), ([2, 2, 1, 1], 200.0, 0.02, True), ([3], 30.0, 2.5, True)],
)
def test_longest_chain_of_tasks_released_one_after_another_matches_sampling(
    levels: list[int], tasks: float, gap: float, earlier: bool
) -> None:
    """A task released ``i`` gaps before the last has that much more time: the run ends with the last release
    plus ``max_i S_i - i gap``.

    Measured from time 0, as if every task started together, a first-valid mesh of 2,694 released by three
    planners over 10,000 s ended at 0.81x the event schedule.
    """
    law = _law([[1.0, 0.32, 0.14, 0.07, 0.04]])
    total = _chain_totals(law, levels, int(tasks), runs=3000, rng=np.random.default_rng(2))
    ahead = gap * np.arange(int(tasks))[::-1]  # the last task released has nothing ahead of it
    sampled = (total - ahead).max(axis=1).mean()
    got = law.longest_chain(levels, np.array([tasks]), np.array([gap]))[0]
    assert got == pytest.approx(sampled, rel=0.01)
    together = law.longest_chain(levels, np.array([tasks]))[0]
    if earlier:  # the longest chain is often an earlier task's, which had time to spare
        assert got < together - 0.1
    else:  # thousands of tasks within one attempt: as if together (the cap is reached late too)
        assert got == pytest.approx(together, abs=0.01)


def test_the_law_is_the_quality_chains_correlated_attempts() -> None:
    """The law sums to the quality chain's mean attempts, and correlated attempts have the heavier tail.

    Agents that err alike fail a hard question again and again: at the same mean success, attempts that
    are correlated need the cap far more often than independent ones.
    """
    p = np.array([[0.6, 0.3, 0.8]])
    k = np.array([5])
    tails = []
    for rho in (0.0, 0.5):
        _, tries, law, _ = voting.first_valid_with_attempts(p, k, np.array([rho]), np.full((1, 1), 0.9), 0.05)
        assert law.sum(axis=1)[0] == pytest.approx(tries.mean())
        tails.append(law[0, -1])  # P(the item needs all 5 attempts)
    assert tails[1] > 2 * tails[0]  # 0.17 against 0.066


@pytest.mark.parametrize(
    ("subtasks", "depth", "sizes"), [(6, 4, (2, 2, 1, 1)), (1, 3, (1,)), (10, 10, (1,) * 10), (7, 2, (4, 3))]
)
def test_a_task_s_levels_take_the_remainder_first(subtasks: int, depth: int, sizes: tuple[int, ...]) -> None:
    """Both modes lay a task's pieces on the same levels: the stragglers' chain and the event schedule."""
    assert Workload(subtasks=subtasks, dependency_depth=depth).level_sizes == sizes
