"""DEAP's non-dominated sorting and crowding distance, in numpy, with DEAP's exact orders.

``psoga`` ranks its personal bests and its generation every generation and
``ga`` sorts parents and offspring, each time through
``tools.sortNondominated`` (a pure-Python double loop over ``Fitness``
objects) and ``tools.assignCrowdingDist``; that was the largest cost of a
multi-objective generation after snapping. These functions give the same
fronts, in the same order, and the same crowding distances bit for bit,
because the selections downstream depend on both:

* individuals with equal losses form one group, in order of first
  occurrence, and the groups are what is sorted;
* the first front lists its groups by first occurrence; a later front
  lists a group when the last of its dominators in the front before is
  reached (DEAP walks that front in order and, for each member, the groups
  it dominates by first occurrence), so by that dominator's place and then
  by first occurrence;
* crowding sorts a front stably objective after objective, each sort
  starting from the order the previous one left, and adds each objective's
  share in objective order (the same floating-point sums).

``tests/optimizers/test_pareto.py`` compares them with DEAP on populations
full of ties.
"""

from __future__ import annotations

import math

import numpy as np


def sorted_fronts(losses: np.ndarray, k: int | None = None) -> list[list[int]]:
    """Rows of ``losses`` (``(n, m)``, finite, minimised) by front, as ``tools.sortNondominated(pop, k)``.

    Fronts are added until they hold at least ``k`` rows (all rows when ``k``
    is None). The domination test is one numpy comparison; the peeling is
    DEAP's own loop on plain lists, so its order is DEAP's by construction.
    """
    n = losses.shape[0]
    k = n if k is None else min(k, n)
    if k <= 0 or n == 0:
        return []
    groups: dict[tuple[float, ...], list[int]] = {}
    for i, row in enumerate(losses.tolist()):
        groups.setdefault(tuple(row), []).append(i)
    members = list(groups.values())
    fits = losses[[g[0] for g in members]] if len(members) < n else losses
    # Groups differ in some objective, so "no worse in all" is "dominates" off the diagonal.
    dominates = (fits[:, None, :] <= fits[None, :, :]).all(axis=2)
    np.fill_diagonal(dominates, False)
    count = dominates.sum(axis=0).tolist()
    beats: list[list[int]] = [[] for _ in members]  # [p]: the groups p dominates, by first occurrence
    winner, loser = np.nonzero(dominates)
    for p, d in zip(winner.tolist(), loser.tolist(), strict=True):
        beats[p].append(d)
    current = [g for g, c in enumerate(count) if c == 0]
    out = [[i for g in current for i in members[g]]]
    done = len(out[0])
    while done < k:
        following = []
        for p in current:
            for d in beats[p]:
                count[d] -= 1
                if count[d] == 0:
                    following.append(d)
        current = following
        out.append([i for g in current for i in members[g]])
        done += len(out[-1])
    return out


def crowding(values: list[list[float]]) -> list[float]:
    """Crowding distance of every row of one front's ``values`` (``f`` lists of ``m``), as ``tools.assignCrowdingDist``.

    DEAP's loop on plain lists (its sorts chain: each objective's stable sort
    starts from the order the previous one left, which decides ties).
    """
    f = len(values)
    if f == 0:
        return []
    m = len(values[0])
    dist = [0.0] * f
    order = list(range(f))
    for j in range(m):
        col = [v[j] for v in values]
        order.sort(key=col.__getitem__)
        dist[order[0]] = dist[order[-1]] = math.inf
        lo, hi = col[order[0]], col[order[-1]]
        if hi == lo:
            continue
        norm = m * float(hi - lo)
        for prev, cur, nxt in zip(order[:-2], order[1:-1], order[2:], strict=True):
            dist[cur] += (col[nxt] - col[prev]) / norm
    return dist


def rank_and_crowding(losses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Non-dominated rank (0 = first front) and crowding distance of every row of ``losses`` (``(n, m)``)."""
    n = losses.shape[0]
    rank = [0] * n
    crowd = [0.0] * n
    values = losses.tolist()
    for r, rows in enumerate(sorted_fronts(losses)):
        for i, c in zip(rows, crowding([values[i] for i in rows]), strict=True):
            rank[i] = r
            crowd[i] = c
    return np.array(rank, dtype=int), np.array(crowd, dtype=float)


def select_nsga2(losses: np.ndarray, k: int) -> np.ndarray:
    """``k`` rows in the order ``tools.selNSGA2(pop, k)`` returns them: whole fronts, then the most crowded-apart."""
    fronts = sorted_fronts(losses, k)
    chosen = [i for rows in fronts[:-1] for i in rows]
    room = k - len(chosen)
    if fronts and room > 0:
        last = fronts[-1]
        values = losses.tolist()
        dist = crowding([values[i] for i in last])
        by_distance = sorted(range(len(last)), key=dist.__getitem__, reverse=True)  # stable, as DEAP's sort
        chosen += [last[j] for j in by_distance[:room]]
    return np.array(chosen, dtype=int)
