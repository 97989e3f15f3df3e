"""The native ``random`` optimizer: Optuna's RandomSampler's distribution, reproducible, resumable."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from swarmdesign.fitness import Scenario
from swarmdesign.optimizers import Optimizer, make_optimizer
from swarmdesign.resources import resolve
from swarmdesign.runner import Run, RunSettings
from swarmdesign.space import SearchSpace


def _space(name: str = "software_team") -> SearchSpace:
    return SearchSpace.load(resolve(name, "search_spaces", option="SPACE"))


def _bound(seed: int = 5, space: SearchSpace | None = None, initial: list[dict] | None = None) -> Optimizer:
    opt = make_optimizer("random")
    space = space or _space()
    opt.bind(space, ["maximize"], seed, initial=initial or [])
    return opt


def _empty_study() -> optuna.Study:
    return optuna.create_study(storage=optuna.storages.InMemoryStorage())


def test_points_do_not_depend_on_the_batch_size() -> None:
    whole = [p.params for p in _bound().ask(_empty_study(), 12)]
    opt = _bound()
    study = _empty_study()
    pieces = [p.params for n in (5, 1, 6) for p in opt.ask(study, n)]
    assert pieces == whole
    assert [p.params for p in _bound(seed=6).ask(_empty_study(), 12)] != whole


def test_seed_designs_come_first_and_only_in_a_new_run() -> None:
    space = _space()
    seed_params = _bound(seed=99, space=space).ask(_empty_study(), 2)
    opt = _bound(space=space, initial=[p.params for p in seed_params])
    first = opt.ask(_empty_study(), 3)
    assert [p.params for p in first[:2]] == [p.params for p in seed_params]
    assert all(p.attrs.get("seed_design") for p in first[:2]) and "seed_design" not in first[2].attrs
    assert first[2].params == _bound(space=space).ask(_empty_study(), 1)[0].params


def _distribution_rows(draws: list[dict], name: str, dist: object) -> pd.Series:
    """Frequencies of each value, or of ten equal-width bins of the sampling scale for a wide numeric range."""
    values = pd.Series([d[name] for d in draws])
    wide_int = isinstance(dist, IntDistribution) and dist.high - dist.low >= 20
    if isinstance(dist, FloatDistribution) or wide_int:
        half = 0.5 if wide_int else 0.0
        lo, hi = dist.low - half, dist.high + half
        x = values.astype(float)
        if dist.log:
            lo, hi, x = np.log(lo), np.log(hi), np.log(x)
        values = pd.Series(np.clip(((x - lo) / (hi - lo) * 10).astype(int), 0, 9))
    return values.value_counts(normalize=True)


def test_draws_follow_optunas_random_sampler_on_every_parameter() -> None:
    """Same marginal distribution per parameter (log integer ranges, categories, floats) as RandomSampler."""
    space = _space()
    dists = space.distributions()
    assert {type(d) for d in dists.values()} >= {IntDistribution, CategoricalDistribution}
    assert any(isinstance(d, IntDistribution) and d.log for d in dists.values())
    n = 6000
    ours = [p.params for p in _bound().ask(_empty_study(), n)]
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = [study.ask(dists).params for _ in range(n)]
    for name, dist in dists.items():
        a, b = _distribution_rows(ours, name, dist), _distribution_rows(theirs, name, dist)
        tv = 0.5 * a.subtract(b, fill_value=0.0).abs().sum()
        # sampling noise of two 6,000-draw histograms over at most a dozen bins stays well below 0.06
        assert tv < 0.06, f"{name}: total variation {tv:.3f} between random and RandomSampler"


def _settings(tmp_path: Path, name: str, budget: int, batch: int) -> RunSettings:
    return RunSettings(
        space=_space("qa_ensemble"), scenario=Scenario.load(resolve("math_qa", "fitness", option="--fitness")),
        optimizer="random", budget=budget, seed=4, batch_size=batch, out=tmp_path, name=name,
    )  # fmt: skip


def _designs(run_dir: Path) -> list[str]:
    frame = pd.read_csv(run_dir / "trials.csv")
    cols = [c for c in frame.columns if c.startswith("param.")]
    return frame[cols].astype(str).agg("|".join, axis=1).tolist()


def test_a_resumed_run_continues_the_sequence_of_an_unbroken_one(tmp_path: Path) -> None:
    Run.create(_settings(tmp_path, "broken", budget=14, batch=4)).execute()
    Run.open(tmp_path / "broken").execute(budget=30)
    Run.create(_settings(tmp_path, "whole", budget=30, batch=6)).execute()
    assert _designs(tmp_path / "broken") == _designs(tmp_path / "whole")
    assert len(_designs(tmp_path / "whole")) == 30


def test_parameters_are_refused() -> None:
    with pytest.raises(Exception, match="takes no parameters"):
        make_optimizer("random", seed=3)


@pytest.mark.parametrize(
    ("extra", "batch"),
    [((), 512), (("-E", "mode=agent"), 16), (("-o", "tpe"), 16), (("--batch-size", "7"), 7)],
)
def test_random_gets_large_batches_on_the_fast_simulator_only(tmp_path: Path, extra: tuple, batch: int) -> None:
    from swarmdesign import yamlio
    from tests.conftest import run_cli

    args = ["run", "qa_ensemble", "-f", "math_qa", "-o", "random", "-n", "2", "--no-recommend", "--quiet"]
    res = run_cli(*args, *extra, "--out", str(tmp_path), "--name", "r")
    assert res.code == 0, res.stderr
    assert yamlio.load_file(tmp_path / "r" / "config.yaml")["batch_size"] == batch
