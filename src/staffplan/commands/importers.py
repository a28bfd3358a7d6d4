"""``staffplan import``: convert external formats into staffplan scenarios."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from staffplan import limits
from staffplan.errors import InputError
from staffplan.importers.curtois import DEFAULT_START, parse_instance, to_scenario
from staffplan.io.atomic import check_writable


@click.group("import")
def import_group() -> None:
    """Import external formats into a staffplan scenario folder."""


def _monday(value: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(
            "bad --start date", key="--start", expected="a date like 2024-01-01", found=value
        ) from None
    if day.weekday() != 0:
        raise InputError(
            "bad --start date",
            key="--start",
            expected="a Monday (day 0 of every benchmark instance is a Monday)",
            found=value,
        )
    return day


@import_group.command("curtois")
@click.argument("instance_file", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Scenario folder to write (new or empty; see --force).",
)
@click.option(
    "--force", is_flag=True, help="Overwrite the scenario files in a non-empty --out folder."
)
@click.option(
    "--start",
    default=DEFAULT_START.isoformat(),
    show_default=True,
    help="Calendar date [YYYY-MM-DD, a Monday] of the instance's day 0.",
)
@click.option(
    "--time-limit",
    "time_limit_s",
    type=click.FloatRange(min=0, min_open=True),
    default=60.0,
    show_default=True,
    help="Solver time limit [s] written to the scenario's [solver].",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="CP-SAT search workers [threads] written to the scenario's [solver].",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON object (the files written, counts [staff, shift types, days]) on stdout.",
)
def curtois(
    instance_file: Path,
    out_dir: Path,
    force: bool,
    start: str,
    time_limit_s: float,
    workers: int,
    as_json: bool,
) -> None:
    """Convert a Curtois & Qu benchmark instance (Instance<N>.txt) into a scenario.

    The scenario's roster objective equals the benchmark objective: weighted
    shift on/off requests plus weighted under- and over-cover.
    """
    limits.check("time_limit_s", time_limit_s, column="--time-limit")
    limits.check("workers", workers, column="--workers")
    check_writable(out_dir)
    instance = parse_instance(instance_file)
    scenario = to_scenario(
        instance,
        out_dir,
        start=_monday(start),
        force=force,
        time_limit_s=time_limit_s,
        workers=workers,
    )
    summary = {
        "instance": instance.name,
        "scenario": str(scenario),
        "files": sorted(str(p) for p in scenario.parent.glob("*.csv")),
        "staff": len(instance.staff),
        "shift_types": len(instance.shifts),
        "days": instance.horizon_days,
        "on_requests": len(instance.on_requests),
        "off_requests": len(instance.off_requests),
        "cover_rows": len(instance.cover),
    }
    if as_json:
        click.echo(json.dumps(summary))
        return
    click.echo(
        f"{instance.name}: {summary['staff']} staff, {summary['shift_types']} shift types, "
        f"{summary['days']} days, "
        f"{summary['on_requests'] + summary['off_requests']} requests, {summary['cover_rows']} "
        f"cover rows -> {scenario}"
    )
    click.echo(f"solve with: staffplan roster {scenario} --json")
