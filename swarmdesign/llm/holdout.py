"""How well a (calibrated) simulator predicts real runs: per-design tables, errors and rank agreement.

Designs are simulated for the models that really ran them: each role's model
goes through the aliases of :func:`swarmdesign.llm.calibrate.model_aliases`
(the scenario's ``llm.model_map`` and what the traces recorded), so two roles
that name different hosted models but ran on one local model are simulated
as one model, with its correlation.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from swarmdesign.design import Design
    from swarmdesign.fitness import Scenario
    from swarmdesign.llm.trace_stats import Observations


def mapped(design: Design, aliases: dict[str, str] | None) -> Design:
    """``design`` with each role's model replaced by the model that really runs it."""
    if not aliases or not any(r.model in aliases for r in design.roles):
        return design
    roles = [r.model_copy(update={"model": aliases.get(r.model, r.model)}) for r in design.roles]
    return design.model_copy(update={"roles": roles})


def token_targets(obs: Observations, keep: set[str]) -> list[tuple[Design, float]]:
    """(design, real tokens per task) over the tasks in ``keep``."""
    out = []
    for did, recs in obs.tasks.items():
        chosen = [r["prompt_tokens"] + r["completion_tokens"] for r in recs if r["task_id"] in keep]
        if chosen:
            out.append((obs.designs[did], float(np.mean(chosen))))
    return out


def predictions(
    obs: Observations,
    keep: set[str],
    scenarios: dict[str, Scenario],
    *,
    seed: int = 0,
    aliases: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Real accuracy and tokens per task on ``keep`` vs each scenario's simulation, one row per design."""
    import pandas as pd

    from swarmdesign.sim.evaluator import SimulatedEvaluator

    sim = SimulatedEvaluator()
    rows = []
    for did, recs in sorted(obs.tasks.items(), key=lambda kv: obs.designs[kv[0]].name):
        chosen = [r for r in recs if r["task_id"] in keep]
        if not chosen:
            continue
        design = obs.designs[did]
        row: dict[str, Any] = {
            "design": design.name,
            "tasks": len(chosen),
            "real_quality": float(np.mean([r["verdict"] for r in chosen])),
            "real_tokens_per_task": float(np.mean([r["prompt_tokens"] + r["completion_tokens"] for r in chosen])),
        }
        simulated = mapped(design, aliases)
        for label, sc in scenarios.items():
            m = sim.evaluate([simulated], sc, seed=seed).iloc[0]
            row[f"{label}_quality"] = float(m["quality"])
            row[f"{label}_tokens_per_task"] = float(m["tokens"]) / sc.workload.tasks
        rows.append(row)
    return pd.DataFrame(rows)


def spearman(a: Iterable[float], b: Iterable[float]) -> float:
    """Spearman rank correlation (ties share their mean rank); NaN with fewer than 3 pairs or a constant side."""
    from scipy.stats import rankdata

    x, y = np.asarray(list(a), dtype=float), np.asarray(list(b), dtype=float)
    if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(np.corrcoef(rankdata(x), rankdata(y))[0, 1])


def errors(table: pd.DataFrame, labels: Iterable[str]) -> dict[str, dict[str, float]]:
    """Per scenario label: mean absolute quality error (points), relative tokens error, rank correlation."""
    out = {}
    for label in labels:
        q = (table[f"{label}_quality"] - table["real_quality"]).abs()
        t = (table[f"{label}_tokens_per_task"] - table["real_tokens_per_task"]).abs() / table["real_tokens_per_task"]
        out[label] = {
            "quality_mae": float(q.mean()),
            "quality_max": float(q.max()),
            "tokens_mape": float(t.mean()),
            "spearman": spearman(table["real_quality"], table[f"{label}_quality"]),
        }
    return out
