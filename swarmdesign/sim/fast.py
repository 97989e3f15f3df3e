"""Fast mode, quality half: how often the work comes out right.

The chain, per design ``d`` and Monte-Carlo replica ``q`` (arrays ``(D, Q)``):

1. routing puts each task type on a role (:mod:`routing`), the role's model
   and archetype give a per-attempt success on the (planned) piece
   difficulty (:mod:`skill`, :mod:`scaling` docstring for planning);
2. context overflow, bad plans and silent faults lower it
   (:mod:`topology`, :mod:`faults`);
3. ``redundancy`` attempts are aggregated (:mod:`voting`);
4. review rounds catch and rework errors (:mod:`review`);
5. hand-offs between agents add errors, which compound along the
   dependency depth (:mod:`propagation`);
6. merges, hub failures and stampede collisions take their share
   (:mod:`propagation`, :mod:`faults`, :mod:`stampede`).

Each step's drop is recorded as a ``loss_quality_<mechanism>`` column; the
losses telescope, so ``quality = 1 - sum(losses)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from swarmdesign.sim import faults, propagation, review, routing, skill, stragglers, topology, voting
from swarmdesign.sim.batch import AGG_INDEX, ARCH_INDEX
from swarmdesign.sim.params import SimParams
from swarmdesign.sim.ufuncs import clip, row_mean
from swarmdesign.sim.views import RoleViews, _masked_max

if TYPE_CHECKING:
    from swarmdesign.fitness import Scenario


@dataclass(frozen=True)
class Production:
    """Per-attempt production figures that do not depend on faults."""

    p_ideal: np.ndarray  # (D, Q) success with perfect routing, unplanned
    p_routed: np.ndarray  # (D, Q) success with the design's routing, unplanned
    p_planned: np.ndarray  # (D, Q) success with the design's routing and planning (mean over the plan's outcome)
    plan_states: np.ndarray  # (2, D, Q) success under a sound and under an unsound plan (equal where none plans)
    plan_sound: np.ndarray  # (D, Q) chance a level's plan (or negotiated split) is sound; 0 where nobody plans
    work_share: np.ndarray  # (D, R) share of production work each role does
    routing_accuracy: np.ndarray  # (D,)
    same_model_share: np.ndarray  # (D,) probability two attempts share a model
    detection: np.ndarray  # (D, Q) probability one review round catches an error
    false_alarm: np.ndarray  # (D, 1) share of right work a review round sends back
    uninformed_false_alarm: np.ndarray  # (D, 1) the part of false_alarm flagged without the context
    informed_detection: np.ndarray  # (D, Q) the part of detection that rests on the state the checker has
    hub_detection: np.ndarray  # (D, Q) chance a coordinator reading a piece's report spots that it is wrong
    informed: float  # share of a dependent step's state an outside agent receives in a hand-off
    has_review: np.ndarray  # (D,) bool
    review_rounds: np.ndarray  # (D,) effective rounds
    judge_accuracy: np.ndarray  # (D, Q)
    overflow: np.ndarray  # (D,) share of context truncated


def production(views: RoleViews, scenario: Scenario, params: SimParams, difficulty: np.ndarray) -> Production:
    """Routing, planning, skill and checker strength; ``difficulty`` has shape ``(Q,)``."""
    b = views.batch
    sp = params.skill
    slope, center = sp.slope, sp.center
    count, prod = views.count, views.producer
    n_prod = np.maximum(views.n_producers, 1e-300)

    # planning: a coordinator plans each piece it dispatches; the plan is an item of its own (deciding how to
    # split is easier than solving and does not need the solution); a sound plan makes the piece easier by
    # plan_relief times the work's parallel fraction, an unsound one harms it (mixture over the two outcomes)
    dp = params.decomposition
    wl = scenario.workload
    plan_ok = np.where(
        views.planned[:, None],
        skill.row_success(views.coordinator_skill, dp.plan_difficulty * difficulty, slope, center),
        0.0,
    )
    easier = difficulty - dp.plan_relief * wl.parallel_fraction
    # peers who hear every piece's author can negotiate the split themselves (Kim et al. 2025's decentralised
    # teams coordinate by peer messages); they settle a sound split less reliably than a coordinator does, by
    # the share of coordination peers manage without a hub (propagation.peer_catch)
    pieces_in_flight = np.minimum(views.n_producers, wl.subtasks)
    negotiated = views.split & ~views.planned & ~b.is_kind("independent") & (views.heard >= pieces_in_flight - 1.0)
    plan_ok = plan_ok + np.where(
        negotiated[:, None],
        params.propagation.peer_catch
        * skill.row_success(views.mean_skill_producers, dp.plan_difficulty * difficulty, slope, center),
        0.0,
    )
    eased_rows = views.planned | negotiated

    generalist = prod & views.arch_is("generalist")
    p_ideal = np.zeros((b.n_designs, difficulty.size))
    p_routed = np.zeros_like(p_ideal)
    p_eased = np.zeros_like(p_ideal)
    share = np.zeros_like(count)
    accuracy = np.zeros(b.n_designs)
    for arch_name, mu in sp.normalised_mix().items():
        spec = prod & (b.arch == ARCH_INDEX[arch_name])
        right = np.where(spec.any(axis=1, keepdims=True), spec, generalist)
        c_right = (count * right).sum(axis=1)
        c_wrong = (count * (prod & ~right)).sum(axis=1)
        p_land = routing.right_archetype_probability(
            c_right / n_prod, b.routed, params.routing.routed_accuracy, params.routing.broadcast_self_selection
        )
        p_land = np.where(c_wrong > 0, p_land, 1.0)
        bonus = np.where(
            spec,
            sp.match_bonus,
            np.where(
                generalist,
                sp.generalist_bonus,
                np.where(views.producer_arch, -sp.mismatch_penalty, -sp.non_producer_penalty),
            ),
        )
        abilities = skill.Abilities(views.skill + bonus)  # sorted once for the three sums below
        w_right = count * right / np.maximum(c_right, 1e-300)[:, None]
        w_wrong = count * (prod & ~right) / np.maximum(c_wrong, 1e-300)[:, None]
        w_land = p_land[:, None] * w_right + (1.0 - p_land[:, None]) * w_wrong
        w_ideal = np.where((c_right > 0)[:, None], w_right, w_wrong)
        table = abilities.table(difficulty, slope, center)
        p_ideal += mu * abilities.weigh(w_ideal, table)
        p_routed += mu * abilities.weigh(w_land, table)
        if eased_rows.any():
            p_eased += mu * abilities.weigh(w_land * eased_rows[:, None], abilities.table(easier, slope, center))
        share += mu * w_land
        accuracy += mu * np.where(c_right > 0, p_land, 0.0)

    same_model = b.model[:, :, None] == b.model[:, None, :]
    same_model_share = np.einsum("dr,ds,drs->d", share, share, same_model)

    # checkers: combined detection of all checker roles in one round. An outside checker (or judge) of
    # sequential work sees only the hand-off summary; for the state it lacks its verdict is uninformed.
    rv = params.review
    det_bonus = np.zeros(len(ARCH_INDEX))
    fa_arch = np.zeros(len(ARCH_INDEX))
    for name, bonus_value in rv.detection_bonus.items():
        det_bonus[ARCH_INDEX[name]] = bonus_value
    for name in ("reviewer", "tester", "judge"):
        fa_arch[ARCH_INDEX[name]] = rv.false_alarm_by_checker.get(name, rv.false_alarm)
    env = scenario.environment
    lost = params.propagation.context_lost(
        wl.parallel_fraction, wl.dependency_depth, env.message_tokens, wl.input_tokens_per_step
    )
    informed = 1.0 - lost
    log_miss = skill.weighted_success(
        views.skill + det_bonus[b.arch],
        views.checker,
        difficulty,
        slope,
        center,
        transform=lambda p: np.log1p(-np.minimum(p, 1 - 1e-12)),
    )
    has_checker = views.n_checkers > 0
    informed_det = np.where(has_checker[:, None], informed * -np.expm1(log_miss), rv.self_review_detection)
    detection = informed_det + np.where(has_checker, lost * rv.uninformed_flag_rate, 0.0)[:, None]
    external_fa = -np.expm1((views.checker * np.log1p(-np.minimum(fa_arch[b.arch], 1 - 1e-12))).sum(axis=1))
    external_fa = informed * external_fa + lost * rv.uninformed_flag_rate
    false_alarm = np.where(has_checker, external_fa, rv.self_review_false_alarm)
    uninformed_fa = np.where(has_checker, lost * rv.uninformed_flag_rate, 0.0)
    rounds = np.where(has_checker, np.maximum(b.review_rounds, 1.0), b.review_rounds)

    # the judge: a judge role if any, else a checker or a coordinator that can reach the producers (none
    # in an independent team, whose members have no channels: it neither plans nor reads their attempts),
    # else the producers judging themselves; an outside judge recognises a right attempt only for the state
    # it has
    vp = params.voting
    judge_role = views.arch_is("judge") & (views.count > 0)
    other = views.checker | (views.coordinator & views.planned[:, None])
    outside = judge_role.any(axis=1) | other.any(axis=1)
    theta_judge = np.where(
        judge_role.any(axis=1),
        _masked_max(views.skill, judge_role, 0.0) + vp.judge_bonus,
        np.where(
            other.any(axis=1),
            _masked_max(views.skill, other, 0.0),
            views.mean_skill_producers - vp.self_judge_penalty,
        ),
    )
    judge_accuracy = (
        skill.row_success(theta_judge, difficulty, slope, center) * np.where(outside, informed, 1.0)[:, None]
    )

    context = wl.input_tokens_per_step + views.heard * env.message_tokens
    overflow = clip(1.0 - params.communication.context_window_tokens / context, 0.0, 1.0)
    eased = eased_rows[:, None]
    return Production(
        p_ideal=p_ideal,
        p_routed=p_routed,
        p_planned=np.where(
            views.planned[:, None],
            plan_ok * p_eased + (1.0 - plan_ok) * p_routed * (1.0 - dp.bad_plan_harm),
            np.where(negotiated[:, None], plan_ok * p_eased + (1.0 - plan_ok) * p_routed, p_routed),
        ),
        plan_states=np.stack(
            [
                np.where(eased, p_eased, p_routed),
                np.where(views.planned[:, None], p_routed * (1.0 - dp.bad_plan_harm), p_routed),
            ]
        ),
        plan_sound=np.where(eased, plan_ok, 0.0),
        work_share=share,
        routing_accuracy=accuracy,
        same_model_share=same_model_share,
        detection=detection,
        false_alarm=false_alarm[:, None],
        uninformed_false_alarm=uninformed_fa[:, None],
        informed_detection=informed_det,
        hub_detection=informed
        * views.planned[:, None]
        * skill.row_success(views.coordinator_skill, difficulty, slope, center),
        informed=informed,
        has_review=rounds > 0,
        review_rounds=rounds,
        judge_accuracy=judge_accuracy,
        overflow=overflow,
    )


def similarity(views: RoleViews, prod: Production, params: SimParams) -> tuple[np.ndarray, np.ndarray]:
    """Voter error correlation rho ``(D,)`` and the agents' similarity for herding, 0..1 ``(D,)``.

    Similarity is 1 for identical agents; two models agree only
    ``correlation_cross_model / correlation_same_model`` as much as one, and
    heterogeneity removes ``stampede.heterogeneity_spread`` of the rest.
    """
    vp = params.voting
    rho = voting.voter_correlation(
        prod.same_model_share,
        views.batch.heterogeneity,
        vp.correlation_same_model,
        vp.correlation_cross_model,
        vp.heterogeneity_decorrelation,
    )
    return rho, herd_similarity(prod.same_model_share, views.batch.heterogeneity, params)


def herd_similarity(same_model_share: np.ndarray, heterogeneity: np.ndarray, params: SimParams) -> np.ndarray:
    """How alike the agents choose (0..1); see :func:`similarity`."""
    vp = params.voting
    cross = vp.correlation_cross_model / vp.correlation_same_model if vp.correlation_same_model > 0 else 1.0
    models = same_model_share + (1.0 - same_model_share) * cross
    return models * (1.0 - params.stampede.heterogeneity_spread * heterogeneity)


@dataclass(frozen=True)
class QualityOutcome:
    """Per-design quality figures; ``losses`` maps mechanism -> ``(D,)`` quality lost."""

    quality: np.ndarray  # (D,)
    attempts: np.ndarray  # (D,) attempts per item (expected, first-valid)
    attempt_law: stragglers.AttemptLaw  # first-valid's attempts per item, whose slowest the run waits for
    rework: np.ndarray  # (D,) rework calls per item
    critiques: np.ndarray  # (D,) peer critique calls per item (review-sized)
    hub_lost: np.ndarray  # (D,) chance a task's unreplicated hub loses its state (mean over the replicas)
    losses: dict[str, np.ndarray]


def quality_chain(
    views: RoleViews,
    prod: Production,
    scenario: Scenario,
    params: SimParams,
    *,
    fault_rate: float,
    rho: np.ndarray,
    hub_log_keep: np.ndarray,
    collisions: np.ndarray,
) -> QualityOutcome:
    """Run steps 2-6 of the module docstring for one fault rate (:func:`quality_chains` with one setting)."""
    return quality_chains(
        views,
        prod,
        scenario,
        params,
        fault_rates=(fault_rate,),
        rho=rho,
        hub_log_keep=(hub_log_keep,),
        collisions=collisions,
    )[0]


def _step_loss(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Mean quality a step drops over the replicas (last axis)."""
    return row_mean(before - after)


def _stack(x: np.ndarray, copies: int) -> np.ndarray:
    """``copies`` copies of the rows of ``x`` one after another (first axis), for the voting functions."""
    return np.concatenate((x,) * copies) if copies > 1 else x


def quality_chains(
    views: RoleViews,
    prod: Production,
    scenario: Scenario,
    params: SimParams,
    *,
    fault_rates: Sequence[float],
    rho: np.ndarray,
    hub_log_keep: Sequence[np.ndarray],
    collisions: np.ndarray,
) -> tuple[QualityOutcome, ...]:
    """Run steps 2-6 of the module docstring once per fault rate, all the settings in one pass.

    ``hub_log_keep`` (per fault rate, ``(D,)``: the log of the chance a
    task's state survives its hub through one attempt at each of its pieces)
    and ``collisions`` (share of scarce-resource picks that collided: double
    bookings) come from the resource half, which knows the load. Two agents
    claiming the same subtask only waste work (the resource half charges
    it); they do not corrupt the answer.

    Fault settings differ only in the step survival and the hub failures, so
    routing, planning, context and every topology-dependent catch rate are
    computed once, and the settings' ``(D, Q)`` arrays are stacked on a
    leading axis: each numpy call then serves every setting. In a swarm-sized
    batch a call's fixed cost, not its arithmetic, is most of the price.
    Every element goes through the same operations in the same order as in a
    pass for its setting alone, so the figures are identical (the voting
    functions pick their expansion by one setting's rows, ``copies``).

    A level's plan is sound or not (:attr:`Production.plan_states`) for
    everything done to its piece: voting, review, verification, critique and
    the re-derivation of lost state all act on the attempt's success, non-
    linearly, and all share the level's plan. Averaging the success over the
    plan first (``p_planned``) overrated planned teams: an error is likelier
    under a bad plan, where its redo fails more often too. So a row is
    appended for each design whose plan can be sound, holding its level under
    a sound plan, and each level's outcomes are mixed by the plan's chance
    before the levels are chained.
    """
    b = views.batch
    wl = scenario.workload
    fp = params.faults
    n_set = len(fault_rates)
    losses: dict[str, np.ndarray] = {}  # (D,) where the settings agree, else (S, D)

    losses["skill"] = 1.0 - row_mean(prod.p_ideal)
    losses["routing"] = _step_loss(prod.p_ideal, prod.p_routed)
    p_planned = prod.p_planned
    losses["planning"] = _step_loss(prod.p_routed, p_planned)
    ctx_keep = 1.0 - params.communication.overflow_harm * prod.overflow[:, None]
    p_ctx = p_planned * ctx_keep
    losses["context"] = _step_loss(p_planned, p_ctx)
    survival = np.array([faults.step_survival(f, fp.max_retries, fp.silent_share) for f in fault_rates])
    fault_step = _step_loss(p_ctx, p_ctx * survival[:, None, None])

    # A level's plan is sound or not for every attempt, redo and check of its piece (the agent mode draws it
    # per task and level), and all of those are non-linear in the attempt's success: a piece is more often
    # wrong under an unsound plan, where its redo fails more often too. So a level runs once per plan
    # outcome: rows 0..D-1 hold every design under an unsound plan (or no plan), and a row is appended for
    # each design whose plan can be sound, under a sound one (``src`` maps rows to designs). Their outcomes
    # are weighted by the plan's chance per replica before the levels are chained (see q_task below).
    n_q = p_ctx.shape[1]
    n_d = b.n_designs
    eased = np.flatnonzero((prod.plan_sound > 0.0).any(axis=1))
    src = np.concatenate([np.arange(n_d), eased])
    p_step = survival[:, None, None] * (
        np.concatenate([prod.plan_states[1], prod.plan_states[0][eased]]) * ctx_keep[src]
    )
    weight = np.concatenate([1.0 - prod.plan_sound, prod.plan_sound[eased]])  # (D + E, Q)

    def mixed(x: np.ndarray) -> np.ndarray:
        """Outcomes of the ``D + E`` rows, ``(S, D + E, Q)``, as ``(S, D, Q)``: each design's plan outcomes weighted."""
        out = x[:, :n_d] * weight[:n_d]
        if eased.size:
            out[:, eased] += x[:, n_d:] * weight[n_d:]
        return out

    # aggregation of k attempts (exact beta-binomial, voting.py), each rule only on the designs that use it
    agg = b.aggregation[src]
    vp = params.voting
    k = b.redundancy[src]
    rho_rows = rho[src]
    p_item = p_step.copy()
    attempts = np.repeat(b.redundancy.astype(float)[None], n_set, axis=0)  # (S, D): k, first-valid's below
    several = k > 1
    # a task's hub keeps its state through every call its attempts make there: redundancy k attempts at each
    # piece, (S, D) (first-valid's number varies with the question: per question below, hub_lost_fv)
    log_keep = np.stack(hub_log_keep)
    hub_lost = -np.expm1(log_keep * b.redundancy)
    hub_lost_fv = None

    def voters(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The settings' attempt success, counts and correlation of ``rows``, stacked setting after setting."""
        return p_step[:, rows].reshape(-1, n_q), _stack(k[rows], n_set), _stack(rho_rows[rows], n_set)

    rows = np.flatnonzero(several & (agg == AGG_INDEX["majority_vote"]))
    if rows.size:
        p_item[:, rows] = voting.majority_vote(*voters(rows), vp.wrong_answer_concentration, copies=n_set).reshape(
            n_set, rows.size, n_q
        )
    rows = np.flatnonzero(several & (agg == AGG_INDEX["judge"]))
    if rows.size:
        p_item[:, rows] = voting.judge_select(
            *voters(rows), _stack(prod.judge_accuracy[src[rows]], n_set), copies=n_set
        ).reshape(n_set, rows.size, n_q)
    rows = np.flatnonzero(several & (agg == AGG_INDEX["first_valid"]))
    fv = np.flatnonzero(several[:n_d] & (agg[:n_d] == AGG_INDEX["first_valid"]))  # the designs that use it
    if rows.size:
        w_rows = _stack(weight[rows], n_set)
        right, tries, law, pgf = voting.first_valid_with_attempts(
            *voters(rows),
            _stack(prod.detection[src[rows]], n_set),
            _stack(prod.false_alarm[src[rows]], n_set),
            copies=n_set,
            weights=w_rows,
            # a hub's chance to keep the state through one attempt at one level (no hub, no faults: none needed)
            z=np.exp(log_keep[:, src[rows]] / wl.dependency_depth).reshape(-1) if log_keep[:, fv].any() else None,
        )
        p_item[:, rows] = right.reshape(n_set, rows.size, n_q)
        # each row's expected attempts, law and pgf are weighted by its plan outcome's chance: a design's are
        # the sums of its rows'
        design = np.searchsorted(fv, src[rows])

        def by_design(x: np.ndarray) -> np.ndarray:
            """Rows' figures ``(S * rows, ...)`` summed per first-valid design, ``(S, fv, ...)``."""
            x = x.reshape(n_set, rows.size, *x.shape[1:])
            out = np.zeros((n_set, fv.size, *x.shape[2:]))
            np.add.at(out, (slice(None), design), x)
            return out

        attempts[:, fv] = by_design(row_mean(tries * w_rows))
        attempt_laws = [stragglers.AttemptLaw.build(n_d, fv, part) for part in by_design(law)]
        if pgf is not None:
            kept = by_design(pgf)  # E[keep^N] of a level's piece, its plan outcomes mixed
            # the levels draw their attempts apart (each its own question): a task keeps its hub through them all
            hub_lost_fv = -np.expm1(wl.dependency_depth * np.log(clip(kept, 1e-300, 1.0)))
            hub_lost_fv[log_keep[:, fv] == 0.0] = 0.0  # no hub or no faults: exactly none lost (not 1 - sum P)
            hub_lost[:, fv] = row_mean(hub_lost_fv)
    else:
        attempt_laws = [stragglers.AttemptLaw.build(n_d, fv, np.ones((0, 1)))] * n_set
    p_item_mix = mixed(p_item)
    losses["voting"] = _step_loss(p_ctx * survival[:, None, None], p_item_mix)

    # review rounds, then peer refinement: every peer that reads a piece (MacNet's collaborating agents)
    # gets a share of its errors fixed, with diminishing returns in the number of peers
    # a false alarm with a concrete complaint gets a fresh attempt; an uninformed one makes the producer
    # change right work (review.uninformed_flip)
    un_fa = prod.uninformed_false_alarm[src]
    false_alarm = prod.false_alarm[src]
    detection = prod.detection[src]
    review_rounds = prod.review_rounds[src]
    breaks = (false_alarm - un_fa) * (1.0 - p_step) + un_fa * params.review.uninformed_flip
    e_review, rework = review.review_loop(
        1.0 - p_item,
        detection,
        p_step,
        false_alarm,
        review_rounds,
        breaks,
        params.review.repeat_detection,
    )
    pp = params.propagation
    # a federation's hubs each see only their cluster: hand-offs that cross clusters (a share (k - 1) / k)
    # are caught between peer hubs at peer_catch (Kim et al. 2025: hybrid contains errors less than centralised)
    k_fed = np.maximum(np.minimum(b.clusters, np.maximum(views.n_producers, 1.0)), 1.0)
    crossing = np.where(b.is_kind("federated"), (k_fed - 1.0) / k_fed, 0.0)
    hub_catch = (pp.hub_catch * (1.0 - crossing) + pp.peer_catch * crossing) * views.hub_kind
    # error containment: a central coordinator reads every piece's report and sends back a share hub_catch
    # of the wrong ones it recognises (Kim et al. 2025: orchestrators validate before aggregating)
    verify = (hub_catch[:, None] * prod.hub_detection)[src]
    rework = rework + e_review * verify
    e_review = e_review * (1.0 - verify * p_step)
    # peers who read a piece critique it; where a coordinator sits in the middle it verifies instead (above)
    # (a hybrid's members read each other's pieces directly, around the hub: they critique them too)
    readers = topology.readers_per_piece(
        b.kind, views.n_agents, params.communication.pubsub_subscribers, views.n_coordinators
    )
    hybrid = b.is_kind("hybrid")
    hub_between = views.hub_kind & ~hybrid
    critics = np.where(hub_between | (pp.peer_refinement <= 0), 0.0, readers)
    refine = -np.expm1(critics * np.log1p(-min(pp.peer_refinement * prod.informed, 1 - 1e-12)))[src, None]
    rework = rework + e_review * refine
    e_review = e_review * (1.0 - refine * p_step)
    e_review_mix = mixed(e_review)
    losses["review"] = _step_loss(p_item_mix, 1.0 - e_review_mix)

    # hand-offs of dependent work between agents: misalignment (caught by a checking hub, peers or
    # reviewers), and on sequential work the state the hand-off summary misses, which the receiver must
    # re-derive with its own success p_step (nobody downstream has that state either)
    depth = wl.dependency_depth
    spread_over = np.maximum(np.minimum(views.n_producers, wl.subtasks), 1.0)
    handoff_share = np.where(views.split, 1.0 - 1.0 / spread_over, 0.0)
    handoff_share = np.where(views.pipeline_kind, (views.n_producers > 1).astype(float), handoff_share)
    architect = 1.0 - pp.architect_relief * views.has_architect
    pieces = np.where(views.split, np.minimum(np.minimum(views.n_producers, wl.subtasks), pp.max_merge_pieces), 1.0)
    heard_share = pp.peer_catch * clip(views.heard / np.maximum(pieces - 1.0, 1.0), 0.0, 1.0)
    peers = heard_share * ~views.hub_kind
    central = 1.0 - (1.0 - hub_catch) * (1.0 - peers)
    # a hybrid's members hand dependent work to each other directly: the hub never sees the hand-off, only
    # the peers who hear it can catch a misalignment (the hub still verifies and merges the pieces)
    at_handoff = np.where(hybrid, heard_share, central)
    caught = 1.0 - (1.0 - at_handoff[:, None]) * (1.0 - prod.detection * prod.has_review[:, None])
    # the first dependency level receives no hand-off; every later level does for handoff_share of its pieces
    handed = handoff_share[:, None]
    h = (pp.handoff_error * handed * architect[:, None] * (1.0 - caught))[src]
    state_loss = handed[src] * (1.0 - prod.informed) * (1.0 - p_step)
    e_dep = 1.0 - (1.0 - e_review) * (1.0 - h) * (1.0 - state_loss)

    # review at a later level also exposes an error inherited from upstream (its checks fail); an
    # outside checker traces it back only for the state it was handed
    inherited = review.inherited_catch(
        prod.informed_detection[src] * p_step, review_rounds, params.review.repeat_detection
    )
    inherited = inherited * np.where(views.n_checkers > 0, prod.informed, 1.0)[src, None]
    # levels chain as r_j = (1 - e)(1 - c) r_(j-1) + (1 - e) c (propagation.dependent_quality), each level with
    # a plan of its own: that recurrence is linear in 1 - e and (1 - e) c, so the plan outcomes mix there, and
    # the chain of the mixed e and c = mixed((1 - e) c) / (1 - e) is their mixture, exactly
    e_dep = clip(e_dep, 0.0, 1.0)
    stay = 1.0 - mixed(e_dep)
    recovered = mixed((1.0 - e_dep) * clip(inherited, 0.0, 1.0))
    e_level = clip(1.0 - stay, 0.0, 1.0)
    c_level = np.where(stay > 0.0, recovered / np.maximum(stay, 1e-300), 0.0)
    e_step_mix = (e_review_mix + (depth - 1) * e_level) / depth  # per-level mean, for the loss breakdown
    losses["handoff"] = _step_loss(1.0 - e_review_mix, 1.0 - e_step_mix)
    q_task = propagation.dependent_quality(e_level, depth, c_level, first_error=clip(e_review_mix, 0.0, 1.0))
    losses["propagation"] = _step_loss(1.0 - e_step_mix, q_task)

    rework = mixed(rework) + mixed(inherited) * clip(1.0 - e_step_mix - q_task, 0.0, 1.0)
    merge_caught = 1.0 - (1.0 - central) * (1.0 - pp.integrator_catch * (views.n_mergers > 0))
    e_merge = propagation.merge_error(pieces, pp.merge_conflict * architect, merge_caught)
    q_merged = q_task * (1.0 - e_merge[:, None])
    losses["merge"] = _step_loss(q_task, q_merged)

    q_hub = q_merged * (1.0 - fp.hub_state_loss * hub_lost[:, :, None])
    if hub_lost_fv is not None:
        q_hub[:, fv] = q_merged[:, fv] * (1.0 - fp.hub_state_loss * hub_lost_fv)
    losses["faults"] = fault_step + _step_loss(q_merged, q_hub)
    q_final = q_hub * (1.0 - params.stampede.collision_error * collisions[:, None])
    losses["stampede"] = _step_loss(q_hub, q_final)
    quality = clip(row_mean(q_final), 0.0, 1.0)
    rework = row_mean(rework)
    return tuple(
        QualityOutcome(
            quality=quality[s],
            attempts=attempts[s],
            attempt_law=attempt_laws[s],
            rework=rework[s],
            critiques=critics,
            hub_lost=hub_lost[s],
            losses={name: loss if loss.ndim == 1 else loss[s] for name, loss in losses.items()},
        )
        for s in range(n_set)
    )
