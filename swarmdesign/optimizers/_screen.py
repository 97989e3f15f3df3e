"""Screening of genetic offspring by a Parzen density ratio over the designs evaluated so far.

Why: an evaluation is the expensive step (an LLM run costs money; even the
simulator's fixed cost per call dominates a small batch), while proposing a
child costs microseconds. ``psoga`` therefore breeds several candidate
children for each particle it replaces and evaluates only the one that looks
most promising: pre-selection, the cheapest form of surrogate assistance for
evolutionary search (Jin 2011, *Swarm and Evolutionary Computation* 1:61-70).

The model is the one TPE uses (Bergstra et al. 2011, NeurIPS): split the
evaluated designs into the best share ``gamma`` and the rest, fit one Parzen
density to each, gene by gene, and rank a candidate by ``log l(x) - log g(x)``.
Gene by gene because a few dozen points cannot fit the interactions of 10-30
genes, while a per-gene density still says which categories and which part of
an ordered range the good designs share. A categorical gene is a smoothed
histogram of its bins; an ordered gene (integer or float) a Gaussian kernel
in box coordinates. Both mix in a uniform prior of weight one observation, so
a value no design has tried yet keeps a finite, moderate score and the search
can still step off the evaluated designs.

Only the ranking matters; the model never replaces an evaluation. The
memory it fits on is bounded (the best ``keep_best`` designs and the
``keep_recent`` most recent others), so a long run's generation costs the
same from its first batch to its last.
"""

from __future__ import annotations

import math

import numpy as np

from swarmdesign.optimizers._genes import GeneLayout


def remember(
    memory_x: np.ndarray | None,
    memory_loss: np.ndarray | None,
    x: np.ndarray,
    loss: np.ndarray,
    *,
    keep_best: int,
    keep_recent: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The memory with a generation's snapped designs ``x`` and scalar losses ``loss`` added.

    Keeps the ``keep_best`` lowest losses and, of the rest, the ``keep_recent``
    latest (in order of arrival; ties of loss keep the earlier design).
    """
    x = np.atleast_2d(np.asarray(x, dtype=float))
    loss = np.asarray(loss, dtype=float).reshape(-1)
    if memory_x is None or memory_loss is None:
        all_x, all_loss = x, loss
    else:
        all_x, all_loss = np.vstack([memory_x, x]), np.concatenate([memory_loss, loss])
    n = len(all_loss)
    if n <= keep_best + keep_recent:
        return all_x, all_loss
    best = np.argsort(all_loss, kind="stable")[:keep_best]
    rest = np.setdiff1d(np.arange(n), best)[-keep_recent:] if keep_recent > 0 else np.zeros(0, dtype=int)
    keep = np.sort(np.concatenate([best, rest]))
    return all_x[keep], all_loss[keep]


def log_ratio(
    layout: GeneLayout, memory_x: np.ndarray, memory_loss: np.ndarray, candidates: np.ndarray, *, gamma: float
) -> np.ndarray:
    """``log l(c) - log g(c)`` of every candidate row: higher means more like the best ``gamma`` of the memory.

    Zero for every candidate when the memory cannot be split (fewer than two
    designs), so a ranking by it keeps the candidates' order.
    """
    c = np.atleast_2d(np.asarray(candidates, dtype=float))
    n = len(memory_loss)
    if n < 2:
        return np.zeros(len(c))
    n_good = min(max(1, math.ceil(gamma * n)), n - 1)
    order = np.argsort(memory_loss, kind="stable")
    good, bad = memory_x[order[:n_good]], memory_x[order[n_good:]]
    c_bins = layout.bins(c)  # the candidates' bins, read once for both densities
    return _log_density(layout, good, c, c_bins) - _log_density(layout, bad, c, c_bins)


def _log_density(layout: GeneLayout, obs: np.ndarray, c: np.ndarray, c_bins: np.ndarray) -> np.ndarray:
    """Sum over genes of the log Parzen density of ``obs`` at each row of ``c`` (with a uniform prior).

    ``c_bins`` is ``layout.bins(c)``.
    """
    n = len(obs)
    total = np.zeros(len(c))
    cat = np.asarray(layout.categorical_genes, dtype=int)
    if cat.size:
        n_values = np.maximum(layout.n_values[cat], 1).astype(float)
        same = c_bins[:, None, cat] == layout.bins(obs)[None, :, cat]  # (k, n, genes)
        counts = same.sum(axis=1)
        total += np.log((counts + 1.0 / n_values) / (n + 1.0)).sum(axis=1)
    ordered = np.asarray(layout.ordinal_genes, dtype=int)
    if ordered.size:
        h = 0.5 * (n + 1) ** -0.2  # Scott's rule on a unit range, widened for the few points a search starts with
        z = (c[:, None, ordered] - obs[None, :, ordered]) / h
        kernel = np.exp(-0.5 * z * z).sum(axis=1) / (h * math.sqrt(2.0 * math.pi))
        total += np.log((kernel + 1.0) / (n + 1.0)).sum(axis=1)
    return total
