"""The ``staffplan`` command line: a thin Click group.

Commands live in ``staffplan.commands.<module>`` and are imported only when
used, so ``staffplan --help`` stays fast. A command parses options, calls pure
functions and renders; it holds no planning logic.

Exit codes: 0 success, 2 bad input (a :class:`StaffplanError`, printed as one
clear line), 1 internal error.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import traceback
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import click

from staffplan import __version__
from staffplan.errors import StaffplanError, StaffplanWarning
from staffplan.threads import limit_numeric_threads

# command name -> (module under staffplan.commands, attribute, one-line help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "erlang": (
        "erlang",
        "erlang",
        "Agents needed for one interval (Erlang C / Erlang A), or KPIs of N agents.",
    ),
    "requirements": (
        "requirements",
        "requirements",
        "Agents needed per interval and queue for a scenario's forecast.",
    ),
    "forecast": (
        "forecast",
        "forecast",
        "Forecast volumes and handle times per queue and interval; backtest.",
    ),
    "roster": ("roster", "roster", "Build a week's roster with CP-SAT."),
    "publish": ("plans", "publish", "Check a roster and store it as a new published version."),
    "cover": ("cover", "cover", "Repair a published roster after new absences, with few changes."),
    "versions": (
        "plans",
        "versions",
        "List published versions, change logs, recorded absences; export one.",
    ),
    "absent": ("plans", "absent", "Record an absence (a sick call) in the plan store."),
    "validate": (
        "plans",
        "validate",
        "Check a roster or a stored version against every hard rule.",
    ),
    "simulate": (
        "simulate",
        "simulate",
        "Discrete-event simulation of a roster against its forecast.",
    ),
    "run": ("run", "run", "Forecast, requirements, roster, KPIs and report in one go."),
    "compare": ("run", "compare", "Run several scenarios and compare their KPIs side by side."),
    "sweep": (
        "sweep",
        "sweep",
        "Run a grid of scenario variants (locally or on Ray) and draw the cost–service frontier.",
    ),
    "serve": (
        "serve",
        "serve",
        "Web workspace over the plan store: week, sick calls, edits, versions, compare.",
    ),
    "import": (
        "importers",
        "import_group",
        "Import external formats (e.g. the Curtois rostering benchmark).",
    ),
}


def _available(name: str) -> bool:
    module = COMMANDS[name][0]
    return importlib.util.find_spec(f"staffplan.commands.{module}") is not None


class LazyGroup(click.Group):
    """A group that imports each command's module on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(n for n in COMMANDS if _available(n))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS or not _available(cmd_name):
            return None
        module, attr, _ = COMMANDS[cmd_name]
        mod = importlib.import_module(f"staffplan.commands.{module}")
        return getattr(mod, attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(n, COMMANDS[n][2]) for n in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@contextmanager
def warnings_to_stderr() -> Iterator[None]:
    """Print every :class:`StaffplanWarning` as one ``warning: ...`` line on stderr."""

    def show(message: Warning | str, category: type[Warning], *_: object, **__: object) -> None:
        if issubclass(category, StaffplanWarning):
            click.echo(f"warning: {message}", err=True)
        else:
            shown(message, category, *_, **__)  # type: ignore[arg-type]

    with warnings.catch_warnings():
        shown = warnings.showwarning
        warnings.simplefilter("always", StaffplanWarning)
        warnings.showwarning = show  # type: ignore[assignment]
        yield


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="staffplan")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """staffplan: forecasts, Erlang requirements, CP-SAT rosters and cover for contact centers.

    Times are in seconds unless an option says minutes or hours; fractions
    (service level, shrinkage, occupancy) are between 0 and 1.
    """
    ctx.with_resource(warnings_to_stderr())


def main(argv: list[str] | None = None) -> None:
    """Console entry point: run the group, turning errors into exit codes."""
    limit_numeric_threads()  # before any command loads numpy
    try:
        rv = cli.main(args=argv, prog_name="staffplan", standalone_mode=False)
    except StaffplanError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, BrokenPipeError):
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        if os.environ.get("STAFFPLAN_DEBUG"):
            traceback.print_exc()
        click.echo(
            f"internal error: {type(exc).__name__}: {exc} (set STAFFPLAN_DEBUG=1 for a "
            "traceback; please report it)",
            err=True,
        )
        sys.exit(1)
    sys.exit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
