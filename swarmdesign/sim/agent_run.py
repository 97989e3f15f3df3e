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

from swarmdesign.sim import topology
from swarmdesign.sim.agent import Dispatcher, Population, QualitySample, simulate_quality
from swarmdesign.sim.agent_graph import Wiring, build_wiring
from swarmdesign.sim.batch import AGG_INDEX, KIND_INDEX
from swarmdesign.sim.fast import herd_similarity
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


def simulate_agents(
    design: Design, scenario: Scenario, params: SimParams, *, seed: int, replicas: int
) -> dict[str, float]:
    """Agent-level metrics of one design (same keys as :data:`METRICS`)."""
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

    # similarity of the producers (same model, heterogeneity) drives herding
    vp = params.voting
    shares = np.bincount(pop.model[pop.producers], minlength=len(b.models.names)) / pop.producers.size
    p_same = float((shares**2).sum())
    rho = (p_same * vp.correlation_same_model + (1 - p_same) * vp.correlation_cross_model) * (
        1 - vp.heterogeneity_decorrelation * float(b.heterogeneity[0])
    )
    sim = float(herd_similarity(np.array(p_same), np.array(float(b.heterogeneity[0])), params))

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

    hub_msgs = _hub_messages(kind, wiring, params, hub_kind)
    levels = (
        max(np.ceil(np.log(max(pop.producers.size, 1)) / np.log(wiring.branching)), 1) if kind == "hierarchical" else 1
    )
    hub_calls_task = wl.subtasks * k * hub_msgs * levels
    f = env.fault_rate
    replicas_hub = wiring.hub_servers.min() if wiring.hub_servers.size else 1.0
    crash = f * params.faults.hub_crash_share
    f_hub = crash * params.faults.broker_fault_factor if kind == "pubsub" else crash
    n_tasks = max(16 * replicas, 256)
    common = {"n_tasks": n_tasks, "hub_kind": hub_kind, "collided": coll, "hub_replicas": float(replicas_hub)}
    heard = wiring.heard
    rng_q = np.random.default_rng([seed, 1])
    sample = simulate_quality(
        pop,
        dispatcher,
        heard,
        scenario,
        params,
        rng_q,
        fault_rate=f,
        hub_fault_rate=f_hub,
        hub_calls_per_task=hub_calls_task if (hub_kind or kind == "pubsub") else 0.0,
        **common,
    )
    calm = simulate_quality(
        pop,
        dispatcher,
        heard,
        scenario,
        params,
        np.random.default_rng([seed, 1]),
        fault_rate=0.0,
        hub_fault_rate=0.0,
        hub_calls_per_task=0.0,
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
        hub_msgs=hub_msgs,
        hub_kind=hub_kind,
    ).execute()
    out["quality"] = sample.quality
    out["robustness"] = min(sample.quality / calm.quality, 1.0) if calm.quality > 1e-12 else 1.0
    out["routing_accuracy"] = sample.routing_accuracy
    out["voter_correlation"] = rho
    out["effective_voters"] = k / (1 + (k - 1) * rho)
    out["collision_share"] = coll
    out["agents"] = float(n)
    out["channels"] = wiring.channels
    out["spread_rounds"] = wiring.spread_rounds
    return {name: float(out.get(name, np.nan)) for name in METRICS}


def _hub_messages(kind: str, wiring: Wiring, params: SimParams, hub_kind: bool) -> float:
    if kind == "pubsub":
        return 1.0 + wiring.subscribers
    return params.queueing.hub_messages_per_step if hub_kind else 0.0


class _Run:
    """State of one discrete-event run (pools, counters, spend)."""

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
        hub_msgs: float,
        hub_kind: bool,
    ) -> None:
        b = pop.batch
        wl, env = scenario.workload, scenario.environment
        self.pop, self.wiring, self.rec, self.params, self.rng = pop, wiring, sample.steps, params, rng
        self.wl, self.env = wl, env
        dp, rv = params.decomposition, params.review
        self.kind = wiring.kind
        self.n = pop.n
        self.k = int(b.redundancy[0])
        agg = int(b.aggregation[0])
        self.first_valid = agg == AGG_INDEX["first_valid"]
        self.uses_judge = agg == AGG_INDEX["judge"] and self.k > 1
        self.groups = groups
        # coordination slows every step by 1 + sigma (N - 1) + kappa N h, N = all groups, h = peers heard
        heard = float(wiring.heard[pop.producers].mean()) if pop.producers.size else 0.0
        n_all = float(groups_all)
        h = min(heard, n_all - 1)
        self.usl = 1.0 + dp.contention * (n_all - 1) + dp.coherency * (h + 1) * h
        self.hub_msgs = hub_msgs
        self.hub_kind = hub_kind
        self.checkers = np.concatenate(pop.checker_roles) if pop.checker_roles else np.zeros(0, dtype=np.int64)
        self.rounds = max(int(b.review_rounds[0]), 1) if self.checkers.size else int(b.review_rounds[0])
        base_s = pop.seconds[self.checkers].mean() if self.checkers.size else pop.seconds[pop.producers].mean()
        self.review_s = rv.review_token_share * base_s
        self.plan_s = dp.plan_token_share * (pop.seconds[pop.planners].mean() if pop.planners.size else 0.0)
        self.merge_s = pop.seconds[pop.mergers].mean() if pop.mergers.size else 0.0
        judge_s = pop.seconds[pop.judges].mean() if pop.judges.size else pop.seconds[pop.producers].mean()
        self.judge_time = params.voting.judge_token_share * self.k * judge_s if self.uses_judge else 0.0
        kind_arr = np.array([KIND_INDEX[self.kind]])
        self.hops = float(topology.handoff_hops(kind_arr, np.array([float(self.n)]), b.branching)[0])
        self.route_msgs = (np.ceil(np.log2(max(self.n, 1))) + 1.0) if b.routed[0] else float(self.n)
        self.route_hops = self.route_msgs if b.routed[0] else min(self.n - 1, 1)
        self.call = wl.input_tokens_per_step * pop.usd_in + wl.output_tokens_per_step * pop.usd_out  # USD, (n,)
        self.ctx = np.minimum(wiring.heard * env.message_tokens, params.communication.context_window_tokens)
        self.workers = _Pool(groups)
        self.hubs = [_Pool(round(c)) for c in wiring.hub_servers]
        self.hub_service = self._hub_service_times()
        fp = params.faults
        crash = env.fault_rate * fp.hub_crash_share * (fp.broker_fault_factor if self.kind == "pubsub" else 1.0)
        replicas = float(wiring.hub_servers.min()) if wiring.hub_servers.size else 1.0
        self.crash_rate = crash**replicas if crash > 0 else 0.0
        self.counter = np.zeros(max(len(self.hubs), 1))
        self.checker_pool = _Pool(max(self.checkers.size, 1))
        self.coord_pool = _Pool(max(pop.planners.size, 1))
        self.merge_pool = _Pool(max(pop.mergers.size, 1))
        self.judge_pool = _Pool(max(pop.judges.size, 1))
        items = wl.tasks * wl.subtasks
        self.serial = rng.random(items) >= wl.parallel_fraction
        self.pick = rng.integers(0, self.rec.owner.size, size=items)
        self.lost_picks = rng.geometric(1.0 - coll, size=items) - 1 if coll > 0 else np.zeros(items, dtype=np.int64)
        self.usd = {"prod": 0.0, "review": 0.0, "coord": 0.0, "routing": 0.0}
        self.calls = self.tokens = self.messages = self.hub_busy = 0.0
        self.remaining = items

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
        for task in range(wl.tasks):
            ready = self.coord_pool.serve(0.0, self.plan_s) if pop.planners.size else 0.0
            if pop.planners.size:
                plan_call = self.params.decomposition.plan_token_share * float(self.call[pop.planners].mean())
                self._spend("coord", plan_call)
            ready += env.message_latency_s * (self.wiring.spread_rounds + self.route_hops)
            self.messages += self.route_msgs
            self.usd["routing"] += self.route_msgs * env.message_tokens * float(pop.usd_in.mean())
            self.tokens += self.route_msgs * env.message_tokens
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
                self._spend("coord", float(self.call[pop.mergers].mean()))
            latest = max(latest, level_end)
        for it in deferred:
            latest = self._item(it, latest, parallel=False)
        f = self.env.fault_rate
        fault_factor = 1.0 / (1.0 - f) if f > 0 else 1.0
        other = self.usd["review"] + self.usd["coord"]
        servers = float(self.wiring.hub_servers.sum())
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
            "cost": self.usd["prod"] + self.usd["routing"] + other * fault_factor,
            "tokens": self.tokens * fault_factor,
            "llm_calls": self.calls,
            "messages": self.messages,
            "messages_per_task": self.messages / wl.tasks,
            "hub_busy": self.hub_busy / max(latest * servers, 1e-12) if servers else 0.0,
        }

    def _spend(self, what: str, usd: float, calls: float = 1.0) -> None:
        self.usd[what] += usd
        self.calls += calls
        self.tokens += calls * (self.wl.input_tokens_per_step + self.wl.output_tokens_per_step)

    def _item(self, item: int, ready: float, *, parallel: bool) -> float:
        """Run one work item from ``ready``; returns when it is done."""
        pop, rec, rng, params = self.pop, self.rec, self.rng, self.params
        r = self.pick[item]
        owner = int(rec.owner[r])
        t = float(pop.seconds[owner])
        attempts = float(rec.attempts[r])
        usl = self.usl if parallel else 1.0
        n_prod = max(pop.producers.size, 1)
        lost = float(self.lost_picks[item])
        faults = float(rec.fault_calls[r])
        work = t * (attempts if self.first_valid else max(1.0, self.k / n_prod)) * usl
        work += t * faults + t * params.stampede.collision_cost_share * lost
        work += self.env.message_latency_s * self.hops
        if not pop.judges.size:
            work += self.judge_time  # the producers judge their own attempts
        end = self.workers.serve(ready, work) if parallel else ready + work
        if pop.judges.size and self.judge_time > 0:
            end = self.judge_pool.serve(end, self.judge_time)
        q = int(self.wiring.hub_of[owner])
        per_attempt = round(self.hub_msgs)
        if q >= 0 and per_attempt > 0:
            done = end
            for _a in range(round(attempts)):
                t_a = end
                for _m in range(per_attempt):
                    service = float(rng.exponential(self.hub_service[q]))
                    self.hub_busy += service
                    if rng.random() < self.crash_rate:
                        self.hubs[q].stall(t_a, params.faults.failover_s)
                    t_a = self.hubs[q].serve(t_a, service)
                done = max(done, t_a)
            end = done
            self.messages += _forward(self.wiring, self.counter, q, per_attempt * round(attempts), attempts, self.kind)
            if self.hub_kind:
                n_hub = per_attempt * attempts
                hub_call = params.queueing.hub_token_share * float(self.call[pop.coordinators].mean())
                self._spend("coord", n_hub * hub_call, n_hub)
        elif self.kind not in ("star", "hierarchical", "federated"):
            self.messages += attempts * _peer_messages(self.kind, self.n)
        rework = float(rec.rework[r])
        if self.rounds > 0:
            if self.checkers.size:
                end = self.checker_pool.serve(end, self.rounds * self.review_s)
                chk = self.checkers[rng.integers(0, self.checkers.size)]
            else:
                end, chk = end + self.rounds * self.review_s, owner
            end += rework * t
            self.messages += 2 * self.rounds
            self._spend("review", self.rounds * params.review.review_token_share * float(self.call[chk]), self.rounds)
        if self.uses_judge:
            pool = pop.judges if pop.judges.size else pop.coordinators if pop.coordinators.size else pop.producers
            self.usd["coord"] += params.voting.judge_token_share * self.k * float(self.call[pool].mean())
        prod_calls = attempts * (1.0 + lost * params.stampede.collision_cost_share) + rework
        ctx = float(self.ctx[owner])
        self.usd["prod"] += prod_calls * (float(self.call[owner]) + ctx * float(pop.usd_in[owner]))
        self.usd["prod"] += faults * float(self.call[owner])
        self.calls += prod_calls + faults
        self.tokens += prod_calls * (self.wl.input_tokens_per_step + self.wl.output_tokens_per_step + ctx)
        self.remaining -= 1
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
