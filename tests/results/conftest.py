"""Small runs shared by the results tests (made once per session; a few seconds each)."""

from __future__ import annotations

import shutil
from pathlib import Path

import optuna
import pytest

from swarmdesign.fitness import Scenario
from swarmdesign.resources import resolve
from swarmdesign.runner import Run, RunSettings
from swarmdesign.space import SearchSpace


def make_run(
    out: Path,
    name: str,
    *,
    space: str = "software_team",
    fitness: str = "software_project",
    optimizer: str = "tpe",
    budget: int = 40,
    seed: int = 0,
    pareto: bool = False,
) -> Path:
    """A run folder made through the public runner API, as a user would."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    settings = RunSettings(
        space=SearchSpace.load(resolve(space, "search_spaces", option="space")),
        scenario=Scenario.load(resolve(fitness, "fitness", option="fitness")),
        optimizer=optimizer,
        budget=budget,
        seed=seed,
        name=name,
        out=out,
        pareto=pareto,
    )
    Run.create(settings).execute()
    return out / name


@pytest.fixture(scope="session")
def runs_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="session")
def default_run(runs_root: Path) -> Path:
    """software_team under software_project, searched as a Pareto front of its two objectives (quality, cost)."""
    return make_run(runs_root, "defaults", budget=48, pareto=True)


@pytest.fixture(scope="session")
def score_run(runs_root: Path) -> Path:
    """A single-objective run (score) in the million-agent space."""
    return make_run(runs_root, "million", space="million_agents", fitness="parallel_batch", budget=32)


@pytest.fixture(scope="session")
def seed_runs(runs_root: Path) -> list[Path]:
    """Two optimizers x two seeds, for comparisons."""
    return [
        make_run(runs_root, f"cmp-{opt}-{seed}", optimizer=opt, seed=seed, budget=24)
        for opt in ("tpe", "random")
        for seed in (0, 1)
    ]


@pytest.fixture
def run_copy(default_run: Path, tmp_path: Path) -> Path:
    """A private copy of the default run, for tests that add trials to it."""
    target = tmp_path / default_run.name
    shutil.copytree(default_run, target)
    return target


@pytest.fixture(scope="session")
def recommended_run(runs_root: Path) -> Path:
    """A run that went through the recommendation stages, robustness included."""
    from swarmdesign.recommend.pipeline import RecommendOptions, recommend
    from swarmdesign.recommend.robustness import robustness_stage

    path = make_run(runs_root, "recommended", space="qa_ensemble", fitness="math_qa", optimizer="random", budget=48)
    run = Run.open(path)
    recommend(run, RecommendOptions(top=3, seeds=4), log=lambda m: None)
    robustness_stage(run, 4, log=lambda m: None)
    return path
