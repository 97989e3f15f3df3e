"""The robustness sweep re-checks a shape on every variant of its grid and names the ones it fails."""

from __future__ import annotations

from swarmdesign.sim import fidelity_variants as V


def test_variants_are_the_full_grid() -> None:
    vs = V.variants({"n": (3, 4, 8), "harder": (-0.1, 0.0)})
    assert len(vs) == 6 and {"n": 8, "harder": -0.1} in vs


def test_a_shape_that_fails_somewhere_is_counted_and_named() -> None:
    shape = V.Shape(
        "team tokens above 3.5x",
        V.F.token_multiples,
        {"n": (3, 8)},
        lambda t: t["team_over_single"] > 3.5,
        lambda t: f"{t['team_over_single']:.1f}x",
    )
    out = V.check(shape)
    assert out.total == 2
    # a larger team reads and writes more: the 8-agent team must spend more than the 3-agent one
    small = V.F.token_multiples(n=3)["team_over_single"]
    large = V.F.token_multiples(n=8)["team_over_single"]
    assert large > small
    assert out.held == (small > 3.5) + (large > 3.5)
    assert len(out.failed) == out.total - out.held
    assert all(f.startswith("n=") for f in out.failed)


def test_every_scorecard_shape_has_a_grid_of_several_variants() -> None:
    assert len(V.SHAPES) == 17
    assert all(len(V.variants(s.grid)) >= 6 for s in V.SHAPES)
