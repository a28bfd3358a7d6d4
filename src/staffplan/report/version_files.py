"""What people read of a published version: roster.csv, roster.xlsx and the agents' calendars.

Written after ``publish`` (``--out``: the calendars of the agents whose shifts
changed) and by ``versions --export N DIR`` (everyone's). Each file is written
atomically; calendar events carry the version number as their ``SEQUENCE`` and
the version's time as ``DTSTAMP``, and shifts the version removed are written as
cancelled events, so calendar programs replace what they had.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from staffplan.io.team import Absence, Agent
from staffplan.store import PlanBase, PlanStore, absences_frame, versions_frame
from staffplan.timegrid import TimeGrid


@dataclass(frozen=True)
class VersionFiles:
    """Paths written for one version: ``roster.csv``, ``roster.xlsx`` and the calendars."""

    roster_csv: Path
    roster_xlsx: Path
    calendars: tuple[Path, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "roster_csv": str(self.roster_csv),
            "roster_xlsx": str(self.roster_xlsx),
            "calendars": [str(p) for p in self.calendars],
        }


def changed_agents(base: PlanBase, changes: pd.DataFrame) -> tuple[str, ...]:
    """Agents whose shifts the version changed against its parent (everyone rostered in a first
    version).
    """
    if base.version.parent is None:
        return tuple(sorted(set(base.roster["agent_id"].astype(str))))
    return tuple(sorted(set(changes["agent_id"].astype(str))))


def write_version_files(
    folder: str | Path,
    base: PlanBase,
    *,
    scenario: str,
    grid: TimeGrid,
    team: Sequence[Agent],
    absences: Sequence[Absence],
    changes: pd.DataFrame,
    violations: pd.DataFrame,
    calendars_for: Sequence[str] | None = None,
) -> VersionFiles:
    """Write ``roster.csv`` (the stored rows), ``roster.xlsx`` (agent × day grid with absences,
    plus sheets ``changes``, ``absences``, ``violations`` and ``version``) and
    ``calendars/<agent_id>.ics`` for ``calendars_for`` (default: every agent of ``team``).

    ``absences``: every absence to show (scenario and recorded, times local);
    ``changes``/``violations``: the version's change log and known violations.
    """
    from staffplan.io.atomic import write_csv
    from staffplan.io.ics import write_calendars
    from staffplan.report.xlsx import absence_days, grid_frame, write_roster_xlsx

    out = Path(folder)
    roster = base.roster
    v = base.version
    paid = pd.to_numeric(roster["paid_minutes"], errors="coerce").fillna(0)
    hours = paid.groupby(roster["agent_id"].astype(str)).sum() / 60.0
    agents = pd.DataFrame(
        [(a.id, a.name, a.team, a.contract, round(float(hours.get(a.id, 0.0)), 2)) for a in team],
        columns=["agent_id", "name", "team", "contract", "paid_hours"],
    )
    csv = write_csv(out / "roster.csv", roster)
    xlsx = write_roster_xlsx(
        out / "roster.xlsx",
        grid_frame(roster, agents, grid.dates(), absence_days(absences, grid)),
        extra={
            "changes": changes,
            "absences": absences_frame(base.absences),
            "violations": violations,
            "version": versions_frame([v]).astype(object).fillna(""),
        },
    )
    removed = changes[changes["action"] == "removed"]
    cancelled = pd.DataFrame(
        {
            "agent_id": removed["agent_id"],
            "date": removed["date"],
            "shift": removed["old_shift"],
            "start": removed["old_start"],
            "end": removed["old_end"],
            "queues": removed["old_queues"],
        }
    )
    calendars = write_calendars(
        roster,
        out / "calendars",
        scenario=scenario,
        first_day=grid.start,
        agents=[a.id for a in team] if calendars_for is None else calendars_for,
        sequence=v.number,
        stamp=pd.Timestamp(v.created_utc).to_pydatetime(),
        cancelled=cancelled,
    )
    return VersionFiles(Path(csv), Path(xlsx), tuple(calendars))


def write_stored_version(
    folder: str | Path,
    store: PlanStore,
    number: int,
    *,
    scenario: str,
    grid: TimeGrid,
    team: Sequence[Agent],
    absences: Sequence[Absence] = (),
    changed_only: bool = True,
) -> VersionFiles:
    """:func:`write_version_files` of stored version ``number`` with its change log, known
    violations and every recorded absence: calendars of the agents whose shifts it changed
    (``changed_only``, after ``publish --out`` and ``cover --apply --out``) or of everyone.
    ``absences``: the scenario's own (shown beside the recorded ones).
    """
    base = store.base(number)
    changes = store.changes(number).drop(columns="version")
    return write_version_files(
        folder,
        base,
        scenario=scenario,
        grid=grid,
        team=team,
        absences=(*absences, *base.team_absences(grid.zone)),
        changes=changes,
        violations=store.violations(number).drop(columns="version"),
        calendars_for=changed_agents(base, changes) if changed_only else None,
    )
