"""Direct ufunc calls for the fast mode's hot path: the same arithmetic as numpy's wrappers, less overhead.

A swarm scores 16-20 designs per call, so the fast mode's arrays hold about
a thousand numbers and a numpy call's fixed cost outweighs its arithmetic.
``np.clip``, ``np.mean`` and ``np.sum`` reach their ufunc through two or
three Python-level wrappers (``fromnumeric`` -> the array method ->
``numpy._core._methods``), a few microseconds per call, and the simulator
makes hundreds of them per call. The helpers below call the ufunc those
wrappers end in, with the same arguments, so every result is bit for bit
what the wrapper returns (``np.clip`` ends in the ``clip`` ufunc;
``np.mean`` sums with ``np.add.reduce`` and divides by the count).
"""

from __future__ import annotations

import numpy as np

#: the ufunc behind ``np.clip`` for float bounds (``numpy._core._methods._clip``); numpy has no public
#: name for it, so it is looked up here alone, and ``np.clip`` (same result, slower) stands in if it moves
_CLIP = getattr(getattr(getattr(np, "_core", None), "umath", None), "clip", None) or np.clip
_ADD_REDUCE = np.add.reduce


def clip(x: np.ndarray | float, lo: np.ndarray | float, hi: np.ndarray | float) -> np.ndarray:
    """``np.clip(x, lo, hi)`` for float arrays and bounds (both given), as one ufunc call."""
    return _CLIP(x, lo, hi)


def row_mean(x: np.ndarray) -> np.ndarray:
    """``x.mean(axis=-1)`` of a float array (the sum over the last axis divided by its length)."""
    return _ADD_REDUCE(x, axis=-1) / x.shape[-1]


def row_sum(x: np.ndarray) -> np.ndarray:
    """``x.sum(axis=-1)``."""
    return _ADD_REDUCE(x, axis=-1)
