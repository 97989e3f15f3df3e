from __future__ import annotations

import json

import pytest

from swarmdesign.errors import SwarmdesignError
from swarmdesign.llm.taskgen import generate, write_jsonl
from swarmdesign.llm.tasks import TaskItem, answer_number, check_answer, final_answer, load_tasks, vote_key
from swarmdesign.resources import bundled_dir, resolve


def test_bundled_set_is_the_generator_output(tmp_path):
    bundled = resolve("arithmetic", "tasks", option="llm.tasks")
    regenerated = write_jsonl(generate(), tmp_path / "a.jsonl")
    assert bundled.read_bytes() == regenerated.read_bytes()
    items = load_tasks(bundled)
    assert len(items) == 100
    assert {it.meta["steps"] for it in items} == {1, 2, 3, 4}
    assert bundled.parent == bundled_dir("tasks")


def test_generated_answers_are_right():
    # Re-derive each answer from the sentence templates the generator uses.
    import re

    for item in generate(40, seed=7):
        sentences = item["input"].split(". ")
        value = int(re.search(r"has (\d+)", sentences[0]).group(1))
        for s in sentences[1:-1]:
            n = [int(x) for x in re.findall(r"\d+", s)]
            if "gets" in s:
                value += n[0]
            elif "gives away" in s:
                value -= n[0]
            elif "doubles" in s:
                value *= 2
            elif "triples" in s:
                value *= 3
            elif "splits" in s:
                value //= n[0]
        assert str(value) == item["answer"], item
        assert value >= 0


@pytest.mark.parametrize(
    ("check", "answer", "output", "ok"),
    [
        ("numeric", "13", "Jon has 7 + 6 = 13.\nANSWER: 13", True),
        ("numeric", "13", "The answer is 13, because 7 + 6", True),
        ("numeric", "13", "ANSWER: 14", False),
        ("numeric", "1234", "ANSWER: 1,234", True),
        ("exact", "Paris", "answer: paris.", True),
        ("exact", "Paris", "ANSWER: Lyon", False),
        ("regex", r"^\d{3}$", "ANSWER: 123", True),
        ("contains", "blue", "The sky is Blue today", True),
    ],
)
def test_checks(check, answer, output, ok):
    assert check_answer(TaskItem(id="t", input="q", answer=answer, check=check), output) is ok


def test_final_answer_and_votes():
    assert final_answer("work\nANSWER: 42") == "42"
    assert final_answer("no marker\nlast line") == "last line"
    assert answer_number("nothing") is None
    assert vote_key("ANSWER: 4.0", "numeric") == vote_key("the answer is 4", "numeric")


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("{not json", "line 1"),
        ('{"id": "a", "input": "q", "answer": "x", "check": "numeric"}', "line 1.answer"),
        ('{"id": "a", "input": "q", "answer": "(", "check": "regex"}', "line 1.answer"),
        ('{"id": "a", "input": "q", "answer": "1", "check": "fuzzy"}', "line 1.check"),
        ('{"id": "a", "answer": "1"}', "line 1.input"),
    ],
)
def test_bad_task_files_name_line_and_field(tmp_path, line, field):
    path = tmp_path / "t.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(SwarmdesignError) as err:
        load_tasks(path)
    assert err.value.file == str(path) and err.value.field == field


def test_duplicate_ids_refused(tmp_path):
    path = tmp_path / "t.jsonl"
    row = json.dumps({"id": "a", "input": "q", "answer": "1", "check": "numeric"})
    path.write_text(row + "\n" + row + "\n")
    with pytest.raises(SwarmdesignError, match="duplicate task id"):
        load_tasks(path)
