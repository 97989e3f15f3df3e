"""Builders for the agent-mode tests (imported by module name: pytest puts this folder on sys.path)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from swarmdesign.design import Design
from swarmdesign.fitness import Scenario
from swarmdesign.sim import SimulatedEvaluator

MODELS: dict[str, dict[str, float]] = {
    "m0": {"skill": 0.0, "input_usd_per_mtok": 0.15, "output_usd_per_mtok": 0.60, "seconds_per_call": 4.0},
    "m1": {"skill": 0.0, "input_usd_per_mtok": 0.15, "output_usd_per_mtok": 0.60, "seconds_per_call": 4.0},
    "weak": {"skill": -0.6, "input_usd_per_mtok": 0.05, "output_usd_per_mtok": 0.08, "seconds_per_call": 2.5},
}


def scenario(
    *,
    workload: dict[str, Any] | None = None,
    environment: dict[str, Any] | None = None,
    simulator: dict[str, Any] | None = None,
) -> Scenario:
    """A one-level workload of coding items with the test models; entries override the defaults."""
    return Scenario.from_dict(
        {
            "swarmdesign_scenario": 1,
            "name": "agent-test",
            "workload": {
                "tasks": 200,
                "subtasks": 1,
                "dependency_depth": 1,
                "parallel_fraction": 1.0,
                **(workload or {}),
            },
            "environment": {"fault_rate": 0.0, "models": MODELS, **(environment or {})},
            "simulator": {"skill": {"task_mix": {"coder": 1.0}}, **(simulator or {})},
        }
    )


def fixed_difficulty(mean: float = 0.5) -> dict[str, Any]:
    """A workload whose items all have (almost exactly) difficulty ``mean``: per-attempt success is then known."""
    return {"difficulty": {"mean": mean, "spread": 1e-4}}


def evaluate(designs: list[Design], scen: Scenario, *, seed: int = 7, **params: Any) -> pd.DataFrame:
    return SimulatedEvaluator(**params).evaluate(designs, scen, seed=seed)


def binomial_se(p: float, n: int) -> float:
    """Standard error of a share estimated from ``n`` independent draws."""
    return float(np.sqrt(p * (1 - p) / n))
