"""Li et al. 2024, "More Agents Is All You Need": sampling-and-voting.

Published: gains grow with the number of sampled agents and saturate (by
N = 15-40); they are larger for weaker models (+24 / +20 / +12 points from
weak to strong across their model sizes); an ensemble of a
weaker model can match one stronger model. Stated tolerance: each gain 8-35
points, weak >= mid - 1 point > strong, 15 voters reach >= 85 % of the
40-voter gain, 15 weak voters >= one mid-skill agent. Mechanism: exact
beta-binomial plurality with voter correlation ``correlation_same_model``;
near-identical attempts (rho 0.95) leave almost no gain.
"""

from __future__ import annotations

from swarmdesign.sim import fidelity


def test_voting_gains_are_larger_for_weaker_models_and_saturate() -> None:
    li = fidelity.li_voting()
    gains = {name: li[name]["gain_points"] for name in fidelity.LI_SKILLS}
    assert all(8.0 < g < 35.0 for g in gains.values()), gains
    assert gains["weak"] >= gains["mid"] - 1.0 and gains["mid"] > gains["strong"]
    assert all(li[name]["share_at_15"] >= 0.85 for name in fidelity.LI_SKILLS)
    k15 = fidelity.LI_VOTERS.index(15)
    assert li["weak"]["quality"][k15] >= li["mid"]["quality"][0]


def test_identical_attempts_leave_no_gain() -> None:
    li = fidelity.li_voting({"voting": {"correlation_same_model": 0.95, "correlation_cross_model": 0.9}})
    assert all(li[name]["gain_points"] < 3.0 for name in fidelity.LI_SKILLS)
