"""Drive a run with a rich progress bar and print where the results went."""

from __future__ import annotations

from typing import TYPE_CHECKING

from swarmdesign.commands._common import stderr_console

if TYPE_CHECKING:
    from swarmdesign.runner import Run


def execute_with_progress(
    run: Run,
    *,
    quiet: bool = False,
    budget: int | None = None,
    workers: int = 1,
    driver: bool = False,
    heartbeat: int = 10,
) -> None:
    """Execute ``run`` in this process, a local pool (``workers``) or as a driver of remote workers."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from swarmdesign.commands._common import quiet_optuna
    from swarmdesign.commands._llm_progress import attach_task_progress
    from swarmdesign.errors import RunStopped
    from swarmdesign.parallel import batch_executor

    quiet_optuna()
    console = stderr_console()
    target = budget or run.budget
    console.print(f"run [bold]{run.run_dir}[/] · optimizer {run.config['optimizer']['name']} · budget {target}")
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("best score {task.fields[best]}"),
        console=console,
        disable=quiet,
        transient=False,
    )
    with progress:
        task = progress.add_task("searching", total=target, completed=run.finished(), best="-")
        attach_task_progress(run.evaluator, progress)  # real-model batches report tasks, calls, spending

        def on_batch(done: int, total: int, best: float | None) -> None:
            progress.update(task, completed=done, total=total, best=f"{best:.4f}" if best is not None else "-")

        try:
            with batch_executor(
                run, workers=workers, driver=driver, heartbeat_s=heartbeat, log=lambda m: console.print(m, markup=False)
            ) as ex:
                summary = run.execute(budget=budget, on_batch=on_batch, batch_executor=ex)
        except RunStopped as exc:
            progress.stop()
            console.print(f"stopped: {exc}")
            raise SystemExit(exc.exit_code) from None
    console.print(f"finished {summary.finished}/{summary.budget} trials in {summary.seconds:.1f} s")
    if summary.stopped:
        console.print(f"note: {summary.stopped}")
    if summary.best is not None:
        m = summary.best.metrics or {}
        console.print(
            "search best: "
            + ", ".join(f"{k} {m[k]:.4g}" for k in ("score", "quality", "cost", "latency") if k in m)
            + f"  -> {run.run_dir / 'best.yaml'}"
        )
