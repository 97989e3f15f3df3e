"""Helpers for the simulator tests: small controlled scenarios, an evaluate shortcut, the bundled files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from swarmdesign.design import Design
from swarmdesign.fitness import Scenario
from swarmdesign.sim import SimulatedEvaluator

FITNESS = Path(__file__).resolve().parents[2] / "fitness"

MODELS: dict[str, dict[str, float]] = {
    "m0": {"skill": 0.0, "input_usd_per_mtok": 0.15, "output_usd_per_mtok": 0.60, "seconds_per_call": 4.0},
    "m0b": {"skill": 0.0, "input_usd_per_mtok": 0.15, "output_usd_per_mtok": 0.60, "seconds_per_call": 4.0},
    "strong": {"skill": 1.5, "input_usd_per_mtok": 2.5, "output_usd_per_mtok": 10.0, "seconds_per_call": 7.0},
    "weak": {"skill": -0.6, "input_usd_per_mtok": 0.05, "output_usd_per_mtok": 0.08, "seconds_per_call": 2.5},
}


def make_scenario(
    *,
    workload: dict[str, Any] | None = None,
    environment: dict[str, Any] | None = None,
    simulator: dict[str, Any] | None = None,
) -> Scenario:
    """A scenario with the test models; ``environment`` and ``workload`` entries override the defaults."""
    env = {"fault_rate": 0.0, "models": MODELS, **(environment or {})}
    return Scenario.from_dict(
        {
            "swarmdesign_scenario": 1,
            "name": "test",
            "workload": {
                "tasks": 200,
                "subtasks": 1,
                "dependency_depth": 1,
                "parallel_fraction": 1.0,
                **(workload or {}),
            },
            "environment": env,
            "simulator": simulator or {},
        }
    )


def evaluate(designs: list[Design], scenario: Scenario, *, seed: int = 7, **params: Any) -> pd.DataFrame:
    return SimulatedEvaluator(**params).evaluate(designs, scenario, seed=seed)


def bundled(name: str) -> Scenario:
    return Scenario.load(FITNESS / f"{name}.yaml")


def fast_inputs(designs: list[Design], scenario: Scenario, *, seed: int, replicas: int) -> tuple[Any, ...]:
    """What the fast mode's quality chain takes for ``designs``: params, views, production, correlation and load."""
    from swarmdesign.sim import fast, fast_resources
    from swarmdesign.sim.batch import DesignBatch
    from swarmdesign.sim.params import validate_simulator_section
    from swarmdesign.sim.skill import difficulty_draws
    from swarmdesign.sim.views import RoleViews

    params = validate_simulator_section(scenario.simulator)
    views = RoleViews.build(DesignBatch.pack(designs, scenario), params, scenario.workload.subtasks)
    alpha, beta = scenario.workload.difficulty.beta_params()
    prod = fast.production(
        views, scenario, params, difficulty_draws(np.random.default_rng(seed), replicas, alpha, beta)
    )
    rho, sim = fast.similarity(views, prod, params)
    return params, views, prod, rho, fast_resources.compute_load(views, scenario, params, sim)
