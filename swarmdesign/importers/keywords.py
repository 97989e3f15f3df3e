"""Guess an archetype from the free text other frameworks use to describe an agent.

Frameworks describe agents in prose ("Senior QA Engineer"); a Design needs one
of a closed set of archetypes. The rules are ordered from specific to general,
so "QA Engineer" is a tester before "engineer" makes it a coder, and "Code
Reviewer" a reviewer before "code" could matter. Matching is on whole words,
case-insensitive, with an optional plural "s".

Example:
    >>> archetype_from_text("Senior QA Engineer")
    'tester'
    >>> archetype_from_text("Content Writer")
    'researcher'
    >>> archetype_from_text("Chief Vibes Officer") is None
    True
"""

from __future__ import annotations

import re

_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("tester", ("tester", "qa", "quality assurance", "test engineer", "testing", "test")),
    ("reviewer", ("reviewer", "review", "critic", "editor", "proofreader", "auditor")),
    ("judge", ("judge", "evaluator", "grader", "verifier", "referee")),
    ("integrator", ("integrator", "merger", "release manager")),
    ("orchestrator", ("orchestrator", "coordinator", "supervisor", "dispatcher", "router")),
    ("planner", ("planner", "manager", "strategist", "product owner", "project lead", "team lead", "director")),
    ("architect", ("architect",)),
    ("aggregator", ("aggregator", "summarizer", "summariser", "synthesizer", "synthesiser", "collector")),
    ("coder", ("coder", "developer", "engineer", "programmer", "implementer", "dev")),
    ("solver", ("solver", "mathematician")),
    ("researcher", ("researcher", "research", "writer", "analyst", "investigator", "author", "journalist")),
    ("worker", ("worker", "assistant", "specialist", "executor", "operator")),
    ("generalist", ("generalist",)),
)

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (archetype, re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")s?\b", re.IGNORECASE))
    for archetype, words in _RULES
)


def archetype_from_text(text: str) -> str | None:
    """The first archetype whose keywords occur in ``text``, or ``None``."""
    for archetype, pattern in _PATTERNS:
        if pattern.search(text):
            return archetype
    return None
