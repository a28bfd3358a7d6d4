"""What each page shows, as plain values for its template: the engine's frames (from
``services``) turned into rows, cells, cards and charts in the page's language. Numbers, dates and
times are written by :class:`staffplan.i18n.Lang` (Babel); nothing here scores or checks.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from staffplan.cover.phone import tell
from staffplan.i18n import KIND_TEXT, N_, Lang
from staffplan.io.team import BLOCKING_KINDS
from staffplan.store import PlanBase, Version
from staffplan.web.charts import Chart, week_chart
from staffplan.web.services import RosterKpis, Workspace

#: cover actions and change actions as the catalogs know them
ACTION_TEXT = {
    "call in": N_("call in"),
    "extend": N_("extend"),
    "shorten": N_("shorten"),
    "move start": N_("move start"),
    "swap shift": N_("swap shift"),
    "cancel": N_("cancel"),
    "move break": N_("move break"),
    "reassign": N_("reassign"),
    "added": N_("added"),
    "removed": N_("removed"),
    "changed": N_("changed"),
}
VERSION_KINDS = {"publish": N_("publish"), "cover": N_("cover")}


def ts(text: str) -> dt.datetime:
    """An ISO 8601 time with offset as an aware datetime (its own local time)."""
    return dt.datetime.fromisoformat(str(text))


def clock_text(lang: Lang, hhmm: str) -> str:
    """``HH:MM`` text as the locale writes a clock time."""
    try:
        return lang.clock(dt.time.fromisoformat(hhmm.strip()))
    except ValueError:
        return hhmm


def spans_text(lang: Lang, cell: object) -> list[str]:
    """``lunch 12:00-12:30;coffee 10:00-10:15`` -> ``["lunch 12:00–12:30", ...]``."""
    out = []
    for item in str(cell or "").split(";"):
        item = item.strip()
        if not item:
            continue
        name, _, times = item.rpartition(" ")
        a, _, b = times.partition("-")
        out.append(f"{name} {clock_text(lang, a)}–{clock_text(lang, b)}".strip())
    return out


@dataclass(frozen=True)
class Cell:
    """One agent-day of the grid."""

    date: str
    shift: str = ""
    times: str = ""
    breaks: tuple[str, ...] = ()
    absence: str = ""
    css: str = "off"


@dataclass(frozen=True)
class GridRow:
    agent_id: str
    name: str
    team: str
    cells: tuple[Cell, ...]
    paid_hours: str
    days: int


@dataclass(frozen=True)
class _Away:
    """An absence as one agent-day of the grid shows it."""

    text: str
    blocking: bool
    start: dt.datetime
    end: dt.datetime


def _absence_cells(lang: Lang, absences: Iterable[Any], grid: Any) -> dict[tuple[str, str], list]:
    """(agent, date) -> what each absence meeting that day reads (``sick``, ``sick from 11:00``,
    ``training 10:00–12:00``), whether it keeps the agent off work, and its span.
    """
    out: dict[tuple[str, str], list[_Away]] = {}
    for a in absences:
        for d in grid.dates():
            d0 = grid.local_midnight(d)
            d1 = grid.local_midnight(d + dt.timedelta(days=1))
            if not (a.start < d1 and d0 < a.end):
                continue
            kind = lang.gettext(KIND_TEXT.get(a.kind, a.kind))
            if a.start <= d0 and d1 <= a.end:
                text = kind
            elif a.start <= d0:
                text = lang.gettext("%(kind)s until %(time)s", kind=kind, time=lang.clock(a.end))
            elif d1 <= a.end:
                text = lang.gettext("%(kind)s from %(time)s", kind=kind, time=lang.clock(a.start))
            else:
                text = f"{kind} {lang.clock(a.start)}–{lang.clock(a.end)}"
            away = _Away(text, a.kind in BLOCKING_KINDS, a.start, a.end)
            out.setdefault((a.agent_id, d.isoformat()), []).append(away)
    return out


def grid_rows(ws: Workspace, base: PlanBase, lang: Lang) -> tuple[GridRow, ...]:
    """The agent × day grid of ``base``: every agent of the team (by team, then id), every day.
    A shift is marked when an absence that keeps the agent off work meets it.
    """
    grid = ws.grid
    dates = [d.isoformat() for d in grid.dates()]
    shifts = {(str(r["agent_id"]), str(r["date"])): r for r in base.roster.to_dict("records")}
    absent = _absence_cells(lang, ws.absences(base), grid)
    rows = []
    for a in sorted(ws.agents(), key=lambda a: (a.team, a.id)):
        cells, paid, days = [], 0.0, 0
        for d in dates:
            r = shifts.get((a.id, d))
            away = absent.get((a.id, d), [])
            gone = "; ".join(x.text for x in away)
            if r is None:
                cells.append(Cell(d, absence=gone, css="abs" if gone else "off"))
                continue
            days += 1
            paid += float(r["paid_minutes"] or 0)
            start, end = ts(r["start"]), ts(r["end"])
            clash = any(x.blocking and x.start < end and start < x.end for x in away)
            times = f"{lang.clock(start)}–{lang.clock(end)}"
            cells.append(
                Cell(
                    d,
                    str(r["shift"]),
                    times,
                    tuple(spans_text(lang, r.get("breaks", ""))),
                    gone,
                    "clash" if clash else "work",
                )
            )
        rows.append(GridRow(a.id, a.name, a.team, tuple(cells), lang.number(paid / 60, 1), days))
    return tuple(rows)


def cards(
    kpis: RosterKpis, lang: Lang, extra: Sequence[tuple[str, str]] = ()
) -> list[tuple[str, str]]:
    """Week KPI cards (label, value) from ``pipeline.roster_summary``'s numbers."""
    s = kpis.summary
    asa = s.get("asa_seconds")
    out = [
        (
            lang.gettext("Promised service level (voice and chat, week)"),
            lang.percent(s["service_level"]),
        ),
        (
            lang.gettext("Average speed of answer"),
            "–" if asa is None else lang.gettext("%(s)s s", s=lang.number(asa, 1)),
        ),
        (lang.gettext("Abandonment"), lang.percent(s["abandon_rate"])),
        (lang.gettext("Occupancy of available agents"), lang.percent(s["occupancy"])),
        (lang.gettext("Intervals below target"), lang.number(s["under_covered_intervals"])),
        (lang.gettext("Paid hours"), lang.number(s["paid_hours"], 1)),
        (lang.gettext("Cost"), lang.number(s["cost"], 0)),
        (
            lang.gettext("Agents rostered"),
            f"{lang.number(s['agents_rostered'])} / {lang.number(s['agents'])}",
        ),
        (
            lang.gettext("Missing agent-intervals"),
            lang.number(s["under_covered_agent_intervals"]),
        ),
    ]
    out.extend(extra)
    return out


def _values(frame: pd.DataFrame, queue: str, column: str, index: Mapping[str, int]) -> list[float]:
    vals = [math.nan] * len(index)
    f = frame[frame["queue"] == queue]
    for t, v in zip(f["interval_start"], f[column], strict=True):
        i = index.get(str(t))
        if i is not None:
            vals[i] = float(v)
    return vals


@dataclass(frozen=True)
class QueueView:
    """One queue's charts and day table."""

    name: str
    agents: Chart
    service: Chart | None
    days: tuple[dict[str, str], ...]


def queue_views(ws: Workspace, kpis: RosterKpis, lang: Lang) -> tuple[QueueView, ...]:
    """Per queue: required, scheduled and available agents and the promised service level per
    interval (charts), and per day agent-hours, intervals below target and service level.
    """
    grid = ws.grid
    starts = [t.isoformat() for t in grid.starts]
    index = {t: i for i, t in enumerate(starts)}
    day_starts = []
    for d in grid.dates():
        first = grid.local_midnight(d).isoformat()
        if first in index:
            day_starts.append((index[first], lang.day(d)))
    targets = ws.targets()
    per_day = kpis.days if kpis.days is not None else ws.day_kpis(kpis)
    out = []
    for q in ws.problem.demand.queues:
        req = _values(kpis.coverage, q, "required", index)
        sch = _values(kpis.coverage, q, "scheduled", index)
        avail = _values(kpis.coverage, q, "available", index)
        agents = week_chart(
            [
                (lang.gettext("required"), "req", req),
                (lang.gettext("scheduled"), "sch", sch),
                (lang.gettext("available (expected)"), "avl", avail),
            ],
            day_starts,
            height=150,
            tick_label=lambda v: lang.number(v),
            label=lang.gettext("%(queue)s: required, scheduled and available agents", queue=q),
        )
        service = None
        target = targets.get(q)
        if target is not None and (kpis.intervals["queue"] == q).any():
            sl = _values(kpis.intervals, q, "service_level", index)
            service = week_chart(
                [
                    (lang.gettext("service level"), "sl", sl),
                    (lang.gettext("target"), "tgt", [target] * len(starts)),
                ],
                day_starts,
                height=110,
                ymax=1.0,
                ticks=(0.0, 0.5, 1.0),
                tick_label=lambda v: lang.percent(v, 0),
                label=lang.gettext("%(queue)s: promised service level per interval", queue=q),
            )
        days = tuple(
            {
                "date": lang.day(dt.date.fromisoformat(r.date)),
                "required": lang.number(r.required_hours, 1),
                "scheduled": lang.number(r.scheduled_hours, 1),
                "available": lang.number(r.available_hours, 1),
                "below": lang.number(r.below_target) if target is not None else "–",
                "sl": lang.percent(r.service_level) if target is not None else "–",
                "css": "bad" if r.below_target else "",
            }
            for r in per_day[per_day["queue"] == q].itertuples(index=False)
        )
        out.append(QueueView(q, agents, service, days))
    return tuple(out)


def version_rows(versions: Sequence[Version], lang: Lang, tz: Any) -> list[dict[str, Any]]:
    """The versions table, newest first, times in the scenario's zone."""
    rows = []
    for v in reversed(versions):
        rows.append(
            {
                "number": v.number,
                "parent": "–" if v.parent is None else str(v.parent),
                "kind": lang.gettext(VERSION_KINDS.get(v.kind, v.kind)),
                "author": v.author,
                "created": lang.moment(dt.datetime.fromisoformat(v.created_utc), tz),
                "note": v.note,
                "rows": lang.number(v.n_rows),
                "changes": lang.number(v.n_changes),
                "absences": lang.number(v.n_absences),
                "violations": lang.number(v.n_violations),
            }
        )
    return rows


def change_rows(log: pd.DataFrame, lang: Lang) -> list[dict[str, str]]:
    """A change log (``diff``/``changes`` with ``text``) for a table."""
    return [
        {
            "agent_id": str(r["agent_id"]),
            "date": lang.day(dt.date.fromisoformat(str(r["date"])[:10])),
            "action": lang.gettext(ACTION_TEXT.get(str(r["action"]), str(r["action"]))),
            "text": str(r["text"]),
            "reason": str(r.get("reason", "")),
        }
        for r in log.to_dict(orient="records")
    ]


def phone_rows(changes: pd.DataFrame, lang: Lang, names: Mapping[str, str]) -> list[dict[str, str]]:
    """A cover's phone list (``changes.csv`` columns), in calling order."""
    out = []
    for i, r in enumerate(changes.to_dict(orient="records"), start=1):
        when = ts(r["first_time"])
        out.append(
            {
                "order": lang.number(i),
                "when": f"{lang.day(when.date())} {lang.clock(when)}",
                "agent": f"{names.get(str(r['agent_id']), '')} ({r['agent_id']})",
                "action": lang.gettext(ACTION_TEXT.get(str(r["action"]), str(r["action"]))),
                "old": str(r["old"]),
                "new": str(r["new"]),
                "minutes": lang.number(float(r["minutes"])) if r["minutes"] != "" else "",
                "tell": tell(
                    str(r["action"]),
                    str(r["date"]),
                    str(r["old"]),
                    str(r["new"]),
                    int(float(r["minutes"] or 0)),
                    lang,
                ),
                "reason": str(r["reason"]),
            }
        )
    return out


def gap_rows(gaps: pd.DataFrame, lang: Lang) -> list[dict[str, str]]:
    """Where coverage stays short after a cover: queue, span, agents short at most."""
    out = []
    for g in gaps.to_dict(orient="records"):
        a, b = ts(g["from"]), ts(g["to"])
        out.append(
            {
                "queue": str(g["queue"]),
                "span": f"{lang.day(a.date())} {lang.clock(a)}–{lang.clock(b)}",
                "short_max": lang.number(g["short_max"]),
                "agent_intervals": lang.number(g["agent_intervals"]),
            }
        )
    return out


def absence_rows(absences: Sequence[Any], lang: Lang) -> list[dict[str, str]]:
    """Recorded absences (``store.RecordedAbsence``) for a table: times and kinds for people."""

    def when(text: str) -> str:
        t = ts(text)
        return f"{lang.day(t.date())} {lang.clock(t)}"

    return [
        {
            "id": str(a.id),
            "agent_id": a.agent_id,
            "start": when(a.start),
            "end": when(a.end),
            "kind": lang.gettext(KIND_TEXT.get(a.kind, a.kind)),
            "reason": a.reason,
            "recorded_by": a.recorded_by,
            "versions": ", ".join(str(v) for v in a.versions),
            "withdrawn": a.withdrawn,
        }
        for a in absences
    ]
