"""Task sets for real runs: JSONL items with a checkable answer.

One item per line: ``{"id": ..., "input": ..., "answer": ..., "check": ...}``
where ``check`` says how a model's output is judged:

* ``exact``    the final answer equals ``answer`` (case and surrounding space ignored);
* ``numeric``  the final answer's number equals ``answer`` within ``tolerance`` (absolute);
* ``regex``    ``answer`` is a pattern that must match (``re.search``) the final answer;
* ``contains`` ``answer`` occurs anywhere in the output (case ignored).

The *final answer* is what follows the last ``ANSWER:`` (or "the answer is")
marker, else the last non-empty line: every bundled role prompt asks for that
marker, and weak models that forget it are still judged on what they said
last. A numeric check reads the first number after the marker, else the last
number of that line, else the last number anywhere.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from swarmdesign.design import Float
from swarmdesign.errors import SwarmdesignError, from_validation_error

CheckKind = Literal["exact", "numeric", "regex", "contains"]
MAX_TASK_FILE_BYTES = 50_000_000

_ANSWER_MARK = re.compile(r"\banswer\s*(?:is\s*)?[:=]|\banswer\s+is\b", re.IGNORECASE)
_NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?|[-+]?\.\d+")


class TaskItem(BaseModel):
    """One task: the text a design receives and how its output is checked."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=200)
    input: str = Field(min_length=1, max_length=100_000)
    answer: str = Field(max_length=10_000)
    check: CheckKind = "exact"
    tolerance: Float = Field(default=1e-6, ge=0.0, description="absolute tolerance of a numeric check")
    meta: dict[str, Any] = Field(default_factory=dict, description="free-form labels (e.g. steps) for filters")

    @field_validator("id", "input")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip() or "\x00" in v:
            raise ValueError("expected non-blank text without NUL characters")
        return v


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows; expected a finite number")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}; expected each key at most once")
        out[key] = value
    return out


def _parse_line(line: str) -> Any:
    """One JSON value: no NaN/Infinity, no duplicate keys, no nesting deep enough to exhaust the stack."""
    return json.loads(line, parse_constant=_no_constant, object_pairs_hook=_unique_keys)


def load_tasks(path: str | Path) -> list[TaskItem]:
    """Read and validate a JSONL task file; errors name the file and line."""
    p = Path(path)
    name = str(path)
    if not p.exists():
        raise SwarmdesignError("task file not found", file=name, field="llm.tasks")
    from swarmdesign.yamlio import read_bytes_capped  # regular files only, size capped before reading

    raw = read_bytes_capped(p, MAX_TASK_FILE_BYTES, what="task file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SwarmdesignError(f"not valid UTF-8 (byte {exc.start})", file=name, field="(document)") from None
    items: list[TaskItem] = []
    seen: set[str] = set()
    # JSON Lines are separated by "\n" only: str.splitlines() would also split inside strings at U+2028 etc.
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            data = _parse_line(line)
        except json.JSONDecodeError as exc:
            raise SwarmdesignError(f"invalid JSON: {exc.msg}", file=name, field=f"line {lineno}") from None
        except ValueError as exc:  # a NaN, a duplicate key, a number too long to convert
            raise SwarmdesignError(f"invalid JSON: {exc}", file=name, field=f"line {lineno}") from None
        except RecursionError:
            raise SwarmdesignError("invalid JSON: nests too deeply", file=name, field=f"line {lineno}") from None
        if not isinstance(data, dict):
            raise SwarmdesignError("expected a JSON object per line", file=name, field=f"line {lineno}")
        if data.get("answer") is not None and not isinstance(data["answer"], str):
            data["answer"] = (
                json.dumps(data["answer"]) if not isinstance(data["answer"], int | float) else str(data["answer"])
            )
        try:
            item = TaskItem.model_validate(data)
        except ValidationError as exc:
            raise from_validation_error(exc, file=name, prefix=(f"line {lineno}",)) from None
        if item.check == "regex":
            try:
                re.compile(item.answer)
            except re.error as exc:
                where = f"line {lineno}.answer"
                raise SwarmdesignError(f"answer is not a valid regex: {exc}", file=name, field=where) from None
        if item.check == "numeric" and parse_number(item.answer) is None:
            raise SwarmdesignError(
                f"numeric check needs a number as answer, got {item.answer!r}", file=name, field=f"line {lineno}.answer"
            )
        if item.id in seen:
            raise SwarmdesignError(f"duplicate task id {item.id!r}", file=name, field=f"line {lineno}.id")
        seen.add(item.id)
        items.append(item)
    if not items:
        raise SwarmdesignError(
            "task file holds no tasks; expected one JSON object per line", file=name, field="(document)"
        )
    return items


def final_answer(text: str) -> str:
    """The part of an output that is judged: after the last ``ANSWER:``, else the last line."""
    marks = list(_ANSWER_MARK.finditer(text))
    if marks:
        tail = text[marks[-1].end() :].strip()
        return tail.splitlines()[0].strip() if tail else ""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def answer_number(text: str) -> float | None:
    """The number a model's output commits to; see the module docstring for the rule."""
    marks = list(_ANSWER_MARK.finditer(text))
    if marks:
        tail = text[marks[-1].end() :].strip()
        found = _NUMBER.findall(tail.splitlines()[0]) if tail else []
        if found:
            return _to_float(found[0])
    value = parse_number(final_answer(text))
    return value if value is not None else parse_number(text)


def _to_float(token: str) -> float | None:
    try:
        return float(token.replace(",", ""))
    except ValueError:
        return None


def parse_number(text: str) -> float | None:
    """The last number in ``text`` (thousands separators allowed), or None."""
    found = _NUMBER.findall(text)
    return _to_float(found[-1]) if found else None


def normalise(text: str) -> str:
    """Canonical form of an answer, for exact checks and for voting."""
    out = " ".join(text.strip().split()).casefold()
    return out.rstrip(".").strip("*`\"' ")


def vote_key(text: str, check: CheckKind) -> str:
    """What two outputs must share to count as the same vote: the number for numeric tasks."""
    if check == "numeric":
        value = answer_number(text)
        return "" if value is None else f"{value:.6g}"
    return normalise(final_answer(text))


def check_answer(item: TaskItem, output: str) -> bool:
    """Whether ``output`` solves ``item`` under the item's check kind."""
    answer = final_answer(output)
    if item.check == "exact":
        return normalise(answer) == normalise(item.answer)
    if item.check == "numeric":
        got = answer_number(output)
        want = parse_number(item.answer)
        return got is not None and want is not None and abs(got - want) <= item.tolerance
    if item.check == "regex":
        return re.search(item.answer, answer) is not None
    return item.answer.casefold() in output.casefold()
