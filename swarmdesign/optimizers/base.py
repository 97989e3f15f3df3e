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

import hashlib
import inspect
import math
import warnings
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import optuna
from optuna.trial import TrialState

from swarmdesign.optimizers import _state

if TYPE_CHECKING:
    from swarmdesign.design import Design
    from swarmdesign.space import SearchSpace


@dataclass
class Proposal:
    """One point to evaluate.

    ``params`` are the space's parameter values, ``attrs`` bookkeeping user
    attributes for its trial, ``system_attrs`` sampler state to keep with the
    trial (CMA-ES stores its state there). ``trial`` is an already opened trial
    of the run's study, for optimizers that open them themselves (none of the
    built-in ones do: the runner records every proposal as a new trial).
    ``design`` and ``design_json`` are the decoded design and its compact JSON
    when the optimizer already built them (to recognise duplicates), so the
    runner does not decode the same params twice.
    """

    params: dict[str, Any]
    attrs: dict[str, Any] = field(default_factory=dict)
    trial: optuna.Trial | None = None
    system_attrs: dict[str, Any] = field(default_factory=dict)
    design: Design | None = None
    design_json: str | None = None


@dataclass
class Outcome:
    """What the runner learnt about a proposal.

    ``values`` are the scenario's objectives in their own directions (None if
    the evaluation failed); ``score`` is the scenario's scalarisation (higher
    is better), used by optimizers that need one number; ``violation`` is the
    scenario's relative constraint violation, which multi-objective
    population optimizers use for constrained domination (the score already
    contains its penalty).
    """

    values: list[float] | None
    score: float | None
    #: The scenario's constraint violation (0 = feasible); has a default, so ``Outcome(values, score)`` still works.
    violation: float = 0.0


#: Format of :meth:`PopulationOptimizer.checkpoint`'s bytes; another format is ignored (the study is replayed).
CHECKPOINT_FORMAT = 2
#: Attributes a checkpoint leaves out: the space (the bound one is used; its digest is checked), the study
#: index and the offered checkpoint itself, and what is derived from the space.
_REBUILT_FROM_SPACE = ("_layout", "_keys")
_NOT_SAVED = ("space", "_index", "_offered", *_REBUILT_FROM_SPACE)


class Optimizer(ABC):
    """Base of every optimizer; see the module docstring."""

    name: ClassVar[str] = ""
    #: Handles several objectives natively (else it optimises the declared ``score``).
    multi_objective: ClassVar[bool] = True
    #: Proposes whole generations (swarm, genetic) rather than single points.
    population_based: ClassVar[bool] = False
    #: Its proposals never depend on outcomes (random search): any batch size proposes the same points.
    independent_proposals: ClassVar[bool] = False
    #: :meth:`ask` and :meth:`tell` read only the study's trials and directions; the runner then hands them
    #: :class:`swarmdesign.run_trials.TrialsView`, and a resume need not open (replay) the study.
    reads_trials_only: ClassVar[bool] = False

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

    def decode(self, proposal: Proposal) -> Design:
        """The design a proposal stands for; optimizers with text state (swarmagentic) override it."""
        assert self.space is not None, "bind() first"
        if proposal.design is not None:
            return proposal.design
        return self.space.decode_params(proposal.params, trusted=True)  # params of the space's own distributions

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

    @staticmethod
    def violations(outcomes: Sequence[Outcome]) -> np.ndarray:
        """Constraint violations, shape (n,); failed evaluations count as feasible (their losses are +inf)."""
        return np.array([max(float(o.violation), 0.0) if o.values is not None else 0.0 for o in outcomes])


class SamplerOptimizer(Optimizer):
    """An Optuna sampler driven by ask/tell on the space's fixed distributions.

    The sampler works on an in-memory *shadow* of the run's study: Optuna's
    journal storage applies one log entry per parameter of an asked trial
    (~12 ms per trial for 30 parameters), while an in-memory study costs
    microseconds. The runner records each proposal in the real study as one
    finished trial; the shadow is rebuilt from the real study on start, so
    resume and the study-as-truth rule still hold.
    """

    def __init__(self, **hyperparameters: Any) -> None:
        super().__init__(**hyperparameters)
        self._shadow: optuna.Study | None = None
        self._open: dict[int, optuna.Trial] = {}

    def sampler(self) -> optuna.samplers.BaseSampler:
        return self._make_sampler(self.seed)

    @abstractmethod
    def _make_sampler(self, seed: int) -> optuna.samplers.BaseSampler: ...

    def _shadow_of(self, study: optuna.Study) -> optuna.Study:
        if self._shadow is None:
            recorded = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.FAIL))
            sampler = self._make_sampler(_resumed_seed(self.seed, len(recorded)))
            shadow = optuna.create_study(
                storage=optuna.storages.InMemoryStorage(), sampler=sampler, directions=study.directions
            )
            if recorded and _reads_history(sampler):
                dists = self.space.distributions() if self.space is not None else {}
                replay = [
                    optuna.trial.create_trial(
                        state=t.state,
                        params=t.params,
                        distributions={k: dists.get(k, d) for k, d in t.distributions.items()},
                        values=t.values if t.state == TrialState.COMPLETE else None,
                        system_attrs=t.system_attrs,
                    )
                    for t in recorded
                ]
                shadow.add_trials(replay)
            if self.initial and not recorded:
                for params in self.initial:
                    shadow.enqueue_trial(params, user_attrs={"seed_design": True})
            self._shadow = shadow
        return self._shadow

    def ask(self, study: optuna.Study, n: int) -> list[Proposal]:
        assert self.space is not None, "bind() first"
        shadow = self._shadow_of(study)
        dists = self.space.distributions()
        out = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            for _ in range(n):
                trial = shadow.ask(dists)
                frozen = shadow._storage.get_trial(trial._trial_id)  # noqa: SLF001 - read its sampler state
                key = id(trial)
                self._open[key] = trial
                attrs = {"optimizer": self.name}
                if frozen.user_attrs.get("seed_design"):
                    attrs["seed_design"] = True
                out.append(
                    Proposal(
                        params=dict(trial.params),
                        attrs=attrs,
                        system_attrs={k: v for k, v in frozen.system_attrs.items() if k != "fixed_params"},
                    )
                )
                out[-1].attrs["_shadow_key"] = key
        return out

    def tell(self, study: optuna.Study, proposals: Sequence[Proposal], outcomes: Sequence[Outcome]) -> None:
        shadow = self._shadow_of(study)
        for proposal, outcome in zip(proposals, outcomes, strict=True):
            trial = self._open.pop(proposal.attrs.pop("_shadow_key", None), None)
            if trial is None:
                continue
            if outcome.values is None:
                shadow.tell(trial, state=TrialState.FAIL)
            else:
                shadow.tell(trial, outcome.values)


def _resumed_seed(seed: int, recorded: int) -> int:
    """The sampler's seed when a run opens with ``recorded`` trials: the run's seed for a new run.

    Why: replayed trials do not advance a sampler's random stream, so a resumed
    run seeded as at its start re-proposed its first designs (a resumed run
    on Optuna's random sampler, 20 + 20 trials, held 20 distinct designs). Deriving the
    seed from the count keeps a resume reproducible and its stream fresh.
    """
    if recorded == 0:
        return seed
    return int(np.random.SeedSequence([seed, recorded]).generate_state(1)[0])


def _reads_history(sampler: optuna.samplers.BaseSampler) -> bool:
    """Whether the sampler's proposals depend on past trials; the shadow replays them only then.

    Replaying costs ~1 ms per trial (``add_trials`` deep-copies each one), which
    a sampler that never reads them (Optuna's ``RandomSampler``) need not pay.
    """
    return not isinstance(sampler, optuna.samplers.RandomSampler)


class PopulationOptimizer(Optimizer):
    """Generation-by-generation optimisers on the unit box; see the module docstring.

    Subclasses implement :meth:`_start` (generation 0, and a fresh internal
    state) and :meth:`_advance` (next generation from the current one and
    its losses), or override :meth:`_next_generation` to see whole outcomes (constraint
    violations too). All draw randomness from the ``rng`` they are given,
    which is derived from ``(seed, generation)``. Any other state (velocities,
    personal bests, parent pools) is built by these calls alone, so replaying
    the study's generations in order rebuilds it exactly.
    """

    population_based = True
    #: Whether a run's budget may enlarge the default population (:mod:`swarmdesign.optimizers.population`).
    scales_with_budget: ClassVar[bool] = False
    #: Whether :meth:`checkpoint` may save this optimizer's state (its state pickles and holds no clients).
    checkpointable: ClassVar[bool] = True
    reads_trials_only: ClassVar[bool] = True

    def __init__(self, population: int = 20, **hyperparameters: Any) -> None:
        super().__init__(population=population, **hyperparameters)
        if isinstance(population, bool) or not isinstance(population, int) or population < 2:
            raise ValueError(f"population must be an integer >= 2, got {population!r}")
        self.population = int(population)
        self.generation = 0
        self.positions: np.ndarray | None = None
        self._synced = False
        self._index = _TrialIndex(self.name)
        self._done: dict[int, dict[int, _Done]] = {}
        self._absorbed = 0
        self._offered: bytes | None = None

    def bind(
        self,
        space: SearchSpace,
        directions: Sequence[str],
        seed: int,
        *,
        initial: Sequence[dict[str, Any]] = (),
    ) -> None:
        super().bind(space, directions, seed, initial=initial)
        self._synced = False
        self._index = _TrialIndex(self.name)
        self._done = {}
        self._absorbed = 0
        self._offered = None

    # ---- subclass hooks
    @abstractmethod
    def _start(self, rng: np.random.Generator) -> np.ndarray:
        """Positions of generation 0, shape (population, dim), in [0, 1]; also resets internal state."""

    @abstractmethod
    def _advance(self, rng: np.random.Generator, positions: np.ndarray, losses: np.ndarray) -> np.ndarray:
        """Positions of the next generation given this one's losses (see :meth:`losses`)."""

    def _next_generation(
        self, rng: np.random.Generator, positions: np.ndarray, outcomes: Sequence[Outcome]
    ) -> np.ndarray:
        """Next generation from this one's outcomes; the default hands :meth:`_advance` the losses."""
        return self._advance(rng, positions, self.losses(outcomes, scalar=self._uses_scalar()))

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
        """Finished trials of this optimizer by generation and particle, read from the study."""
        return self._index.update(study)

    def _complete(self, trials: dict[int, Any]) -> bool:
        return all(i in trials for i in range(self.population))

    def _sync(self, study: optuna.Study) -> None:
        """Replay the complete generations recorded in the study (once, on the first ask or tell).

        After this the optimizer learns each batch from :meth:`tell` alone:
        rereading the study every batch would cost time proportional to the
        trials already run. The study stays the truth: a new process (resume)
        replays it again.
        """
        recorded = self._recorded(study)
        offered, self._offered = self._offered, None
        if offered is not None and self._restore(offered, recorded):
            return
        self._absorbed = sum(len(trials) for trials in recorded.values())
        self._done = {
            g: {i: _Done(t.params, outcome_of(t)) for i, t in trials.items()} for g, trials in recorded.items()
        }
        self.generation = 0
        self.positions = self._initial_positions()
        while self._complete(self._done.get(self.generation, {})):
            self._advance_done(self._done.pop(self.generation))
        self._index = _TrialIndex(self.name)  # not read again by this object: free what it holds
        self._synced = True

    def _advance_done(self, trials: dict[int, _Done], *, verify: bool = True) -> None:
        """Advance past the current generation, every particle of which is finished.

        The recorded params must be the ones this optimizer proposes; if they
        are not (the code or hyperparameters changed since the run started),
        the recorded designs win, with a warning, so a resume still continues
        from what was really evaluated. ``verify=False`` skips the check for a
        generation this object has just proposed itself.
        """
        assert self.positions is not None and self.space is not None
        for i in range(self.population if verify else 0):
            recorded = trials[i].params
            if self.space.vector_to_params(self.positions[i]) != recorded:
                warnings.warn(
                    f"{self.name}: generation {self.generation} particle {i} in the study differs from its replay "
                    "(were the optimizer or its parameters changed?); continuing from the recorded design",
                    RuntimeWarning,
                    stacklevel=3,
                )
                self.positions[i] = self.space.params_to_vector(recorded)
        self._advance_with([trials[i].outcome for i in range(self.population)])

    def _advance_recorded(self, trials: dict[int, optuna.trial.FrozenTrial], *, verify: bool = True) -> None:
        """:meth:`_advance_done` from the study's trials of the current generation."""
        self._advance_done({i: _Done(t.params, outcome_of(t)) for i, t in trials.items()}, verify=verify)

    def _advance_with(self, outcomes: Sequence[Outcome]) -> None:
        assert self.positions is not None
        nxt = self._next_generation(self._rng(self.generation + 1), self.positions.copy(), outcomes)
        self.positions = np.clip(np.asarray(nxt, dtype=float), 0.0, 1.0)
        self.generation += 1

    def _proposal(self, i: int) -> Proposal:
        """Particle ``i`` of the current generation as a proposal."""
        assert self.positions is not None and self.space is not None
        return Proposal(
            params=self.space.vector_to_params(self.positions[i]),
            attrs={"generation": self.generation, "particle": i, "optimizer": self.name},
        )

    def ask(self, study: optuna.Study, n: int) -> list[Proposal]:
        """Up to ``n`` particles of the current generation that are not finished yet."""
        assert self.space is not None, "bind() first"
        if not self._synced:
            self._sync(study)
        assert self.positions is not None
        done = self._finished_now(study)
        missing = [i for i in range(self.population) if i not in done][: max(int(n), 0)]
        return [self._proposal(i) for i in missing]

    def _finished_now(self, study: optuna.Study) -> dict[int, Any]:
        """Particles of the current generation already finished (optimizers that read the study override it)."""
        return self._done.get(self.generation, {})

    def tell(self, study: optuna.Study, proposals: Sequence[Proposal], outcomes: Sequence[Outcome]) -> None:
        """Remember the outcomes; advance once every particle of the current generation is finished."""
        if not self._synced:
            self._sync(study)
            return
        for p, o in zip(proposals, outcomes, strict=True):
            g, i = p.attrs.get("generation"), p.attrs.get("particle")
            if g is not None and i is not None:
                slot = self._done.setdefault(int(g), {})
                if int(i) not in slot:
                    slot[int(i)] = _Done(p.params, o, p.design_json)
                    self._absorbed += 1
        verify = False  # the current generation's params are this object's own proposals
        while self._complete(self._done.get(self.generation, {})):
            self._advance_done(self._done.pop(self.generation), verify=verify)
            verify = True

    # ---- checkpoints: a resume without the replay
    def checkpoint(self) -> bytes | None:
        """This optimizer's state after every trial it has learnt from, or None when it has none to save.

        Replaying a study costs as much optimizer work as the run itself
        (every generation is evolved again), which dominates ``resume`` of a
        large run. The runner saves this at the end of each ``execute`` next
        to the study; a new process offers it back (:meth:`offer_checkpoint`)
        and uses it only when it matches the study exactly, so the study
        stays the source of truth and any mismatch (a killed run, another
        worker, changed code) costs the replay, never a different search.
        """
        if not (self.checkpointable and self._synced):
            return None
        state = {k: v for k, v in self.__dict__.items() if k not in _NOT_SAVED}
        try:
            return _state.dumps({"head": self._checkpoint_head(), "state": state}, self._state_classes()).encode()
        except _state.StateFormatError as exc:  # state this format cannot hold: no shortcut, the replay stays
            warnings.warn(f"{self.name}: optimizer state not saved ({exc}); a resume replays the study", stacklevel=2)
            return None

    def offer_checkpoint(self, blob: bytes) -> None:
        """A saved :meth:`checkpoint`, used by the first sync if it matches the study."""
        if self.checkpointable:
            self._offered = blob

    def _checkpoint_head(self) -> dict[str, Any]:
        """What a checkpoint must share with this object and the study to stand for their replay."""
        assert self.space is not None
        space = hashlib.blake2b(repr(self.space.to_dict()).encode(), digest_size=16).hexdigest()
        return {
            "format": CHECKPOINT_FORMAT,
            "class": f"{type(self).__module__}.{type(self).__qualname__}",
            "name": self.name,
            "hyperparameters": repr(sorted(self.hyperparameters.items())),
            "seed": self.seed,
            "directions": list(self.directions),
            "initial": repr(self.initial),
            "space": space,
            "absorbed": self._absorbed,
        }

    def _state_classes(self) -> dict[str, type]:
        """Classes a saved state may hold besides plain data (subclasses add their own)."""
        return {"Done": _Done, "Outcome": Outcome}

    def _restore(self, blob: bytes, recorded: dict[int, dict[int, Any]]) -> bool:
        """Take the state of ``blob`` if it stands for exactly the ``recorded`` trials; False to replay instead."""
        try:
            saved = _state.loads(blob, self._state_classes())
            head, state = saved["head"], saved["state"]
        except (_state.StateFormatError, TypeError, KeyError):  # an unreadable state is only a missed shortcut
            return False
        absorbed = sum(len(trials) for trials in recorded.values())
        expected = {**self._checkpoint_head(), "absorbed": absorbed}
        if not isinstance(head, dict) or head != expected or not isinstance(state, dict):
            return False
        self.__dict__.update(state)
        for name in _REBUILT_FROM_SPACE:  # derived from the (bound, identical) space; rebuilt when first needed
            if name in self.__dict__:
                self.__dict__[name] = None
        self._index = _TrialIndex(self.name)
        self._synced = True
        return True


@dataclass
class _Done:
    """A finished particle: its params, outcome and (for this process's own proposals) design JSON.

    Read back from the study, the design JSON is left out: nothing needs it to
    advance, and a resume from ``trials.csv`` would read each from the journal.
    """

    params: dict[str, Any]
    outcome: Outcome
    design_json: str | None = None


class _TrialIndex:
    """``generation -> particle -> trial`` for one optimizer's finished trials, updated incrementally.

    A run of thousands of evaluations asks and tells hundreds of times;
    rescanning every trial each time would make the bookkeeping quadratic.
    Trials before ``_scanned`` are all in a final state and indexed; only
    newer ones (and any still RUNNING or WAITING) are looked at again. The
    first finished trial of a (generation, particle) wins, so a duplicate
    from another worker never changes a replay.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._study: optuna.Study | None = None
        self._scanned = 0
        self._by_gen: dict[int, dict[int, optuna.trial.FrozenTrial]] = {}

    def update(self, study: optuna.Study) -> dict[int, dict[int, optuna.trial.FrozenTrial]]:
        if study is not self._study:
            self._study, self._scanned, self._by_gen = study, 0, {}
        trials = study.get_trials(deepcopy=False)
        settled = True
        for pos in range(self._scanned, len(trials)):
            t = trials[pos]
            if t.state in (TrialState.RUNNING, TrialState.WAITING):
                settled = False
                continue
            if settled:
                self._scanned = pos + 1
            attrs = t.user_attrs
            if t.state == TrialState.FAIL and attrs.get("fail_reason", "abandoned") == "abandoned":
                continue
            if t.state not in (TrialState.COMPLETE, TrialState.FAIL) or attrs.get("optimizer") != self.name:
                continue
            g, p = attrs.get("generation"), attrs.get("particle")
            if g is not None and p is not None:
                self._by_gen.setdefault(int(g), {}).setdefault(int(p), t)
        return self._by_gen


def keyword_parameters(factory: Any) -> list[str] | None:  # noqa: ANN401 - a class or any callable
    """The keyword parameters ``factory`` takes (None: any, it has ``**kwargs`` or no readable signature)."""
    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return None
    if any(p.kind == inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return None
    keyword = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [n for n, p in parameters.items() if p.kind in keyword]


def outcome_of(trial: optuna.trial.FrozenTrial) -> Outcome:
    """A finished trial as the :class:`Outcome` its batch executor reported (values, score, violation)."""
    if trial.state != TrialState.COMPLETE or trial.values is None:
        return Outcome(values=None, score=None)
    score = trial.user_attrs.get("score")
    violation = trial.user_attrs.get("violation")
    return Outcome(
        values=list(trial.values),
        score=float(score) if score is not None else None,
        violation=float(violation) if isinstance(violation, int | float) and math.isfinite(violation) else 0.0,
    )
