"""Fast mode, resource half: load, collisions, latency (seconds) and cost (USD).

Latency is built per work item as a sum of named components (base step,
redundancy, faults, review, judge, hub queue, communication, routing,
stampede), spread over the concurrent workers by Amdahl / USL
(:mod:`scaling`), then bounded below by the slowest pipeline stage and the
hub's busy time (:mod:`queueing`). Each component's share of the latency is
a ``loss_latency_<mechanism>`` column; with the ideal latency (base step
time spread perfectly over every producer) they sum to the latency.

Cost is the sum of LLM calls (tokens times the model's prices) and message
tokens read, with the same kind of breakdown (``loss_cost_<mechanism>``
over the base cost of one attempt per work item).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from swarmdesign.sim import fast_failover, fast_hub, faults, routing, scaling, stampede, stragglers, topology
from swarmdesign.sim.batch import AGG_INDEX, KIND_INDEX
from swarmdesign.sim.params import SimParams
from swarmdesign.sim.ufuncs import clip
from swarmdesign.sim.views import RoleViews, _masked_mean

if TYPE_CHECKING:
    from swarmdesign.fitness import Scenario, Workload
    from swarmdesign.sim.fast import Production, QualityOutcome


@dataclass(frozen=True)
class Load:
    """How busy the design is; all ``(D,)``."""

    items: float  # work items (pieces) in the workload
    available: np.ndarray  # items that can run concurrently
    parallel_attempts: np.ndarray  # attempts per item that run side by side
    groups: np.ndarray  # concurrent item groups
    groups_all: np.ndarray  # item groups taking part in coordination, busy or not
    groups_max: np.ndarray  # groups with one attempt per item
    busy: np.ndarray  # busy producing agents
    collisions_subtask: np.ndarray  # share of picks that collided on a subtask
    collisions_resource: np.ndarray  # share of picks that collided on a scarce resource
    hub_queues: np.ndarray  # independent hub queues
    hub_workers: np.ndarray  # busy workers sending to one hub queue
    hub_servers: np.ndarray  # servers per hub queue
    hub_service_s: np.ndarray  # seconds per hub message
    hub_messages_per_step: np.ndarray  # every hub message a step causes, relays between hubs included
    #: Hub messages a step puts on the queues its workers report to: relays between peer hubs (a federation's
    #: summaries) land on those queues, a hierarchy's reports up the tree on the managers above them.
    hub_queue_messages: np.ndarray
    #: Hub messages a step's owner waits for: its report and dispatch (a bus: its deliveries), not the relays.
    hub_path_messages: np.ndarray
    #: Hub calls that carry a task's state per attempt made at each of its items (the hub's crash exposure).
    hub_calls_per_attempt: np.ndarray
    #: Workers per server at the busiest leaf hub over the mean (1 but for a hierarchy's or federation's).
    busiest: np.ndarray
    hub_context_tokens: np.ndarray  # status tokens a hub re-reads per message (its span of workers)

    @property
    def collisions(self) -> np.ndarray:
        return 1.0 - (1.0 - self.collisions_subtask) * (1.0 - self.collisions_resource)


def compute_load(views: RoleViews, scenario: Scenario, params: SimParams, sim: np.ndarray) -> Load:
    """Concurrency, hub queues and stampede collisions, all ``(D,)``; ``sim`` is the agents' similarity.

    A hub's exposure to crashes is per attempt made (``Load.hub_calls_per_attempt``):
    first-valid stops at the first accepted attempt, so only the attempts
    the quality chain counts pass through the hub.
    """
    b = views.batch
    wl = scenario.workload
    qp = params.queueing
    items = float(wl.tasks * wl.subtasks)
    available = np.where(views.split | views.planned, items, float(wl.tasks))
    first_valid = b.aggregation == AGG_INDEX["first_valid"]
    par_k = np.where(first_valid, 1.0, b.redundancy)
    n_prod = np.maximum(views.n_producers, 1.0)

    # hub queues: one (star), one per leaf manager (hierarchical), one per cluster (federated), the bus
    kind = b.kind
    is_h = kind == KIND_INDEX["hierarchical"]
    is_f = kind == KIND_INDEX["federated"]
    managers = np.maximum(np.ceil(n_prod / b.branching), 1.0)
    clusters = np.minimum(b.clusters, np.maximum(views.n_agents, 1.0))
    queues = np.where(is_h, managers, np.where(is_f, clusters, 1.0))
    servers = np.where(views.pubsub, b.brokers, np.maximum(views.n_coordinators / queues, 1.0))
    promoted = np.where(is_h, np.maximum(managers - views.n_coordinators, 0.0), 0.0)
    n_work = np.maximum(n_prod - promoted, 1.0)
    groups_max = clip(n_work, 1.0, available)
    # an item holds its par_k side-by-side attempters from its start to its end, so only whole groups work
    # at once (3 agents voting in pairs work one item at a time; the third has no partner)
    whole = np.floor(n_work / par_k + 1e-9)
    groups = clip(whole, 1.0, available)
    groups_all = np.maximum(whole, 1.0)
    busy = np.minimum(n_work, available * par_k)

    # a hybrid member's messages to its peers go around the hub: only its report to the hub is queued there
    peer_msgs = topology.peer_messages(kind, views.n_agents, views.n_coordinators)
    hub_msgs = np.where(views.hub_kind | views.pubsub, views.messages_per_step - peer_msgs, 0.0)
    # the busiest leaf hub: a hierarchy's blocks are full but the last, a federation's members are dealt round
    # its clusters (so a cluster holds at most ceil(producers / clusters) of them), and the coordinators are
    # dealt round the blocks or clusters: a full one with the fewest servers carries the most per server
    fewest = np.where(views.n_coordinators >= queues, np.floor(views.n_coordinators / queues), 1.0)
    fullest = np.where(is_h, np.minimum(b.branching, n_prod), np.ceil(n_prod / queues - 1e-9))
    mean_load = n_work / queues / servers
    busiest = np.where(is_h | is_f, np.maximum(fullest / fewest / mean_load, 1.0), 1.0)
    # a hub re-reads the status of every member it manages, busy or idle: its producers, and the checkers,
    # mergers and other non-coordinating members who send and receive work through it (Graicunas 1933: a
    # manager's relationships grow with every subordinate), spread over the hub queues
    others = np.maximum(views.n_agents - views.n_producers - views.n_coordinators, 0.0)
    span = (n_work + others) / queues / servers
    context = np.minimum(
        span * qp.hub_context_per_worker * scenario.environment.message_tokens,
        params.communication.context_window_tokens,
    )
    llm_service = qp.hub_service_fraction * np.maximum(views.coordinator_seconds, 1e-9)
    service = np.where(views.pubsub, qp.broker_service_s, llm_service * (1.0 + context / wl.input_tokens_per_step))
    levels = np.where(is_h, np.maximum(topology.tree_depth(n_prod, b.branching), 1.0), 1.0)
    # a task's state is exposed to a crash only in the messages that carry it: each attempt's own report
    # and dispatch at its hub and at every manager above it. The hubs' relays to each other (a federation's
    # summaries, a hierarchy's aggregated reports, counted in hub_msgs for the queues) carry other tasks' state
    carried = np.where(views.pubsub, hub_msgs, np.where(views.hub_kind, qp.hub_messages_per_step, 0.0))
    hub_calls_attempt = wl.subtasks * carried * levels
    # a hierarchy's summaries go to the managers above the leaves: other queues, whose span is a few managers
    # rather than a block of workers, so their service is short (a parent of b full leaves receives as many
    # messages as one leaf); the leaf queues, which bound the run, serve the steps' own messages only
    queued = np.where(is_h, carried, hub_msgs)

    # stampedes: self-selected subtasks (no hub, no index) and scarce resources
    sp = params.stampede
    herding = sp.herding * sim
    assigned = views.hub_kind | b.routed | views.single
    organised_sub = np.where(assigned, 1.0, 1.0 - sim)
    c_sub = stampede.collision_share(groups, available, herding, organised_sub)
    if wl.scarce_resources is not None:
        allocated = sp.hub_allocation * views.hub_kind
        organised_res = 1.0 - sim * (1.0 - allocated)
        c_res = stampede.collision_share(busy, float(wl.scarce_resources), herding * (1.0 - allocated), organised_res)
        # at most R steps can hold one of the R options at a time
        groups = np.minimum(groups, float(wl.scarce_resources))
        groups_max = np.minimum(groups_max, float(wl.scarce_resources))
    else:
        c_res = np.zeros_like(c_sub)
    # the hub's clients are the workers busy at once: at most R groups when R scarce options limit them
    hub_workers = np.minimum(busy, groups * par_k) / queues
    return Load(
        items=items,
        available=available,
        parallel_attempts=par_k,
        groups=groups,
        groups_all=groups_all,
        groups_max=groups_max,
        busy=busy,
        collisions_subtask=np.minimum(c_sub, 0.999),
        collisions_resource=np.minimum(c_res, 0.999),
        hub_queues=queues,
        hub_workers=hub_workers,
        hub_servers=servers,
        hub_service_s=service,
        hub_messages_per_step=hub_msgs,
        hub_queue_messages=queued,
        hub_path_messages=carried,
        hub_calls_per_attempt=hub_calls_attempt,
        busiest=busiest,
        hub_context_tokens=context,
    )


def hub_log_keep(views: RoleViews, load: Load, params: SimParams, fault_rate: float) -> np.ndarray:
    """Log of the chance a task's state survives its hub through one attempt at every piece, ``(D,)`` (0: no hub)."""
    crash = fault_rate * params.faults.hub_crash_share
    f = np.where(views.pubsub, crash * params.faults.broker_fault_factor, crash)
    keep = faults.hub_log_survival(f, load.hub_calls_per_attempt, load.hub_servers)
    return np.where(views.hub_kind | views.pubsub, keep, 0.0)


def latency_and_cost(
    views: RoleViews,
    prod: Production,
    load: Load,
    qual: QualityOutcome,
    scenario: Scenario,
    params: SimParams,
) -> dict[str, np.ndarray]:
    """Latency (s), cost (USD), tokens, messages and their loss breakdowns, each ``(D,)``."""
    b = views.batch
    wl, env = scenario.workload, scenario.environment
    f = env.fault_rate
    T, items = float(wl.tasks), load.items
    share = prod.work_share
    t_prod = _masked_mean(views.seconds, share, 1.0)
    k = b.redundancy
    first_valid = b.aggregation == AGG_INDEX["first_valid"]
    uses_judge = (b.aggregation == AGG_INDEX["judge"]) & (k > 1)
    calls_per_call = faults.expected_calls(f, params.faults.max_retries)
    ml = env.message_latency_s
    coll = load.collisions
    retry_picks = coll / (1.0 - coll)

    # ------------------------------------------------------------- latency
    tau: dict[str, np.ndarray] = {}
    tau["base"] = t_prod
    tau["redundancy"] = np.where(
        first_valid, t_prod * (qual.attempts - 1.0), t_prod * (np.maximum(1.0, k / views.n_producers.clip(1)) - 1.0)
    )
    review_s = params.review.review_token_share * views.checker_seconds
    # first-valid checks every attempt before it accepts or retries: one review-sized call per attempt,
    # made one after another like the attempts themselves
    validated = first_valid & (k > 1)
    checks = np.where(validated, review_s * qual.attempts, 0.0)
    tau["redundancy"] = tau["redundancy"] + checks
    tau["faults"] = (t_prod + tau["redundancy"]) * (calls_per_call - 1.0)
    # peers critique side by side: one review-sized wait per item when anyone critiques
    tau["review"] = prod.review_rounds * review_s + qual.rework * t_prod + np.where(qual.critiques > 0, review_s, 0.0)
    judge_s = _masked_mean(views.seconds, (views.count > 0) & views.arch_is("judge"), t_prod)
    tau["judge"] = np.where(uses_judge, judge_s * params.voting.judge_token_share * k, 0.0)
    tau["communication"] = ml * views.handoff_hops
    route_msgs = routing.routing_messages_per_task(views.n_agents, b.routed)
    route_hops = np.where(b.routed, route_msgs, np.minimum(views.n_agents - 1, 1.0))
    tau["stampede"] = t_prod * params.stampede.collision_cost_share * retry_picks
    has_queue = load.hub_messages_per_step > 0

    # USL: every group takes part in coordination (contention, coherency with the peers it
    # hears), so each step is slowed by N / X(N) with N all groups, busy or not
    dp = params.decomposition
    inflation = load.groups_all / scaling.usl_throughput(load.groups_all, dp.contention, dp.coherency, views.heard)
    tau_other = sum(tau.values())
    # coordination slows the production calls themselves, not the waits around them nor the checks and
    # reviews of their results (a first-valid attempt's check is review-sized, like a review round)
    slowed = (tau["base"] + tau["redundancy"] - checks) * (inflation - 1.0)
    # workers wait for their hub: solve the closed loop for the wait per message. A worker reports every
    # attempt it makes: first-valid's attempts follow each other on one worker, voters attempt side by side.
    # It waits for its own messages only; the hubs' relays to each other (a federation's summaries, a
    # hierarchy's reports up the tree) load the hubs, and so everyone's wait, but nobody waits for them
    per_attempt = np.where(first_valid, qual.attempts, 1.0)
    per_item = load.hub_path_messages * per_attempt
    # (strictly serial work has no parallel phase: nobody coordinates, the calls are not slowed)
    think = tau_other + slowed * (wl.parallel_fraction > 0)
    # a coordinator runs orchestration_rounds plan-sized synthesis calls per task (plan, then re-plans)
    plan_s = dp.orchestration_rounds * dp.plan_token_share * views.coordinator_seconds
    hub = fast_hub.hub_queue(
        views, load, wl, plan_s=plan_s, per_item=per_item, loaded=load.hub_queue_messages * per_attempt, think=think
    )
    wait, hub_alone, batch, offered, release_s = hub.wait, hub.own, hub.batch, hub.offered, hub.release_s
    tau["hub_queue"] = np.where(has_queue, per_item * wait + hub_alone, 0.0)
    tau_total = tau_other + tau["hub_queue"]
    p = wl.parallel_fraction
    # Amdahl: the serial share runs alone (no hub queue, no contention), the rest over G groups
    tau_alone = tau_total - np.where(has_queue, tau["hub_queue"] - hub_alone, 0.0)
    t_items = items * tau_total
    t_serial = items * tau_alone
    t_parallel = p * items * (tau_total + slowed) / load.groups
    t_work = (1.0 - p) * t_serial + t_parallel
    # the parallel phase runs through the pipeline of stages, at least one task's chain (its queue waits are
    # in the hub's throughput bound below); the serial share runs alone after it, and without a parallel
    # phase there is no pipeline. Every step of the chain is a parallel-phase step, so coordination slows it
    # like any other: a team far larger than its work has idle groups that still coordinate, and its tasks'
    # levels then follow one another at the slowed pace however many workers wait
    chain = len(wl.level_sizes) * (tau_alone + slowed) if p > 0 else 0.0
    t_prod_stage = np.maximum(t_parallel, chain)

    merge_s = views.merger_seconds
    n_judges = ((views.count > 0) & views.arch_is("judge")) * views.count
    # the stages that serve items (checkers, judges, the hub) bound the parallel phase only: a serial item runs
    # alone, its review, judging and hub trip already in its own time (tau_alone), so counting them here too
    # made strictly serial work pay its hub twice
    par_items = p * items
    bounds = [
        t_prod_stage,
        np.where(views.n_checkers > 0, par_items * prod.review_rounds * review_s / views.n_checkers.clip(1e-9), 0.0),
        release_s,
        np.where(views.n_mergers > 0, T * merge_s / views.n_mergers.clip(1e-9), 0.0),
        np.where(
            uses_judge & (n_judges.sum(axis=1) > 0), par_items * tau["judge"] / n_judges.sum(axis=1).clip(1.0), 0.0
        ),
        np.where(
            has_queue,
            par_items
            * qual.attempts
            * load.hub_queue_messages
            * load.hub_service_s
            * load.busiest
            / (load.hub_servers * load.hub_queues),
            0.0,
        ),
    ]
    # news of a task reaches everyone in spread_rounds message rounds (O(n) in a chain, O(log n)
    # in a tree or by gossip); tasks overlap, so this delays the pipeline once, like its fill
    spread_s = ml * views.spread_rounds
    route_s = ml * route_hops
    # pipeline: the bottleneck stage's total plus one item through every other stage (plan and merge
    # are stages of their own; review, judging and the hub sit inside a production item)
    plan_item = np.where(views.planned, plan_s, 0.0)
    merge_item = np.where(views.n_mergers > 0, merge_s, 0.0)
    top = np.maximum.reduce(bounds)
    plan_bound = (bounds[2] >= top) & (plan_item > 0)
    merge_bound = (bounds[3] >= top) & (merge_item > 0) & ~plan_bound
    # one production item through the pipeline; strictly serial work has none (its items run alone, after)
    prod_item = tau_total + slowed if p > 0 else np.zeros_like(tau_total)
    fill = (
        np.where(plan_bound, prod_item, plan_item)
        + np.where(merge_bound, prod_item, merge_item)
        - np.where(plan_bound & merge_bound, prod_item, 0.0)
        + spread_s
        + route_s
    )
    # a task's merge waits for its last level: free workers take the earliest ready work, so the tasks'
    # levels advance together and every task finishes within the last level's share of the parallel phase
    # (the agent mode's event schedule shows it); merges that overflow that window lengthen the run
    last_share = wl.level_sizes[-1] / wl.subtasks if p > 0 else 1.0
    merges_done = np.where(
        views.n_mergers > 0,
        (1.0 - last_share) * t_prod_stage + bounds[3] + merge_item + plan_item + spread_s + route_s,
        0.0,
    )
    # a saturated hub is a stage like the others: it drains its total work, which starts with the first
    # reports, so one item's production before it (and one through every other stage) is its fill
    hub_end = np.where(
        has_queue,
        bounds[-1]
        + (np.maximum(tau_alone + slowed - hub_alone, 0.0) if p > 0 else 0.0)
        + plan_item
        + merge_item
        + spread_s
        + route_s,
        0.0,
    )
    staged = np.maximum.reduce([np.maximum.reduce(bounds) + fill, merges_done, hub_end])
    # first-valid stragglers end the run only where they outlast it: the last item on busy workers, whose
    # extra attempts the queue wait its report would have had absorbs (the hub serves the others meanwhile),
    # and the longest task's chain, counted from its release where a planner releases the tasks (which the
    # fill's plan, or a plan-bound pipeline's last item, then stands for)
    end = stragglers.straggler_ends(
        qual.attempt_law,
        qual.attempts,
        t_prod * calls_per_call * inflation,
        np.where(has_queue, per_item * wait, 0.0),
        scenario,
        t_parallel,
        chain,
        plan_s / views.n_coordinators.clip(1e-9),
        views.planned,
        np.where(plan_bound, prod_item, plan_item),
    )
    straggler = np.maximum(end + fill - staged, 0.0)
    # a crashed hub is down for failover_s; it crashes on its own clients' messages (a relay between hubs
    # carries no task state, and nobody waits for one), and what its failovers cost depends on what binds
    # the run (fast_failover)
    fp = params.faults
    crash = np.where(views.pubsub, f * fp.hub_crash_share * fp.broker_fault_factor, f * fp.hub_crash_share)
    crash_all = crash ** np.maximum(load.hub_servers, 1.0)  # a message crashes every server of its hub
    own_messages = items * qual.attempts * load.hub_path_messages / load.hub_queues  # per queue
    stages = fast_failover.StageEnds(
        staged=staged,
        production=t_parallel,
        chain=chain,
        fill=fill,
        merges=merges_done,
        after_merge=1.0 - last_share,
        hub=bounds[-1],
        hub_end=hub_end,
    )
    stalls = np.where(
        views.hub_kind | views.pubsub,
        fast_failover.failover_delay(
            stages,
            crashes=own_messages * crash_all,
            failover_s=fp.failover_s,
            parallel=p,
            queues=load.hub_queues,
            groups=load.groups,
            clients=hub.clients / load.parallel_attempts,
            contact_rate=per_item / np.maximum(tau_total + slowed, 1e-300),
            crash=crash_all,
            task_messages=wl.subtasks * per_item,
            busiest=load.busiest,
        ),
        0.0,
    )
    latency = staged + stalls + (1.0 - p) * t_serial + straggler
    # every attempt's messages (its reports and the relays it causes) served at a hub, per server
    hub_messages = items * qual.attempts * load.hub_queue_messages / load.hub_queues  # per queue
    hub_served = hub_messages * load.hub_service_s / np.maximum(load.hub_servers, 1e-300)
    # the share of them that the queue's own clients send and wait for (the rest: other hubs' relays)
    own_share = np.minimum(load.hub_path_messages / np.maximum(load.hub_queue_messages, 1e-300), 1.0)
    hub_busy = np.where(has_queue, clip(hub_served / np.maximum(latency, 1e-300), 0.0, 1.0), 0.0)

    ideal = items * t_prod / load.groups_max
    loss_latency = {name: items * value / load.groups_max for name, value in tau.items() if name != "base"}
    loss_latency["concurrency"] = t_items * (1.0 / load.groups - 1.0 / load.groups_max)
    loss_latency["serial"] = (1.0 - p) * t_serial + p * t_items / load.groups - t_items / load.groups
    loss_latency["contention"] = p * items * slowed / load.groups
    # time the workload waits for a saturated hub counts as hub queueing, not as pipeline
    hub_excess = np.maximum(bounds[-1] - np.maximum.reduce(bounds[:-1]), 0.0)
    loss_latency["hub_queue"] = loss_latency["hub_queue"] + hub_excess
    loss_latency["pipeline"] = latency - t_work - hub_excess - stalls - spread_s - route_s - straggler
    loss_latency["redundancy"] = loss_latency["redundancy"] + straggler
    loss_latency["communication"] = loss_latency["communication"] + spread_s
    loss_latency["routing"] = route_s
    loss_latency["faults"] = loss_latency["faults"] + stalls

    # ---------------------------------------------------------------- cost
    # One ledger of tokens per component, each priced at the rate of the role that reads or writes them,
    # so ``tokens`` and ``cost`` always count the same calls at the same sizes.
    in_tok, out_tok = float(wl.input_tokens_per_step), float(wl.output_tokens_per_step)
    step_tok = in_tok + out_tok
    usd_in = _masked_mean(views.usd_in, share, 0.0)
    usd_out = _masked_mean(views.usd_out, share, 0.0)
    call = in_tok * usd_in + out_tok * usd_out  # USD per base production call
    context_tok = np.minimum(views.heard * env.message_tokens, params.communication.context_window_tokens)
    attempts = qual.attempts
    prod_calls = items * attempts * (1.0 + retry_picks * params.stampede.collision_cost_share)
    rework_calls = items * qual.rework
    act = views.count > 0
    role_call = in_tok * views.usd_in + out_tok * views.usd_out
    chk_call = _masked_mean(role_call, views.count * views.checker, call)
    crd_call = _masked_mean(role_call, views.count * views.coordinator, call)
    crd_in = _masked_mean(views.usd_in, views.count * views.coordinator, usd_in)  # the hub re-reads worker status
    jdg_call = _masked_mean(role_call, views.count * act * views.arch_is("judge"), crd_call)
    review_calls = items * prod.review_rounds
    validation_calls = np.where(first_valid & (k > 1), items * qual.attempts, 0.0)  # one check per attempt
    critique_calls = items * qual.critiques  # every peer that reads a piece critiques it (one review-sized call)
    crit_call = _masked_mean(role_call, views.count, call)
    hub_calls = items * qual.attempts * load.hub_messages_per_step * views.hub_kind
    qp = params.queueing
    plan_calls = np.where(views.planned, T * dp.orchestration_rounds, 0.0)
    # the orchestrator's rounds share the task's transcript: later rounds re-read every earlier message
    t_msgs, t_reads = orchestration_transcript(views, wl, params)
    transcript_tok = T * t_reads * env.message_tokens
    transcript_usd = transcript_tok * t_price(views, usd_in, crd_in, wl)
    # synthesis: a task split over agents is combined by one call that reads the task and every piece's output
    # (Kim et al. 2025: Independent agents' outputs are aggregated by a synthesis step). A merger role does it
    # at its own price. Without one, a producer does it where no agent holds every piece: not after a
    # coordinator (its last round synthesises), a pipeline (its last stage's output is the answer) or peers
    # who hear every piece's author (the last author has them all in context).
    merge_calls = np.where(views.n_mergers > 0, T, 0.0)
    gathered = views.heard >= np.minimum(views.n_producers, wl.subtasks) - 1.0
    synth_calls = np.where(
        views.split & ~views.planned & ~views.pipeline_kind & ~gathered & (views.n_mergers == 0), T, 0.0
    )
    synth_in = in_tok + wl.subtasks * out_tok
    synth_tok = synth_in + out_tok
    mrg_synth = _masked_mean(synth_in * views.usd_in + out_tok * views.usd_out, views.count * views.merger, call)
    synth_usd = synth_in * usd_in + out_tok * usd_out
    judge_calls = np.where(uses_judge, items, 0.0)
    judge_share = params.voting.judge_token_share * k
    # standing cost: every deployed agent loads its prompt once and answers heartbeats for the whole run
    dep = params.deployment
    standing_tok = views.n_agents * (dep.standing_tokens + dep.heartbeat_tokens_per_hour * latency / 3600.0)
    standing_usd = standing_tok * _masked_mean(views.usd_in, views.count, 0.0)
    standing_usd = standing_usd + views.n_agents * dep.hosting_usd_per_hour * latency / 3600.0
    route_tok = T * route_msgs * env.message_tokens
    ledger = {  # component: (tokens, USD)
        "base": (items * step_tok, items * call),
        "redundancy": (
            items * (attempts - 1.0) * step_tok + validation_calls * params.review.review_token_share * step_tok,
            items * (attempts - 1.0) * call + validation_calls * params.review.review_token_share * chk_call,
        ),
        "review": (
            (review_calls + critique_calls) * params.review.review_token_share * step_tok + rework_calls * step_tok,
            params.review.review_token_share * (review_calls * chk_call + critique_calls * crit_call)
            + rework_calls * call,
        ),
        "messages": ((prod_calls + rework_calls) * context_tok, (prod_calls + rework_calls) * context_tok * usd_in),
        "routing": (route_tok, route_tok * _masked_mean(views.usd_in, views.count, 0.0)),
        "coordination": (
            step_tok * (plan_calls * dp.plan_token_share + hub_calls * qp.hub_token_share)
            + hub_calls * load.hub_context_tokens
            + synth_tok * (merge_calls + synth_calls)
            + step_tok * judge_calls * judge_share
            + transcript_tok,
            plan_calls * dp.plan_token_share * crd_call
            + hub_calls * (qp.hub_token_share * crd_call + load.hub_context_tokens * crd_in)
            + merge_calls * mrg_synth
            + synth_calls * synth_usd
            + judge_calls * judge_share * jdg_call
            + transcript_usd,
        ),
        "stampede": (
            items * attempts * retry_picks * params.stampede.collision_cost_share * step_tok,
            items * attempts * retry_picks * params.stampede.collision_cost_share * call,
        ),
        "deployment": (standing_tok, standing_usd),
    }
    loss_cost = {name: usd for name, (_, usd) in ledger.items() if name != "base"}
    base_cost = ledger["base"][1]
    # failed calls are retried; the standing load is not a call and is not retried
    called_usd = sum(usd for name, (_, usd) in ledger.items() if name != "deployment")
    called_tok = sum(tok for name, (tok, _) in ledger.items() if name != "deployment")
    loss_cost["faults"] = called_usd * (calls_per_call - 1.0)
    cost = called_usd * calls_per_call + standing_usd
    tokens = called_tok * calls_per_call + standing_tok

    llm_calls = prod_calls + rework_calls + review_calls + critique_calls + hub_calls + validation_calls
    llm_calls = llm_calls + plan_calls + merge_calls + synth_calls + judge_calls
    step_messages = items * qual.attempts * views.messages_per_step + 2.0 * (review_calls + validation_calls)
    messages = step_messages + T * (route_msgs + t_msgs)
    # an item's side-by-side attempters pick their sub-task together (the stampede's contenders are the item
    # groups), so a collision loses one pick per item and all its attempters redo their calls
    picks = items
    return {
        "latency": latency,
        "cost": cost,
        "tokens": tokens,
        "llm_calls": llm_calls * calls_per_call,
        "messages": messages,
        "messages_per_task": messages / T,
        "channels": views.channels,
        "spread_rounds": views.spread_rounds,
        "hub_utilisation": np.where(has_queue, offered * load.busiest, 0.0),  # at the busiest hub
        # the hubs' service over the run, per server (the closed loop's utilisation holds while every worker
        # cycles; a planner's release, idle levels and the serial share leave the hub idle part of the run)
        "hub_busy": hub_busy,
        # per message, behind other items' messages and, on average, half of its own batch-mates; strictly
        # serial work: nobody queues
        "hub_wait_s": np.where(
            has_queue,
            np.where(p > 0, wait, 0.0)
            + load.hub_service_s * (batch - 1.0) / 2.0
            # a crashed hub's failover (serial items leave no backlog behind it)
            + fast_failover.failover_wait(
                crash=crash_all,
                failover_s=fp.failover_s,
                messages=hub_messages,
                own=hub_messages * own_share,
                clients=hub.clients,
                per_client=per_item,
                latency=latency,
                drain=1.0 / np.maximum(1.0 - hub_busy * (p > 0), 0.05),
            )
            * (views.hub_kind | views.pubsub),
            0.0,
        ),
        "stampede_collisions": picks * retry_picks,
        "collision_share": coll,
        # one agent alone spends each item's own time (no queue at a hub); the run's latency has every bound
        "speedup": t_serial / np.maximum(latency, 1e-300),
        "ideal_latency": ideal,
        "ideal_cost": base_cost,
        **{f"loss_latency_{k_}": v for k_, v in loss_latency.items()},
        **{f"loss_cost_{k_}": v for k_, v in loss_cost.items()},
    }


def _orchestration_team(views: RoleViews, wl: Workload) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Workers, coordinators and inter-hub relays per round of one task's orchestration, ``(D,)`` each."""
    b = views.batch
    workers = np.where(views.split, np.minimum(views.n_producers, wl.subtasks), 1.0)
    fed = b.is_kind("federated")
    k = np.maximum(np.minimum(b.clusters, workers), 1.0)
    coordinators = np.where(fed, k, 1.0)
    relays = np.where(fed, k * (k - 1.0), 0.0)
    return workers, coordinators, relays


def orchestration_transcript(views: RoleViews, wl: Workload, params: SimParams) -> tuple[np.ndarray, np.ndarray]:
    """Transcript messages and message-sized reads per task of planned designs (0 elsewhere), ``(D,)`` each.

    Every sub-task of a task is a piece the coordinator briefs and hears
    back from; one coordinator per task (star, hierarchy) or one per cluster
    with work (federated, whose hubs also relay their round to each other);
    see :func:`topology.orchestration_transcript`.
    """
    workers, coordinators, relays = _orchestration_team(views, wl)
    msgs, reads = topology.orchestration_transcript(
        float(wl.subtasks), workers, coordinators, relays, params.decomposition.orchestration_rounds
    )
    return msgs * views.planned, reads * views.planned


def t_price(views: RoleViews, usd_in: np.ndarray, crd_in: np.ndarray, wl: Workload) -> np.ndarray:
    """USD per transcript token: workers read at the producers' input price, coordinators at theirs, ``(D,)``."""
    workers, coordinators, _ = _orchestration_team(views, wl)
    return (workers * usd_in + coordinators * crd_in) / (workers + coordinators)
