"""``staffplan cover``: sick-leave cover of a published roster (the plan store's own commands
live in ``commands/plans.py``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pandas as pd

from staffplan.errors import InputError
from staffplan.store import PlanStore, store_path


def _version_files(scen: Any, store: PlanStore, number: int, folder: Path) -> dict[str, object]:
    """The new version's roster.csv, roster.xlsx and the changed agents' calendars."""
    from staffplan.report.version_files import write_stored_version
    from staffplan.roster.validate import rules_problem

    problem = rules_problem(scen)
    files = write_stored_version(
        folder,
        store,
        number,
        scenario=scen.name,
        grid=scen.grid,
        team=problem.agents,
        absences=problem.absences,
    )
    return files.as_dict()


def _echo_json(obj: object) -> None:
    click.echo(json.dumps(obj, default=str))


def _render_changes(changes: pd.DataFrame) -> list[str]:
    """Each change: when, who (name and id), what, why; the sentence to tell them; and, on an
    agent's first change, the service level their changes restore.
    """
    several_days = changes["first_time"].str[:10].nunique() > 1
    lines = []
    seen: set[str] = set()
    for i, r in enumerate(changes.to_dict(orient="records"), start=1):
        t = r["first_time"]
        when = f"{t[:10]} {t[11:16]}" if several_days else t[11:16]
        who = f"{r['name']} ({r['agent_id']})" if r.get("name") else r["agent_id"]
        lines.append(f"  {i:>2}. {when} {who}: {r['action']} {r['old']} -> {r['new']}")
        restores = ""
        if r["agent_id"] not in seen and r.get("sl_with") is not None and pd.notna(r["sl_with"]):
            restores = (
                f"  [service level where {r['agent_id']} helps: {r['sl_without']:.3f} -> "
                f"{r['sl_with']:.3f}]"
            )
        seen.add(r["agent_id"])
        lines.append(f'      tell: "{r["tell"]}"{restores}  ({r["reason"]})')
    return lines


@click.command("cover")
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--absent",
    "absent",
    multiple=True,
    help="A new absence AGENT:DATE (whole day) or AGENT:FROM/TO (ISO local date or date-time; "
    "a date-only TO is inclusive). Repeat for several. Absences recorded with 'staffplan "
    "absent' and not yet applied are covered too (then --absent may be left out).",
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
    help="The published version to repair (a version number; default the latest). With "
    "--apply, an older one needs --fork.",
)
@click.option(
    "--fork",
    is_flag=True,
    help="With --apply and --version N older than the latest: make the repair the new latest "
    "anyway, based on N (what came after N is set aside, not lost).",
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
    "roster.csv; with --apply also the new version's roster.xlsx and calendars/<agent>.ics of "
    "the agents whose shifts changed.",
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
    fork: bool,
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

    Starts from the version (default the latest) plus every absence recorded in the plan store:
    nobody is proposed during a recorded absence, and a sick agent's lost contract hours are not
    asked back. Restores service level first, then changes the fewest agents, then the cheapest
    actions (costs and caps from the scenario's [cover] table). The changes are listed in the
    order to phone them (earliest first). --apply stores the repair as a new version, refused
    (exit 2) if another version was published after the one this cover started from.
    """
    from staffplan.cover.settings import parse_absent, parse_now
    from staffplan.cover.start import cover_start
    from staffplan.io.atomic import check_writable, write_csv
    from staffplan.pipeline import run_cover
    from staffplan.scenario import load
    from staffplan.settings import solve_settings

    if fork and (number is None or not apply):
        raise InputError(
            "--fork goes with --apply --version",
            column="--fork",
            expected="--apply --version N --fork (N: the version to start from)",
        )
    if out_dir is not None:
        check_writable(out_dir)
    scen = load(scenario)
    solve_settings(scen, {"time_limit_s": time_limit_s, "workers": workers})  # bad options: exit 2
    store = PlanStore(store_path(scen))
    grid = scen.grid
    given = tuple(parse_absent(a, grid, kind=reason) for a in absent)
    now = parse_now(now_text, grid)
    base = store.base(number)  # read once, before the solve: what an --apply is checked against
    if apply:
        store.check_fork(base, fork=fork)
    start = cover_start(base, given, grid.zone)
    result = run_cover(
        scen,
        base.roster,
        start.repaired,
        now,
        time_limit_s=time_limit_s,
        workers=workers,
        seed=seed,
        deterministic=deterministic,
        recorded=start.applied,
    )
    written: dict[str, object] = {}
    if out_dir is not None:
        written["changes"] = str(write_csv(out_dir / "changes.csv", result.changes))
        written["service"] = str(
            write_csv(out_dir / "service.csv", result.service, float_format="%.4f")
        )
        if not apply:
            written["roster"] = str(write_csv(out_dir / "roster.csv", result.roster))
    new_version = None
    texts = [a.text for a in start.repaired]
    if apply:
        why = note or "cover: " + ", ".join(texts)
        new_version = store.publish(
            result.roster,
            note=why,
            author=author,
            kind="cover",
            parent=base.version.number,
            expect_latest=base.latest,
            fork=fork,
            changes=result.change_log,
            absences=start.records(note or f"given to cover at {now:%Y-%m-%d %H:%M}"),
            link=start.pending_ids,
        )
        if out_dir is not None:
            written.update(_version_files(scen, store, new_version.number, out_dir))
    if as_json:
        _echo_json(
            {
                **result.summary(),
                "base_version": base.version.number,
                "covered": texts,
                "recorded_absences": len(start.applied),
                "applied": new_version.as_dict() if new_version else None,
                "files": written,
            }
        )
        return
    s = result.summary()
    click.echo(
        f"cover for {', '.join(texts)} from "
        f"{now.isoformat(timespec='minutes')} (version {base.version.number}, "
        f"{len(start.applied)} recorded absence(s) kept): "
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
        if new_version.forked:
            click.echo(
                f"forked: version {new_version.number} is the new latest, based on version "
                f"{new_version.parent}; the versions after {new_version.parent} are set aside "
                "(still in the store)"
            )
        if "calendars" in written:
            n_cal = len(written["calendars"])  # type: ignore[arg-type]
            click.echo(
                f"wrote roster.csv, roster.xlsx and {n_cal} calendar(s) of changed agents "
                f"-> {out_dir}"
            )
    else:
        click.echo("proposal only: add --apply to store it as a new version")
