"""The words exported agents are given when the design does not supply them.

A Design carries an archetype and an optional prompt per role; frameworks want
a goal, a backstory, a task description and an expected output. These defaults
are shared by every target so that the same design reads the same everywhere,
and the CrewAI import recognises them (a default goal or backstory is not
imported as a prompt).
"""

from __future__ import annotations

from types import MappingProxyType

GOALS = MappingProxyType(
    {
        "planner": "Break the work item into clear steps and say who should do each.",
        "orchestrator": "Route each part of the work to the right agent and collect the results.",
        "architect": "Design the structure of the solution before it is built.",
        "coder": "Write correct, working code for your part of the work.",
        "solver": "Solve your part of the work and state the answer clearly.",
        "worker": "Complete your share of the work carefully.",
        "researcher": "Find and summarise the information the work needs.",
        "generalist": "Do the work end to end.",
        "reviewer": "Review the work, point out defects and decide whether it is acceptable.",
        "tester": "Test the work and report every failure you find.",
        "judge": "Compare the candidate answers and pick the best one.",
        "integrator": "Merge the parts into one consistent result.",
        "aggregator": "Combine the results into one final answer.",
    }
)

EXPECTED_OUTPUTS = MappingProxyType(
    {
        "plan": "A numbered plan: the steps, and who should do each.",
        "produce": "Your complete piece of the work.",
        "check": "Your findings, then your verdict.",
        "merge": "The single final result.",
    }
)

AGGREGATION_HINTS = MappingProxyType(
    {
        "majority_vote": "Several attempts reach you: keep the answer most of them agree on.",
        "judge": "Several attempts reach you: judge them and keep the best one.",
        "first_valid": "Several attempts reach you: keep the first one that is valid.",
    }
)

VERDICT_REVISE = "REVISE"
VERDICT_APPROVE = "APPROVE"
VERDICT_HINT = (
    f"End your reply with {VERDICT_APPROVE} if the work is acceptable, or with {VERDICT_REVISE} and what must change."
)
REVISION_HINT = "Revise your earlier work using the feedback you received."


def default_backstory(archetype: str) -> str:
    """The backstory of a role without a prompt."""
    return f"You are the {archetype} of a multi-agent team."


def system_prompt(archetype: str, prompt: str | None) -> str:
    """One instruction text for frameworks that take a single system message."""
    base = prompt if prompt else default_backstory(archetype)
    return f"{base}\n\n{GOALS[archetype]}"
