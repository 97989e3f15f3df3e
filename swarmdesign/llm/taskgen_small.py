"""Seeded short tasks for small local models, with answers computed by code.

Multi-agent effects (voting, review, planning) can only be measured where a
model is neither always wrong nor always right: a 135M-parameter model sits
at the floor on multi-step word problems (``tasks/arithmetic.jsonl``). These
families are one short question each, with a single number as the answer (so
wrong answers scatter and a plurality vote has something to work with):

* ``add``      sum of two one-digit numbers;
* ``sub``      difference of two numbers under 20 (never negative);
* ``double``   twice a number up to 12;
* ``after``    the number after a two-digit number;
* ``next``     the next term of an arithmetic sequence (four terms shown);
* ``larger``   the larger of two two-digit numbers;
* ``choose_add`` / ``choose_sub`` the same sums and differences as three-way
  multiple choice (the right answer and two near misses).

``meta.family`` names the family, so a scenario's ``task_filter`` can keep the
families a model is in range on. ``tasks/small_mixed.jsonl`` is the output of
``python -m swarmdesign.llm.taskgen_small`` with its defaults and
``tasks/small_choice.jsonl`` of ``--families choose_add,choose_sub --out
tasks/small_choice.jsonl`` (same bytes for the same seed);
``benchmarks/real_model.py`` reports the single-attempt accuracy of
SmolLM2-135M per family.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from swarmdesign.llm.taskgen import write_jsonl

DEFAULT_SEED = 2026
DEFAULT_SIZE = 60
DEFAULT_FAMILIES = ("add", "sub", "double", "after", "next", "larger")


def _add(rng: np.random.Generator) -> tuple[str, int]:
    a, b = (int(x) for x in rng.integers(1, 10, size=2))
    return f"What is {a} + {b}?", a + b


def _sub(rng: np.random.Generator) -> tuple[str, int]:
    a = int(rng.integers(5, 20))
    b = int(rng.integers(1, a))
    return f"What is {a} - {b}?", a - b


def _double(rng: np.random.Generator) -> tuple[str, int]:
    a = int(rng.integers(2, 13))
    return f"What is double {a}?", 2 * a


def _after(rng: np.random.Generator) -> tuple[str, int]:
    a = int(rng.integers(10, 99))
    return f"Which number comes right after {a}?", a + 1


def _next(rng: np.random.Generator) -> tuple[str, int]:
    start, step = int(rng.integers(1, 20)), int(rng.integers(1, 6))
    terms = [start + step * i for i in range(4)]
    return f"What number comes next: {', '.join(map(str, terms))}, ...?", start + step * 4


def _options(rng: np.random.Generator, right: int) -> str:
    """Three choices: the right answer and two near misses, in a seeded order."""
    wrong = {right + int(rng.integers(1, 4)), max(right - int(rng.integers(1, 4)), 0)} - {right}
    while len(wrong) < 2:
        wrong.add(right + 4 + len(wrong))
    choices = [right, *sorted(wrong)]
    return ", ".join(str(choices[int(i)]) for i in rng.permutation(3))


def _choose_add(rng: np.random.Generator) -> tuple[str, int]:
    a, b = (int(x) for x in rng.integers(1, 10, size=2))
    return f"What is {a} + {b}? Choose one of: {_options(rng, a + b)}.", a + b


def _choose_sub(rng: np.random.Generator) -> tuple[str, int]:
    a = int(rng.integers(5, 20))
    b = int(rng.integers(1, a))
    return f"What is {a} - {b}? Choose one of: {_options(rng, a - b)}.", a - b


def _larger(rng: np.random.Generator) -> tuple[str, int]:
    a, b = (int(x) for x in rng.choice(np.arange(10, 100), size=2, replace=False))
    return f"Which number is larger, {a} or {b}?", max(a, b)


FAMILIES: dict[str, Callable[[np.random.Generator], tuple[str, int]]] = {
    "add": _add,
    "sub": _sub,
    "double": _double,
    "after": _after,
    "next": _next,
    "larger": _larger,
    "choose_add": _choose_add,
    "choose_sub": _choose_sub,
}
#: Three-way multiple choice: where SmolLM2-135M answers about a third to a half right
#: (``benchmarks/results/real_model.md``); the free-answer families sit near the floor.
CHOICE_FAMILIES = ("choose_add", "choose_sub")


#: Draws in a row that found no new question before a family counts as exhausted.
EXHAUSTED_AFTER = 2000


def generate(
    n: int = DEFAULT_SIZE,
    seed: int = DEFAULT_SEED,
    families: tuple[str, ...] = DEFAULT_FAMILIES,
    *,
    allow_fewer: bool = False,
) -> list[dict[str, Any]]:
    """``n`` task dicts cycling through ``families``, questions unique, the order shuffled, all from ``seed``.

    Each family has finitely many distinct questions; once every family has
    gone :data:`EXHAUSTED_AFTER` draws without a new one, the set is as large
    as it can get: an error (naming how many were found) unless
    ``allow_fewer``, which returns them.
    """
    unknown = sorted(set(families) - set(FAMILIES))
    if unknown:
        raise ValueError(f"unknown task families {unknown}; expected some of {sorted(FAMILIES)}")
    if not families:
        raise ValueError(f"no task families given; expected some of {sorted(FAMILIES)}")
    rng = np.random.default_rng(seed)
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    misses = dict.fromkeys(families, 0)
    live = list(families)
    i = 0
    while len(out) < n and live:
        family = live[i % len(live)]
        i += 1
        text, answer = FAMILIES[family](rng)
        if text in seen:
            misses[family] += 1
            if misses[family] >= EXHAUSTED_AFTER:
                live.remove(family)
            continue
        misses[family] = 0
        seen.add(text)
        out.append({"input": text, "answer": str(answer), "check": "numeric", "meta": {"family": family}})
    if len(out) < n and not allow_fewer:
        raise ValueError(f"only {len(out)} distinct questions in {list(families)}, asked for {n}")
    order = rng.permutation(len(out))
    return [{"id": f"small-{k:03d}", **out[int(j)]} for k, j in enumerate(order)]


def extend(
    base: list[dict[str, Any]], n: int, seed: int = DEFAULT_SEED + 1, families: tuple[str, ...] = CHOICE_FAMILIES
) -> list[dict[str, Any]]:
    """``base`` followed by new tasks up to ``n`` in all, none repeating a question of ``base``.

    A larger set that keeps a smaller one as its prefix (same ids, same questions)
    keeps every answer already cached for the smaller one: sampling seeds are
    derived from the task id, so a benchmark grown from 60 to 100 tasks pays
    model time only for the new ones.
    """
    seen = {t["input"] for t in base}
    fresh = [t for t in generate(2 * n + 20, seed, families, allow_fewer=True) if t["input"] not in seen]
    fresh = fresh[: max(n - len(base), 0)]
    if len(base) + len(fresh) < n:
        raise ValueError(f"only {len(base) + len(fresh)} distinct questions in {list(families)}, asked for {n}")
    prefix = base[0]["id"].rsplit("-", 1)[0] if base else "small"
    return [*base, *({**t, "id": f"{prefix}-{len(base) + k:03d}"} for k, t in enumerate(fresh))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=DEFAULT_SIZE, help="number of tasks")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--families", default=",".join(DEFAULT_FAMILIES), help="comma-separated family names")
    parser.add_argument("--out", default="tasks/small_mixed.jsonl")
    parser.add_argument("--extend", default=None, help="a task file to keep as the prefix; --n counts it in")
    args = parser.parse_args(argv)
    families = tuple(f.strip() for f in args.families.split(",") if f.strip())
    if args.extend:
        base = [json.loads(line) for line in Path(args.extend).read_text(encoding="utf-8").splitlines() if line]
        items = extend(base, args.n, args.seed, families)
    else:
        items = generate(args.n, args.seed, families)
    path = write_jsonl(items, args.out)
    print(f"wrote {args.n} tasks to {path}")


if __name__ == "__main__":
    main()
