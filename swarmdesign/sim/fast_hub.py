"""Fast mode: the wait at a hub queue, from the closed loop of the workers who report to it.

Workers report every attempt to their hub and wait for it, so the hub's
queue is a closed loop (:func:`queueing.closed_loop_wait`). Who takes part
in the loop, and how their messages arrive, decide the wait:

* an item's side-by-side attempters (voters, a judge's candidates) finish
  and report together, a batch at the hub's servers (the bulk-input queue);
* a planner that releases the tasks more slowly than the loop would run
  them keeps most workers idle: only the items in flight take part (Little's
  law: the release rate times an item's own cycle). Treating every worker
  as cycling, a federation of 1,600 coders whose one planner released
  3,000 tasks over the run waited 568 s per message against the event
  schedule's 0.2 s;
* those releases come as bursts: the coordinators plan side by side, so a
  release is one level of a task from each of them, whose items then report
  together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from swarmdesign.sim import queueing

if TYPE_CHECKING:
    from swarmdesign.fitness import Workload
    from swarmdesign.sim.fast_resources import Load
    from swarmdesign.sim.views import RoleViews


@dataclass(frozen=True)
class HubQueue:
    """The hub queue of each design; all ``(D,)``."""

    wait: np.ndarray  # s per message behind other items' messages (its release's other items included)
    own: np.ndarray  # s per item serving its own batch of messages
    batch: np.ndarray  # the item's own attempters' messages arriving together, per server
    offered: np.ndarray  # offered load per server if every worker sent (may exceed 1)
    release_s: np.ndarray  # seconds the plan stage takes to release every task (0: nobody plans)
    clients: np.ndarray  # attempters taking part in each queue's loop


def hub_queue(
    views: RoleViews,
    load: Load,
    wl: Workload,
    *,
    plan_s: np.ndarray,
    per_item: np.ndarray,
    loaded: np.ndarray,
    think: np.ndarray,
) -> HubQueue:
    """Solve each design's hub queue.

    ``plan_s``: a coordinator's seconds of planning per task; ``per_item``: the
    messages an item's attempter sends and waits for; ``loaded``: the messages
    an item puts on its queue (its relays to other hubs included); ``think``:
    an item's own seconds between reports (coordination's slowdown included).
    """
    servers = np.maximum(load.hub_servers, 1.0)
    attempters = np.maximum(load.parallel_attempts, 1.0)
    # an item's side-by-side attempters finish together and report together: its hub serves their messages
    # as one batch on its servers, and the item is done when the last is through (one attempter per server
    # at a time; first-valid's single attempter has no batch)
    batch = np.maximum(load.parallel_attempts / servers, 1.0)
    own = per_item * load.hub_service_s * batch
    release_s = np.where(views.planned, wl.tasks * plan_s / views.n_coordinators.clip(1e-9), 0.0)
    released = np.divide(  # items per second per hub queue
        wl.parallel_fraction * load.items,
        release_s * load.hub_queues,
        out=np.zeros_like(release_s),
        where=release_s > 0,
    )
    # (a release faster than the hub serves piles up instead: every worker then has an item and waits)
    hub_work = np.maximum(loaded, per_item) * load.hub_service_s * attempters  # server-seconds per item
    in_flight = np.maximum(released * attempters * (think + own), 1.0)
    throttled = (release_s > 0) & (released * hub_work < servers) & (in_flight < load.hub_workers)
    clients = np.where(throttled, in_flight, load.hub_workers)
    levels = np.asarray(wl.level_sizes, dtype=float)
    level_items = float((levels**2).sum() / levels.sum())  # the level an item belongs to, on average
    burst = np.where(  # items per hub queue, at most those in flight
        throttled, np.minimum(views.n_coordinators.clip(1.0) * level_items / load.hub_queues, clients), 1.0
    )
    together = np.maximum(burst * load.parallel_attempts / servers, batch)  # messages per server
    # the closed loop's wait is the batch's wait behind the other batches: the item pays it plus, on average,
    # half of its burst's other items, and then its own batch's service
    wait, _, offered = queueing.closed_loop_wait(
        clients, per_item, think, load.hub_service_s, load.hub_servers, loaded=loaded, batch=together
    )
    wait = wait + load.hub_service_s * (together - batch) / 2.0
    offered = offered * load.hub_workers / np.maximum(clients, 1e-300)
    return HubQueue(wait=wait, own=own, batch=batch, offered=offered, release_s=release_s, clients=clients)
