"""``staffplan publish``, ``staffplan versions`` and ``staffplan cover``: the plan store and
sick-leave cover.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import pandas as pd

from staffplan.errors import InputError
from staffplan.store import PlanStore, Version, read_roster_csv, store_path, versions_frame


def _store(scenario: Path) -> PlanStore:
    from staffplan.scenario import load

    return PlanStore(store_path(load(scenario)))


def _echo_json(obj: object) -> None:
    click.echo(json.dumps(obj, default=str))


@click.command("publish")
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--roster",
    "roster_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The roster.csv to publish (one row per agent-day; times ISO 8601 local with offset).",
)
@click.option(
    "--note", required=True, help="Why this version is published (free text, e.g. 'week 49')."
)
@click.option(
    "--author",
    default=None,
    help="Who publishes it (default: $STAFFPLAN_AUTHOR, else the login name).",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the new version (number, parent, rows [agent-days], changes [agent-days]) as "
    "one JSON object.",
)
def publish(
    scenario: Path, roster_file: Path, note: str, author: str | None, as_json: bool
) -> None:
    """Store a roster as the next numbered version in the scenario's plan store.

    The change log is the difference to the latest version (agent-days whose
    shift, start, end or queues differ). Existing versions are never changed.
    """
    store = _store(scenario)
    roster = read_roster_csv(roster_file)
    version = store.publish(roster, note=note, author=author)
    if as_json:
        _echo_json({"store": str(store.path), "version": version.as_dict()})
        return
    parent = (
        f" (parent {version.parent}, {version.n_changes} agent-days changed)"
        if version.parent
        else ""
    )
    click.echo(
        f"published version {version.number}: {version.n_rows} agent-days{parent} -> {store.path}"
    )


def _changes_lines(log: pd.DataFrame) -> list[str]:
    from staffplan.store import describe

    lines = []
    for r in log.itertuples(index=False):
        old = describe(r.old_shift, r.old_start, r.old_end)
        new = describe(r.new_shift, r.new_start, r.new_end)
        queues = (
            f" queues {r.old_queues or '-'} -> {r.new_queues or '-'}"
            if r.old_queues != r.new_queues and r.action == "changed"
            else ""
        )
        reason = f"  ({r.reason})" if r.reason else ""
        lines.append(
            f"  v{r.version} {r.date} {r.agent_id:<8} {r.action:<8} {old} -> {new}{queues}{reason}"
        )
    return lines


@click.command("versions")
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--version",
    "number",
    type=int,
    default=None,
    help="Show the change log of this version only (a version number, 1 = first).",
)
@click.option(
    "--export",
    "export_n",
    type=int,
    default=None,
    help="Export this version number's roster to --out.",
)
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="With --export: the file to write, .csv or .xlsx (XLSX adds the change log and "
    "version sheets).",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print versions (rows and changes in agent-days, times UTC) and the change log as one "
    "JSON object.",
)
def versions(
    scenario: Path, number: int | None, export_n: int | None, out_file: Path | None, as_json: bool
) -> None:
    """List published roster versions (who, when [UTC], why) and their change logs."""
    if (export_n is None) != (out_file is None):
        raise InputError(
            "--export and --out go together",
            column="--export" if export_n is None else "--out",
            expected="both --export N and --out FILE",
            hint="staffplan versions SCENARIO --export 3 --out v3.xlsx",
        )
    store = _store(scenario)
    exported = (
        str(store.export(export_n, out_file))
        if export_n is not None and out_file is not None
        else None
    )
    vs: tuple[Version, ...] = store.versions()
    log = store.changes(number)
    if as_json:
        _echo_json(
            {
                "store": str(store.path),
                "versions": [v.as_dict() for v in vs],
                "changes": log.to_dict(orient="records"),
                "exported": exported,
            }
        )
        return
    if not vs:
        click.echo(f"no versions yet in {store.path} (publish one with 'staffplan publish')")
        return
    click.echo(versions_frame(vs).to_string(index=False))
    if len(log):
        click.echo("\nchange log:")
        for line in _changes_lines(log):
            click.echo(line)
    if exported:
        click.echo(f"\nexported version {export_n} -> {exported}")


def _render_changes(changes: pd.DataFrame) -> list[str]:
    several_days = changes["first_time"].str[:10].nunique() > 1
    lines = []
    for i, r in enumerate(changes.itertuples(index=False), start=1):
        when = f"{r.first_time[:10]} {r.first_time[11:16]}" if several_days else r.first_time[11:16]
        lines.append(
            f"  {i:>2}. {when} {r.agent_id:<8} {r.action:<14} {r.old} -> {r.new}  ({r.reason})"
        )
    return lines


@click.command("cover")
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--absent",
    "absent",
    multiple=True,
    required=True,
    help="A new absence AGENT:DATE (whole day) or AGENT:FROM/TO (ISO local date or date-time; "
    "a date-only TO is inclusive). Repeat for several.",
)
@click.option(
    "--now",
    "now_text",
    required=True,
    help="The current local date-time (ISO, e.g. 2026-12-02T07:00); shifts starting before it "
    "are never changed.",
)
@click.option(
    "--version",
    "number",
    type=int,
    default=None,
    help="The published version to repair (a version number; default the latest).",
)
@click.option(
    "--reason",
    default="sick",
    show_default=True,
    help="Absence kind recorded for every --absent (sick, vacation, other ...).",
)
@click.option(
    "--apply",
    "apply",
    is_flag=True,
    help="Write the repaired roster to the plan store as a new version (without it: only propose).",
)
@click.option(
    "--author",
    default=None,
    help="With --apply: who records the new version (default: $STAFFPLAN_AUTHOR, else the "
    "login name).",
)
@click.option("--note", default=None, help="With --apply: why (default: the absences).")
@click.option(
    "--time-limit",
    "time_limit_s",
    type=float,
    default=10.0,
    show_default=True,
    help="Wall-clock budget of the whole repair [s]: model building, solve and extraction.",
)
@click.option(
    "--workers",
    type=int,
    default=None,
    help="CP-SAT search workers [threads] (default: the scenario's, at most 2 here).",
)
@click.option(
    "--seed",
    type=int,
    default=None,
    help="Solver random seed (whole number; default: the scenario's).",
)
@click.option(
    "--deterministic",
    is_flag=True,
    help="Deterministic parallel search [flag]: the same repair for the same inputs and seed "
    "on any machine load (the limit becomes deterministic time).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for changes.csv, service.csv (service level per interval [fraction]) and "
    "roster.csv.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON object: changes (phone order), agents changed [agents], service level "
    "before/no action/after [fraction], remaining gaps [agents].",
)
def cover(
    scenario: Path,
    absent: tuple[str, ...],
    now_text: str,
    number: int | None,
    reason: str,
    apply: bool,
    author: str | None,
    note: str | None,
    time_limit_s: float,
    workers: int | None,
    seed: int | None,
    deterministic: bool,
    out_dir: Path | None,
    as_json: bool,
) -> None:
    """Repair the published roster after new absences, changing as few agents as possible.

    Restores service level first, then changes the fewest agents, then the
    cheapest actions (costs and caps from the scenario's [cover] table). The
    changes are listed in the order to phone them (earliest first).
    """
    from staffplan.cover.settings import parse_absent, parse_now
    from staffplan.io.atomic import write_csv
    from staffplan.pipeline import run_cover
    from staffplan.scenario import load
    from staffplan.settings import solve_settings

    scen = load(scenario)
    solve_settings(scen, {"time_limit_s": time_limit_s, "workers": workers})  # bad options: exit 2
    store = PlanStore(store_path(scen))
    base = store.resolve(number)
    absences = tuple(parse_absent(a, scen.grid, kind=reason) for a in absent)
    now = parse_now(now_text, scen.grid)
    result = run_cover(
        scen,
        store.roster(base),
        absences,
        now,
        time_limit_s=time_limit_s,
        workers=workers,
        seed=seed,
        deterministic=deterministic,
    )
    written: dict[str, str] = {}
    if out_dir is not None:
        written["changes"] = str(write_csv(out_dir / "changes.csv", result.changes))
        written["service"] = str(
            write_csv(out_dir / "service.csv", result.service, float_format="%.4f")
        )
        written["roster"] = str(write_csv(out_dir / "roster.csv", result.roster))
    new_version = None
    if apply:
        why = note or "cover: " + ", ".join(a.text for a in absences)
        new_version = store.publish(
            result.roster,
            note=why,
            author=author,
            kind="cover",
            parent=base,
            expect_latest=store.resolve(None),
            changes=result.change_log,
        )
    if as_json:
        _echo_json(
            {
                **result.summary(),
                "base_version": base,
                "applied": new_version.as_dict() if new_version else None,
                "files": written,
            }
        )
        return
    s = result.summary()
    click.echo(
        f"cover for {', '.join(a.text for a in absences)} from "
        f"{now.isoformat(timespec='minutes')} (version {base}): "
        f"{result.status}, {s['agents_changed']} agent(s) changed, "
        f"{result.solve_seconds:.1f} s (build {result.build_seconds:.1f} s, "
        f"solve {result.solver_seconds:.1f} s)"
    )
    click.echo(
        f"short agent-intervals: before absence {s['short_agent_intervals_before']}, no action "
        f"{s['short_agent_intervals_no_action']}, after repair "
        f"{s['short_agent_intervals_after']}"
    )
    if s["sl_before"] is not None:
        click.echo(
            "service level (volume-weighted, affected days): before absence "
            f"{s['sl_before']:.3f}, no action {s['sl_no_action']:.3f}, after "
            f"repair {s['sl_after']:.3f}"
        )
    if len(result.changes):
        click.echo("phone, in this order:")
        for line in _render_changes(result.changes):
            click.echo(line)
    else:
        click.echo("no change helps (or none is allowed)")
    for g in result.gaps_text():
        click.echo(f"still short: {g}")
    for line in result.notes:
        click.echo(line)
    for line in result.warnings:
        click.echo(f"warning: {line}", err=True)
    if new_version is not None:
        click.echo(f"applied as version {new_version.number} -> {store.path}")
    else:
        click.echo("proposal only: add --apply to store it as a new version")
