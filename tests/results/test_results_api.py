"""The results API: a run folder as pandas tables and Designs, read without writing."""

from __future__ import annotations

import math
from pathlib import Path

import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState

from swarmdesign import Design
from swarmdesign.errors import SwarmdesignError
from swarmdesign.results import (
    RunResults,
    best_so_far,
    compare_runs,
    load_run,
    loss_breakdown,
    metric_direction,
    pareto_mask,
)
from swarmdesign.storage import JOURNAL_NAME
from tests.results.conftest import make_run


def test_trials_has_one_row_per_trial_with_every_column_kind(default_run: Path) -> None:
    res = load_run(default_run)
    assert isinstance(res, RunResults)
    assert isinstance(res.study, optuna.Study)
    frame = res.trials
    assert len(frame) == len(res.study.trials) == 48
    for col in ("trial", "run", "state", "evaluation", "optimizer", "generation", "particle", "duration_s", "topology"):
        assert col in frame.columns, col
    assert set(frame["state"]) == {"COMPLETE"}
    assert (frame["optimizer"] == "tpe").all()  # filled from config where the sampler left it unset
    assert frame["evaluation"].tolist() == list(range(1, 49))
    assert res.params and all(c.startswith("param.") for c in res.params)
    assert len(res.params) == len(res.study.trials[0].params)
    # every objective is a metric column holding the trial's values
    assert [o.name for o in res.objectives] == ["quality", "cost"]
    for t in res.study.trials[:5]:
        row = frame.loc[frame["trial"] == t.number].iloc[0]
        assert [row["quality"], row["cost"]] == pytest.approx(t.values)
    # metrics are discovered, loss breakdown included
    assert {"quality", "cost", "latency", "robustness", "score"} <= set(res.metrics)
    assert res.loss_columns and all(c in res.metrics for c in res.loss_columns)
    assert not set(res.metrics) & {"trial", "evaluation", "generation", "feasible"}


def test_best_matches_best_yaml(default_run: Path) -> None:
    res = load_run(default_run)
    on_disk = Design.load(default_run / "best.yaml")
    assert res.best is not None
    assert res.best.name == on_disk.name
    assert res.best.roles == on_disk.roles
    assert res.best.metrics == pytest.approx(on_disk.metrics)
    assert res.best.provenance.trial == res.best_trial


def test_pareto_front_rows_and_designs(default_run: Path) -> None:
    res = load_run(default_run)
    front = res.pareto
    files = sorted((default_run / "pareto").glob("trial-*.yaml"))
    assert len(front) == len(front.frame) == len(files) >= 1
    assert [d.provenance.trial for d in front.designs] == front.frame["trial"].tolist()
    for row, design in front:
        assert design.metrics["quality"] == pytest.approx(row["quality"])
    assert res.best_trial in front.frame["trial"].tolist()


def test_a_score_run_has_the_front_of_its_scenarios_objectives(runs_root: Path) -> None:
    """A run of the score (no --pareto) under two objectives: pareto/ and res.pareto hold their front."""
    run_dir = make_run(runs_root, "score-front", optimizer="psoga", budget=48)
    res = load_run(run_dir)
    assert [o.name for o in res.objectives] == ["score"]
    assert [(o.name, o.direction) for o in res.front_objectives] == [("quality", "maximize"), ("cost", "minimize")]
    search = res.trials[res.trials["state"] == "COMPLETE"]
    if "stage" in search.columns:  # the recommendation's own trials are not search designs
        search = search[search["stage"].isna()]
    feasible = search[search["feasible"].astype(bool)]
    expected = feasible[pareto_mask(feasible, {"quality": "maximize", "cost": "minimize"})]["trial"].tolist()
    assert len(expected) > 1
    assert sorted(res.pareto.frame["trial"]) == sorted(expected)
    files = sorted(p.name for p in (run_dir / "pareto").glob("trial-*.yaml"))
    assert files == [f"trial-{n:06d}.yaml" for n in sorted(expected)]
    assert res.summary()["pareto_size"] == len(expected)


def test_single_objective_run(score_run: Path) -> None:
    res = load_run(score_run)
    assert [o.name for o in res.objectives] == ["score"]
    assert len(res.pareto) == 1
    assert res.best_trial == res.study.best_trial.number
    assert res.top(3)["score"].is_monotonic_decreasing
    assert res.summary()["space"] == "million_agents"


def test_top_and_losses(default_run: Path) -> None:
    res = load_run(default_run)
    top = res.top(5, by="cost")
    assert len(top) == 5 and top["cost"].is_monotonic_increasing
    with pytest.raises(SwarmdesignError, match="no metric 'nope'"):
        res.top(by="nope")
    losses = res.losses()
    assert set(losses.columns) == {"kind", "mechanism", "value", "unit"}
    assert {"quality", "latency", "cost"} <= set(losses["kind"])
    assert len(losses) == len(res.loss_columns)
    assert res.losses(0)["value"].tolist() != [] and res.design(0).provenance.trial == 0
    with pytest.raises(SwarmdesignError, match="no trial 999"):
        res.design(999)


def test_compare_runs_stacks_runs_with_best_so_far(seed_runs: list[Path]) -> None:
    frame = compare_runs(seed_runs)
    assert list(frame.columns[:5]) == ["trial", "run", "seed", "space", "scenario"]
    assert set(frame["optimizer"]) == {"tpe", "random"}
    assert set(frame["seed"]) == {0, 1}
    assert frame.groupby("run").size().tolist() == [24] * 4
    for _, sub in frame.groupby("run"):
        curve = sub.sort_values("evaluation")["best_so_far"]
        assert curve.is_monotonic_increasing
        assert curve.iloc[-1] == pytest.approx(sub["score"].max())
    with pytest.raises(SwarmdesignError):
        compare_runs([])


def test_best_so_far_skips_failed_and_respects_direction() -> None:
    frame = pd.DataFrame(
        {
            "evaluation": pd.array([1, 2, 3, None, 4], dtype="Int64"),
            "state": ["COMPLETE", "FAIL", "COMPLETE", "FAIL", "COMPLETE"],
            "cost": [5.0, math.nan, 7.0, math.nan, 2.0],
        }
    )
    assert best_so_far(frame, "cost", "minimize").tolist()[:3] == [5.0, 5.0, 5.0]
    out = best_so_far(frame, "cost", "minimize")
    assert math.isnan(out.iloc[3]) and out.iloc[4] == 2.0
    assert best_so_far(frame, "cost", "maximize").iloc[4] == 7.0


def test_pareto_mask_and_directions() -> None:
    frame = pd.DataFrame({"quality": [0.9, 0.8, 0.5, 0.95, math.nan], "cost": [10.0, 5.0, 6.0, 20.0, 1.0]})
    mask = pareto_mask(frame, {"quality": "maximize", "cost": "minimize"})
    assert mask.tolist() == [True, True, False, True, False]
    assert metric_direction("cost") == "minimize"
    assert metric_direction("loss_latency_hub_queue") == "minimize"
    assert metric_direction("quality") == "maximize"


def test_loss_breakdown_discovers_mechanisms() -> None:
    row = {"quality": 0.8, "loss_quality_voting": -0.02, "loss_latency_hub_queue": 12.5, "loss_new_kind_x": 1, "x": 2}
    table = loss_breakdown(row)
    assert table.to_dict("records") == [
        {"kind": "quality", "mechanism": "voting", "value": -0.02, "unit": "share of work"},
        {"kind": "latency", "mechanism": "hub_queue", "value": 12.5, "unit": "seconds"},
        {"kind": "new", "mechanism": "kind_x", "value": 1.0, "unit": ""},
    ]


def test_failed_trials_are_rows_with_their_reason(run_copy: Path) -> None:
    res = load_run(run_copy)
    res.study.add_trial(
        optuna.trial.create_trial(
            state=TrialState.FAIL,
            params=res.study.trials[0].params,
            distributions=res.study.trials[0].distributions,
            user_attrs={"fail_reason": "ValueError: boom", "design": res.study.trials[0].user_attrs["design"]},
        )
    )
    frame = load_run(run_copy).trials
    failed = frame[frame["state"] == "FAIL"]
    assert failed["fail_reason"].tolist() == ["ValueError: boom"]
    assert failed["evaluation"].tolist() == [49]  # a failed evaluation counts toward the budget
    assert math.isnan(failed["quality"].iloc[0])
    assert load_run(run_copy).summary()["failed"] == 1


def test_loading_never_writes_to_a_live_run(run_copy: Path) -> None:
    """A RUNNING trial (a search in progress) stays RUNNING, and the journal is untouched."""
    res = load_run(run_copy)
    res.study.ask()
    journal = run_copy / JOURNAL_NAME
    before = journal.read_bytes()
    again = load_run(run_copy)
    assert again.trials["state"].tolist()[-1] == "RUNNING"
    assert pd.isna(again.trials["evaluation"].iloc[-1])
    assert journal.read_bytes() == before


def test_load_run_errors(tmp_path: Path) -> None:
    with pytest.raises(SwarmdesignError, match="not a run folder"):
        load_run(tmp_path)
    (tmp_path / "config.yaml").write_text("a: 1\n")
    with pytest.raises(SwarmdesignError, match="study_name"):
        load_run(tmp_path)


def test_a_run_without_trials(runs_root: Path) -> None:
    """A run created but not executed yet: empty tables, no best design, a report that says so."""
    from swarmdesign.fitness import Scenario
    from swarmdesign.report import build_report
    from swarmdesign.resources import resolve
    from swarmdesign.runner import Run, RunSettings
    from swarmdesign.space import SearchSpace

    Run.create(
        RunSettings(
            space=SearchSpace.load(resolve("software_team", "search_spaces", option="space")),
            scenario=Scenario.load(resolve("software_project", "fitness", option="fitness")),
            optimizer="tpe",
            budget=5,
            name="empty",
            out=runs_root,
        )
    )
    res = load_run(runs_root / "empty")
    assert res.trials.empty and "evaluation" in res.trials.columns
    assert res.best is None and res.best_trial is None and len(res.pareto) == 0
    assert res.summary()["finished"] == 0
    assert "No complete trial yet" in build_report(res, interactive=False)
