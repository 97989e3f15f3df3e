"""Agent mode, quality: sample tasks and follow every attempt, vote, review, hand-off and merge.

Each sampled task has a drawn difficulty; its pieces sit on
``dependency_depth`` levels and land on concrete agents (routing or
broadcast claiming). Every attempt draws its model calls' faults
(:mod:`agent_events`) and its success from the item's latent propensity
for its model (:mod:`agent_votes`), so voting gains and their limits come
from the draws. Reviews, inherited-error exposure, hand-offs, merges, hub
state losses (every hub message of the task, every replica) and stampede
collisions are drawn per task too. The quality is the share of right
pieces, as in the fast mode's definition.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import expit

from swarmdesign.sim.agent import Dispatcher, Population, ability_bonus
from swarmdesign.sim.agent_events import call_faults, hub_losses
from swarmdesign.sim.agent_votes import (
    draw_attempts,
    first_valid_pick,
    judge_pick,
    outcome_correlation,
    plurality,
    propensity_ranks,
)
from swarmdesign.sim.batch import AGG_INDEX, ARCH_INDEX
from swarmdesign.sim.params import SimParams

if TYPE_CHECKING:
    from swarmdesign.fitness import Scenario
    from swarmdesign.sim.agent_graph import Wiring


@dataclass
class StepRecords:
    """What happened to each simulated step, flattened over tasks x levels (for the time simulation)."""

    owner: np.ndarray  # agent that owned the step
    attempts: np.ndarray  # attempts made (aggregation)
    rework: np.ndarray  # rework calls made by review
    fault_calls: np.ndarray  # extra calls caused by faults (retries)


@dataclass
class QualitySample:
    quality: float
    routing_accuracy: float
    steps: StepRecords
    correlation: float  # measured pairwise outcome correlation of two attempts on one item
    hub_lost_share: float  # share of tasks whose hub lost its state


@dataclass(frozen=True)
class FaultSetting:
    """The fault rates one quality run uses (the calm run sets both to 0)."""

    call: float  # per model call
    hub: float  # per hub replica and hub message


def voter_rho(pop: Population, params: SimParams) -> tuple[float, float]:
    """Intra-class correlation of one model's attempts on an item, and the share of it two models have."""
    vp = params.voting
    decor = 1.0 - vp.heterogeneity_decorrelation * float(pop.batch.heterogeneity[0])
    share = vp.correlation_cross_model / vp.correlation_same_model if vp.correlation_same_model > 0 else 0.0
    return vp.correlation_same_model * decor, share


def simulate_quality(
    pop: Population,
    dispatcher: Dispatcher,
    wiring: Wiring,
    scenario: Scenario,
    params: SimParams,
    rng: np.random.Generator,
    *,
    n_tasks: int,
    faults: FaultSetting,
    collided: float,
) -> QualitySample:
    """Sample ``n_tasks`` tasks through routing, attempts, aggregation, review, hand-offs and merges."""
    b = pop.batch
    wl = scenario.workload
    sp, vp, rv, pp, fp = params.skill, params.voting, params.review, params.propagation, params.faults
    slope, center = sp.slope, sp.center
    # own streams: hub draws vary in size, probes must not shift the task draws
    hub_rng = np.random.default_rng(rng.integers(0, 2**63))
    probe_rng = np.random.default_rng(rng.integers(0, 2**63))
    k = int(b.redundancy[0])
    agg = int(b.aggregation[0])
    kind = pop.kind()
    n_prod = pop.producers.size
    planned = pop.planners.size > 0
    split = n_prod > 1 and wl.subtasks > 1 and kind != "single"
    pipeline = kind in ("chain", "ring")
    depth = wl.dependency_depth
    heard = wiring.heard
    hub_kind = kind in ("star", "hierarchical", "federated") and pop.coordinators.size > 0

    alpha, beta = wl.difficulty.beta_params()
    d = rng.beta(alpha, beta, size=n_tasks)[:, None]
    type_slot = rng.choice(dispatcher.mix.size, size=n_tasks, p=dispatcher.mix)

    # a task's team: its pieces go to min(producers, subtasks) agents (or along the pipeline)
    team_size = min(n_prod, wl.subtasks) if split else 1
    team, right_team = dispatcher.land(rng, np.repeat(type_slot[:, None], max(team_size, 1), axis=1))
    lead_coord = pop.planners[np.argmax(pop.skill[pop.planners])] if planned else -1
    plan_theta = (
        pop.skill[lead_coord]
        + (params.decomposition.planner_bonus if pop.arch[lead_coord] == ARCH_INDEX["planner"] else 0.0)
        if planned
        else 0.0
    )
    p_plan = expit(plan_theta - slope * (d - center)) if planned else None

    det_bonus = {ARCH_INDEX[a]: v for a, v in rv.detection_bonus.items()}
    has_checker = len(pop.checker_roles) > 0
    rounds = max(int(b.review_rounds[0]), 1) if has_checker else int(b.review_rounds[0])
    fragment = pp.sequential_share(wl.parallel_fraction, depth)
    outsider = pp.context_fragmentation * fragment
    false_alarm = (
        rv.false_alarm + (1 - rv.false_alarm) * pp.fragmentation_false_alarm * fragment
        if has_checker
        else rv.false_alarm
    )
    per_handoff = 1 - (1 - pp.handoff_error) * (1 - pp.sequential_handoff_error * fragment)
    # each checker role looks at the work; an error slips through only if every role misses it
    role_detect = [
        expit(pop.skill[r[0]] + det_bonus.get(int(pop.arch[r[0]]), 0.0) - outsider - slope * (d - center))
        for r in pop.checker_roles
    ]
    detect = (
        1.0 - np.prod([1.0 - x for x in role_detect], axis=0)
        if has_checker
        else np.full_like(d, rv.self_review_detection)
    )

    if pop.judges.size:
        theta_j = pop.skill[pop.judges].max() + vp.judge_bonus
    elif has_checker or planned:
        pool = np.concatenate([*pop.checker_roles, pop.coordinators])
        theta_j = pop.skill[pool].max()
    else:
        theta_j = pop.skill[pop.producers].mean() - vp.self_judge_penalty
    if pop.judges.size or has_checker or planned:
        theta_j = theta_j - outsider
    judge_acc = expit(theta_j - slope * (d - center))[:, 0]

    rho, cross_share = voter_rho(pop, params)
    n_models = int(pop.model.max()) + 1
    overflow = np.clip(
        1.0
        - params.communication.context_window_tokens
        / (wl.input_tokens_per_step + heard * scenario.environment.message_tokens),
        0.0,
        1.0,
    )
    arch_relief = 1.0 - pp.architect_relief * bool((pop.arch == ARCH_INDEX["architect"]).any())
    hub_catch = pp.hub_catch if hub_kind else 0.0
    pieces = min(team_size, pp.max_merge_pieces) if split else 1
    if not hub_kind:
        hub_catch = pp.peer_catch * min(float(np.mean(heard[pop.producers])) / max(pieces - 1, 1), 1.0)

    ok_so_far = np.ones(n_tasks, dtype=bool)
    level_ok = np.zeros((n_tasks, depth))
    hub_msgs = np.zeros(n_tasks)
    prev_owner = None
    owners, attempts_rec, rework_rec, faults_rec = [], [], [], []
    right_landed = []
    corr_num = corr_pairs = 0.0
    for j in range(depth):
        if pipeline and n_prod > 1:
            # work moves along the chain / ring: every step is someone else's
            owner, is_right = dispatcher.land(rng, type_slot)
            if prev_owner is not None:
                same = owner == prev_owner
                owner = np.where(same, pop.producers[(np.searchsorted(pop.producers, owner) + 1) % n_prod], owner)
        else:
            pick = rng.integers(0, team.shape[1], size=n_tasks)
            owner = team[np.arange(n_tasks), pick]
            is_right = right_team[np.arange(n_tasks), pick]
        others, others_right = dispatcher.land(rng, np.repeat(type_slot[:, None], k - 1, axis=1))
        agents = np.concatenate([owner[:, None], others], axis=1)
        right_landed.append(np.concatenate([is_right[:, None], others_right], axis=1).mean(axis=1))
        ability = pop.skill[agents] + ability_bonus(pop, agents, dispatcher.types[type_slot][:, None], params)
        if planned:
            sound = rng.random((n_tasks, 1)) < p_plan
            piece_d = np.where(sound, d - params.decomposition.plan_relief * (1 - fragment), d)
            p = expit(ability - slope * (piece_d - center)) * np.where(
                sound, 1.0, 1.0 - params.decomposition.bad_plan_harm
            )
        else:
            p = expit(ability - slope * (d - center))
        p = p * (1.0 - params.communication.overflow_harm * overflow[agents])
        calls = call_faults(rng, p.shape, faults.call, fp.max_retries, fp.silent_share)
        ranks = propensity_ranks(rng, n_tasks, n_models, cross_share)
        right = draw_attempts(rng, p, pop.model[agents], ranks, rho)
        # a probe pair of attempts by two producers on the same item measures the outcome correlation
        probe, _ = dispatcher.land(probe_rng, np.repeat(type_slot[:, None], 2, axis=1))
        p_probe = expit(
            pop.skill[probe]
            + ability_bonus(pop, probe, dispatcher.types[type_slot][:, None], params)
            - slope * (d - center)
        )
        c, n_pairs = outcome_correlation(draw_attempts(probe_rng, p_probe, pop.model[probe], ranks, rho), p_probe)
        corr_num += c * n_pairs
        corr_pairs += n_pairs
        right &= calls.survived
        n_attempts = np.full(n_tasks, k)
        if k == 1:
            item_right = right[:, 0]
        elif agg == AGG_INDEX["majority_vote"]:
            item_right = plurality(rng, right, vp.wrong_answer_concentration)
        elif agg == AGG_INDEX["judge"]:
            item_right = judge_pick(rng, right, judge_acc)
        else:
            item_right, n_attempts = first_valid_pick(rng, right, detect[:, 0], false_alarm)
        # review rounds: caught errors and false alarms are reworked by the owner
        rework = np.zeros(n_tasks)
        p_owner = p[:, 0] * calls.survived[:, 0]
        for _ in range(rounds):
            flagged = np.where(item_right, rng.random(n_tasks) < false_alarm, rng.random(n_tasks) < detect[:, 0])
            redo = rng.random(n_tasks) < p_owner
            item_right = np.where(flagged, redo, item_right)
            rework += flagged
        # review at this level also exposes an error inherited from upstream and has it redone
        for _ in range(rounds):
            traced = rng.random(n_tasks) < (1.0 - fragment if has_checker else 1.0)
            exposed = ~ok_so_far & (rng.random(n_tasks) < detect[:, 0]) & (rng.random(n_tasks) < p_owner) & traced
            ok_so_far |= exposed
            rework += exposed
        # a dependent hand-off to another agent may lose context unless a hub or a reviewer catches it
        if prev_owner is not None:
            moved = owner != prev_owner
            lost = moved & (rng.random(n_tasks) < per_handoff * arch_relief)
            caught = (rng.random(n_tasks) < hub_catch) | ((rounds > 0) & (rng.random(n_tasks) < detect[:, 0]))
            item_right &= ~(lost & ~caught)
        prev_owner = owner
        ok_so_far &= item_right
        level_ok[:, j] = ok_so_far
        # every attempt of this level's pieces reports through the owner's hub and the managers above it
        hub_msgs += n_attempts * wiring.hub_messages[owner] * wiring.hub_path[owner] * wl.subtasks / depth
        owners.append(owner)
        attempts_rec.append(n_attempts)
        rework_rec.append(rework)
        made = np.arange(k)[None, :] < n_attempts[:, None]
        faults_rec.append((calls.extra_calls * made).sum(axis=1))
    task_q = level_ok.mean(axis=1)

    # merging the team's pieces; the hub may fail; picks may collide
    merge_caught = 1.0 - (1.0 - hub_catch) * (1.0 - pp.integrator_catch * (pop.mergers.size > 0))
    conflicts = rng.random((n_tasks, max(pieces - 1, 0))) < pp.merge_conflict * arch_relief
    uncaught = conflicts & (rng.random((n_tasks, max(pieces - 1, 0))) >= merge_caught)
    task_q = np.where(uncaught.any(axis=1), 0.0, task_q)
    replicas = int(wiring.hub_servers[: wiring.leaf_queues].min()) if wiring.leaf_queues > 0 else 1
    hub_lost = hub_losses(hub_rng, np.round(hub_msgs).astype(np.int64), replicas, faults.hub)
    task_q = np.where(hub_lost, task_q * (1.0 - fp.hub_state_loss), task_q)
    hit = rng.random(n_tasks) < collided
    task_q = np.where(hit, task_q * (1.0 - params.stampede.collision_error), task_q)
    return QualitySample(
        quality=float(task_q.mean()),
        routing_accuracy=float(np.mean(right_landed)),
        steps=StepRecords(
            owner=np.concatenate(owners),
            attempts=np.concatenate(attempts_rec),
            rework=np.concatenate(rework_rec),
            fault_calls=np.concatenate(faults_rec),
        ),
        correlation=corr_num / corr_pairs if corr_pairs else 0.0,
        hub_lost_share=float(hub_lost.mean()),
    )
