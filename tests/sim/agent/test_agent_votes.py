"""Agent-mode votes are counted from drawn attempts; checked against exact values computed by hand.

Each expected value below is computed here, independently of the simulator:
binomial and beta-binomial sums (scipy.stats) or a full enumeration of the
attempts' answers. Tolerance: 4 standard errors of the Monte-Carlo share.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from agent_helpers import binomial_se
from scipy.stats import betabinom, binom

from swarmdesign.sim.agent_votes import (
    draw_attempts,
    first_valid_pick,
    judge_pick,
    outcome_correlation,
    plurality,
    propensity_ranks,
)

M = 50_000


def _vote(p: float, k: int, rho: float, concentration: float = 1.0, seed: int = 0) -> float:
    rng = np.random.default_rng(seed)
    ranks = propensity_ranks(rng, M, 1, 0.0)
    right = draw_attempts(rng, np.full((M, k), p), np.zeros((M, k), dtype=np.int64), ranks, rho)
    return float(plurality(rng, right, concentration).mean())


def _exact_binary(pmf: np.ndarray) -> float:
    """Plurality of k binary votes from the pmf of the number right: more than half wins, a tie is a coin flip."""
    k = pmf.size - 1
    j = np.arange(k + 1)
    return float(pmf[2 * j > k].sum() + 0.5 * pmf[2 * j == k].sum())


@pytest.mark.parametrize(("k", "expected"), [(1, 0.6), (2, 0.6), (3, 0.648), (4, 0.648)])
def test_independent_binary_votes_are_exact_condorcet(k: int, expected: float) -> None:
    assert _exact_binary(binom.pmf(np.arange(k + 1), k, 0.6)) == pytest.approx(expected)
    assert _vote(0.6, k, rho=0.0) == pytest.approx(expected, abs=4 * binomial_se(expected, M))


@pytest.mark.parametrize(("k", "rho"), [(3, 0.3), (15, 0.3), (40, 0.6), (40, 0.1)])
def test_same_model_votes_are_beta_binomial(k: int, rho: float) -> None:
    p = 0.6
    a, b = p * (1 - rho) / rho, (1 - p) * (1 - rho) / rho
    expected = _exact_binary(betabinom.pmf(np.arange(k + 1), k, a, b))
    assert _vote(p, k, rho) == pytest.approx(expected, abs=4 * binomial_se(expected, M))


def test_forty_same_model_voters_still_gain_over_one() -> None:
    """At rho 0.1 forty voters of p = 0.6 gain about 12 points.

    Copying one shared draw with probability sqrt(rho) (same pairwise
    correlation) lets the ~13 copies decide almost every vote: no gain.
    """
    one, forty = _vote(0.6, 1, 0.1), _vote(0.6, 40, 0.1)
    assert forty - one > 0.08


def _exact_plurality(p: float, k: int, c: float) -> float:
    """Enumerate every attempt's answer: right, the common wrong answer, or an answer of its own."""
    total = 0.0
    for outcome in itertools.product((0, 1, 2), repeat=k):
        prob = np.prod([(p, (1 - p) * c, (1 - p) * (1 - c))[o] for o in outcome])
        votes = {"right": outcome.count(0), "common": outcome.count(1)}
        counts = [votes["right"], votes["common"]] + [1] * outcome.count(2)
        top = max(counts)
        if votes["right"] == top and top > 0:
            total += prob / sum(1 for x in counts if x == top)
    return total


@pytest.mark.parametrize(("p", "k", "c"), [(0.3, 3, 0.0), (0.4, 4, 0.5), (0.45, 5, 0.3)])
def test_scattered_wrong_answers_let_a_minority_win(p: float, k: int, c: float) -> None:
    expected = _exact_plurality(p, k, c)
    assert _vote(p, k, 0.0, concentration=c) == pytest.approx(expected, abs=4 * binomial_se(expected, M))
    assert expected > p  # the plurality helps below 50 % when wrong answers scatter


def test_measured_correlation_recovers_the_intra_class_correlation() -> None:
    rng = np.random.default_rng(1)
    p = rng.uniform(0.2, 0.9, size=(M, 1)).repeat(2, axis=1)
    for rho in (0.0, 0.3, 0.7):
        right = draw_attempts(rng, p, np.zeros((M, 2), dtype=np.int64), propensity_ranks(rng, M, 1, 0.0), rho)
        assert outcome_correlation(right, p)[0] == pytest.approx(rho, abs=0.02)


def test_two_models_share_the_cross_model_part() -> None:
    """Attempts of two models correlate by rho x share: the share of the item's rank they both copy."""
    rng = np.random.default_rng(2)
    p = np.full((M, 2), 0.5)
    models = np.tile([0, 1], (M, 1))
    right = draw_attempts(rng, p, models, propensity_ranks(rng, M, 2, 0.5), 0.6)
    assert outcome_correlation(right, p)[0] == pytest.approx(0.3, abs=0.02)


def test_judge_and_first_valid_follow_their_rules() -> None:
    rng = np.random.default_rng(3)
    right = rng.random((M, 3)) < 0.5
    picked = judge_pick(rng, right, np.full(M, 0.8))
    any_right = 1 - 0.5**3
    assert picked.mean() == pytest.approx(0.5 + (any_right - 0.5) * 0.8, abs=4 * binomial_se(0.8, M))
    kept, made = first_valid_pick(rng, right, np.full(M, 1.0), 0.0)
    # a perfect check without false alarms keeps the first right attempt, if any
    assert kept.mean() == pytest.approx(any_right, abs=4 * binomial_se(any_right, M))
    assert made.mean() == pytest.approx(1 + 0.5 + 0.25, abs=0.02)
