"""Agent mode, the schedule: a discrete-event run of the workload through workers, hubs and checkers.

Work items (``tasks x subtasks``, on ``dependency_depth`` levels per task)
are taken by worker groups in order; a serial item (share ``1 -
parallel_fraction``) runs alone. Every step is a sampled record from the
quality simulation (its owner, attempts, rework, critiques and fault
retries). Its hub messages queue at the owner's hub (``c`` servers,
exponential service, each message in the first idle time at or after its
arrival: :mod:`.agent_pools`; a replicated hub stalls only when every
replica fails on a message), its review waits for a free checker, rework
and self-review keep the owner busy, a plan waits for a free coordinator, a
merge for a free integrator. Every step also goes through a coordination
round (:func:`agent_events.coordination_delay`). Messages are counted as
they are sent on the explicit wiring (hierarchies and federations forward
batched summaries upward, served at the hubs they reach); tokens and
dollars go into one ledger per component at the calling agent's model
price, so tokens and cost count the same calls.
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING

import numpy as np

from swarmdesign.sim.agent_events import coordination_delay, retries
from swarmdesign.sim.agent_pools import BookedPool, FifoPool
from swarmdesign.sim.batch import AGG_INDEX

if TYPE_CHECKING:
    from swarmdesign.fitness import Scenario, Workload
    from swarmdesign.sim.agent import Population
    from swarmdesign.sim.agent_graph import Wiring
    from swarmdesign.sim.agent_quality import QualitySample
    from swarmdesign.sim.batch import DesignBatch
    from swarmdesign.sim.params import SimParams


class EventRun:
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
        relay_rng: np.random.Generator,
    ) -> None:
        b = pop.batch
        wl, env = scenario.workload, scenario.environment
        self.pop, self.wiring, self.params, self.rng = pop, wiring, params, rng
        # how many summaries hubs send depends on the order reports arrive in, so their service times are
        # drawn as they are sent, from a generator of their own (the items' draws stay as they were)
        self.relay_rng = relay_rng
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
        # a planner runs orchestration_rounds plan-sized synthesis calls per task (the plan, then re-plans)
        self.plan_rounds = dp.orchestration_rounds
        plan_call_s = pop.seconds[pop.planners].mean() if pop.planners.size else 0.0
        self.plan_s = self.plan_rounds * dp.plan_token_share * plan_call_s
        self.split = pop.producers.size > 1 and wl.subtasks > 1 and self.kind != "single"
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
        self.coord_in = float(pop.usd_in[pop.coordinators].mean()) if pop.coordinators.size else 0.0
        self.crit_usd = rv.review_token_share * float(self.call.mean())
        self.plan_usd = dp.plan_token_share * (float(self.call[pop.planners].mean()) if pop.planners.size else 0.0)
        self.transcript = self._transcript(b, wl) if pop.planners.size else (0.0, 0.0, 0.0)
        # a synthesis call reads the task and every piece's output (see fast_resources): a merger role makes
        # it; without one a producer does, where no coordinator, pipeline or all-hearing peer group has them
        self.synth_in = float(wl.input_tokens_per_step + wl.subtasks * wl.output_tokens_per_step)
        self.synth_tok = self.synth_in + wl.output_tokens_per_step
        synth_call = self.synth_in * pop.usd_in + wl.output_tokens_per_step * pop.usd_out  # USD, (n,)
        self.merge_usd = float(synth_call[pop.mergers].mean()) if pop.mergers.size else 0.0
        team = min(pop.producers.size, wl.subtasks)
        gathered = float(np.mean(wiring.heard[pop.producers])) >= team - 1
        planned = pop.planners.size > 0
        self.synthesis = bool(self.split and not planned and self.kind not in ("chain", "ring") and not gathered)
        self.synthesis = self.synthesis and not pop.mergers.size
        self.synth_usd = float(synth_call[pop.producers].mean())
        judges = pop.judges if pop.judges.size else pop.coordinators if pop.coordinators.size else pop.producers
        self.judge_usd = vp.judge_token_share * self.k * float(self.call[judges].mean())
        self.workers = FifoPool(groups)  # items are taken in ready order
        #: workers busy at once: each group's attempts side by side (first-valid's one after another)
        self.concurrent = groups * (1 if self.first_valid else self.k)
        self.hubs = [BookedPool(round(c)) for c in wiring.hub_servers]
        self.hub_service, self.hub_context = self._hub_service_times()
        self.counter = np.zeros(max(len(self.hubs), 1))
        self.checker_pool = BookedPool(max(self.checkers.size, 1))
        self.coord_pool = FifoPool(max(pop.planners.size, 1))
        self.merge_pool = BookedPool(max(pop.mergers.size, 1))
        self.judge_pool = BookedPool(max(pop.judges.size, 1))
        items = wl.tasks * wl.subtasks
        # the serial share (Amdahl): the nearest whole number of items to (1 - p) of them, which ones at random.
        # Drawing each item serial on its own made the count binomial: 3,000 items at p = 0.99 had 24-36
        # serial items from seed to seed around the 30 the fast mode counts, each run alone
        draws = rng.random(items)
        n_serial = min(max(round((1.0 - wl.parallel_fraction) * items), 0), items)
        self.serial = np.zeros(items, dtype=bool)
        if n_serial:
            self.serial[np.argpartition(draws, items - n_serial)[items - n_serial :]] = True
        self._draw_items(sample, rng, items, coll, float(groups_all), crash)
        # one ledger, component -> [tokens, USD], so tokens and cost count the same calls at the same sizes
        self.ledger = {name: [0.0, 0.0] for name in _LEDGER}
        self.calls = self.messages = self.hub_busy = 0.0
        self.hub_wait = self.hub_served = self.work_s = self.think_s = 0.0
        self.items_done = 0
        self.reports = self.hub_sent = 0.0  # reports sent to a hub, and every message hubs handled (relays too)

    def _draw_items(
        self, sample: QualitySample, rng: np.random.Generator, items: int, coll: float, members: float, crash: float
    ) -> None:
        """Each item's sampled step, coordination round, lost picks and hub message events, as arrays."""
        pop, rec, dp = self.pop, sample.steps, self.params.decomposition
        # a promoted team lead manages its block instead of producing: the items go to the workers
        steps = np.flatnonzero(~np.isin(rec.owner, self.wiring.promoted))
        if steps.size == 0:
            steps = np.arange(rec.owner.size)
        # each item a step of its own while the sample lasts (drawing with replacement repeats some steps
        # and leaves out others, the rare long ones among them)
        pick = rng.permutation(steps)[:items] if steps.size >= items else steps[rng.integers(0, steps.size, size=items)]
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
        critiques = rec.critiques[pick]
        # calls besides production (review rounds, critiques, hub reports, the judge) fail and are retried too
        hub_calls = n_msg * self.hub_kind
        other = (self.rounds + critiques + hub_calls + self.uses_judge).astype(np.int64)
        fp = self.params.faults
        self.item = {
            "critiques": critiques.tolist(),
            "other_calls": other.tolist(),
            "other_retries": retries(rng, other, self.env.fault_rate, fp.max_retries, fp.silent_share).tolist(),
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

    def _transcript(self, b: DesignBatch, wl: Workload) -> tuple[float, float, float]:
        """Messages, tokens and USD per task of the orchestrator's rounds, played round by round.

        The planner briefs each sub-task of the task and reads its report; a
        federation's hubs (one per cluster with work) also relay their round
        to each other. From the second round on, every participant (the
        workers on the task and the hubs) is sent the messages of the round
        before and re-reads the whole transcript.
        """
        pop, env = self.pop, self.env
        workers = min(pop.producers.size, wl.subtasks) if self.split else 1
        hubs = min(int(b.clusters[0]), workers) if self.kind == "federated" else 1
        per_round = 2 * wl.subtasks + (hubs * (hubs - 1) if self.kind == "federated" else 0)
        messages = reads = 0.0
        transcript = 0
        for _ in range(self.plan_rounds):
            if transcript:
                messages += per_round * (workers + hubs)  # last round's messages, to every participant
                reads += transcript * (workers + hubs)
            transcript += per_round
        tokens = reads * env.message_tokens
        price = (workers * float(pop.usd_in[pop.producers].mean()) + hubs * float(pop.usd_in[pop.planners].mean())) / (
            workers + hubs
        )
        return messages, tokens, tokens * price

    def _hub_service_times(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean hub seconds per message and status tokens re-read per message, per queue.

        A hub server re-reads the status of every worker it tracks, so both grow with its span.
        """
        w, qp = self.wiring, self.params.queueing
        size = max(w.hub_servers.size, 1)
        if not w.hub_servers.size or self.kind == "pubsub":
            return np.full(size, w.hub_service_s), np.zeros(size)
        tracked = np.bincount(w.hub_of[w.hub_of >= 0], minlength=w.hub_servers.size).astype(float)
        # the checkers, mergers and other non-coordinating members work through the hubs too: spread over
        # the leaf queues, each is one more status a hub re-reads
        pop = self.pop
        others = pop.n - pop.producers.size - pop.coordinators.size
        leaf = max(int(w.leaf_queues), 1)
        tracked[:leaf] += max(others, 0) / leaf
        tracked = tracked / w.hub_servers
        ctx = np.minimum(
            tracked * qp.hub_context_per_worker * self.env.message_tokens,
            self.params.communication.context_window_tokens,
        )
        return w.hub_service_s * (1.0 + ctx / self.wl.input_tokens_per_step), ctx

    def execute(self) -> dict[str, float]:
        """Event loop: levels of tasks become ready, free workers take the earliest ready work."""
        wl, pop, env, params = self.wl, self.pop, self.env, self.params
        fp = params.faults
        levels = np.split(np.arange(wl.subtasks), np.cumsum(wl.level_sizes)[:-1])
        ready_heap: list[tuple[float, int, int]] = []
        route_tok = self.route_msgs * env.message_tokens
        # plans and merges are calls too: their failures are retried
        plans = self.plan_rounds * int(pop.planners.size > 0)  # one plan-sized call per orchestration round
        merges = int(pop.mergers.size > 0 or self.synthesis)  # one synthesis call per task
        per_task = plans + merges
        task_retries = retries(self.rng, np.full(wl.tasks, per_task), env.fault_rate, fp.max_retries, fp.silent_share)
        for task in range(wl.tasks):
            ready = self.coord_pool.serve(0.0, self.plan_s) if pop.planners.size else 0.0
            if pop.planners.size:
                plan_share = params.decomposition.plan_token_share
                r = float(self.plan_rounds)
                self._charge("coordination", r, plan_share * self.step_tok, r * self.plan_usd)
                t_msgs, t_tok, t_usd = self.transcript
                self.messages += t_msgs
                self.ledger["coordination"][0] += t_tok
                self.ledger["coordination"][1] += t_usd
            ready += env.message_latency_s * (self.wiring.spread_rounds + self.route_hops)
            self.messages += self.route_msgs
            self.ledger["routing"][0] += route_tok
            self.ledger["routing"][1] += route_tok * float(pop.usd_in.mean())
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
                self._charge("coordination", 1.0, self.synth_tok, self.merge_usd)
            elif self.synthesis:
                self._charge("coordination", 1.0, self.synth_tok, self.synth_usd)
            latest = max(latest, level_end)
        for it in deferred:
            latest = self._item(it, latest, parallel=False)
        if per_task:
            n_retries = float(task_retries.sum())
            synth_usd = self.merge_usd if pop.mergers.size else self.synth_usd
            per_call = (self.plan_usd * plans + synth_usd * merges) / per_task
            size = (params.decomposition.plan_token_share * plans * self.step_tok + merges * self.synth_tok) / per_task
            self._charge("faults", n_retries, size, n_retries * per_call)
        self._standing(latest)
        servers = float(self.wiring.hub_servers[: self.wiring.leaf_queues].sum())
        w = self.wiring
        if w.hub_servers.size:
            tracked = np.bincount(w.hub_of[w.hub_of >= 0], minlength=w.hub_servers.size).astype(float)
            # only the workers busy at once load a hub (scarce options can hold the others back)
            tracked *= min(1.0, self.concurrent / max(float(tracked.sum()), 1.0))
            # a tracked worker reports each attempt it makes, one item after another (voters attempt side by
            # side, one attempt each; first-valid attempts follow each other on one worker)
            think = self.think_s / max(self.items_done, 1)
            per_item = self.hub_msgs * (float(np.mean(self.item["attempts"])) if self.first_valid else 1.0)
            # a federation's relays load its peer hubs, the queues workers report to; a hierarchy's summaries go
            # to the managers above the leaves, whose queues no worker reports to
            if self.reports and self.kind != "hierarchical":
                per_item *= self.hub_sent / self.reports
            offered = float(np.max(tracked * per_item * self.hub_service / (w.hub_servers * think)))
        else:
            offered = 0.0
        out = {
            "hub_utilisation": offered,
            "ideal_cost": self.ledger["base"][1],
            "latency": latest,
            "cost": sum(usd for _, usd in self.ledger.values()),
            "tokens": sum(tok for tok, _ in self.ledger.values()),
            "llm_calls": self.calls,
            "messages": self.messages,
            "messages_per_task": self.messages / wl.tasks,
            "hub_busy": self.hub_busy / max(latest * servers, 1e-12) if servers else 0.0,
            "hub_wait_s": self.hub_wait / self.hub_served if self.hub_served else 0.0,
            "stampede_collisions": float(self.lost_picks.sum()),
            # the time one agent alone would need for every item, per second of the run
            "speedup": self.work_s / max(latest, 1e-12),
        }
        out.update({f"loss_cost_{name}": usd for name, (_, usd) in self.ledger.items() if name != "base"})
        return out

    def _relay(self, queues: list[int], at: float) -> None:
        """Hubs' summaries, sent at ``at``, served at the hubs they go to: they load those hubs, so everyone
        reporting there waits longer, but the worker whose report caused them does not wait for them."""
        services = self.relay_rng.exponential(self.hub_service[np.asarray(queues)]).tolist()
        leaves = self.wiring.leaf_queues
        for q, service in zip(queues, services, strict=True):
            self.hubs[q].serve(at, service)
            if q < leaves:  # hub_busy is the leaf hubs' busy share, as in the fast mode
                self.hub_busy += service

    def _standing(self, latest: float) -> None:
        """Every deployed agent loads its prompt once, answers heartbeats and is hosted for the whole run."""
        dep = self.params.deployment
        hours = latest / 3600.0
        per_agent = dep.standing_tokens + dep.heartbeat_tokens_per_hour * hours
        self.ledger["deployment"][0] += per_agent * self.n
        self.ledger["deployment"][1] += (
            per_agent * float(self.pop.usd_in.sum()) + self.n * dep.hosting_usd_per_hour * hours
        )

    def _charge(self, component: str, calls: float, tokens_per_call: float, usd: float) -> None:
        """Book ``calls`` model calls of ``tokens_per_call`` tokens each, costing ``usd`` in all."""
        self.ledger[component][0] += calls * tokens_per_call
        self.ledger[component][1] += usd
        self.calls += calls

    def _item(self, item: int, ready: float, *, parallel: bool) -> float:
        """Run one work item from ``ready``; returns when it is done."""
        pop, params, it = self.pop, self.params, self.item
        t = it["t"][item]
        attempts = it["attempts"][item]
        lost = it["lost"][item]
        faults = it["faults"][item]
        critiques = it["critiques"][item]
        calls_s = t * (attempts if self.first_valid else max(1.0, self.k / max(pop.producers.size, 1)))
        if parallel:  # the serial share runs alone, with nobody to coordinate with
            calls_s *= it["slowdown"][item]
        work = calls_s + t * faults + t * params.stampede.collision_cost_share * lost
        work += self.env.message_latency_s * self.hops
        if not pop.judges.size:
            work += self.judge_time  # the producers judge their own attempts
        if self.rounds > 0 and not self.checkers.size:
            work += self.rounds * self.review_s  # self-review: the owner reviews its own work
        # the owner holds its worker slot through the item: judging, its reports' trip through the hub,
        # the review and the rework; judges and checkers are stages of their own, so an item is done only
        # when their pools have served it too (``stages``)
        end = (self.workers.take(ready) if parallel else ready) + work
        stages = end
        # the item's own duration, waits excluded: what one agent alone would spend on it
        slowed = calls_s - calls_s / it["slowdown"][item] if parallel else 0.0
        alone = work - slowed
        served = 0.0  # hub service this item's reports took
        if pop.judges.size and self.judge_time > 0:
            stages = self.judge_pool.serve(end, self.judge_time)
            end += self.judge_time
            alone += self.judge_time
        other_usd = other_tok = 0.0
        q = it["queue"][item]
        per_attempt = round(self.hub_msgs)
        if q >= 0 and per_attempt > 0:
            done, m = end, self.msg_start[item]
            hub = self.hubs[q]
            for _a in range(round(attempts)):
                # side-by-side attempters report together; first-valid's attempts follow one another, each
                # reported once the one before it was (its retry waits for that verdict)
                t_a = done if self.first_valid else end
                for _m in range(per_attempt):
                    service = self.msg_service[m]
                    if self.msg_stall[m]:
                        hub.stall(t_a, params.faults.failover_s)
                    arrival = t_a
                    t_a = hub.serve(t_a, service)
                    self.hub_busy += service
                    self.hub_wait += max(t_a - service - arrival, 0.0)  # (not below 0 by rounding)
                    alone += service
                    served += service
                    m += 1
                done = max(done, t_a)
            self.hub_served += per_attempt * round(attempts)
            end = done
            reports = per_attempt * round(attempts)
            sent, relays = _forward(self.wiring, self.counter, q, reports, attempts, self.kind)
            if relays:
                self._relay(relays, done)
            self.messages += sent
            self.reports += reports
            self.hub_sent += sent
            if self.hub_kind:
                # each report, and each summary a hub receives from a hub below it or a peer hub, is a hub
                # call of hub_token_share of a step, re-reading the status of its span
                n_hub = sent
                ctx = float(self.hub_context[q])
                usd = n_hub * (self.hub_usd + ctx * self.coord_in)
                tok = params.queueing.hub_token_share * self.step_tok + ctx
                self._charge("coordination", n_hub, tok, usd)
                other_usd, other_tok = other_usd + usd, other_tok + n_hub * tok
        # peer links, besides any hub path above (a hybrid has both)
        self.messages += attempts * _peer_messages(self.kind, self.n, int(pop.coordinators.size))
        rework = it["rework"][item]
        share = params.review.review_token_share
        if self.rounds > 0:
            if self.checkers.size:
                stages = max(stages, self.checker_pool.serve(end, self.rounds * self.review_s))
                end += self.rounds * self.review_s
                alone += self.rounds * self.review_s
            self.messages += 2 * self.rounds
            usd = self.rounds * share * it["checker_usd"][item]
            self._charge("review", self.rounds, share * self.step_tok, usd)
            other_usd, other_tok = other_usd + usd, other_tok + self.rounds * share * self.step_tok
        if self.first_valid and self.k > 1:  # every attempt is checked before it is accepted or retried
            end += attempts * self.review_s
            alone += attempts * self.review_s
            self.messages += 2 * attempts
            usd = attempts * share * it["checker_usd"][item]
            self._charge("redundancy", attempts, share * self.step_tok, usd)
            other_usd, other_tok = other_usd + usd, other_tok + attempts * share * self.step_tok
        if critiques > 0:  # peers critique side by side: one review-sized wait
            end += self.review_s
            alone += self.review_s
            usd = critiques * self.crit_usd
            self._charge("review", critiques, share * self.step_tok, usd)
            other_usd, other_tok = other_usd + usd, other_tok + critiques * share * self.step_tok
        if rework > 0:  # the owner reworks what review sent back: it needs a worker slot again
            end += rework * t
            stages += rework * t
            alone += rework * t
        if parallel:
            self.workers.release(end)
        end = max(end, stages)
        self.work_s += alone
        # between two reports a worker works (coordination's slowdown included) and waits for nobody
        self.think_s += alone - served + slowed
        self.items_done += 1
        if self.uses_judge:
            judge_share = params.voting.judge_token_share * self.k
            self._charge("coordination", 1.0, judge_share * self.step_tok, self.judge_usd)
            other_usd, other_tok = other_usd + self.judge_usd, other_tok + judge_share * self.step_tok
        # production calls: one base attempt, the redundant ones, redone collided picks, rework, retries
        call, ctx, ctx_usd = it["call"][item], it["ctx"][item], it["ctx_usd"][item]
        redo = attempts * lost * params.stampede.collision_cost_share
        self._charge("base", 1.0, self.step_tok, call)
        self._charge("redundancy", attempts - 1.0, self.step_tok, (attempts - 1.0) * call)
        self._charge("stampede", redo, self.step_tok, redo * call)
        self._charge("review", rework, self.step_tok, rework * call)
        # every production call also reads the messages its owner heard (not a call of its own)
        self.ledger["messages"][0] += (attempts + redo + rework) * ctx
        self.ledger["messages"][1] += (attempts + redo + rework) * ctx_usd
        n_other = it["other_calls"][item]
        retried = it["other_retries"][item]
        self._charge("faults", faults, self.step_tok + ctx, faults * (call + ctx_usd))
        if n_other:
            self._charge("faults", retried, other_tok / n_other, retried * other_usd / n_other)
        return end


_LEDGER = ("base", "redundancy", "review", "messages", "routing", "coordination", "stampede", "deployment", "faults")


def _peer_messages(kind: str, n: int, coordinators: int) -> float:
    """Messages one attempt sends to its peers on the explicit wiring (chain: the next agent; 0 via a hub)."""
    if kind == "chain":
        return 1.0 if n > 1 else 0.0
    if kind == "ring":
        return float(min(n - 1, 2))
    if kind == "mesh":
        return float(n - 1)
    if kind == "hybrid":  # every other member; the coordinators hear it through the hub path
        return float(max(n - max(coordinators, 1) - 1, 0))
    return 0.0


def _forward(
    wiring: Wiring, counter: np.ndarray, queue: int, count: int, steps: float, kind: str
) -> tuple[float, list[int]]:
    """Messages sent for ``count`` reports of ``steps`` steps reaching hub ``queue``, summaries included.

    A hierarchy's manager forwards one summary up per ``branching`` reports it
    received; a federated hub tells its peer hubs once per ``cluster_size``
    steps of its cluster. Also returns the hub queue each summary goes to,
    one entry per summary: the receiving hub handles it like a report.
    """
    sent = float(count)
    relays: list[int] = []
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
            relays += [q] * up
            received = up
    elif kind == "federated" and wiring.peer_hubs > 0:
        counter[queue] += steps
        batches = int(counter[queue] // wiring.cluster_size)
        counter[queue] -= batches * wiring.cluster_size
        sent += batches * wiring.peer_hubs
        if batches:
            relays += [p for p in range(wiring.hub_servers.size) if p != queue] * batches
    return sent, relays
