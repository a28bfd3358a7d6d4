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
from collections.abc import Iterable, Sequence
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
    """Write one calendar per agent of ``agents`` (default: every agent in ``roster``); return the
    paths. File names: :func:`calendar_names`.

    ``stamp`` (DTSTAMP) defaults to midnight UTC of ``first_day``, so re-running
    a scenario writes the same bytes; ``cancelled`` and ``sequence`` as in
    :func:`agent_calendar`. When writing every agent of the roster (``agents``
    None), calendars in ``folder`` of other agents (no longer rostered) are removed.
    """
    out = Path(folder)
    stamp = stamp or dt.datetime.combine(first_day, dt.time(0, 0), tzinfo=dt.UTC)
    ids = sorted(set(agents) if agents is not None else set(roster["agent_id"].astype(str)))
    names = calendar_names(ids)
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
        paths.append(write_bytes(out / names[agent_id], data))
    if agents is None and out.is_dir():
        keep = set(names.values())
        for old in out.glob("*.ics"):
            if old.name not in keep:
                os.unlink(old)
    return paths
