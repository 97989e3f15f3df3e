"""The recommendation's parts on their own: trim steps, size bands, paired SEs, seeds, perturbations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from swarmdesign.commands._common import load_scenario, load_space
from swarmdesign.design import Coordination, Design, Role, Topology
from swarmdesign.errors import SwarmdesignError
from swarmdesign.recommend.archive import size_band
from swarmdesign.recommend.baselines import single_agent, space_models
from swarmdesign.recommend.robustness import Perturbation, perturbed_scenarios, summarise
from swarmdesign.recommend.scoring import Scored, fingerprint, fresh_seeds, paired_difference
from swarmdesign.recommend.trim import agents, one_step_smaller


def _star(orchestrators: int, solvers: int, judges: int, redundancy: int = 4, rounds: int = 2) -> Design:
    return Design(
        name="d",
        roles=[
            Role(name="orchestrator", archetype="orchestrator", count=orchestrators, model="gpt-4o"),
            Role(name="solver", archetype="solver", count=solvers, model="gpt-4o-mini"),
            Role(name="judge", archetype="judge", count=judges, model="gpt-4o"),
        ],
        topology=Topology(kind="star"),
        coordination=Coordination(redundancy=redundancy, review_rounds=rounds),
    )


def test_every_trim_step_is_smaller_valid_and_inside_the_space() -> None:
    space = load_space("qa_ensemble")
    design = _star(1, 9, 3)
    steps = one_step_smaller(design, space)
    labels = [label for label, _ in steps]
    assert "solver 9->4" in labels and "judge 3->1" in labels and "drop judge" in labels
    assert "redundancy 4->2" in labels and "review rounds 2->1" in labels
    assert "drop orchestrator" not in labels  # the only hub of a star stays
    assert "drop solver" not in labels  # the only producing role stays
    for _, d in steps:
        assert agents(d) <= agents(design)
        space.design_to_params(d)  # inside the space: no error
    assert not one_step_smaller(_star(1, 1, 0, redundancy=1, rounds=0).model_copy(
        update={"roles": _star(1, 1, 0).roles[:2]}), space)  # fmt: skip


def test_fingerprint_ignores_names_and_metrics_but_not_the_design() -> None:
    a, b = _star(1, 3, 1), _star(1, 3, 1)
    b.name, b.metrics = "other", {"score": 1.0}
    assert fingerprint(a) == fingerprint(b)
    assert fingerprint(a) != fingerprint(_star(1, 4, 1))


def test_paired_difference_uses_per_seed_differences() -> None:
    rng = np.random.default_rng(0)
    common = rng.normal(0, 1.0, 64)  # a large shared component (common random numbers)
    a = Scored(_star(1, 2, 1), 0.8 + common + rng.normal(0, 0.01, 64))
    b = Scored(_star(1, 2, 1), 0.7 + common + rng.normal(0, 0.01, 64))
    diff, se = paired_difference(a, b)
    assert abs(diff - 0.1) < 5 * se
    assert se < 0.01 < a.se  # far below either score's own SE


def test_fresh_seeds_are_deterministic_distinct_and_differ_by_purpose() -> None:
    a = fresh_seeds(0, "select", 8)
    assert a == fresh_seeds(0, "select", 8) and len(set(a)) == 8
    assert not set(a) & set(fresh_seeds(0, "report", 8))
    assert a != fresh_seeds(1, "select", 8)


def test_size_bands() -> None:
    bands = size_band(pd.Series([1, 2, 4, 5, 16, 17, 1000, 10**6]))
    assert list(bands) == ["1", "2-4", "2-4", "5-16", "5-16", "17-64", "257-1024", "262145-1048576"]


def test_baselines_use_every_model_and_the_producing_role() -> None:
    space = load_space("software_team")
    models = space_models(space)
    assert set(models) >= set(space.spec.models)
    d = single_agent(space, models[0], votes=5)
    assert d.topology.kind == "single" and d.roles[0].archetype == "coder" and d.coordination.redundancy == 5


def test_perturbed_scenarios_are_valid_seeded_and_within_the_ranges() -> None:
    scenario, _ = load_scenario("math_qa")
    ranges = Perturbation(skill=0.3, fault=2.0, price=1.5, difficulty=0.1)
    a = perturbed_scenarios(scenario, 5, ranges, seed=0)
    b = perturbed_scenarios(scenario, 5, ranges, seed=0)
    assert [w for _, w in a] == [w for _, w in b]
    base = scenario.to_dict()
    for s, what in a:
        d = s.to_dict()
        assert abs(d["workload"]["difficulty"]["mean"] - base["workload"]["difficulty"]["mean"]) <= 0.1 + 1e-9
        assert 0.5 - 1e-9 <= what["fault_x"] <= 2.0 + 1e-9
        for m, spec in d["environment"]["models"].items():
            assert abs(spec["skill"] - base["environment"]["models"][m]["skill"]) <= 0.3 + 1e-9
    with pytest.raises(SwarmdesignError, match="--fault"):
        Perturbation(fault=0.5).check()


def test_summarise_counts_wins_near_wins_and_regret() -> None:
    scores = np.array([[0.9, 0.899, 0.5], [0.8, 0.85, 0.5]])
    t = summarise(["a", "b", "c"], scores, near=0.005)
    assert list(t["win_share"]) == [0.5, 0.5, 0.0]
    assert list(t["near_best_share"]) == [0.5, 1.0, 0.0]
    assert t["worst_regret"].round(3).tolist() == [0.05, 0.001, 0.4]
