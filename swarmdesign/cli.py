"""The ``swarmdesign`` command line: a thin Typer shell over the library.

Each command lives in ``swarmdesign/commands/<name>.py`` and exposes
``register(app)``; heavy imports (optuna, pandas, numpy, the simulator)
happen inside the command bodies so that ``swarmdesign --help`` stays
instant. Help is plain text (``rich_markup_mode=None``): Typer's rich help
formatter alone costs more than the rest of start-up.

Every user error ends as one line on stderr and exit code 2, no traceback:
a :class:`SwarmdesignError` from the library, and every usage error Typer
finds (an unknown option, ``-n abc``, a missing or unknown command). Typer
raises its own vendored copy of click's exceptions, or click's where an older
Typer uses click; both are recognised by what they are (``format_message``
and ``exit_code``), so a base install without click behaves the same.
"""

from __future__ import annotations

import importlib
import sys

import typer

from swarmdesign.errors import SwarmdesignError

app = typer.Typer(
    name="swarmdesign",
    help="Design multi-agent LLM systems by search.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

#: Command modules, in the order ``--help`` lists them. One line per module.
COMMAND_MODULES: list[str] = [
    "run",
    "resume",
    "worker",
    "evaluate",
    "validate",
    "show",
    "robustness",
    "export",
    "import_",
    "report",
    "dashboard",
    "calibrate",
]

for _name in COMMAND_MODULES:
    importlib.import_module(f"swarmdesign.commands.{_name}").register(app)


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
) -> None:
    if version:
        from swarmdesign import __version__

        typer.echo(f"swarmdesign {__version__}")
        raise typer.Exit(0)
    if ctx.invoked_subcommand is None:
        raise SwarmdesignError(f"missing command; expected one of {', '.join(_command_names())} (see --help)")


def _command_names() -> list[str]:
    names = [c.name or getattr(c.callback, "__name__", "") for c in app.registered_commands if not c.hidden]
    names += [g.name or "" for g in app.registered_groups if not g.hidden]
    return [n.rstrip("_").replace("_", "-") for n in names if n]


def _usage_error_line(exc: BaseException) -> str | None:
    """One line for a click-style usage error (Typer's vendored click or click itself), else ``None``."""
    fmt = getattr(exc, "format_message", None)
    if fmt is None or not isinstance(getattr(exc, "exit_code", None), int):
        return None
    message = " ".join(str(fmt()).split())
    ctx = getattr(exc, "ctx", None)
    command = getattr(getattr(ctx, "command", None), "name", None) if ctx is not None else None
    where = f"{command}: " if command and command != "swarmdesign" and getattr(ctx, "parent", None) else ""
    return f"error: {where}{message} (see 'swarmdesign {command + ' ' if where else ''}--help')"


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: user errors become one line and exit 2."""
    args = sys.argv[1:] if argv is None else argv
    from swarmdesign.stopping import hold_stops_until_exit

    if argv is None:  # a real process (not a caller passing arguments): it exits after a stop
        hold_stops_until_exit()  # so a second signal must not cut the clean-up short
    try:
        code = app(args=args, prog_name="swarmdesign", standalone_mode=False)
    except SwarmdesignError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:
        line = _usage_error_line(exc)
        if line is None:
            raise
        typer.echo(line, err=True)
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
