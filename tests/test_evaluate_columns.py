"""What a run records comes from ``Evaluator.evaluate_columns``; it must say what ``evaluate`` says."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from swarmdesign.evaluation import column_rows, frame_rows
from swarmdesign.evaluators import Evaluator
from swarmdesign.fitness import Scenario
from swarmdesign.sim import SimulatedEvaluator
from swarmdesign.sim.testing import random_designs

ROOT = Path(__file__).resolve().parents[1]


def scenario() -> Scenario:
    return Scenario.load(ROOT / "fitness" / "software_project.yaml")


def test_simulator_columns_are_its_frame_bit_for_bit() -> None:
    sc = scenario()
    designs = random_designs(np.random.default_rng(4), 20, max_roles=3, max_count=30)
    ev = SimulatedEvaluator(replicas=16)
    frame = ev.evaluate(designs, sc, seed=3)
    columns = ev.evaluate_columns(designs, sc, seed=3)
    assert list(columns) == list(frame.columns)
    for name, values in columns.items():
        assert values.tobytes() == frame[name].to_numpy(dtype=float).tobytes(), name
    assert column_rows(columns, {"quality"}) == frame_rows(frame, {"quality"})


def test_agent_mode_columns_come_from_its_frame() -> None:
    sc = scenario()
    designs = random_designs(np.random.default_rng(5), 2, max_roles=2, max_count=3)
    ev = SimulatedEvaluator(replicas=2, mode="agent")
    frame = ev.evaluate(designs, sc, seed=1)
    columns = ev.evaluate_columns(designs, sc, seed=1)
    assert list(columns) == list(frame.columns)
    for name, values in columns.items():
        np.testing.assert_array_equal(values, frame[name].to_numpy(), err_msg=name)


class _Mixed(Evaluator):
    """A user's evaluator with an integer column and a text column beside the floats."""

    name = "mixed"

    def evaluate(self, designs, scenario, *, seed):  # noqa: ANN001, ANN201
        n = len(designs)
        return pd.DataFrame(
            {"quality": np.linspace(0.1, 0.9, n), "tokens": np.arange(n, dtype=int), "note": ["ok"] * n}
        )


def test_default_columns_keep_each_column_kind() -> None:
    sc = scenario()
    designs = random_designs(np.random.default_rng(6), 3, max_roles=2, max_count=3)
    columns = _Mixed().evaluate_columns(designs, sc, seed=0)
    assert columns["quality"].tolist() == [0.1, 0.5, 0.9]
    assert columns["tokens"].tolist() == [0, 1, 2] and columns["tokens"].dtype.kind == "i"
    assert columns["note"].tolist() == ["ok"] * 3
