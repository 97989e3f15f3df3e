"""The simulator section: defaults, validation errors naming the field, bundled scenarios."""

from __future__ import annotations

import pytest
from sim_helpers import FITNESS

from swarmdesign.errors import SwarmdesignError
from swarmdesign.fitness import Scenario
from swarmdesign.sim.params import SimParams, validate_simulator_section


def test_empty_section_gives_literature_defaults() -> None:
    params = validate_simulator_section({})
    assert isinstance(params, SimParams)
    assert params.voting.correlation_same_model == pytest.approx(0.4)
    assert params.deployment.hosting_usd_per_hour > 0 and params.review.repeat_detection < 1
    assert params.decomposition.contention > 0 and params.decomposition.coherency > 0
    assert validate_simulator_section(None) == params


@pytest.mark.parametrize(
    ("section", "field"),
    [
        ({"votng": {}}, "simulator.votng"),
        ({"voting": {"correlation_same_model": 2}}, "simulator.voting.correlation_same_model"),
        ({"voting": {"correlation_same_model": 0.2, "correlation_cross_model": 0.5}}, "simulator.voting"),
        ({"skill": {"task_mix": {"planner": 1.0}}}, "simulator.skill.task_mix"),
        ({"queueing": {"hub_service_fraction": 0}}, "simulator.queueing.hub_service_fraction"),
        ({"stampede": {"herding": "lots"}}, "simulator.stampede.herding"),
    ],
)
def test_bad_values_name_the_field(section: dict, field: str) -> None:
    with pytest.raises(SwarmdesignError) as info:
        validate_simulator_section(section)
    assert info.value.field == field


def test_scenario_load_reports_file_and_field(tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("swarmdesign_scenario: 1\nname: x\nsimulator:\n  review:\n    false_alarm: 3\n")
    with pytest.raises(SwarmdesignError) as info:
        Scenario.load(bad)
    assert str(info.value).startswith(f"{bad}: simulator.review.false_alarm:")


@pytest.mark.parametrize("name", ["software_project", "math_qa", "ticket_rush", "sequential_chain", "parallel_batch"])
def test_bundled_scenarios_load(name: str) -> None:
    scenario = Scenario.load(FITNESS / f"{name}.yaml")
    for model in ("gpt-4o-mini", "gpt-4o", "claude-3-5-haiku", "llama-3.1-8b"):
        assert model in scenario.environment.models
    validate_simulator_section(scenario.simulator)
