"""The unit-box genome of a search space, seen gene by gene.

Swarm and genetic optimizers move points of ``[0, 1]^d``; the space decodes
them (:meth:`SearchSpace.vector_to_params`). Integers and categories occupy
equal-width bins of a dimension, so a move that stays inside one bin changes
nothing and a re-evaluation of the same design is a wasted evaluation. This
module knows, per dimension, which kind of gene it is and where its bins lie,
so that the optimizers can

* snap discrete genes to their bin centres (what ``encode`` would give),
* make a mutation of a discrete gene actually change its value,
* recognise a design that was already proposed (:meth:`GeneLayout.design_key`).

The bin maths mirror ``swarmdesign.space._from_unit`` exactly, vectorised over
a population; ``tests/optimizers/test_genes.py`` checks them against the space.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from swarmdesign import records

if TYPE_CHECKING:
    from swarmdesign.space import SearchSpace

CATEGORICAL, INTEGER, FLOAT = 0, 1, 2


class GeneLayout:
    """Per-dimension gene kinds and bin geometry of a space.

    Array attributes have shape ``(d,)``. Population-wide operations
    (:meth:`bins`, :meth:`snap`) are vectorised; the per-point ones used
    inside variation loops (:meth:`point_bins`, :meth:`snap_point`,
    :meth:`step`, :meth:`param_key`) work gene by gene in plain Python, which
    for 10-30 genes is several times faster than numpy on tiny arrays, and
    use the space's own formulas (``math.exp``) so they agree with
    ``vector_to_params`` to the last bit.
    """

    def __init__(
        self,
        kind: np.ndarray,
        n_values: np.ndarray,
        low: np.ndarray,
        edge_a: np.ndarray,
        edge_b: np.ndarray,
        log: np.ndarray,
    ) -> None:
        self.kind = kind  # CATEGORICAL, INTEGER or FLOAT
        self.n_values = n_values  # number of bins (choices or integers); 0 for floats
        self.low = low  # smallest integer value (0 for categoricals and floats)
        self.edge_a = edge_a  # box 0 maps here: value - 0.5 (its log for log ranges)
        self.edge_b = edge_b  # box 1 maps here: value + 0.5 (its log for log ranges)
        self.log = log  # bool: integer range on a log scale
        self.discrete = kind != FLOAT  # bool mask of genes with bins
        columns = (kind, n_values, low, edge_a, edge_b, log)
        self._genes = list(zip(*(c.tolist() for c in columns), strict=True))

    @classmethod
    def of(cls, space: SearchSpace) -> GeneLayout:
        d = space.dim
        kind = np.full(d, FLOAT, dtype=np.int8)
        n_values = np.zeros(d, dtype=np.int64)
        low = np.zeros(d, dtype=np.int64)
        edge_a, edge_b = np.zeros(d), np.ones(d)
        log = np.zeros(d, dtype=bool)
        for i, p in enumerate(space.params):
            dist = p.distribution
            if isinstance(dist, CategoricalDistribution):
                kind[i], n_values[i] = CATEGORICAL, len(dist.choices)
            elif isinstance(dist, IntDistribution):
                kind[i], n_values[i], low[i], log[i] = INTEGER, dist.high - dist.low + 1, dist.low, dist.log
                if dist.log:
                    edge_a[i], edge_b[i] = math.log(dist.low - 0.5), math.log(dist.high + 0.5)
                else:
                    edge_a[i], edge_b[i] = dist.low - 0.5, dist.high + 0.5
            else:
                assert isinstance(dist, FloatDistribution)
        return cls(kind, n_values, low, edge_a, edge_b, log)

    @property
    def dim(self) -> int:
        return len(self._genes)

    # ------------------------------------------------------ whole populations
    def bins(self, x: np.ndarray) -> np.ndarray:
        """Bin index of every discrete gene (value - low for integers); floats give -1.

        ``x`` has shape ``(n, d)`` (or ``(d,)``); the result is ``(n, d)`` int64.
        """
        x = np.atleast_2d(np.asarray(x, dtype=float))
        return np.array([self.point_bins(row) for row in x], dtype=np.int64).reshape(x.shape)

    def snap(self, x: np.ndarray) -> np.ndarray:
        """``x`` (``(n, d)`` or ``(d,)``) as ``(n, d)`` with every discrete gene at its bin centre."""
        x = np.atleast_2d(np.asarray(x, dtype=float))
        return np.array([self.snap_point(row) for row in x]).reshape(x.shape)

    # ------------------------------------------------------------ one point
    def bin_of(self, g: int, u: float) -> int:
        """Bin of gene ``g`` at box coordinate ``u`` (the space's ``_from_unit``); -1 for a float gene."""
        kind, n, low, a, b, log = self._genes[g]
        u = min(max(u, 0.0), 1.0)
        if kind == CATEGORICAL:
            return min(int(u * n), n - 1)
        if kind == INTEGER:
            z = a + u * (b - a)
            v = math.exp(z) if log else z
            return int(min(max(math.floor(v + 0.5), low), low + n - 1)) - low
        return -1

    def centre_of(self, g: int, bin_index: int) -> float:
        """Box coordinate of the centre of bin ``bin_index`` of gene ``g`` (the space's ``_to_unit``)."""
        kind, n, low, a, b, log = self._genes[g]
        if kind == CATEGORICAL:
            return (bin_index + 0.5) / n
        value = bin_index + low
        v = math.log(value) if log else float(value)
        return (v - a) / (b - a)

    def point_bins(self, x: np.ndarray) -> list[int]:
        return [self.bin_of(g, u) for g, u in enumerate(np.asarray(x, dtype=float).tolist())]

    def snap_point(self, x: np.ndarray) -> np.ndarray:
        """One point (``(d,)``) clipped to the box with its discrete genes at their bin centres."""
        out = []
        for g, u in enumerate(np.asarray(x, dtype=float).tolist()):
            u = min(max(u, 0.0), 1.0)
            out.append(u if self._genes[g][0] == FLOAT else self.centre_of(g, self.bin_of(g, u)))
        return np.array(out)

    def step(self, x: np.ndarray, genes: Sequence[int], direction: Sequence[int]) -> np.ndarray:
        """Move discrete ``genes`` of one point ``x`` (``(d,)``) by one bin each.

        ``direction`` (+1 / -1 per gene) is reversed at the ends of a range,
        so the value always changes when the gene has more than one value.
        """
        out = np.array(x, dtype=float)
        for g, s in zip(genes, direction, strict=True):
            g = int(g)
            n = self._genes[g][1]
            if self._genes[g][0] == FLOAT or n < 2:
                continue
            b = self.bin_of(g, float(out[g]))
            nb = b + int(s)
            if not 0 <= nb < n:
                nb = b - int(s)
            out[g] = self.centre_of(g, nb)
        return out

    def param_key(self, x: np.ndarray) -> tuple[float, ...]:
        """Identity of the params one point decodes to (bins of discrete genes, value of floats)."""
        return tuple(
            float(self.bin_of(g, u)) if self._genes[g][0] != FLOAT else min(max(u, 0.0), 1.0)
            for g, u in enumerate(np.asarray(x, dtype=float).tolist())
        )


class DesignKeys:
    """Identity of the *design* a point decodes to, cached by its params.

    Different params can decode to one design (``decode`` repairs: an absent
    role's count, a ``single`` topology's counts), so duplicates are
    recognised on the decoded design. Decoding costs ~50 us; the cache keeps
    the cost once per distinct params.
    """

    def __init__(self, space: SearchSpace, layout: GeneLayout) -> None:
        self.space = space
        self.layout = layout
        self._by_params: dict[tuple[float, ...], str] = {}

    def __call__(self, x: np.ndarray) -> str:
        pk = self.layout.param_key(x)
        key = self._by_params.get(pk)
        if key is None:
            key = records.design_json(self.space.decode_params(self.space.vector_to_params(x)))
            self._by_params[pk] = key
        return key


def latin_hypercube(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """``n`` points of ``[0,1]^d``, one per stratum in every dimension (better first-generation coverage)."""
    strata = np.argsort(rng.random((n, d)), axis=0)
    return (strata + rng.random((n, d))) / n
