"""The agent-level mode checks the fast mode: the two agree within stated tolerances.

The agent mode derives every quantity from events (drawn attempts and
votes, call failures, hub messages, coordination rounds, an explicit
wiring), never from the fast mode's formulas, so agreement here is a test
of those formulas. Tolerances (fast vs agent, same seed): quality and
robustness within 0.05 absolute (plurality votes within 0.03); cost,
tokens, model calls and messages within 15 %; latency within 25 % (the fast mode replaces the event
schedule by Amdahl x USL and a closed-loop Erlang C wait). Messages count
exactly in both modes except for batching effects.
"""

from __future__ import annotations

import numpy as np
import pytest
from sim_helpers import bundled, evaluate, make_scenario

from swarmdesign.design import Design
from swarmdesign.errors import SwarmdesignError
from swarmdesign.sim import SimulatedEvaluator, fidelity
from swarmdesign.sim.testing import make_design

M = "gpt-4o-mini"
G4 = "gpt-4o"
H = "claude-3-5-haiku"
L = "llama-3.1-8b"
DESIGNS = [
    make_design([("coder", 1, "gpt-4o")], "single", name="single"),
    make_design([("coder", 10, M)], "independent", redundancy=5, heterogeneity=0.5, name="independent"),
    make_design([("coder", 6, M)], "chain", review_rounds=1, name="chain"),
    make_design([("worker", 20, M), ("coder", 10, M)], "ring", routing="routed", name="ring"),
    make_design([("planner", 1, M), ("coder", 8, M), ("reviewer", 2, M)], "star", name="star"),
    make_design([("orchestrator", 1, M), ("coder", 60, M)], "star", name="star-saturated"),
    make_design(
        [("planner", 2, M), ("coder", 30, M), ("tester", 4, M), ("integrator", 1, M)],
        "hierarchical",
        branching=8,
        redundancy=3,
        name="hierarchical",
    ),
    make_design([("coder", 12, M), ("reviewer", 3, M)], "mesh", redundancy=3, aggregation="judge", name="mesh"),
    make_design(
        [("coder", 40, M), ("reviewer", 5, M)],
        "pubsub",
        brokers=2,
        aggregation="first_valid",
        redundancy=3,
        name="pubsub",
    ),
    make_design([("orchestrator", 4, M), ("coder", 40, "claude-3-5-haiku")], "federated", clusters=4, name="federated"),
    make_design([("planner", 1, M), ("coder", 8, M), ("reviewer", 2, M)], "hybrid", name="hybrid"),
    make_design([("orchestrator", 1, M), ("coder", 30, M)], "hybrid", routing="routed", name="hybrid-large"),
]


@pytest.fixture(scope="module")
def both() -> tuple:
    scenario = bundled("software_project")
    fast = evaluate(DESIGNS, scenario, seed=3)
    agent = evaluate(DESIGNS, scenario, seed=3, mode="agent")
    return fast, agent


@pytest.mark.parametrize("index", range(len(DESIGNS)), ids=[d.name for d in DESIGNS])
def test_fast_and_agent_modes_agree(both: tuple, index: int) -> None:
    fast, agent = (df.iloc[index] for df in both)
    assert abs(fast["quality"] - agent["quality"]) <= 0.05
    assert abs(fast["robustness"] - agent["robustness"]) <= 0.05
    assert fast["cost"] == pytest.approx(agent["cost"], rel=0.15)
    assert fast["tokens"] == pytest.approx(agent["tokens"], rel=0.15)
    assert fast["llm_calls"] == pytest.approx(agent["llm_calls"], rel=0.15)
    assert fast["messages"] == pytest.approx(agent["messages"], rel=0.15)
    assert fast["latency"] == pytest.approx(agent["latency"], rel=0.25)
    assert fast["channels"] == pytest.approx(agent["channels"])
    # diagnostics: offered hub load per server, measured on the run against Erlang C's input
    assert fast["hub_utilisation"] == pytest.approx(agent["hub_utilisation"], rel=0.15, abs=0.01)


def test_modes_agree_on_the_stampede_and_routing() -> None:
    scenario = bundled("ticket_rush")
    designs = [
        make_design([("worker", 300, M)], "mesh", routing="routed", heterogeneity=h, name=f"h{h}") for h in (0.0, 1.0)
    ]
    fast = evaluate(designs, scenario)
    agent = evaluate(designs, scenario, mode="agent")
    assert np.allclose(fast["collision_share"], agent["collision_share"], atol=0.05)
    routing = make_scenario(simulator={"skill": {"task_mix": {"coder": 0.7, "researcher": 0.3}}})
    mix = [
        make_design([("coder", 90, M), ("researcher", 10, M)], "independent", routing=r)
        for r in ("broadcast", "routed")
    ]
    fast, agent = evaluate(mix, routing), evaluate(mix, routing, mode="agent")
    assert np.allclose(fast["routing_accuracy"], agent["routing_accuracy"], atol=0.05)
    assert np.allclose(fast["messages_per_task"], agent["messages_per_task"], rtol=0.01)


def test_modes_agree_on_a_few_voting_groups_picking_tasks() -> None:
    """Seven groups of six voters pick among 300 tasks: collisions, lost picks, calls and latency agree.

    The agent mode's stampede is a sample of picks; with a few contenders its 16 rounds left the share
    about 0.08 off, and the redone work grows as ``c / (1 - c)`` (1.5x here, latency 0.74x). The fast mode
    counted a lost pick per voter, the agent mode one per item (the group picks together): 4x apart.
    """
    scenario = bundled("software_project")
    design = make_design([("coder", 45, "llama-3.1-8b")], "independent", redundancy=6)
    fast = evaluate([design], scenario, seed=3).iloc[0]
    agent = evaluate([design], scenario, seed=3, mode="agent").iloc[0]
    assert fast["collision_share"] == pytest.approx(agent["collision_share"], abs=0.03)
    assert fast["stampede_collisions"] == pytest.approx(agent["stampede_collisions"], rel=0.15)
    assert fast["llm_calls"] == pytest.approx(agent["llm_calls"], rel=0.05)
    assert fast["latency"] == pytest.approx(agent["latency"], rel=0.15)


@pytest.mark.parametrize(("span", "leads", "coders", "reviewers"), [(2, 4, 8, 3000), (3, 3, 9, 2000)])
def test_modes_agree_on_a_hierarchy_whose_leaf_hubs_are_busy(
    span: int, leads: int, coders: int, reviewers: int
) -> None:
    """Team leads re-reading thousands of members' status: the leaf hubs are busy, the tree above them is not.

    A lead's summaries go up to the lead of leads, a queue of its own that tracks a few leads: they do not
    load the leaf queues workers wait at. The fast mode served them there (``b / (b - 1)`` messages per step,
    twice the reports at span 2), and charged a hand-off the tree's longest path (twice its depth) instead of
    the mean: 1.5-2.0x the event schedule's latency. The event schedule's offered load counted the summaries
    at the leaves too (2.2 against 1.2 measured at span 2).
    """
    scenario = bundled("software_project")
    llama = "llama-3.1-8b"
    design = make_design(
        [("planner", leads, llama), ("coder", coders, llama), ("reviewer", reviewers, llama)],
        "hierarchical",
        branching=span,
        review_rounds=1,
    )
    fast = evaluate([design], scenario, seed=3).iloc[0]
    agent = evaluate([design], scenario, seed=3, mode="agent").iloc[0]
    assert fast["loss_latency_hub_queue"] > 0.25 * fast["latency"]  # the leaf hubs matter here
    assert fast["latency"] == pytest.approx(agent["latency"], rel=0.1)
    assert fast["hub_utilisation"] == pytest.approx(agent["hub_utilisation"], rel=0.1)


def test_modes_agree_that_a_promoted_team_lead_manages_instead_of_producing() -> None:
    """Eight coders in pairs under one planner: three pairs have no coordinator and promote a coder to lead.

    A promoted lead manages its block instead of producing, so every piece is a worker's and reports to a
    hub. The event schedule still handed the leads a share of the items, run without a hub trip, and the
    fast mode's latency counted them out of the workers while its cost counted 5/8 of the pieces' hub
    calls; a hierarchy's summaries climb a tree of a few tiers, not the infinite series ``b / (b - 1)``.
    The leads' coordination cost was 0.72x the event schedule's; the team of 9 coders under one planner
    whose leads re-read 1,048 reviewers' status ran 1.15x its latency.
    """
    scenario = bundled("software_project")
    llama = "llama-3.1-8b"
    design = make_design(
        [("planner", 1, G4), ("coder", 8, llama), ("reviewer", 1500, llama)],
        "hierarchical",
        branching=2,
        review_rounds=1,
    )
    fast = evaluate([design], scenario, seed=3).iloc[0]
    agent = evaluate([design], scenario, seed=3, mode="agent").iloc[0]
    assert fast["loss_cost_coordination"] == pytest.approx(agent["loss_cost_coordination"], rel=0.03)
    assert fast["cost"] == pytest.approx(agent["cost"], rel=0.03)
    assert fast["latency"] == pytest.approx(agent["latency"], rel=0.15)


def test_modes_agree_on_a_star_whose_few_coders_keep_its_planners_busy() -> None:
    """Four coders report to two planners who re-read 1,800 members' status (8 s a message).

    A waiting coder sends nothing more, so the planners' queue holds at most the other three coders'
    messages: the machine-repairman queue, not Erlang C's endless stream of arrivals, which put the
    coders' wait at 2.3x and the run at 1.21x the event schedule's.
    """
    scenario = bundled("ticket_rush")
    haiku = "claude-3-5-haiku"
    design = make_design(
        [("planner", 2, G4), ("coder", 4, M), ("reviewer", 1450, haiku), ("tester", 373, haiku), ("integrator", 6, G4)],
        "star",
        redundancy=5,
        aggregation="first_valid",
        review_rounds=1,
    )
    fast = evaluate([design], scenario, seed=3).iloc[0]
    agent = evaluate([design], scenario, seed=3, mode="agent").iloc[0]
    assert fast["loss_latency_hub_queue"] > 0.5 * fast["latency"]  # the planners' queue decides the run
    assert fast["latency"] == pytest.approx(agent["latency"], rel=0.1)


VOTERS = (1, 2, 3, 5, 15, 40)


@pytest.mark.parametrize("concentration", [1.0, 0.5])
def test_modes_agree_on_plurality_votes_within_three_points(concentration: float) -> None:
    """Same-model voters (up to 40), with and without prompt diversity, and two models voting together."""
    scenario = make_scenario(simulator={"voting": {"wrong_answer_concentration": concentration}})
    designs = [
        make_design([("coder", 40, "m0")], "independent", redundancy=k, heterogeneity=h, name=f"k{k}-h{h}")
        for k in VOTERS
        for h in (0.0, 1.0)
    ]
    designs += [
        make_design([("coder", 20, "m0"), ("solver", 20, "weak")], "independent", redundancy=k, name=f"mixed-k{k}")
        for k in (3, 15)
    ]
    fast = evaluate(designs, scenario, replicas=512)
    agent = evaluate(designs, scenario, replicas=512, mode="agent")
    gaps = dict(zip([d.name for d in designs], (agent["quality"] - fast["quality"]).abs(), strict=True))
    assert max(gaps.values()) <= 0.03, gaps


KIM_CASES = {
    "parallel": {"skill": -0.55, "parallel_fraction": 0.95, "subtasks": 4, "depth": 2, "difficulty": 0.55},
    "strong-model": {"skill": 2.5, "parallel_fraction": 0.95, "subtasks": 8, "depth": 3, "difficulty": 0.35},
    "sequential": {
        "skill": 0.5,
        "parallel_fraction": 0.0,
        "subtasks": 8,
        "depth": 8,
        "difficulty": 0.35,
        "spread": 0.12,
        "input_tokens": 4000,
    },
}


@pytest.mark.parametrize("case", list(KIM_CASES))
def test_modes_agree_on_the_architectures_of_kim_et_al(case: str) -> None:
    """The single / independent / centralized / decentralized / hybrid teams of the literature shapes."""
    scenario = fidelity.scenario(**KIM_CASES[case])
    names = ("single", *fidelity.KIM_MAS)
    designs = [fidelity.kim_team(a, n=8 if case == "strong-model" else 4) for a in names]
    fast = evaluate(designs, scenario, seed=11, replicas=128)
    agent = evaluate(designs, scenario, seed=11, replicas=128, mode="agent")
    gaps = dict(zip(names, (agent["quality"] - fast["quality"]).abs().round(3), strict=True))
    assert max(gaps.values()) <= 0.05, gaps
    assert np.allclose(agent["tokens"], fast["tokens"], rtol=0.15)


@pytest.mark.parametrize("rounds", [1, 3])
def test_modes_agree_on_the_orchestration_transcript(rounds: int) -> None:
    """Messages and tokens of the orchestrator's rounds: the agent mode plays them round by round."""
    sim = {"decomposition": {"orchestration_rounds": rounds}}
    scenario = fidelity.scenario(subtasks=8, simulator=sim)
    designs = [fidelity.kim_team(a, n=8) for a in ("centralized", "hybrid")]
    designs.append(make_design([("orchestrator", 3, M), ("worker", 12, M)], "federated", clusters=3, routing="routed"))
    fast = evaluate(designs, scenario, seed=11, replicas=64)
    agent = evaluate(designs, scenario, seed=11, replicas=64, mode="agent")
    assert np.allclose(fast["messages_per_task"], agent["messages_per_task"], rtol=0.01)
    assert np.allclose(fast["tokens"], agent["tokens"], rtol=0.15)


def test_modes_agree_on_macnet_collaboration_curves() -> None:
    """Teams refining one artefact: peer critique on a mesh, a reading centre, a chain (Qian et al. 2024)."""
    scenario = fidelity.scenario(skill=0.0, parallel_fraction=0.0, subtasks=1, depth=1, difficulty=0.5)
    designs = [make_design([("worker", 1, "m")], "single")]
    for n in (4, 16, 64):
        designs.append(make_design([("worker", n, "m")], "mesh", routing="routed"))
        designs.append(make_design([("orchestrator", 1, "m"), ("worker", n - 1, "m")], "star", routing="routed"))
        designs.append(make_design([("worker", n, "m")], "chain", routing="routed"))
    fast = evaluate(designs, scenario, seed=11, replicas=128)
    agent = evaluate(designs, scenario, seed=11, replicas=128, mode="agent")
    assert np.abs(agent["quality"] - fast["quality"]).max() <= 0.03
    # the shape itself in the agent mode: the mesh gains with size, more than star and chain
    mesh = agent["quality"].iloc[1::3].to_numpy()
    assert mesh[-1] - agent["quality"].iloc[0] > 0.1 and np.all(np.diff(mesh) > 0)
    assert mesh[-1] > agent["quality"].iloc[-2] > agent["quality"].iloc[-1] - 0.01


@pytest.mark.parametrize("parallel_fraction", [0.9, 1.0])
def test_modes_agree_on_merges_after_the_last_level(parallel_fraction: float) -> None:
    """A task's merge waits for its last level; ready work is taken first come, so all tasks finish late.

    Fifteen coders voting in threes with two integrators on 300 tasks of four levels: the integrators can
    only merge in the last level's share of the run. The fast mode's pipeline alone (merges spread over the
    whole run) made the run 15-20 % shorter than the event schedule; both coders-only and one-level work
    agreed within 3 %.
    """
    scenario = bundled("software_project").model_copy(deep=True)
    scenario.workload.parallel_fraction = parallel_fraction
    designs = [
        make_design([("coder", 15, G4), ("integrator", 2, G4)], "independent", redundancy=3, routing="routed"),
        make_design([("coder", 15, G4)], "independent", redundancy=3, routing="routed"),  # the control
    ]
    fast = evaluate(designs, scenario, seed=5)
    agent = evaluate(designs, scenario, seed=5, mode="agent")
    assert np.allclose(fast["latency"], agent["latency"], rtol=0.08), (fast["latency"], agent["latency"])


@pytest.mark.parametrize("coders", [3000, 4000])
def test_modes_agree_when_the_team_dwarfs_its_work(coders: int) -> None:
    """Coordination slows every step of a task's chain, not only the throughput of the parallel phase.

    A hybrid of thousands of coders on 1,800 items: each step pays a USL coordination round of all groups
    and the coherent peers, so a task's four levels follow one another at the slowed pace while most
    coders wait. The fast mode's chain without that slowdown left the run bound by the hub alone, flat in
    the team's size (0.72x and 0.47x the event schedule at 3,000 and 4,000 coders).
    """
    scenario = bundled("software_project")
    design = make_design([("orchestrator", 1, M), ("coder", coders, M)], "hybrid")
    fast = evaluate([design], scenario, seed=3)["latency"].iloc[0]
    agent = evaluate([design], scenario, seed=3, mode="agent")["latency"].iloc[0]
    assert fast == pytest.approx(agent, rel=0.25)


@pytest.mark.parametrize("clusters", [32, 70])
def test_modes_agree_on_a_federation_of_many_clusters(clusters: int) -> None:
    """A worker waits for its own report and dispatch, not for its hub's summaries to the other hubs.

    Eight planners and 45 coders in up to 53 clusters: every step's summary goes to every other hub. The
    summaries load the hubs, but the fast mode also put their service on the worker's own path, which made
    the run 1.6x and 2.9x the event schedule at 32 and 70 clusters (and about right at 1 to 8).
    """
    scenario = bundled("software_project")
    design = make_design([("planner", 8, M), ("coder", 45, "llama-3.1-8b")], "federated", clusters=clusters)
    fast = evaluate([design], scenario, seed=3)["latency"].iloc[0]
    agent = evaluate([design], scenario, seed=3, mode="agent")["latency"].iloc[0]
    assert fast == pytest.approx(agent, rel=0.15)


@pytest.mark.parametrize("clusters", [32, 70])
def test_modes_agree_on_the_hub_wait_of_a_federation_of_many_clusters(clusters: int) -> None:
    """The hubs' summaries to each other queue at the hubs they reach, and each message waits only for work
    that really holds a server when it arrives.

    Before, the event schedule left the summaries out of its hub queues (wait 0.4 s at 70 clusters against
    the fast mode's 2.7 s), and serving them in its first-free-server pools, which book in the order items
    are processed, made reports wait behind summaries sent later: 16.8 s at a hub busy 16 % of the run.
    """
    scenario = bundled("software_project")
    design = make_design([("planner", 8, M), ("coder", 45, "llama-3.1-8b")], "federated", clusters=clusters)
    fast = evaluate([design], scenario, seed=3)["hub_wait_s"].iloc[0]
    agent = evaluate([design], scenario, seed=3, mode="agent")["hub_wait_s"].iloc[0]
    assert fast > 0.5 and 1 / 1.5 <= agent / fast <= 1.5, (fast, agent)


@pytest.mark.parametrize(("fitness", "clusters"), [("ticket_rush", 70), ("parallel_batch", 70), ("parallel_batch", 32)])
def test_modes_agree_on_a_federation_whose_voters_report_together(fitness: str, clusters: int) -> None:
    """Six candidates per item report at once, and every peer hub receives their summaries at once.

    Batches queue longer than single arrivals at the same load (the bulk-input queue). The fast mode took
    them one by one, so its hub wait was 0.2-0.6 s against the events' 1.1-1.5 s, and the run was
    0.83-0.88x the event schedule (now 0.97-1.00x).
    """
    scenario = bundled(fitness)
    design = make_design(
        [("planner", 8, M), ("coder", 45, "llama-3.1-8b")],
        "federated",
        clusters=clusters,
        redundancy=6,
        aggregation="judge",
    )
    fast = evaluate([design], scenario, seed=3)
    agent = evaluate([design], scenario, seed=3, mode="agent")
    assert fast["latency"].iloc[0] == pytest.approx(agent["latency"].iloc[0], rel=0.1)
    assert 1 / 1.5 <= agent["hub_wait_s"].iloc[0] / fast["hub_wait_s"].iloc[0] <= 1.5


@pytest.mark.parametrize("redundancy", [8, 4])
def test_an_independent_team_s_orchestrator_does_not_judge_its_attempts(redundancy: int) -> None:
    """Independent agents have no channels: an orchestrator among them neither plans nor reads their attempts.

    Two weak solvers judging their own candidates on ``math_qa``, with a strong orchestrator beside them. The
    event schedule let the producers judge (no checker, no planner reaches them), the fast mode the
    orchestrator: 0.71 and 0.66 against the events' 0.52, and the orchestrator added 0.17 and 0.13 of
    quality that an independent team cannot get from it.
    """
    scenario = bundled("math_qa")
    solvers = ("solver", 2, "llama-3.1-8b")
    common = {"redundancy": redundancy, "aggregation": "judge", "review_rounds": 2, "heterogeneity": 0.63}
    with_lead = make_design([("orchestrator", 1, G4), solvers], "independent", **common)
    alone = make_design([solvers], "independent", **common)
    fast = evaluate([with_lead, alone], scenario, seed=3)["quality"]
    agent = evaluate([with_lead], scenario, seed=3, mode="agent")["quality"].iloc[0]
    assert fast.iloc[0] == pytest.approx(fast.iloc[1], abs=1e-9)
    assert fast.iloc[0] == pytest.approx(agent, abs=0.03)


def test_modes_agree_that_coordination_slows_calls_not_their_checks() -> None:
    """Coordination slows the production calls, not the review-sized check of each first-valid attempt.

    4,800 coders voting first-valid in pairs on ``ticket_rush``: every step pays a coordination round of
    4,800 groups (about 25x). The fast mode slowed the checks too, which the event schedule (like review
    rounds in both modes) does not: 1.35x the event schedule.
    """
    scenario = bundled("ticket_rush")
    design = make_design(
        [("coder", 4800, "claude-3-5-haiku")],
        "independent",
        redundancy=2,
        aggregation="first_valid",
        heterogeneity=0.28,
        routing="routed",
    )
    fast = evaluate([design], scenario, seed=5)["latency"].iloc[0]
    agent = evaluate([design], scenario, seed=5, mode="agent")["latency"].iloc[0]
    assert fast == pytest.approx(agent, rel=0.15)


@pytest.mark.parametrize("coders", [1000, 2335])
def test_modes_agree_on_the_longest_chain_of_first_valid_levels(coders: int) -> None:
    """A team far larger than its work waits for its longest task: each level for its slowest attempts.

    A mesh of thousands validating first-valid attempts (up to 5) on ``software_project``'s four levels: every
    item has a worker, so the run is the longest of 300 tasks, each a sum of per-level maxima of correlated
    attempts (a hard question is failed again and again). The fast mode charged the levels at the mean
    plus one item's tail, with attempts drawn independently: 0.77x and 0.63x the event schedule (now 1.06x
    and 0.96x).
    """
    fast, agent = _first_valid_mesh_latency("software_project", 3, coders, reviewers=10, testers=140)
    assert fast == pytest.approx(agent, rel=0.15)


@pytest.mark.parametrize(("planners", "coders"), [(3, 2335), (3, 1200), (1, 1000)])
def test_modes_agree_on_first_valid_tasks_a_planner_releases_over_the_run(planners: int, coders: int) -> None:
    """The last tasks a planner releases still make their slowest attempts: the run ends past the last release.

    A mesh validating first-valid attempts (up to 5) on ``parallel_batch``: the planners release 3,000 tasks
    over 10,000-30,000 s, and every attempt is slowed to hours by coordination. The fast mode took the
    longest task's chain from time 0, as if every task started together: 0.81x, 0.75x and 0.90x the event
    schedule (now 1.00x, 0.99x and 0.99x).
    """
    fast, agent = _first_valid_mesh_latency("parallel_batch", planners, coders, reviewers=23, testers=326)
    assert fast == pytest.approx(agent, rel=0.05)


def _first_valid_mesh_latency(
    fitness: str, planners: int, coders: int, *, reviewers: int, testers: int
) -> tuple[float, float]:
    """Latency in both modes of a mesh validating first-valid attempts (up to 5), planners to testers."""
    roles = [("planner", planners, M), ("architect", 7, H), ("coder", coders, M), ("reviewer", reviewers, M)]
    design = make_design(
        [*roles, ("tester", testers, H)],
        "mesh",
        redundancy=5,
        aggregation="first_valid",
        heterogeneity=0.8,
    )
    scenario = bundled(fitness)
    fast = evaluate([design], scenario, seed=3)["latency"].iloc[0]
    return fast, evaluate([design], scenario, seed=3, mode="agent")["latency"].iloc[0]


def test_the_event_schedule_meets_first_valid_s_rare_last_attempts() -> None:
    """Every scheduled item draws a sampled step of its own, so a rare straggler is met as often as it happens.

    2,000 coders validating first-valid attempts (up to 5) on ``parallel_batch``'s 3,000 one-step tasks: one
    item in about 5,000 needs a fourth attempt, hours long, and the run waits for it when it comes. The event
    schedule resampled its items from 1,024 sampled tasks, which rarely held one (and, drawing with
    replacement, repeated some steps and left others out): over six seeds the fast mode's expected run was
    0.91x theirs (now 1.02x; 1.10x with the planner's release counted but the old resampling).
    """
    scenario = bundled("parallel_batch")
    design = _routed_first_valid([("planner", 1, L), ("coder", 2000, H), ("integrator", 9, L)], "mesh", 5, 0.55)
    fast = evaluate([design], scenario, seed=3)["latency"].iloc[0]
    agent = np.mean([evaluate([design], scenario, seed=s, mode="agent")["latency"].iloc[0] for s in range(3, 9)])
    assert fast == pytest.approx(agent, rel=0.06)


@pytest.mark.parametrize("coders", [469, 94])
def test_the_event_schedule_runs_the_serial_share_the_workload_has(coders: int) -> None:
    """``parallel_batch``'s 3,000 items at parallel fraction 0.99 have 30 serial items, every seed.

    Independent coders validating first-valid attempts (up to 6): each serial item runs alone, after the
    parallel phase, so every one of them lengthens the run. The event schedule drew each item serial on its
    own, so the count was binomial (24-36 around the 30 the fast mode counts), and the fast mode's run was
    0.86-1.20x the event schedule's from seed to seed (now 1.00-1.05x).
    """
    scenario = bundled("parallel_batch")
    roles = [("architect", 4, M), ("coder", coders, L), ("reviewer", 1, L)]
    design = _routed_first_valid(roles, "independent", 6, 0.4)
    fast = evaluate([design], scenario, seed=3)["latency"].iloc[0]
    for seed in (3, 4, 5, 6):
        agent = evaluate([design], scenario, seed=seed, mode="agent")["latency"].iloc[0]
        assert fast == pytest.approx(agent, rel=0.07), seed


def _routed_first_valid(roles: list[tuple[str, int, str]], kind: str, redundancy: int, heterogeneity: float) -> Design:
    """Routed work validated first-valid (up to ``redundancy`` attempts) after one review round."""
    return make_design(
        roles,
        kind,
        redundancy=redundancy,
        aggregation="first_valid",
        review_rounds=1,
        heterogeneity=heterogeneity,
        routing="routed",
    )


@pytest.mark.parametrize(("redundancy", "aggregation"), [(1, "majority_vote"), (5, "first_valid")])
def test_modes_agree_on_a_saturated_hub_that_drains_after_the_first_reports(redundancy: int, aggregation: str) -> None:
    """A saturated hub's backlog starts with the first reports, and it absorbs the stragglers' retries.

    One planner for 3,000 coders on ``parallel_batch``: every item has a worker, each attempt is slowed to
    hours by coordination, and the hub then serves 3,000 reports. The fast mode ended the run with the hub's
    work alone (0.87x the event schedule; now 0.98x), and for first-valid attempts (up to 5) added the slowest
    item's extra attempts on top of the backlog, which the hub works through while they retry (1.10x; now
    0.98x).
    """
    scenario = bundled("parallel_batch")
    design = make_design(
        [("planner", 1, "llama-3.1-8b"), ("coder", 3000, M)], "hybrid", redundancy=redundancy, aggregation=aggregation
    )
    fast = evaluate([design], scenario, seed=3)["latency"].iloc[0]
    agent = evaluate([design], scenario, seed=3, mode="agent")["latency"].iloc[0]
    assert fast == pytest.approx(agent, rel=0.08)


def test_agent_mode_refuses_population_scale_designs() -> None:
    huge = make_design([("worker", 200_000, M)], "independent")
    with pytest.raises(SwarmdesignError, match="agent mode"):
        SimulatedEvaluator(mode="agent").evaluate([huge], bundled("math_qa"), seed=0)
