"""ICS calendars: one file per agent with a VEVENT per worked shift.

Output is deterministic: UIDs derive from scenario, agent and date, and DTSTAMP
is the scenario's first planned day (not the wall clock), so re-running a
scenario produces byte-identical calendars.

File names (:func:`calendar_names`) are distinct for distinct agent ids, also on
case-insensitive file systems: letters, digits, ``-`` and ``_`` are kept and
every other character is percent-encoded (``AÑ1`` -> ``A%C3%911.ics``,
``A 1`` -> ``A%201.ics``); ids equal but for letter case get a short hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote

import pandas as pd
from icalendar import Calendar, Event

from staffplan.io.atomic import write_bytes

_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}
)


def _safe(name: str) -> str:
    """Percent-encode every character but ASCII letters, digits, ``-`` and ``_`` (injective)."""
    return quote(name, safe="-_").replace(".", "%2E").replace("~", "%7E") or "%"


def calendar_names(agent_ids: Iterable[str]) -> dict[str, str]:
    """A distinct ``.ics`` file name per agent id (see the module docstring)."""
    ids = sorted(set(agent_ids))
    stems = {a: _safe(a) for a in ids}
    folded: dict[str, list[str]] = {}
    for a, stem in stems.items():
        folded.setdefault(stem.lower(), []).append(a)
    out = {}
    for a, stem in stems.items():
        if len(folded[stem.lower()]) > 1 or stem.upper() in _WINDOWS_RESERVED:
            stem += "~" + hashlib.sha256(a.encode()).hexdigest()[:8]
        out[a] = f"{stem}.ics"
    return out


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
    """Write one calendar per agent in ``roster`` (names: :func:`calendar_names`); return the paths.

    Calendars in ``folder`` of agents no longer in the roster are removed.
    """
    out = Path(folder)
    stamp = dt.datetime.combine(first_day, dt.time(0, 0), tzinfo=dt.UTC)
    names = calendar_names(str(a) for a in roster["agent_id"])
    paths = []
    for agent_id, rows in roster.groupby("agent_id", sort=True):
        data = agent_calendar(rows, scenario=scenario, agent_id=str(agent_id), stamp=stamp)
        paths.append(write_bytes(out / names[str(agent_id)], data))
    if out.is_dir():
        keep = set(names.values())
        for old in out.glob("*.ics"):
            if old.name not in keep:
                os.unlink(old)
    return paths
