"""Stampedes: similar agents converge on the same option and collide.

The minority game / El Farol bar problem (Arthur 1994; Challet and Zhang
1997): agents that reason alike pick the same option, so a crowd of
identical agents overloads the "obvious" choice while others stay empty;
diversity of strategies spreads the load. ``n`` contenders choose among
``R`` options. An *organised* share ``o`` (agents whose diverse preferences
or a hub's allocation give them distinct options) covers ``k1 = min(o n, R)``
options; each of the other ``n_h = (1 - o) n`` picks the focal option with
probability ``g + (1 - g) / R`` (herding ``g``), else uniformly. Expected
options taken::

    occ = k1 + (1 - k1 / R) [1 - (1 - pi_0)^n_h + (R - 1)(1 - (1 - pi_1)^n_h)]

of which each is won by one pick; the other picks collide. Organised
agents that find every option taken wait instead of picking. Diversity of
strategies (``coordination.heterogeneity`` times ``heterogeneity_spread``,
and different models) raises the organised share and lowers the herding.
"""

from __future__ import annotations

import numpy as np

from swarmdesign.sim.ufuncs import clip


def occupied_options(
    contenders: np.ndarray, options: np.ndarray, herding: np.ndarray, organised: np.ndarray
) -> np.ndarray:
    """Expected number of options claimed by at least one contender (see module docstring)."""
    n = np.maximum(np.asarray(contenders, dtype=float), 0.0)
    r = np.maximum(np.asarray(options, dtype=float), 1.0)
    k1 = np.minimum(organised * n, r)
    n_h = (1.0 - organised) * n
    pi0 = herding + (1.0 - herding) / r
    pi1 = (1.0 - herding) / r
    hit0 = -np.expm1(n_h * np.log1p(-np.minimum(pi0, 1 - 1e-15)))
    hit1 = -np.expm1(n_h * np.log1p(-np.minimum(pi1, 1 - 1e-15)))
    return k1 + (1.0 - k1 / r) * (hit0 + (r - 1.0) * hit1)


def collision_share(
    contenders: np.ndarray, options: np.ndarray, herding: np.ndarray, organised: np.ndarray
) -> np.ndarray:
    """Share of contenders whose pick collides in a round (0..1), ``(D,)``.

    Herded agents always pick; organised agents beyond the ``R`` options know
    there is nothing left and wait (a delay, not a collision). Collided picks
    are ``n_h + k1 - occ``. Zero when there is at most one contender.
    """
    n = np.maximum(np.asarray(contenders, dtype=float), 0.0)
    r = np.maximum(np.asarray(options, dtype=float), 1.0)
    picks = (1.0 - organised) * n + np.minimum(organised * n, r)
    occ = occupied_options(n, options, herding, organised)
    share = (picks - np.minimum(occ, picks)) / np.maximum(n, 1.0)
    return np.where(n > 1.0, clip(share, 0.0, 1.0), 0.0)
