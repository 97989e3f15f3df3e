"""A resume takes the optimizer's saved state instead of replaying the study, only when it matches the study.

Every test runs real runs (simulator, journal storage). "Same search" is checked
against an unbroken run of the same seed and budget: a checkpoint that restored
anything but the replayed state would change the later trials.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from swarmdesign.fitness import Scenario
from swarmdesign.optimizers import _state
from swarmdesign.optimizers._pyswarms import ParticleSwarm, state_classes
from swarmdesign.optimizers.base import PopulationOptimizer
from swarmdesign.resources import resolve
from swarmdesign.runner import Run, RunSettings
from swarmdesign.space import SearchSpace
from swarmdesign.storage import OPTIMIZER_STATE_NAME

CASES = [
    ("pso", {"population": 8}),
    ("pso", {"population": 8, "topology": "ring", "boundary": "intermediate", "velocity_strategy": "adjust"}),
    ("ga", {"population": 8}),
    ("psoga", {"population": 8}),
]


def _settings(tmp_path: Path, name: str, optimizer: str, params: dict, budget: int) -> RunSettings:
    space = SearchSpace.load(resolve("qa_ensemble", "search_spaces", option="SPACE"))
    scenario = Scenario.load(resolve("math_qa", "fitness", option="--fitness"))
    return RunSettings(
        space=space, scenario=scenario, optimizer=optimizer, optimizer_params=dict(params), budget=budget,
        seed=3, batch_size=5, out=tmp_path, name=name,
    )  # fmt: skip


def _trials(run_dir: Path) -> pd.DataFrame:
    frame = pd.read_csv(run_dir / "trials.csv")
    return frame[[c for c in frame.columns if c.startswith("params_") or c in ("trial", "score")]]


def _count_replays(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Generations replayed by ``_sync`` (each replayed generation passes ``verify=True``)."""
    replayed: list[int] = []
    original = PopulationOptimizer._advance_done

    def spy(self: PopulationOptimizer, trials: dict, *, verify: bool = True) -> None:
        if verify:
            replayed.append(self.generation)
        original(self, trials, verify=verify)

    monkeypatch.setattr(PopulationOptimizer, "_advance_done", spy)
    return replayed


@pytest.mark.parametrize(("optimizer", "params"), CASES)
def test_a_resume_from_the_checkpoint_continues_the_unbroken_search(
    tmp_path: Path, optimizer: str, params: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    Run.create(_settings(tmp_path, "whole", optimizer, params, 93)).execute()
    Run.create(_settings(tmp_path, "cut", optimizer, params, 37)).execute()  # stops mid-generation
    assert (tmp_path / "cut" / OPTIMIZER_STATE_NAME).is_file()
    replayed = _count_replays(monkeypatch)
    run = Run.open(tmp_path / "cut")
    run.optimizer.ask(run.study, 1)  # the first ask syncs
    assert replayed == [], "the checkpoint matched the study, yet the generations were replayed"
    run.execute(budget=93)
    pd.testing.assert_frame_equal(_trials(tmp_path / "whole"), _trials(tmp_path / "cut"))


def test_a_checkpoint_that_no_longer_matches_the_study_is_replayed_instead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A later run killed before it saved (here: the newer state swapped for the older one) leaves the study
    ahead of the checkpoint: the replay, not the stale state, decides the search."""
    Run.create(_settings(tmp_path, "whole", "psoga", {"population": 8}, 80)).execute()
    Run.create(_settings(tmp_path, "cut", "psoga", {"population": 8}, 24)).execute()
    stale = (tmp_path / "cut" / OPTIMIZER_STATE_NAME).read_bytes()
    Run.open(tmp_path / "cut").execute(budget=48)
    (tmp_path / "cut" / OPTIMIZER_STATE_NAME).write_bytes(stale)
    replayed = _count_replays(monkeypatch)
    run = Run.open(tmp_path / "cut")
    run.optimizer.ask(run.study, 1)
    assert replayed == [0, 1, 2, 3, 4, 5], "a stale checkpoint was taken for the study's state"
    run.execute(budget=80)
    pd.testing.assert_frame_equal(_trials(tmp_path / "whole"), _trials(tmp_path / "cut"))


def test_an_unreadable_checkpoint_costs_only_the_replay(tmp_path: Path) -> None:
    Run.create(_settings(tmp_path, "whole", "ga", {"population": 8}, 40)).execute()
    Run.create(_settings(tmp_path, "cut", "ga", {"population": 8}, 20)).execute()
    (tmp_path / "cut" / OPTIMIZER_STATE_NAME).write_bytes(b"not a pickle")
    Run.open(tmp_path / "cut").execute(budget=40)
    pd.testing.assert_frame_equal(_trials(tmp_path / "whole"), _trials(tmp_path / "cut"))
    assert json.loads((tmp_path / "cut" / OPTIMIZER_STATE_NAME).read_bytes())["t"] == "d"  # rewritten at the end


def test_sampler_optimizers_leave_no_state_file(tmp_path: Path) -> None:
    """Optuna samplers read the study themselves: nothing to save, and no older file may be left to mislead."""
    run_dir = tmp_path / "r"
    Run.create(_settings(tmp_path, "r", "random", {}, 10)).execute()
    assert not (run_dir / OPTIMIZER_STATE_NAME).exists()


@pytest.mark.parametrize("topology", ["star", "ring", "vonneumann"])
def test_a_pickled_particle_swarm_moves_like_the_original(topology: str) -> None:
    rng = np.random.default_rng(0)
    swarm = ParticleSwarm(
        6, 4, options={"c1": 1.5, "c2": 1.5, "w": 0.7}, topology=topology, k=3, p=2, max_velocity=0.3,
        boundary="intermediate", velocity_strategy="adjust", init_pos=rng.random((6, 4)), rng=rng,
    )  # fmt: skip
    for _ in range(3):  # handlers with a memory (intermediate, adjust) have one now
        swarm.observe(swarm.swarm.position.copy(), rng.random(6))
        swarm.move(np.random.default_rng(1))
    copy = _state.loads(_state.dumps(swarm, state_classes()), state_classes())
    assert pickle.loads(pickle.dumps(swarm)).swarm.n_particles == 6  # a plain copy works too (process pools)
    losses = rng.random(6)
    for s in (swarm, copy):
        s.observe(s.swarm.position.copy(), losses)
    np.testing.assert_array_equal(swarm.move(np.random.default_rng(2)), copy.move(np.random.default_rng(2)))


def test_the_state_format_holds_plain_data_and_refuses_everything_else() -> None:
    """A run folder is input: the saved state is data only, and a document naming any other class is refused."""
    from collections import OrderedDict

    from swarmdesign.optimizers.base import Outcome, _Done

    classes = {"Done": _Done, "Outcome": Outcome}
    value = {
        1: [1.5, float("inf"), None, True, "x", b"\x00\xff"],
        (2, "a"): (np.arange(6, dtype=np.int64).reshape(2, 3), np.float64(0.25), np.bool_(True)),
        "digests": {bytes([i]) * 16 for i in range(5)},
        "mixed": {3, "three"},
        "order": OrderedDict([("b", 1), ("a", 2)]),
        "done": _Done({"n": 3}, Outcome(values=[0.5, -1.0], score=0.5), '{"x": 1}'),
        "empty": set(),
    }
    back = _state.loads(_state.dumps(value, classes), classes)
    assert back.keys() == value.keys() and back[1] == value[1] and back["digests"] == value["digests"]
    arr, scalar, flag = back[(2, "a")]
    np.testing.assert_array_equal(arr, value[(2, "a")][0])
    assert arr.dtype == np.int64 and type(scalar) is np.float64 and scalar == 0.25 and type(flag) is np.bool_
    assert back["mixed"] == {3, "three"} and list(back["order"]) == ["b", "a"] and type(back["order"]) is OrderedDict
    assert back["done"] == value["done"] and back["empty"] == set()

    for bad in (object(), np.array([object()]), Path("x"), {"k": lambda: 0}):
        with pytest.raises(_state.StateFormatError):
            _state.dumps(bad, classes)
    forged = json.dumps({"t": "o", "c": "Popen", "v": {"t": "d", "v": []}})
    with pytest.raises(_state.StateFormatError, match="not one an optimizer state may hold"):
        _state.loads(forged, classes)
    for junk in (b"\x80\x04K\x01.", b"[1, 2]", b'{"t": "nd", "d": "|O", "s": [1], "v": ""}'):
        with pytest.raises(_state.StateFormatError):
            _state.loads(junk, classes)
