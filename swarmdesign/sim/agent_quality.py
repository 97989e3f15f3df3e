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

from swarmdesign.archetypes import HUB_KINDS
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
from swarmdesign.sim.params import ReviewParams, SimParams

if TYPE_CHECKING:
    from swarmdesign.fitness import Scenario
    from swarmdesign.sim.agent_graph import Wiring

#: Attempts per item that measure the voters' outcome correlation (every pair of them counts).
PROBE_ATTEMPTS = 8


@dataclass
class StepRecords:
    """What happened to each simulated step, flattened over tasks x levels (for the time simulation)."""

    owner: np.ndarray  # agent that owned the step
    attempts: np.ndarray  # attempts made (aggregation)
    rework: np.ndarray  # rework calls made by review
    fault_calls: np.ndarray  # extra calls caused by faults (retries)
    critiques: np.ndarray  # peers who critiqued the step (one review-sized call each)


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


@dataclass(frozen=True)
class Checking:
    """Who checks the work and how well, for the sampled tasks; arrays are ``(T,)``."""

    has_checker: bool
    rounds: int
    informed: float  # share of a dependent step's state an outside agent holds
    detect: np.ndarray  # an informed verdict spots an error (all checker roles together)
    false_alarm: float  # an informed verdict flags right work
    detect_total: np.ndarray  # any verdict flags an error (informed or not)
    false_alarm_total: float  # any verdict flags right work


def _checking(pop: Population, scenario: Scenario, params: SimParams, d: np.ndarray) -> Checking:
    """Checker strength per task: outside checkers of sequential work hold only the hand-off summary."""
    rv, pp, sp = params.review, params.propagation, params.skill
    wl, env = scenario.workload, scenario.environment
    lost = pp.context_lost(wl.parallel_fraction, wl.dependency_depth, env.message_tokens, wl.input_tokens_per_step)
    has_checker = len(pop.checker_roles) > 0
    rounds = max(int(pop.batch.review_rounds[0]), 1) if has_checker else int(pop.batch.review_rounds[0])
    if not has_checker:
        det = np.full(d.shape, rv.self_review_detection)
        return Checking(False, rounds, 1.0 - lost, det, rv.self_review_false_alarm, det, rv.self_review_false_alarm)
    det_bonus = {ARCH_INDEX[a]: v for a, v in rv.detection_bonus.items()}
    miss = np.ones(d.shape)
    keep = 1.0
    for r in pop.checker_roles:
        arch = int(pop.arch[r[0]])
        miss = miss * (1.0 - expit(pop.skill[r[0]] + det_bonus.get(arch, 0.0) - sp.slope * (d - sp.center)))
        name = next((a for a, i in ARCH_INDEX.items() if i == arch), "")
        keep *= 1.0 - rv.false_alarm_by_checker.get(name, rv.false_alarm)
    informed = 1.0 - lost
    detect, fa = 1.0 - miss, 1.0 - keep
    flag = lost * rv.uninformed_flag_rate
    return Checking(True, rounds, informed, detect, fa, informed * detect + flag, informed * fa + flag)


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
    dp = params.decomposition
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
    hub_kind = kind in HUB_KINDS and pop.coordinators.size > 0
    every = np.arange(n_tasks)

    alpha, beta = wl.difficulty.beta_params()
    d = rng.beta(alpha, beta, size=n_tasks)
    type_slot = rng.choice(dispatcher.mix.size, size=n_tasks, p=dispatcher.mix)
    chk = _checking(pop, scenario, params, d)
    informed = chk.informed

    # a task's team: its pieces go to min(producers, subtasks) agents (or along the pipeline)
    team_size = min(n_prod, wl.subtasks) if split else 1
    team, right_team = dispatcher.land(rng, np.repeat(type_slot[:, None], max(team_size, 1), axis=1))
    if planned:
        # the best coordinator plans; deciding how to split is an easier item than solving it
        coord_theta = float(
            np.max(pop.skill[pop.planners] + dp.planner_bonus * (pop.arch[pop.planners] == ARCH_INDEX["planner"]))
        )
        p_plan = expit(coord_theta - slope * (dp.plan_difficulty * d - center))
        # a coordinator reading a piece's report spots a wrong one when it holds the state and could solve it
        hub_spot = informed * expit(coord_theta - slope * (d - center))
    else:
        coord_theta, p_plan, hub_spot = 0.0, None, np.zeros(n_tasks)
    # without a coordinator, a team whose members all hear each other negotiates the split itself: it
    # manages that coordination with the peers' share (peer_catch), then the split is sound as often as
    # the team could plan it; a failed negotiation leaves the pieces as they were (no plan to mislead)
    p_negotiated = None
    if split and not planned and kind != "independent":
        hears_all = (heard[team] >= team_size - 1).all(axis=1)
        team_theta = pop.skill[team].mean(axis=1)
        p_negotiated = hears_all * pp.peer_catch * expit(team_theta - slope * (dp.plan_difficulty * d - center))

    if pop.judges.size:
        theta_j = pop.skill[pop.judges].max() + vp.judge_bonus
    elif chk.has_checker or planned:
        theta_j = pop.skill[np.concatenate([*pop.checker_roles, pop.coordinators])].max()
    else:
        theta_j = pop.skill[pop.producers].mean() - vp.self_judge_penalty
    outside_judge = bool(pop.judges.size or chk.has_checker or planned)
    judge_acc = expit(theta_j - slope * (d - center)) * (informed if outside_judge else 1.0)

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
    pieces = min(team_size, pp.max_merge_pieces) if split else 1
    # peers who read a piece critique it; where a coordinator sits in the middle it verifies instead
    # (a hybrid's members read each other's pieces directly, around the hub: they critique them too)
    no_critics = (hub_kind and kind != "hybrid") or kind in ("single", "independent") or pp.peer_refinement <= 0
    critics = np.zeros(pop.n, dtype=np.int64) if no_critics else np.round(wiring.readers).astype(np.int64)
    cluster_of = wiring.cluster_of
    home = cluster_of[team[:, 0]]
    peer_share = pp.peer_catch * min(float(np.mean(heard[pop.producers])) / max(pieces - 1, 1), 1.0)

    ok_so_far = np.ones(n_tasks, dtype=bool)
    level_ok = np.zeros((n_tasks, depth))
    hub_msgs = np.zeros(n_tasks)
    prev_owner = None
    owners, attempts_rec, rework_rec, faults_rec, critique_rec = [], [], [], [], []
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
            owner = team[every, pick]
            is_right = right_team[every, pick]
        others, others_right = dispatcher.land(rng, np.repeat(type_slot[:, None], k - 1, axis=1))
        agents = np.concatenate([owner[:, None], others], axis=1)
        right_landed.append(np.concatenate([is_right[:, None], others_right], axis=1).mean(axis=1))
        ability = pop.skill[agents] + ability_bonus(pop, agents, dispatcher.types[type_slot][:, None], params)
        if planned:
            sound = rng.random((n_tasks, 1)) < p_plan[:, None]
            piece_d = np.where(sound, d[:, None] - dp.plan_relief * wl.parallel_fraction, d[:, None])
            p = expit(ability - slope * (piece_d - center)) * np.where(sound, 1.0, 1.0 - dp.bad_plan_harm)
        elif p_negotiated is not None:
            sound = rng.random((n_tasks, 1)) < p_negotiated[:, None]
            piece_d = np.where(sound, d[:, None] - dp.plan_relief * wl.parallel_fraction, d[:, None])
            p = expit(ability - slope * (piece_d - center))
        else:
            p = expit(ability - slope * (d[:, None] - center))
        p = p * (1.0 - params.communication.overflow_harm * overflow[agents])
        calls = call_faults(rng, p.shape, faults.call, fp.max_retries, fp.silent_share)
        ranks = propensity_ranks(rng, n_tasks, n_models, cross_share)
        right = draw_attempts(rng, p, pop.model[agents], ranks, rho)
        # probe attempts by producers on the same item measure the outcome correlation: PROBE_ATTEMPTS of them
        # per item (a single pair per item left the estimate 0.03 from its value at a thousand items)
        probe, _ = dispatcher.land(probe_rng, np.repeat(type_slot[:, None], PROBE_ATTEMPTS, axis=1))
        p_probe = expit(
            pop.skill[probe]
            + ability_bonus(pop, probe, dispatcher.types[type_slot][:, None], params)
            - slope * (d[:, None] - center)
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
            item_right, n_attempts = first_valid_pick(rng, right, chk.detect_total, chk.false_alarm_total)
        p_owner = p[:, 0] * calls.survived[:, 0]
        item_right, rework = _review_rounds(rng, item_right, p_owner, chk, rv)
        # a central coordinator reads every piece's report and sends back the wrong ones it spots; a
        # federation's hub checks pieces of its own cluster, other clusters' only as a peer
        if hub_kind and planned:
            crossing = cluster_of[owner] != home
            catch = np.where(crossing, pp.peer_catch, pp.hub_catch)
            sent_back = ~item_right & (rng.random(n_tasks) < catch) & (rng.random(n_tasks) < hub_spot)
            item_right = np.where(sent_back, rng.random(n_tasks) < p_owner, item_right)
            rework += sent_back
        # peer critique: every peer who reads the piece may get an error in it fixed
        n_critics = critics[owner]
        if n_critics.any():
            # each critic spots the error on its own; the count of critics who do is drawn in one go
            spotted = (rng.binomial(n_critics, pp.peer_refinement * informed) > 0) & ~item_right
            item_right = np.where(spotted, rng.random(n_tasks) < p_owner, item_right)
            rework += spotted
        critique_rec.append(n_critics.astype(float))
        # review at this level also exposes an error inherited from upstream and has it redone; an
        # outside checker traces it back only for the state it was handed
        traced = rng.random(n_tasks) < (informed if chk.has_checker else 1.0)
        for i in range(chk.rounds):
            has_state = rng.random(n_tasks) < (informed if chk.has_checker else 1.0)
            spot = rng.random(n_tasks) < chk.detect * rv.repeat_detection**i
            exposed = ~ok_so_far & traced & has_state & spot & (rng.random(n_tasks) < p_owner)
            ok_so_far |= exposed
            rework += exposed
        if prev_owner is not None:
            moved = owner != prev_owner
            # misalignment in a dependent hand-off, unless a hub, peers or a reviewer catches it
            if hub_kind and kind != "hybrid":
                central = np.where(cluster_of[owner] != cluster_of[prev_owner], pp.peer_catch, pp.hub_catch)
            else:  # no hub on the way (a hybrid's members hand work to each other directly): the peers who hear it
                central = np.full(n_tasks, peer_share)
            lost = moved & (rng.random(n_tasks) < pp.handoff_error * arch_relief)
            caught = (rng.random(n_tasks) < central) | ((chk.rounds > 0) & (rng.random(n_tasks) < chk.detect_total))
            item_right &= ~(lost & ~caught)
            # the state the hand-off summary misses must be re-derived by the receiver, unchecked
            missing = moved & (rng.random(n_tasks) >= informed)
            item_right &= ~(missing & (rng.random(n_tasks) >= p_owner))
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

    # merging the team's pieces: each extra piece may conflict with the first, unless the hub (a peer hub
    # for a piece from another cluster), peers or an integrator catch it; the hub may fail; double-booked
    # resources corrupt work
    extra = team[:, 1:pieces]
    if hub_kind:
        central = np.where(cluster_of[extra] != home[:, None], pp.peer_catch, pp.hub_catch)
    else:
        central = np.full(extra.shape, peer_share)
    merge_caught = 1.0 - (1.0 - central) * (1.0 - pp.integrator_catch * (pop.mergers.size > 0))
    conflicts = rng.random(extra.shape) < pp.merge_conflict * arch_relief
    uncaught = conflicts & (rng.random(extra.shape) >= merge_caught)
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
            critiques=np.concatenate(critique_rec),
        ),
        correlation=corr_num / corr_pairs if corr_pairs else 0.0,
        hub_lost_share=float(hub_lost.mean()),
    )


def _review_rounds(
    rng: np.random.Generator, right: np.ndarray, p_owner: np.ndarray, chk: Checking, rv: ReviewParams
) -> tuple[np.ndarray, np.ndarray]:
    """Review rounds on items ``(T,)``: each verdict is informed (holds the state) or not.

    An informed verdict catches an error with ``detect`` (less each round:
    the errors earlier rounds missed are the hard ones) and flags right work
    with ``false_alarm``; a flag with a concrete complaint gets a fresh
    attempt. An uninformed verdict flags right or wrong work alike, and a
    producer told without reason that right work is wrong changes it with
    ``uninformed_flip``. Returns the items after review and the rework calls.
    """
    n = right.size
    rework = np.zeros(n)
    flag_rate, flip, decay = rv.uninformed_flag_rate, rv.uninformed_flip, rv.repeat_detection
    for i in range(chk.rounds):
        has_state = rng.random(n) < (chk.informed if chk.has_checker else 1.0)
        u = rng.random(n)
        flagged = np.where(
            has_state,
            np.where(right, u < chk.false_alarm, u < chk.detect * decay**i),
            u < (flag_rate * decay**i if chk.has_checker else 0.0),
        )
        if chk.has_checker:  # an uninformed verdict on right work: the same flag rate, no decay
            flagged = np.where(~has_state & right, u < flag_rate, flagged)
        redo = rng.random(n) < p_owner
        uninformed_right = flagged & right & ~has_state
        right = np.where(uninformed_right, rng.random(n) >= flip, np.where(flagged, redo, right))
        rework += flagged
    return right, rework
