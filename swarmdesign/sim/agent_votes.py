"""Agent mode, attempts and votes: correlated successes drawn per item, then counted.

Why a latent propensity: two attempts of one model on one item fail together
more often than chance (they share the model's blind spots on that item),
and two models share some of it (the item is simply hard). Instead of
putting a correlation into a formula, each item gets, per model, a drawn
success propensity ``pi``; the model's attempts on the item are then
independent Bernoulli(``pi``) draws. With ``pi ~ Beta`` of mean ``p`` and
intra-class correlation ``rho`` (``a = p (1 - rho) / rho``, ``b = (1 - p)
(1 - rho) / rho``) the number of right votes among ``k`` same-model attempts
is beta-binomial and two attempts' outcomes correlate by exactly ``rho``.
Models share the propensity's rank (the uniform fed to each model's Beta
quantile) with probability ``cross / same``, so attempts of two models
correlate by ``cross``. Agents of one model but of a different fit to the
work (archetype, context) use the same rank with their own mean: they are
comonotone, as one model's blind spot is.

The vote is then counted, not computed: wrong attempts give the one common
wrong answer with probability ``wrong_answer_concentration``, else an answer
of their own; the answer with most votes wins and a tie among the top
answers is broken uniformly at random.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaincinv

#: intra-class correlations are kept inside (0, 1) so the Beta stays proper
_RHO_MIN, _RHO_MAX = 1e-9, 1.0 - 1e-6


def propensity_ranks(rng: np.random.Generator, n_items: int, n_models: int, share: float) -> np.ndarray:
    """Rank uniforms ``(n_items, n_models)``; two models share an item's rank with probability ``share``.

    Each model copies the item's global rank with probability ``sqrt(share)``,
    so two models both copy it (and agree) with probability ``share``.
    """
    glob = rng.random((n_items, 1))
    own = rng.random((n_items, n_models))
    copies = rng.random((n_items, n_models)) < np.sqrt(np.clip(share, 0.0, 1.0))
    return np.where(copies, glob, own)


def propensity(p: np.ndarray, rank: np.ndarray, rho: float, rank_id: np.ndarray | None = None) -> np.ndarray:
    """Per-item success propensity: the ``rank`` quantile of Beta(mean ``p``, ICC ``rho``); same shape.

    Distinct (p, rank) pairs are few (one per item, model and fit), so the
    inverse Beta is evaluated once per pair; ``rank_id`` (same shape, an
    integer naming each distinct rank) lets the pairs be found cheaply.
    """
    p = np.clip(np.asarray(p, dtype=float), 1e-12, 1.0 - 1e-12)
    if rho <= _RHO_MIN:
        return p
    r = min(rho, _RHO_MAX)
    rank = np.broadcast_to(rank, p.shape)
    scale = (1.0 - r) / r
    if rank_id is None:
        return betaincinv(p * scale, (1.0 - p) * scale, rank)
    p_vals, p_inv = np.unique(p, return_inverse=True)
    key = np.asarray(rank_id, dtype=np.int64).ravel() * p_vals.size + p_inv.ravel()
    _, first, inv = np.unique(key, return_index=True, return_inverse=True)
    pf, rf = p.ravel()[first], rank.ravel()[first]
    return betaincinv(pf * scale, (1.0 - pf) * scale, rf)[inv].reshape(p.shape)


def draw_attempts(
    rng: np.random.Generator,
    p: np.ndarray,
    models: np.ndarray,
    ranks: np.ndarray,
    rho_same: float,
) -> np.ndarray:
    """Right or wrong for attempts ``(M, k)`` of success ``p`` by agents of model index ``models``.

    ``ranks`` is ``(M, n_models)`` from :func:`propensity_ranks` (one row per item).
    """
    rank = np.take_along_axis(ranks, models, axis=1)
    rank_id = np.arange(p.shape[0])[:, None] * ranks.shape[1] + models
    return rng.random(p.shape) < propensity(p, rank, rho_same, rank_id)


def plurality(rng: np.random.Generator, right: np.ndarray, concentration: float) -> np.ndarray:
    """Plurality vote of attempts ``(M, k)``: is the winning answer the right one? ``(M,)``.

    A wrong attempt gives the common wrong answer with probability
    ``concentration``, else an answer no other attempt gives. Ties among the
    answers with most votes are broken uniformly at random.
    """
    m, k = right.shape
    n_right = right.sum(axis=1)
    n_common = (~right & (rng.random((m, k)) < concentration)).sum(axis=1)
    singles = k - n_right - n_common
    top = np.maximum(np.maximum(n_right, n_common), (singles > 0).astype(int))
    contenders = (n_right == top).astype(int) + (n_common == top) + np.where(top == 1, singles, 0)
    # the right answer is one of `contenders` equally placed answers when it has the top count
    return (n_right == top) & (n_right > 0) & (rng.random(m) * contenders < 1.0)


def judge_pick(rng: np.random.Generator, right: np.ndarray, judge_accuracy: np.ndarray) -> np.ndarray:
    """A judge reads the attempts ``(M, k)``: it recognises a right one with ``judge_accuracy`` ``(M,)``.

    Otherwise its pick is one of the attempts at random.
    """
    m, k = right.shape
    spots = rng.random(m) < judge_accuracy
    random_pick = right[np.arange(m), rng.integers(0, k, size=m)]
    return np.where(spots & right.any(axis=1), True, random_pick)


def first_valid_pick(
    rng: np.random.Generator, right: np.ndarray, detection: np.ndarray, false_alarm: float | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Attempts ``(M, k)`` run one after another until a check accepts one (the last is kept).

    A wrong attempt is rejected with probability ``detection`` ``(M,)``, a
    right one with ``false_alarm``. Returns whether the kept attempt is right
    and how many attempts were made, both ``(M,)``.
    """
    m, k = right.shape
    u = rng.random((m, k))
    rejected = np.where(right, u < np.reshape(false_alarm, (-1, 1)), u < detection[:, None])
    accepted = ~rejected
    first = np.where(accepted.any(axis=1), accepted.argmax(axis=1), k - 1)
    return right[np.arange(m), first], first + 1


def outcome_correlation(right: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """Pooled pairwise correlation of attempt outcomes within items, and its number of pairs.

    ``right`` and ``p`` are ``(M, k)``; the estimate is the sum over items of
    ``sum_{a != b} (x_a - p_a)(x_b - p_b)`` divided by the same sum of
    ``sd_a sd_b``: the correlation given each attempt's own success, which
    is what the voting sees.
    """
    if right.shape[1] < 2:
        return 0.0, 0.0
    dev = right - p
    sd = np.sqrt(p * (1.0 - p))
    num = float((dev.sum(axis=1) ** 2 - (dev**2).sum(axis=1)).sum())
    den = float((sd.sum(axis=1) ** 2 - (sd**2).sum(axis=1)).sum())
    pairs = right.shape[0] * right.shape[1] * (right.shape[1] - 1) / 2
    return (num / den if den > 1e-12 else 0.0), pairs
