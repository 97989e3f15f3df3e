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

import hashlib
import math
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from swarmdesign import records

if TYPE_CHECKING:
    from swarmdesign.design import Design
    from swarmdesign.space import SearchSpace

CATEGORICAL, INTEGER, FLOAT = 0, 1, 2


class GeneLayout:
    """Per-dimension gene kinds and bin geometry of a space.

    Array attributes have shape ``(d,)``. :meth:`bins`, :meth:`snap` and
    :meth:`snap_point` are numpy expressions over whole points (snapping runs
    for every offspring and was the largest optimizer cost as a gene-by-gene
    loop); the single-gene helpers used inside mutation (:meth:`bin_of`,
    :meth:`centre_of`, :meth:`step`, :meth:`param_key`) work in plain Python
    with the space's own formulas (``math.exp``). The two agree except
    possibly on the exact edge between two bins, where ``np.exp`` and
    ``math.exp`` may round differently; a snapped point sits at a bin centre,
    far from any edge, so it decodes to the same params either way.
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
        self._cat = kind == CATEGORICAL
        self._int = kind == INTEGER
        self._n_safe = np.maximum(n_values, 1).astype(float)
        self._span = edge_b - edge_a
        # Per-gene plans of :meth:`snap_point`, which runs several times for every offspring.
        kinds = kind.tolist()
        self.kinds: list[int] = kinds  # plain-Python copies for per-gene loops
        self.sizes: list[int] = n_values.tolist()
        self.categorical_genes = [g for g, k in enumerate(kinds) if k == CATEGORICAL]
        self.ordinal_genes = [g for g, k in enumerate(kinds) if k != CATEGORICAL]
        self._snap_cat = [(g, max(n, 1)) for g, (k, n, *_) in enumerate(self._genes) if k == CATEGORICAL]
        self._snap_int = [
            (g, a, s if s > 0 else 1.0, lo, lo + n - 1)
            for g, ((k, n, lo, a, _b, lg), s) in enumerate(zip(self._genes, self._span.tolist(), strict=True))
            if k == INTEGER and not lg
        ]
        # Log-scaled integers: the bin from the space's own formula (math.exp, as in ``_from_unit``), the
        # centre from a table worked out once with numpy's log, so a centre is bitwise the one :meth:`snap` gives.
        self._snap_log = []
        for g in np.flatnonzero(self._int & log).tolist():
            values = np.arange(low[g], low[g] + n_values[g], dtype=float)
            centres = (np.log(np.maximum(values, 1.0)) - edge_a[g]) / self._span[g]
            self._snap_log.append((g, float(edge_a[g]), float(self._span[g]), int(low[g]), centres.tolist()))

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
        u = np.clip(np.atleast_2d(np.asarray(x, dtype=float)), 0.0, 1.0)
        cat = np.minimum(np.floor(u * self._n_safe), self._n_safe - 1)
        z = self.edge_a + u * self._span
        with np.errstate(over="ignore"):
            v = np.where(self.log, np.exp(z), z)
        whole = np.clip(np.floor(v + 0.5), self.low, self.low + self.n_values - 1) - self.low
        return np.where(self._cat, cat, np.where(self._int, whole, -1.0)).astype(np.int64)

    def snap(self, x: np.ndarray) -> np.ndarray:
        """``x`` (``(n, d)`` or ``(d,)``) as ``(n, d)`` with every discrete gene at its bin centre."""
        u = np.clip(np.atleast_2d(np.asarray(x, dtype=float)), 0.0, 1.0)
        bins = self.bins(u).astype(float)
        cat = (bins + 0.5) / self._n_safe
        value = bins + self.low
        v = np.where(self.log, np.log(np.where(self.log, np.maximum(value, 1.0), 1.0)), value)
        whole = (v - self.edge_a) / np.where(self._span > 0, self._span, 1.0)
        return np.where(self._cat, cat, np.where(self._int, whole, u))

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
        """One point (``(d,)``) clipped to the box with its discrete genes at their bin centres.

        :meth:`snap` of one point, computed gene by gene in plain Python (on
        one point the twenty-odd numpy calls of :meth:`snap` cost more than
        the arithmetic, and every offspring is snapped several times). Bins
        and centres are the same IEEE operations in the same order, except
        that a log-scaled integer's bin uses ``math.exp`` (the decoder's own)
        where :meth:`snap` uses numpy's; the two can differ only on the exact
        edge between two bins. Centres are bitwise :meth:`snap`'s.
        """
        if np.shape(x) != (self.dim,):
            return self.snap(x)[0]
        return np.array(self.snap_values(np.asarray(x, dtype=float).tolist()))

    def snap_values(self, values: list[float]) -> list[float]:
        """:meth:`snap_point` of one point given as a list of ``d`` floats, as a new list (for the operators)."""
        out = [0.0 if v < 0.0 else (1.0 if v > 1.0 else v) for v in values]  # np.clip, NaN kept
        floor = math.floor
        for g, n in self._snap_cat:  # conditionals, not min/max: half the time per gene
            b = floor(out[g] * n)
            if b > n - 1:
                b = n - 1
            out[g] = (b + 0.5) / n
        for g, a, span, lo, hi in self._snap_int:
            v = floor(a + out[g] * span + 0.5)
            if v < lo:
                v = lo
            elif v > hi:
                v = hi
            out[g] = (float(v) - a) / span
        exp = math.exp
        for g, a, span, lo, centres in self._snap_log:
            b = floor(exp(a + out[g] * span) + 0.5) - lo  # u is inside the box: exp cannot overflow
            if b < 0:
                b = 0
            elif b >= len(centres):
                b = len(centres) - 1
            out[g] = centres[b]
        return out

    def step(self, x: np.ndarray, genes: Sequence[int], direction: Sequence[int]) -> np.ndarray:
        """Move discrete ``genes`` of one point ``x`` (``(d,)``) by one bin each.

        ``direction`` (+1 / -1 per gene) is reversed at the ends of a range,
        so the value always changes when the gene has more than one value.
        """
        out = np.asarray(x, dtype=float).tolist()
        self.step_values(out, genes, direction)
        return np.array(out)

    def step_values(self, values: list[float], genes: Sequence[int], direction: Sequence[int]) -> None:
        """:meth:`step` on a point given as a list of floats, in place (for the operators)."""
        for g, s in zip(genes, direction, strict=True):
            g = int(g)
            n = self._genes[g][1]
            if self._genes[g][0] == FLOAT or n < 2:
                continue
            b = self.bin_of(g, values[g])
            nb = b + int(s)
            if not 0 <= nb < n:
                nb = b - int(s)
            values[g] = self.centre_of(g, nb)

    def param_key(self, x: np.ndarray) -> tuple[float, ...]:
        """Identity of the params one point decodes to (bins of discrete genes, value of floats)."""
        return tuple(
            float(self.bin_of(g, u)) if self._genes[g][0] != FLOAT else min(max(u, 0.0), 1.0)
            for g, u in enumerate(np.asarray(x, dtype=float).tolist())
        )


class DesignKeys:
    """Identity of the *design* a point decodes to: a 16-byte digest of the space's design key.

    Different params can decode to one design (``decode`` repairs: an absent
    role's count, a ``single`` topology's counts), so duplicates are
    recognised on the design, through :meth:`SearchSpace.design_key`, which
    applies the repairs without building the design (a fraction of a
    decode's cost; every candidate of every generation is checked). The key
    is computed from params, so designs read back from a study are known by
    their recorded params. ``params -> digest`` is remembered for the most
    recent :data:`DIGESTS` params (keyed by the params' hash): a candidate is
    keyed when it is bred and again when its generation is recorded, a few
    generations apart; the run's evaluated designs stay known by the digests
    in the optimizer's set of seen designs, so an older entry would only be
    computed again (it held ~0.1 KB per trial of a long run). Decoded designs
    are kept for the most recent :data:`RECENT` params, long enough for the
    runner to evaluate and record a proposal without decoding it again
    (:meth:`decoded`). Digests instead of the keys keep the memory of a
    10^5-trial run to a few megabytes, and unlike Python's salted ``hash``
    they are the same in every process.
    """

    #: Decoded designs kept for reuse (a few generations' worth).
    RECENT = 512
    #: Design digests kept for reuse (several generations' candidates, screened ones included).
    DIGESTS = 16384

    def __init__(self, space: SearchSpace, layout: GeneLayout) -> None:
        self.space = space
        self.layout = layout
        self._digest: OrderedDict[int, bytes] = OrderedDict()
        self._recent: OrderedDict[tuple[Any, ...], tuple[Design, str]] = OrderedDict()
        self._params: OrderedDict[bytes, dict[str, Any]] = OrderedDict()

    def params_of(self, x: np.ndarray) -> dict[str, Any]:
        """``space.vector_to_params(x)``, remembered for the most recent points (a copy)."""
        raw = np.asarray(x, dtype=float).tobytes()
        params = self._params.get(raw)
        if params is None:
            params = self.space.vector_to_params(x)
            self._params[raw] = params
            if len(self._params) > self.RECENT:
                self._params.popitem(last=False)
        return dict(params)

    def __call__(self, x: np.ndarray) -> bytes:
        return self.of_params(self.params_of(x))

    def of_params(self, params: dict[str, Any]) -> bytes:
        """The design key of ``params`` (remembered for the run)."""
        pk = hash(tuple(params.values()))
        key = self._digest.get(pk)
        if key is None:
            key = digest(repr(self.space.design_key(params)))
            self._digest[pk] = key
            if len(self._digest) > self.DIGESTS:
                self._digest.popitem(last=False)
        return key

    def decoded(self, params: dict[str, Any]) -> tuple[Design, str]:
        """The design ``params`` decode to and its compact JSON (from the recent cache when possible)."""
        pk = tuple(params.values())
        hit = self._recent.get(pk)
        if hit is None:
            design = self.space.decode_params(params, trusted=True)
            hit = (design, records.design_json(design))
            self._recent[pk] = hit
            if len(self._recent) > self.RECENT:
                self._recent.popitem(last=False)
        return hit


def digest(text: str) -> bytes:
    """16-byte identity of a text (a design key's ``repr``)."""
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def latin_hypercube(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """``n`` points of ``[0,1]^d``, one per stratum in every dimension (better first-generation coverage)."""
    strata = np.argsort(rng.random((n, d)), axis=0)
    return (strata + rng.random((n, d))) / n


class TakenKeys:
    """Design keys already evaluated in the run plus those claimed by the generation being built.

    A view, not a copy: copying the run's growing set of evaluated designs
    every generation made each generation cost more than the last.
    """

    def __init__(self, seen: set[bytes]) -> None:
        self.seen = seen
        self.new: set[bytes] = set()

    def __contains__(self, key: object) -> bool:
        return key in self.new or key in self.seen

    def add(self, key: bytes) -> None:
        self.new.add(key)
