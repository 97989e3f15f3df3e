"""Redundancy and aggregation: per-item correctness decides the sign, similarity the plateau."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import comb
from sim_helpers import evaluate, make_scenario

from swarmdesign.sim import voting
from swarmdesign.sim.testing import make_design

# ability 0.5 (model skill 0 + match bonus 0.5); slope 6: p = 0.8 at d = 0.352, p = 0.2 at d = 0.814
EASY, HARD = 0.352, 0.814


def _quality_by_redundancy(difficulty: float, ks: list[int], **coordination: object) -> np.ndarray:
    scenario = make_scenario(
        workload={"difficulty": {"mean": difficulty, "spread": 0.01}},
        simulator={"skill": {"task_mix": {"solver": 1.0}}},
    )
    designs = [
        make_design([("solver", max(k, 2), "m0")], "independent", redundancy=k, routing="routed", **coordination)
        for k in ks
    ]
    return evaluate(designs, scenario)["quality"].to_numpy()


KS = [1, 3, 5, 9, 17, 33, 63]


@pytest.mark.parametrize("heterogeneity", [0.0, 1.0])
def test_voting_helps_items_usually_right_and_saturates(heterogeneity: float) -> None:
    q = _quality_by_redundancy(EASY, KS, heterogeneity=heterogeneity)
    assert q[0] == pytest.approx(0.8, abs=0.02)
    assert np.all(np.diff(q) > 0)  # rises ...
    gains = np.diff(q)
    assert gains[-1] < 0.25 * gains[0]  # ... and saturates
    assert q[-1] - q[-2] < 0.01


def test_voting_hurts_items_usually_wrong() -> None:
    q = _quality_by_redundancy(HARD, KS)
    assert q[0] == pytest.approx(0.2, abs=0.02)
    assert np.all(np.diff(q) < 0)


def test_homogeneous_voters_plateau_lower_than_heterogeneous() -> None:
    same = _quality_by_redundancy(EASY, [63], heterogeneity=0.0)[0]
    diverse = _quality_by_redundancy(EASY, [63], heterogeneity=1.0)[0]
    assert diverse > same + 0.03
    # without correlation, Condorcet: 63 voters at p = 0.8 are all but always right
    independent = make_scenario(
        workload={"difficulty": {"mean": EASY, "spread": 0.01}},
        simulator={
            "skill": {"task_mix": {"solver": 1.0}},
            "voting": {"correlation_same_model": 0.0, "correlation_cross_model": 0.0},
        },
    )
    q = evaluate([make_design([("solver", 63, "m0")], "independent", redundancy=63, routing="routed")], independent)[
        "quality"
    ][0]
    assert q > 0.99 > diverse


def test_mixing_models_decorrelates_voters() -> None:
    scenario = make_scenario(
        workload={"difficulty": {"mean": EASY, "spread": 0.01}}, simulator={"skill": {"task_mix": {"solver": 1.0}}}
    )
    one = make_design([("solver", 8, "m0")], "independent", redundancy=7, routing="routed")
    two = make_design([("solver", 4, "m0"), ("solver", 4, "m0b")], "independent", redundancy=7, routing="routed")
    df = evaluate([one, two], scenario)
    assert df["voter_correlation"][1] < df["voter_correlation"][0]
    assert df["quality"][1] > df["quality"][0]


def _vote(p: float, k: int, rho: float = 0.0, concentration: float = 1.0) -> float:
    return float(voting.majority_vote(np.full((1, 1), p), np.array([k]), np.array([rho]), concentration)[0, 0])


def test_independent_votes_are_exact_binomial_with_a_fair_tie_break() -> None:
    # Condorcet at p = 0.6: one voter 0.6; two voters tie on a split vote (coin flip) -> 0.6; three -> 0.648
    assert _vote(0.6, 1) == pytest.approx(0.6)
    assert _vote(0.6, 2) == pytest.approx(0.6, abs=1e-12)
    assert _vote(0.6, 3) == pytest.approx(0.648, abs=1e-12)
    p = np.array([[0.3], [0.6], [0.8]])
    exact5 = sum(comb(5, j) * p**j * (1 - p) ** (5 - j) for j in (3, 4, 5))
    assert np.allclose(voting.majority_vote(p, np.full(3, 5), np.zeros(3)), exact5)
    # scattered wrong answers (half on the top wrong answer): three voters at 0.6 -> 0.720
    assert _vote(0.6, 3, concentration=0.5) == pytest.approx(0.72, abs=1e-12)
    assert np.allclose(voting.effective_voters(np.array([1e6]), np.array([0.5])), 2.0, rtol=1e-5)


@pytest.mark.parametrize(("rho", "k", "concentration"), [(0.3, 5, 1.0), (0.3, 4, 0.5), (0.6, 9, 0.5), (0.1, 40, 1.0)])
def test_correlated_votes_match_a_latent_difficulty_monte_carlo(rho: float, k: int, concentration: float) -> None:
    """Exact beta-binomial against a direct simulation of the latent per-item correctness."""
    rng = np.random.default_rng(0)
    n, p = 200_000, 0.6
    p_item = rng.beta(p * (1 - rho) / rho, (1 - p) * (1 - rho) / rho, n)
    right = rng.random((n, k)) < p_item[:, None]
    top = ~right & (rng.random((n, k)) < concentration)
    r, w, scattered = right.sum(1), top.sum(1), (~right & ~top).sum(1)
    rival = np.maximum(w, (scattered > 0).astype(int))
    tied = 1 + (w == r) + np.where(r == 1, scattered, 0)
    win = np.where(r > rival, 1.0, np.where((r == rival) & (r > 0), 1.0 / tied, 0.0))
    assert _vote(p, k, rho, concentration) == pytest.approx(win.mean(), abs=0.005)
    # two attempts' correctness correlates by rho exactly
    both = (right[:, 0] & right[:, 1]).mean()
    assert (both - p * p) / (p * (1 - p)) == pytest.approx(rho, abs=0.01)


def test_scattered_wrong_answers_let_plurality_beat_the_majority() -> None:
    assert _vote(0.4, 9) < 0.4
    assert _vote(0.4, 9, concentration=0.3) > 0.4


def test_judge_and_first_valid_need_a_good_checker() -> None:
    p, k, rho = np.full((1, 1), 0.5), np.array([5]), np.zeros(1)
    assert voting.judge_select(p, k, rho, np.full((1, 1), 0.0))[0, 0] == pytest.approx(0.5)
    assert voting.judge_select(p, k, rho, np.full((1, 1), 1.0))[0, 0] == pytest.approx(1 - 0.5**5)
    assert voting.first_valid(p, k, rho, np.full((1, 1), 0.0))[0, 0] == pytest.approx(0.5)
    assert voting.first_valid(p, k, rho, np.full((1, 1), 1.0))[0, 0] == pytest.approx(1 - 0.5**5)
    # correlated attempts: a perfect judge only helps on the items where some attempt is right
    assert voting.judge_select(p, k, np.full(1, 0.5), np.ones((1, 1)))[0, 0] < 1 - 0.5**5
