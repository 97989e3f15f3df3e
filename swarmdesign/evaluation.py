"""Evaluating a batch of designs safely: failures isolated per design, timeouts, plain rows.

Used by every executor of a run (in-process, local pool processes, remote
workers) and by the recommendation stages, so a batch is turned into metrics
rows and failure reasons the same way everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from swarmdesign.errors import RunStopped, SwarmdesignError
from swarmdesign.evaluators import frame_columns

if TYPE_CHECKING:
    import pandas as pd

    from swarmdesign.design import Design
    from swarmdesign.evaluators import Evaluator
    from swarmdesign.fitness import Scenario


def evaluate_safely(
    evaluator: Evaluator,
    designs: Sequence[Design],
    scenario: Scenario,
    seed: int,
    *,
    timeout: float | None = None,
) -> tuple[list[dict[str, Any] | None], list[str | None]]:
    """Evaluate a batch; isolate failures to the designs that caused them.

    Returns per design either a metrics row (with score) and ``None``, or
    ``None`` and a one-line reason. A batch that raises (or, with ``timeout``
    seconds, hangs) is retried design by design. A design whose objectives,
    score or constraint violation are not finite fails; any other metric
    that is not finite (a diagnostic an evaluator mode does not compute, such
    as the agent-level simulator's fast-only ones) is left out of its row.
    With a timeout the evaluation runs in a forked child process that is
    killed when time is up: a thread could not be stopped.
    """
    required = {o.name for o in scenario.objectives} | {"score", "violation"}

    def call(batch: Sequence[Design]) -> list[dict[str, Any] | str]:
        if timeout is None:
            columns = evaluator.evaluate_columns(batch, scenario, seed=seed)
        else:
            columns = _evaluate_in_child(evaluator, batch, scenario, seed, timeout)
        return column_rows(scenario.finish_columns(columns), required)

    try:
        out = call(designs)
    except (KeyboardInterrupt, RunStopped, SwarmdesignError):
        raise
    except Exception:  # noqa: BLE001 - isolate the failing designs below
        out = []
        for d in designs:
            try:
                out.append(call([d])[0])
            except (KeyboardInterrupt, RunStopped, SwarmdesignError):
                raise
            except Exception as exc:  # noqa: BLE001 - recorded as the trial's fail_reason
                out.append(f"{type(exc).__name__}: {exc}".splitlines()[0][:500])
    rows = [r if isinstance(r, dict) else None for r in out]
    errors = [r if isinstance(r, str) else None for r in out]
    return rows, errors


def frame_rows(frame: pd.DataFrame, required: set[str]) -> list[dict[str, Any] | str]:
    """:func:`column_rows` of a metrics frame."""
    return column_rows(frame_columns(frame), required)


def column_rows(columns: Mapping[str, Any], required: set[str]) -> list[dict[str, Any] | str]:
    """Metrics columns as plain-Python rows (numbers as float), or a reason for a design that must fail.

    Column by column, from arrays: a batch of a search holds 16-20 designs
    and ~70 metrics, so boxing every cell through pandas (or building a frame
    at all) cost more than simulating the batch. Non-finite values in
    ``required`` columns fail the row; in other columns they are dropped from it.
    """
    names = [str(n) for n in columns]
    cells: list[list[Any]] = []
    nonfinite: dict[str, np.ndarray] = {}
    for name, values in zip(names, columns.values(), strict=True):
        array = np.asarray(values)
        kind = array.dtype.kind
        if kind in "iuf":
            array = array.astype(float, copy=False)
            bad = ~np.isfinite(array)
            if bad.any():
                nonfinite[name] = bad
            cells.append(array.tolist())
        elif kind == "b":
            cells.append(array.tolist())
        else:
            cells.append([_plain(v) for v in array.tolist()])
    rows: list[dict[str, Any] | str] = [dict(zip(names, row, strict=True)) for row in zip(*cells, strict=True)]
    for i in range(len(rows)) if nonfinite else ():
        bad_names = [n for n, mask in nonfinite.items() if mask[i]]
        if not bad_names:
            continue
        fatal = [n for n in bad_names if n in required]
        if fatal:
            rows[i] = f"non-finite metric(s): {', '.join(fatal[:5])}"
        else:
            row = rows[i]
            assert isinstance(row, dict)
            for n in bad_names:
                del row[n]
    return rows


def _plain(value: Any) -> Any:
    """A cell of an object column as a JSON-safe Python value."""
    if hasattr(value, "item") and not isinstance(value, str):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class EvaluationTimeout(Exception):
    """An evaluation took longer than the run's per-trial timeout."""


def _evaluate_in_child(
    evaluator: Evaluator, designs: Sequence[Design], scenario: Scenario, seed: int, timeout: float
) -> dict[str, np.ndarray]:
    """``evaluator.evaluate_columns`` in a forked process, killed after ``timeout`` seconds per design."""
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)

    def child() -> None:
        try:
            send.send(("ok", evaluator.evaluate_columns(designs, scenario, seed=seed)))
        except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
            send.send(("error", f"{type(exc).__name__}: {exc}"))

    proc = ctx.Process(target=child, daemon=True)
    proc.start()
    send.close()
    limit = timeout * max(len(designs), 1)
    try:
        if not receive.poll(limit):
            raise EvaluationTimeout(f"evaluation timed out after {limit:g} s")
        status, payload = receive.recv()
    except EOFError:
        raise RuntimeError(f"evaluator process died (exit code {proc.exitcode})") from None
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(5)
        receive.close()
    if status != "ok":
        raise RuntimeError(payload)
    return payload
