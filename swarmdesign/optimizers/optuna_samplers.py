"""Optuna's samplers as swarmdesign optimizers: tpe, cmaes, nsga2, gp (``random`` is native: :mod:`.random_search`).

Each is a thin :class:`SamplerOptimizer`; hyperparameters are passed to the
sampler's constructor unchanged, so anything Optuna documents works from
``--optimizer-param`` / ``config.yaml``.
"""

from __future__ import annotations

from typing import Any

import optuna

from swarmdesign.optimizers.base import SamplerOptimizer, keyword_parameters


class _OptunaSampler(SamplerOptimizer):
    """A sampler whose hyperparameters are its Optuna class's keyword arguments (``seed`` is the run's)."""

    sampler_class: type[optuna.samplers.BaseSampler]

    @classmethod
    def accepted_params(cls) -> list[str] | None:
        """The sampler's constructor keywords: a misspelt one is named before the run starts."""
        names = keyword_parameters(cls.sampler_class)
        return None if names is None else [n for n in names if n != "seed"]


class TPEOptimizer(_OptunaSampler):
    """Tree-structured Parzen estimator (multivariate, with constant liar for batches)."""

    name = "tpe"
    sampler_class = optuna.samplers.TPESampler

    def _make_sampler(self, seed: int) -> optuna.samplers.BaseSampler:
        kwargs: dict[str, Any] = {"multivariate": True, "constant_liar": True}
        kwargs.update(self.hyperparameters)
        return optuna.samplers.TPESampler(seed=seed, **kwargs)


class CmaEsOptimizer(_OptunaSampler):
    """CMA-ES on the numeric dimensions (categoricals fall back to random); one objective only."""

    name = "cmaes"
    sampler_class = optuna.samplers.CmaEsSampler
    multi_objective = False

    def _make_sampler(self, seed: int) -> optuna.samplers.BaseSampler:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False, **self.hyperparameters)


class NSGA2Optimizer(_OptunaSampler):
    """Optuna's NSGA-II: genetic, Pareto-ranked, for several objectives."""

    name = "nsga2"
    sampler_class = optuna.samplers.NSGAIISampler

    def _make_sampler(self, seed: int) -> optuna.samplers.BaseSampler:
        kwargs: dict[str, Any] = {"population_size": 20}
        kwargs.update(self.hyperparameters)
        return optuna.samplers.NSGAIISampler(seed=seed, **kwargs)


class GPOptimizer(_OptunaSampler):
    """Gaussian-process Bayesian optimisation (needs torch; small budgets)."""

    name = "gp"
    sampler_class = optuna.samplers.GPSampler

    def _make_sampler(self, seed: int) -> optuna.samplers.BaseSampler:
        try:
            import torch  # noqa: F401
        except ImportError:
            from swarmdesign.errors import SwarmdesignError

            raise SwarmdesignError(
                "the 'gp' optimizer needs torch: pip install 'swarmdesign[gp]' (or choose another --optimizer)",
                field="--optimizer",
            ) from None
        return optuna.samplers.GPSampler(seed=seed, **self.hyperparameters)


OPTIMIZERS = [TPEOptimizer, CmaEsOptimizer, NSGA2Optimizer, GPOptimizer]
