"""The ask/tell contract every optimizer follows.

An optimizer proposes points of a :class:`~swarmdesign.space.SearchSpace` and
learns from their objective values. The runner turns every proposal into one
trial of the run's Optuna study, so an optimizer must be able to rebuild its
whole state from that study: this is what makes ``swarmdesign resume`` and
several workers work without any extra bookkeeping.

Two families share the contract:

* :class:`SamplerOptimizer` wraps an Optuna sampler; the sampler itself reads
  the study, so there is nothing to rebuild.
* :class:`PopulationOptimizer` (swarm, genetic) proposes whole generations.
  Its next generation is a deterministic function of the seed and the values
  of the previous generations, all of which are in the study (trial user
  attributes ``generation`` and ``particle``). On start it *replays* the
  recorded generations; a generation cut short by the budget or a kill is
  proposed again and only its missing particles are evaluated.

``__init__`` takes hyperparameters only (scikit-learn's contract) so an
optimizer is rebuilt from ``{name, params}`` in ``config.yaml``.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import optuna
from optuna.trial import TrialState

if TYPE_CHECKING:
    from swarmdesign.space import SearchSpace


@dataclass
class Proposal:
    """One point to evaluate: its params, bookkeeping attrs, and the trial if one was already opened."""

    params: dict[str, Any]
    attrs: dict[str, Any] = field(default_factory=dict)
    trial: optuna.Trial | None = None


@dataclass
class Outcome:
    """What the runner learnt about a proposal.

    ``values`` are the scenario's objectives in their own directions (None if
    the evaluation failed); ``score`` is the scenario's scalarisation (higher
    is better), used by optimizers that need one number.
    """

    values: list[float] | None
    score: float | None


class Optimizer(ABC):
    """Base of every optimizer; see the module docstring."""

    name: ClassVar[str] = ""
    #: Handles several objectives natively (else it optimises the declared ``score``).
    multi_objective: ClassVar[bool] = True
    #: Proposes whole generations (swarm, genetic) rather than single points.
    population_based: ClassVar[bool] = False

    def __init__(self, **hyperparameters: Any) -> None:
        self.hyperparameters = hyperparameters
        self.space: SearchSpace | None = None
        self.directions: list[str] = []
        self.seed = 0
        self.initial: list[dict[str, Any]] = []

    def params(self) -> dict[str, Any]:
        """Constructor hyperparameters, for ``config.yaml``."""
        return dict(self.hyperparameters)

    def bind(
        self,
        space: SearchSpace,
        directions: Sequence[str],
        seed: int,
        *,
        initial: Sequence[dict[str, Any]] = (),
    ) -> None:
        """Attach to a space, the objectives' directions and a seed.

        ``initial`` holds params of known designs (``--seed-design``) that must
        be among the first evaluations.
        """
        self.space = space
        self.directions = list(directions)
        self.seed = int(seed)
        self.initial = [dict(p) for p in initial]

    def sampler(self) -> optuna.samplers.BaseSampler | None:
        """The Optuna sampler the study should use, if this optimizer is one."""
        return None

    @abstractmethod
    def ask(self, study: optuna.Study, n: int) -> list[Proposal]:
        """Up to ``n`` proposals; an empty list means the optimizer is finished."""

    @abstractmethod
    def tell(self, study: optuna.Study, proposals: Sequence[Proposal], outcomes: Sequence[Outcome]) -> None:
        """Learn from the outcomes of proposals returned by :meth:`ask`."""

    # ------------------------------------------------------------ helpers
    def losses(self, outcomes: Sequence[Outcome], *, scalar: bool) -> np.ndarray:
        """Outcomes as values to *minimise*: shape (n,) if scalar else (n, n_objectives).

        Failed evaluations get +inf, so they never win a comparison.
        """
        if scalar:
            if len(self.directions) == 1:
                sign = -1.0 if self.directions[0] == "maximize" else 1.0
                return np.array(
                    [sign * o.values[0] if o.values is not None else math.inf for o in outcomes], dtype=float
                )
            return np.array([-o.score if o.score is not None else math.inf for o in outcomes], dtype=float)
        signs = np.array([-1.0 if d == "maximize" else 1.0 for d in self.directions])
        out = np.full((len(outcomes), len(self.directions)), math.inf)
        for i, o in enumerate(outcomes):
            if o.values is not None:
                out[i] = signs * np.asarray(o.values, dtype=float)
        return out


class SamplerOptimizer(Optimizer):
    """An Optuna sampler driven by ask/tell on the space's fixed distributions."""

    def sampler(self) -> optuna.samplers.BaseSampler:
        return self._make_sampler()

    @abstractmethod
    def _make_sampler(self) -> optuna.samplers.BaseSampler: ...

    def ask(self, study: optuna.Study, n: int) -> list[Proposal]:
        assert self.space is not None, "bind() first"
        if self.initial and not study.trials:
            for params in self.initial:
                study.enqueue_trial(params, user_attrs={"seed_design": True})
        dists = self.space.distributions()
        out = []
        for _ in range(n):
            trial = study.ask(dists)
            out.append(Proposal(params=dict(trial.params), attrs={}, trial=trial))
        return out

    def tell(self, study: optuna.Study, proposals: Sequence[Proposal], outcomes: Sequence[Outcome]) -> None:
        """Nothing to do: the runner tells the study, which is all a sampler reads."""


class PopulationOptimizer(Optimizer):
    """Generation-by-generation optimisers on the unit box; see the module docstring.

    Subclasses implement :meth:`_start` (generation 0) and :meth:`_advance`
    (next generation from the current one and its losses). Both draw all
    randomness from the ``rng`` they are given, which is derived from
    ``(seed, generation)``, so replaying a study reproduces the same state.
    """

    population_based = True

    def __init__(self, population: int = 20, **hyperparameters: Any) -> None:
        super().__init__(population=population, **hyperparameters)
        if population < 2:
            raise ValueError("population must be >= 2")
        self.population = int(population)
        self.generation = 0
        self.positions: np.ndarray | None = None
        self._synced = False

    # ---- subclass hooks
    @abstractmethod
    def _start(self, rng: np.random.Generator) -> np.ndarray:
        """Positions of generation 0, shape (population, dim), in [0, 1]."""

    @abstractmethod
    def _advance(self, rng: np.random.Generator, positions: np.ndarray, losses: np.ndarray) -> np.ndarray:
        """Positions of the next generation given this one's losses (see :meth:`losses`)."""

    def _uses_scalar(self) -> bool:
        return not self.multi_objective or len(self.directions) == 1

    # ---- machinery
    def _rng(self, generation: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, generation])

    def _initial_positions(self) -> np.ndarray:
        assert self.space is not None
        pos = np.clip(self._start(self._rng(0)), 0.0, 1.0)
        for i, params in enumerate(self.initial[: self.population]):
            pos[i] = self.space.params_to_vector(params)
        return pos

    def _recorded(self, study: optuna.Study) -> dict[int, dict[int, optuna.trial.FrozenTrial]]:
        by_gen: dict[int, dict[int, optuna.trial.FrozenTrial]] = {}
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.FAIL)):
            if t.state == TrialState.FAIL and t.user_attrs.get("fail_reason") == "abandoned":
                continue
            g, p = t.user_attrs.get("generation"), t.user_attrs.get("particle")
            if g is not None and p is not None:
                by_gen.setdefault(int(g), {})[int(p)] = t
        return by_gen

    def _sync(self, study: optuna.Study) -> None:
        """Replay the complete generations recorded in the study."""
        recorded = self._recorded(study)
        self.generation = 0
        self.positions = self._initial_positions()
        while len(recorded.get(self.generation, {})) >= self.population:
            trials = recorded[self.generation]
            outcomes = [_outcome_of(trials[i]) for i in range(self.population)]
            self._advance_with(outcomes)
        self._synced = True

    def _advance_with(self, outcomes: Sequence[Outcome]) -> None:
        assert self.positions is not None
        losses = self.losses(outcomes, scalar=self._uses_scalar())
        nxt = self._advance(self._rng(self.generation + 1), self.positions, losses)
        self.positions = np.clip(nxt, 0.0, 1.0)
        self.generation += 1

    def ask(self, study: optuna.Study, n: int) -> list[Proposal]:
        """The current generation's particles not yet recorded (``n`` is ignored)."""
        assert self.space is not None, "bind() first"
        if not self._synced:
            self._sync(study)
        assert self.positions is not None
        done = self._recorded(study).get(self.generation, {})
        return [
            Proposal(
                params=self.space.vector_to_params(self.positions[i]),
                attrs={"generation": self.generation, "particle": i, "optimizer": self.name},
            )
            for i in range(self.population)
            if i not in done
        ]

    def tell(self, study: optuna.Study, proposals: Sequence[Proposal], outcomes: Sequence[Outcome]) -> None:
        """Advance once every particle of the current generation is recorded."""
        recorded = self._recorded(study).get(self.generation, {})
        if len(recorded) >= self.population:
            self._advance_with([_outcome_of(recorded[i]) for i in range(self.population)])


def _outcome_of(trial: optuna.trial.FrozenTrial) -> Outcome:
    if trial.state != TrialState.COMPLETE or trial.values is None:
        return Outcome(values=None, score=None)
    score = trial.user_attrs.get("score")
    return Outcome(values=list(trial.values), score=float(score) if score is not None else None)
