"""The recommendation stages cost about what the search cost: sized from the search's evaluation time."""

from __future__ import annotations

from pathlib import Path

import pytest

from swarmdesign.recommend import cli as recommend_cli
from swarmdesign.recommend.effort import FLOOR_S, plan
from swarmdesign.recommend.pipeline import recommend
from swarmdesign.results import load_run
from tests.conftest import run_cli
from tests.recommend.conftest import search

SLEEPY = "swarmdesign.testing.sleepy:SleepingEvaluator"
SLEEP_S = 0.05


def _check_within_the_searchs_cost(run_dir: Path, floor_s: float, sleep_s: float) -> None:
    res = load_run(run_dir)
    trials = res.study.get_trials(deepcopy=False)
    search_s = sum(t.user_attrs["eval_seconds"] for t in trials if "stage" not in t.user_attrs)
    # every stage trial holds its per-seed scores: one evaluation of one design each, SLEEP_S seconds of sleep
    evaluations = sum(len(t.user_attrs["score_seeds"]) for t in trials if "stage" in t.user_attrs)
    evaluations += res.recommendation["vote_probe_designs"]
    assert evaluations * sleep_s <= max(search_s, floor_s), (evaluations, search_s)
    assert "sized to about" in res.recommendation["effort"]
    rec = res.recommendation
    # never below what the verdict needs: the winner confirmed on >= 3 seeds, every baseline scored
    assert rec["seeds"] >= 3 and rec["winner_trial"] is not None
    assert len(res.baselines) >= 2 and res.baselines["advantage_se"].notna().all()
    # the default effort would have cost several times the search
    default_evaluations = 5 * 8 + 8 + len(res.baselines) * 8
    assert default_evaluations * sleep_s > search_s


@pytest.mark.slow
def test_a_slow_evaluator_gets_stages_within_the_searchs_own_cost_cli(tmp_path: Path) -> None:
    r = run_cli("run", "qa_ensemble", "-f", "math_qa", "-e", SLEEPY, "-E", "sleep_s=0.2", "-o", "random",
                "-n", "64", "--out", str(tmp_path), "--name", "slow", "-q")  # fmt: skip
    assert r.code == 0, r.stderr
    assert "effort: the search spent" in r.stderr and "--rescore-seeds" in r.stderr, r.stderr
    _check_within_the_searchs_cost(tmp_path / "slow", FLOOR_S, 0.2)


def test_a_slow_evaluator_gets_stages_within_the_searchs_own_cost(tmp_path: Path) -> None:
    """The runner and pipeline as ``run`` drives them, with a lower floor so a short search shows the cap."""
    run = search(tmp_path, "slow", fitness="math_qa", evaluator=SLEEPY, evaluator_params={"sleep_s": SLEEP_S},
                 budget=64)  # fmt: skip
    opts = recommend_cli.options(recommend=None, top=None, seeds=None, trim_tolerance=None, robustness=0)
    opts.effort_floor_s = 1.0
    recommend(run, opts, log=lambda m: None)
    _check_within_the_searchs_cost(run.run_dir, 1.0, SLEEP_S)


def test_explicit_options_win_over_the_sizing() -> None:
    given = recommend_cli.options(recommend=None, top=5, seeds=8, trim_tolerance=None, robustness=0)
    assert given.auto == []
    p = plan(top=5, seeds=8, replicas_factor=4, auto=given.auto, n_models=3, search_s=10.0, n_search=20)
    assert (p.top, p.seeds, p.replicas_factor, p.trim_designs, p.reduced) == (5, 8, 4, None, [])
    left = recommend_cli.options(recommend=None, top=None, seeds=None, trim_tolerance=None, robustness=0)
    assert set(left.auto) == {"top", "seeds", "replicas_factor", "trim"} and (left.top, left.seeds) == (5, 8)


def test_the_plan_fits_the_cap_and_keeps_the_verdicts_minimum() -> None:
    auto = ["top", "seeds", "replicas_factor", "trim"]
    # a cheap search (the simulator): nothing reduced
    cheap = plan(top=5, seeds=8, replicas_factor=4, auto=auto, n_models=3, search_s=0.5, n_search=500)
    assert (cheap.top, cheap.seeds, cheap.replicas_factor, cheap.message()) == (5, 8, 4, None)
    # a slow evaluator: 100 trials, 3 s each; the stage is cut to about the search's 300 s
    slow = plan(top=5, seeds=8, replicas_factor=4, auto=auto, n_models=3, search_s=300.0, n_search=100)
    assert (
        slow.replicas_factor < 4 and slow.fixed_s + slow.trim_designs * 3.0 * slow.seeds * slow.replicas_factor <= 300
    )
    assert "pass --rescore-top" in (slow.message() or "")
    # far too slow for any reduction to fit: the minimum the verdict needs, and no trimming
    tiny = plan(top=5, seeds=8, replicas_factor=4, auto=auto, n_models=3, search_s=3.0, n_search=1)
    assert (tiny.top, tiny.seeds, tiny.replicas_factor, tiny.trim_designs) == (1, 3, 1, 0)
