"""The robustness sweep re-checks a shape on every variant of its grid and names the ones it fails."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from swarmdesign.sim import fidelity_variants as V

ROOT = Path(__file__).resolve().parents[3]


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


def test_every_note_names_a_check_of_the_sweep() -> None:
    """A note keyed by a renamed shape or by a variant off the grid would never print: it would go stale unseen."""
    assert V.WHY_FAILING
    assert V.unknown_checks() == []
    assert all(note.strip() and note != "unexplained" for note in V.WHY_FAILING.values())


def test_a_note_on_no_check_is_caught() -> None:
    shape = V.SHAPES[0]
    real = (shape.name, V.label(V.variants(shape.grid)[0]))
    assert real[1] == "n=3, subtasks=4, harder=-0.1"
    renamed = ("Parallel work: a shape that is not in the sweep", real[1])
    off_grid = (shape.name, "n=5, subtasks=4, harder=0.0")
    reordered = (shape.name, "harder=-0.1, n=3, subtasks=4")  # a label follows the grid's order
    notes = {real: "known", renamed: "known", off_grid: "known", reordered: "known"}
    assert V.unknown_checks(notes) == [renamed, off_grid, reordered]


def test_every_explained_check_still_fails() -> None:
    """Only the explained checks are measured (well under a second); a note on a check that now holds is stale."""
    assert V.explained_but_holding() == []


def test_a_failure_without_a_note_is_shown_as_unexplained(monkeypatch: pytest.MonkeyPatch) -> None:
    """The scorecard must set a new failure apart from the known ones, and list a note whose check holds now."""
    spec = importlib.util.spec_from_file_location("fidelity_scorecard", ROOT / "benchmarks" / "fidelity.py")
    assert spec is not None and spec.loader is not None
    scorecard = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, scorecard)  # its dataclasses look their module up there
    spec.loader.exec_module(scorecard)
    known, new = "n=3, subtasks=4, harder=-0.1", "n=8, subtasks=4, harder=0.1"
    outcome = V.Outcome(
        "a shape", 1, 3, failed=[f"{known}: +1 %", f"{new}: +2 %"], failed_variants=[known, new], grid="n ∈ {3, 8}"
    )
    notes = {("a shape", known): "a known limit", ("a shape", "n=4, subtasks=4, harder=0.0"): "fixed since"}
    text = "\n".join(scorecard.render_why([outcome], notes))
    assert "2 failing variant checks, 1 unexplained" in text
    assert f"{known} (+1 %). a known limit" in text
    assert f"{new} (+2 %). **unexplained**" in text
    assert "do not fail" in text and "n=4, subtasks=4, harder=0.0" in text
    assert V.why_failing("a shape", new, notes) == "unexplained"
