"""Agent mode, failure and coordination events drawn one by one (vectorised over events).

Why events: the agent mode checks the fast mode's closed forms, so it must
not reuse them. Each quantity here comes from drawing what happens to
individual calls, hub messages and coordination exchanges:

* a model call fails with the environment's fault rate; a failure is
  silent (the step goes on, corrupted) with ``silent_share``, else it is
  noticed and the call retried, at most ``max_retries`` times;
* a hub message is lost only when every replica serving the hub fails on
  it; a task whose hub lost a message loses the hub's state for that task;
* a coordination round: every member of a step's coherent group (itself
  and the peers it hears) exchanges with every other member, and every
  group of the system takes its turn at the shared serialised section.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CallOutcome:
    """What faults did to attempts of some shape ``S``."""

    survived: np.ndarray  # bool S: the attempt's output is not corrupted or abandoned
    extra_calls: np.ndarray  # float S: calls beyond the first (retries of noticed failures)


def call_faults(
    rng: np.random.Generator, shape: tuple[int, ...], fault_rate: float, max_retries: int, silent_share: float
) -> CallOutcome:
    """Run each attempt's calls until one succeeds, a failure slips through silently, or retries run out.

    The uniforms are drawn whatever the fault rate, so runs with and without
    faults see the same random numbers.
    """
    tries = max_retries + 1
    fails = rng.random((*shape, tries)) < fault_rate
    silent = rng.random((*shape, tries)) < silent_share
    noticed = fails & ~silent
    # the call that ends the attempt: the first that is not a noticed failure (else the last try)
    ends = ~noticed
    last = np.where(ends.any(axis=-1), ends.argmax(axis=-1), tries - 1)
    idx = np.expand_dims(last, -1)
    ok = ~np.take_along_axis(fails, idx, axis=-1)[..., 0]
    return CallOutcome(survived=ok, extra_calls=last.astype(float))


def retries(
    rng: np.random.Generator, calls: np.ndarray, fault_rate: float, max_retries: int, silent_share: float
) -> np.ndarray:
    """Retries made for ``calls`` (integer array) calls each, grouped: the same events as :func:`call_faults`.

    A call is retried when its try fails noticeably (probability ``(1 -
    silent_share) fault_rate``); of the calls retried once, the same share
    fails again, and so on up to ``max_retries``: nested binomial counts.
    """
    noticed = (1.0 - silent_share) * fault_rate
    total = np.zeros(np.shape(calls))
    failing = np.asarray(calls, dtype=np.int64)
    for _ in range(max_retries):
        failing = rng.binomial(failing, noticed)
        total += failing
    return total


def hub_losses(
    rng: np.random.Generator, messages: np.ndarray, replicas: int, crash_rate: float, cap: int = 1024
) -> np.ndarray:
    """Whether each task loses its hub's state: ``messages`` ``(T,)`` hub messages, each served by ``replicas``.

    A message is lost when every replica fails on it (each independently,
    with ``crash_rate``). Up to ``cap`` messages per task are drawn one by
    one; beyond it the rest are drawn as a count of failed-everywhere
    messages (the same events, grouped), so huge fan-outs stay cheap.
    """
    t = messages.size
    c = max(int(replicas), 1)
    drawn = np.minimum(messages, cap).astype(np.int64)
    width = int(drawn.max(initial=0))
    if width == 0:
        return np.zeros(t, dtype=bool)
    every = (rng.random((t, width, c)) < crash_rate).all(axis=2)
    lost = (every & (np.arange(width)[None, :] < drawn[:, None])).any(axis=1)
    rest = np.maximum(messages - drawn, 0).astype(np.int64)
    if rest.any():
        per_message = crash_rate**c
        lost |= rng.binomial(rest, per_message) > 0
    return lost


def coordination_delay(
    rng: np.random.Generator,
    shape: tuple[int, ...],
    members: float,
    heard: np.ndarray,
    contention: float,
    coherency: float,
) -> np.ndarray:
    """Extra step time (in units of the step) of one coordination round per step, shape ``shape``.

    ``members`` groups take turns at the shared serialised section (each
    turn exponential with mean ``contention`` of a step; the step's own turn
    is part of its work), and the step's coherent group of ``h + 1`` agents
    (``heard`` ``h``, broadcast to ``shape``) makes ``(h + 1) h`` pairwise
    exchanges of mean ``coherency`` each. Turns and exchanges wait for one
    another, so their durations add: gamma draws are sums of exponentials.
    """
    h = np.broadcast_to(np.asarray(heard, dtype=float), shape)
    others = max(members - 1.0, 0.0)
    turns = rng.gamma(others, contention, size=shape) if others > 0 and contention > 0 else np.zeros(shape)
    pairs = (h + 1.0) * h
    exchanges = np.where(pairs > 0, rng.gamma(np.maximum(pairs, 1e-12), max(coherency, 1e-300)), 0.0)
    return turns + (exchanges if coherency > 0 else 0.0)
