"""Faults (``environment.fault_rate``): retries, silent corruption, single points of failure.

A call fails with probability ``f``. A detected failure is retried up to
``max_retries`` times (expected calls per call ``(1 - f^(r+1)) / (1 - f)``);
``silent_share`` of failures go unnoticed and corrupt the step. A hub
(star, hierarchy, federation; a pub/sub broker) is a single point of
failure: ``hub_crash_share`` of a hub's failed calls lose its state, and a
task whose hub crashes while it is in flight loses ``hub_state_loss`` of
its quality, unless a replica takes over (all ``c`` replicas must fail:
probability ``(f * hub_crash_share)^c`` per hub call). Meshes, rings and
independent agents have no such point and degrade gracefully (Kim et al.
2025; Cemri et al. 2025 MAST lists hub/orchestrator failures as system
design failures).
"""

from __future__ import annotations

import numpy as np


def expected_calls(fault_rate: float, max_retries: int) -> float:
    """Calls made per successful-or-abandoned call (retries included)."""
    f = fault_rate
    return (1.0 - f ** (max_retries + 1)) / (1.0 - f) if f > 0 else 1.0


def step_survival(fault_rate: float, max_retries: int, silent_share: float) -> float:
    """Probability a step is not corrupted by a fault (silent corruption or retries exhausted)."""
    f = fault_rate
    return (1.0 - f * silent_share) * (1.0 - ((1.0 - silent_share) * f) ** (max_retries + 1))


def hub_log_survival(fault_rate: np.ndarray | float, hub_calls: np.ndarray, replicas: np.ndarray) -> np.ndarray:
    """Log of the chance a task's state survives ``hub_calls`` calls at a hub of ``replicas`` servers.

    A hub call is lost only when every replica fails: ``f^c`` per call.
    """
    per_call = np.asarray(fault_rate, dtype=float) ** np.maximum(replicas, 1.0)
    return hub_calls * np.log1p(-np.minimum(per_call, 1 - 1e-12))
