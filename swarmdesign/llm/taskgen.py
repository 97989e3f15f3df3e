"""A seeded generator of multi-step arithmetic word problems with checkable answers.

The bundled ``tasks/arithmetic.jsonl`` is its output for the default seed and
size; regenerate it with ``python -m swarmdesign.llm.taskgen`` (same bytes
for the same seed). Problems have 1 to 4 steps (``meta.steps``), so a task
set can be filtered from trivially easy, which even a 135M-parameter model
sometimes solves, to hard enough that voting and review have room to help.
All intermediate values stay non-negative integers.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_SEED = 2025
DEFAULT_SIZE = 100

_NAMES = ("Ana", "Ben", "Carla", "Dev", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jon", "Kira", "Leo")
_ITEMS = ("apples", "marbles", "stickers", "books", "pencils", "coins", "shells", "cards")


def _step(rng: np.random.Generator, value: int, who: str, item: str, small: bool) -> tuple[str, int]:
    """One operation on the running total: its sentence and the new total."""
    hi = 9 if small else 20
    ops = ["add", "sub", "mul", "div"] if not small else ["add", "sub"]
    for _ in range(20):
        op = ops[int(rng.integers(len(ops)))]
        if op == "add":
            b = int(rng.integers(1, hi + 1))
            return f"Then {who} gets {b} more {item}.", value + b
        if op == "sub" and value > 1:
            b = int(rng.integers(1, min(value, hi) + 1))
            return f"Then {who} gives away {b} {item}.", value - b
        if op == "mul" and value <= 30:
            k = int(rng.integers(2, 4))
            word = {2: "doubles", 3: "triples"}[k]
            return f"Then {who} {word} the number of {item}.", value * k
        if op == "div":
            divisors = [k for k in (2, 3, 4, 5) if value % k == 0 and value // k >= 1]
            if divisors:
                k = divisors[int(rng.integers(len(divisors)))]
                return f"Then {who} splits the {item} equally into {k} bags and keeps one bag.", value // k
    b = int(rng.integers(1, hi + 1))
    return f"Then {who} gets {b} more {item}.", value + b


def make_problem(rng: np.random.Generator, steps: int) -> tuple[str, int]:
    """A word problem with ``steps`` operations after the start, and its integer answer."""
    name = _NAMES[int(rng.integers(len(_NAMES)))]
    item = _ITEMS[int(rng.integers(len(_ITEMS)))]
    small = steps == 1
    value = int(rng.integers(1, 10 if small else 21))
    sentences = [f"{name} has {value} {item}."]
    for _ in range(steps):
        sentence, value = _step(rng, value, name, item, small)
        sentences.append(sentence)
    sentences.append(f"How many {item} does {name} have now?")
    return " ".join(sentences), value


def generate(n: int = DEFAULT_SIZE, seed: int = DEFAULT_SEED) -> list[dict[str, Any]]:
    """``n`` task dicts, steps cycling 1..4 and the order shuffled, all from ``seed``."""
    rng = np.random.default_rng(seed)
    out: list[dict[str, Any]] = []
    for i in range(n):
        steps = 1 + i % 4
        text, answer = make_problem(rng, steps)
        out.append({"input": text, "answer": str(answer), "check": "numeric", "meta": {"steps": steps}})
    order = rng.permutation(n)
    return [{"id": f"arith-{k:03d}", **out[int(j)]} for k, j in enumerate(order)]


def write_jsonl(items: list[dict[str, Any]], path: str | Path) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("".join(json.dumps(it, ensure_ascii=False) + "\n" for it in items), encoding="utf-8")
    return p


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=DEFAULT_SIZE, help="number of problems")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", default="tasks/arithmetic.jsonl")
    args = parser.parse_args(argv)
    path = write_jsonl(generate(args.n, args.seed), args.out)
    print(f"wrote {args.n} tasks to {path}")


if __name__ == "__main__":
    main()
