"""ICS calendars: one file per agent with a VEVENT per worked shift.

Output is deterministic: UIDs derive from scenario, agent and date, and DTSTAMP
is the scenario's first planned day (not the wall clock), so re-running a
scenario produces byte-identical calendars.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from icalendar import Calendar, Event

from staffplan.io.atomic import write_bytes


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name) or "agent"


def agent_calendar(
    rows: pd.DataFrame,
    *,
    scenario: str,
    agent_id: str,
    stamp: dt.datetime,
    sequence: int = 0,
    cancelled: pd.DataFrame | None = None,
) -> bytes:
    """One agent's shifts as an RFC 5545 calendar (bytes).

    ``rows`` are that agent's roster.csv rows (columns ``date``, ``shift``,
    ``start``, ``end`` as ISO 8601 with offset, optional ``breaks``, ``queues``).
    ``cancelled``: shifts (same columns) taken out of the plan, written as
    ``STATUS:CANCELLED`` events under the UID they were published with.
    ``sequence`` (e.g. the plan version) tells calendar programs which copy of
    an event is newer.
    """
    cal = Calendar()
    cal.add("prodid", "-//staffplan//roster//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"Shifts {agent_id} ({scenario})")
    gone = cancelled if cancelled is not None else rows.iloc[:0]
    events = [(r, False) for r in rows.sort_values("start").itertuples(index=False)]
    events += [(r, True) for r in gone.sort_values("start").itertuples(index=False)]
    for row, is_cancelled in sorted(events, key=lambda e: str(e[0].start)):
        ev = Event()
        # UTC: fixed-offset local times would be written as floating (naive) times
        start = pd.Timestamp(row.start).tz_convert("UTC").to_pydatetime()
        end = pd.Timestamp(row.end).tz_convert("UTC").to_pydatetime()
        queues = str(getattr(row, "queues", "") or "")
        ev.add("uid", f"staffplan-{_safe(scenario)}-{_safe(agent_id)}-{row.date}@staffplan")
        ev.add("dtstamp", stamp)
        ev.add("dtstart", start)
        ev.add("dtend", end)
        if sequence:
            ev.add("sequence", sequence)
        ev.add(
            "summary", f"Shift {row.shift}" + (f" ({queues.replace('|', ', ')})" if queues else "")
        )
        if is_cancelled:
            ev.add("status", "CANCELLED")
        else:
            breaks = str(getattr(row, "breaks", "") or "")
            if breaks:
                ev.add("description", "Breaks: " + breaks.replace(";", "; "))
        cal.add_component(ev)
    return cal.to_ical()


def write_calendars(
    roster: pd.DataFrame,
    folder: str | Path,
    *,
    scenario: str,
    first_day: dt.date,
    agents: Sequence[str] | None = None,
    sequence: int = 0,
    stamp: dt.datetime | None = None,
    cancelled: pd.DataFrame | None = None,
) -> list[Path]:
    """Write ``<folder>/<agent_id>.ics`` for ``agents`` (default: every agent in ``roster``);
    return the paths.

    ``stamp`` (DTSTAMP) defaults to midnight UTC of ``first_day``, so re-running
    a scenario writes the same bytes; ``cancelled`` and ``sequence`` as in
    :func:`agent_calendar`.
    """
    out = Path(folder)
    stamp = stamp or dt.datetime.combine(first_day, dt.time(0, 0), tzinfo=dt.UTC)
    ids = sorted(set(agents) if agents is not None else set(roster["agent_id"].astype(str)))
    mine = roster.assign(agent_id=roster["agent_id"].astype(str))
    gone = (
        cancelled.assign(agent_id=cancelled["agent_id"].astype(str))
        if cancelled is not None
        else None
    )
    paths = []
    for agent_id in ids:
        data = agent_calendar(
            mine[mine["agent_id"] == agent_id],
            scenario=scenario,
            agent_id=agent_id,
            stamp=stamp,
            sequence=sequence,
            cancelled=gone[gone["agent_id"] == agent_id] if gone is not None else None,
        )
        paths.append(write_bytes(out / f"{_safe(agent_id)}.ics", data))
    return paths
