"""The ``llm`` evaluator: scores designs by really running them on a task set through litellm.

Each design runs on ``n_tasks`` tasks sampled with the evaluation seed (the
same tasks for every design of a batch, so they are compared fairly); see
:mod:`swarmdesign.llm.workflow` for how a design executes. Metrics, one row
per design:

* ``quality``    share of tasks answered correctly (0..1);
* ``cost``       USD for the scenario's whole workload: mean cost per task x
                 ``workload.tasks``, comparable with the simulator's figure
                 (``cost_run`` is what the evaluated tasks cost);
* ``latency``    seconds for the whole workload at one task at a time:
                 mean critical-path seconds per task x ``workload.tasks``
                 (``latency_per_task`` is the per-task figure);
* ``robustness`` share of tasks on which no call failed after its retries;

plus diagnostics (tokens and calls per task, cache hits, failed calls, money
newly spent) and ``failures``: a compact JSON digest of up to
:data:`MAX_FAILURES_KEPT` failed tasks, which lands in the trial's user
attributes so the ``swarmagentic`` optimizer can rebuild its feedback from the
study alone. Cached answers report their original cost and
latency so a repeated evaluation scores the same while spending nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from swarmdesign.evaluators import Evaluator
from swarmdesign.llm.settings import LLMSettings, settings_for

if TYPE_CHECKING:
    import pandas as pd

    from swarmdesign.design import Design
    from swarmdesign.fitness import Scenario
    from swarmdesign.llm.client import LLMClient
    from swarmdesign.llm.tasks import TaskItem


MAX_FAILURES_KEPT = 4


def failure_digest(records: list[dict[str, Any]]) -> str:
    """JSON list of failed tasks: question, expected and given answer, each step in short."""
    out = []
    for r in records:
        if r["verdict"]:
            continue
        steps = [
            {
                "role": s["role"],
                "archetype": s["archetype"],
                "kind": s["kind"],
                "said": (s["response"] or s.get("error") or "")[-160:],
                **({"correct": s["correct"]} if "correct" in s else {}),
            }
            for s in r["steps"][:6]
        ]
        out.append(
            {
                "task": r["input"][:300],
                "expected": r["expected"],
                "given": r["final_answer"][:80],
                "notes": r["notes"][:3],
                "steps": steps,
            }
        )
        if len(out) >= MAX_FAILURES_KEPT:
            break
    return json.dumps(out, ensure_ascii=False, separators=(",", ":"))


def design_digest(design: Design) -> str:
    """Short hash of a design's structure (metrics and provenance left out)."""
    data = design.model_copy(update={"metrics": None, "provenance": None}).to_yaml()
    return hashlib.sha256(data.encode()).hexdigest()[:16]


def select_tasks(settings: LLMSettings, seed: int) -> list[TaskItem]:
    """The tasks a batch runs on: filtered, then a seeded sample (or the first) of ``n_tasks``."""
    from swarmdesign.errors import SwarmdesignError
    from swarmdesign.llm.tasks import load_tasks
    from swarmdesign.resources import resolve

    items = load_tasks(resolve(settings.tasks, "tasks", option="llm.tasks"))
    for key, allowed in settings.task_filter.items():
        items = [it for it in items if it.meta.get(key) in allowed]
    if not items:
        raise SwarmdesignError(f"no task passes the filter {settings.task_filter}", field="llm.task_filter")
    n = min(settings.n_tasks, len(items))
    if settings.shuffle:
        order = np.random.default_rng(seed).permutation(len(items))[:n]
        return [items[int(i)] for i in sorted(order)]
    return items[:n]


class LLMEvaluator(Evaluator):
    """Really runs designs through litellm. See the module docstring.

    Args:
        trace_dir: folder for ``llm_traces.jsonl`` (a run folder); None keeps no traces.
        max_cost_usd: hard cap on new spending by this evaluator (overrides ``llm.max_cost_usd``).
        n_tasks, concurrency, api_base, cache_dir: override the scenario's ``llm:`` fields.
    """

    name: ClassVar[str] = "llm"
    costly: ClassVar[bool] = True

    def __init__(
        self,
        trace_dir: str | None = None,
        max_cost_usd: float | None = None,
        n_tasks: int | None = None,
        concurrency: int | None = None,
        api_base: str | None = None,
        cache_dir: str | None = None,
    ) -> None:
        self.trace_dir = trace_dir
        self.max_cost_usd = max_cost_usd
        self.n_tasks = n_tasks
        self.concurrency = concurrency
        self.api_base = api_base
        self.cache_dir = cache_dir
        self._clients: dict[str, LLMClient] = {}

    def params(self) -> dict[str, Any]:
        out = {
            "trace_dir": self.trace_dir,
            "max_cost_usd": self.max_cost_usd,
            "n_tasks": self.n_tasks,
            "concurrency": self.concurrency,
            "api_base": self.api_base,
            "cache_dir": self.cache_dir,
        }
        return {k: v for k, v in out.items() if v is not None}

    def bind_run(self, run_dir: str | Path) -> None:
        """Write traces into the run folder unless a trace folder was given explicitly."""
        if self.trace_dir is None:
            self.trace_dir = str(run_dir)

    def settings(self, scenario: Scenario) -> LLMSettings:
        return settings_for(
            scenario,
            n_tasks=self.n_tasks,
            concurrency=self.concurrency,
            api_base=self.api_base,
            cache_dir=self.cache_dir,
            max_cost_usd=self.max_cost_usd,
        )

    def client(self, settings: LLMSettings) -> LLMClient:
        """One client per settings, kept for the evaluator's life so the cap covers the whole run."""
        from swarmdesign.llm.client import LLMClient
        from swarmdesign.llm.traces import TraceWriter, spent_in

        key = settings.model_dump_json()
        if key not in self._clients:
            spent = spent_in(self.trace_dir) if self.trace_dir else 0.0
            client = LLMClient(settings, spent_usd=spent)
            if self.trace_dir:
                client.on_spend = _spend_recorder(TraceWriter(Path(self.trace_dir), client.redact))
            self._clients[key] = client
        return self._clients[key]

    @property
    def spent_usd(self) -> float:
        """New dollars spent by this evaluator so far (over all scenarios)."""
        return sum(c.budget.spent_usd for c in self._clients.values())

    def prepare(self, scenario: Scenario) -> None:
        """Validate the ``llm`` settings and read the task set before any run folder is made."""
        select_tasks(self.settings(scenario), 0)

    def evaluate(self, designs: Sequence[Design], scenario: Scenario, *, seed: int) -> pd.DataFrame:
        from swarmdesign.llm.traces import TraceWriter
        from swarmdesign.llm.workflow import TaskRun

        settings = self.settings(scenario)
        client = self.client(settings)
        tasks = select_tasks(settings, seed)
        writer = TraceWriter(Path(self.trace_dir), client.redact) if self.trace_dir else None
        digests = [design_digest(d) for d in designs]
        results: dict[tuple[int, int], dict[str, Any]] = {}

        units = [(i, j) for i in range(len(designs)) for j in range(len(tasks))]
        tally = _Tally(self, client, len(units))

        def run_one(i: int, j: int) -> tuple[int, int, dict[str, Any]]:
            record = TaskRun(designs[i], tasks[j], client, settings, seed).run()
            tally.finished(record["calls"])
            record = {
                "type": "task",
                "design": designs[i].name,
                "design_id": digests[i],
                "seed": seed,
                "spend_in_calls": writer is not None,  # its dollars are in the 'call' records already
                **record,
            }
            if writer is not None:
                writer.write(record)
            return i, j, record

        with ThreadPoolExecutor(max_workers=settings.concurrency, thread_name_prefix="llm-eval") as pool:
            futures = [pool.submit(run_one, i, j) for i, j in units]
            _done, pending = wait(futures, return_when=FIRST_EXCEPTION)
            if pending:  # something failed: start nothing new, let calls in flight finish
                for f in pending:
                    f.cancel()
                wait(pending)
            for f in futures:
                if f.cancelled():
                    continue
                exc = f.exception()
                if exc is not None:  # every paid call is in the traces already ('call' records)
                    raise exc  # RunStopped (cost cap) or a configuration error: the run stops here
                i, j, record = f.result()
                results[(i, j)] = record
        frame = self._metrics(designs, tasks, results, scenario)
        if writer is not None:
            for i, design in enumerate(designs):
                row = {k: _plain(v) for k, v in frame.iloc[i].items()}
                writer.write(
                    {
                        "type": "design",
                        "design": design.name,
                        "design_id": digests[i],
                        "seed": seed,
                        "design_yaml": design.to_dict(),
                        "tasks": [t.id for t in tasks],
                        "metrics": row,
                    }
                )
        return frame

    @staticmethod
    def _metrics(
        designs: Sequence[Design],
        tasks: list[TaskItem],
        results: dict[tuple[int, int], dict[str, Any]],
        scenario: Scenario,
    ) -> pd.DataFrame:
        import pandas as pd

        workload = scenario.workload.tasks
        rows = []
        for i, _design in enumerate(designs):
            recs = [results[(i, j)] for j in range(len(tasks))]
            n = len(recs)
            cost_run = sum(r["cost_usd"] for r in recs)
            latency_task = sum(r["latency_s"] for r in recs) / n
            rows.append(
                {
                    "quality": sum(r["verdict"] for r in recs) / n,
                    "cost": cost_run / n * workload,
                    "latency": latency_task * workload,
                    "robustness": sum(1 for r in recs if not r["failed_calls"]) / n,
                    "tasks_run": n,
                    "cost_run": cost_run,
                    "spent_run": sum(r["spent_usd"] for r in recs),
                    "latency_per_task": latency_task,
                    "wall_per_task": sum(r["wall_s"] for r in recs) / n,
                    "calls_per_task": sum(r["calls"] for r in recs) / n,
                    "prompt_tokens_per_task": sum(r["prompt_tokens"] for r in recs) / n,
                    "completion_tokens_per_task": sum(r["completion_tokens"] for r in recs) / n,
                    "cache_hit_share": sum(r["cached_calls"] for r in recs) / max(sum(r["calls"] for r in recs), 1),
                    "failed_calls": sum(r["failed_calls"] for r in recs),
                    "agents_capped": any(r["notes"] for r in recs),
                    "failures": failure_digest(recs),
                }
            )
        return pd.DataFrame(rows)


class _Tally:
    """Counts finished tasks and calls of one batch and reports them (thread-safe)."""

    def __init__(self, evaluator: Evaluator, client: LLMClient, total: int) -> None:
        import threading
        import time

        self._evaluator, self._client, self._total = evaluator, client, total
        self._lock = threading.Lock()
        self._clock = time.perf_counter
        self._start = self._clock()
        self._done = self._calls = 0
        self._report()

    def finished(self, calls: int) -> None:
        with self._lock:
            self._done += 1
            self._calls += calls
            self._report()

    def _report(self) -> None:
        from swarmdesign.evaluators import Progress

        self._evaluator.report_progress(
            Progress(self._done, self._total, self._calls, self._client.budget.spent_usd, self._clock() - self._start)
        )


def _spend_recorder(writer: Any) -> Any:
    """``on_spend`` for a client: one ``call`` record per paid call, appended as it returns."""

    def record(model: str, spent_usd: float) -> None:
        writer.write({"type": "call", "model": model, "spent_usd": spent_usd})

    return record


def _plain(value: Any) -> Any:
    """numpy scalars to Python ones, for JSON."""
    return value.item() if hasattr(value, "item") else value
