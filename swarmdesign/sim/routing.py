"""Task routing: which agent a task lands on, and what finding it costs.

Broadcast: every agent hears every task (``n`` messages per task) and the
first to claim it takes it, so a task lands on a matching specialist only
with probability ``f + s (1 - f)`` (``f`` the matching share of producers,
``s`` the self-selection of the right agent). Routed: a capability index
(a DHT-like lookup, O(log n) hops) sends the task to a matching agent with
probability ``a + (1 - a) f``. The shape follows the contrast between
flooding and structured routing in peer-to-peer systems and the
routing-by-capability of AgentTorch-style population models (Chopra et al.
2025): lookup cost grows with log n, flooding with n.
"""

from __future__ import annotations

import numpy as np

from swarmdesign.sim.ufuncs import clip


def right_archetype_probability(
    matching_share: np.ndarray, routed: np.ndarray, routed_accuracy: float, self_selection: float
) -> np.ndarray:
    """Probability a task lands on an agent of a fitting archetype, ``(D,)``.

    ``matching_share`` is the share of producing agents whose archetype fits
    the task (0 when none does; then no routing can help).
    """
    f = clip(matching_share, 0.0, 1.0)
    routed_p = routed_accuracy + (1.0 - routed_accuracy) * f
    broadcast_p = f + self_selection * (1.0 - f)
    return np.where(f > 0, np.where(routed, routed_p, broadcast_p), 0.0)


def routing_messages_per_task(n: np.ndarray, routed: np.ndarray) -> np.ndarray:
    """Messages spent finding an agent for one task: ``n`` for broadcast, ``ceil(log2 n) + 1`` routed."""
    n = np.maximum(n, 1.0)
    return np.where(routed, np.ceil(np.log2(n)) + 1.0, n)
