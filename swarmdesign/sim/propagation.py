"""Error propagation along dependent steps, hand-offs and merges.

A task's pieces sit on ``D = workload.dependency_depth`` dependency levels.
A piece is right only if its inputs are: with per-step error ``e`` the
chance ``r_j`` that level ``j`` is right follows::

    r_j = (1 - e) [r_{j-1} + (1 - r_{j-1}) c],    r_0 = 1

where ``c`` is the chance that verification at level ``j`` (reviewers or
testers on the edge) exposes an error inherited from upstream and gets it
fixed: ``1 - (1 - detection * fix)^rounds``, for an outside checker times
the decomposable share ``1 - s`` of the work (on sequential work the error
is buried in a history the checker never saw). Without verification (``c = 0``) errors compound,
``r_j = (1 - e)^j``; with it they are contained at the fixed point
``r* = (1 - e) c / (e + (1 - e) c)``. Quality is the mean over levels (the
share of right pieces), in closed form since the recurrence is linear::

    Q = r* + (1 - r*) a (1 - a^D) / (D (1 - a)),   a = (1 - e)(1 - c)

Work merged from several agents without a check adds conflicts. Kim et al.
2025 measure the outcome: independent agents amplify errors about 17x,
centralised coordination about 4x; Cemri et al. 2025 (MAST) find missing
verification among the most common failure causes.
"""

from __future__ import annotations

import numpy as np

from swarmdesign.sim.ufuncs import clip


def dependent_quality(
    step_error: np.ndarray,
    depth: int,
    inherited_catch: np.ndarray | float = 0.0,
    first_error: np.ndarray | None = None,
) -> np.ndarray:
    """Expected share of right pieces over ``depth`` levels (``Q`` above); elementwise.

    ``first_error`` is the error of the first level, which receives no
    dependent hand-off (default ``step_error``). With ``r_1 = 1 - first_error``
    the recurrence gives ``r_j = r* + (r_1 - r*) a^(j-1)`` and the mean over
    levels ``r* + (r_1 - r*)(1 - a^D) / (D (1 - a))``.
    """
    e = clip(step_error, 0.0, 1.0)
    c = clip(inherited_catch, 0.0, 1.0)
    r1 = 1.0 - (e if first_error is None else clip(first_error, 0.0, 1.0))
    if depth <= 1:
        return r1
    a = (1.0 - e) * (1.0 - c)
    b = (1.0 - e) * c
    one_minus_a = np.maximum(1.0 - a, 1e-300)
    r_star = b / one_minus_a
    tail = (1.0 - a**depth) / (depth * one_minus_a)
    # a -> 1 (no error, no catch): every level is as right as the first
    return np.where(1.0 - a < 1e-12, r1, r_star + (r1 - r_star) * tail)


def merge_error(pieces: np.ndarray, conflict: float, caught: np.ndarray) -> np.ndarray:
    """Probability that merging ``pieces`` separately produced pieces leaves a conflict.

    ``1 - (1 - conflict (1 - caught))^(pieces - 1)``; 0 for one piece.
    """
    per = conflict * (1.0 - caught)
    return -np.expm1((np.maximum(pieces, 1.0) - 1.0) * np.log1p(-np.minimum(per, 1 - 1e-12)))
