"""Bin maths of a search space: points of the unit box <-> parameter values.

Integers and categories occupy equal-width bins of their box dimension (in
log space for log ranges); a value's point is its bin's centre, so that
decoding an encoded value gives it back exactly.

:class:`BoxCodec` decodes whole points with per-parameter constants worked
out once: optimizers decode every candidate they consider (to recognise
designs already evaluated), and re-deriving each distribution's edges and
type per value cost ~200 us per 29-parameter point. Its formulas are the
ones of :func:`from_unit`, operation for operation, so both give identical
values (``tests/test_space.py`` checks it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution

_CAT, _INT, _LOG_INT, _FLOAT, _LOG_FLOAT = range(5)


def int_edges(d: IntDistribution) -> tuple[float, float, bool]:
    """Box 0 and box 1 of an integer range (its values -/+ a half; their logs for a log range)."""
    if d.log:
        return math.log(d.low - 0.5), math.log(d.high + 0.5), True
    return d.low - 0.5, d.high + 0.5, False


def from_unit(d: BaseDistribution, u: float) -> Any:
    """The value of box coordinate ``u`` (in ``[0, 1]``) of one parameter."""
    if isinstance(d, CategoricalDistribution):
        return d.choices[min(int(u * len(d.choices)), len(d.choices) - 1)]
    if isinstance(d, IntDistribution):
        a, b, log = int_edges(d)
        z = a + u * (b - a)
        v = math.exp(z) if log else z
        return int(min(max(math.floor(v + 0.5), d.low), d.high))
    assert isinstance(d, FloatDistribution)
    # exp/log rounding must not leave the range
    if d.log:
        lo, hi = math.log(d.low), math.log(d.high)
        return float(min(max(math.exp(lo + u * (hi - lo)), d.low), d.high))
    return float(min(max(d.low + u * (d.high - d.low), d.low), d.high))


def to_unit(d: BaseDistribution, value: Any) -> float:
    """Box coordinate of a value: its bin's centre (discrete), or the point that decodes to it exactly (float)."""
    if isinstance(d, CategoricalDistribution):
        return (list(d.choices).index(value) + 0.5) / len(d.choices)
    if isinstance(d, IntDistribution):
        a, b, log = int_edges(d)
        v = math.log(int(value)) if log else float(int(value))
        return (v - a) / (b - a)
    assert isinstance(d, FloatDistribution)
    if d.high == d.low:
        return 0.5
    if d.log:  # a range one ulp wide has no width in log space
        span = math.log(d.high) - math.log(d.low)
        u = (math.log(float(value)) - math.log(d.low)) / span if span > 0 else 0.0
    else:
        u = (float(value) - d.low) / (d.high - d.low)
    u = min(max(u, 0.0), 1.0)
    for _ in range(8):  # float rounding: step u by ulps until it decodes to exactly this value
        got = from_unit(d, u)
        if got == value:
            break
        u = math.nextafter(u, 1.0 if got < value else 0.0)
    return u


def clip(d: BaseDistribution, value: Any) -> Any:
    """A value moved into its parameter's range (categories are returned as they are)."""
    if isinstance(d, IntDistribution):
        return int(min(max(int(value), d.low), d.high))
    if isinstance(d, FloatDistribution):
        return float(min(max(float(value), d.low), d.high))
    return value


class BoxCodec:
    """Decodes points of the box to parameter dicts, with each parameter's constants computed once."""

    def __init__(self, names: Sequence[str], distributions: Sequence[BaseDistribution]) -> None:
        self.names = list(names)
        self._genes: list[tuple[Any, ...]] = []
        for d in distributions:
            if isinstance(d, CategoricalDistribution):
                self._genes.append((_CAT, list(d.choices), len(d.choices), len(d.choices) - 1))
            elif isinstance(d, IntDistribution):
                a, b, log = int_edges(d)
                self._genes.append((_LOG_INT if log else _INT, a, b - a, d.low, d.high))
            else:
                assert isinstance(d, FloatDistribution)
                if d.log:
                    lo, hi = math.log(d.low), math.log(d.high)
                    self._genes.append((_LOG_FLOAT, lo, hi - lo, d.low, d.high))
                else:
                    self._genes.append((_FLOAT, d.low, d.high - d.low, d.low, d.high))
        self._plans = _plans(self.names, self._genes)

    @property
    def dim(self) -> int:
        return len(self._genes)

    def params(self, x: np.ndarray) -> dict[str, Any]:
        """Parameter values of one point (clipped to the box), as :func:`from_unit` gives them."""
        row = np.clip(np.asarray(x, dtype=float).reshape(-1), 0.0, 1.0)
        if row.shape[0] != self.dim:
            raise ValueError(f"expected a vector of length {self.dim}, got {row.shape[0]}")
        return self._row(row.tolist())

    def many(self, x: np.ndarray) -> list[dict[str, Any]]:
        """Parameter values of every row of ``x`` (``(n, d)``)."""
        rows = np.clip(np.asarray(x, dtype=float), 0.0, 1.0)
        if rows.ndim != 2 or rows.shape[1] != self.dim:
            raise ValueError(f"expected points of length {self.dim}, got shape {rows.shape}")
        return [self._row(r) for r in rows.tolist()]

    def _row(self, row: list[float]) -> dict[str, Any]:
        # Gene by kind, one loop per kind (no branch per gene): a third cheaper per point.
        # The dict is laid out in parameter order first, so the result's order is the same.
        cats, ints, log_ints, log_floats, floats = self._plans
        out: dict[str, Any] = dict.fromkeys(self.names)
        floor, exp = math.floor, math.exp
        for name, i, choices, n, last in cats:
            k = int(row[i] * n)
            out[name] = choices[k if k < last else last]
        for name, i, a, span, lo, hi in ints:
            out[name] = int(min(max(floor(a + row[i] * span + 0.5), lo), hi))
        for name, i, a, span, lo, hi in log_ints:
            out[name] = int(min(max(floor(exp(a + row[i] * span) + 0.5), lo), hi))
        for name, i, a, span, lo, hi in log_floats:
            out[name] = float(min(max(exp(a + row[i] * span), lo), hi))
        for name, i, a, span, lo, hi in floats:
            out[name] = float(min(max(a + row[i] * span, lo), hi))
        return out


def _plans(names: list[str], genes: list[tuple[Any, ...]]) -> tuple[list[tuple[Any, ...]], ...]:
    """The genes grouped by kind, each as (name, position, constants...)."""
    plans: tuple[list[tuple[Any, ...]], ...] = ([], [], [], [], [])
    order = {_CAT: 0, _INT: 1, _LOG_INT: 2, _LOG_FLOAT: 3, _FLOAT: 4}
    for i, (name, gene) in enumerate(zip(names, genes, strict=True)):
        plans[order[gene[0]]].append((name, i, *gene[1:]))
    return plans
