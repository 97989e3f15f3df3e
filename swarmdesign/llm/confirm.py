"""Multi-fidelity confirmation: re-score the best simulated designs on real models.

The simulator screens many designs cheaply; :func:`confirm_run` takes a run's
K best trials (by the declared ``score``), evaluates their designs with the
``llm`` evaluator under an LLM scenario, and returns both figures side by
side (``sim_<metric>`` and ``llm_<metric>``, plus each side's rank), so a user
sees whether the simulator's ranking holds. Traces go to ``<run>/confirm/``
and the table to ``<run>/confirm.csv``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from swarmdesign.errors import SwarmdesignError

if TYPE_CHECKING:
    import pandas as pd

    from swarmdesign.design import Design
    from swarmdesign.evaluators import ProgressCallback
    from swarmdesign.fitness import Scenario

COMPARED = ("quality", "cost", "latency", "score")
CONFIRM_DIR = "confirm"
CONFIRM_TABLE = "confirm.csv"


def confirm_designs(
    designs: Sequence[Design],
    scenario: Scenario,
    *,
    seed: int = 0,
    sim_metrics: Sequence[dict[str, float]] | None = None,
    trace_dir: str | Path | None = None,
    max_cost_usd: float | None = None,
    labels: Sequence[Any] | None = None,
    progress: ProgressCallback | None = None,
) -> pd.DataFrame:
    """Score ``designs`` with the ``llm`` evaluator; one row per design, best real score first.

    ``sim_metrics`` (one mapping per design, e.g. a design's recorded
    ``metrics``) fills the ``sim_*`` columns; ``labels`` (e.g. trial numbers)
    fills ``trial``. Raises :class:`~swarmdesign.errors.RunStopped` at the cost cap.
    """
    import pandas as pd

    from swarmdesign.llm.evaluator import LLMEvaluator

    if not designs:
        raise SwarmdesignError("no designs to confirm", field="--confirm-top")
    evaluator = LLMEvaluator(trace_dir=str(trace_dir) if trace_dir else None, max_cost_usd=max_cost_usd)
    evaluator.set_progress(progress)
    real = scenario.finish_metrics(evaluator.evaluate(list(designs), scenario, seed=seed))
    rows = []
    for i, design in enumerate(designs):
        row: dict[str, Any] = {"trial": labels[i] if labels is not None else i, "design": design.name}
        sim = dict(sim_metrics[i]) if sim_metrics is not None else dict(design.metrics or {})
        for m in COMPARED:
            row[f"sim_{m}"] = float(sim[m]) if m in sim else float("nan")
            row[f"llm_{m}"] = float(real.iloc[i][m])
        row["llm_tokens_per_task"] = float(
            real.iloc[i]["prompt_tokens_per_task"] + real.iloc[i]["completion_tokens_per_task"]
        )
        row["llm_spent_usd"] = float(real.iloc[i]["spent_run"])
        rows.append(row)
    table = pd.DataFrame(rows)
    table["sim_rank"] = table["sim_score"].rank(ascending=False, method="min").astype("Int64")
    table["llm_rank"] = table["llm_score"].rank(ascending=False, method="min").astype("Int64")
    return table.sort_values("llm_score", ascending=False, kind="stable").reset_index(drop=True)


def confirm_run(
    run_dir: str | Path,
    k: int,
    scenario: Scenario,
    *,
    seed: int | None = None,
    max_cost_usd: float | None = None,
    write: bool = True,
    progress: ProgressCallback | None = None,
) -> pd.DataFrame:
    """Confirm the ``k`` best trials of the run in ``run_dir`` on real models (see the module docstring)."""
    from swarmdesign.results import load_run

    if k < 1:
        raise SwarmdesignError(f"expected K >= 1, got {k}", field="--confirm-top")
    if scenario.llm is None:
        raise SwarmdesignError(
            "the confirmation scenario has no 'llm:' section; expected an LLM scenario such as llm_arithmetic",
            field="--confirm-fitness",
        )
    run = load_run(run_dir)
    top = run.top(k, by="score")
    if top.empty:
        raise SwarmdesignError("the run has no complete trial to confirm", file=str(run_dir))
    numbers = [int(t) for t in top["trial"]]
    designs = [run.design(n) for n in numbers]
    table = confirm_designs(
        designs,
        scenario,
        seed=run.seed if seed is None else seed,
        sim_metrics=[d.metrics or {} for d in designs],
        trace_dir=Path(run_dir) / CONFIRM_DIR,
        max_cost_usd=max_cost_usd,
        labels=numbers,
        progress=progress,
    )
    if write:
        table.to_csv(Path(run_dir) / CONFIRM_TABLE, index=False)
    return table


def rank_agreement(table: pd.DataFrame) -> dict[str, float]:
    """Spearman rank correlation of simulated and real figures over the confirmed designs (NaN below 3)."""
    from swarmdesign.llm.holdout import spearman

    return {m: spearman(table[f"sim_{m}"], table[f"llm_{m}"]) for m in ("score", "quality")}


def describe(table: pd.DataFrame) -> str:
    """Simulated against real, one line per confirmed design, then their rank agreement."""
    lines = [f"{'trial':>6} {'design':24s} {'sim quality':>11} {'real quality':>12} {'sim rank':>8} {'real rank':>9}"]
    for _, r in table.iterrows():
        lines.append(
            f"{r['trial']!s:>6} {str(r['design'])[:24]:24s} {r['sim_quality']:>11.3f} {r['llm_quality']:>12.3f} "
            f"{r['sim_rank']!s:>8} {r['llm_rank']!s:>9}"
        )
    agree = rank_agreement(table)
    lines.append(
        f"rank agreement of simulated and real (Spearman): score {agree['score']:.2f}, quality {agree['quality']:.2f}"
        + ("  (needs 3+ designs with distinct figures)" if len(table) < 3 else "")
    )
    return "\n".join(lines)
