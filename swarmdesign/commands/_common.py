"""Helpers shared by the CLI commands: resolving bundled names, parsing options, printing."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from swarmdesign.errors import SwarmdesignError

if TYPE_CHECKING:
    from swarmdesign.fitness import Scenario
    from swarmdesign.space import SearchSpace

DEFAULT_SPACE = "software_team"
DEFAULT_FITNESS = "software_project"


def load_space(ref: str) -> SearchSpace:
    from swarmdesign.resources import resolve
    from swarmdesign.space import SearchSpace

    return SearchSpace.load(resolve(ref, "search_spaces", option="SPACE"))


def load_scenario(ref: str) -> tuple[Scenario, str]:
    from swarmdesign.fitness import Scenario
    from swarmdesign.resources import resolve

    path = resolve(ref, "fitness", option="--fitness")
    return Scenario.load(path), str(path)


def resolve_design(ref: str, option: str = "DESIGN") -> Path:
    """A design given on the command line: a YAML path, or the bare name of a bundled design.

    ``export`` and ``evaluate`` take the same references, so a name that one
    accepts (``code_review_chain``) the other accepts too.
    """
    from swarmdesign.resources import resolve

    return resolve(ref, "designs", option=option)


def parse_key_values(items: list[str] | None, option: str) -> dict[str, Any]:
    """``["k=v", ...]`` with YAML-typed values (``3`` -> int, ``0.5`` -> float, ``true`` -> bool)."""
    from swarmdesign import yamlio

    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise SwarmdesignError(f"expected KEY=VALUE, got '{item}'", field=option)
        out[key.strip()] = yamlio.loads(raw, file=option) if raw.strip() else ""
    return out


def run_dir_arg(path: Path) -> Path:
    """A run folder given on the command line: it exists, is a folder and holds a readable ``config.yaml``."""
    from swarmdesign.storage import CONFIG_NAME, JOURNAL_NAME

    try:
        if not path.exists():
            raise SwarmdesignError("no such run folder", file=str(path))
        if not path.is_dir():
            raise SwarmdesignError("is not a folder; expected a run folder", file=str(path))
        if not (path / CONFIG_NAME).exists() and (path / JOURNAL_NAME).exists():
            raise SwarmdesignError(
                "missing: the run's creation was interrupted before it was written (nothing was evaluated); "
                "start it again with the same 'swarmdesign run' command, which reuses this folder",
                file=str(path),
                field=CONFIG_NAME,
            )
        has_config = (path / CONFIG_NAME).exists()
    except OSError as exc:
        raise SwarmdesignError(f"cannot read the run folder: {exc.strerror or exc}", file=str(path)) from None
    if has_config:
        check_run_config(path)  # every command reading a run names a damaged config instead of a traceback
    return path


#: Largest batch (and population) a run accepts: a generation is held in memory and scored in one call.
MAX_BATCH = 100_000
MAX_BUDGET = 1_000_000_000
MAX_SEED = 2**32 - 1


def check_finite(options: dict[str, float | None]) -> None:
    """NaN and infinities are never a meaningful option value (``nan <= 0`` is false, so they slip past bounds)."""
    import math

    for option, value in options.items():
        if value is not None and not math.isfinite(value):
            raise SwarmdesignError(f"expected a finite number, got {value}", field=option)


def check_int_range(option: str, value: int | None, low: int, high: int) -> None:
    if value is not None and not low <= value <= high:
        raise SwarmdesignError(f"expected an integer >= {low} and <= {high:,}, got {value:,}", field=option)


def check_options_before_start(
    *,
    seed: int,
    budget: int | None,
    batch_size: int | None,
    heartbeat: int,
    workers: int,
    floats: dict[str, float | None],
    out: Path | None = None,
    name: str | None = None,
    storage: str | None = None,
) -> None:
    """Every plain option of ``run``/``resume``, checked before anything is read or written."""
    check_int_range("--seed", seed, 0, MAX_SEED)
    check_int_range("--budget", budget, 1, MAX_BUDGET)
    check_int_range("--batch-size", batch_size, 1, MAX_BATCH)
    check_int_range("--heartbeat", heartbeat, 1, 3600)
    check_int_range("--workers", workers, 1, 1024)
    check_finite(floats)
    from swarmdesign.storage import check_out_dir, check_run_name, check_storage_url

    if out is not None:
        check_out_dir(out)
    if name is not None:
        check_run_name(name)
    if storage is not None:
        check_storage_url(storage)


def check_optimizer_ready(settings: Any) -> None:  # noqa: ANN401 - a runner.RunSettings, imported lazily
    """Build and bind the optimizer once, as the run will: a missing dependency or a population too big
    to hold is refused before the run folder exists."""
    from swarmdesign.evaluators import make_evaluator
    from swarmdesign.optimizers import make_optimizer

    opt = make_optimizer(settings.optimizer, **settings.optimizer_params)
    population = getattr(opt, "population", None)
    if isinstance(population, int) and population > MAX_BATCH:
        raise SwarmdesignError(
            f"population: expected at most {MAX_BATCH:,}, got {population:,}", field="--optimizer-param"
        )
    from swarmdesign.search_target import search_objectives

    directions = [o["direction"] for o in search_objectives(settings.scenario, opt, pareto=settings.pareto)]
    try:
        opt.bind(settings.space, directions, settings.seed, initial=[])
        opt.sampler()
    except ImportError as exc:
        missing = exc.name or str(exc)
        raise SwarmdesignError(
            f"optimizer '{settings.optimizer}' needs '{missing}', which is not installed", field="--optimizer"
        ) from None
    except (TypeError, ValueError) as exc:
        raise SwarmdesignError(f"bad optimizer parameters: {exc}", field="--optimizer-param") from None
    try:
        evaluator = make_evaluator(settings.evaluator, **settings.evaluator_params)
        if type(evaluator).__module__.startswith("swarmdesign.llm."):
            _check_litellm_installed()
    except SwarmdesignError as exc:
        if exc.field == "evaluator":
            exc.field = "--evaluator"
            exc.args = (str(exc),)
        raise
    except ImportError as exc:
        raise SwarmdesignError(
            f"evaluator '{settings.evaluator}' needs '{exc.name or exc}', which is not installed", field="--evaluator"
        ) from None


def check_run_config(run_dir: Path) -> None:
    """A run's ``config.yaml`` holds what resume needs, with the right types; name the file and key otherwise.

    The file is only read, never rewritten: a damaged config is the user's to repair.
    """
    from swarmdesign import yamlio
    from swarmdesign.storage import CONFIG_NAME

    path = run_dir / CONFIG_NAME
    config = yamlio.load_file(path)
    file = str(path)
    if not isinstance(config, dict):
        raise SwarmdesignError("expected a mapping (a run's config)", file=file, field="(document)")
    required: list[tuple[str, type | tuple[type, ...]]] = [
        ("swarmdesign_run", int),
        ("name", str),
        ("study_name", str),
        ("space.spec", dict),
        ("scenario.spec", dict),
        ("optimizer.name", str),
        ("optimizer.params", dict),
        ("evaluator.name", str),
        ("evaluator.params", dict),
        ("objectives", list),
        ("budget", int),
        ("seed", int),
    ]
    for key, kind in required:
        node: Any = config
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                raise SwarmdesignError(
                    "required key is missing (the file was edited or cut short)", file=file, field=key
                )
            node = node[part]
        if not isinstance(node, kind) or isinstance(node, bool):
            raise SwarmdesignError(f"expected {_kind_name(kind)}, got {type(node).__name__}", file=file, field=key)
    for i, obj in enumerate(config["objectives"]):
        if (
            not isinstance(obj, dict)
            or not isinstance(obj.get("name"), str)
            or obj.get("direction")
            not in (
                "maximize",
                "minimize",
            )
        ):
            raise SwarmdesignError(
                "expected {name: <metric>, direction: maximize|minimize}", file=file, field=f"objectives[{i}]"
            )
    if config["budget"] < 1:
        raise SwarmdesignError(f"expected >= 1, got {config['budget']}", file=file, field="budget")


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {int: "an integer", str: "text", dict: "a mapping", list: "a list"}
    return names.get(kind, str(kind)) if isinstance(kind, type) else " or ".join(names.get(k, str(k)) for k in kind)


def check_run_matches_study(run: Any) -> None:  # noqa: ANN401 - a runner.Run, imported lazily
    """The space and objectives in ``config.yaml`` are the ones the study was recorded with.

    A config edited to another space would decode the study's parameters into
    different designs (or fail half-way); refuse it, naming the file.
    """
    from swarmdesign.storage import CONFIG_NAME

    file = str(run.run_dir / CONFIG_NAME)
    recorded = run.trials.directions
    if len(recorded) != len(run.config["objectives"]):
        raise SwarmdesignError(
            f"{len(run.config['objectives'])} objectives, but the study records {len(recorded)}; "
            "the file was edited after the run started",
            file=file,
            field="objectives",
        )
    dists = run.space.distributions()
    for trial in run.trials.trials():
        for pname, dist in trial.distributions.items():
            if pname not in dists or dists[pname] != dist:
                raise SwarmdesignError(
                    f"does not match the study (parameter '{pname}' of trial {trial.number} "
                    f"{'is not in this space' if pname not in dists else 'has another range'}); "
                    "the space was edited after the run started: restore it",
                    file=file,
                    field="space.spec",
                )
        if trial.distributions:
            return  # one recorded trial shows the space; all trials share it


def stderr_console():  # noqa: ANN201 - rich is imported lazily
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True, force_terminal=None if sys.stderr.isatty() else False)


def quiet_optuna() -> None:
    """Optuna's INFO lines ("A new study created ...") would interleave with the progress bar."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)


def check_output_target(path: Path, *, kind: str, option: str = "--out") -> None:
    """Refuse an output path before anything is written: ``kind`` is ``"file"`` or ``"folder"``.

    For export (a folder of files) and import (one design file): a folder
    where a file is wanted or the reverse, a parent that is a file, a name
    too long or not encodable — one line each, and nothing is created.
    """
    import os

    from swarmdesign.errors import check_path_name

    check_path_name(path, option, "a path")
    text = str(path)
    try:
        if path.exists():
            if kind == "file" and path.is_dir():
                raise SwarmdesignError("is a directory; expected a file path to write", file=text, field=option)
            if kind == "file" and not path.is_file():
                raise SwarmdesignError("is not a regular file; expected a file path to write", file=text, field=option)
            if kind == "folder" and not path.is_dir():
                raise SwarmdesignError("is a file; expected a folder to write into", file=text, field=option)
            return
        ancestor = path.parent
        while not ancestor.exists() and ancestor != ancestor.parent:
            ancestor = ancestor.parent
        if not ancestor.is_dir():
            raise SwarmdesignError(f"'{ancestor}' is a file; expected a folder there", file=text, field=option)
        if not os.access(ancestor, os.W_OK | os.X_OK):
            raise SwarmdesignError(f"cannot write into '{ancestor}' (permission denied)", file=text, field=option)
    except OSError as exc:
        raise SwarmdesignError(f"cannot use this path: {exc.strerror or exc}", file=text, field=option) from None


def _check_litellm_installed() -> None:
    """The LLM evaluator imports litellm only at its first call (a 3 s import): look for it now, without importing."""
    import importlib.util

    try:
        found = importlib.util.find_spec("litellm") is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise SwarmdesignError(
            "the llm evaluator needs litellm, which is not installed; pip install 'swarmdesign[llm]'",
            field="--evaluator",
        )
