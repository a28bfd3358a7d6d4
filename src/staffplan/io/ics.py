"""ICS calendars: one file per agent with a VEVENT per worked shift.

Output is deterministic: UIDs derive from scenario, agent and date, and DTSTAMP
is the scenario's first planned day (not the wall clock), so re-running a
scenario produces byte-identical calendars.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
from icalendar import Calendar, Event

from staffplan.io.atomic import write_bytes


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name) or "agent"


def agent_calendar(
    rows: pd.DataFrame, *, scenario: str, agent_id: str, stamp: dt.datetime
) -> bytes:
    """One agent's shifts as an RFC 5545 calendar (bytes).

    ``rows`` are that agent's roster.csv rows (columns ``date``, ``shift``,
    ``start``, ``end`` as ISO 8601 with offset, optional ``breaks``, ``queues``).
    """
    cal = Calendar()
    cal.add("prodid", "-//staffplan//roster//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"Shifts {agent_id} ({scenario})")
    for row in rows.sort_values("start").itertuples(index=False):
        ev = Event()
        # UTC: fixed-offset local times would be written as floating (naive) times
        start = pd.Timestamp(row.start).tz_convert("UTC").to_pydatetime()
        end = pd.Timestamp(row.end).tz_convert("UTC").to_pydatetime()
        queues = str(getattr(row, "queues", "") or "")
        ev.add("uid", f"staffplan-{_safe(scenario)}-{_safe(agent_id)}-{row.date}@staffplan")
        ev.add("dtstamp", stamp)
        ev.add("dtstart", start)
        ev.add("dtend", end)
        ev.add(
            "summary", f"Shift {row.shift}" + (f" ({queues.replace('|', ', ')})" if queues else "")
        )
        breaks = str(getattr(row, "breaks", "") or "")
        if breaks:
            ev.add("description", "Breaks: " + breaks.replace(";", "; "))
        cal.add_component(ev)
    return cal.to_ical()


def write_calendars(
    roster: pd.DataFrame, folder: str | Path, *, scenario: str, first_day: dt.date
) -> list[Path]:
    """Write ``<folder>/<agent_id>.ics`` for every agent in ``roster``; return the paths."""
    out = Path(folder)
    stamp = dt.datetime.combine(first_day, dt.time(0, 0), tzinfo=dt.UTC)
    paths = []
    for agent_id, rows in roster.groupby("agent_id", sort=True):
        data = agent_calendar(rows, scenario=scenario, agent_id=str(agent_id), stamp=stamp)
        paths.append(write_bytes(out / f"{_safe(str(agent_id))}.ics", data))
    return paths
