"""The re-scored winner's estimate is unbiased; the search's own top score is not (winner's curse)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from swarmdesign.design import Design
from swarmdesign.recommend.pipeline import RecommendOptions, recommend
from swarmdesign.results import load_run
from tests.recommend.conftest import search
from tests.recommend.known_truth import true_quality

NOISE = 0.05


def test_rescored_winner_is_unbiased_where_the_search_top_is_not(tmp_path: Path) -> None:
    search_err, confirm_err = [], []
    for seed in range(6):
        run = search(tmp_path, f"r{seed}", seed=seed, evaluator_params={"noise": NOISE}, budget=100)
        rec = recommend(run, RecommendOptions(top=5, seeds=8), log=lambda m: None)
        trials = run.study.get_trials(deepcopy=False)
        searched = Design.from_dict(json.loads(trials[rec["search_trial"]].user_attrs["design"]))
        confirmed = Design.from_dict(json.loads(trials[rec["winner_trial"]].user_attrs["design"]))
        search_err.append(rec["search_score"] - true_quality(searched, "team"))
        confirm_err.append(rec["winner_score"] - true_quality(confirmed, "team"))
    search_err, confirm_err = np.array(search_err), np.array(confirm_err)
    # one evaluation has sd NOISE; the best of ~100 of them is about 2.5 sd too high
    assert search_err.mean() > 1.0 * NOISE, search_err
    # eight fresh seeds: sd NOISE / sqrt(8) per run, / sqrt(6) for the mean of six runs
    se_of_mean = NOISE / np.sqrt(8) / np.sqrt(len(confirm_err))
    assert abs(confirm_err.mean()) < 3.0 * se_of_mean, confirm_err
    # and the reported standard error is of the right size
    assert 0.3 * NOISE / np.sqrt(8) < rec["winner_score_se"] < 3.0 * NOISE / np.sqrt(8)


def test_every_score_has_a_standard_error_and_stage_trials_do_not_count_toward_the_budget(tmp_path: Path) -> None:
    run = search(tmp_path, "se", budget=60)
    recommend(run, RecommendOptions(top=3, seeds=4), log=lambda m: None)
    res = load_run(run.run_dir)
    done = res.trials[res.trials["state"] == "COMPLETE"]
    assert done["score_se"].notna().all()
    assert (done["score_se"] > 0).all()
    assert res.summary()["finished"] == 60  # re-scores, baselines and trims are extra
    assert set(done["stage"].dropna()) == {"rescore", "baseline", "trim"} or set(done["stage"].dropna()) == {
        "rescore",
        "baseline",
    }
