"""The simulated evaluator: a fast, offline model of a multi-agent system at work.

See ``docs/simulator.md`` for every mechanism, its formula, its source and
its parameters (the scenario's ``simulator:`` section,
:mod:`swarmdesign.sim.params`).
"""

from __future__ import annotations

from swarmdesign.sim.evaluator import SimulatedEvaluator
from swarmdesign.sim.metrics import METRICS

__all__ = ["METRICS", "SimulatedEvaluator"]
