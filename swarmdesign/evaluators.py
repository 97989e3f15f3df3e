"""The Evaluator interface and its registry.

An evaluator scores a *batch* of designs under a scenario and returns a
metrics table (one row per design, in order). Batches, not single designs,
because the simulator is vectorised across designs and uses common random
numbers within a batch so that a generation's candidates are compared on the
same draws.

Evaluators are constructed from ``{name, params}`` (stored in a run's
``config.yaml``), so ``__init__`` takes only plain keyword parameters.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from swarmdesign.errors import SwarmdesignError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from swarmdesign.design import Design
    from swarmdesign.fitness import Scenario


def frame_columns(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """A metrics frame as ``{name: array}`` (the form a run records), column kinds kept."""
    names = [str(name) for name in frame.columns]
    if all(dt.kind == "f" for dt in frame.dtypes):
        block = frame.to_numpy(dtype=float)  # one copy: column by column costs ~20 us a column
        return {name: block[:, i] for i, name in enumerate(names)}
    return {name: frame.iloc[:, i].to_numpy() for i, name in enumerate(names)}


@dataclass(frozen=True)
class Progress:
    """Where a batch stands inside one :meth:`Evaluator.evaluate` call.

    For evaluators slow enough that a batch takes minutes (real model calls),
    so a progress display moves between batches. Seconds and US dollars.
    """

    done: int  # work units (design x task) finished in this batch
    total: int  # work units in this batch
    calls: int = 0  # model calls made so far in this batch
    spent_usd: float = 0.0  # USD the run has spent so far, as its cost cap counts it
    elapsed_s: float = 0.0  # since the batch started


ProgressCallback = Callable[[Progress], None]


class Evaluator(ABC):
    """Scores designs. Subclasses implement :meth:`evaluate`."""

    name: ClassVar[str] = ""
    #: True when evaluation spends money or calls the network (LLM evaluators).
    costly: ClassVar[bool] = False
    _progress: ProgressCallback | None = None

    def set_progress(self, callback: ProgressCallback | None) -> None:
        """Receive :class:`Progress` during :meth:`evaluate` (evaluators that report it; others ignore it)."""
        self._progress = callback

    def report_progress(self, progress: Progress) -> None:
        """Pass ``progress`` to the callback, if any; a display error must not stop an evaluation."""
        if self._progress is not None:
            try:
                self._progress(progress)
            except Exception:  # noqa: BLE001 - progress is cosmetic
                self._progress = None

    @abstractmethod
    def evaluate(self, designs: Sequence[Design], scenario: Scenario, *, seed: int) -> pd.DataFrame:
        """Return raw metrics, one row per design in order.

        Must contain at least the columns ``quality`` (0..1), ``cost`` (USD),
        ``latency`` (seconds) and ``robustness`` (0..1). The scenario adds
        ``score``, ``feasible`` and ``violation`` afterwards
        (:meth:`Scenario.finish_metrics`). Deterministic for a given seed.
        """

    def evaluate_columns(self, designs: Sequence[Design], scenario: Scenario, *, seed: int) -> dict[str, np.ndarray]:
        """:meth:`evaluate` as ``{metric: array of shape (n_designs,)}``: what a run records.

        A search scores batches of 16-20 designs, where building and reading a
        frame costs as much as a fast evaluator's work; an evaluator that holds
        its metrics as arrays overrides this and never builds one.
        """
        return frame_columns(self.evaluate(designs, scenario, seed=seed))

    def params(self) -> dict[str, Any]:
        """Constructor parameters, for ``config.yaml``."""
        return {}

    def prepare(self, scenario: Scenario) -> None:
        """Check, before a run folder exists, that this evaluator can score under ``scenario``.

        Raises :class:`SwarmdesignError` for bad input (a missing or malformed
        task set, say), so a bad run leaves nothing behind. The default checks
        nothing.
        """
        return None


#: Built-in evaluators by import path, imported only when built: this module must import
#: none of its implementations (they import the base class from here).
_BUILTIN: dict[str, str] = {
    "simulated": "swarmdesign.sim.evaluator:SimulatedEvaluator",
    "llm": "swarmdesign.llm.evaluator:LLMEvaluator",
}
_REGISTRY: dict[str, Callable[..., Evaluator] | str] = dict(_BUILTIN)


def register_evaluator(name: str, factory: Callable[..., Evaluator] | str) -> None:
    """Register ``factory`` (a callable, or an import path ``package.module:Class``) under ``name``."""
    if name in _REGISTRY:
        raise ValueError(f"evaluator '{name}' is already registered")
    _REGISTRY[name] = factory


def evaluator_names() -> list[str]:
    return sorted(_REGISTRY)


def make_evaluator(name: str, **params: Any) -> Evaluator:
    """Build a registered evaluator, or one named by import path ``package.module:Class``.

    The import-path form lets a user plug in their own evaluator without
    registering it; it is stored as given in ``config.yaml`` so resume and
    remote workers rebuild the same one.
    """
    if ":" in name:
        factory = _import_evaluator(name)
    elif name in _REGISTRY:
        entry = _REGISTRY[name]
        factory = _import_evaluator(entry) if isinstance(entry, str) else entry
    else:
        raise SwarmdesignError(
            f"unknown evaluator '{name}'; expected one of {sorted(_REGISTRY)} or an import path package.module:Class",
            field="evaluator",
        )
    try:
        return factory(**params)
    except TypeError as exc:
        raise SwarmdesignError(f"bad parameters for evaluator '{name}': {exc}", field="evaluator") from None


def _import_evaluator(path: str) -> Callable[..., Evaluator]:
    import importlib

    module_name, _, attr = path.partition(":")
    try:
        obj = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise SwarmdesignError(f"cannot import evaluator '{path}': {exc}", field="evaluator") from None
    if not (isinstance(obj, type) and issubclass(obj, Evaluator)):
        raise SwarmdesignError(f"'{path}' is not an Evaluator subclass", field="evaluator")
    return obj
