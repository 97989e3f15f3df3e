"""Review and test stages: catch a share of errors, at a cost, with rework loops.

Each round a checker sees the item; an error is caught with probability
``detection`` and reworked by a producer, whose fresh attempt is right with
probability ``fix``; a right item is sent back by mistake with probability
``false_alarm`` and the rework may break it. The error rate after a round::

    e' = e (1 - detection * fix) + (1 - e) false_alarm (1 - fix)

with the detection of round ``i`` (from 0) lowered to ``detection *
repeat_detection^i`` because the errors a round misses are the ones its
checkers find hard (inspection capture-recapture: misses overlap).

which converges, so review contains errors at a cost of
``e detection + (1 - e) false_alarm`` rework calls per round. The shape
follows code-review practice (defect removal efficiency per inspection pass,
Fagan 1976) and the MAST finding (Cemri et al. 2025) that missing or weak
verification is a leading cause of multi-agent failure.
"""

from __future__ import annotations

import numpy as np


def review_loop(
    error: np.ndarray,
    detection: np.ndarray,
    fix: np.ndarray,
    false_alarm: np.ndarray | float,
    rounds: np.ndarray,
    breaks_right: np.ndarray | None = None,
    repeat_detection: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Run up to ``rounds`` review rounds.

    Args:
        error: error probability of an item before review, shape ``(D, Q)``
            (or ``(S, D, Q)``: settings stacked on leading axes, which the
            other ``(D, Q)`` arguments broadcast against).
        detection: probability a round catches an error, ``(D, Q)``.
        fix: probability a rework attempt is right, ``(D, Q)``.
        false_alarm: share of right items sent back anyway, scalar or ``(D, 1)``.
        rounds: review rounds per design, ``(D,)`` (may be 0).
        breaks_right: share of right items a round breaks, ``(D, Q)``;
            default ``false_alarm * (1 - fix)`` (a fresh attempt after a
            false alarm). An uninformed flag breaks more (the producer
            changes its answer; :class:`~swarmdesign.sim.params.ReviewParams`).
        repeat_detection: round ``i`` (from 0) detects with ``detection *
            repeat_detection^i``: the errors earlier rounds missed are the hard ones.

    Returns:
        ``(error_after, rework_calls)``: error probability after review and
        expected rework calls per item, both ``(D, Q)``.
    """
    e = np.array(error, dtype=float, copy=True)
    rework = np.zeros_like(e)
    n_rows = e.shape[-2]
    # leading axes (several fault settings stacked, fast.quality_chains) broadcast: rows index axis -2
    detection, fix = (x if np.ndim(x) >= 2 else np.broadcast_to(x, e.shape) for x in (detection, fix))
    alarm = np.broadcast_to(np.asarray(false_alarm, dtype=float).reshape(-1, 1), (n_rows, 1))
    if breaks_right is None:
        broken = alarm * (1.0 - fix)
    else:
        broken = breaks_right if np.ndim(breaks_right) >= 2 else np.broadcast_to(breaks_right, e.shape)
    top = int(np.max(rounds, initial=0))
    for i in range(top):
        rows = np.flatnonzero(rounds > i)  # designs still reviewing in round i
        sel = slice(None) if rows.size == n_rows else rows  # every design: a view, no copy
        er, dr = e[..., sel, :], detection[..., sel, :] * repeat_detection**i
        fr, ar = fix[..., sel, :], alarm[sel]
        rework[..., sel, :] += er * dr + (1.0 - er) * ar
        e[..., sel, :] = er * (1.0 - dr * fr) + (1.0 - er) * broken[..., sel, :]
    return e, rework


def inherited_catch(catch: np.ndarray, rounds: np.ndarray, repeat_detection: float) -> np.ndarray:
    """Chance that ``rounds`` rounds expose an inherited error, ``1 - prod_i (1 - catch * repeat^i)``, ``(D, Q)``.

    ``catch`` ``(D, Q)`` is one round's chance to expose and fix it; ``rounds`` ``(D,)``.
    """
    miss = np.ones_like(catch)
    top = int(np.max(rounds, initial=0))
    for i in range(top):
        miss = np.where((rounds > i)[:, None], miss * (1.0 - np.minimum(catch * repeat_detection**i, 1.0)), miss)
    return 1.0 - miss
