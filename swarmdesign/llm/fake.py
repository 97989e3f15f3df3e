"""A deterministic offline model for tests and dry runs: litellm provider ``fake/<name>``.

It is a real litellm provider (a ``litellm.CustomLLM`` registered in
``litellm.custom_provider_map``), so every call still goes through
``litellm.completion`` and this package's client, cache and cost cap. It
knows the answers of the bundled task sets (or an ``oracle`` given to it) and
answers correctly with probability ``skill``, decided by a hash of (model,
messages, seed) so the same request always gets the same answer. Wrong
answers are near-misses that rarely coincide, so voting helps as it does with
real models. A role policy that asks to work "step by step" adds
``policy_bonus`` to the skill, which gives prompt-editing optimizers a real
signal offline.

Model names: ``fake/<anything>`` has skill 0.6; ``fake/skill-0.85`` sets it;
``delay-0.2`` in the name makes every answer take 0.2 s (a slow provider, for
interruption tests run through the CLI).
Usage counts are ~4 characters per token, priced like the model after the
prefix when litellm knows it (``fake/gpt-4o-mini``), else by ``llm.prices``.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from types import ModuleType

DEFAULT_SKILL = 0.6


def _unit(*parts: object) -> float:
    """A deterministic number in [0, 1) from the parts."""
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _bundled_oracle() -> dict[str, str]:
    from swarmdesign.resources import bundled_dir

    out: dict[str, str] = {}
    folder = bundled_dir("tasks")
    for path in sorted(Path(folder).glob("*.jsonl")) if folder.is_dir() else []:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                out[str(item["input"])] = str(item["answer"])
    return out


def make_fake_provider(
    litellm: ModuleType,
    *,
    oracle: dict[str, str] | None = None,
    policy_bonus: float = 0.2,
    fail_first: int = 0,
    failure: str = "rate_limit",
    delay_s: float = 0.0,
) -> Any:
    """Build the provider instance. ``fail_first`` makes each distinct request fail that many
    times first (``failure`` = ``rate_limit`` or ``timeout``), to exercise retries."""

    class FakeProvider(litellm.CustomLLM):  # type: ignore[name-defined,misc]
        def __init__(self) -> None:
            super().__init__()
            self.oracle = dict(oracle) if oracle is not None else _bundled_oracle()
            self.calls = 0
            self._failures: dict[str, int] = {}
            self._lock = threading.Lock()

        # litellm's CustomLLM interface -------------------------------------
        def completion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> Any:
            optional = kwargs.get("optional_params") or (args[7] if len(args) > 7 else {}) or {}
            timeout = kwargs.get("timeout")
            with self._lock:
                self.calls += 1
            key = json.dumps([model, messages, optional.get("seed")], sort_keys=True, default=str)
            if fail_first:
                with self._lock:
                    seen = self._failures.get(key, 0)
                    self._failures[key] = seen + 1
                if seen < fail_first:
                    if failure == "timeout":
                        raise litellm.Timeout(message="fake timeout", llm_provider="fake", model=model)
                    raise litellm.RateLimitError(message="fake 429", llm_provider="fake", model=model)
            named = re.search(r"delay-([0-9.]+)", model)
            wait_s = delay_s + (float(named.group(1).rstrip(".")) if named else 0.0)
            if wait_s:
                if timeout is not None and float(timeout) < wait_s:
                    time.sleep(float(timeout))
                    raise litellm.Timeout(message="fake timeout", llm_provider="fake", model=model)
                time.sleep(wait_s)
            text = self.answer(model, messages, optional)
            prompt_chars = sum(len(str(m.get("content", ""))) for m in messages)
            max_tokens = int(optional.get("max_tokens") or 10_000)
            completion_tokens = min(max(1, len(text) // 4), max_tokens)
            prompt_tokens = max(1, prompt_chars // 4) + 3 * len(messages)
            return litellm.ModelResponse(
                model=model,
                choices=[{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
                usage={
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            )

        async def acompletion(self, model: str, messages: list, *args: Any, **kwargs: Any) -> Any:
            return self.completion(model, messages, *args, **kwargs)

        # behaviour ------------------------------------------------------------
        def skill(self, model: str, system: str) -> float:
            match = re.search(r"skill-([0-9.]+)", model)
            base = float(match.group(1)) if match else DEFAULT_SKILL
            if "step by step" in system.lower():
                base += policy_bonus
            return min(max(base, 0.0), 1.0)

        def find_task(self, text: str) -> tuple[str, str] | None:
            for question, answer in self.oracle.items():
                if question in text:
                    return question, answer
            return None

        def answer(self, model: str, messages: list, optional: dict) -> str:
            system = " ".join(str(m.get("content", "")) for m in messages if m.get("role") == "system")
            user = "\n".join(str(m.get("content", "")) for m in messages if m.get("role") != "system")
            roll = _unit(model, messages, optional.get("seed"))
            skill = self.skill(model, system)
            if "FLAW:" in system:
                return self.flaws(user)
            if "ADJUST:" in system:
                return "ADJUST: tighten the policy of the role named in the first flaw; keep counts as they are"
            if "POLICY:" in system:
                return "POLICY: Work step by step, keep a running total, and end with one ANSWER line."
            found = self.find_task(user)
            truth = found[1] if found else "unknown"
            wrong = _near_miss(truth, roll)
            if "CHOICE:" in system:
                numbers = re.findall(r"Candidate (\d+): .*?ANSWER:\s*([^\n]*)", user)
                good = [n for n, a in numbers if a.strip() == truth]
                pick = good[0] if good and roll < skill else (numbers[0][0] if numbers else "1")
                return f"CHOICE: {pick}"
            if "VERDICT:" in system:
                proposed = re.search(r"Proposed answer:\s*(\S+)", user)
                right = proposed is not None and proposed.group(1).rstrip(".") == truth
                judged_right = right if roll < skill else not right
                return "VERDICT: OK" if judged_right else "VERDICT: REVISE - recompute each step"
            if "PLAN" in system:
                return "PLAN:\n1. Note the starting amount.\n2. Apply each change in order.\n3. Report the result."
            final = truth if roll < skill else wrong
            return f"I follow the steps in order.\nANSWER: {final}"

        def flaws(self, user: str) -> str:
            roles = re.findall(r"- role (\S+) \(", user)
            target = roles[0] if roles else "solver"
            return (
                f"FLAW: deficient_role_policy | {target} | wrong arithmetic on several tasks\n"
                "FLAW: missing_workflow_step | - | no check of the final answer"
            )

    return FakeProvider()


def _near_miss(truth: str, roll: float) -> str:
    try:
        value = int(float(truth))
    except ValueError:
        return f"not {truth}"
    offset = 1 + int(roll * 1e6) % 7
    return str(value + offset if int(roll * 1e7) % 2 else value - offset)


def register_fake_provider(litellm: ModuleType, provider: Any) -> None:
    """Make ``provider`` the handler of ``fake/...`` models, replacing any earlier one."""
    entries = [e for e in (litellm.custom_provider_map or []) if e.get("provider") != "fake"]
    litellm.custom_provider_map = [*entries, {"provider": "fake", "custom_handler": provider}]


def ensure_fake_provider(litellm: ModuleType) -> None:
    """Register a default fake provider unless one is registered already."""
    if not any(e.get("provider") == "fake" for e in (litellm.custom_provider_map or [])):
        register_fake_provider(litellm, make_fake_provider(litellm))
