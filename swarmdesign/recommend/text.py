"""The recommendation in a few plain lines, as ``run``, ``resume`` and ``show`` print it."""

from __future__ import annotations

import math
from typing import Any


def _f(x: Any, spec: str = ".4f") -> str:
    return "n/a" if x is None or (isinstance(x, float) and not math.isfinite(x)) else format(x, spec)


def _se(x: Any) -> str:
    """Standard errors to two significant digits: a simulator's can be 1e-5 while a score is 0.8."""
    return _f(x, ".2g")


def recommendation_lines(rec: dict[str, Any]) -> list[str]:
    """What was recommended and why: verdict, size, the re-scored estimate, each baseline."""
    lines = [rec.get("verdict", "")]
    what = "the baseline" if rec.get("kind") == "baseline" else "the trimmed design"
    lines.append(f"best.yaml now holds trial {rec.get('trial')} ({what}); rule: {rec.get('rule')}")
    if rec.get("effort"):
        lines.append(f"effort: {rec['effort']}")
    lines.append(
        f"search's top score {_f(rec.get('search_score'))} (trial {rec.get('search_trial')}, one seed, "
        f"± {_se(rec.get('search_score_sd'))}) re-scored on fresh seeds: {_f(rec.get('winner_score'))} "
        f"± {_se(rec.get('winner_score_se'))} (SE)"
    )
    lines.append(
        f"trimmed from {rec.get('agents_before'):,} to {rec.get('agents_after'):,} agents at Δ score "
        f"{_f(rec.get('trim_delta'), '+.4f')} (tolerance {_f(rec.get('trim_tolerance'), '.4g')}): "
        f"{_f(rec.get('trimmed_score'))} ± {_se(rec.get('trimmed_score_se'))}"
        + (f"; steps: {', '.join(rec['trim_steps'])}" if rec.get("trim_steps") else "")
    )
    for b in rec.get("baselines", []):
        lines.append(
            f"  vs {b['name']}: {_f(b.get('score'))} ± {_se(b.get('score_se'))}; advantage "
            f"{_f(b.get('advantage'), '+.4f')} ± {_se(b.get('advantage_se'))}"
            + ("" if b.get("beats") else "  (not beyond noise)")
        )
    rob = rec.get("robustness")
    if rob:
        lines.append(
            f"robustness over {rob.get('scenarios')} perturbed scenarios: the recommendation stays best in "
            f"{_f(rob.get('win_share'), '.0%')} and within {_f(rob.get('near'), '.3g')} of the best in "
            f"{_f(rob.get('near_best_share'), '.0%')}; worst-case regret {_f(rob.get('worst_regret'))}"
        )
    return lines


__all__ = ["recommendation_lines"]
