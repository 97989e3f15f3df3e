"""The population a large budget buys (swarmdesign.optimizers.population)."""

from __future__ import annotations

import pytest

from swarmdesign.optimizers import budget_population, make_optimizer, optimizer_names
from swarmdesign.optimizers.population import GENERATIONS, MAX_POPULATION


@pytest.mark.parametrize(("name", "default"), [("psoga", 16), ("ga", 16), ("pso", 20)])
def test_the_population_grows_with_the_budget_between_the_default_and_the_cap(name: str, default: int) -> None:
    assert make_optimizer(name).population == default  # the rule reads the optimizer's own default
    assert budget_population(name, {}, 200) is None  # the default run keeps the tuned default
    assert budget_population(name, {}, default * GENERATIONS) is None
    assert budget_population(name, {}, (default + 1) * GENERATIONS) == default + 1
    assert budget_population(name, {}, 10_000) == 100
    assert budget_population(name, {}, 10**7) == MAX_POPULATION
    assert budget_population(name, {"population": 8}, 10**5) is None  # the user's choice wins


def test_only_optimizers_that_declare_it_follow_the_budget() -> None:
    follow = {n for n in optimizer_names() if budget_population(n, {}, 10**5) is not None}
    assert follow == {"psoga", "ga", "pso"}  # not the LLM proposer (a prompt per particle), not the samplers
    assert budget_population("no-such-optimizer", {}, 10**5) is None
