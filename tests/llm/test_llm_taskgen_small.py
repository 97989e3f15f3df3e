"""The small-model task set: reproducible, and every answer right by an independent reading of the question."""

from __future__ import annotations

import json
import re

import pytest

from swarmdesign.llm.taskgen_small import CHOICE_FAMILIES, DEFAULT_FAMILIES, generate, write_jsonl
from swarmdesign.llm.tasks import check_answer, load_tasks
from swarmdesign.resources import resolve


def _solve(question: str) -> int:
    """Answer a question from its text alone (not from the generator's arithmetic)."""
    numbers = [int(x) for x in re.findall(r"\d+", question)]
    if "Choose one of:" in question:
        question = question.split("? Choose")[0]
        numbers = numbers[:2]
    if "+" in question:
        return numbers[0] + numbers[1]
    if " - " in question:
        return numbers[0] - numbers[1]
    if "double" in question:
        return 2 * numbers[0]
    if "right after" in question:
        return numbers[0] + 1
    if "comes next" in question:
        return numbers[-1] + (numbers[-1] - numbers[-2])
    if "larger" in question:
        return max(numbers)
    raise AssertionError(f"unknown question {question!r}")


@pytest.mark.parametrize(("name", "families"), [("small_mixed", DEFAULT_FAMILIES), ("small_choice", CHOICE_FAMILIES)])
def test_bundled_sets_are_the_generator_output_and_correct(tmp_path, name, families):
    bundled = resolve(name, "tasks", option="llm.tasks")
    again = write_jsonl(generate(families=families), tmp_path / "again.jsonl")
    assert again.read_bytes() == bundled.read_bytes()
    items = load_tasks(bundled)
    assert len({it.input for it in items}) == len(items) == 60
    assert {it.meta["family"] for it in items} == set(families)
    for it in items:
        assert int(it.answer) == _solve(it.input)
        assert check_answer(it, f"Let me see.\nANSWER: {it.answer}")
        assert not check_answer(it, f"ANSWER: {int(it.answer) + 1}")
        if "Choose one of:" in it.input:
            options = [int(x) for x in it.input.split("Choose one of:")[1].strip(" .").split(", ")]
            assert len(set(options)) == 3 and int(it.answer) in options


def test_families_and_seeds():
    adds = generate(12, seed=5, families=("add",))
    assert all(t["meta"]["family"] == "add" for t in adds)
    assert generate(12, seed=5, families=("add",)) == adds != generate(12, seed=6, families=("add",))


def test_the_100_task_choice_set_extends_the_60_task_one():
    from swarmdesign.llm.taskgen_small import extend

    small = resolve("small_choice", "tasks", option="llm.tasks")
    bundled = resolve("small_choice_100", "tasks", option="llm.tasks")
    base = [json.loads(line) for line in small.read_text(encoding="utf-8").splitlines()]
    assert bundled.read_text(encoding="utf-8").startswith(small.read_text(encoding="utf-8"))
    rebuilt = extend(base, 100, seed=2027, families=CHOICE_FAMILIES)
    assert "".join(json.dumps(it, ensure_ascii=False) + "\n" for it in rebuilt) == bundled.read_text(encoding="utf-8")
    items = load_tasks(bundled)
    assert len({it.input for it in items}) == len({it.id for it in items}) == 100
    for it in items:
        assert int(it.answer) == _solve(it.input)
    assert extend(base, 60, seed=2027, families=CHOICE_FAMILIES) == base


def test_asking_for_more_questions_than_a_family_has_is_an_error_not_a_hang():
    """``add`` has 81 distinct questions (1-9 + 1-9): 100 of them cannot exist."""
    with pytest.raises(ValueError, match=r"only 81 distinct questions in \['add'\], asked for 100"):
        generate(100, seed=1, families=("add",))
    assert len(generate(100, seed=1, families=("add",), allow_fewer=True)) == 81
