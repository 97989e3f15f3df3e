"""Prompt files shipped in ``swarmdesign/llm/prompts/``, rendered with ``$name`` placeholders.

Prompts are package data, not inline strings, so they can be read, diffed and
tuned without touching code. ``string.Template`` rather than ``str.format``
because prompts may contain literal braces (JSON examples).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from string import Template

from swarmdesign.archetypes import STAGE_OF

_PACKAGE = "swarmdesign.llm"


@cache
def prompt_text(name: str) -> str:
    """Raw text of ``prompts/<name>.txt`` (cached: the files are immutable package data)."""
    return resources.files(_PACKAGE).joinpath(f"prompts/{name}.txt").read_text(encoding="utf-8")


def render(name: str, **values: object) -> str:
    """``prompts/<name>.txt`` with ``$key`` replaced; unknown placeholders are left as they are."""
    text = Template(prompt_text(name)).safe_substitute({k: str(v) for k, v in values.items()})
    return "\n".join(line.rstrip() for line in text.strip().splitlines() if line.strip())


def approaches() -> list[str]:
    """Distinct solving hints given to replicas of a heterogeneous design."""
    return [ln.strip() for ln in prompt_text("approaches").splitlines() if ln.strip()]


def system_prompt(kind: str, *, role_name: str, archetype: str, policy: str | None, approach: str = "") -> str:
    """The system message of a role acting as ``kind`` (plan, produce, check, judge, merge)."""
    policy_text = policy.strip() if policy else ""
    return render(
        f"system_{kind}",
        role_name=role_name,
        archetype=archetype,
        policy=policy_text,
        approach=("\n" + approach) if approach else "",
    )


def stage_kind(archetype: str) -> str:
    """Which system prompt an archetype uses by default."""
    return {"plan": "plan", "produce": "produce", "check": "check", "merge": "merge"}[STAGE_OF[archetype]]
