"""Fast mode: what crashed hubs cost a run's latency, and the wait a message spends on them.

A hub crashes on a message its own clients send (a relay between hubs
carries no task state) and is down for ``failover_s``; while it is down it
serves nothing and crashes on nothing, so its failovers follow one another.
What that costs the run depends on what binds it, which is why adding every
failover to the run was wrong both ways: on a hierarchy of 30 workers that
a planner keeps half idle, 97 failovers of 30 s made the fast mode's run
2.2x the event schedule's, which lost 63 s to them, while a star whose
failovers outlast its run loses about all of them.

* **Serial items** run alone: each failover of theirs holds the run.
* **The hub** (per queue) serves its messages and sits out its failovers:
  the failovers are work on the hub's own timeline, so they bind the run
  only where the hub, so loaded, becomes the bottleneck.
* **The workers**: the client whose message crashed the hub waits the whole
  failover holding its slot, and so does every other client of that queue
  that needs the hub before it is back (a client reaching it at rate
  ``lambda`` waits ``s - (1 - e^(-lambda s)) / lambda`` on average). That
  is worker time lost, which binds where the workers do.
* **The last task** may meet a failover itself: its messages crash the hub,
  or reach it while it is down, after everything else is done.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class StageEnds:
    """Where the parallel phase ends without failovers, and the stage ends that make it up; all ``(D,)``.

    ``staged`` is the latest of ``top + fill`` (the bottleneck stage's total
    plus one item through the others), ``merges`` (the last merges) and
    ``hub_end`` (a saturated hub's drain); ``production`` the workers' stage,
    ``chain`` one task's levels, ``hub`` the hub's total service per server,
    ``after_merge`` the share of the production stage the last merges wait
    for (``1 -`` the last level's share of the items).
    """

    staged: np.ndarray
    production: np.ndarray
    chain: np.ndarray | float
    fill: np.ndarray
    merges: np.ndarray
    after_merge: float
    hub: np.ndarray
    hub_end: np.ndarray


def failover_delay(
    stages: StageEnds,
    *,
    crashes: np.ndarray,
    failover_s: float,
    parallel: float,
    queues: np.ndarray,
    groups: np.ndarray,
    clients: np.ndarray,
    contact_rate: np.ndarray,
    crash: np.ndarray,
    task_messages: np.ndarray,
    busiest: np.ndarray | float = 1.0,
) -> np.ndarray:
    """Seconds the run's crashed hubs add to its latency, ``(D,)``.

    ``crashes`` per queue over the run, ``parallel`` the work's parallel
    share, ``groups`` the item groups working at once, ``clients`` the item
    groups in each queue's loop (an item's side-by-side attempters report
    and wait together: one client) and ``contact_rate`` the messages per
    second each sends while it works; ``crash`` the chance one message
    crashes its hub (every server of it) and ``task_messages`` the messages
    one task's items send (see the module docstring). ``busiest`` is the
    fullest queue's load over the mean: ``stages.hub`` is that queue's
    timeline, and its clients' messages crash it as often as they load it.
    """
    s = failover_s
    serial = (1.0 - parallel) * crashes * queues * s
    down = parallel * crashes * s  # per queue: the hub's failovers on its own timeline
    rate = np.maximum(contact_rate, 1e-300)
    blocked = np.maximum(clients - 1.0, 0.0) * (s + np.expm1(-rate * s) / rate)
    held = parallel * crashes * queues * (s + blocked)  # worker seconds
    production = np.maximum(stages.production + held / np.maximum(groups, 1e-300), stages.chain)
    grown = production - np.maximum(stages.production, stages.chain)
    staged = np.maximum.reduce(
        [
            stages.staged,
            production + stages.fill,
            stages.merges + stages.after_merge * grown,
            stages.hub + down * busiest + stages.fill,
            stages.hub_end + down * busiest,
        ]
    )
    # the last task: a crash on one of its own messages, or a message reaching a hub that is down
    down_share = np.minimum(down / np.maximum(staged, 1e-300), 1.0)
    last = s * -np.expm1(task_messages * np.log1p(-np.minimum(crash, 1.0 - 1e-12)))
    last += s / 2.0 * -np.expm1(task_messages * np.log1p(-np.minimum(down_share, 1.0 - 1e-12)))
    return staged - stages.staged + serial + (last if parallel > 0 else 0.0)


def failover_wait(
    *,
    crash: np.ndarray,
    failover_s: float,
    messages: np.ndarray,
    own: np.ndarray,
    clients: np.ndarray,
    per_client: np.ndarray,
    latency: np.ndarray,
    drain: np.ndarray,
) -> np.ndarray:
    """Mean seconds a message spends waiting out crashed hubs, ``(D,)``.

    ``crash`` is the chance that one of its clients' messages crashes its hub
    (every server of it; a relay carries no task state and crashes nothing),
    ``messages`` a queue's messages over the run, ``own`` the part of them its
    own clients send and wait for (the rest are other hubs' relays),
    ``clients`` the attempters in the queue's loop and ``per_client`` the
    messages one client waits for at once. The message a
    hub crashes on waits the whole failover. The others that
    arrive while it recovers wait half of it on average. Relays arrive at their
    rate; the clients' own messages too, but a closed loop's clients stop
    sending while they wait for the hub, so no more than their pending messages
    arrive (counting every message the rate would bring made a star of two
    voters wait 0.85 s per message against the event schedule's 0.23 s).
    ``drain`` stretches the backlog the failover leaves by the rate the hub has
    to spare, ``1 / (1 - busy)``.
    """
    per_s = failover_s / np.maximum(latency, 1e-300)
    arriving = np.minimum(own * per_s, clients * per_client) + np.maximum(messages - own, 0.0) * per_s
    crashes = crash * own  # per queue over the run
    return crashes * failover_s * (1.0 + arriving / 2.0) / np.maximum(messages, 1e-300) * drain
