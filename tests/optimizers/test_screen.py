"""psoga's screen: candidate offspring ranked by a Parzen density ratio, only the most promising evaluated."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import optuna
import pytest
from helpers_optimizers import bound, distance_objective, drive, load_space

from swarmdesign import records
from swarmdesign.errors import SwarmdesignError
from swarmdesign.fitness import Scenario
from swarmdesign.optimizers import _deap, _screen, _state, make_optimizer
from swarmdesign.optimizers._genes import GeneLayout, TakenKeys
from swarmdesign.resources import resolve
from swarmdesign.runner import Run, RunSettings
from swarmdesign.storage import OPTIMIZER_STATE_NAME

optuna.logging.set_verbosity(optuna.logging.WARNING)


def test_memory_keeps_the_best_and_the_latest_and_stays_bounded() -> None:
    x = np.arange(10, dtype=float).reshape(10, 1) / 10
    loss = np.array([5.0, 0.0, 6.0, 1.0, 7.0, 8.0, 9.0, 2.0, 3.0, 4.0])
    mx, ml = _screen.remember(None, None, x[:6], loss[:6], keep_best=2, keep_recent=3)
    assert ml.tolist() == [0.0, 6.0, 1.0, 7.0, 8.0]  # the best two (0, 1), then the latest three others
    mx, ml = _screen.remember(mx, ml, x[6:], loss[6:], keep_best=2, keep_recent=3)
    assert len(ml) == 5
    assert sorted(ml.tolist())[:2] == [0.0, 1.0]  # the two best, whenever they came
    assert ml.tolist()[-3:] == [2.0, 3.0, 4.0]  # then the three latest others, in arrival order
    assert np.allclose(mx[:, 0], [0.1, 0.3, 0.7, 0.8, 0.9])  # each loss keeps its own design


def test_ratio_prefers_the_genes_the_good_designs_share() -> None:
    space = load_space("bench_small")
    lay = GeneLayout.of(space)
    rng = np.random.default_rng(0)
    target = lay.snap(rng.random(space.dim))[0]

    def loss(x: np.ndarray) -> np.ndarray:
        return np.abs(lay.snap(x) - target).sum(axis=1)

    memory = lay.snap(rng.random((48, space.dim)))
    fresh = lay.snap(rng.random((400, space.dim)))
    score = _screen.log_ratio(lay, memory, loss(memory), fresh, gamma=0.25)
    assert np.corrcoef(np.argsort(np.argsort(score)), np.argsort(np.argsort(-loss(fresh))))[0, 1] > 0.4
    top, bottom = np.argsort(-score)[:40], np.argsort(score)[:40]
    assert loss(fresh[top]).mean() < loss(fresh[bottom]).mean() - 0.5
    # No split is possible with one design: every candidate scores the same, and the order is kept.
    assert (_screen.log_ratio(lay, memory[:1], loss(memory[:1]), fresh, gamma=0.25) == 0).all()


def test_screened_offspring_are_new_designs_and_the_run_is_deterministic() -> None:
    space = load_space("bench_small")
    objective = distance_objective(space, np.full(space.dim, 0.6))
    studies = [drive(bound("psoga", space, seed=3, screen=6), space, objective, 320, batch=16) for _ in range(2)]
    keys = [[str(sorted(t.params.items())) for t in st.trials] for st in studies]
    assert keys[0] == keys[1]
    assert len(set(keys[0])) == len(keys[0])


@pytest.mark.parametrize("space_name", ["bench_small", "qa_ensemble", "software_team"])
def test_the_chosen_offspring_are_better_than_the_offspring_the_same_parents_would_have(space_name: str) -> None:
    """The screen's reason to exist: of the children a pair of parents can have, it picks better ones.

    A random pick gets the candidates' mean loss; an oracle their best. The screen must recover at least a
    third of the oracle's gain (it recovers ~40 % on the 29 genes of ``software_team``, ~75 % on the others).
    """
    space = load_space(space_name)
    lay = GeneLayout.of(space)
    target = lay.snap(np.random.default_rng(7).random(space.dim))[0]

    def loss(x: np.ndarray) -> np.ndarray:
        return np.abs(lay.snap(x) - target).sum(axis=1)

    opt = bound("psoga", space, population=16, screen=8, seed=0, dedupe=False)  # ranking only: no claims
    positions = opt._start(np.random.default_rng(0))  # noqa: SLF001
    for g in range(4):
        positions = opt._advance(np.random.default_rng(g + 1), positions, loss(positions))  # noqa: SLF001
    parents = lay.snap(opt.swarm.swarm.pbest_pos)
    mates = np.random.default_rng(9).integers(0, 16, size=2 * 60).tolist()
    pairs = [(mates[2 * j], mates[2 * j + 1]) for j in range(60)]
    rng = np.random.default_rng(10)
    with _deap.python_random_from(rng):  # the candidates the screen will see: same generator, same order
        kids = np.array([opt._child(rng, parents, pairs[j // 8], set()) for j in range(480)])  # noqa: SLF001
    rng = np.random.default_rng(10)
    with _deap.python_random_from(rng):
        chosen = opt._screened_children(rng, parents, mates, 60, 8, TakenKeys(set()))  # noqa: SLF001
    every = loss(kids).reshape(60, 8)
    assert all(any(np.array_equal(c, k) for k in kids[8 * j : 8 * j + 8]) for j, c in enumerate(chosen))
    random_pick, oracle, screened = every.mean(), every.min(axis=1).mean(), loss(np.array(chosen)).mean()
    assert screened < random_pick - (random_pick - oracle) / 3


@pytest.mark.parametrize("screen", [0, -1, 2.5, True])
def test_screen_must_be_a_positive_count(screen: object) -> None:
    with pytest.raises(SwarmdesignError, match="screen must be an integer >= 1"):
        bound("psoga", load_space("bench_small"), screen=screen)


def test_the_screen_runs_through_the_real_runner_and_its_memory_is_in_the_saved_state(tmp_path: Path) -> None:
    """Real runs (simulator, journal storage): ``-p screen`` reaches psoga, changes what it proposes after the
    first generation (which has nothing to fit), and the screen's memory is part of the optimizer's saved state."""
    space = load_space("qa_ensemble")
    scenario = Scenario.load(resolve("math_qa", "fitness", option="--fitness"))
    params: dict[int, list[dict]] = {}
    for k in (1, 3):
        settings = RunSettings(
            space=space, scenario=scenario, optimizer="psoga", optimizer_params={"population": 8, "screen": k},
            budget=48, seed=3, batch_size=8, out=tmp_path, name=f"screen{k}",
        )  # fmt: skip
        run = Run.create(settings)
        run.execute()
        params[k] = [t.params for t in records.finished_trials(run.study)]
        opt = make_optimizer("psoga")
        saved = _state.loads((tmp_path / f"screen{k}" / OPTIMIZER_STATE_NAME).read_bytes(), opt._state_classes())  # noqa: SLF001
        memory = saved["state"]["_memory_x"]
        if k == 1:
            assert memory is None
        else:
            assert memory.shape == (48, space.dim)  # every design evaluated so far (fewer than the bound)
    assert len(params[3]) == len(params[1]) == 48
    assert params[3][:8] == params[1][:8]  # the first generation: nothing to screen with
    assert params[3][8:] != params[1][8:]
    keys = [str(sorted(p.items())) for p in params[3]]
    assert len(set(keys)) == len(keys)
