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
    if not path.exists():
        raise SwarmdesignError("no such run folder", file=str(path))
    return path


def stderr_console():  # noqa: ANN201 - rich is imported lazily
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True, force_terminal=None if sys.stderr.isatty() else False)


def quiet_optuna() -> None:
    """Optuna's INFO lines ("A new study created ...") would interleave with the progress bar."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
