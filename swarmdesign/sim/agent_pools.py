"""Agent mode, the servers of the event schedule: worker groups, hubs, checkers, planners, integrators.

The schedule runs items in the order they become ready, but an item's later
steps (its hub reports, its review, its merge) happen at times that do not
follow that order: an item that started later may report earlier. Two kinds
of pool serve them:

* :class:`FifoPool` hands out the server free first. It is exact when jobs
  are booked in the order they arrive, which holds for the worker groups
  (items are taken from the ready heap in time order).
* :class:`BookedPool` books each job into the first gap of idle time, at or
  after its arrival, long enough to serve it. Jobs booked out of arrival
  order then wait only for work that really occupies a server at that time.
  A FIFO pool handed such a job the server free first *after* every job
  booked before it, so a report could wait behind one that arrives hours
  later while the hub sat idle: a star of 567 coders voting in threes on
  ``software_project`` had its hub busy 14 % of the run yet every message
  waited 18 s on average.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right


class FifoPool:
    """``c`` identical servers, each job to the first server free; returns the finish time of each job."""

    def __init__(self, servers: int) -> None:
        self.free = [0.0] * max(int(servers), 1)
        heapq.heapify(self.free)

    def serve(self, arrival: float, duration: float) -> float:
        return self.release(self.take(arrival) + duration)

    def take(self, arrival: float) -> float:
        """Hold the first server free after ``arrival``; returns when it starts (give it back with release)."""
        return max(arrival, heapq.heappop(self.free))

    def release(self, at: float) -> float:
        heapq.heappush(self.free, at)
        return at


class BookedPool:
    """``c`` identical servers whose busy intervals are kept, so a job takes the first idle gap that fits it.

    Each server holds its busy time as sorted, disjoint intervals
    (``starts``, ``ends``); touching intervals are merged, so a server kept
    busy back to back is one interval. A job arriving after some server's
    last interval goes there at once (the common case, as cheap as a FIFO
    pool); otherwise every server is searched for its first gap at or after
    the arrival and the earliest start wins (ties: the lowest server).
    """

    def __init__(self, servers: int) -> None:
        n = max(int(servers), 1)
        self.starts: list[list[float]] = [[] for _ in range(n)]
        self.ends: list[list[float]] = [[] for _ in range(n)]
        self.last_end = [0.0] * n  # end of each server's last interval
        self.heap = [(0.0, i) for i in range(n)]  # (last end, server), stale entries dropped when seen

    def serve(self, arrival: float, duration: float) -> float:
        """Book a job of ``duration`` arriving at ``arrival``; returns when it finishes."""
        heap, last = self.heap, self.last_end
        while heap[0][0] != last[heap[0][1]]:  # a server's last end only grows: stale entries are smaller
            heapq.heappop(heap)
        last_end, server = heap[0]
        start = arrival
        if last_end > arrival:  # every server is booked past the arrival: look for the earliest gap
            start = float("inf")
            for s in range(len(self.starts)):
                t = self._first_gap(s, arrival, duration)
                if t < start:
                    start, server = t, s
                    if t == arrival:
                        break
        self._book(server, start, start + duration)
        return start + duration

    def stall(self, at: float, duration: float) -> None:
        """Every server is unavailable for ``duration`` seconds from its first idle moment at or after ``at``."""
        for s in range(len(self.starts)):
            start = self._first_gap(s, at, duration)
            self._book(s, start, start + duration)

    def _first_gap(self, s: int, arrival: float, duration: float) -> float:
        """Earliest start at or after ``arrival`` at which server ``s`` is idle for ``duration``."""
        starts, ends = self.starts[s], self.ends[s]
        i = bisect_right(ends, arrival)  # the first interval still busy after the arrival
        n = len(starts)
        if i == n or starts[i] >= arrival + duration:
            return arrival
        # from here on every interval ends after the arrival, so a gap starts where an interval ends
        for j in range(i + 1, n):
            if starts[j] >= ends[j - 1] + duration:
                return ends[j - 1]
        return ends[n - 1]

    def _book(self, s: int, start: float, end: float) -> None:
        starts, ends = self.starts[s], self.ends[s]
        j = bisect_right(starts, start)
        joins_left = j > 0 and ends[j - 1] >= start
        joins_right = j < len(starts) and starts[j] <= end
        if joins_left and joins_right:  # fills the gap exactly: one interval
            ends[j - 1] = ends[j]
            del starts[j], ends[j]
        elif joins_left:
            ends[j - 1] = max(ends[j - 1], end)
        elif joins_right:
            starts[j] = start
        else:
            starts.insert(j, start)
            ends.insert(j, end)
        if ends[-1] > self.last_end[s]:
            self.last_end[s] = ends[-1]
            heapq.heappush(self.heap, (ends[-1], s))
