"""The bundled scenarios show what they are bundled for."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sim_helpers import bundled, evaluate

from swarmdesign.design import Design
from swarmdesign.fitness import Scenario
from swarmdesign.sim.testing import make_design, random_designs

MODELS = ("gpt-4o", "gpt-4o-mini", "claude-3-5-haiku", "llama-3.1-8b")


def _single_agents(archetypes: tuple[str, ...]) -> list[Design]:
    return [
        make_design([(arch, 1, model)], "single", redundancy=k, aggregation=agg, review_rounds=rounds)
        for arch in archetypes
        for model in MODELS
        for k in (1, 3, 5)
        for agg in ("majority_vote", "judge", "first_valid")
        for rounds in (0, 1, 2)
    ]


def _teams(archetype: str) -> list[Design]:
    """Random multi-agent designs plus hand-made sensible teams around one producer archetype."""
    designs = [d for d in random_designs(np.random.default_rng(11), 1500, models=MODELS) if d.total_agents > 1]
    for model in MODELS:
        for n in (2, 4, 16, 64, 256):
            designs += [
                make_design([("orchestrator", max(1, n // 10), model), (archetype, n, model)], "star"),
                make_design([("orchestrator", 1, model), (archetype, n, model)], "hierarchical", branching=8),
                make_design([(archetype, n, model), ("reviewer", max(1, n // 4), model)], "pubsub", routing="routed"),
                make_design([(archetype, n, model)], "independent", routing="routed"),
                make_design([(archetype, 1, model), ("tester", 1, model)], "chain", review_rounds=1),
            ]
    return designs


def _best(designs: list[Design], scenario: Scenario) -> pd.Series:
    df = scenario.finish_metrics(evaluate(designs, scenario))
    return df.loc[df["score"].idxmax()]


def test_on_sequential_work_one_strong_agent_beats_every_team() -> None:
    scenario = bundled("sequential_chain")
    single = _best(_single_agents(("solver", "worker", "generalist")), scenario)
    team = _best(_teams("solver"), scenario)
    assert team["score"] < single["score"]


def test_on_parallel_work_a_coordinated_team_wins_clearly() -> None:
    scenario = bundled("parallel_batch")
    single = _best(_single_agents(("worker", "generalist")), scenario)
    team = _best(_teams("worker"), scenario)
    assert team["score"] > single["score"] + 0.2
    # at least four times faster (the best-scoring team pays for its orchestrators' re-planning rounds)
    assert team["latency"] < 0.25 * single["latency"]


def test_software_project_optimum_is_not_a_corner() -> None:
    scenario = bundled("software_project")
    rng = np.random.default_rng(5)
    designs = []
    for _ in range(3000):
        kind = str(rng.choice(["star", "hierarchical", "mesh", "pubsub", "federated", "chain", "independent"]))
        coders = int(np.exp(rng.uniform(0, np.log(5000))))
        roles = [
            ("planner", int(rng.integers(1, 17)), str(rng.choice(MODELS))),
            ("coder", coders, str(rng.choice(MODELS))),
            ("reviewer", int(np.exp(rng.uniform(0, np.log(2000)))), str(rng.choice(MODELS))),
        ]
        designs.append(
            make_design(
                roles,
                kind,
                redundancy=int(rng.integers(1, 8)),
                review_rounds=int(rng.integers(0, 4)),
                routing=str(rng.choice(["broadcast", "routed"])),
            )
        )
    df = scenario.finish_metrics(evaluate(designs, scenario))
    best = designs[int(df["score"].idxmax())]
    coders = best.role("coder1").count
    assert 1 < coders < 5000
    assert best.coordination.redundancy < 7 or best.coordination.review_rounds < 3
    # the quality/cost trade-off is a real front, not one dominant design
    feasible = df[df["feasible"]].sort_values("cost")
    front = feasible[feasible["quality"] >= feasible["quality"].cummax()]
    assert len(front) >= 5
    assert front["quality"].iloc[-1] > front["quality"].iloc[0] + 0.3


def test_math_qa_voting_and_judging_pay_off() -> None:
    scenario = bundled("math_qa")
    one = make_design([("solver", 1, "gpt-4o-mini")], "single")
    vote = make_design([("solver", 5, "gpt-4o-mini")], "independent", redundancy=5, heterogeneity=0.8, routing="routed")
    judged = make_design(
        [("solver", 5, "gpt-4o-mini"), ("judge", 1, "gpt-4o")],
        "mesh",
        redundancy=5,
        aggregation="judge",
        heterogeneity=0.8,
        routing="routed",
    )
    q = evaluate([one, vote, judged], scenario)["quality"].to_numpy()
    assert q[1] > q[0] + 0.02
    assert q[2] > q[0] + 0.02
