"""Agent-mode failure and coordination events, checked against values derived by hand from the event rules."""

from __future__ import annotations

import numpy as np
import pytest
from agent_helpers import binomial_se

from swarmdesign.sim.agent_events import call_faults, coordination_delay, hub_losses, retries

N = 200_000


@pytest.mark.parametrize(("f", "silent", "retries"), [(0.3, 0.5, 1), (0.1, 0.3, 2), (0.5, 0.0, 0)])
def test_calls_retry_noticed_failures_until_one_ends_the_attempt(f: float, silent: float, retries: int) -> None:
    """A call ends the attempt when it succeeds or fails silently; noticed failures are retried.

    Survival = sum_j (noticed failure)^j (1 - f) over j = 0..retries; extra
    calls = sum_j (noticed failure)^j over j = 1..retries. (The fast mode's
    closed form (1 - f s)(1 - ((1 - s) f)^(r+1)) differs by 0.026 at the first setting.)
    """
    out = call_faults(np.random.default_rng(0), (N,), f, retries, silent)
    noticed = (1 - silent) * f
    survive = (1 - f) * sum(noticed**j for j in range(retries + 1))
    extra = sum(noticed**j for j in range(1, retries + 1))
    assert out.survived.mean() == pytest.approx(survive, abs=4 * binomial_se(survive, N))
    assert out.extra_calls.mean() == pytest.approx(extra, abs=0.01)


def test_calls_share_their_draws_whatever_the_fault_rate() -> None:
    """Runs with and without faults see the same random numbers (common random numbers)."""
    a = np.random.default_rng(1)
    b = np.random.default_rng(1)
    call_faults(a, (100,), 0.0, 2, 0.3)
    call_faults(b, (100,), 0.4, 2, 0.3)
    assert a.random() == b.random()


@pytest.mark.parametrize(("messages", "replicas", "crash"), [(30, 1, 0.05), (30, 2, 0.2), (5000, 2, 0.01)])
def test_a_hub_loses_a_task_only_when_every_replica_fails_on_a_message(
    messages: int, replicas: int, crash: float
) -> None:
    tasks = 20_000
    lost = hub_losses(np.random.default_rng(2), np.full(tasks, messages), replicas, crash, cap=100)
    expected = 1 - (1 - crash**replicas) ** messages
    assert lost.mean() == pytest.approx(expected, abs=4 * binomial_se(expected, tasks) + 1e-3)


def test_no_hub_messages_no_loss() -> None:
    assert not hub_losses(np.random.default_rng(3), np.zeros(10, dtype=np.int64), 1, 1.0).any()


def test_coordination_round_adds_turns_and_exchanges() -> None:
    """N groups take turns of mean sigma; a coherent group of h + 1 makes (h + 1) h exchanges of mean kappa."""
    heard = np.array([1.0, 9.0])
    delay = coordination_delay(np.random.default_rng(4), (N, 2), 50.0, heard, 0.01, 0.001)
    expected = 0.01 * 49 + 0.001 * (heard + 1) * heard
    assert delay.mean(axis=0) == pytest.approx(expected, rel=0.02)
    assert (coordination_delay(np.random.default_rng(4), (10,), 1.0, np.zeros(10), 0.01, 0.001) == 0).all()


def test_grouped_retries_count_the_same_events_as_calls_one_by_one() -> None:
    """Nested binomial retry counts have the mean of per-call draws: sum_j ((1 - s) f)^j per call."""
    f, silent, r = 0.2, 0.3, 2
    one_by_one = call_faults(np.random.default_rng(5), (N,), f, r, silent).extra_calls.mean()
    grouped = retries(np.random.default_rng(6), np.full(1000, N // 1000), f, r, silent).sum() / N
    noticed = (1 - silent) * f
    assert grouped == pytest.approx(noticed + noticed**2, abs=0.005)
    assert grouped == pytest.approx(one_by_one, abs=0.005)
