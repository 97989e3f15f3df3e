"""Scenarios: the workload a design is scored on and what "good" means.

A scenario is data (``fitness/*.yaml``, versioned ``swarmdesign_scenario: 1``):
the workload (how many tasks, how hard, how decomposable, how deep the
dependencies), the environment (fault rate, message latency, per-model skill,
price and speed), the objectives with their directions, a declared
scalarisation ``score`` for single-objective optimisers, and constraints.

The evaluator-specific parameters live in their own sections (``simulator``
for the simulated evaluator, ``llm`` for real runs) and are validated by the
module that owns them, so this file never has to know a mechanism's knobs.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from swarmdesign import yamlio
from swarmdesign.design import Float, Int
from swarmdesign.errors import SwarmdesignError, choices, from_validation_error

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

FORMAT_KEY = "swarmdesign_scenario"

#: Metrics every evaluator reports, with the direction in which they are better.
CORE_METRICS: dict[str, str] = {
    "quality": "maximize",  # share of tasks solved correctly, 0..1
    "cost": "minimize",  # dollars for the whole workload
    "latency": "minimize",  # seconds until the whole workload is done
    "robustness": "maximize",  # quality kept under faults / quality without, 0..1
    "score": "maximize",  # the scenario's declared scalarisation
}

#: Metrics the llm evaluator reports besides the core ones (see :mod:`swarmdesign.llm.evaluator`).
LLM_METRICS: tuple[str, ...] = (
    "tasks_run",
    "cost_run",
    "spent_run",
    "latency_per_task",
    "wall_per_task",
    "calls_per_task",
    "prompt_tokens_per_task",
    "completion_tokens_per_task",
    "cache_hit_share",
    "failed_calls",
)


#: Metrics the simulated evaluator reports (the keys of :data:`swarmdesign.sim.metrics.METRICS`), written out
#: here so that checking a scenario's metric names does not import the simulator (numpy, scipy and its
#: mechanisms: most of ``validate``'s and an llm run's start-up). A test keeps the two in step.
SIMULATED_METRICS: tuple[str, ...] = (
    *("quality", "cost", "latency", "robustness", "tokens", "llm_calls", "messages", "messages_per_task"),
    *("channels", "spread_rounds", "hub_utilisation", "hub_busy", "hub_wait_s", "stampede_collisions"),
    *("collision_share", "routing_accuracy", "effective_voters", "voter_correlation", "speedup"),
    *("ideal_latency", "ideal_cost", "agents"),
    *(f"loss_quality_{m}" for m in ("skill", "routing", "planning", "context", "faults", "voting", "review")),
    *(f"loss_quality_{m}" for m in ("handoff", "propagation", "merge", "stampede")),
    *(f"loss_latency_{m}" for m in ("redundancy", "faults", "review", "judge", "hub_queue", "communication")),
    *(f"loss_latency_{m}" for m in ("routing", "stampede", "concurrency", "serial", "contention", "pipeline")),
    *(f"loss_cost_{m}" for m in ("redundancy", "review", "messages", "routing", "coordination", "stampede")),
    *(f"loss_cost_{m}" for m in ("deployment", "faults")),
)


def known_metrics() -> frozenset[str]:
    """Numeric metrics the bundled evaluators report, plus ``score`` and ``violation`` (added here)."""
    return frozenset(CORE_METRICS) | frozenset(SIMULATED_METRICS) | frozenset(LLM_METRICS) | {"violation"}


def reported_metrics(evaluator: Any) -> frozenset[str] | None:
    """What ``evaluator`` reports (after :meth:`Scenario.finish_metrics`), or None when unknown.

    A third-party evaluator may declare its metrics in a ``metrics`` class attribute.
    """
    added = {"score", "violation"}
    name = getattr(evaluator, "name", None)
    if name == "simulated":
        return frozenset(SIMULATED_METRICS) | added
    if name == "llm":
        return frozenset(CORE_METRICS) | frozenset(LLM_METRICS) | added
    declared = getattr(evaluator, "metrics", None)
    return frozenset(declared) | added if declared is not None else None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Difficulty(_Strict):
    """Task difficulty in [0, 1] drawn from a Beta distribution with this mean and spread."""

    mean: Float = Field(default=0.5, gt=0.0, lt=1.0)
    spread: Float = Field(default=0.15, gt=0.0, lt=0.5, description="standard deviation")

    @model_validator(mode="after")
    def _feasible(self) -> Difficulty:
        if self.spread**2 >= self.mean * (1 - self.mean):
            raise ValueError(
                f"spread {self.spread} is too large for mean {self.mean}; expected spread^2 < mean*(1-mean)"
            )
        return self

    def beta_params(self) -> tuple[float, float]:
        nu = self.mean * (1 - self.mean) / self.spread**2 - 1
        return self.mean * nu, (1 - self.mean) * nu


class Workload(_Strict):
    """What has to be done."""

    tasks: Int = Field(default=100, ge=1, le=10_000_000, description="work items in the workload")
    difficulty: Difficulty = Field(default_factory=Difficulty)
    parallel_fraction: Float = Field(default=0.8, ge=0.0, le=1.0, description="Amdahl's p: share that can be split")
    subtasks: Int = Field(default=8, ge=1, le=1_000_000, description="pieces a task splits into when decomposed")
    dependency_depth: Int = Field(default=3, ge=1, le=1000, description="dependent steps on a task's critical path")
    input_tokens_per_step: Int = Field(default=1500, ge=1, le=1_000_000)
    output_tokens_per_step: Int = Field(default=500, ge=1, le=1_000_000)
    scarce_resources: Int | None = Field(
        default=None, ge=1, le=10**9, description="contended options per round (stampedes); None = no contention"
    )

    @property
    def level_sizes(self) -> tuple[int, ...]:
        """Items on each dependent level of a task: ``subtasks`` over ``min(dependency_depth, subtasks)`` levels.

        The one layout both simulator modes use (the earlier levels take the
        remainder, as ``numpy.array_split`` deals it).
        """
        n = min(self.dependency_depth, self.subtasks)
        share, extra = divmod(self.subtasks, n)
        return (share + 1,) * extra + (share,) * (n - extra)


class ModelSpec(_Strict):
    """One model as the environment sees it: skill, price and speed."""

    skill: Float = Field(default=0.0, ge=-10.0, le=10.0, description="ability on a logit scale; 0 = average")
    input_usd_per_mtok: Float = Field(default=0.15, ge=0.0, le=10_000.0)
    output_usd_per_mtok: Float = Field(default=0.60, ge=0.0, le=10_000.0)
    seconds_per_call: Float = Field(default=4.0, gt=0.0, le=3600.0)


class Environment(_Strict):
    """Where the design runs."""

    fault_rate: Float = Field(default=0.01, ge=0.0, lt=1.0, description="probability an agent call fails")
    message_latency_s: Float = Field(default=0.2, ge=0.0, le=3600.0)
    message_tokens: Int = Field(default=200, ge=0, le=1_000_000, description="tokens per inter-agent message")
    models: dict[str, ModelSpec] = Field(default_factory=lambda: {"gpt-4o-mini": ModelSpec()})

    @model_validator(mode="after")
    def _some_model(self) -> Environment:
        if not self.models:
            raise ValueError("models: at least one model is needed")
        return self


class Objective(_Strict):
    name: str
    direction: Literal["maximize", "minimize"] | None = None

    @model_validator(mode="after")
    def _direction(self) -> Objective:
        if self.direction is None:
            if self.name not in CORE_METRICS:
                raise ValueError(f"name: objective '{self.name}' is not a core metric; give its direction explicitly")
            self.direction = CORE_METRICS[self.name]  # type: ignore[assignment]
        return self


class Score(_Strict):
    """score = sum_m weight_m * metric_m / reference_m - penalty * (constraint violation)."""

    weights: dict[str, Float] = Field(default_factory=lambda: {"quality": 1.0, "cost": -0.1, "latency": -0.1})
    reference: dict[str, Float] = Field(default_factory=dict, description="scale of each metric (default 1)")
    penalty: Float = Field(
        default=1.0, ge=0.0, le=1e6, description="score lost per unit of relative constraint violation"
    )

    @model_validator(mode="after")
    def _refs(self) -> Score:
        # Bounded so that every evaluation's score stays finite: a reference of 1e-320 or a weight of 1e308
        # validated and then failed every trial as a non-finite metric.
        for name, ref in self.reference.items():
            if ref <= 0:
                raise ValueError(f"reference.{name}: expected a positive scale, got {ref}")
            if not 1e-9 <= ref <= 1e12:
                raise ValueError(f"reference.{name}: expected a scale between 1e-9 and 1e12, got {ref}")
        for name, weight in self.weights.items():
            if abs(weight) > 1e6:
                raise ValueError(f"weights.{name}: expected a weight between -1e6 and 1e6, got {weight}")
        return self


class Constraints(_Strict):
    max_cost_usd: Float | None = Field(default=None, gt=0)
    max_latency_s: Float | None = Field(default=None, gt=0)
    min_quality: Float | None = Field(default=None, ge=0, le=1)


class Robustness(_Strict):
    """How wrong this scenario's numbers may be: the ranges the robustness stage perturbs them in.

    Read by :mod:`swarmdesign.recommend.robustness`; the ``robustness`` command's options override them.
    """

    scenarios: Int = Field(default=20, ge=1, le=10_000, description="perturbed scenarios to score under")
    skill: Float = Field(default=0.3, ge=0.0, le=5.0, description="each model's skill shifted by up to +- this")
    fault: Float = Field(default=2.0, ge=1.0, le=100.0, description="fault rate times a factor in [1/F, F]")
    price: Float = Field(default=1.5, ge=1.0, le=100.0, description="each model's prices times a factor in [1/P, P]")
    difficulty: Float = Field(default=0.1, ge=0.0, le=0.45, description="mean task difficulty shifted by up to +- this")


class Scenario(_Strict):
    """A workload plus what "good" means; see the module docstring."""

    swarmdesign_scenario: Literal[1] = 1
    name: str = Field(min_length=1)
    description: str | None = None
    workload: Workload = Field(default_factory=Workload)
    environment: Environment = Field(default_factory=Environment)
    objectives: list[Objective] = Field(default_factory=lambda: [Objective(name="score")], min_length=1, max_length=8)
    score: Score = Field(default_factory=Score)
    constraints: Constraints = Field(default_factory=Constraints)
    simulator: dict[str, Any] = Field(default_factory=dict, description="simulated evaluator parameters")
    llm: dict[str, Any] | None = Field(default=None, description="real LLM evaluator parameters")
    robustness: Robustness | None = Field(default=None, description="perturbation ranges of the robustness stage")

    @model_validator(mode="after")
    def _unique_objectives(self) -> Scenario:
        names = [o.name for o in self.objectives]
        if len(set(names)) != len(names):
            raise ValueError(f"objectives: duplicate objective names {names}")
        return self

    @model_validator(mode="after")
    def _known_metric_names(self) -> Scenario:
        """A misspelt metric would only fail once a run has started: refuse it here.

        An objective with an explicit direction may name any metric (a
        third-party evaluator's); weights and references must name a metric the
        bundled evaluators report or such a declared objective.
        """
        known = known_metrics()
        declared = {o.name for o in self.objectives if o.name not in known}
        names = [(f"objectives[{i}].name", o.name) for i, o in enumerate(self.objectives)]
        names += [(f"score.weights.{n}", n) for n in self.score.weights]
        names += [(f"score.reference.{n}", n) for n in self.score.reference]
        for field, name in names:
            if name in known or name in declared:
                continue
            close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ValueError(
                f"{field}: unknown metric {name!r}; {hint}expected a metric an evaluator reports "
                f"({choices(CORE_METRICS)}, or a diagnostic listed in docs/simulator.md and docs/llm.md)"
            )
        return self

    # --------------------------------------------------------------- queries
    @property
    def objective_names(self) -> list[str]:
        return [o.name for o in self.objectives]

    @property
    def directions(self) -> list[str]:
        return [str(o.direction) for o in self.objectives]

    def model(self, name: str) -> ModelSpec:
        """The environment's spec of ``name``; unknown models get the default spec."""
        spec = self.environment.models.get(name)
        return ModelSpec() if spec is None else spec  # built only when missing: the simulator asks per role

    def check_evaluator(self, evaluator: Any, *, file: str | None = None) -> None:
        """Refuse, before anything runs, objectives the evaluator is known not to report.

        ``file`` is the scenario's path, for the message.
        """
        reported = reported_metrics(evaluator)
        if reported is None:
            return
        for i, name in enumerate(self.objective_names):
            if name not in reported:
                raise SwarmdesignError(
                    f"the {getattr(evaluator, 'name', 'chosen')} evaluator does not report metric '{name}'; "
                    f"expected one of {choices(sorted(reported))}",
                    file=file,
                    field=f"objectives[{i}].name",
                )

    # ------------------------------------------------------------- scoring
    def finish_metrics(self, metrics: pd.DataFrame) -> pd.DataFrame:
        """Add ``feasible``, ``violation`` and the declared ``score`` to an evaluator's metrics.

        Done here, not in each evaluator, so that simulated and real scores are
        computed by one rule.
        """
        out = metrics.copy()
        for name, values in self._added_metrics(lambda name: out[name].to_numpy(), out.columns, len(out)).items():
            out[name] = values
        return out

    def finish_columns(self, columns: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """:meth:`finish_metrics` for metrics held as ``{name: array of shape (n_designs,)}``.

        The same rule without pandas, for callers that score a few designs and
        must start fast (``swarmdesign evaluate``).
        """
        out = dict(columns)
        n = len(next(iter(out.values()))) if out else 0
        out.update(self._added_metrics(out.__getitem__, out, n))
        return out

    def _added_metrics(
        self, column: Callable[[str], np.ndarray], names: Iterable[str], n: int
    ) -> dict[str, np.ndarray]:
        """``violation``, ``feasible`` and ``score`` for ``n`` designs whose metric ``name`` is ``column(name)``."""
        import numpy as np

        violation = np.zeros(n)
        c = self.constraints
        if c.max_cost_usd is not None:
            violation += np.maximum(np.asarray(column("cost"), dtype=float) / c.max_cost_usd - 1.0, 0.0)
        if c.max_latency_s is not None:
            violation += np.maximum(np.asarray(column("latency"), dtype=float) / c.max_latency_s - 1.0, 0.0)
        if c.min_quality is not None:
            violation += np.maximum(c.min_quality - np.asarray(column("quality"), dtype=float), 0.0)
        added: dict[str, np.ndarray] = {"violation": violation, "feasible": violation <= 0.0}
        available = sorted({*names, *added})
        for i, name in enumerate(self.objective_names):
            if name not in available and name != "score":
                raise SwarmdesignError(
                    f"objective names metric '{name}', which the evaluator does not report; "
                    f"expected one of {choices(available)}",
                    field=f"objectives[{i}].name",
                )
        score = np.zeros(n)
        for name, weight in self.score.weights.items():
            if name not in available:
                raise SwarmdesignError(
                    f"score weight names metric '{name}', which the evaluator does not report; "
                    f"expected one of {available}",
                    field=f"score.weights.{name}",
                )
            values = added[name] if name in added else column(name)
            score += weight * np.asarray(values, dtype=float) / self.score.reference.get(name, 1.0)
        added["score"] = score - self.score.penalty * violation
        return added

    # ------------------------------------------------------------------- io
    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)

    @classmethod
    def from_dict(cls, data: Any, *, file: str | None = None) -> Scenario:
        if not isinstance(data, dict):
            raise SwarmdesignError("expected a YAML mapping", file=file, field="(document)")
        if type(data.get(FORMAT_KEY)) is not int or data.get(FORMAT_KEY) != 1:
            raise SwarmdesignError(
                f"expected '{FORMAT_KEY}: 1' (a scenario file), got {data.get(FORMAT_KEY)!r}",
                file=file,
                field=FORMAT_KEY,
            )
        try:
            scenario = cls.model_validate(data)
        except ValidationError as exc:
            raise from_validation_error(exc, file=file) from None
        _validate_sections(scenario, file)
        return scenario

    @classmethod
    def load(cls, path: str | Path) -> Scenario:
        return cls.from_dict(yamlio.load_file(path), file=str(path))


def _validate_sections(scenario: Scenario, file: str | None) -> None:
    """Let the owners of the evaluator sections check them at load time."""
    from swarmdesign.sim.params import validate_simulator_section

    try:
        validate_simulator_section(scenario.simulator)
    except SwarmdesignError as exc:
        raise exc.with_file(file) if file else exc from None
    if scenario.llm is not None:
        from swarmdesign.scenario_llm import validate_llm_section

        validate_llm_section(scenario.llm, file=file)
