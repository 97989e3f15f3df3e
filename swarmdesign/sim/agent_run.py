"""Agent mode, the entry: build the agents, draw stampede rounds, sample quality, run the schedule.

:func:`simulate_agents` wires the population (:mod:`agent_graph`), lets
contenders pick subtasks and scarce resources round after round (the
stampede), samples tasks through attempts, votes, reviews and hand-offs
twice with the same random numbers, with and without faults
(:mod:`agent_quality`), and runs the workload through the discrete-event
schedule (:mod:`agent_schedule`).

Every metric column is finite: the diagnostics are measured on the events
(hub waits, lost picks, speed-up, the outcome correlation of two attempts),
the ``loss_cost_*`` columns come from the schedule's call ledger, and the
``loss_quality_*`` and ``loss_latency_*`` columns are 0, because the agent
mode does not attribute quality or time to mechanisms (it checks totals).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from swarmdesign.archetypes import HUB_KINDS
from swarmdesign.sim.agent import Dispatcher, Population
from swarmdesign.sim.agent_graph import build_wiring
from swarmdesign.sim.agent_quality import FaultSetting, simulate_quality
from swarmdesign.sim.agent_schedule import EventRun
from swarmdesign.sim.batch import AGG_INDEX
from swarmdesign.sim.metrics import METRICS
from swarmdesign.sim.params import SimParams

if TYPE_CHECKING:
    from swarmdesign.design import Design
    from swarmdesign.fitness import Scenario


def stampede_rounds(
    rng: np.random.Generator, contenders: int, options: int, herding: float, organised: float, picks: int = 4096
) -> float:
    """Share of contenders whose pick collides, by letting agents pick options round after round.

    Organised agents take distinct options while any are left and then wait;
    herded agents go for the focal option with probability ``herding``.
    At least 16 rounds and about ``picks`` picks in all: the run's redone
    picks grow as ``c / (1 - c)`` in this share, so a few contenders' few
    picks left it too noisy (seven voting groups on 300 tasks: 0.74 in one
    run against 0.66 expected, 1.5x the redone work).
    """
    if contenders <= 1 or options < 1:
        return 0.0
    rounds = max(16, -(-picks // contenders))
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
    hub_kind = kind in HUB_KINDS and pop.coordinators.size > 0
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
    # enough sampled tasks that every scheduled item draws a step of its own: the schedule picks items'
    # steps from this sample, and a first-valid run ends with its rarest straggler, which a smaller sample
    # misses (3,000 one-step tasks resampled from 1,024 rarely saw the 1-in-5,000 fourth attempt)
    n_tasks = max(16 * replicas, 256, -(-items_total // max(wl.dependency_depth, 1)))
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
    # the same tasks without faults (the same random numbers), for robustness; identical when nothing fails
    calm = (
        simulate_quality(
            pop,
            dispatcher,
            wiring,
            scenario,
            params,
            np.random.default_rng([seed, 1]),
            faults=FaultSetting(call=0.0, hub=0.0),
            **common,
        )
        if env.fault_rate > 0
        else sample
    )
    out = EventRun(
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
        relay_rng=np.random.default_rng([seed, 2]),
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
