"""The ``swarmdesign`` command line: a thin Typer shell over the library.

Each command lives in ``swarmdesign/commands/<name>.py`` and exposes
``register(app)``; heavy imports happen inside the command bodies so that
``swarmdesign --help`` stays instant. Every user error is a
:class:`SwarmdesignError`, printed as one line on stderr with exit code 2.
"""

from __future__ import annotations

import importlib
import sys

import typer

from swarmdesign.errors import SwarmdesignError

app = typer.Typer(
    name="swarmdesign",
    help="Design multi-agent LLM systems by search.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

#: Command modules, in the order ``--help`` lists them. One line per module.
COMMAND_MODULES: list[str] = [
    "run",
    "resume",
    "worker",
    "evaluate",
    "validate",
    "show",
    "export",
    "import_",
    "report",
    "dashboard",
    "calibrate",
]

for _name in COMMAND_MODULES:
    importlib.import_module(f"swarmdesign.commands.{_name}").register(app)


@app.callback()
def _root(version: bool = typer.Option(False, "--version", help="Print the version and exit.")) -> None:
    if version:
        from swarmdesign import __version__

        typer.echo(__version__)
        raise typer.Exit(0)


def main() -> None:
    """Console-script entry point: user errors become one line and exit 2."""
    try:
        code = app(standalone_mode=False)  # click returns the exit code of typer.Exit here
    except SwarmdesignError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - click usage errors and friends
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(2)
        raise
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
