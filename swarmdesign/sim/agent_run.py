"""Agent mode, the run: stampede rounds, then a discrete-event simulation of the workload.

Work items (``tasks x subtasks``, on ``dependency_depth`` levels per task)
are taken by worker groups in order; a serial item (share ``1 -
parallel_fraction``) runs alone. Every step is a sampled record from the
quality simulation (its owner, attempts, rework and fault retries); its
hub messages queue at the owner's hub (FIFO, ``c`` servers, exponential
service), its review waits for a free checker, a plan waits for a free
coordinator, a merge for a free integrator. Messages are counted as they
are sent on the explicit wiring (hierarchies and federations forward
batched summaries upward), tokens and dollars per call at the calling
agent's model price.
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING

import numpy as np

from swarmdesign.sim.agent import Dispatcher, Population
from swarmdesign.sim.agent_events import coordination_delay
from swarmdesign.sim.agent_graph import Wiring, build_wiring
from swarmdesign.sim.agent_quality import FaultSetting, QualitySample, simulate_quality
from swarmdesign.sim.batch import AGG_INDEX
from swarmdesign.sim.metrics import METRICS
from swarmdesign.sim.params import SimParams

if TYPE_CHECKING:
    from swarmdesign.design import Design
    from swarmdesign.fitness import Scenario


def stampede_rounds(
    rng: np.random.Generator, contenders: int, options: int, herding: float, organised: float, rounds: int = 16
) -> float:
    """Share of contenders whose pick collides, by letting agents pick options round after round.

    Organised agents take distinct options while any are left and then wait;
    herded agents go for the focal option with probability ``herding``.
    """
    if contenders <= 1 or options < 1:
        return 0.0
    lost = 0.0
    for _ in range(rounds):
        is_org = rng.random(contenders) < organised
        n_org = int(is_org.sum())
        org_picks = rng.permutation(options)[: min(n_org, options)]
        n_h = contenders - n_org
        herd = rng.random(n_h) < herding
        picks = np.where(herd, 0, rng.integers(0, options, size=n_h))
        everyone = np.concatenate([org_picks, picks])
        lost += (everyone.size - np.unique(everyone).size) / contenders
    return lost / rounds


class _Pool:
    """``c`` identical servers with FIFO service; returns the finish time of each job."""

    def __init__(self, servers: int) -> None:
        self.free = [0.0] * max(int(servers), 1)
        heapq.heapify(self.free)

    def stall(self, at: float, duration: float) -> None:
        """Every server is unavailable from ``at`` for ``duration`` seconds (a crash and failover)."""
        self.free = [max(free, at) + duration for free in self.free]
        heapq.heapify(self.free)

    def serve(self, arrival: float, duration: float) -> float:
        start = max(arrival, heapq.heappop(self.free))
        end = start + duration
        heapq.heappush(self.free, end)
        return end


def _herd_similarity(pop: Population, params: SimParams) -> float:
    """How alike two producers choose (0..1): same model, else the models' shared share; less with heterogeneity."""
    b = pop.batch
    vp = params.voting
    counts = np.bincount(pop.model[pop.producers], minlength=len(b.models.names)).astype(float)
    n = counts.sum()
    # two distinct producers drawn without replacement share their model with this probability
    p_same = float((counts * (counts - 1)).sum() / (n * (n - 1))) if n > 1 else 1.0
    cross = vp.correlation_cross_model / vp.correlation_same_model if vp.correlation_same_model > 0 else 1.0
    return (p_same + (1.0 - p_same) * cross) * (1.0 - params.stampede.heterogeneity_spread * float(b.heterogeneity[0]))


def simulate_agents(
    design: Design, scenario: Scenario, params: SimParams, *, seed: int, replicas: int
) -> dict[str, float]:
    """Agent-level metrics of one design (same keys as :data:`METRICS`, all finite)."""
    pop = Population.build(design, scenario)
    b = pop.batch
    wl, env = scenario.workload, scenario.environment
    rng = np.random.default_rng(seed)
    wiring = build_wiring(pop, params, rng)
    dispatcher = Dispatcher(pop, params)
    kind = wiring.kind
    n = pop.n
    k = int(b.redundancy[0])
    first_valid = int(b.aggregation[0]) == AGG_INDEX["first_valid"]
    par_k = 1 if first_valid else k
    hub_kind = kind in ("star", "hierarchical", "federated") and pop.coordinators.size > 0
    routed = bool(b.routed[0])
    sim = _herd_similarity(pop, params)

    split = pop.producers.size > 1 and wl.subtasks > 1 and kind != "single"
    planned = pop.planners.size > 0
    items_total = wl.tasks * wl.subtasks
    available = items_total if (split or planned) else wl.tasks
    n_work = max(pop.producers.size - wiring.promoted.size, 1)
    groups_all = max(n_work // par_k, 1)
    groups = int(min(groups_all, available))
    busy = int(min(n_work, available * par_k))
    sp = params.stampede
    herding = sp.herding * sim
    assigned = hub_kind or routed or kind == "single"
    c_sub = 0.0 if assigned else stampede_rounds(rng, groups, available, herding, 1 - sim)
    c_res = 0.0
    if wl.scarce_resources is not None:
        alloc = sp.hub_allocation * hub_kind
        c_res = stampede_rounds(rng, busy, wl.scarce_resources, herding * (1 - alloc), 1 - sim * (1 - alloc))
        groups = min(groups, wl.scarce_resources)  # at most R steps hold one of the R options at a time
    coll = min(1 - (1 - c_sub) * (1 - c_res), 0.999)

    fp = params.faults
    crash = env.fault_rate * fp.hub_crash_share * (fp.broker_fault_factor if kind == "pubsub" else 1.0)
    has_hub = hub_kind or kind == "pubsub"
    n_tasks = max(16 * replicas, 256)
    # two agents claiming one subtask only waste work (the run charges it); a double-booked scarce
    # resource corrupts the work that relied on it
    common = {"n_tasks": n_tasks, "collided": min(c_res, 0.999)}
    sample = simulate_quality(
        pop,
        dispatcher,
        wiring,
        scenario,
        params,
        np.random.default_rng([seed, 1]),
        faults=FaultSetting(call=env.fault_rate, hub=crash if has_hub else 0.0),
        **common,
    )
    calm = simulate_quality(
        pop,
        dispatcher,
        wiring,
        scenario,
        params,
        np.random.default_rng([seed, 1]),
        faults=FaultSetting(call=0.0, hub=0.0),
        **common,
    )
    out = _Run(
        pop,
        wiring,
        sample,
        scenario,
        params,
        rng,
        groups=groups,
        groups_all=groups_all,
        coll=coll,
        hub_kind=hub_kind,
        crash=crash if has_hub else 0.0,
    ).execute()
    rho = sample.correlation
    items = float(items_total)
    t_prod = float(pop.seconds[pop.producers].mean())
    groups_max = float(min(n_work, available, wl.scarce_resources or available))
    out["quality"] = sample.quality
    out["robustness"] = min(sample.quality / calm.quality, 1.0) if calm.quality > 1e-12 else 1.0
    out["routing_accuracy"] = sample.routing_accuracy
    out["voter_correlation"] = rho
    out["effective_voters"] = k / (1 + (k - 1) * max(rho, 0.0))
    out["collision_share"] = coll
    out["agents"] = float(n)
    out["channels"] = wiring.channels
    out["spread_rounds"] = wiring.spread_rounds
    out["ideal_latency"] = items * t_prod / max(groups_max, 1.0)
    return {name: float(out.get(name, 0.0)) for name in METRICS}


class _Run:
    """State of one discrete-event run (pools, counters, spend).

    Everything random about an item (its sampled step, coordination round,
    lost picks, hub messages' service times and replica failures) is drawn
    up front in arrays, so the event loop itself only schedules.
    """

    def __init__(
        self,
        pop: Population,
        wiring: Wiring,
        sample: QualitySample,
        scenario: Scenario,
        params: SimParams,
        rng: np.random.Generator,
        *,
        groups: int,
        groups_all: int,
        coll: float,
        hub_kind: bool,
        crash: float,
    ) -> None:
        b = pop.batch
        wl, env = scenario.workload, scenario.environment
        self.pop, self.wiring, self.params = pop, wiring, params
        self.wl, self.env = wl, env
        dp, rv, vp, qp = params.decomposition, params.review, params.voting, params.queueing
        self.kind = wiring.kind
        self.n = pop.n
        self.k = int(b.redundancy[0])
        agg = int(b.aggregation[0])
        self.first_valid = agg == AGG_INDEX["first_valid"]
        self.uses_judge = agg == AGG_INDEX["judge"] and self.k > 1
        self.hub_msgs = float(wiring.hub_messages[pop.producers].max(initial=0.0))
        self.hub_kind = hub_kind
        self.checkers = np.concatenate(pop.checker_roles) if pop.checker_roles else np.zeros(0, dtype=np.int64)
        self.rounds = max(int(b.review_rounds[0]), 1) if self.checkers.size else int(b.review_rounds[0])
        base_s = pop.seconds[self.checkers].mean() if self.checkers.size else pop.seconds[pop.producers].mean()
        self.review_s = rv.review_token_share * base_s
        self.plan_s = dp.plan_token_share * (pop.seconds[pop.planners].mean() if pop.planners.size else 0.0)
        self.merge_s = pop.seconds[pop.mergers].mean() if pop.mergers.size else 0.0
        judge_s = pop.seconds[pop.judges].mean() if pop.judges.size else pop.seconds[pop.producers].mean()
        self.judge_time = vp.judge_token_share * self.k * judge_s if self.uses_judge else 0.0
        self.hops = wiring.handoff_hops
        self.route_msgs = (np.ceil(np.log2(max(self.n, 1))) + 1.0) if b.routed[0] else float(self.n)
        self.route_hops = self.route_msgs if b.routed[0] else min(self.n - 1, 1)
        self.step_tok = float(wl.input_tokens_per_step + wl.output_tokens_per_step)
        self.call = wl.input_tokens_per_step * pop.usd_in + wl.output_tokens_per_step * pop.usd_out  # USD, (n,)
        self.ctx = np.minimum(wiring.heard * env.message_tokens, params.communication.context_window_tokens)
        # per-call prices of the agents that plan, report to, merge and judge
        coord_call = float(self.call[pop.coordinators].mean()) if pop.coordinators.size else 0.0
        self.hub_usd = qp.hub_token_share * coord_call
        self.plan_usd = dp.plan_token_share * (float(self.call[pop.planners].mean()) if pop.planners.size else 0.0)
        self.merge_usd = float(self.call[pop.mergers].mean()) if pop.mergers.size else 0.0
        judges = pop.judges if pop.judges.size else pop.coordinators if pop.coordinators.size else pop.producers
        self.judge_usd = vp.judge_token_share * self.k * float(self.call[judges].mean())
        self.workers = _Pool(groups)
        self.hubs = [_Pool(round(c)) for c in wiring.hub_servers]
        self.hub_service = self._hub_service_times()
        self.counter = np.zeros(max(len(self.hubs), 1))
        self.checker_pool = _Pool(max(self.checkers.size, 1))
        self.coord_pool = _Pool(max(pop.planners.size, 1))
        self.merge_pool = _Pool(max(pop.mergers.size, 1))
        self.judge_pool = _Pool(max(pop.judges.size, 1))
        items = wl.tasks * wl.subtasks
        self.serial = rng.random(items) >= wl.parallel_fraction
        self._draw_items(sample, rng, items, coll, float(groups_all), crash)
        self.usd = {"prod": 0.0, "review": 0.0, "coord": 0.0, "routing": 0.0}
        self.calls = self.tokens = self.messages = self.hub_busy = 0.0
        self.hub_wait = self.hub_served = self.work_s = 0.0

    def _draw_items(
        self, sample: QualitySample, rng: np.random.Generator, items: int, coll: float, members: float, crash: float
    ) -> None:
        """Each item's sampled step, coordination round, lost picks and hub message events, as arrays."""
        pop, rec, dp = self.pop, sample.steps, self.params.decomposition
        pick = rng.integers(0, rec.owner.size, size=items)
        owner = rec.owner[pick]
        self.lost_picks = rng.geometric(1.0 - coll, size=items) - 1 if coll > 0 else np.zeros(items, dtype=np.int64)
        # coordination round of each step: all worker groups take turns, the peers heard exchange
        coherent = np.minimum(self.wiring.heard[owner], max(members - 1.0, 0.0))
        slowdown = 1.0 + coordination_delay(rng, (items,), members, coherent, dp.contention, dp.coherency)
        queue = self.wiring.hub_of[owner]
        attempts = rec.attempts[pick].astype(float)
        n_msg = np.where(queue >= 0, np.round(attempts).astype(np.int64) * round(self.hub_msgs), 0)
        q_msg = np.repeat(queue, n_msg)
        service = rng.exponential(self.hub_service[q_msg]) if q_msg.size else np.zeros(0)
        # a message stalls its hub only when every replica serving the hub fails on it
        reps = np.array([max(round(c), 1) for c in self.wiring.hub_servers] or [1])[q_msg]
        width = int(reps.max(initial=1))
        fails = rng.random((q_msg.size, width)) < crash
        stalls = (fails | (np.arange(width)[None, :] >= reps[:, None])).all(axis=1) & (crash > 0)
        self.msg_start = np.concatenate([[0], np.cumsum(n_msg)]).tolist()
        self.msg_service, self.msg_stall = service.tolist(), stalls.tolist()
        chk = self.checkers[rng.integers(0, self.checkers.size, size=items)] if self.checkers.size else owner
        self.item = {
            "owner": owner.tolist(),
            "t": pop.seconds[owner].tolist(),
            "attempts": attempts.tolist(),
            "faults": rec.fault_calls[pick].tolist(),
            "rework": rec.rework[pick].tolist(),
            "lost": self.lost_picks.astype(float).tolist(),
            "slowdown": slowdown.tolist(),
            "queue": queue.tolist(),
            "checker_usd": self.call[chk].tolist(),
            "call": self.call[owner].tolist(),
            "ctx": self.ctx[owner].tolist(),
            "ctx_usd": (self.ctx[owner] * pop.usd_in[owner]).tolist(),
        }

    def _hub_service_times(self) -> np.ndarray:
        """Mean hub seconds per message for each queue: grows with the workers each server tracks."""
        w, qp = self.wiring, self.params.queueing
        if not w.hub_servers.size or self.kind == "pubsub":
            return np.full(max(w.hub_servers.size, 1), w.hub_service_s)
        tracked = np.bincount(w.hub_of[w.hub_of >= 0], minlength=w.hub_servers.size) / w.hub_servers
        ctx = np.minimum(
            tracked * qp.hub_context_per_worker * self.env.message_tokens,
            self.params.communication.context_window_tokens,
        )
        return w.hub_service_s * (1.0 + ctx / self.wl.input_tokens_per_step)

    def execute(self) -> dict[str, float]:
        """Event loop: levels of tasks become ready, free workers take the earliest ready work."""
        wl, pop = self.wl, self.pop
        env = self.env
        levels = np.array_split(np.arange(wl.subtasks), min(wl.dependency_depth, wl.subtasks))
        ready_heap: list[tuple[float, int, int]] = []
        route_tok = self.route_msgs * env.message_tokens
        for task in range(wl.tasks):
            ready = self.coord_pool.serve(0.0, self.plan_s) if pop.planners.size else 0.0
            if pop.planners.size:
                self._spend("coord", self.plan_usd, 1.0, self.params.decomposition.plan_token_share)
            ready += env.message_latency_s * (self.wiring.spread_rounds + self.route_hops)
            self.messages += self.route_msgs
            self.usd["routing"] += route_tok * float(pop.usd_in.mean())
            self.tokens += route_tok
            heapq.heappush(ready_heap, (ready, task, 0))
        latest = 0.0
        deferred: list[int] = []
        while ready_heap:
            ready, task, level = heapq.heappop(ready_heap)
            level_end = ready
            for j in levels[level]:
                item = task * wl.subtasks + int(j)
                if self.serial[item]:
                    deferred.append(item)  # Amdahl: the serial share runs alone, after the parallel phase
                else:
                    level_end = max(level_end, self._item(item, ready, parallel=True))
            if level + 1 < len(levels):
                heapq.heappush(ready_heap, (level_end, task, level + 1))
                continue
            if pop.mergers.size:
                level_end = self.merge_pool.serve(level_end, self.merge_s)
                self._spend("coord", self.merge_usd)
            latest = max(latest, level_end)
        for it in deferred:
            latest = self._item(it, latest, parallel=False)
        servers = float(self.wiring.hub_servers[: self.wiring.leaf_queues].sum())
        w = self.wiring
        if w.hub_servers.size:
            tracked = np.bincount(w.hub_of[w.hub_of >= 0], minlength=w.hub_servers.size)
            think = float(pop.seconds[pop.producers].mean())
            offered = float(np.max(tracked * self.hub_msgs * self.hub_service / (w.hub_servers * think)))
        else:
            offered = 0.0
        producer_call = float(self.call[pop.producers].mean())
        return {
            "hub_utilisation": offered,
            "ideal_cost": wl.tasks * wl.subtasks * producer_call,
            "latency": latest,
            "cost": sum(self.usd.values()),
            "tokens": self.tokens,
            "llm_calls": self.calls,
            "messages": self.messages,
            "messages_per_task": self.messages / wl.tasks,
            "hub_busy": self.hub_busy / max(latest * servers, 1e-12) if servers else 0.0,
            "hub_wait_s": self.hub_wait / self.hub_served if self.hub_served else 0.0,
            "stampede_collisions": float(self.lost_picks.sum()),
            # producer-seconds of model calls done per second of the run: throughput relative to one
            "speedup": self.work_s / max(latest, 1e-12),
        }

    def _spend(self, what: str, usd: float, calls: float = 1.0, size: float = 1.0) -> None:
        """Charge ``calls`` model calls of ``size`` steps' tokens each, costing ``usd`` in all."""
        self.usd[what] += usd
        self.calls += calls
        self.tokens += calls * size * self.step_tok

    def _item(self, item: int, ready: float, *, parallel: bool) -> float:
        """Run one work item from ``ready``; returns when it is done."""
        pop, params, it = self.pop, self.params, self.item
        t = it["t"][item]
        attempts = it["attempts"][item]
        lost = it["lost"][item]
        faults = it["faults"][item]
        calls_s = t * (attempts if self.first_valid else max(1.0, self.k / max(pop.producers.size, 1)))
        self.work_s += calls_s
        if parallel:  # the serial share runs alone, with nobody to coordinate with
            calls_s *= it["slowdown"][item]
        work = calls_s + t * faults + t * params.stampede.collision_cost_share * lost
        work += self.env.message_latency_s * self.hops
        if not pop.judges.size:
            work += self.judge_time  # the producers judge their own attempts
        end = self.workers.serve(ready, work) if parallel else ready + work
        if pop.judges.size and self.judge_time > 0:
            end = self.judge_pool.serve(end, self.judge_time)
        q = it["queue"][item]
        per_attempt = round(self.hub_msgs)
        if q >= 0 and per_attempt > 0:
            done, m = end, self.msg_start[item]
            hub = self.hubs[q]
            for _a in range(round(attempts)):
                t_a = end
                for _m in range(per_attempt):
                    service = self.msg_service[m]
                    if self.msg_stall[m]:
                        hub.stall(t_a, params.faults.failover_s)
                    arrival = t_a
                    t_a = hub.serve(t_a, service)
                    self.hub_busy += service
                    self.hub_wait += t_a - service - arrival
                    m += 1
                done = max(done, t_a)
            self.hub_served += per_attempt * round(attempts)
            end = done
            self.messages += _forward(self.wiring, self.counter, q, per_attempt * round(attempts), attempts, self.kind)
            if self.hub_kind:
                n_hub = per_attempt * attempts
                self._spend("coord", n_hub * self.hub_usd, n_hub, params.queueing.hub_token_share)
        elif self.kind not in ("star", "hierarchical", "federated"):
            self.messages += attempts * _peer_messages(self.kind, self.n)
        rework = it["rework"][item]
        if self.rounds > 0:
            end = (
                self.checker_pool.serve(end, self.rounds * self.review_s)
                if self.checkers.size
                else (end + self.rounds * self.review_s)
            )
            end += rework * t
            self.messages += 2 * self.rounds
            share = params.review.review_token_share
            self._spend("review", self.rounds * share * it["checker_usd"][item], self.rounds, share)
        if self.uses_judge:
            self._spend("coord", self.judge_usd, 1.0, params.voting.judge_token_share * self.k)
        # production calls (attempts, redone collided picks, rework) and the retries of failed calls
        prod_calls = attempts * (1.0 + lost * params.stampede.collision_cost_share) + rework
        self.usd["prod"] += prod_calls * (it["call"][item] + it["ctx_usd"][item]) + faults * it["call"][item]
        self.calls += prod_calls + faults
        self.tokens += prod_calls * (self.step_tok + it["ctx"][item]) + faults * self.step_tok
        return end


def _peer_messages(kind: str, n: int) -> float:
    """Messages one attempt sends to its peers on the explicit wiring (chain: the next agent)."""
    if kind == "chain":
        return 1.0 if n > 1 else 0.0
    if kind == "ring":
        return float(min(n - 1, 2))
    if kind == "mesh":
        return float(n - 1)
    return 0.0


def _forward(wiring: Wiring, counter: np.ndarray, queue: int, count: int, steps: float, kind: str) -> float:
    """Messages sent for ``count`` reports of ``steps`` steps reaching hub ``queue``, summaries included.

    A hierarchy's manager forwards one summary up per ``branching`` reports it
    received; a federated hub tells its peer hubs once per ``cluster_size``
    steps of its cluster.
    """
    sent = float(count)
    if kind == "hierarchical":
        q, received = queue, count
        while received > 0:
            counter[q] += received
            up = int(counter[q] // wiring.branching)
            counter[q] -= up * wiring.branching
            q = int(wiring.manager_parent[q])
            if q < 0:
                break
            sent += up
            received = up
    elif kind == "federated" and wiring.peer_hubs > 0:
        counter[queue] += steps
        batches = int(counter[queue] // wiring.cluster_size)
        counter[queue] -= batches * wiring.cluster_size
        sent += batches * wiring.peer_hubs
    return sent
