"""Rank agreement with its uncertainty: a bootstrap over tasks and design pairs resolved by a paired test."""

from __future__ import annotations

import numpy as np
import pytest

from swarmdesign.llm.rank_stats import bootstrap_spearman, pair_order, paired_differences, verdict_matrix


def _matrix(rates: list[float], n: int, seed: int = 1) -> np.ndarray:
    return (np.random.default_rng(seed).random((len(rates), n)) < np.array(rates)[:, None]).astype(float)


def test_verdict_matrix_keeps_common_tasks_and_the_last_record():
    records = {
        "b": [{"task_id": "t1", "verdict": True}, {"task_id": "t2", "verdict": False}],
        "a": [{"task_id": "t1", "verdict": False}, {"task_id": "t1", "verdict": True}, {"task_id": "t3", "verdict": 1}],
    }
    names, tasks, m = verdict_matrix(records)
    assert names == ["a", "b"] and tasks == ["t1"]
    assert m.tolist() == [[1.0], [1.0]]


def test_paired_differences_use_the_per_task_difference():
    m = np.array([[1, 1, 0, 1], [0, 1, 0, 0]], dtype=float)
    ((i, j, diff, se),) = paired_differences(m)
    d = m[0] - m[1]
    assert (i, j) == (0, 1) and diff == 0.5 and se == pytest.approx(d.std(ddof=1) / 2)


def test_only_real_differences_count_as_resolved():
    m = _matrix([0.2, 0.25, 0.8], 400)
    right = pair_order(m, np.array([0.1, 0.2, 0.9]))
    assert right.resolved == 2 and right.kept_resolved == 2  # 0.2 vs 0.25 is not resolved on 400 tasks
    assert {(i, j) for i, j, _, _ in right.resolved_pairs} == {(0, 2), (1, 2)}
    swapped = pair_order(m, np.array([0.9, 0.2, 0.1]))
    assert swapped.kept_resolved == 0 and swapped.kept_all <= 1
    assert swapped.distinct == right.distinct == 3


def test_the_bootstrap_interval_narrows_with_more_tasks_and_holds_the_estimate():
    predicted = np.array([0.1, 0.3, 0.5, 0.7])
    few = bootstrap_spearman(_matrix([0.3, 0.35, 0.4, 0.45], 30), predicted, n_boot=200)
    many = bootstrap_spearman(_matrix([0.3, 0.35, 0.4, 0.45], 2000), predicted, n_boot=200)
    assert few[1] <= few[0] <= few[2] and many[1] <= many[0] <= many[2]
    assert (many[2] - many[1]) < (few[2] - few[1])
    assert many[0] == pytest.approx(1.0)
