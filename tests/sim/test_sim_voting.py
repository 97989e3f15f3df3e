"""Redundancy and aggregation: per-item correctness decides the sign, similarity the plateau."""

from __future__ import annotations

import numpy as np
import pytest
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


def test_binomial_majority_matches_condorcet_for_integer_voters() -> None:
    p = np.array([0.3, 0.6, 0.8])
    exact3 = p**3 + 3 * p**2 * (1 - p)
    assert np.allclose(voting.majority_vote(p, np.full(3, 3.0)), exact3)
    assert np.allclose(voting.majority_vote(p, np.ones(3)), p)
    assert np.allclose(voting.effective_voters(np.array([10.0]), np.array([0.0])), 10.0)
    assert np.allclose(voting.effective_voters(np.array([1e6]), np.array([0.5])), 2.0, rtol=1e-5)


def test_scattered_wrong_answers_let_plurality_beat_the_majority() -> None:
    p = np.full(1, 0.4)
    assert voting.majority_vote(p, np.full(1, 9.0), 1.0)[0] < 0.4
    assert voting.majority_vote(p, np.full(1, 9.0), 0.3)[0] > 0.4


def test_judge_and_first_valid_need_a_good_checker() -> None:
    p, n = np.full(1, 0.5), np.full(1, 5.0)
    assert voting.judge_select(p, n, np.full(1, 0.0))[0] == pytest.approx(0.5)
    assert voting.judge_select(p, n, np.full(1, 1.0))[0] == pytest.approx(1 - 0.5**5)
    assert voting.first_valid(p, n, np.full(1, 0.0))[0] == pytest.approx(0.5)
    assert voting.first_valid(p, n, np.full(1, 1.0))[0] == pytest.approx(1 - 0.5**5)
