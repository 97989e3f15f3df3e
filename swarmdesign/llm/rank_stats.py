"""How far a real ranking of designs is resolved, and how much of it a prediction keeps.

With a few dozen tasks per design, real accuracies of similar designs differ
by less than their sampling error, and a rank correlation against them is
mostly noise. So agreement is reported with its uncertainty:

* Spearman correlation of predicted and real accuracy, with a percentile
  bootstrap interval over **tasks** (every design ran the same tasks, so a
  task is resampled for all designs at once, keeping the pairing);
* design pairs whose real order the prediction keeps, counted over the pairs
  whose real difference is *resolved* - the mean per-task difference (paired
  by task) beyond ``z`` standard errors - and over all pairs with distinct
  real accuracy.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from swarmdesign.llm.holdout import spearman


def verdict_matrix(records: dict[str, list[dict]]) -> tuple[list[str], list[str], np.ndarray]:
    """(design names, task ids, ``(designs, tasks)`` 0/1 verdicts) over the tasks every design ran.

    ``records`` maps a design name to its task records; a task traced twice
    for one design counts once (its last record).
    """
    by_design = {name: {r["task_id"]: bool(r["verdict"]) for r in recs} for name, recs in records.items()}
    names = sorted(by_design)
    common = sorted(set.intersection(*(set(v) for v in by_design.values()))) if by_design else []
    matrix = np.array([[by_design[n][t] for t in common] for n in names], dtype=float).reshape(len(names), -1)
    return names, common, matrix


def bootstrap_spearman(
    matrix: np.ndarray, predicted: np.ndarray, *, n_boot: int = 2000, seed: int = 0, level: float = 0.95
) -> tuple[float, float, float]:
    """(Spearman of predicted and real accuracy, lower, upper) with a bootstrap over tasks (columns)."""
    from scipy.stats import rankdata

    predicted = np.asarray(predicted, dtype=float)
    rho = spearman(matrix.mean(axis=1), predicted)
    n = matrix.shape[1]
    if n == 0 or np.ptp(predicted) == 0 or predicted.size < 3:
        return rho, float("nan"), float("nan")
    draws = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))
    real = matrix[:, draws].mean(axis=2).T  # (n_boot, designs)
    ranks = rankdata(real, axis=1)
    ranks -= ranks.mean(axis=1, keepdims=True)
    target = rankdata(predicted) - rankdata(predicted).mean()
    norm = np.sqrt((ranks**2).sum(axis=1) * (target**2).sum())
    ok = norm > 0  # a resample where every design scores the same has no ranking
    values = (ranks[ok] @ target) / norm[ok]
    if values.size == 0:
        return rho, float("nan"), float("nan")
    tail = (1.0 - level) / 2 * 100
    lo, hi = np.percentile(values, [tail, 100 - tail])
    return rho, float(lo), float(hi)


@dataclass(frozen=True)
class PairOrder:
    """Pairs whose real order a prediction keeps: over resolved pairs and over all distinct pairs."""

    kept_resolved: int
    resolved: int
    kept_all: int
    distinct: int
    resolved_pairs: tuple[tuple[int, int, float, float], ...]  # (i, j, mean difference i - j, its standard error)


def paired_differences(matrix: np.ndarray) -> list[tuple[int, int, float, float]]:
    """(i, j, mean of per-task differences i - j, standard error of that mean) for every design pair."""
    n = matrix.shape[1]
    out = []
    for i, j in itertools.combinations(range(matrix.shape[0]), 2):
        d = matrix[i] - matrix[j]
        se = float(d.std(ddof=1) / np.sqrt(n)) if n > 1 else float("inf")
        out.append((i, j, float(d.mean()), se))
    return out


def pair_order(matrix: np.ndarray, predicted: np.ndarray, *, z: float = 2.0) -> PairOrder:
    """How many real pair orders ``predicted`` keeps; a pair is resolved when ``|mean difference| > z * SE``."""
    predicted = np.asarray(predicted, dtype=float)
    kept_r = resolved = kept = distinct = 0
    chosen = []
    for i, j, diff, se in paired_differences(matrix):
        if diff == 0:
            continue
        same_order = diff * (predicted[i] - predicted[j]) > 0
        distinct += 1
        kept += same_order
        if abs(diff) > z * se:
            resolved += 1
            kept_r += same_order
            chosen.append((i, j, diff, se))
    return PairOrder(kept_r, resolved, kept, distinct, tuple(chosen))


def agreement_line(records: dict[str, list[dict]], predicted: dict[str, float], *, seed: int = 0) -> str:
    """One line: Spearman with its bootstrap interval, and pairs kept (resolved / all), for design name -> prediction.

    Only designs in both ``records`` and ``predicted``, on the tasks all of them ran.
    """
    names, tasks, matrix = verdict_matrix({k: v for k, v in records.items() if k in predicted})
    if len(names) < 2 or not tasks:
        return "rank agreement: needs two designs traced on the same tasks"
    guess = np.array([predicted[n] for n in names])
    rho, lo, hi = bootstrap_spearman(matrix, guess, seed=seed)
    order = pair_order(matrix, guess)
    return (
        f"Spearman {rho:.2f} (95 % bootstrap over {len(tasks)} tasks {lo:.2f} to {hi:.2f}); real order kept in "
        f"{order.kept_resolved}/{order.resolved} resolved design pairs (paired difference beyond 2 SE), "
        f"{order.kept_all}/{order.distinct} of all pairs"
    )
