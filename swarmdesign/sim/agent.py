"""Agent mode: simulate individual agents, their picks and their messages.

The fast mode reasons per role with closed forms; this mode instantiates
every agent (arrays of length ``n``), wires an explicit graph for the
topology (the mesh is kept implicit: every agent neighbours every other),
samples individual tasks, dispatches each attempt to a concrete agent,
draws correlated successes, votes, reviews, hand-offs, merges, hub failures
and stampede rounds one by one, and runs the workload through a
discrete-event simulation of worker groups, hub queues and checker pools
(:mod:`swarmdesign.sim.agent_time`). It shares the mechanism parameters but
none of the fast mode's formulas for the quantities it checks, which is
what makes the comparison between the two modes a test of the fast one.

It is meant for designs up to about 10^4 agents.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import expit

from swarmdesign.archetypes import TOPOLOGY_KINDS
from swarmdesign.errors import SwarmdesignError
from swarmdesign.sim.batch import AGG_INDEX, ARCH_INDEX, CHECK, COORD_ARCH, MERGE, PRODUCE, DesignBatch
from swarmdesign.sim.params import SimParams

if TYPE_CHECKING:
    from swarmdesign.design import Design
    from swarmdesign.fitness import Scenario

MAX_AGENTS = 100_000


@dataclass(frozen=True)
class Population:
    """One design's agents; arrays of shape ``(n,)`` unless stated."""

    batch: DesignBatch
    arch: np.ndarray  # archetype index
    model: np.ndarray  # model index
    skill: np.ndarray  # logits
    seconds: np.ndarray
    usd_in: np.ndarray
    usd_out: np.ndarray
    producers: np.ndarray  # agent indices doing production work
    coordinators: np.ndarray
    planners: np.ndarray  # coordinators that can hand out plans (none without channels)
    checker_roles: list[np.ndarray]  # per checker role wired to producers, its agents
    mergers: np.ndarray
    judges: np.ndarray

    @property
    def n(self) -> int:
        return int(self.arch.size)

    @classmethod
    def build(cls, design: Design, scenario: Scenario) -> Population:
        if design.total_agents > MAX_AGENTS:
            raise SwarmdesignError(
                f"agent mode simulates every agent and supports at most {MAX_AGENTS} agents; "
                f"design '{design.name}' has {design.total_agents} (use mode 'fast')",
                field="evaluator.mode",
            )
        b = DesignBatch.pack([design], scenario)
        counts = b.count[0].astype(np.int64)
        role = np.repeat(np.arange(counts.size), counts)
        arch = b.arch[0][role]
        model = b.model[0][role]
        stage = b.stage[0][role]
        m = b.models
        idx = np.arange(role.size)
        is_prod = stage == PRODUCE
        producers = idx[is_prod] if is_prod.any() else idx
        # independent agents have no channels: nobody hands out plans or reviews others' work
        connected = TOPOLOGY_KINDS[int(b.kind[0])] != "independent"
        checker_roles = [
            idx[role == r]
            for r in range(counts.size)
            if connected and counts[r] > 0 and b.stage[0][r] == CHECK and b.checks_on_edge[0][r]
        ]
        return cls(
            batch=b,
            arch=arch,
            model=model,
            skill=m.skill[model],
            seconds=m.seconds[model],
            usd_in=m.usd_in[model],
            usd_out=m.usd_out[model],
            producers=producers,
            coordinators=idx[COORD_ARCH[arch]],
            planners=idx[COORD_ARCH[arch]] if connected else idx[:0],
            checker_roles=checker_roles,
            mergers=idx[stage == MERGE],
            judges=idx[arch == ARCH_INDEX["judge"]],
        )

    def kind(self) -> str:
        return TOPOLOGY_KINDS[int(self.batch.kind[0])]


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


def _bonus(pop: Population, agents: np.ndarray, task_type: np.ndarray, params: SimParams) -> np.ndarray:
    """Logit bonus of ``agents`` working on tasks of archetype index ``task_type`` (same shape)."""
    sp = params.skill
    arch = pop.arch[agents]
    producer_arch = np.isin(arch, [ARCH_INDEX[a] for a in ("coder", "solver", "worker", "researcher", "generalist")])
    return np.where(
        arch == task_type,
        sp.match_bonus,
        np.where(
            arch == ARCH_INDEX["generalist"],
            sp.generalist_bonus,
            np.where(producer_arch, -sp.mismatch_penalty, -sp.non_producer_penalty),
        ),
    )


class Dispatcher:
    """Lands tasks of each type on concrete agents: broadcast claiming or a routed index."""

    def __init__(self, pop: Population, params: SimParams) -> None:
        self.pop = pop
        self.params = params
        prods = pop.producers
        self.types = np.array([ARCH_INDEX[a] for a in params.skill.normalised_mix()])
        self.mix = np.array(list(params.skill.normalised_mix().values()))
        gen = prods[pop.arch[prods] == ARCH_INDEX["generalist"]]
        self.right: list[np.ndarray] = []
        for t in self.types:
            spec = prods[pop.arch[prods] == t]
            self.right.append(spec if spec.size else gen)
        routed = bool(pop.batch.routed[0])
        rp = params.routing
        self.p_direct = rp.routed_accuracy if routed else rp.broadcast_self_selection

    def land(self, rng: np.random.Generator, type_slot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Agents for tasks whose type slot is ``type_slot`` (any shape); also whether each is a right archetype."""
        prods = self.pop.producers
        agent = prods[rng.integers(0, prods.size, size=type_slot.shape)]
        direct = rng.random(type_slot.shape) < self.p_direct
        for slot, right in enumerate(self.right):
            if right.size == 0:
                continue
            sel = direct & (type_slot == slot)
            agent[sel] = right[rng.integers(0, right.size, size=int(sel.sum()))]
        is_right = np.zeros(type_slot.shape, dtype=bool)
        for slot, right in enumerate(self.right):
            sel = type_slot == slot
            is_right[sel] = np.isin(agent[sel], right)
        return agent, is_right


def _correlated_uniforms(
    rng: np.random.Generator, models: np.ndarray, copy_model: float, copy_global: float
) -> np.ndarray:
    """Uniforms for attempts ``(M, k)``: each copies its model's common draw w.p. ``copy_model``.

    A model's common draw copies the task's global draw w.p. ``copy_global``.
    Two attempts of one model then have success correlation ``copy_model^2``,
    of two models ``copy_model^2 copy_global^2``.
    """
    m, k = models.shape
    g = rng.random((m, 1))
    n_models = int(models.max()) + 1
    per_model = np.where(rng.random((m, n_models)) < copy_global, g, rng.random((m, n_models)))
    common = np.take_along_axis(per_model, models, axis=1)
    return np.where(rng.random((m, k)) < copy_model, common, rng.random((m, k)))


def simulate_quality(
    pop: Population,
    dispatcher: Dispatcher,
    heard: np.ndarray,
    scenario: Scenario,
    params: SimParams,
    rng: np.random.Generator,
    *,
    n_tasks: int,
    fault_rate: float,
    hub_fault_rate: float,
    hub_calls_per_task: float,
    hub_replicas: float,
    hub_kind: bool,
    collided: float,
) -> QualitySample:
    """Sample ``n_tasks`` tasks through routing, attempts, aggregation, review, hand-offs and merges."""
    b = pop.batch
    wl = scenario.workload
    sp, vp, rv, pp, fp = params.skill, params.voting, params.review, params.propagation, params.faults
    slope, center = sp.slope, sp.center
    k = int(b.redundancy[0])
    agg = int(b.aggregation[0])
    kind = pop.kind()
    n_prod = pop.producers.size
    planned = pop.planners.size > 0
    split = n_prod > 1 and wl.subtasks > 1 and kind != "single"
    pipeline = kind in ("chain", "ring")
    depth = wl.dependency_depth

    alpha, beta = wl.difficulty.beta_params()
    d = rng.beta(alpha, beta, size=n_tasks)[:, None]
    type_slot = rng.choice(dispatcher.mix.size, size=n_tasks, p=dispatcher.mix)

    # a task's team: its pieces go to min(producers, subtasks) agents (or along the pipeline)
    team_size = min(n_prod, wl.subtasks) if split else 1
    team, right_team = dispatcher.land(rng, np.repeat(type_slot[:, None], max(team_size, 1), axis=1))
    lead_coord = pop.planners[np.argmax(pop.skill[pop.planners])] if planned else -1
    plan_theta = (
        pop.skill[lead_coord]
        + (params.decomposition.planner_bonus if planned and pop.arch[lead_coord] == ARCH_INDEX["planner"] else 0.0)
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
    judge_acc = expit(theta_j - slope * (d - center))

    decor = 1.0 - vp.heterogeneity_decorrelation * float(b.heterogeneity[0])
    copy_model = np.sqrt(vp.correlation_same_model * decor)
    copy_global = (
        np.sqrt(vp.correlation_cross_model / vp.correlation_same_model) if vp.correlation_same_model > 0 else 0.0
    )
    overflow = np.clip(
        1.0
        - params.communication.context_window_tokens
        / (wl.input_tokens_per_step + heard * scenario.environment.message_tokens),
        0.0,
        1.0,
    )
    survive = (1.0 - fault_rate * fp.silent_share) * (
        1.0 - ((1.0 - fp.silent_share) * fault_rate) ** (fp.max_retries + 1)
    )
    arch_relief = 1.0 - pp.architect_relief * bool((pop.arch == ARCH_INDEX["architect"]).any())
    hub_catch = pp.hub_catch if hub_kind else 0.0
    pieces = min(team_size, pp.max_merge_pieces) if split else 1
    if not hub_kind:
        hub_catch = pp.peer_catch * min(float(np.mean(heard[pop.producers])) / max(pieces - 1, 1), 1.0)

    ok_so_far = np.ones(n_tasks, dtype=bool)
    level_ok = np.zeros((n_tasks, depth))
    prev_owner = None
    owners, attempts_rec, rework_rec, faults_rec = [], [], [], []
    right_landed = []
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
        ability = pop.skill[agents] + _bonus(pop, agents, dispatcher.types[type_slot][:, None], params)
        if planned:
            sound = rng.random((n_tasks, 1)) < p_plan
            piece_d = np.where(sound, d - params.decomposition.plan_relief * (1 - fragment), d)
            p = expit(ability - slope * (piece_d - center)) * np.where(
                sound, 1.0, 1.0 - params.decomposition.bad_plan_harm
            )
        else:
            p = expit(ability - slope * (d - center))
        p = p * (1.0 - params.communication.overflow_harm * overflow[agents]) * survive
        u = _correlated_uniforms(rng, pop.model[agents], copy_model, copy_global)
        right = u < p
        n_attempts = np.full(n_tasks, k)
        if k == 1:
            item_right = right[:, 0]
        elif agg == AGG_INDEX["majority_vote"]:
            item_right = _plurality(rng, right, vp.wrong_answer_concentration)
        elif agg == AGG_INDEX["judge"]:
            pick_any = rng.random(n_tasks) < judge_acc[:, 0]
            random_pick = right[np.arange(n_tasks), rng.integers(0, k, size=n_tasks)]
            item_right = np.where(pick_any & right.any(axis=1), True, random_pick)
        else:
            u_check = rng.random((n_tasks, k))
            rejected = np.where(right, u_check < false_alarm, u_check < detect)
            accepted = ~rejected
            first = np.where(accepted.any(axis=1), accepted.argmax(axis=1), k - 1)
            item_right = right[np.arange(n_tasks), first]
            n_attempts = first + 1
        # review rounds: caught errors and false alarms are reworked by the owner
        rework = np.zeros(n_tasks)
        p_owner = p[:, 0]
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
        owners.append(owner)
        attempts_rec.append(n_attempts)
        rework_rec.append(rework)
        # failed calls before a success, by inversion so the draws do not depend on the fault rate
        u_fail = rng.random(n_tasks)
        faults_rec.append(np.floor(np.log(u_fail) / np.log(fault_rate)) if fault_rate > 0 else np.zeros(n_tasks))
    task_q = level_ok.mean(axis=1)

    # merging the team's pieces; the hub may fail; picks may collide
    merge_caught = 1.0 - (1.0 - hub_catch) * (1.0 - pp.integrator_catch * (pop.mergers.size > 0))
    conflicts = rng.random((n_tasks, max(pieces - 1, 0))) < pp.merge_conflict * arch_relief
    uncaught = conflicts & (rng.random((n_tasks, max(pieces - 1, 0))) >= merge_caught)
    task_q = np.where(uncaught.any(axis=1), 0.0, task_q)
    # drawn whatever the fault rate, so runs with and without faults share their random numbers
    p_hub_lost = -np.expm1(hub_calls_per_task * np.log1p(-min(hub_fault_rate**hub_replicas, 1 - 1e-12)))
    task_q = np.where(rng.random(n_tasks) < p_hub_lost, task_q * (1.0 - fp.hub_state_loss), task_q)
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
    )


def _plurality(rng: np.random.Generator, right: np.ndarray, concentration: float) -> np.ndarray:
    """Plurality vote of attempts ``(M, k)``; wrong attempts share one wrong answer w.p. ``concentration``.

    Other wrong answers are all different. Ties are broken uniformly at random.
    """
    m, k = right.shape
    n_right = right.sum(axis=1)
    top_wrong = (~right & (rng.random((m, k)) < concentration)).sum(axis=1)
    singles = k - n_right - top_wrong
    best = np.maximum(n_right, np.maximum(top_wrong, np.where(singles > 0, 1, 0)))
    tied = (n_right == best).astype(float) + (top_wrong == best) + np.where(best == 1, singles, 0)
    return (n_right == best) & (n_right > 0) & (rng.random(m) * tied < 1.0)
