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


#: Contenders up to which the organised count is summed over its binomial law (see :func:`collision_share`).
EXACT_CONTENDERS = 32


def collision_share(
    contenders: np.ndarray, options: np.ndarray, herding: np.ndarray, organised: np.ndarray
) -> np.ndarray:
    """Share of contenders whose pick collides in a round (0..1), ``(D,)``.

    Herded agents always pick; organised agents beyond the ``R`` options know
    there is nothing left and wait (a delay, not a collision). Collided picks
    are ``n_h + k1 - occ``. Zero when there is at most one contender.

    Each agent is organised or herded on its own, so the organised count is
    binomial. Collisions need two herded agents, a convex function of their
    count, so the count's mean understates them in small teams: two agents,
    each organised with probability 0.52, collide in 1.8 % of their picks
    (both herded, both on the focal option), while one organised and 0.96 of
    a herded agent never do. Up to :data:`EXACT_CONTENDERS` whole contenders
    the share is summed over the binomial law; larger crowds are close to
    their mean.
    """
    n = np.maximum(np.asarray(contenders, dtype=float), 0.0)
    r = np.maximum(np.asarray(options, dtype=float), 1.0)
    o = np.broadcast_to(np.asarray(organised, dtype=float), n.shape)
    picks = (1.0 - o) * n + np.minimum(o * n, r)
    occ = occupied_options(n, options, herding, o)
    share = (picks - np.minimum(occ, picks)) / np.maximum(n, 1.0)
    small = np.flatnonzero((n > 1.0) & (n <= EXACT_CONTENDERS) & (n == np.floor(n)) & (o > 0.0) & (o < 1.0))
    if small.size:
        share = np.array(share, dtype=float)
        share[small] = _binomial_share(
            n[small],
            np.broadcast_to(r, n.shape)[small],
            np.broadcast_to(np.asarray(herding, dtype=float), n.shape)[small],
            o[small],
        )
    return np.where(n > 1.0, clip(share, 0.0, 1.0), 0.0)


def _binomial_share(n: np.ndarray, r: np.ndarray, herding: np.ndarray, organised: np.ndarray) -> np.ndarray:
    """:func:`collision_share` with the organised count ``j ~ Binomial(n, organised)`` summed exactly, ``(S,)``."""
    from scipy.special import gammaln  # scipy.special on first use (as everywhere in the simulator)

    j = np.arange(EXACT_CONTENDERS + 1, dtype=float)[None, :]
    nn = n[:, None]
    fits = j <= nn
    rest = np.where(fits, nn - j, 0.0)
    log_pmf = gammaln(nn + 1.0) - gammaln(j + 1.0) - gammaln(rest + 1.0)
    log_pmf = log_pmf + j * np.log(organised[:, None]) + rest * np.log1p(-organised[:, None])
    pmf = np.where(fits, np.exp(log_pmf), 0.0)
    share_j = np.where(fits, j / nn, 0.0)
    rr, gg = r[:, None], herding[:, None]
    picks = rest + np.minimum(j, rr)
    occ = occupied_options(nn, rr, gg, share_j)
    return (pmf * (picks - np.minimum(occ, picks))).sum(axis=1) / n
