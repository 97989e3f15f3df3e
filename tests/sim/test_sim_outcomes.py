"""Outcome-level behaviour of the fast mode: what a design is charged for and where orchestration pays."""

from __future__ import annotations

import numpy as np
import pytest
from sim_helpers import bundled, evaluate, fast_inputs, make_scenario

from swarmdesign.errors import SwarmdesignError
from swarmdesign.sim import topology
from swarmdesign.sim.batch import KIND_INDEX
from swarmdesign.sim.params import validate_simulator_section
from swarmdesign.sim.testing import make_design


def test_idle_agents_cost_so_a_team_larger_than_its_work_scores_worse() -> None:
    scenario = bundled("software_project")
    lean = make_design([("coder", 40, "gpt-4o-mini"), ("reviewer", 10, "gpt-4o-mini")], "pubsub", routing="routed")
    bloated = make_design([("coder", 40, "gpt-4o-mini"), ("reviewer", 1775, "gpt-4o-mini")], "pubsub", routing="routed")
    df = scenario.finish_metrics(evaluate([lean, bloated], scenario))
    assert df["loss_cost_deployment"][1] > 20 * df["loss_cost_deployment"][0] > 0
    assert df["cost"][1] > df["cost"][0]
    assert df["score"][1] < df["score"][0]
    # the standing load is in the token count too
    assert df["tokens"][1] > df["tokens"][0]


def test_idle_replicas_of_a_worker_pool_cost_hosting() -> None:
    scenario = make_scenario(workload={"tasks": 10})
    few = make_design([("orchestrator", 1, "m0"), ("worker", 10, "m0")], "hierarchical", branching=8)
    many = make_design([("orchestrator", 1, "m0"), ("worker", 10_000, "m0")], "hierarchical", branching=8)
    df = evaluate([few, many], scenario)
    assert df["cost"][1] > 5 * df["cost"][0]


def test_orchestration_helps_hard_parallel_work_too() -> None:
    """Plan soundness is judged on planning, not on solving the item, so hard items still gain."""
    for mean in (0.3, 0.8):
        scenario = make_scenario(
            workload={"subtasks": 4, "dependency_depth": 2, "parallel_fraction": 0.95, "difficulty": {"mean": mean}},
            simulator={"skill": {"task_mix": {"worker": 1.0}}},
        )
        single = make_design([("worker", 1, "m0")], "single")
        star = make_design([("orchestrator", 1, "m0"), ("worker", 4, "m0")], "star", routing="routed")
        q = evaluate([single, star], scenario)["quality"].to_numpy()
        assert q[1] > q[0]


def test_a_checked_chain_does_not_beat_one_agent_on_sequential_work() -> None:
    """An outside checker of a sequential chain sees only the hand-off summary; uninformed flags break right work."""
    scenario = bundled("sequential_chain")
    single = make_design([("solver", 1, "gpt-4o")], "single")
    checked = make_design([("solver", 1, "gpt-4o"), ("tester", 1, "gpt-4o")], "chain", review_rounds=1)
    q = evaluate([single, checked], scenario)["quality"].to_numpy()
    assert q[1] <= q[0] + 0.01
    # with hand-offs that carry the whole context, the same checker helps
    informed = bundled("sequential_chain").model_copy(deep=True)
    informed.environment.message_tokens = informed.workload.input_tokens_per_step
    q_inf = evaluate([single, checked], informed)["quality"].to_numpy()
    assert q_inf[1] > q_inf[0] + 0.02


def test_the_former_fragmentation_constants_are_refused() -> None:
    for knob in ("context_fragmentation", "fragmentation_false_alarm", "sequential_handoff_error"):
        with pytest.raises(SwarmdesignError) as info:
            validate_simulator_section({"propagation": {knob: 0.1}})
        assert info.value.field == f"simulator.propagation.{knob}"


def test_more_review_rounds_stop_paying() -> None:
    """Misses overlap (repeat_detection), false alarms do not: quality peaks within a few rounds."""
    scenario = make_scenario(workload={"difficulty": {"mean": 0.4}}, simulator={"review": {"false_alarm": 0.1}})
    designs = [
        make_design([("coder", 4, "m0"), ("reviewer", 2, "m0")], "pubsub", routing="routed", review_rounds=r)
        for r in range(1, 9)
    ]
    q = evaluate(designs, scenario)["quality"].to_numpy()
    assert int(np.argmax(q)) < len(q) - 1
    assert q[-1] < q.max() - 0.005


def test_first_valid_exposes_the_hub_only_to_attempts_made() -> None:
    scenario = make_scenario(workload={"subtasks": 4}, environment={"fault_rate": 0.2})
    designs = [
        make_design(
            [("orchestrator", 1, "m0"), ("worker", 8, "m0"), ("tester", 2, "strong")],
            "star",
            routing="routed",
            redundancy=k,
            aggregation="first_valid",
        )
        for k in (4, 64)
    ]
    df = evaluate(designs, scenario)
    # correlated attempts: hard items use more of a higher cap, but nowhere near 16x the attempts
    assert df["llm_calls"][1] < 1.3 * df["llm_calls"][0]
    assert df["loss_quality_faults"][1] < df["loss_quality_faults"][0] + 0.05


def test_hub_losses_follow_the_law_of_first_valid_attempts_as_the_agent_mode_draws_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A hub relays every attempt, and first-valid's attempts vary (correlated: few on most questions, many on a
    few). The chance a task loses its hub's state is concave in the attempts, so it is charged over their law,
    not at their mean, which overstates it; the agent mode draws the attempts and the crashes one by one."""
    from swarmdesign.sim import agent_quality, fast, fast_resources

    scenario = make_scenario(workload={"subtasks": 4, "tasks": 200}, environment={"fault_rate": 0.2})
    drawn: list[float] = []
    original = agent_quality.hub_losses

    def hub_losses(*args, **kwargs):  # type: ignore[no-untyped-def]
        lost = original(*args, **kwargs)
        if args[3] > 0:  # the faulty pass (the calm one has no crashes)
            drawn.append(float(lost.mean()))
        return lost

    monkeypatch.setattr(agent_quality, "hub_losses", hub_losses)
    for k in (4, 16):
        design = make_design(
            [("orchestrator", 1, "m0"), ("worker", 8, "m0"), ("tester", 2, "strong")],
            "star",
            routing="routed",
            redundancy=k,
            aggregation="first_valid",
        )
        drawn.clear()
        for seed in range(8):
            evaluate([design], scenario, seed=seed, mode="agent")
        agent_lost = float(np.mean(drawn))
        params, views, prod, rho, load = fast_inputs([design], scenario, seed=3, replicas=64)
        log_keep = fast_resources.hub_log_keep(views, load, params, 0.2)
        qual = fast.quality_chain(
            views, prod, scenario, params, fault_rate=0.2, rho=rho, hub_log_keep=log_keep,
            collisions=load.collisions_resource,
        )  # fmt: skip
        assert rho[0] > 0.2 and qual.attempts[0] > 1.5
        assert qual.hub_lost[0] == pytest.approx(agent_lost, abs=0.02)
        at_mean = float(-np.expm1(log_keep * qual.attempts)[0])
        assert at_mean > agent_lost + 0.03


def test_tree_depth_is_an_integer_count_of_levels() -> None:
    assert topology.tree_depth(np.array([125.0, 126.0, 1e6, 1.0]), np.array([5.0, 5.0, 10.0, 4.0])).tolist() == [
        3.0,
        4.0,
        6.0,
        0.0,
    ]
    kinds = np.array([KIND_INDEX["hierarchical"]])
    assert topology.spread_rounds(kinds, np.array([125.0]), np.array([5.0]), np.ones(1), 2)[0] == 6


def test_gossip_rounds_include_the_push_tail() -> None:
    # 10^3 nodes, fanout 2: ceil(log3(1000) + ln(1000) / 2) = ceil(6.29 + 3.45) = 10 rounds, plus the broker hop
    kinds = np.array([KIND_INDEX["pubsub"]])
    assert topology.spread_rounds(kinds, np.array([1000.0]), np.ones(1), np.ones(1), 2)[0] == 11


def test_tokens_and_cost_count_the_same_calls() -> None:
    """With one price per token for everything and no hosting, cost is tokens times that price."""
    models = {"flat": {"skill": 0.0, "input_usd_per_mtok": 1.0, "output_usd_per_mtok": 1.0, "seconds_per_call": 4.0}}
    scenario = make_scenario(
        workload={"subtasks": 4, "dependency_depth": 2, "parallel_fraction": 0.9},
        environment={"models": models, "fault_rate": 0.05},
        simulator={"deployment": {"hosting_usd_per_hour": 0.0}},
    )
    designs = [
        make_design(
            [("orchestrator", 2, "flat"), ("worker", 12, "flat"), ("reviewer", 3, "flat")],
            "star",
            review_rounds=2,
            redundancy=3,
            aggregation="judge",
            model="flat",
        ),
        make_design([("worker", 6, "flat"), ("tester", 2, "flat")], "mesh", redundancy=2, model="flat"),
        make_design([("planner", 1, "flat"), ("worker", 30, "flat")], "hierarchical", branching=4, model="flat"),
    ]
    df = evaluate(designs, scenario)
    assert np.allclose(df["cost"], df["tokens"] / 1e6, rtol=1e-9)


def test_claim_collisions_waste_work_but_do_not_corrupt_answers() -> None:
    scenario = make_scenario(workload={"tasks": 50, "subtasks": 4})
    herd = make_design([("worker", 40, "m0")], "mesh", heterogeneity=0.0)
    calm = make_scenario(workload={"tasks": 50, "subtasks": 4}, simulator={"stampede": {"herding": 0.0}})
    a, b = evaluate([herd], scenario), evaluate([herd], calm)
    assert a["collision_share"][0] > b["collision_share"][0]
    assert a["quality"][0] == pytest.approx(b["quality"][0], abs=1e-12)
    assert a["cost"][0] > b["cost"][0]


@pytest.mark.parametrize("mode", ["fast", "agent"])
def test_a_higher_first_valid_cap_lengthens_the_run_through_its_stragglers(mode: str) -> None:
    """The run waits for the item that used the most attempts (stragglers), so the cap shows in the latency.

    Only where the stragglers outlast the run: with a tester per worker the workers bound it and a cap of 16
    adds 90-140 s (a few more sequential attempts) though the calls grow under 10 %; with five testers for
    fifty workers the testers bound it and finish their backlog while the stragglers retry (both modes: the
    fast mode added the tail on top of any bound, 30 s there against the event schedule's -2 s).
    """
    scenario = make_scenario(workload={"tasks": 2000, "difficulty": {"mean": 0.6}})

    def run(testers: int) -> object:
        designs = [
            make_design(
                [("worker", 50, "m0"), ("tester", testers, "m0")],
                "pubsub",
                routing="routed",
                redundancy=k,
                aggregation="first_valid",
            )
            for k in (2, 16)
        ]
        return evaluate(designs, scenario, mode=mode)

    df = run(50)
    assert df["latency"][1] - df["latency"][0] > 4 * 15.0  # at least fifteen more sequential calls of 4 s
    assert df["llm_calls"][1] / df["llm_calls"][0] < 1.1
    busy_testers = run(5)
    assert abs(busy_testers["latency"][1] - busy_testers["latency"][0]) < 4 * 4.0


@pytest.mark.parametrize("mode", ["fast", "agent"])
def test_split_work_nobody_holds_whole_is_synthesised_by_a_call_reading_every_piece(mode: str) -> None:
    """Independent agents' pieces are combined by one synthesis call per task (task + every piece's output).

    Peers who hear every piece's author need no such call (the last author holds them all), nor does a
    team with a coordinator, whose last orchestration round synthesises.
    """
    models = {"flat": {"skill": 0.0, "input_usd_per_mtok": 1.0, "output_usd_per_mtok": 1.0, "seconds_per_call": 4.0}}
    wl = {"subtasks": 4, "dependency_depth": 2, "parallel_fraction": 0.9, "tasks": 50}
    scenario = make_scenario(workload=wl, environment={"models": models})
    designs = [
        make_design([("worker", 4, "flat")], "independent", model="flat"),
        make_design([("worker", 4, "flat")], "mesh", model="flat"),
    ]
    df = evaluate(designs, scenario, replicas=16, mode=mode)
    in_tok, out_tok = scenario.workload.input_tokens_per_step, scenario.workload.output_tokens_per_step
    per_task = (in_tok + 4 * out_tok + out_tok) / 1e6  # USD at 1 USD per million tokens
    assert df["loss_cost_coordination"][0] == pytest.approx(50 * per_task, rel=1e-6)
    assert df["loss_cost_coordination"][1] == pytest.approx(0.0, abs=1e-12)


def test_a_hub_rereads_every_member_it_manages_so_surplus_checkers_cost() -> None:
    """Idle reviewers in a star are still members the hub tracks: each adds status to every hub call.

    Fast and agent modes charge the same growth (within 15 %), so a star with 40 reviewers for 4 workers
    spends more on coordination than the same star with one.
    """
    scenario = make_scenario(workload={"subtasks": 4, "dependency_depth": 2, "parallel_fraction": 0.9, "tasks": 50})
    designs = [
        make_design([("orchestrator", 1, "m0"), ("worker", 4, "m0"), ("reviewer", k, "m0")], "star", review_rounds=1)
        for k in (1, 40)
    ]
    growth = {}
    for mode in ("fast", "agent"):
        df = evaluate(designs, scenario, replicas=16, mode=mode)
        coord = df["loss_cost_coordination"].to_numpy()
        assert coord[1] > 1.3 * coord[0], (mode, coord)
        growth[mode] = coord[1] - coord[0]
    assert growth["agent"] == pytest.approx(growth["fast"], rel=0.15)
