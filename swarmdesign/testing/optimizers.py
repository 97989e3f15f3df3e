"""The conformance suite every registered optimizer passes.

Like Optuna's ``optuna.testing.pytest_samplers``: a test case class that a
test module subclasses, providing the ``optimizer_name`` fixture (usually
parametrised over :func:`swarmdesign.optimizers.optimizer_names`)::

    class TestEveryOptimizer(OptimizerConformance):
        @pytest.fixture(params=optimizer_names())
        def optimizer_name(self, request):
            return request.param

Every test drives the real :class:`~swarmdesign.runner.Run` with the real
simulated evaluator and the run folder's own journal storage in
``tmp_path``, with small budgets. What a test expects depends on the
optimizer's capability flags (``multi_objective``, ``population_based``),
never on its name. An optimizer that cannot run here (a missing optional
dependency) is skipped with its own error message.

What is checked: the ask/tell contract, determinism for a seed, bounds and
the space's constraints, resume after a kill between batches and in the
middle of a batch (population optimizers: exactly the trials of an
uninterrupted run), one and several objectives, ``--seed-design``, and that
unknown parameters are user errors.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pytest
from optuna.trial import FrozenTrial, TrialState

from swarmdesign.design import Design
from swarmdesign.errors import RunStopped, SwarmdesignError
from swarmdesign.evaluators import Evaluator
from swarmdesign.fitness import Scenario
from swarmdesign.optimizers import make_optimizer
from swarmdesign.optimizers.base import Optimizer
from swarmdesign.records import design_of, is_finished
from swarmdesign.resources import resolve
from swarmdesign.runner import Run, RunSettings
from swarmdesign.space import SearchSpace

#: Evaluations per suite run; with POPULATION and BATCH this spans several generations and cuts them mid-way.
BUDGET = 20
POPULATION = 6
BATCH = 4
#: Optimizers that need an optional package (installed by the extra of the same name): the module to import.
OPTIONAL_DEPENDENCIES = {"gp": "torch"}

#: A mixed space (integers, categories, a float, optional roles) whose agent cap forces decode repairs.
CAPPED_SPACE: dict[str, Any] = {
    "swarmdesign_space": 1,
    "name": "conformance",
    "models": ["gpt-4o-mini", "gpt-4o", "llama-3.1-8b"],
    "roles": [
        {"name": "lead", "archetype": "orchestrator", "count": {"min": 0, "max": 3}},
        {"name": "solver", "archetype": "solver", "count": {"min": 1, "max": 40, "log": True}},
        {"name": "checker", "archetype": "reviewer", "count": {"min": 0, "max": 20}},
    ],
    "topology": {"kinds": ["single", "independent", "star", "mesh", "hierarchical"], "branching": {"min": 2, "max": 6}},
    "coordination": {
        "redundancy": {"min": 1, "max": 5},
        "aggregation": ["majority_vote", "judge", "first_valid"],
        "review_rounds": {"min": 0, "max": 2},
        "heterogeneity": {"min": 0.0, "max": 1.0},
    },
    "constraints": {"max_total_agents": 12},
}


def capped_space() -> SearchSpace:
    return SearchSpace.from_dict(CAPPED_SPACE)


def scenario(*, objectives: int) -> Scenario:
    """The bundled ``math_qa`` scenario with one objective (``score``) or two (quality, cost)."""
    base = Scenario.load(resolve("math_qa", "fitness", option="--fitness"))
    data = base.to_dict()
    data["objectives"] = [{"name": "score"}] if objectives == 1 else [{"name": "quality"}, {"name": "cost"}]
    data["constraints"] = {"max_cost_usd": 4.0}
    return Scenario.from_dict(data)


def optimizer_params(name: str) -> dict[str, Any]:
    """Small populations so that a suite budget spans several generations."""
    probe = make_optimizer(name)
    return {"population": POPULATION} if probe.population_based else {}


def create_run(
    name: str,
    out: Path,
    *,
    seed: int = 0,
    objectives: int = 1,
    budget: int = BUDGET,
    space: SearchSpace | None = None,
    seed_designs: Sequence[Design] = (),
    run_name: str = "run",
    pareto: bool = False,
) -> Run:
    """A real run folder (journal storage, simulated evaluator); skips an optimizer that cannot run here."""
    settings = RunSettings(
        space=space or capped_space(),
        scenario=scenario(objectives=objectives),
        optimizer=name,
        optimizer_params=optimizer_params(name),
        budget=budget,
        seed=seed,
        batch_size=BATCH,
        out=out,
        name=run_name,
        seed_designs=list(seed_designs),
        pareto=pareto,
    )
    module = OPTIONAL_DEPENDENCIES.get(name)
    if module is not None:  # the only reason to skip: any other error is a failure
        pytest.importorskip(module, reason=f"optimizer '{name}' needs the optional dependency {module}")
    return Run.create(settings)


def execute(run: Run, **kwargs: Any) -> None:
    run.execute(**kwargs)


def finished(study: optuna.Study) -> list[FrozenTrial]:
    return [t for t in study.get_trials(deepcopy=False) if is_finished(t)]


def signature(t: FrozenTrial) -> tuple[Any, ...]:
    """What must be equal between two runs: params, values, and population bookkeeping."""
    values = None if t.values is None else tuple(round(v, 12) for v in t.values)
    return (
        tuple(sorted(t.params.items())),
        values,
        t.user_attrs.get("generation"),
        t.user_attrs.get("particle"),
    )


class InterruptingEvaluator(Evaluator):
    """Wraps the run's real evaluator and raises KeyboardInterrupt (a kill) on call number ``at``."""

    name = "interrupting"

    def __init__(self, inner: Evaluator, at: int) -> None:
        self.inner, self.at, self.calls = inner, at, 0

    def evaluate(self, designs: Sequence[Design], scenario: Scenario, *, seed: int) -> Any:
        self.calls += 1
        if self.calls == self.at:
            raise KeyboardInterrupt
        return self.inner.evaluate(designs, scenario, seed=seed)


def stop_after(batches: int) -> Callable[[int, int, float | None], None]:
    """An ``on_batch`` callback that interrupts the run after ``batches`` batches (a kill between batches)."""
    seen = {"n": 0}

    def on_batch(done: int, budget: int, best: float | None) -> None:
        seen["n"] += 1
        if seen["n"] == batches:
            raise KeyboardInterrupt

    return on_batch


class OptimizerConformance:
    """Tests every optimizer must pass; subclass and provide the ``optimizer_name`` fixture."""

    @pytest.fixture
    def optimizer_name(self) -> str:
        raise NotImplementedError

    # ------------------------------------------------------------ contract
    def test_runs_to_budget_and_records_every_proposal(self, optimizer_name: str, tmp_path: Path) -> None:
        run = create_run(optimizer_name, tmp_path)
        execute(run)
        trials = finished(run.study)
        assert len(trials) == BUDGET
        dists = run.space.distributions()
        for t in trials:
            assert t.state == TrialState.COMPLETE, t.user_attrs.get("fail_reason")
            assert set(t.params) == set(dists)
            assert design_of(t).roles == run.space.decode_params(t.params).roles
        if run.optimizer.population_based:
            slots = [(t.user_attrs["generation"], t.user_attrs["particle"]) for t in trials]
            assert len(set(slots)) == len(slots), "a (generation, particle) was evaluated twice"
            assert all(0 <= p < POPULATION for _, p in slots)
            assert {t.user_attrs["optimizer"] for t in trials} == {optimizer_name}

    def test_ask_returns_at_most_n_and_tell_accepts_outcomes(self, optimizer_name: str, tmp_path: Path) -> None:
        run = create_run(optimizer_name, tmp_path)
        opt: Optimizer = run.optimizer
        proposals = opt.ask(run.study, 3)
        assert 1 <= len(proposals) <= 3
        outcomes, _ = run.evaluate_and_record(proposals, seed=0)
        assert len(outcomes) == len(proposals)
        opt.tell(run.study, proposals, outcomes)
        again = opt.ask(run.study, 3)
        assert again, "an optimizer with budget left must keep proposing"
        if opt.population_based:  # a recorded particle is never proposed again
            slots = {(p.attrs["generation"], p.attrs["particle"]) for p in proposals}
            assert not slots & {(p.attrs["generation"], p.attrs["particle"]) for p in again}

    def test_same_seed_same_trials_other_seed_other_trials(self, optimizer_name: str, tmp_path: Path) -> None:
        runs = []
        for i, seed in enumerate((3, 3, 4)):
            run = create_run(optimizer_name, tmp_path, seed=seed, run_name=f"r{i}")
            execute(run)
            runs.append([signature(t) for t in finished(run.study)])
        assert runs[0] == runs[1]
        assert runs[0] != runs[2]

    def test_respects_bounds_and_space_constraints(self, optimizer_name: str, tmp_path: Path) -> None:
        run = create_run(optimizer_name, tmp_path)
        execute(run)
        cap = run.space.spec.constraints.max_total_agents
        dists = run.space.distributions()
        for t in finished(run.study):
            for key, value in t.params.items():
                dist = dists[key]
                assert dist._contains(dist.to_internal_repr(value)), (key, value)  # noqa: SLF001
            assert 1 <= design_of(t).total_agents <= cap

    # -------------------------------------------------------------- resume
    def _compare_resumed(self, optimizer_name: str, tmp_path: Path, **interrupt: Any) -> None:
        whole = create_run(optimizer_name, tmp_path, seed=7, run_name="whole")
        execute(whole)
        cut = create_run(optimizer_name, tmp_path, seed=7, run_name="cut")
        if "at_call" in interrupt:
            cut.evaluator = InterruptingEvaluator(cut.evaluator, interrupt["at_call"])
            with pytest.raises(RunStopped):
                execute(cut)
        else:
            with pytest.raises(RunStopped):
                execute(cut, on_batch=stop_after(interrupt["after_batches"]))
        before = [signature(t) for t in finished(cut.study)]
        assert 0 < len(before) < BUDGET
        resumed = Run.open(cut.run_dir)
        execute(resumed)
        expected = [signature(t) for t in finished(whole.study)]
        got = [signature(t) for t in finished(resumed.study)]
        assert len(got) == BUDGET
        assert not [t for t in resumed.study.get_trials(deepcopy=False) if t.state == TrialState.RUNNING]
        assert got[: len(before)] == expected[: len(before)], "trials before the kill differ from a whole run"
        if whole.optimizer.population_based:
            assert got == expected, "a resumed population run must equal the uninterrupted run"
        else:  # a sampler's stream goes on after a resume: it does not start over with the run's first designs
            params = [tuple(sorted(t.params.items())) for t in finished(resumed.study)]
            again = set(params[len(before) :]) & set(params[: len(before)])
            assert len(again) <= 1, f"the resumed run re-proposed {len(again)} designs of its first part"

    def test_resume_after_kill_between_batches(self, optimizer_name: str, tmp_path: Path) -> None:
        # Generations take two batches (4 + 2 particles): the third batch ends mid-generation.
        self._compare_resumed(optimizer_name, tmp_path, after_batches=3)

    def test_resume_after_kill_during_a_batch(self, optimizer_name: str, tmp_path: Path) -> None:
        self._compare_resumed(optimizer_name, tmp_path, at_call=3)

    # ---------------------------------------------------------- objectives
    @pytest.mark.parametrize("objectives", [1, 2])
    def test_one_and_several_objectives(self, optimizer_name: str, tmp_path: Path, objectives: int) -> None:
        """``--pareto`` searches the scenario's objectives (a front when several); a run without it, the score."""
        multi = objectives > 1 and make_optimizer(optimizer_name, **optimizer_params(optimizer_name)).multi_objective
        if objectives > 1:
            score = create_run(optimizer_name, tmp_path, objectives=objectives, run_name="score")
            assert score.config["objectives"] == [{"name": "score", "direction": "maximize"}]
            if not multi:
                with pytest.raises(SwarmdesignError) as err:
                    create_run(optimizer_name, tmp_path, objectives=objectives, pareto=True, run_name="refused")
                assert err.value.field == "--pareto"
                assert not (tmp_path / "refused").exists()
        run = create_run(optimizer_name, tmp_path, objectives=objectives, pareto=multi)
        execute(run)
        expected = objectives if multi else 1
        assert len(run.study.directions) == expected
        trials = finished(run.study)
        assert len(trials) == BUDGET
        assert all(t.values is not None and len(t.values) == expected for t in trials)
        assert all(math.isfinite(float(t.user_attrs["score"])) for t in trials)
        assert run.best_design() is not None

    # -------------------------------------------------------------- seeding
    def test_seed_design_is_among_the_first_evaluations(self, optimizer_name: str, tmp_path: Path) -> None:
        space = capped_space()
        known = space.decode_params(space.sample_params(np.random.default_rng(11)), name="known")
        params = space.design_to_params(known)
        run = create_run(optimizer_name, tmp_path, space=space, seed_designs=[known])
        execute(run, budget=BATCH)
        first = finished(run.study)
        assert any(t.params == params for t in first), "the seed design was not evaluated first"
        if run.optimizer.population_based:
            zero = [t for t in first if t.user_attrs["generation"] == 0 and t.user_attrs["particle"] == 0]
            assert zero and zero[0].params == params

    def test_unknown_parameter_is_a_user_error(self, optimizer_name: str, tmp_path: Path) -> None:
        settings = RunSettings(
            space=capped_space(),
            scenario=scenario(objectives=1),
            optimizer=optimizer_name,
            optimizer_params={"no_such_parameter": 1},
            out=tmp_path,
            name="bad",
        )
        with pytest.raises(SwarmdesignError):
            Run.create(settings)
