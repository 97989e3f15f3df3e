"""The event schedule's servers: a booked pool serves each job in the first idle gap at or after its arrival."""

from __future__ import annotations

import random

import pytest

from swarmdesign.sim.agent_pools import BookedPool, FifoPool


def _earliest(pool: BookedPool, arrival: float, duration: float) -> float:
    """The earliest start any server allows, found by trying every interval end (brute force)."""
    best = float("inf")
    for starts, ends in zip(pool.starts, pool.ends, strict=True):
        busy = list(zip(starts, ends, strict=True))
        for t in sorted([arrival] + [e for e in ends if e > arrival]):
            if all(e <= t or s >= t + duration for s, e in busy):
                best = min(best, t)
                break
    return best


def test_a_job_booked_late_is_served_when_it_arrives() -> None:
    """A report processed after one that arrives later does not wait behind it while the server is idle."""
    booked, fifo = BookedPool(1), FifoPool(1)
    assert booked.serve(10.0, 1.0) == fifo.serve(10.0, 1.0) == 11.0
    assert booked.serve(0.0, 1.0) == 1.0
    assert fifo.serve(0.0, 1.0) == 12.0  # the FIFO pool's phantom wait
    assert booked.serve(0.5, 1.0) == 2.0  # behind the job at 0, in the gap before 10
    assert booked.serve(1.5, 8.0) == 10.0  # exactly fills the gap up to 10
    assert booked.serve(1.5, 1.0) == 12.0  # no gap left before the end
    assert booked.starts == [[0.0]] and booked.ends == [[12.0]]  # touching intervals merged


@pytest.mark.parametrize("servers", [1, 2, 5])
def test_in_order_arrivals_are_served_as_by_a_fifo_pool(servers: int) -> None:
    rng = random.Random(servers)
    booked, fifo = BookedPool(servers), FifoPool(servers)
    t = 0.0
    for _ in range(2000):
        t += rng.expovariate(1.0)
        duration = rng.expovariate(0.3 * servers)
        assert booked.serve(t, duration) == pytest.approx(fifo.serve(t, duration), abs=1e-9)


@pytest.mark.parametrize("servers", [1, 2, 3, 4])
def test_out_of_order_jobs_take_the_earliest_gap_and_never_overlap(servers: int) -> None:
    rng = random.Random(7 + servers)
    for _ in range(40):
        pool, total = BookedPool(servers), 0.0
        for _ in range(60):
            arrival, duration = rng.uniform(0.0, 60.0), rng.uniform(0.1, 5.0)
            want = _earliest(pool, arrival, duration)
            assert pool.serve(arrival, duration) - duration == pytest.approx(want, abs=1e-9)
            total += duration
            for starts, ends in zip(pool.starts, pool.ends, strict=True):
                assert all(s < e for s, e in zip(starts, ends, strict=True))
                assert all(e < s for e, s in zip(ends, starts[1:], strict=False))
        busy = sum(e - s for st, en in zip(pool.starts, pool.ends, strict=True) for s, e in zip(st, en, strict=True))
        assert busy == pytest.approx(total)


def test_a_stall_blocks_every_server_from_its_first_idle_moment() -> None:
    pool = BookedPool(2)
    pool.serve(0.0, 5.0)
    pool.stall(1.0, 10.0)  # server 0 is busy until 5, server 1 idle from 1
    assert pool.ends == [[15.0], [11.0]]
    assert pool.serve(2.0, 1.0) == 12.0
