"""Redundancy and aggregation: k attempts per item combined into one answer, computed exactly.

Sources: Condorcet's jury theorem; Li et al. 2024 "More Agents Is All You
Need" (sampling-and-voting gains grow with the number of agents and then
saturate); Chen et al. 2024 "Are More LLM Calls All You Need?" (voting helps
items an agent usually gets right and hurts items it usually gets wrong).

Correlated attempts are modelled as a latent-difficulty mixture, the
beta-binomial: on one item the attempts of a design share a per-item
correctness ``p_i ~ Beta(p (1 - rho) / rho, (1 - p)(1 - rho) / rho)`` (mean
``p``, intra-class correlation ``rho``) and are independent given ``p_i``.
Two attempts are then both right with ``p^2 + rho p (1 - p)``: their
correctness has correlation ``rho`` exactly. Every probability below is the
exact expectation over ``p_i``; the moments ``E[p_i^x (1 - p_i)^y]`` of a
Beta are rising products (``prod_{i<x} (p + i s)`` with ``s = rho / (1 -
rho)``), so no quadrature is needed and ``rho = 0`` gives the plain binomial
(independent ``p = 0.6``: 0.600 at ``k = 2`` with a fair tie-break, 0.648 at
``k = 3``). A Kish effective voter count is reported as a diagnostic only.

Attempt counts are integers (``coordination.redundancy``); functions take
``(D, Q)`` probability arrays and per-row ``(D,)`` or ``(D, 1)`` counts.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np

from swarmdesign.sim.ufuncs import clip

MAX_RHO = 0.999


@lru_cache(maxsize=128)
def _comb_row(m: int) -> np.ndarray:
    """Binomial coefficients ``C(m, 0..m)`` (cached: the same few counts recur in every batch)."""
    # scipy.special on first use: its ~0.2 s import is not for validating a scenario
    from scipy.special import comb

    return comb(m, np.arange(m + 1))


def effective_voters(n: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """Kish design effect ``N / (1 + (N - 1) rho)``: a diagnostic of how alike the voters are."""
    n = np.asarray(n, dtype=float)
    return n / (1.0 + (n - 1.0) * rho)


def voter_correlation(
    same_model_share: np.ndarray,
    heterogeneity: np.ndarray,
    same_model: float,
    cross_model: float,
    decorrelation: float,
) -> np.ndarray:
    """Correlation rho of two attempts' correctness on one item (unitless, 0..1).

    ``same_model_share`` is the probability that two attempts come from the
    same model (sum of squared model shares); ``heterogeneity`` (0..1) is the
    design's prompt/persona diversity, which removes ``decorrelation`` of the
    correlation at 1.
    """
    base = same_model_share * same_model + (1.0 - same_model_share) * cross_model
    return base * (1.0 - decorrelation * heterogeneity)


def _rising(p: np.ndarray, s: np.ndarray, n: int) -> np.ndarray:
    """``prod_{i<j} (p + i s)`` for ``j = 0..n``, shape ``p.shape + (n + 1,)``.

    ``s`` may have a smaller shape that broadcasts to ``p``'s (rho's ``(D, 1)``).
    One product per ``j`` into the table's column: ``np.cumprod`` along a
    last axis of a few entries runs its loop once per row and cost 3-4 times
    as much, at every batch size. The factors and their order are those of
    the running product (``1 * (p + 0 s) * (p + s) * ...``), so each entry is
    the same number.
    """
    out = np.empty((*p.shape, n + 1))
    out[..., 0] = 1.0
    for i in range(n):
        np.multiply(out[..., i], p + i * s, out=out[..., i + 1])
    return out


class BetaMoments:
    """``E[p_i^x (1 - p_i)^y]`` for ``x + y <= n`` under the beta-binomial latent of the module docstring."""

    def __init__(self, p: np.ndarray, rho: np.ndarray, n: int, *, right: bool = True) -> None:
        p = clip(np.asarray(p, dtype=float), 0.0, 1.0)
        rho = clip(np.asarray(rho, dtype=float), 0.0, MAX_RHO)
        s_rho = rho / (1.0 - rho)
        # the rising products of p are needed only for moments with x > 0 (the judge reads E[(1 - p_i)^n]:
        # without them, x = 0 reads as the factor 1 it is, and the quotient keeps its value)
        self.right = _rising(p, s_rho, n) if right else None
        self.wrong = _rising(1.0 - p, s_rho, n)
        # the normaliser prod_{i<j} (1 + i s) depends on rho only: computed at rho's shape, broadcast on use
        self.total = _rising(np.ones_like(s_rho), s_rho, n)

    def take(self, rows: np.ndarray) -> BetaMoments:
        """The moments of ``rows`` only (the first axis), for every ``x + y <= n`` of this object."""
        out = object.__new__(BetaMoments)
        out.right = None if self.right is None else self.right[rows]
        out.wrong = self.wrong[rows]
        out.total = self.total[rows] if self.total.shape[0] == self.wrong.shape[0] else self.total
        return out

    def __call__(self, x: int, y: int) -> np.ndarray:
        if x == 0:  # the rising product of p over no step is exactly 1: 1 * w is w, bit for bit
            return self.wrong[..., y] / self.total[..., y]
        return self.right[..., x] * self.wrong[..., y] / self.total[..., x + y]

    def count_pmf(self, n: int) -> np.ndarray:
        """Probability that exactly ``j`` of ``n`` attempts are right, ``j = 0..n`` on the last axis."""
        return _comb_row(n) * self.right[..., : n + 1] * self.wrong[..., n::-1] / self.total[..., n : n + 1]


@lru_cache(maxsize=256)
def plurality_win_table(n: int, concentration: float) -> np.ndarray:
    """Probability that the right answer wins a plurality with ``j`` right votes of ``n``, shape ``(n + 1,)``.

    Each of the ``n - j`` wrong votes falls on the one most common wrong answer
    with probability ``concentration``, else on an answer nobody else gives.
    Ties are broken uniformly among the tied answers. Independent of ``p``.
    """
    # scipy.special on first use: its ~0.2 s import is not for validating a scenario
    from scipy.special import comb

    out = np.zeros(n + 1)
    for j in range(1, n + 1):
        wrong = n - j
        w = np.arange(wrong + 1)
        pw = comb(wrong, w) * concentration**w * (1.0 - concentration) ** (wrong - w)
        if j >= 2:
            win = np.where(w < j, 1.0, np.where(w == j, 0.5, 0.0))
        else:  # one right vote ties with every answer given once
            scattered = wrong - w
            win = np.where(w == 0, 1.0 / (1.0 + scattered), np.where(w == 1, 1.0 / (2.0 + scattered), 0.0))
        out[j] = float(pw @ win)
    return out


def _by_count(k: np.ndarray, p: np.ndarray, fn: Callable[[np.ndarray, int], np.ndarray]) -> np.ndarray:
    """Apply ``fn(rows, n)`` to the rows of each distinct integer attempt count ``n``."""
    k = np.asarray(k).reshape(-1).astype(np.int64)
    out = np.array(p, dtype=float, copy=True)
    for n in np.unique(k):
        if n <= 1:
            continue
        rows = np.flatnonzero(k == n)
        out[rows] = fn(rows, int(n))
    return out


# below this many rows one pass over every cap costs less than one pass per distinct cap
_ONE_PASS_ROWS = 256


def _by_count_moments(
    k: np.ndarray,
    p: np.ndarray,
    rho: np.ndarray,
    fn: Callable[[BetaMoments, np.ndarray, int], np.ndarray],
    copies: int = 1,
    right: bool = True,
) -> np.ndarray:
    """Apply ``fn(moments, rows, n)`` to the rows of each distinct attempt count ``n > 1``.

    In a small batch (a swarm's generation) the Beta moments are computed
    once, up to the largest count, for every row that votes: the moments of
    a smaller count are a prefix of the same products, so each count's rows
    read theirs from that one table (identical values) instead of a pass of
    their own. A large batch keeps one pass per count, which computes no
    moment it does not use. When the rows are ``copies`` stacked copies of
    one batch (several fault settings scored at once), the choice is made on
    one copy's rows, the one it gets alone. ``right=False``: the rule reads
    no moment with ``x > 0``.
    """
    k = np.asarray(k).reshape(-1).astype(np.int64)
    several = np.flatnonzero(k > 1)
    if several.size // copies > _ONE_PASS_ROWS:
        return _by_count(k, p, lambda rows, n: fn(BetaMoments(p[rows], rho[rows][:, None], n, right=right), rows, n))
    out = np.array(p, dtype=float, copy=True)
    if several.size == 0:
        return out
    ks = k[several]
    mom = BetaMoments(p[several], rho[several][:, None], int(ks.max()), right=right)
    for n in np.unique(ks):
        sub = np.flatnonzero(ks == n)
        rows = several[sub]
        out[rows] = fn(mom.take(sub), rows, int(n))
    return out


def majority_vote(
    p: np.ndarray, k: np.ndarray, rho: np.ndarray, concentration: float = 1.0, *, copies: int = 1
) -> np.ndarray:
    """Probability that a plurality of ``k`` correlated attempts is right, ``(D, Q)``.

    ``p`` ``(D, Q)`` per-attempt success, ``k`` ``(D,)`` attempts, ``rho``
    ``(D,)`` correlation. Exact: ``sum_j P(j right) W(j)`` with the
    beta-binomial count and :func:`plurality_win_table`. ``copies``: see
    :func:`_by_count_moments`.
    """
    rho = np.asarray(rho, dtype=float).reshape(-1)

    def rule(mom: BetaMoments, rows: np.ndarray, n: int) -> np.ndarray:
        pmf = mom.count_pmf(n)
        return np.einsum("dqj,j->dq", pmf, plurality_win_table(n, float(concentration)))

    return _by_count_moments(k, p, rho, rule, copies)


def judge_select(
    p: np.ndarray, k: np.ndarray, rho: np.ndarray, judge_accuracy: np.ndarray, *, copies: int = 1
) -> np.ndarray:
    """A judge reads the attempts and picks one.

    With probability ``judge_accuracy`` it recognises a right attempt when one
    exists (``1 - E[(1 - p_i)^k]``), else its pick is as good as a random
    attempt: ``P = p + (P_any - p) * judge_accuracy``.
    """
    rho = np.asarray(rho, dtype=float).reshape(-1)

    def rule(mom: BetaMoments, rows: np.ndarray, n: int) -> np.ndarray:
        none_right = mom(0, n)
        return p[rows] + (1.0 - none_right - p[rows]) * judge_accuracy[rows]

    return _by_count_moments(k, p, rho, rule, copies, right=False)


@lru_cache(maxsize=64)
def _comb_matrix(n: int) -> np.ndarray:
    """``C(m, l)`` for ``m, l < n`` (0 for ``l > m``; cached, read-only)."""
    from scipy.special import comb  # on first use, as in _comb_row

    steps = np.arange(n)
    out = comb(steps[:, None], steps[None, :])
    out.flags.writeable = False
    return out


@lru_cache(maxsize=64)
def _lag_index(n: int) -> np.ndarray:
    """``m - l`` for ``m, l < n``, and ``n`` (a row of zeros) where ``l > m`` (cached, read-only)."""
    steps = np.arange(n)
    out = steps[:, None] - steps[None, :]
    out[out < 0] = n
    out.flags.writeable = False
    return out


# above this many entries the lag table of _first_valid_terms is not built: one product per lag instead
_LAG_TABLE_ENTRIES = 1 << 20


def _first_valid_terms(
    p: np.ndarray, rho: np.ndarray, counts: np.ndarray, detection: np.ndarray, false_reject: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``sum_{m<n} E[p_i r^m]``, ``E[p_i r^(n-1)]``, ``sum_{m<n} E[r^m]`` and each ``E[r^m]``.

    ``r = fr p_i + det (1 - p_i)`` is the rejection probability of one attempt.

    The last, ``(n, ...)`` with ``m`` first, is the chance an item needs
    more than ``m`` attempts (0 past a row's cap): the law of the attempts,
    whose tail the run waits for (:mod:`swarmdesign.sim.stragglers`).

    ``r^m`` expands into
    ``sum_l C(m, l) fr^l det^(m-l) p_i^l (1 - p_i)^(m-l)`` (all terms
    positive, so no cancellation), whose expectations are Beta moments:
    ``E[r^m] = sum_l C(m, l) A_l B_(m-l) / T_m`` with
    ``A_l = fr^l prod_{i<l} (p + i s)``, ``B_j = det^j prod_{i<j} (1 - p + i s)``
    and ``T_k = prod_{i<k} (1 + i s)``; ``E[p_i r^m]`` takes ``A_l (p + l s)``
    and ``T_(m+1)``. Every ``m`` at once is a truncated convolution of ``A``
    and ``B``: one product with a table of lagged ``B`` (``B_(m-l)`` at
    ``[m, l]``), or, when that table would be large, one product per lag
    ``l``. The step axis comes first, so every slice is contiguous and the
    operation count does not grow with ``m``'s inner loop as a per-``m``
    expansion's does (that cost ~10 numpy calls per ``m``). ``counts``
    ``(D,)`` is each row's attempt cap ``n``; rows with a smaller cap drop the
    terms past their ``n``, so rows of several caps share one pass.
    """
    counts = np.asarray(counts).reshape(-1)
    n = int(counts.max())
    p = clip(np.asarray(p, dtype=float), 0.0, 1.0)
    rho = clip(np.asarray(rho, dtype=float), 0.0, MAX_RHO)
    det, fr = np.asarray(detection, dtype=float), np.asarray(false_reject, dtype=float)
    s = rho / (1.0 - rho)
    lag_s = np.arange(n, dtype=float)[:, None, None] * s  # l s, (n, D, 1)
    right_f = p + lag_s  # p + l s, (n, D, Q)
    a = np.empty((n, *p.shape))  # A_l
    b = np.empty((n + 1, *p.shape))  # B_j, and a row of zeros at n for the lag table
    total = np.empty((n + 1, *s.shape))  # T_k
    a[0], b[0], b[n], total[0] = 1.0, 1.0, 0.0, 1.0
    fa, fb, ft = fr * right_f[:-1], det * ((1.0 - p) + lag_s[:-1]), 1.0 + lag_s
    # running products, one multiply per step (np.cumprod along the first axis is slower at these sizes)
    for j in range(1, n):
        np.multiply(a[j - 1], fa[j - 1], out=a[j])
        np.multiply(b[j - 1], fb[j - 1], out=b[j])
    for j in range(1, n + 1):
        np.multiply(total[j - 1], ft[j - 1], out=total[j])
    a_right = a * right_f
    cm = _comb_matrix(n)
    if n * n * p.size <= _LAG_TABLE_ENTRIES:
        lagged = b[_lag_index(n)]  # B_(m-l) at [m, l], 0 for l > m
        lagged *= cm[:, :, None, None]
        tries = np.einsum("ml...,l...->m...", lagged, a)
        right = np.einsum("ml...,l...->m...", lagged, a_right)
    else:
        tries, right = np.zeros((n, *p.shape)), np.zeros((n, *p.shape))
        for lag in range(n):
            g = cm[lag:, lag, None, None] * b[: n - lag]
            tries[lag:] += g * a[lag]
            right[lag:] += g * a_right[lag]
    tries /= total[:n]
    right /= total[1:]
    active = (np.arange(n)[:, None] < counts)[..., None]  # (n, D, 1): the steps within each row's cap
    survival = tries * active
    right_sum = (right * active).sum(axis=0)
    last = right[counts - 1, np.arange(counts.size)]
    return right_sum, last, survival.sum(axis=0), survival


def _cap_groups(k: np.ndarray, copies: int = 1) -> list[np.ndarray]:
    """Row groups of :func:`_first_valid_terms`: one group in a small batch, else one per distinct cap > 1.

    ``copies``: the rows are that many stacked copies of one batch; the choice is made on one copy's rows.
    """
    several = k > 1
    if np.count_nonzero(several) // copies <= _ONE_PASS_ROWS:
        rows = np.flatnonzero(several)
        return [rows] if rows.size else []
    return [np.flatnonzero(k == n) for n in np.unique(k[several])]


def first_valid_with_attempts(
    p: np.ndarray,
    k: np.ndarray,
    rho: np.ndarray,
    detection: np.ndarray,
    false_reject: np.ndarray | float = 0.0,
    *,
    copies: int = 1,
    weights: np.ndarray | None = None,
    z: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """:func:`first_valid`, :func:`first_valid_attempts` (both ``(D, Q)``), the attempts' law and their pgf.

    The law, ``(D, max k)``: column ``m`` is the chance an item needs more
    than ``m`` attempts, averaged over the questions (1 in column 0, 0 past a
    row's cap). ``detection`` and ``false_reject`` may be ``(D, Q)`` or
    ``(D, 1)`` (kept at that shape: they broadcast in the arithmetic);
    ``copies``: see :func:`_cap_groups`. ``weights`` ``(D, Q)``: each
    question's weight in that average instead of ``1``, for rows that hold one
    of several cases of an item (a sound or an unsound plan) whose laws are
    summed afterwards.

    ``z`` ``(D,)``: the attempts' generating function ``E[z^N]`` per question
    is returned too, ``(D, Q)`` (times ``weights``; None without ``z``), from
    ``P(N = m) = E[r^(m-1)] - E[r^m]`` (at the cap ``k``, ``E[r^(k-1)]``).
    What a hub relays grows with the attempts, and the chance it loses a
    task's state grows with what it relays, not linearly: its expectation
    needs the whole law (correlated attempts are few on most questions and
    many on a few), not the mean.
    """
    rho = np.asarray(rho, dtype=float).reshape(-1)
    det, fr = (np.asarray(x, dtype=float) for x in (detection, false_reject))
    det, fr = (x if x.ndim == 2 and x.shape[0] == p.shape[0] else np.broadcast_to(x, p.shape) for x in (det, fr))
    right = np.array(p, dtype=float, copy=True)
    attempts = np.ones_like(right)
    kk = np.asarray(k).reshape(-1).astype(np.int64)
    law = np.zeros((kk.size, int(kk.max(initial=1))))
    law[:, 0] = 1.0
    pgf = None
    if z is not None:  # one attempt (k = 1): z itself
        z = np.asarray(z, dtype=float).reshape(-1)
        pgf = z[:, None] * (np.ones_like(right) if weights is None else weights)
    for rows in _cap_groups(kk, copies):
        right_sum, last, tries, survival = _first_valid_terms(
            p[rows], rho[rows][:, None], kk[rows], det[rows], fr[rows]
        )
        right[rows] = (1.0 - fr[rows]) * right_sum + fr[rows] * last
        attempts[rows] = tries
        if weights is not None:
            survival = survival * weights[rows]
        law[rows, : survival.shape[0]] = survival.mean(axis=2).T
        if pgf is not None and z is not None:
            exactly = survival.copy()  # P(N = m) at m - 1 (survival is 0 past a row's cap)
            exactly[:-1] -= survival[1:]
            powers = z[rows] ** np.arange(1, survival.shape[0] + 1)[:, None]  # (n, R)
            pgf[rows] = np.einsum("nr,nrq->rq", powers, exactly)
    return right, attempts, law, pgf


def first_valid(
    p: np.ndarray, k: np.ndarray, rho: np.ndarray, detection: np.ndarray, false_reject: np.ndarray | float = 0.0
) -> np.ndarray:
    """Attempts run one after another; the first that passes validation is taken.

    A wrong attempt is rejected with probability ``detection``, a right one
    with ``false_reject``. Given ``p_i`` (rejection ``r = fr p_i + det (1 -
    p_i)``) the first accepted attempt is right with ``(1 - fr) p_i sum_{m<k}
    r^m``; if all ``k`` are rejected the last is kept (right with ``fr p_i
    r^(k-1)``). For one attempt this is ``p``.
    """
    rho = np.asarray(rho, dtype=float).reshape(-1)
    det = np.broadcast_to(detection, p.shape)
    fr = np.broadcast_to(np.asarray(false_reject, dtype=float), p.shape)

    def rule(rows: np.ndarray, n: int) -> np.ndarray:
        right_sum, last, _, _ = _first_valid_terms(
            p[rows], rho[rows][:, None], np.full(rows.size, n), det[rows], fr[rows]
        )
        return (1.0 - fr[rows]) * right_sum + fr[rows] * last

    return _by_count(k, p, rule)


def first_valid_attempts(
    p: np.ndarray, k: np.ndarray, rho: np.ndarray, detection: np.ndarray, false_reject: np.ndarray | float = 0.0
) -> np.ndarray:
    """Expected attempts made by first-valid with at most ``k`` attempts: ``E[sum_{m<k} r^m]``, ``(D, Q)``."""
    rho = np.asarray(rho, dtype=float).reshape(-1)
    det = np.broadcast_to(detection, p.shape)
    fr = np.broadcast_to(np.asarray(false_reject, dtype=float), p.shape)

    def rule(rows: np.ndarray, n: int) -> np.ndarray:
        return _first_valid_terms(p[rows], rho[rows][:, None], np.full(rows.size, n), det[rows], fr[rows])[2]

    return _by_count(k, np.ones_like(p), rule)
