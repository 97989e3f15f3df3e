"""DEAP's operators on box genomes, without DEAP's globals.

DEAP's ``creator.create`` writes classes into a module namespace (a warning
when repeated, trouble when pickling), so nothing here uses it: variation
calls DEAP's operators on plain lists, and selection works on rows of loss
arrays with DEAP's own orders and draws (:mod:`._pareto`).

DEAP's operators draw from Python's global :mod:`random`. The functions here
that call them (marked "inside :func:`python_random_from`") must run in that
context, which seeds :mod:`random` from the generation's
:class:`numpy.random.Generator` and restores the previous state afterwards:
a generation is then a function of its generator alone, and user code that
uses :mod:`random` is not disturbed. The optimizers enter it once per
generation (saving and restoring the state costs ~40 us, too much per gene).

All fitness values here are *losses* (minimised), as produced by
:meth:`Optimizer.losses`.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from deap import tools

from swarmdesign.optimizers import _pareto
from swarmdesign.optimizers._genes import CATEGORICAL, INTEGER, GeneLayout


@contextmanager
def python_random_from(rng: np.random.Generator) -> Iterator[None]:
    """Seed :mod:`random` from ``rng`` for the block, then put its state back."""
    saved = random.getstate()
    random.seed(int(rng.integers(2**63)))
    try:
        yield
    finally:
        random.setstate(saved)


def finite_losses(losses: np.ndarray, violations: np.ndarray | None = None) -> np.ndarray:
    """Losses with Deb's constraint rule folded in, all finite, shape ``(n, m)``.

    Feasible points keep their losses. An infeasible point (violation > 0)
    gets ``ceiling + violation`` on every objective, where ``ceiling`` is
    worse than every feasible loss, so any feasible point dominates it and
    infeasible points are ordered by violation (Deb 2000). Failed
    evaluations (+inf) rank below every infeasible point. The result is only
    comparable within one call.
    """
    loss = np.asarray(losses, dtype=float)
    loss = loss[:, None] if loss.ndim == 1 else loss.copy()
    viol = np.zeros(loss.shape[0]) if violations is None else np.maximum(np.asarray(violations, dtype=float), 0.0)
    failed = ~np.isfinite(loss).all(axis=1)
    infeasible = (viol > 0) & ~failed
    if not (failed.any() or infeasible.any()):
        return loss
    ok = ~failed & ~infeasible
    finite_rows = ~failed
    ref = loss[ok] if ok.any() else (loss[finite_rows] if finite_rows.any() else np.zeros((1, loss.shape[1])))
    ceiling = ref.max(axis=0) + 1.0 + np.abs(ref).max(axis=0)
    loss[infeasible] = ceiling + viol[infeasible, None]
    worst_violation = viol[infeasible].max() if infeasible.any() else 0.0
    loss[failed] = ceiling + worst_violation + 1.0
    return loss


# ------------------------------------------------------------- selection
def select_survivors(
    losses: np.ndarray, k: int, *, elite: int, tournament: int, rng: np.random.Generator
) -> np.ndarray:
    """Rows of the next parent pool of size ``k`` from ``losses`` (``(n, m)``, finite).

    One objective: the ``elite`` best survive unchanged, the rest are filled
    by tournaments (``tools.selTournament``) among the others, which keeps
    weaker but different genomes in the pool. Several objectives: NSGA-II
    survival (``tools.selNSGA2``: non-dominated rank, then crowding).
    Inside :func:`python_random_from`. Both are DEAP's selections with DEAP's
    draws and orders, on rows rather than DEAP individuals
    (:func:`tournaments`, :func:`._pareto.select_nsga2`).
    """
    n = losses.shape[0]
    k = min(k, n)
    if losses.shape[1] > 1:
        return _pareto.select_nsga2(losses, k)
    order = np.argsort(losses[:, 0], kind="stable")
    keep = order[: min(elite, k)].tolist()
    rest = order[len(keep) :].tolist()
    if len(keep) < k and rest:
        keep += tournaments(losses[:, 0].tolist(), rest, k - len(keep), tournament)
    return np.array(keep, dtype=int)


def tournaments(loss: list[float], rows: list[int], k: int, size: int) -> list[int]:
    """``k`` winners of ``size``-way tournaments among ``rows`` on ``loss``: ``tools.selTournament`` on rows.

    The same draws (``random.choice`` of the candidates, ``size`` per
    tournament) and the same winner (the first of the smallest loss, which
    is what ``max`` over DEAP fitnesses picks); inside :func:`python_random_from`.
    """
    chosen = []
    for _ in range(k):
        best = random.choice(rows)
        for _ in range(size - 1):
            other = random.choice(rows)
            if loss[other] < loss[best]:
                best = other
        chosen.append(best)
    return chosen


def rank_and_crowding(losses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Non-dominated rank (0 = first front) and crowding distance of every row of ``losses``.

    DEAP's ``sortNondominated`` and ``assignCrowdingDist``, bit for bit (:mod:`._pareto`).
    """
    return _pareto.rank_and_crowding(losses)


def mating_selection(
    losses: np.ndarray,
    k: int,
    *,
    tournament: int,
    rng: np.random.Generator,
    ranked: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """``k`` parent rows, with replacement: tournaments on loss, or crowded binary tournaments (several objectives).

    ``ranked`` is :func:`rank_and_crowding` of ``losses`` when the caller
    already has it. Inside :func:`python_random_from`.
    """
    n = losses.shape[0]
    if losses.shape[1] == 1:
        return np.array(tournaments(losses[:, 0].tolist(), list(range(n)), k, tournament), dtype=int)
    rank, crowd = rank_and_crowding(losses) if ranked is None else ranked
    a, b = rng.integers(n, size=(2, k))
    a_wins = (rank[a] < rank[b]) | ((rank[a] == rank[b]) & (crowd[a] >= crowd[b]))
    return np.where(a_wins, a, b)


# ------------------------------------------------------------- variation
#: The two directions a stuck integer gene turns, indexed by a 0/1 draw.
_TURNS = (-1, 1)


def crossover(layout: GeneLayout, a: np.ndarray, b: np.ndarray, *, eta: float) -> tuple[np.ndarray, np.ndarray]:
    """Two children of genomes ``a`` and ``b`` (shape ``(d,)``); inside :func:`python_random_from`.

    Categorical genes are swapped position by position (``tools.cxUniform``):
    a choice has no order, so blending two choices means nothing. Integer and
    float genes use bounded simulated binary crossover
    (``tools.cxSimulatedBinaryBounded``), which keeps children near their
    parents on ordered scales.
    """
    ca, cb = _cross(layout, a, b, eta=eta)
    return np.array(layout.snap_values(ca)), np.array(layout.snap_values(cb))


def crossover_one(layout: GeneLayout, a: np.ndarray, b: np.ndarray, *, eta: float) -> np.ndarray:
    """The first child of :func:`crossover` alone (the same draws; the second child is not snapped)."""
    return np.array(layout.snap_values(_cross(layout, a, b, eta=eta)[0]))


def _cross(layout: GeneLayout, a: np.ndarray, b: np.ndarray, *, eta: float) -> tuple[list[float], list[float]]:
    """Both children of :func:`crossover`, not yet snapped."""
    ca, cb = a.tolist(), b.tolist()
    for genes, operator in ((layout.categorical_genes, _swap), (layout.ordinal_genes, _sbx(eta))):
        if genes:
            xa, xb = [ca[g] for g in genes], [cb[g] for g in genes]
            operator(xa, xb)
            for g, va, vb in zip(genes, xa, xb, strict=True):
                ca[g], cb[g] = va, vb
    return ca, cb


def _swap(xa: list[float], xb: list[float]) -> None:
    tools.cxUniform(xa, xb, indpb=0.5)


def _sbx(eta: float) -> Callable[[list[float], list[float]], None]:
    def cross(xa: list[float], xb: list[float]) -> None:
        tools.cxSimulatedBinaryBounded(xa, xb, eta=eta, low=0.0, up=1.0)

    return cross


def mutate(layout: GeneLayout, x: np.ndarray, *, rate: float, eta: float, rng: np.random.Generator) -> np.ndarray:
    """A mutant of ``x`` that differs in at least one gene; inside :func:`python_random_from`.

    Each gene mutates with probability ``rate`` (at least one gene always
    does). Categorical genes take another choice uniformly. Integer and float
    genes get bounded polynomial mutation (``tools.mutPolynomialBounded``) on
    the box scale, which is scale-free (a log-scaled count moves by a factor,
    a 0..3 count by about one); an integer whose bin did not change is moved
    one value up or down, so no mutation is wasted on the same design.
    """
    d = layout.dim
    if d == 0:  # a space with nothing to search: every point is the one design
        return np.array(x, dtype=float)
    genes = [g for g, u in enumerate(rng.random(d).tolist()) if u < rate]
    if not genes:
        genes = [int(rng.integers(d))]
    out = np.asarray(x, dtype=float).tolist()  # one point as a list: per-gene work without numpy calls
    kinds = layout.kinds
    ordinal = [g for g in genes if kinds[g] != CATEGORICAL]
    if ordinal:
        sub = [out[g] for g in ordinal]
        before = [layout.bin_of(g, v) for g, v in zip(ordinal, sub, strict=True)]
        tools.mutPolynomialBounded(sub, eta=eta, low=0.0, up=1.0, indpb=1.0)
        for g, v in zip(ordinal, sub, strict=True):
            out[g] = min(max(v, 0.0), 1.0)
        stuck = [
            g for g, b in zip(ordinal, before, strict=True) if kinds[g] == INTEGER and layout.bin_of(g, out[g]) == b
        ]
        if stuck:
            # rng.choice([-1, 1], size) draws exactly these integers; indexing them skips choice's checks
            turns = rng.integers(0, 2, size=len(stuck)).tolist()
            layout.step_values(out, stuck, [_TURNS[t] for t in turns])
    for g in genes:
        n = layout.sizes[g]
        if kinds[g] == CATEGORICAL and n > 1:
            new = (layout.bin_of(g, out[g]) + 1 + int(rng.integers(n - 1))) % n
            out[g] = layout.centre_of(g, new)
    return np.array(layout.snap_values(out))


def fresh(
    candidate: np.ndarray,
    key: Callable[[np.ndarray], object],
    seen: Any,
    *,
    layout: GeneLayout,
    rate: float,
    eta: float,
    rng: np.random.Generator,
    tries: int = 8,
) -> np.ndarray:
    """``candidate``, mutated again until its design was not seen (at most ``tries`` times).

    Inside :func:`python_random_from`. The evaluators are deterministic for a
    run's seed, so proposing a design already evaluated spends budget for
    nothing. When the mutations keep hitting known designs (a small space
    nearly exhausted), a uniform random point is tried last; if that is known
    too the duplicate is accepted. The accepted point's key is added to
    ``seen`` (a set, or anything with ``in`` and ``add`` such as
    :class:`~swarmdesign.optimizers._genes.TakenKeys`).
    """
    x = candidate
    for attempt in range(tries + 1):
        k = key(x)
        if k not in seen or attempt == tries:
            seen.add(k)
            return x
        if attempt < tries - 1:
            x = mutate(layout, x, rate=rate, eta=eta, rng=rng)
        else:
            x = layout.snap_point(rng.random(layout.dim))
    raise AssertionError("unreachable")  # pragma: no cover
