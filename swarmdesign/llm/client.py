"""Every LLM call of a run goes through one :class:`LLMClient`: cap, cache, retries, concurrency.

Safety rules, in the order a call meets them:

1. **Cache.** An identical request (model, api_base, messages, parameters incl.
   the sampling seed) is answered from disk and spends nothing.
2. **Hard cost cap.** Before a call, its worst case is reserved: prompt tokens
   estimated by litellm's tokenizer (plus a safety margin) and ``max_tokens``
   completion tokens, at the model's price. If spent + reserved + this call
   would pass the cap, no call is made and :class:`RunStopped` is raised; every
   later call is refused too, so a run stops cleanly and never exceeds the cap.
   The reservation is replaced by the real cost when the call returns.
3. **Concurrency limit.** At most ``concurrency`` requests are in flight.
4. **Per-call timeout and retries** with exponential backoff on rate limits,
   timeouts, connection and server errors; configuration errors (bad key,
   unknown model or provider) stop the run with a one-line error.

Prices come from litellm's bundled price map (``LITELLM_LOCAL_MODEL_COST_MAP``),
or from ``llm.prices`` for models it does not know. API keys are read from the
environment at call time and never stored; :func:`redact` scrubs any secret
from text that goes to traces.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from swarmdesign.errors import RunStopped, SwarmdesignError
from swarmdesign.llm._litellm import import_litellm
from swarmdesign.llm.cache import ResponseCache, default_cache_dir, request_key

if TYPE_CHECKING:
    from types import ModuleType

    from swarmdesign.llm.settings import LLMSettings

#: Prompt-token estimates are multiplied by this and padded, because the
#: provider's tokenizer may count more tokens than litellm's estimate.
ESTIMATE_MARGIN = 1.25
ESTIMATE_PAD_TOKENS = 32
#: Placeholder key sent to an ``api_base`` server when no ``api_key_env`` is set (not a secret).
LOCAL_SERVER_KEY = "sk-local-no-key"
_SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL)", re.IGNORECASE)
_URL_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")


@dataclass
class CallResult:
    """One answered (or failed) call. Dollars in USD, latency in seconds."""

    text: str
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0  # what the call is worth, even when it came from the cache
    spent_usd: float = 0.0  # new money spent by this run (0 for a cache hit)
    latency_s: float = 0.0  # provider time of the original call
    cached: bool = False
    attempts: int = 0
    error: str | None = None
    price_source: str = "unpriced"
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None

    def record(self) -> dict[str, Any]:
        return asdict(self)


def secret_values(extra_env: str | None = None) -> list[str]:
    """Values of environment variables that look like credentials (long enough to matter)."""
    out = [v for k, v in os.environ.items() if _SECRET_NAME.search(k) and len(v) >= 6]
    if extra_env and os.environ.get(extra_env):
        out.append(os.environ[extra_env])
    return sorted(set(out), key=len, reverse=True)


def redact(text: str, secrets: list[str]) -> str:
    """``text`` with every secret value and URL user-info replaced by ``***``."""
    for s in secrets:
        text = text.replace(s, "***")
    return _URL_USERINFO.sub("***@", text)


class Budget:
    """Thread-safe spending account: ``spent`` (settled) + ``reserved`` (in flight) <= ``cap``."""

    def __init__(self, cap_usd: float | None, spent_usd: float = 0.0) -> None:
        self.cap_usd = cap_usd
        self.spent_usd = spent_usd
        self.reserved_usd = 0.0
        self.stopped: RunStopped | None = None
        self._lock = threading.Lock()

    def reserve(self, amount: float) -> None:
        with self._lock:
            if self.stopped is not None:
                raise self.stopped
            if self.cap_usd is not None and self.spent_usd + self.reserved_usd + amount > self.cap_usd:
                self.stopped = RunStopped(
                    f"cost cap of ${self.cap_usd:.4f} reached: spent ${self.spent_usd:.4f}, "
                    f"in flight ${self.reserved_usd:.4f}, next call may cost up to ${amount:.4f}; "
                    "the run stopped cleanly (resume with a higher --max-cost)",
                    field="llm.max_cost_usd",
                )
                raise self.stopped
            self.reserved_usd += amount

    def settle(self, reserved: float, actual: float) -> None:
        with self._lock:
            self.reserved_usd = max(self.reserved_usd - reserved, 0.0)
            self.spent_usd += actual

    def check(self) -> None:
        if self.stopped is not None:
            raise self.stopped


class LLMClient:
    """Calls litellm under the safety rules of the module docstring."""

    def __init__(self, settings: LLMSettings, *, spent_usd: float = 0.0, max_cost_usd: float | None = None) -> None:
        self.settings = settings
        cap = max_cost_usd if max_cost_usd is not None else settings.max_cost_usd
        self.budget = Budget(cap, spent_usd)
        directory = settings.cache_dir or default_cache_dir()
        self.cache = ResponseCache(directory) if settings.cache else None
        self._slots = threading.BoundedSemaphore(settings.concurrency)
        self._litellm: ModuleType | None = None
        self._secrets = secret_values(settings.api_key_env)
        #: Called with (model, dollars) as soon as a call has cost money, before its task ends: the
        #: evaluator appends it to the run's traces so a ``kill -9`` mid-task loses no spending.
        self.on_spend: Callable[[str, float], None] | None = None

    # --------------------------------------------------------------- helpers
    @property
    def litellm(self) -> ModuleType:
        if self._litellm is None:
            self._litellm = import_litellm()
            from swarmdesign.llm.fake import ensure_fake_provider

            ensure_fake_provider(self._litellm)
        return self._litellm

    def redact(self, text: str) -> str:
        return redact(text, self._secrets)

    def price(self, model: str) -> tuple[float, float, str] | None:
        """(USD per input token, USD per output token, source) or None when unknown."""
        if model in self.settings.prices:
            p = self.settings.prices[model]
            return p.input_usd_per_mtok / 1e6, p.output_usd_per_mtok / 1e6, "scenario"
        lm = self.litellm
        candidates = [model]
        provider, sep, rest = model.partition("/")
        custom = {entry.get("provider") for entry in (lm.custom_provider_map or [])}
        if sep and provider in custom:  # an offline stand-in is priced like the model it imitates
            candidates.append(rest)
        for name in candidates:
            try:
                info = lm.get_model_info(model=name)
            except Exception:
                continue
            cin, cout = info.get("input_cost_per_token"), info.get("output_cost_per_token")
            if cin is not None and cout is not None:
                return float(cin), float(cout), "litellm"
        return None

    def estimate_prompt_tokens(self, model: str, messages: list[dict[str, Any]]) -> int:
        try:
            n = int(self.litellm.token_counter(model=model, messages=messages))
        except Exception:
            n = sum(len(str(m.get("content", ""))) for m in messages) // 3 + 4 * len(messages)
        return int(n * ESTIMATE_MARGIN) + ESTIMATE_PAD_TOKENS

    # ------------------------------------------------------------------ call
    def complete(
        self,
        model: str,
        messages: list[dict[str, Any]],
        *,
        seed: int,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> CallResult:
        """One chat completion with ``model`` (a litellm model string). Never raises for a
        transient failure (the result carries ``error``); raises :class:`RunStopped` at the
        cap and :class:`SwarmdesignError` for configuration errors."""
        s = self.settings
        params: dict[str, Any] = {
            "temperature": s.temperature if temperature is None else temperature,
            "max_tokens": s.max_tokens if max_tokens is None else max_tokens,
            "seed": int(seed),
            **s.params,
        }
        record_params = {**params, **({"api_base": self.redact(s.api_base)} if s.api_base else {})}
        key = request_key(model, messages, {**params, "api_base": s.api_base})
        price = self.price(model)
        if price is None and self.budget.cap_usd is not None:
            raise SwarmdesignError(
                f"model '{model}' has no price in litellm's price map, so the cost cap cannot be enforced; "
                f"expected llm.prices['{model}'] (0 for a free local server)",
                field="llm.prices",
            )
        rate_in, rate_out, source = price if price is not None else (0.0, 0.0, "unpriced")
        self.budget.check()
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                pt, ct = int(hit.get("prompt_tokens", 0)), int(hit.get("completion_tokens", 0))
                return CallResult(
                    text=str(hit.get("text", "")),
                    model=model,
                    prompt_tokens=pt,
                    completion_tokens=ct,
                    cost_usd=pt * rate_in + ct * rate_out,
                    latency_s=float(hit.get("latency_s", 0.0)),
                    cached=True,
                    price_source=source,
                    params=record_params,
                )
        worst = self.estimate_prompt_tokens(model, messages) * rate_in + params["max_tokens"] * rate_out
        result = self._call_with_retries(model, messages, params, worst, rate_in, rate_out)
        result.price_source = source
        result.params = record_params
        if result.ok and self.cache is not None:
            self.cache.put(
                key,
                {
                    "text": result.text,
                    "prompt_tokens": result.prompt_tokens,
                    "completion_tokens": result.completion_tokens,
                    "latency_s": result.latency_s,
                    "model": model,
                },
            )
        return result

    def _call_with_retries(
        self,
        model: str,
        messages: list[dict[str, Any]],
        params: dict[str, Any],
        worst: float,
        rate_in: float,
        rate_out: float,
    ) -> CallResult:
        lm = self.litellm
        s = self.settings
        retryable = (
            lm.RateLimitError,
            lm.Timeout,
            lm.APIConnectionError,
            lm.ServiceUnavailableError,
            lm.InternalServerError,
        )
        fatal = (lm.AuthenticationError, lm.PermissionDeniedError, lm.NotFoundError)
        extra: dict[str, Any] = {}
        if s.api_base:
            extra["api_base"] = s.api_base
        if s.api_key_env:
            key_value = os.environ.get(s.api_key_env)
            if not key_value:
                raise SwarmdesignError(
                    f"environment variable {s.api_key_env} is not set; expected it to hold the API key",
                    field="llm.api_key_env",
                )
            extra["api_key"] = key_value
        elif s.api_base:
            extra["api_key"] = LOCAL_SERVER_KEY  # OpenAI-compatible local servers ignore it but the SDK wants one
        error = "no attempt made"
        attempt = 0
        for attempt in range(1, s.retries + 2):
            self.budget.reserve(worst)
            actual = 0.0
            try:
                with self._slots:
                    start = time.perf_counter()
                    response = lm.completion(
                        model=model,
                        messages=messages,
                        timeout=s.timeout_s,
                        num_retries=0,
                        drop_params=True,
                        **params,
                        **extra,
                    )
                    latency = time.perf_counter() - start
                text = response.choices[0].message.content or ""
                usage = getattr(response, "usage", None)
                pt = int(getattr(usage, "prompt_tokens", 0) or 0)
                ct = int(getattr(usage, "completion_tokens", 0) or 0)
                actual = pt * rate_in + ct * rate_out
                return CallResult(
                    text=text,
                    model=model,
                    prompt_tokens=pt,
                    completion_tokens=ct,
                    cost_usd=actual,
                    spent_usd=actual,
                    latency_s=latency,
                    attempts=attempt,
                )
            except fatal as exc:
                raise SwarmdesignError(
                    f"model '{model}': {type(exc).__name__}: {self.redact(str(exc))[:300]}", field="model"
                ) from None
            except retryable as exc:
                error = f"{type(exc).__name__}: {self.redact(str(exc))[:300]}"
                if "Missing credentials" in error or "api_key client option must be set" in error:
                    raise SwarmdesignError(
                        f"model '{model}': no API key; expected llm.api_key_env naming a set variable", field="model"
                    ) from None
            except lm.BadRequestError as exc:
                message = self.redact(str(exc))
                if "LLM Provider NOT provided" in message:
                    raise SwarmdesignError(
                        f"model '{model}' is not a litellm model string: {message[:300]}", field="model"
                    ) from None
                return CallResult(text="", model=model, attempts=attempt, error=f"BadRequestError: {message[:300]}")
            finally:
                self.budget.settle(worst, actual)
                if actual > 0 and self.on_spend is not None:
                    self.on_spend(model, actual)
            if attempt <= s.retries:
                time.sleep(s.backoff_s * 2 ** (attempt - 1))
        return CallResult(text="", model=model, attempts=attempt, error=error)
