"""Self-consistency baselines: every model that can afford a vote, at its best affordable count.

The verdict "the searched design beats the best baseline" is only as strong
as its baselines. These tests run the real pipeline on the real simulator
and re-derive, from the recorded single-agent costs, which vote counts each
model could afford at the winner's cost and which of them scores best.
"""

from __future__ import annotations

import math
import re

import pytest

from swarmdesign.recommend import cli as recommend_cli
from swarmdesign.recommend.baselines import VOTE_COUNTS, affordable_votes, single_agent, space_models
from swarmdesign.recommend.pipeline import recommend, rescoring_evaluator
from swarmdesign.recommend.scoring import fresh_seeds
from swarmdesign.results import load_run
from tests.recommend.conftest import search

SC = re.compile(r"self-consistency \((?P<model>.+), k=(?P<k>\d+)\)")


def test_affordable_votes_fit_the_budget_and_need_a_majority() -> None:
    assert affordable_votes(1.0, 2.9) == []  # 3 votes cost 3
    assert affordable_votes(1.0, 3.0) == [3]  # exactly the budget fits
    assert affordable_votes(1.0, 20.9) == [3, 5, 7, 9, 11, 15]
    assert affordable_votes(0.0, 1.0) == [k for k in VOTE_COUNTS if k >= 3]  # a free agent affords every count
    for cost, budget in ((math.nan, 1.0), (1.0, math.inf), (-1.0, 5.0), (1.0, -1.0)):
        assert affordable_votes(cost, budget) == []


@pytest.fixture(scope="module")
def recommended(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    out = tmp_path_factory.mktemp("sc")
    run = search(out, "sc", fitness="math_qa", evaluator="simulated", budget=120, optimizer="psoga")
    opts = recommend_cli.options(recommend=None, top=None, seeds=None, trim_tolerance=None, robustness=0)
    rec = recommend(run, opts, log=lambda m: None)
    return run, rec


def test_every_model_that_affords_a_vote_gets_its_best_count(recommended: tuple) -> None:
    run, rec = recommended
    rows = {r["name"]: r for r in rec["baselines"]}
    singles = {m: rows[f"single agent ({m})"] for m in space_models(run.space)}
    winner = next(t for t in run.study.get_trials(deepcopy=False) if t.number == rec["winner_trial"])
    budget = float(winner.user_attrs["cost"])
    chosen = {m.group("model"): int(m.group("k")) for name in rows if (m := SC.fullmatch(name))}
    affordable = {m: affordable_votes(float(r["cost"]), budget) for m, r in singles.items()}
    assert set(chosen) == {m for m, ks in affordable.items() if ks}
    assert chosen, "this scenario has models cheap enough to vote at the winner's cost"
    assert rec["vote_probe_designs"] == sum(len(ks) for ks in affordable.values())
    # the count is the best-scoring affordable one on the probe seed (the first report seed), not the largest
    evaluator = rescoring_evaluator(run, 1)
    seed = fresh_seeds(int(run.config["seed"]), "report", rec["seeds"])[0]
    for model, k in chosen.items():
        ks = affordable[model]
        frame = run.scenario.finish_metrics(
            evaluator.evaluate([single_agent(run.space, model, v) for v in ks], run.scenario, seed=seed)
        )
        scores = frame["score"].to_numpy(dtype=float)
        assert k == ks[int(scores.argmax())], (model, dict(zip(ks, scores, strict=True)))
        assert rows[f"self-consistency ({model}, k={k})"]["cost"] <= budget * 1.01


def test_a_second_pass_reuses_the_chosen_counts_without_probing(recommended: tuple) -> None:
    run, rec = recommended
    opts = recommend_cli.options(recommend=None, top=None, seeds=None, trim_tolerance=None, robustness=0)
    again = recommend(run, opts, log=lambda m: None)
    assert again["vote_probe_designs"] == 0
    assert [r["name"] for r in again["baselines"]] == [r["name"] for r in rec["baselines"]]
    assert [r["trial"] for r in again["baselines"]] == [r["trial"] for r in rec["baselines"]]


def test_the_verdict_table_lists_the_self_consistency_rows(recommended: tuple) -> None:
    run, rec = recommended
    table = load_run(run.run_dir).baselines
    expected = sum(1 for r in rec["baselines"] if SC.fullmatch(r["name"]))
    assert expected >= 1 and table["name"].str.startswith("self-consistency (").sum() == expected
