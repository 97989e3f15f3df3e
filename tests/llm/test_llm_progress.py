"""Real-model work reports its progress inside a batch: tasks done, calls, spending, time."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys

import pytest
from llm_helpers import scenario, solo, voters

from swarmdesign.llm.confirm import describe
from swarmdesign.llm.evaluator import LLMEvaluator


def test_every_finished_task_is_reported(tmp_path, fake):
    seen = []
    ev = LLMEvaluator(trace_dir=str(tmp_path))
    ev.set_progress(seen.append)
    ev.evaluate([solo(), voters(3)], scenario(n_tasks=3, prices={}), seed=0)
    assert [p.done for p in seen] == list(range(7)) and {p.total for p in seen} == {6}
    assert seen[0].calls == 0 and seen[-1].calls == 3 * 1 + 3 * 3
    assert all(b.calls >= a.calls and b.elapsed_s >= a.elapsed_s for a, b in itertools.pairwise(seen))


def test_a_failing_display_does_not_stop_the_evaluation(tmp_path, fake):
    def broken(_progress):
        raise RuntimeError("terminal gone")

    ev = LLMEvaluator(trace_dir=str(tmp_path))
    ev.set_progress(broken)
    assert ev.evaluate([solo()], scenario(n_tasks=2), seed=0)["tasks_run"].iloc[0] == 2


@pytest.mark.slow  # a CLI run through the llm evaluator: about a minute on 2 busy cores
def test_cli_shows_model_tasks(tmp_path):
    env = {**os.environ, "SWARMDESIGN_LLM_CACHE": str(tmp_path / "cache")}
    cmd = [sys.executable, "-m", "swarmdesign.cli", "run", "qa_ensemble", "--fitness", "llm_offline", "-e", "llm"]
    cmd += ["--budget", "2", "-E", "n_tasks=3", "--no-recommend", "--out", str(tmp_path), "--name", "p"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr
    assert "model tasks" in done.stderr and "calls" in done.stderr


def test_describe_prints_simulated_against_real_and_rank_agreement():
    import pandas as pd

    table = pd.DataFrame(
        {
            "trial": [3, 1, 2],
            "design": ["a", "b", "c"],
            "sim_quality": [0.9, 0.5, 0.7],
            "llm_quality": [0.8, 0.6, 0.4],
            "sim_score": [0.9, 0.5, 0.7],
            "llm_score": [0.8, 0.6, 0.4],
            "sim_rank": [1, 3, 2],
            "llm_rank": [1, 2, 3],
        }
    )
    text = describe(table)
    assert "0.900" in text and "0.400" in text
    assert "Spearman): score 0.50, quality 0.50" in text
