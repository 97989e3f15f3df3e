"""The scenario's ``llm:`` section as the LLM evaluator uses it, with CLI overrides applied.

The schema itself is :mod:`swarmdesign.scenario_llm` (part of the scenario
format, imported by the scenario loader); this module depends on it one way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from swarmdesign.errors import SwarmdesignError
from swarmdesign.scenario_llm import LLMSettings, Price, validate_llm_section

if TYPE_CHECKING:
    from swarmdesign.fitness import Scenario

__all__ = ["LLMSettings", "Price", "settings_for", "validate_llm_section"]


def settings_for(scenario: Scenario, **overrides: Any) -> LLMSettings:
    """The scenario's settings with non-None ``overrides`` (CLI options) applied."""
    base = validate_llm_section(scenario.llm)
    updates = {k: v for k, v in overrides.items() if v is not None}
    if not updates:
        return base
    unknown = sorted(set(updates) - set(LLMSettings.model_fields))
    if unknown:
        raise SwarmdesignError(f"unknown llm settings {unknown}", field="llm")
    return validate_llm_section({**base.model_dump(), **updates})
