"""Optimizer registry: names to factories, refusing duplicates.

Register a new optimizer with :func:`register_optimizer`; the CLI, the
conformance suite and the benchmarks all iterate over :func:`optimizer_names`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from swarmdesign.errors import SwarmdesignError
from swarmdesign.optimizers.base import (
    Optimizer,
    Outcome,
    PopulationOptimizer,
    Proposal,
    SamplerOptimizer,
    keyword_parameters,
)

_REGISTRY: dict[str, Callable[..., Optimizer]] = {}
DEFAULT_OPTIMIZER = "psoga"


def register_optimizer(name: str, factory: Callable[..., Optimizer]) -> None:
    if name in _REGISTRY:
        raise ValueError(f"optimizer '{name}' is already registered")
    _REGISTRY[name] = factory


#: Modules that define built-in optimizers, each with a module-level ``OPTIMIZERS`` list.
BUILTIN_MODULES: tuple[str, ...] = (
    "swarmdesign.optimizers.random_search",
    "swarmdesign.optimizers.optuna_samplers",
    "swarmdesign.optimizers.pso",
    "swarmdesign.optimizers.ga",
    "swarmdesign.optimizers.psoga",
    "swarmdesign.optimizers.swarmagentic",
)


def _load_builtin() -> None:
    if _REGISTRY:
        return
    import importlib

    for module in BUILTIN_MODULES:
        for cls in importlib.import_module(module).OPTIMIZERS:
            register_optimizer(cls.name, cls)


def optimizer_names() -> list[str]:
    _load_builtin()
    return sorted(_REGISTRY)


def multi_objective_names() -> list[str]:
    """Registered optimizers that search several objectives at once (a Pareto front)."""
    _load_builtin()
    return [n for n in sorted(_REGISTRY) if getattr(_REGISTRY[n], "multi_objective", False)]


def budget_population(name: str, params: dict[str, Any], budget: int) -> int | None:
    """The population a run of ``budget`` evaluations gets when ``params`` do not set one (None: the default).

    See :mod:`swarmdesign.optimizers.population`; unknown names give None (``make_optimizer`` reports them).
    """
    from swarmdesign.optimizers.population import population_for_budget

    _load_builtin()
    factory = _REGISTRY.get(name)
    return None if factory is None else population_for_budget(factory, params, budget)


def make_optimizer(name: str, **params: Any) -> Optimizer:
    """Build a registered optimizer; unknown names and bad parameters are user errors."""
    _load_builtin()
    if name not in _REGISTRY:
        raise SwarmdesignError(f"unknown optimizer '{name}'; expected one of {sorted(_REGISTRY)}", field="--optimizer")
    factory = _REGISTRY[name]
    accepted = _accepted(factory)
    unknown = sorted(set(params) - set(accepted)) if accepted is not None else []
    if unknown:
        raise SwarmdesignError(
            f"optimizer '{name}' has no parameter {', '.join(map(repr, unknown))}; expected one of {sorted(accepted)}",
            field="--optimizer-param",
        )
    try:
        return factory(**params)
    except (TypeError, ValueError) as exc:
        raise SwarmdesignError(f"bad parameters for optimizer '{name}': {exc}", field="--optimizer-param") from None


def _accepted(factory: Callable[..., Optimizer]) -> list[str] | None:
    """The keyword parameters ``factory`` takes (None: any).

    A factory that passes its keywords on (the Optuna samplers) says which through ``accepted_params``.
    Why: Python's own message for a misspelt parameter names the class's ``__init__``, not the option.
    """
    declared = getattr(factory, "accepted_params", None)
    return declared() if callable(declared) else keyword_parameters(factory)


__all__ = [
    "DEFAULT_OPTIMIZER",
    "Optimizer",
    "Outcome",
    "PopulationOptimizer",
    "Proposal",
    "SamplerOptimizer",
    "budget_population",
    "make_optimizer",
    "multi_objective_names",
    "optimizer_names",
    "register_optimizer",
]
