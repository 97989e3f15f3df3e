"""Progress of real-model work on the terminal: tasks, calls, spending and time inside a batch.

A batch of the ``llm`` evaluator can take many minutes; the search bar moves
only between batches. :func:`attach_task_progress` adds a second line fed by
the evaluator's :class:`~swarmdesign.evaluators.Progress` reports, and
:func:`confirm_with_progress` shows the same line while ``--confirm-top``
runs designs on real models, then prints simulated against real.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress

    from swarmdesign.evaluators import Evaluator, Progress
    from swarmdesign.fitness import Scenario


def _fields(p: Progress) -> dict[str, Any]:
    return {"calls": p.calls, "spent": f"${p.spent_usd:.4f}", "batch_s": f"{p.elapsed_s:.0f} s"}


def task_columns() -> tuple[Any, ...]:
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn

    return (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[calls]} calls · {task.fields[spent]} · {task.fields[batch_s]}"),
    )


def attach_task_progress(evaluator: Evaluator, progress: RichProgress) -> None:
    """Show the tasks of the current batch under the search bar, for evaluators that report them."""
    if not getattr(evaluator, "costly", False):
        return
    line: list[Any] = []

    def update(p: Progress) -> None:
        # the search bar's columns are shared: the figures go in the description, its fields get a dash
        text = f"  model tasks · {p.calls} calls · ${p.spent_usd:.4f} · batch {p.elapsed_s:.0f} s"
        if not line:
            line.append(progress.add_task(text, total=p.total, best="-"))
        progress.update(line[0], description=text, completed=p.done, total=p.total)

    evaluator.set_progress(update)


def confirm_with_progress(run_dir: Any, k: int, scenario: Scenario, *, max_cost_usd: float | None, quiet: bool) -> str:
    """Run ``confirm_run`` with a task line on stderr; return simulated against real with their rank agreement."""
    from rich.progress import Progress as RichProgress
    from rich.progress import TimeElapsedColumn

    from swarmdesign.commands._common import stderr_console
    from swarmdesign.llm.confirm import confirm_run, describe

    console = stderr_console()
    console.print(f"confirming the {k} best designs on real models")
    bar = RichProgress(*task_columns(), TimeElapsedColumn(), console=console, disable=quiet, transient=False)
    with bar:
        line = bar.add_task("  confirm tasks", total=None, calls=0, spent="$0", batch_s="0 s")

        def update(p: Progress) -> None:
            bar.update(line, completed=p.done, total=p.total, **_fields(p))

        table = confirm_run(run_dir, k, scenario, max_cost_usd=max_cost_usd, progress=update)
    return describe(table)
