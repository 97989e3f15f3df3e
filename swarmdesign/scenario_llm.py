"""The schema of a scenario's ``llm:`` section: how a real run is carried out and what it may spend.

Part of the scenario file format, so it sits beside :mod:`swarmdesign.fitness`
and imports nothing of the ``llm`` package: loading a scenario must not pull
in the LLM evaluator (which imports the scenario module). The evaluator reads
it through :mod:`swarmdesign.llm.settings`. Every field has a safe default, so
``llm: {}`` is a valid section. API keys are never fields: ``api_key_env``
names the environment variable that holds one.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from swarmdesign.errors import from_validation_error

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Price(BaseModel):
    """Dollars per million tokens, for models litellm's price map does not know (local servers)."""

    model_config = ConfigDict(extra="forbid")

    input_usd_per_mtok: float = Field(ge=0.0, le=10_000.0)
    output_usd_per_mtok: float = Field(ge=0.0, le=10_000.0)


class LLMSettings(BaseModel):
    """See the module docstring; each field's description is the user documentation."""

    model_config = ConfigDict(extra="forbid")

    tasks: str = Field(default="arithmetic", description="bundled task set name or path to a JSONL file")
    n_tasks: int = Field(default=20, ge=1, le=100_000, description="tasks run per design (a seeded sample)")
    task_filter: dict[str, list[Any]] = Field(
        default_factory=dict, description="keep tasks whose meta[key] is one of the listed values"
    )
    shuffle: bool = Field(default=True, description="sample tasks with the run's seed; else take the first n_tasks")
    max_tokens: int = Field(default=256, ge=1, le=100_000, description="completion tokens per call")
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    timeout_s: float = Field(default=60.0, gt=0.0, le=3600.0, description="per-call timeout, seconds")
    retries: int = Field(default=3, ge=0, le=20, description="retries on rate limits, timeouts and server errors")
    backoff_s: float = Field(default=1.0, ge=0.0, le=600.0, description="first retry delay; doubles each retry")
    concurrency: int = Field(default=4, ge=1, le=256, description="calls in flight at once")
    max_cost_usd: float | None = Field(default=None, gt=0.0, description="hard cap on new spending for one run")
    max_agents_per_role: int = Field(
        default=5, ge=1, le=64, description="agents of a role that really run per task (attempts are capped alike)"
    )
    api_base: str | None = Field(default=None, description="OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1")
    api_key_env: str | None = Field(default=None, description="NAME of the environment variable holding the key")
    model_map: dict[str, str] = Field(
        default_factory=dict, description="design model -> litellm model (default: the design's string unchanged)"
    )
    prices: dict[str, Price] = Field(default_factory=dict, description="litellm model -> price, overrides the map")
    params: dict[str, Any] = Field(default_factory=dict, description="extra litellm parameters (top_p, stop, ...)")
    cache: bool = Field(default=True, description="reuse answers to identical requests from the on-disk cache")
    cache_dir: str | None = Field(default=None, description="default: $SWARMDESIGN_LLM_CACHE or ~/.cache/swarmdesign")
    flaw_model: str | None = Field(
        default=None, description="model that summarises flaws for swarmagentic (default: the design's first model)"
    )

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, v: str | None) -> str | None:
        if v is not None and not _ENV_NAME.match(v):
            raise ValueError("expected the NAME of an environment variable (e.g. OPENAI_API_KEY), not a key")
        return v

    @field_validator("params")
    @classmethod
    def _no_secrets(cls, v: dict[str, Any]) -> dict[str, Any]:
        reserved = {"api_key", "model", "messages", "api_base", "timeout", "max_tokens", "temperature", "seed"}
        bad = sorted(set(v) & reserved)
        if bad:
            raise ValueError(f"params may not set {bad}; use the dedicated fields (keys via api_key_env)")
        return v

    def litellm_model(self, design_model: str) -> str:
        """The model string passed to litellm for a design's ``model``."""
        return self.model_map.get(design_model, design_model)


def validate_llm_section(section: dict[str, Any] | None, *, file: str | None = None) -> LLMSettings:
    """Parse a scenario's ``llm:`` mapping; errors name ``llm.<field>``."""
    try:
        return LLMSettings.model_validate(section or {})
    except ValidationError as exc:
        raise from_validation_error(exc, file=file, prefix=("llm",)) from None


__all__ = ["LLMSettings", "Price", "validate_llm_section"]
