"""Redundancy and aggregation: k attempts per item combined into one answer.

Sources: Condorcet's jury theorem; Li et al. 2024 "More Agents Is All You
Need" (sampling-and-voting gains grow with the number of agents and then
saturate); Chen et al. 2024 "Are More LLM Calls All You Need?" (voting helps
items an agent usually gets right and hurts items it usually gets wrong, so
the aggregate can rise then fall). Correlated voters count as fewer:
``N_eff = N / (1 + (N - 1) rho)`` (the design effect of an equicorrelated
sample), so homogeneous voters plateau at ``1 / rho`` effective votes.

All functions are elementwise over arrays of any common shape; N may be
real-valued, which the regularised incomplete beta function allows.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betainc


def effective_voters(n: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """Independent-equivalent number of voters for ``n`` voters of pairwise error correlation ``rho``."""
    n = np.asarray(n, dtype=float)
    return n / (1.0 + (n - 1.0) * rho)


def voter_correlation(
    same_model_share: np.ndarray,
    heterogeneity: np.ndarray,
    same_model: float,
    cross_model: float,
    decorrelation: float,
) -> np.ndarray:
    """Pairwise error correlation rho of two attempts (unitless, 0..1).

    ``same_model_share`` is the probability that two attempts come from the
    same model (sum of squared model shares); ``heterogeneity`` (0..1) is the
    design's prompt/persona diversity, which removes ``decorrelation`` of the
    correlation at 1.
    """
    base = same_model_share * same_model + (1.0 - same_model_share) * cross_model
    return base * (1.0 - decorrelation * heterogeneity)


def majority_vote(p: np.ndarray, n_eff: np.ndarray, concentration: float = 1.0) -> np.ndarray:
    """Probability that a plurality of ``n_eff`` voters is right.

    A voter is right with probability ``p``; its wrong answers fall on the
    most common wrong answer with probability ``concentration``. The contest
    is the right answer against that wrong answer:
    ``P = I_{p'}((n'+1)/2, (n'+1)/2) * (1 - (1 - p - q)^n_eff)`` with
    ``q = concentration (1 - p)``, ``p' = p / (p + q)``, ``n' = n_eff (p + q)``.
    For ``concentration = 1`` this is the exact binomial majority of
    Condorcet (ties split evenly); for one voter it is ``p``.
    """
    p = np.clip(p, 1e-12, 1 - 1e-12)
    q = concentration * (1.0 - p)
    contest = p + q
    share = p / contest
    a = (n_eff * contest + 1.0) / 2.0
    wins = betainc(a, a, share)
    if concentration >= 1.0:
        return wins
    return wins * (1.0 - (1.0 - contest) ** n_eff)


def judge_select(p: np.ndarray, n_eff: np.ndarray, judge_accuracy: np.ndarray) -> np.ndarray:
    """A judge reads the attempts and picks one.

    With probability ``judge_accuracy`` it recognises a right attempt when one
    exists (``1 - (1-p)^n_eff``), else its pick is as good as a random
    attempt: ``P = p + (P_any - p) * judge_accuracy``.
    """
    any_right = 1.0 - (1.0 - p) ** n_eff
    return p + (any_right - p) * judge_accuracy


def first_valid(
    p: np.ndarray, n_eff: np.ndarray, detection: np.ndarray, false_reject: np.ndarray | float = 0.0
) -> np.ndarray:
    """Attempts run one after another; the first that passes validation is taken.

    A wrong attempt is rejected with probability ``detection``, a right one
    with probability ``false_reject``. With acceptance ``a = p (1 - fr) +
    (1 - p)(1 - detection)`` and rejection ``r = 1 - a``, the first accepted
    attempt is right with ``p (1 - fr) (1 - r^n) / (1 - r)``; if all ``n``
    are rejected the last one is kept (right with ``r^(n-1) p fr``). For one
    attempt this is ``p``.
    """
    r = np.clip(1.0 - (p * (1.0 - false_reject) + (1.0 - p) * (1.0 - detection)), 0.0, 1 - 1e-12)
    return p * (1.0 - false_reject) * (1.0 - r**n_eff) / (1.0 - r) + r ** (n_eff - 1.0) * p * false_reject


def first_valid_attempts(
    p: np.ndarray, k: np.ndarray, detection: np.ndarray, false_reject: np.ndarray | float = 0.0
) -> np.ndarray:
    """Expected attempts made by first-valid with at most ``k`` attempts: ``(1 - r^k) / (1 - r)``."""
    r = np.clip(1.0 - (p * (1.0 - false_reject) + (1.0 - p) * (1.0 - detection)), 0.0, 1 - 1e-12)
    return (1.0 - r**k) / (1.0 - r)
