"""Real LLM evaluation: run designs through litellm on checkable task sets.

Importing this package is cheap; litellm (~3 s to import) is loaded only when
a call is made. Public names:

* :class:`LLMEvaluator` - the ``llm`` evaluator (registered as ``"llm"``);
* :class:`LLMSettings` - the scenario's ``llm:`` section;
* :func:`confirm_designs` / :func:`confirm_run` - multi-fidelity confirmation;
* :func:`load_tasks` - read a JSONL task set.
"""

from __future__ import annotations

from swarmdesign.llm.evaluator import LLMEvaluator
from swarmdesign.llm.settings import LLMSettings, validate_llm_section
from swarmdesign.llm.tasks import TaskItem, check_answer, load_tasks

__all__ = ["LLMEvaluator", "LLMSettings", "TaskItem", "check_answer", "load_tasks", "validate_llm_section"]


def __getattr__(name: str) -> object:
    if name in ("confirm_designs", "confirm_run"):
        from swarmdesign.llm import confirm

        return getattr(confirm, name)
    raise AttributeError(name)
