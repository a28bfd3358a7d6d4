"""``staffplan cover``: sick-leave cover of a published roster (the plan store's own commands
live in ``commands/plans.py``).
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import pandas as pd

from staffplan.store import PlanStore, store_path


def _store(scenario: Path) -> PlanStore:
    from staffplan.scenario import load

    return PlanStore(store_path(load(scenario)))


def _echo_json(obj: object) -> None:
    click.echo(json.dumps(obj, default=str))


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
    from staffplan.io.atomic import check_writable, write_csv
    from staffplan.pipeline import run_cover
    from staffplan.scenario import load
    from staffplan.settings import solve_settings

    if out_dir is not None:
        check_writable(out_dir)
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
