"""``staffplan publish``, ``versions``, ``absent`` and ``validate``: the plan store's commands.

Every roster is checked by the independent validator (``roster.validate``)
against the scenario's rules and the absences recorded in the store before it
is stored; every write names the version it started from and is refused if
another lead published meanwhile.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import pandas as pd

from staffplan.errors import InputError
from staffplan.io.roster_csv import change_text, read_roster_csv
from staffplan.store import (
    PlanStore,
    RecordedAbsence,
    Version,
    store_path,
    team_absences,
    versions_frame,
)

_SCENARIO = click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))


def _open(scenario: Path) -> tuple[Any, PlanStore]:
    from staffplan.scenario import load

    scen = load(scenario)
    return scen, PlanStore(store_path(scen))


def _echo_json(obj: object) -> None:
    click.echo(json.dumps(obj, default=str))


def _violation_table(violations: list[Any]) -> str:
    """One line per violation: agent, date, rule, what was found and what is allowed."""
    return "\n".join(
        f"  {v.agent_id or '-':<8} {v.date or '-':<10}  {v.rule}: found {v.found}; "
        f"allowed {v.allowed}"
        for v in violations
    )


def _write_files(
    scen: Any, store: PlanStore, number: int, folder: Path, problem: Any, *, changed_only: bool
) -> dict[str, object]:
    """roster.csv, roster.xlsx and calendars of version ``number`` into ``folder``."""
    from staffplan.report.version_files import write_stored_version

    files = write_stored_version(
        folder,
        store,
        number,
        scenario=scen.name,
        grid=scen.grid,
        team=problem.agents,
        absences=problem.absences,
        changed_only=changed_only,
    )
    return files.as_dict()


# ---- publish ---------------------------------------------------------------------------------


@click.command("publish")
@_SCENARIO
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
    "--version",
    "number",
    type=int,
    default=None,
    help="The version this roster replaces (its parent; default the latest). An older one "
    "needs --fork.",
)
@click.option(
    "--fork",
    is_flag=True,
    help="With --version N older than the latest: make the new version the latest anyway, "
    "based on N (what came after N is set aside, not lost).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Publish despite hard-rule violations; they are stored with the version and shown by "
    "'versions' (say why in --note).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the new version's roster.csv, roster.xlsx and calendars/<agent>.ics of the "
    "agents whose shifts changed.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the new version (number, parent, rows [agent-days], changes [agent-days], "
    "absences, violations), the absences it applied and the files written as one JSON object.",
)
def publish(
    scenario: Path,
    roster_file: Path,
    note: str,
    author: str | None,
    number: int | None,
    fork: bool,
    force: bool,
    out_dir: Path | None,
    as_json: bool,
) -> None:
    """Check a roster against every hard rule and store it as the next numbered version.

    Refused (exit 2) when it breaks a rule, unless --force; when another
    version was published after the one this started from; or when --version
    names an older version without --fork. The change log is the difference
    to the parent. Existing versions are never changed.
    """
    from staffplan.publishing import publish_checked

    if fork and number is None:
        raise InputError(
            "--fork goes with --version",
            column="--fork",
            expected="--version N --fork (N: the version to start from)",
        )
    scen, store = _open(scenario)
    done = publish_checked(
        scen,
        store,
        read_roster_csv(roster_file),
        note=note,
        author=author,
        number=number,
        fork=fork,
        force=force,
        source=str(roster_file),
    )
    version, applied, violations, problem = (
        done.version,
        done.applied,
        list(done.violations),
        done.problem,
    )
    files: dict[str, object] = {}
    if out_dir is not None:
        files = _write_files(scen, store, version.number, out_dir, problem, changed_only=True)
    if as_json:
        _echo_json(
            {
                "store": str(store.path),
                "version": version.as_dict(),
                "forked": version.forked,
                "applied_absences": [a.as_dict() for a in applied],
                "violations": [v.as_dict() for v in violations],
                "files": files,
            }
        )
        return
    parent = (
        f" (parent {version.parent}, {version.n_changes} agent-days changed)"
        if version.parent is not None
        else ""
    )
    click.echo(
        f"published version {version.number}: {version.n_rows} agent-days{parent} -> {store.path}"
    )
    if version.forked:
        click.echo(
            f"forked: version {version.number} is the new latest, based on version "
            f"{version.parent}; versions {version.parent + 1}-{version.number - 1} are set aside "
            "(still in the store)"
        )
    for a in applied:
        click.echo(f"applies recorded absence {a.text()}")
    if violations:
        click.echo(
            f"published with {len(violations)} known violation(s) (--force), stored with the "
            "version:"
        )
        click.echo(_violation_table(violations))
    if files:
        cals = files["calendars"]
        click.echo(
            f"wrote roster.csv, roster.xlsx and {len(cals)} calendar(s) of changed agents "  # type: ignore[arg-type]
            f"-> {out_dir}"
        )


# ---- versions --------------------------------------------------------------------------------


def _absence_line(a: RecordedAbsence) -> str:
    applied = (
        "applied in version " + ", ".join(str(v) for v in a.versions)
        if a.versions
        else "not applied yet"
    )
    why = f' "{a.reason}"' if a.reason else ""
    gone = f"; withdrawn by {a.withdrawn}" if a.withdrawn else ""
    return f"  {a.text()}{why}, recorded by {a.recorded_by} at {a.recorded_utc}; {applied}{gone}"


def _changes_lines(log: pd.DataFrame) -> list[str]:
    lines = []
    for r in log.to_dict(orient="records"):
        reason = f"  ({r['reason']})" if r["reason"] else ""
        lines.append(
            f"  v{r['version']} {r['date']} {r['agent_id']:<8} {r['action']:<8} "
            f"{change_text(r)}{reason}"
        )
    return lines


@click.command("versions")
@_SCENARIO
@click.option(
    "--version",
    "number",
    type=int,
    default=None,
    help="Show this version's change log, absences and violations only (1 = first).",
)
@click.option(
    "--export",
    "export_n",
    type=int,
    default=None,
    help="Export this version number to --out.",
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(path_type=Path),
    default=None,
    help="With --export: a .csv or .xlsx file (XLSX adds the change log and version sheets), "
    "or a folder for roster.csv, roster.xlsx and every agent's calendars/<agent>.ics.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print versions (rows and changes in agent-days, times UTC), the change log, recorded "
    "absences and known violations as one JSON object.",
)
def versions(
    scenario: Path, number: int | None, export_n: int | None, out_path: Path | None, as_json: bool
) -> None:
    """List published roster versions (who, when [UTC], why), their change logs, the recorded
    absences and the violations versions were knowingly published with.
    """
    from staffplan.store import absences_frame

    if (export_n is None) != (out_path is None):
        raise InputError(
            "--export and --out go together",
            column="--export" if export_n is None else "--out",
            expected="both --export N and --out FILE or FOLDER",
            hint="staffplan versions SCENARIO --export 3 --out v3.xlsx (or --out v3/)",
        )
    scen, store = _open(scenario)
    exported: object = None
    if export_n is not None and out_path is not None:
        if out_path.is_dir() or not out_path.suffix:
            from staffplan.roster.validate import rules_problem

            exported = _write_files(
                scen, store, export_n, out_path, rules_problem(scen), changed_only=False
            )
        else:
            exported = str(store.export(export_n, out_path))
    vs: tuple[Version, ...] = store.versions()
    if number is not None:
        store.version(number)
    log = store.changes(number)
    bad = store.violations(number)
    recorded = store.absences(withdrawn=True)
    if number is not None:
        recorded = tuple(a for a in recorded if number in a.versions)
    if as_json:
        _echo_json(
            {
                "store": str(store.path),
                "versions": [v.as_dict() for v in vs],
                "changes": log.to_dict(orient="records"),
                "absences": absences_frame(recorded).to_dict(orient="records"),
                "violations": bad.to_dict(orient="records"),
                "exported": exported,
            }
        )
        return
    if not vs:
        click.echo(f"no versions yet in {store.path} (publish one with 'staffplan publish')")
    else:
        frame = versions_frame(vs).astype(object).fillna("-")
        click.echo(frame.to_string(index=False))
    if recorded:
        click.echo("\nabsences" + (f" applied in version {number}:" if number else ":"))
        for a in recorded:
            click.echo(_absence_line(a))
    if len(bad):
        click.echo("\nknown violations (published with --force):")
        click.echo(bad.to_string(index=False))
    if len(log):
        click.echo("\nchange log:")
        for line in _changes_lines(log):
            click.echo(line)
    if isinstance(exported, str):
        click.echo(f"\nexported version {export_n} -> {exported}")
    elif isinstance(exported, dict):
        click.echo(
            f"\nexported version {export_n} -> {out_path}: roster.csv, roster.xlsx, "
            f"{len(exported['calendars'])} calendars"  # type: ignore[arg-type]
        )


# ---- absent ----------------------------------------------------------------------------------


@click.command("absent")
@_SCENARIO
@click.option("--agent", "agent_id", default=None, help="The absent agent's id (agents.csv).")
@click.option(
    "--from",
    "from_text",
    default=None,
    help="Start: an ISO date (the whole day) or local date-time (2026-12-08T11:00).",
)
@click.option(
    "--to",
    "to_text",
    default=None,
    help="End: a date (inclusive: the whole day) or date-time (exclusive); default: the --from "
    "date's end.",
)
@click.option(
    "--kind",
    default="sick",
    show_default=True,
    help="sick, vacation, day_off, other (no shift may overlap), or training, meeting.",
)
@click.option("--note", default="", help="Why, in words (e.g. 'called at 06:40, flu').")
@click.option(
    "--author",
    default=None,
    help="Who records it (default: $STAFFPLAN_AUTHOR, else the login name).",
)
@click.option(
    "--withdraw",
    "withdraw_id",
    type=int,
    default=None,
    help="Withdraw recorded absence number ID instead (entered by mistake, agent back); needs "
    "--note.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the recorded absence as JSON.")
def absent(
    scenario: Path,
    agent_id: str | None,
    from_text: str | None,
    to_text: str | None,
    kind: str,
    note: str,
    author: str | None,
    withdraw_id: int | None,
    as_json: bool,
) -> None:
    """Record an absence in the plan store (a sick call, before deciding how to cover it).

    It is a fact every later validation and cover starts from: no version may
    give the agent a shift during it, and their lost contract hours are not
    asked back.
    """
    from staffplan.io.team import ABSENCE_KINDS, absence_span
    from staffplan.roster.validate import rules_problem
    from staffplan.store import AbsenceRecord

    scen, store = _open(scenario)
    if withdraw_id is not None:
        if agent_id or from_text or to_text:
            raise InputError(
                "--withdraw stands alone",
                column="--withdraw",
                expected="--withdraw ID --note 'why' (without --agent, --from, --to)",
            )
        gone = store.withdraw_absence(withdraw_id, reason=note, author=author)
        if as_json:
            _echo_json({"store": str(store.path), "absence": gone.as_dict()})
        else:
            click.echo(f"withdrew absence {gone.text()} -> {store.path}")
        return
    for value, option in ((agent_id, "--agent"), (from_text, "--from")):
        if not value or not value.strip():
            raise InputError(
                f"missing {option}",
                column=option,
                expected="--agent ID --from DATE[THH:MM] [--to DATE[THH:MM]]",
                hint="staffplan absent SCENARIO --agent A17 --from 2026-12-09 --kind sick",
            )
    assert agent_id is not None and from_text is not None
    if kind not in ABSENCE_KINDS:
        raise InputError(
            "unknown absence kind",
            column="--kind",
            expected="one of " + ", ".join(ABSENCE_KINDS),
            found=kind,
        )
    if to_text is None and len(from_text.strip()) != 10:
        raise InputError(
            "absence without an end",
            column="--to",
            expected="--to when --from has a time",
            found=from_text,
        )
    grid = scen.grid
    start, end = absence_span(
        from_text, to_text or from_text, grid.timezone, columns=("--from", "--to")
    )
    if end <= grid.local_midnight(grid.start) or start >= grid.local_midnight(grid.end):
        raise InputError(
            "absence outside the planning horizon",
            column="--from",
            expected=f"a time between {grid.start} and {grid.end} 00:00",
            found=f"{from_text} - {to_text or from_text}",
        )
    team = {a.id for a in rules_problem(scen).agents}
    if agent_id not in team:
        raise InputError(
            "unknown agent",
            column="--agent",
            expected="an agent_id from agents.csv",
            found=agent_id,
        )
    rec = store.record_absence(
        AbsenceRecord(agent_id, start, end, kind, note.strip()), author=author
    )
    hit = _rostered(store, rec, grid.zone)
    if as_json:
        _echo_json({"store": str(store.path), "absence": rec.as_dict(), "rostered": hit})
        return
    click.echo(f"recorded absence {rec.text()} by {rec.recorded_by} -> {store.path}")
    head = store.latest()
    if hit and head is not None:
        shifts = ", ".join(
            f"{h['date']} {h['shift']} {h['start'][11:16]}-{h['end'][11:16]}" for h in hit
        )
        click.echo(
            f"version {head.number} still has {agent_id} on {shifts}: not applied yet "
            "('staffplan validate' flags it; a cover repairs it)"
        )
    elif head is not None:
        click.echo(f"version {head.number} has no shift of {agent_id} during it")


def _rostered(store: PlanStore, absence: RecordedAbsence, zone: Any) -> list[dict[str, str]]:
    """The latest version's shifts of the absent agent that meet the absence."""
    if store.latest() is None:
        return []
    roster = store.roster()
    mine = roster[roster["agent_id"] == absence.agent_id]
    s, e = absence.span(zone)
    return [
        {"date": r["date"], "shift": r["shift"], "start": r["start"], "end": r["end"]}
        for r in mine.to_dict(orient="records")
        if pd.Timestamp(r["start"]) < e and s < pd.Timestamp(r["end"])
    ]


# ---- validate --------------------------------------------------------------------------------


@click.command("validate")
@_SCENARIO
@click.option(
    "--roster",
    "roster_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A roster.csv to check (default: the store's latest version).",
)
@click.option(
    "--version",
    "number",
    type=int,
    default=None,
    help="Check this stored version instead (a version number).",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print {source, version, recorded_absences, ok, violations: [{agent_id, date, rule, "
    "found, allowed}]} as one JSON object.",
)
def validate(scenario: Path, roster_file: Path | None, number: int | None, as_json: bool) -> None:
    """Check a roster against every hard rule: contracts, rest, availability, absences (also
    those recorded in the plan store), skills, templates, horizon and known agents.

    Lists each violation (agent, date, rule, found, allowed); exits 2 when
    there is one, 0 when there is none.
    """
    from staffplan.pipeline import check_scenario_roster
    from staffplan.roster.validate import violations_frame

    if roster_file is not None and number is not None:
        raise InputError(
            "--roster and --version exclude each other",
            column="--version",
            expected="either --roster FILE or --version N",
        )
    scen, store = _open(scenario)
    if roster_file is not None:
        roster, source, recorded = read_roster_csv(roster_file), str(roster_file), None
        absences = store.absences()
    else:
        base = store.base(number)
        roster, source = base.roster, f"version {base.version.number}"
        absences, recorded = base.absences, base.version.number
    _, violations = check_scenario_roster(scen, roster, team_absences(absences, scen.grid.zone))
    if as_json:
        _echo_json(
            {
                "source": source,
                "version": recorded,
                "recorded_absences": len(absences),
                "ok": not violations,
                "violations": violations_frame(violations).to_dict(orient="records"),
            }
        )
    elif violations:
        click.echo(
            f"{source}: {len(violations)} hard-rule violation(s) (checked with "
            f"{len(absences)} recorded absence(s)):"
        )
        click.echo(_violation_table(violations))
    else:
        click.echo(
            f"{source}: no violation of the hard rules (checked with {len(absences)} recorded "
            "absence(s))"
        )
    if violations:
        click.get_current_context().exit(2)
