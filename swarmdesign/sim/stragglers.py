"""First-valid stragglers: how many attempts the slowest item, and the slowest task's chain, make.

Why a module of its own: a first-valid item retries until an attempt is
accepted, so attempts per item vary, and a run waits for the slowest of
them, not for the mean (Dean and Barroso 2013, "The Tail at Scale"). Which
slowest depends on what bounds the run:

* when the workers are the bottleneck, the run ends with the last item to
  finish, one item among all of them: the expected maximum over the items
  (where a hub or another stage is the bottleneck, it works through its
  backlog while the stragglers retry: see ``fast_resources``);
* when every item has a worker (a team far larger than its work), the run
  is the longest task: its levels follow one another, each waits for its
  own slowest item, so it is the maximum over tasks of a sum over levels of
  a per-level maximum. With thousands of agents and work in levels this is
  well above ``levels x mean`` plus one item's tail.

Both come from one law, ``q_m = P(an item needs at least m attempts)``:
``E[r^(m-1)]`` for an attempt's rejection ``r``, over the correlated
success of attempts on one question (the Beta model the quality chain's
first-valid uses, :func:`swarmdesign.sim.voting.first_valid_with_attempts`),
averaged over the questions (items draw questions independently). Agents
that err alike fail a hard question again and again: the tail is far
heavier than independent attempts give at the same mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from swarmdesign.fitness import Scenario


@dataclass(frozen=True)
class AttemptLaw:
    """``survival[i, m - 1] = q_m`` for ``m = 1..k_max + 1`` of the first-valid rows ``rows``.

    ``q_1 = 1`` and ``q_m = 0`` past a row's own cap ``k`` (it stops
    trying), so a row's attempts lie in ``1..k``; the last column is always
    0. Rows not listed make exactly their mean number of attempts (voters
    attempt side by side: no straggler).
    """

    n_designs: int
    rows: np.ndarray  # (R,) design indices
    survival: np.ndarray  # (R, k_max + 1)

    @classmethod
    def build(cls, n_designs: int, rows: np.ndarray, more_than: np.ndarray) -> AttemptLaw:
        """``more_than`` ``(R, k_max)``: column ``m`` is the chance an item needs more than ``m`` attempts."""
        survival = np.zeros((rows.size, more_than.shape[1] + 1))
        survival[:, :-1] = np.clip(more_than, 0.0, 1.0)
        survival[:, 0] = 1.0
        return cls(n_designs=n_designs, rows=rows, survival=survival)

    def most_of(self, items: float) -> np.ndarray:
        """Expected most attempts any one of ``items`` items makes, ``(D,)`` (1 on other rows).

        ``sum_m 1 - (1 - q_m)^N``; with thousands of items some item nearly
        always exhausts the cap, so a higher cap lengthens a run even when
        the mean hardly moves.
        """
        out = np.ones(self.n_designs)
        if self.rows.size == 0 or items <= 0:
            return out
        q = np.minimum(self.survival, 1.0 - 1e-15)
        out[self.rows] = (-np.expm1(items * np.log1p(-q))).sum(axis=1)
        return out

    def longest_chain(self, level_sizes: list[int], tasks: np.ndarray, gap: np.ndarray | None = None) -> np.ndarray:
        """Expected most attempts along one task's levels, the maximum over ``tasks`` tasks, ``(D,)``.

        A level of ``s`` items ends with its slowest: ``P(M <= m) = (1 - q_(m+1))^s``.
        The levels of a task are independent, so their sum's law is the
        product of their characteristic functions (one FFT per distinct
        level size); the longest of ``T`` tasks is ``sum_x 1 - F(x)^T``.
        ``tasks`` ``(D,)`` may be real. Other rows make one attempt per level.

        ``gap`` ``(D,)``: tasks that a planner releases one after another,
        ``gap`` attempts apart, end at their release plus their chain, so the
        run ends with ``max_i S_i - i gap`` past the *last* release (``i`` tasks
        before it): a task released early has that much more time. Its law
        is ``P(U <= u) = prod_i F(u + i gap)`` (:func:`_staggered_longest`).
        Rows with a gap of 0 start together (the formula above).
        """
        out = np.full(self.n_designs, float(len(level_sizes)))
        if self.rows.size == 0 or not level_sizes:
            return out
        k = self.survival.shape[1] - 1  # attempts lie in 1..k
        span = len(level_sizes) * k + 1  # support of the sum: 0..L k
        n_fft = 1 << int(np.ceil(np.log2(span)))
        spectrum = np.ones((self.rows.size, n_fft // 2 + 1), dtype=complex)
        for size in sorted(set(level_sizes)):
            cdf = np.ones((self.rows.size, k + 1))  # P(M <= m), m = 0..k
            cdf[:, 0] = 0.0
            cdf[:, 1:k] = (1.0 - self.survival[:, 1:k]) ** size
            pmf = np.diff(cdf, axis=1, prepend=0.0)
            spectrum *= np.fft.rfft(pmf, n=n_fft, axis=1) ** level_sizes.count(size)
        pmf_sum = np.clip(np.fft.irfft(spectrum, n=n_fft, axis=1)[:, :span], 0.0, None)
        cdf_sum = np.clip(np.cumsum(pmf_sum, axis=1) / pmf_sum.sum(axis=1, keepdims=True), 1e-300, 1.0)
        t = np.maximum(np.asarray(tasks, dtype=float)[self.rows], 1.0)
        together = np.ones(self.rows.size, dtype=bool)
        if gap is not None:
            g = np.asarray(gap, dtype=float)[self.rows]
            together = ~(g > 0)
            apart = np.flatnonzero(~together)
            if apart.size:
                out[self.rows[apart]] = _staggered_longest(cdf_sum[apart], t[apart], g[apart])
        rows = np.flatnonzero(together)
        out[self.rows[rows]] = (-np.expm1(t[rows, None] * np.log(cdf_sum[rows, :-1]))).sum(axis=1)
        return out


#: Points per attempt at which the law of the longest staggered chain is integrated (midpoints): the
#: expectation is within 1 / (2 x this) attempts of the exact integral of its monotone step function.
_STAGGER_POINTS = 8


def _staggered_longest(cdf: np.ndarray, tasks: np.ndarray, gap: np.ndarray) -> np.ndarray:
    """``E[max_i S_i - i gap]`` over ``i = 0 .. tasks - 1``, for chains of law ``cdf`` ``(R, span)``, ``(R,)``.

    ``cdf[:, n] = P(S <= n)`` on the integers (1 from the last column on).
    With ``i`` tasks released ``i gap`` before the last, ``P(U <= u) =
    prod_i P(S <= floor(u + i gap))``. With ``K(y) = clip(ceil(y / gap), 0,
    tasks)`` the number of ``i`` with ``i gap < y``, the ``i`` that land on
    the integer ``n`` number ``K(n + 1 - u) - K(n - u)``, and summing by
    parts, ``log P(u) = sum_n K(n - u) (log F(n - 1) - log F(n))`` over the
    chain's support: exact for every gap and task count. ``U`` lies between
    the least sum any chain makes (``lo``: the last task alone has ``S >=
    lo``, so ``P = 0`` below it) and the most (``hi``: ``P = 1`` from there),
    where its expectation is the integral of ``1 - P`` at
    :data:`_STAGGER_POINTS` midpoints per attempt. On that grid ``n - u``
    takes only about ``2 X`` values (``X`` points), so ``K`` is computed once
    per row and the sum over ``n`` at every point is one correlation (FFT):
    a generation of 20 planned first-valid designs costs about a tenth of
    its simulation, against a third with a term per point and support value.
    """
    lo = int(np.argmax((cdf > 1e-12).any(axis=0)))  # the smallest sum any row reaches (to 1e-12)
    hi = int(np.argmax((cdf >= 1.0 - 1e-12).all(axis=0)))  # every row's sum is at most this (to 1e-12)
    if hi <= lo:
        return np.full(cdf.shape[0], float(lo))
    pts = _STAGGER_POINTS
    x = (hi - lo) * pts  # midpoints u_j = lo + (j + 1/2) / pts, j < x
    log_f = np.log(np.maximum(cdf[:, lo:hi], 1e-300))  # n = lo .. hi - 1
    # weights of K(n - u) for n = lo + 1 .. hi: log F(n - 1) - log F(n), and log F(hi - 1) at hi (F(hi) = 1)
    weights = np.concatenate([log_f[:, :-1] - log_f[:, 1:], log_f[:, -1:]], axis=1)  # (R, hi - lo)
    # n - u_j = (pts (n - lo) - j - 1/2) / pts = (e - x + 1/2) / pts with e = pts (n - lo) + x - 1 - j: the
    # sum over n is a correlation of one row of K values with the weights spaced pts apart, done by FFT
    e = np.arange(2 * x + pts)
    k_all = np.clip(np.ceil((e - x + 0.5) / pts / gap[:, None]), 0.0, tasks[:, None])  # (R, 2x + pts)
    spaced = np.zeros((cdf.shape[0], x))
    spaced[:, ::pts] = weights  # spaced[:, pts (n - lo - 1)] = weight of n
    size = 1 << int(np.ceil(np.log2(k_all.shape[1] + x)))
    corr = np.fft.irfft(np.fft.rfft(k_all, size, axis=1) * np.fft.rfft(spaced[:, ::-1], size, axis=1), size, axis=1)
    # log P(u_j) = sum_m spaced[m] K[m + pts + x - 1 - j]: the full correlation's entry x - 1 + pts + x - 1 - j
    log_p = corr[:, 2 * x - 2 + pts - np.arange(x)]
    return lo - np.expm1(log_p).sum(axis=1) / pts


def straggler_ends(
    law: AttemptLaw,
    mean_attempts: np.ndarray,
    attempt_s: np.ndarray,
    queued_s: np.ndarray,
    scenario: Scenario,
    t_parallel: np.ndarray,
    chain: np.ndarray | float,
    release_s: np.ndarray,
    planned: np.ndarray,
    plan_fill: np.ndarray,
) -> np.ndarray:
    """When the parallel phase would end with first-valid's slowest attempts counted, ``(D,)`` (0 elsewhere).

    The later of two events: the last item on busy workers (``t_parallel``
    plus the most attempts any parallel item makes beyond the mean, less the
    ``queued_s`` its report would have waited at a busy hub, which serves
    the others meanwhile) and the longest task (``chain``, its levels at the
    mean, plus its levels' slowest items beyond the mean), which is what
    binds a team far larger than its work. Tasks that a planner releases
    every ``release_s`` end at their release plus their chain, so the run
    ends past the last release (``tasks x release_s``) with the longest of
    the chains less the time each task was released before the last
    (:meth:`AttemptLaw.longest_chain` with a gap); the pipeline's
    fill already holds ``plan_fill`` of that release (the first plan, or a
    plan-bound pipeline's last item), which comes off. Serial items run one
    after another: their total is the sum of their attempts, whose mean is
    already charged, so they add no straggler. ``attempt_s`` is one
    attempt's time, slowed by coordination like every parallel-phase call.
    """
    wl = scenario.workload
    p = wl.parallel_fraction
    out = np.zeros_like(mean_attempts)
    if law.rows.size == 0 or p <= 0:
        return out
    levels = list(wl.level_sizes)
    tail = np.maximum(law.most_of(p * wl.tasks * wl.subtasks) - mean_attempts, 0.0) * attempt_s
    tasks = np.full(mean_attempts.shape, float(wl.tasks))
    gap = np.where(planned, release_s / np.maximum(attempt_s, 1e-12), 0.0)
    longest = np.maximum(law.longest_chain(levels, tasks, gap) - len(levels) * mean_attempts, 0.0) * attempt_s
    released = np.where(planned, wl.tasks * release_s - plan_fill, 0.0)
    ends = np.maximum(t_parallel + np.maximum(tail - queued_s, 0.0), chain + longest + released)
    out[law.rows] = ends[law.rows]
    return out
