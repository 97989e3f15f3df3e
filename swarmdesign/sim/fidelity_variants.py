"""The published shapes re-checked on set-ups other than the scorecard's defaults.

An outside check of a shape uses its own team sizes, task difficulties,
model skills, sub-task counts and scenarios, not the ones a simulator was
tuned on. :func:`sweep` measures every shape of the scorecard
(``benchmarks/fidelity.py``) over a grid of such variants and reports in how
many of them the shape holds, with the same tolerance as the scorecard; the
variants a shape fails are listed, not dropped.

Where a published figure is tied to a single-agent accuracy (Kim et al.'s
Finance-Agent at ≈ 0.35, PlanCraft, the strong-model error amplification),
a ``harder`` variant raises the items' difficulty and the model's skill
together, so the single agent stays where the study measured it while
planning, review and merging face harder items. Everything else (team size,
sub-task count, dependency depth, model ladder, difficulty spread, parallel
share) changes the premise freely.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np

from swarmdesign.sim import fidelity as F


@dataclass(frozen=True)
class Shape:
    """One scorecard row: what it measures on a variant and when it holds there."""

    name: str
    measure: Callable[..., Any]
    grid: Mapping[str, tuple[Any, ...]]
    holds: Callable[[Any], bool]
    figure: Callable[[Any], str]


@dataclass
class Outcome:
    """How one shape fared over its variants."""

    shape: str
    held: int
    total: int
    failed: list[str] = field(default_factory=list)  # "variant: figure" of each variant it fails
    grid: str = ""


@cache
def _measure(fn: Callable[..., Any], items: tuple[tuple[str, Any], ...]) -> Any:
    return fn(**dict(items))


def _pct(x: float) -> str:
    return f"{100 * x:+.0f} %"


def _seq_range(g: dict[str, float]) -> tuple[float, float]:
    vals = [g[a] for a in F.KIM_MAS]
    return max(vals), min(vals)


KIM_TEAMS = (3, 4, 8)
HARDER = (-0.1, 0.0, 0.1)

SHAPES: tuple[Shape, ...] = (
    Shape(
        "Parallel work: centralised team vs single agent ≥ +40 %",
        F.kim_parallel,
        {"n": KIM_TEAMS, "subtasks": (4, 8), "harder": HARDER},
        lambda g: g["centralized"] > 0.40,
        lambda g: f"{_pct(g['centralized'])} (single {g['single_accuracy']:.2f})",
    ),
    Shape(
        "Parallel work: decentralised and hybrid also gain",
        F.kim_parallel,
        {"n": KIM_TEAMS, "subtasks": (4, 8), "harder": HARDER},
        lambda g: g["decentralized"] > 0 and g["hybrid"] > 0,
        lambda g: f"dec {_pct(g['decentralized'])}, hyb {_pct(g['hybrid'])}",
    ),
    Shape(
        "Sequential work: every team −20 … −80 %",
        F.kim_sequential,
        {"n": KIM_TEAMS, "depth": (6, 8, 12), "harder": HARDER},
        lambda g: _seq_range(g)[0] < -0.20 and _seq_range(g)[1] > -0.80,
        lambda g: f"{_pct(_seq_range(g)[0])} … {_pct(_seq_range(g)[1])}",
    ),
    Shape(
        "Sequential work: independent agents worst",
        F.kim_sequential,
        {"n": KIM_TEAMS, "depth": (6, 8, 12), "harder": HARDER},
        lambda g: g["independent"] == _seq_range(g)[1],
        lambda g: f"independent {_pct(g['independent'])}, worst {_pct(_seq_range(g)[1])}",
    ),
    Shape(
        "Advantage shrinks as single-agent accuracy rises (slope < 0)",
        F.kim_saturation,
        {"n": KIM_TEAMS, "difficulty": (0.4, 0.5, 0.6), "subtasks_per_level": (2, 3)},
        lambda s: s["slope"] < 0,
        lambda s: f"slope {s['slope']:+.2f}",
    ),
    Shape(
        "… and changes sign at single-agent accuracy 0.30 … 0.60 (success points)",
        F.kim_saturation,
        {"n": KIM_TEAMS, "difficulty": (0.4, 0.5, 0.6), "subtasks_per_level": (2, 3)},
        lambda s: 0.3 <= s["zero_at"] <= 0.6,
        lambda s: f"zero at {s['zero_at']:.2f} (relative gain {s['zero_at_relative']:.2f})",
    ),
    Shape(
        "Error amplification: Independent > Decentralized > Hybrid > Centralized",
        F.kim_error_amplification,
        {"n": (4, 8, 16), "subtasks": (8, 16), "harder": HARDER},
        lambda a: a["independent"] > a["decentralized"] > a["hybrid"] > a["centralized"],
        lambda a: " > ".join(f"{a[k]:.1f}×" for k in ("independent", "decentralized", "hybrid", "centralized")),
    ),
    Shape(
        "Error amplification: independent / centralised 2 … 8",
        F.kim_error_amplification,
        {"n": (4, 8, 16), "subtasks": (8, 16), "harder": HARDER},
        lambda a: 2.0 < a["independent"] / a["centralized"] < 8.0,
        lambda a: f"{a['independent'] / a['centralized']:.1f}",
    ),
    Shape(
        "Coordination turns grow as n^(1.724 ± 0.3)",
        F.kim_turns_exponent,
        {"parallel_fraction": (0.5, 0.9, 1.0), "subtasks_per_agent": (1, 2)},
        lambda t: abs(t["all"] - 1.724) <= 0.3,
        lambda t: f"n^{t['all']:.2f}",
    ),
    Shape(
        "Token overhead: independent lowest, hybrid highest",
        F.kim_overhead,
        {"n": KIM_TEAMS, "subtasks": (4, 8, 16)},
        lambda o: (
            o["independent"] < min(o["decentralized"], o["centralized"])
            and o["hybrid"] >= max(o["decentralized"], o["centralized"])
        ),
        lambda o: ", ".join(
            f"{k[:3].title()} {o[k]:.0f} %" for k in ("independent", "decentralized", "centralized", "hybrid")
        ),
    ),
    Shape(
        "Voting gains larger for weaker models (weak ≥ mid − 1 > strong − 1)",
        F.li_voting,
        {"skill_shift": (-0.5, 0.0, 0.5), "spread": (0.15, 0.22, 0.3)},
        lambda li: (
            li["weak"]["gain_points"] >= li["mid"]["gain_points"] - 1.0 > li["strong"]["gain_points"] - 1.0
            and li["mid"]["gain_points"] > li["strong"]["gain_points"]
        ),
        lambda li: " / ".join(f"{li[k]['gain_points']:+.1f}" for k in F.LI_SKILLS),
    ),
    Shape(
        "Voting gains saturate: ≥ 85 % of the 40-voter gain at 15",
        F.li_voting,
        {"skill_shift": (-0.5, 0.0, 0.5), "spread": (0.15, 0.22, 0.3)},
        lambda li: min(li[k]["share_at_15"] for k in F.LI_SKILLS) >= 0.85,
        lambda li: f"{100 * min(li[k]['share_at_15'] for k in F.LI_SKILLS):.0f} %",
    ),
    Shape(
        "15 voters of a weaker model ≥ one stronger model",
        F.li_voting,
        {"skill_shift": (-0.5, 0.0, 0.5), "spread": (0.15, 0.22, 0.3)},
        lambda li: li["weak"]["quality"][F.LI_VOTERS.index(15)] >= li["mid"]["quality"][0],
        lambda li: f"{li['weak']['quality'][F.LI_VOTERS.index(15)]:.3f} vs {li['mid']['quality'][0]:.3f}",
    ),
    Shape(
        "Quality rises logistically with collaborating agents (steepest at 8 … 32)",
        F.macnet,
        {"skill": (-0.5, 0.0, 0.5), "difficulty": (0.4, 0.5, 0.6)},
        lambda m: (
            8 <= m["inflection_agents"] <= 32
            and m["curves"]["mesh"][-1] - m["curves"]["mesh"][0] > 0.1
            and m["curves"]["mesh"][-1] - m["curves"]["mesh"][-2] < 0.02
        ),
        lambda m: (
            f"{m['curves']['mesh'][0]:.2f} → {m['curves']['mesh'][-1]:.2f}, steepest at ≈ {m['inflection_agents']:.0f}"
        ),
    ),
    Shape(
        "Topology: mesh ≥ star − 0.01, star > chain + 0.02",
        F.macnet,
        {"skill": (-0.5, 0.0, 0.5), "difficulty": (0.4, 0.5, 0.6)},
        lambda m: _at32(m, "mesh") >= _at32(m, "star") - 0.01 and _at32(m, "star") > _at32(m, "chain") + 0.02,
        lambda m: " / ".join(f"{_at32(m, k):.3f}" for k in ("mesh", "star", "chain")),
    ),
    Shape(
        "Multi-agent team's tokens 2.5 … 15× one agent",
        F.token_multiples,
        {"n": KIM_TEAMS, "subtasks": (4, 8)},
        lambda t: 2.5 <= t["team_over_single"] <= 15.0,
        lambda t: f"{t['team_over_single']:.1f}×",
    ),
    Shape(
        "Dense vs sparse communication at 5 agents 1.4 … 3.7×",
        F.token_multiples,
        {"n": KIM_TEAMS, "subtasks": (4, 8)},
        lambda t: 1.4 <= t["dense_over_sparse"] <= 3.7,
        lambda t: f"{t['dense_over_sparse']:.2f}×",
    ),
)


def _at32(m: dict[str, Any], kind: str) -> float:
    return float(m["curves"][kind][F.MACNET_SIZES.index(32)])


def variants(grid: Mapping[str, tuple[Any, ...]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values."""
    keys = list(grid)
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(grid[k] for k in keys))]


def check(shape: Shape) -> Outcome:
    """Measure ``shape`` on every variant of its grid."""
    out = Outcome(
        shape.name, 0, 0, grid=", ".join(f"{k} ∈ {{{', '.join(map(str, v))}}}" for k, v in shape.grid.items())
    )
    for v in variants(shape.grid):
        value = _measure(shape.measure, tuple(sorted(v.items())))
        ok = bool(shape.holds(value))
        out.total += 1
        out.held += ok
        if not ok:
            label = ", ".join(f"{k}={x}" for k, x in v.items())
            out.failed.append(f"{label}: {shape.figure(value)}")
    return out


def sweep(shapes: tuple[Shape, ...] = SHAPES) -> list[Outcome]:
    """Every shape over its variants."""
    return [check(s) for s in shapes]


def zero_at_spread(outcomes: Any = None) -> dict[str, float]:
    """Capability-saturation zero over the saturation grid: min, median, max (NaN when it never changes sign)."""
    shape = next(s for s in SHAPES if s.name.startswith("… and changes sign"))
    z = np.array([_measure(shape.measure, tuple(sorted(v.items())))["zero_at"] for v in variants(shape.grid)])
    return {
        "min": float(np.nanmin(z)),
        "median": float(np.nanmedian(z)),
        "max": float(np.nanmax(z)),
        "never": float(np.isnan(z).sum()),
    }
