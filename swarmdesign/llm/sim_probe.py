"""Ask the simulator itself: probe designs, their simulated quality, and a bisection on it.

Calibration fits every parameter *through the simulator's own output*, so a
fit holds whatever form the simulator gives a mechanism. These helpers are
shared by :mod:`swarmdesign.llm.calibrate` and :mod:`swarmdesign.llm.plan_fit`
(kept apart from both so neither imports the other).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from swarmdesign.design import Design
    from swarmdesign.fitness import Scenario


def single_agent(model: str) -> Design:
    """One solver on ``model``: the design whose simulated quality is the model's single-attempt accuracy."""
    from swarmdesign.design import Design

    return Design.model_validate(
        {
            "name": "probe",
            "roles": [{"name": "solver", "archetype": "solver", "count": 1, "model": model}],
            "topology": {"kind": "single"},
        }
    )


def planned_attempt(model: str) -> Design:
    """A planner and one solver in a chain: one attempt that reads a plan, nothing voted, checked or handed on."""
    from swarmdesign.design import Design

    return Design.model_validate(
        {
            "name": "probe-planned",
            "roles": [
                {"name": "planner", "archetype": "planner", "count": 1, "model": model},
                {"name": "solver", "archetype": "solver", "count": 1, "model": model},
            ],
            "topology": {"kind": "chain"},
        }
    )


def quality(scenario: Scenario, design: Design, seed: int) -> float:
    """The simulator's (fast mode) quality of ``design`` under ``scenario``."""
    from swarmdesign.sim.evaluator import SimulatedEvaluator

    return float(SimulatedEvaluator().evaluate([design], scenario, seed=seed).iloc[0]["quality"])


def bisect(fn: Any, target: float, lo: float, hi: float, steps: int = 20) -> float:
    """The x in [lo, hi] where the increasing ``fn`` reaches ``target`` (clamped to the bounds)."""
    if fn(lo) >= target:
        return lo
    if fn(hi) <= target:
        return hi
    for _ in range(steps):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if fn(mid) < target else (lo, mid)
    return round((lo + hi) / 2, 3)


def with_simulator(scenario: Scenario, section: str, **fields: Any) -> Scenario:
    """``scenario`` with ``simulator.<section>`` fields replaced."""
    from swarmdesign.fitness import Scenario

    data = scenario.to_dict()
    data.setdefault("simulator", {}).setdefault(section, {}).update(fields)
    return Scenario.from_dict(data)


def sim_params(scenario: Scenario) -> Any:
    """The validated ``simulator`` section (defaults filled in)."""
    from swarmdesign.sim.params import validate_simulator_section

    return validate_simulator_section(scenario.simulator)
