"""The population a run's budget buys, when the user did not choose one.

The swarm and genetic optimizers default to small populations (16 or 20):
on the budgets most runs use (hundreds of evaluations) a small population
buys more generations, which is what finds good designs quickly
(``benchmarks/search_quality.py``). A large budget turns that around. With
16 particles, 10^4 evaluations are 625 generations of a population that
converged long before, and every generation is one simulator call whose
fixed cost (a few milliseconds) is paid for 16 designs: a third of the run.

Measured on the bundled ``software_team`` space (10^4 evaluations, 8 seeds,
best score found; the figures are in ``docs/optimizers.md``): populations
that leave about 100 generations search as well or better (``psoga`` mean
0.9061 at 100 against 0.9048 at 16, worst seed 0.9054 against 0.9018;
``pso`` 0.9031 at 100 against 0.8994 at 20; ``ga`` 0.9048 against 0.9056,
within its seeds' spread) and run 1.3-1.9x faster; at 3,000 evaluations the
rule's 30 particles beat the defaults for all three. Below 1,000 evaluations
larger populations are worse (``psoga`` at 64: median 0.9005 against 0.9027
at 16), so the rule never goes below an optimizer's default.

Hence: ``population = clamp(budget // GENERATIONS, default, MAX_POPULATION)``
for optimizers that declare ``scales_with_budget`` (not the LLM proposer,
whose population is the number of prompts per generation). A population the
user gives (``-p population=N``) always wins. The population is fixed when a
run is created and recorded in its ``config.yaml``: a resume with a larger
budget keeps it, so the run goes on exactly as it began.
"""

from __future__ import annotations

import inspect
from typing import Any

#: Generations a large budget should buy at least: the population grows so that the budget buys about this many.
GENERATIONS = 100
#: Largest population the rule chooses: a simulator call of 256 designs is within ~2x of its
#: cost per design in batches of 10^4, so larger generations save little time and lose generations.
MAX_POPULATION = 256


def default_population(factory: Any) -> int | None:
    """The ``population`` default of an optimizer class (None: it has no such hyperparameter)."""
    try:
        param = inspect.signature(factory).parameters.get("population")
    except (TypeError, ValueError):
        return None
    if param is None or not isinstance(param.default, int):
        return None
    return int(param.default)


def population_for_budget(factory: Any, params: dict[str, Any], budget: int) -> int | None:
    """The population a run of ``budget`` evaluations gets, or None when the rule does not apply.

    None when the user set ``population`` in ``params``, when the optimizer does
    not scale with the budget, or when the budget keeps the optimizer's default.
    """
    if "population" in params or not getattr(factory, "scales_with_budget", False):
        return None
    default = default_population(factory)
    if default is None:
        return None
    chosen = max(default, min(int(budget) // GENERATIONS, MAX_POPULATION))
    return chosen if chosen != default else None
