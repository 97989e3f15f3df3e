"""Helpers of the recommendation tests: runs made through the public runner API."""

from __future__ import annotations

from pathlib import Path

import optuna

from swarmdesign.fitness import Scenario
from swarmdesign.resources import resolve
from swarmdesign.runner import Run, RunSettings
from swarmdesign.space import SearchSpace

HERE = Path(__file__).resolve().parent
KNOWN_TRUTH = "tests.recommend.known_truth:KnownTruthEvaluator"
KNOWN_TRUTH_SCENARIO = HERE / "known_truth.yaml"


def search(out: Path, name: str, *, space: str = "qa_ensemble", fitness: str | Path = KNOWN_TRUTH_SCENARIO,
           evaluator: str = KNOWN_TRUTH, evaluator_params: dict | None = None, budget: int = 120,
           seed: int = 0, optimizer: str = "random") -> Run:  # fmt: skip
    """A finished search (no recommendation yet), as ``swarmdesign run`` makes it."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    scenario_path = Path(fitness) if isinstance(fitness, Path) else resolve(fitness, "fitness", option="--fitness")
    settings = RunSettings(
        space=SearchSpace.load(resolve(space, "search_spaces", option="SPACE")),
        scenario=Scenario.load(scenario_path),
        scenario_source=str(scenario_path),
        optimizer=optimizer,
        evaluator=evaluator,
        evaluator_params=evaluator_params or {},
        budget=budget,
        seed=seed,
        name=name,
        out=out,
    )
    run = Run.create(settings)
    run.execute()
    return run
