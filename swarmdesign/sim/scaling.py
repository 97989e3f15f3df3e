"""Decomposition and parallel speed-up: Amdahl's law and Gunther's Universal Scalability Law.

Relative throughput of ``N`` concurrent workers (Gunther 1993, 2007)::

    X(N) = N / (1 + sigma (N - 1) + kappa N (N - 1))

``sigma`` is contention (a serialised share of every step, the Amdahl
term); ``kappa`` is coherency, the pairwise cost of keeping workers
consistent. With ``kappa > 0`` throughput peaks at ``N* = sqrt((1 - sigma) /
kappa)`` and then *falls*: adding workers makes the work later (Brooks 1975).
The simulator charges coherency only within the group an agent actually
keeps coherent with: ``kappa (h + 1) h`` for ``h`` peers heard, which is
Gunther's ``kappa N (N - 1)`` in a mesh (``h = N - 1``) and a constant in a
tree or a star, so those scale further. Every producing agent takes part in
coordination, busy or not.
On top, the workload's own serial share ``1 - p`` (``workload.parallel_fraction``)
runs at single-worker speed (Amdahl 1967)::

    time / serial time = (1 - p) + p / X(N)
"""

from __future__ import annotations

import numpy as np


def usl_throughput(
    n: np.ndarray, sigma: np.ndarray | float, kappa: np.ndarray | float, heard: np.ndarray | float | None = None
) -> np.ndarray:
    """Throughput of ``n`` workers relative to one (unitless); ``n >= 1``.

    ``heard`` is the number of peers each worker keeps coherent with; the
    coherency term is ``kappa (h + 1) h`` for a coherent group of ``h + 1``,
    which is Gunther's ``kappa N (N - 1)`` for the default ``h = N - 1``.
    """
    n = np.maximum(np.asarray(n, dtype=float), 1.0)
    h = n - 1.0 if heard is None else np.minimum(heard, n - 1.0)
    return n / (1.0 + sigma * (n - 1.0) + kappa * (h + 1.0) * h)


def usl_peak(sigma: float, kappa: float) -> float:
    """Worker count at which USL throughput peaks (inf when kappa is 0)."""
    return float(np.sqrt((1.0 - sigma) / kappa)) if kappa > 0 else float("inf")


def amdahl_time_fraction(parallel_fraction: float | np.ndarray, speedup: np.ndarray) -> np.ndarray:
    """Wall time relative to one worker when the parallel share runs ``speedup`` times faster."""
    return (1.0 - parallel_fraction) + parallel_fraction / np.maximum(speedup, 1e-12)
