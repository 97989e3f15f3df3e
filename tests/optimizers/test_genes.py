"""The genome's bin maths agree with the space, and the variation operators respect gene kinds."""

from __future__ import annotations

import numpy as np
import pytest

from swarmdesign.optimizers import _deap
from swarmdesign.optimizers._genes import CATEGORICAL, FLOAT, INTEGER, DesignKeys, GeneLayout, latin_hypercube
from swarmdesign.resources import resolve
from swarmdesign.space import SearchSpace

SPACES = ["software_team", "qa_ensemble", "million_agents", "bench_small"]


def load(name: str) -> SearchSpace:
    return SearchSpace.load(resolve(name, "search_spaces", option="SPACE"))


def values_of(space: SearchSpace, layout: GeneLayout, x: np.ndarray) -> list[object]:
    """The params a layout's bins name, in the space's own terms."""
    bins = layout.bins(x)[0]
    out: list[object] = []
    for i, p in enumerate(space.params):
        d = p.distribution
        if layout.kind[i] == CATEGORICAL:
            out.append(d.choices[bins[i]])  # type: ignore[attr-defined]
        elif layout.kind[i] == INTEGER:
            out.append(int(bins[i] + layout.low[i]))
        else:
            out.append(None)
    return out


@pytest.mark.parametrize("name", SPACES)
def test_bins_and_centres_agree_with_the_space(name: str) -> None:
    space = load(name)
    layout = GeneLayout.of(space)
    rng = np.random.default_rng(0)
    points = np.vstack([rng.random((400, space.dim)), np.zeros((1, space.dim)), np.ones((1, space.dim))])
    for x in points:
        params = space.vector_to_params(x)
        expected = [params[p.name] if layout.kind[i] != FLOAT else None for i, p in enumerate(space.params)]
        assert values_of(space, layout, x) == expected
        snapped = layout.snap(x)[0]
        assert space.vector_to_params(snapped) == params  # snapping never changes the design
        disc = layout.discrete
        assert np.allclose(snapped[disc], space.params_to_vector(params)[disc])  # centres are encode's


@pytest.mark.parametrize("name", SPACES)
def test_snapping_one_point_gives_the_population_snap_bit_for_bit(name: str) -> None:
    """The operators snap point by point in plain Python; the result must be :meth:`GeneLayout.snap`'s."""
    space = load(name)
    layout = GeneLayout.of(space)
    rng = np.random.default_rng(3)
    inside = rng.random((500, space.dim))
    outside = rng.uniform(-0.5, 1.5, (100, space.dim))  # clipped to the box first
    points = np.vstack([inside, outside, np.zeros((1, space.dim)), np.ones((1, space.dim))])
    whole = layout.snap(points)
    for x, expected in zip(points, whole, strict=True):
        assert layout.snap_point(x).tobytes() == expected.tobytes()
        assert layout.snap_values(x.tolist()) == expected.tolist()


def test_step_changes_an_integer_by_one_and_turns_at_the_ends() -> None:
    space = load("bench_small")
    layout = GeneLayout.of(space)
    g = [p.name for p in space.params].index("count.solver")
    low = layout.snap(np.zeros(space.dim))[0]
    up = layout.step(low, np.array([g]), np.array([-1]))  # at the bottom, -1 turns into +1
    assert space.vector_to_params(up)["count.solver"] == 2


@pytest.mark.parametrize("name", ["qa_ensemble", "software_team"])
def test_mutation_always_changes_the_params_and_stays_in_the_box(name: str) -> None:
    space = load(name)
    layout = GeneLayout.of(space)
    rng = np.random.default_rng(1)
    for x in layout.snap(rng.random((200, space.dim))):
        with _deap.python_random_from(rng):
            child = _deap.mutate(layout, x, rate=1.0 / space.dim, eta=20.0, rng=rng)
        assert ((child >= 0) & (child <= 1)).all()
        assert space.vector_to_params(child) != space.vector_to_params(x)


def test_crossover_takes_each_category_from_a_parent() -> None:
    space = load("qa_ensemble")
    layout = GeneLayout.of(space)
    rng = np.random.default_rng(2)
    cat = layout.kind == CATEGORICAL
    for _ in range(100):
        a, b = layout.snap(rng.random((2, space.dim)))
        with _deap.python_random_from(rng):
            c, d = _deap.crossover(layout, a, b, eta=15.0)
        for child in (c, d):
            assert (np.isclose(child[cat], a[cat]) | np.isclose(child[cat], b[cat])).all()
            assert ((child >= 0) & (child <= 1)).all()


def test_fresh_returns_unseen_designs_until_the_space_is_exhausted() -> None:
    role = {"name": "w", "archetype": "worker", "count": {"min": 1, "max": 3}}
    space = SearchSpace.from_dict({"swarmdesign_space": 1, "name": "tiny", "roles": [role]})
    layout = GeneLayout.of(space)
    keys = DesignKeys(space, layout)
    rng = np.random.default_rng(3)
    seen: set[object] = set()
    with _deap.python_random_from(rng):
        got = [
            _deap.fresh(
                layout.snap_point(rng.random(space.dim)), keys, seen, layout=layout, rate=1.0, eta=20.0, rng=rng
            )
        ]
        for _ in range(2):
            got.append(_deap.fresh(got[-1], keys, seen, layout=layout, rate=1.0, eta=20.0, rng=rng))
        again = _deap.fresh(got[0], keys, seen, layout=layout, rate=1.0, eta=20.0, rng=rng)  # nothing new: accepted
    assert sorted(space.vector_to_params(x)["count.w"] for x in got) == [1, 2, 3]
    assert 1 <= space.vector_to_params(again)["count.w"] <= 3


def test_design_keys_see_through_decode_repairs() -> None:
    space = load("bench_small")
    layout = GeneLayout.of(space)
    keys = DesignKeys(space, layout)
    base = {p.name: space.vector_to_params(np.full(space.dim, 0.5))[p.name] for p in space.params}
    a = dict(base, **{"use.judge": 0, "count.judge": 1})
    b = dict(base, **{"use.judge": 0, "count.judge": 2})  # an absent judge's count changes nothing
    assert keys(space.params_to_vector(a)) == keys(space.params_to_vector(b))
    assert layout.param_key(space.params_to_vector(a)) != layout.param_key(space.params_to_vector(b))


def test_latin_hypercube_fills_every_stratum() -> None:
    x = latin_hypercube(np.random.default_rng(4), 10, 3)
    assert ((x >= 0) & (x < 1)).all()
    for j in range(3):
        assert sorted(np.floor(x[:, j] * 10).astype(int)) == list(range(10))


def test_constrained_losses_follow_debs_rule() -> None:
    losses = np.array([[1.0, 5.0], [9.0, 9.0], [0.0, 0.0], [0.5, 0.5], [np.inf, np.inf]])
    violations = np.array([0.0, 0.0, 2.0, 1.0, 0.0])
    fit = _deap.finite_losses(losses, violations)
    assert np.isfinite(fit).all()
    rank, _ = _deap.rank_and_crowding(fit)
    # feasible (rows 0, 1) before infeasible (3 before 2: smaller violation), failed last
    assert rank[0] < rank[3] < rank[2] < rank[4]
    assert rank[1] < rank[3]


def test_deap_calls_leave_the_global_random_module_alone() -> None:
    import random

    random.seed(123)
    expected = random.random()
    random.seed(123)
    layout = GeneLayout.of(load("qa_ensemble"))
    rng = np.random.default_rng(5)
    with _deap.python_random_from(rng):
        _deap.crossover(layout, np.full(layout.dim, 0.2), np.full(layout.dim, 0.8), eta=15.0)
        inside = random.random()
    assert random.random() == expected
    with _deap.python_random_from(np.random.default_rng(5)):
        _deap.crossover(layout, np.full(layout.dim, 0.2), np.full(layout.dim, 0.8), eta=15.0)
        assert random.random() == inside  # the block is a function of its generator
