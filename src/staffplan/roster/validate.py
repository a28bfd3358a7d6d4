"""An independent checker of every hard rule, from roster.csv rows alone.

It shares no code with the model builder: it re-reads times from the
``start``/``end``/``breaks`` text, so a modelling bug cannot hide itself.
Tests run it on every solution.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass

import pandas as pd

from staffplan.roster.problem import RosterProblem, base_template


@dataclass(frozen=True)
class Violation:
    """A broken hard rule: which rule, agent, date and what was found."""

    rule: str
    agent_id: str
    date: str
    detail: str

    def __str__(self) -> str:
        return f"{self.rule} — {self.agent_id} {self.date}: {self.detail}"


def _minutes(a: pd.Timestamp, b: pd.Timestamp) -> int:
    return int(round((b - a).total_seconds() / 60))


def _items(text: object) -> list[tuple[str, int, int]]:
    out = []
    if not isinstance(text, str):
        return out
    for item in (x.strip() for x in text.split(";")):
        if not item:
            continue
        name, _, span = item.rpartition(" ")
        a, _, b = span.partition("-")
        out.append((name, int(a[:2]) * 60 + int(a[3:5]), int(b[:2]) * 60 + int(b[3:5])))
    return out


def check_roster(problem: RosterProblem, roster: pd.DataFrame) -> list[Violation]:
    """Every hard-rule violation of ``roster`` (roster.csv columns) against ``problem``; empty if
    none.
    """
    out: list[Violation] = []
    grid = problem.grid
    agents = {a.id: a for a in problem.agents}
    tmpl = {t.id: t for t in problem.templates}
    rows: dict[str, list[tuple[dt.date, str, pd.Timestamp, pd.Timestamp, int]]] = defaultdict(list)
    seen: set[tuple[str, str]] = set()
    for r in roster.itertuples(index=False):
        aid, date = str(r.agent_id), str(r.date)

        def bad(rule: str, detail: str, aid: str = aid, date: str = date) -> None:
            out.append(Violation(rule, aid, date, detail))

        if aid not in agents:
            bad("unknown agent", "not in agents.csv")
            continue
        if (aid, date) in seen:
            bad("one shift a day", "two shifts on the same date")
        seen.add((aid, date))
        a = agents[aid]
        c = problem.contracts[a.contract]
        d = dt.date.fromisoformat(date)
        if not grid.start <= d < grid.end:
            bad("horizon", "date outside the planning horizon")
            continue
        t = tmpl.get(str(r.shift))
        if t is None:
            bad("shift template", f"unknown template {r.shift}")
            continue
        if not c.allows(t.id):
            bad("contract templates", f"template {t.id} not allowed by contract {c.id}")
        start = grid.to_local(pd.Timestamp(r.start))
        end = grid.to_local(pd.Timestamp(r.end))
        if start.date() != d:
            bad("shift belongs to its start day", f"starts {start}")
        clock = start.hour * 60 + start.minute
        if not (
            t.earliest_start <= clock <= t.latest_start
            and (clock - t.earliest_start) % t.start_step_min == 0
        ):
            bad("start window", f"start {start.strftime('%H:%M')} outside {t.id}'s window/step")
        if _minutes(start, end) != t.length_min:
            bad("shift length", f"{_minutes(start, end)} min instead of {t.length_min}")
        if int(r.paid_minutes) != t.paid_minutes:
            bad("paid minutes", f"{r.paid_minutes} instead of {t.paid_minutes}")
        brks = _items(r.breaks)
        if sorted(n for n, _, _ in brks) != sorted(b.name for b in t.breaks):
            bad("breaks", f"breaks {[n for n, _, _ in brks]} do not match template {t.id}")
        else:
            used: list[tuple[int, int]] = []
            remaining = list(t.breaks)
            for name, s, e in sorted(brks, key=lambda b: (b[1] - clock) % 1440):
                off = (s - clock) % 1440
                length = (e - s) % 1440
                match = next(
                    (
                        b
                        for b in remaining
                        if b.name == name and b.minutes == length and b.earliest <= off <= b.latest
                    ),
                    None,
                )
                if match is None:
                    bad(
                        "breaks inside their windows",
                        f"{name} at +{off} min ({length} min) outside its window",
                    )
                else:
                    remaining.remove(match)
                if any(off < u1 and u0 < off + length for u0, u1 in used):
                    bad("breaks overlap", f"{name} overlaps another break")
                used.append((off, off + length))
        for ab in problem.absences:
            if ab.agent_id != aid or not (ab.start < end and start < ab.end):
                continue
            if ab.kind in ("training", "meeting"):
                if not (start <= ab.start and ab.end <= end):
                    bad(
                        "activity inside the shift",
                        f"{ab.kind} {ab.start}–{ab.end} only partly inside the shift",
                    )
            else:
                bad("absence", f"shift overlaps {ab.kind} {ab.start}–{ab.end}")
        avail = [x for x in problem.availability if x.agent_id == aid and x.date == d] or [
            x
            for x in problem.availability
            if x.agent_id == aid and x.date is None and x.weekday == d.weekday()
        ]
        if avail and not any(
            x.from_min <= clock and clock + t.length_min <= x.to_min for x in avail
        ):
            bad(
                "availability", f"{start.strftime('%H:%M')}+{t.length_min} min outside availability"
            )
        rows[aid].append((d, t.id, start, end, int(r.paid_minutes)))
    for aid, shifts in rows.items():
        out += _contract_checks(problem, aid, sorted(shifts, key=lambda s: s[2]))
    return out


def _contract_checks(
    problem: RosterProblem,
    aid: str,
    shifts: list[tuple[dt.date, str, pd.Timestamp, pd.Timestamp, int]],
) -> list[Violation]:
    out: list[Violation] = []
    grid = problem.grid
    a = next(x for x in problem.agents if x.id == aid)
    c = problem.contracts[a.contract]
    day = {(s[0] - grid.start).days: s for s in shifts}
    gone = set()
    for ab in problem.absences:
        if ab.agent_id == aid and ab.kind in ("vacation", "sick"):
            for k in range(grid.days):
                d0 = grid.local_midnight(grid.start + dt.timedelta(days=k))
                d1 = grid.local_midnight(grid.start + dt.timedelta(days=k + 1))
                if ab.start <= d0 and d1 <= ab.end:
                    gone.add(k)
    for w0 in range(0, grid.days, 7):
        block = range(w0, min(w0 + 7, grid.days))
        paid = sum(day[k][4] for k in block if k in day)
        absent = sum(1 for k in block if k in gone)
        lo = max(
            math.ceil(
                c.min_minutes_week * len(block) / 7
                - absent * c.min_minutes_week / max(c.max_days_week, 1)
                - 1e-9
            ),
            0,
        )
        hi = c.max_minutes_week * len(block) // 7
        wk = str(grid.start + dt.timedelta(days=w0))
        if not lo <= paid <= hi:
            out.append(Violation("weekly paid minutes", aid, wk, f"{paid} min, allowed {lo}–{hi}"))
        n = sum(1 for k in block if k in day)
        if n > c.max_days_week:
            out.append(Violation("max days per week", aid, wk, f"{n} days > {c.max_days_week}"))
    total = sum(s[4] for s in shifts)
    if c.max_minutes_horizon is not None and total > c.max_minutes_horizon:
        out.append(
            Violation(
                "paid minutes over the horizon", aid, "", f"{total} > {c.max_minutes_horizon}"
            )
        )
    if c.min_minutes_horizon is not None and total < c.min_minutes_horizon:
        out.append(
            Violation(
                "paid minutes over the horizon", aid, "", f"{total} < {c.min_minutes_horizon}"
            )
        )
    prev = sorted((s for s in problem.previous if s.agent_id == aid), key=lambda s: s.start)
    prev_days = {s.date for s in prev}
    worked = [k in day for k in range(grid.days)]
    run = 0
    d = grid.start - dt.timedelta(days=1)
    while d in prev_days:
        run += 1
        d -= dt.timedelta(days=1)
    for k in range(grid.days):
        run = run + 1 if worked[k] else 0
        if run > c.max_consecutive_days:
            out.append(
                Violation(
                    "max consecutive days",
                    aid,
                    str(grid.start + dt.timedelta(days=k)),
                    f"{run} days in a row > {c.max_consecutive_days}",
                )
            )
    # runs not touching the horizon's ends
    k = 0
    while k < grid.days:
        j = k
        while j < grid.days and worked[j] == worked[k]:
            j += 1
        if k > 0 and j < grid.days:
            length = j - k
            if worked[k] and length < c.min_consecutive_days:
                out.append(
                    Violation(
                        "min consecutive days",
                        aid,
                        str(grid.start + dt.timedelta(days=k)),
                        f"{length} < {c.min_consecutive_days}",
                    )
                )
            if not worked[k] and length < c.min_days_off_in_row:
                out.append(
                    Violation(
                        "min days off in a row",
                        aid,
                        str(grid.start + dt.timedelta(days=k)),
                        f"{length} < {c.min_days_off_in_row}",
                    )
                )
        k = j
    seq = [(p.date, p.template, p.start, p.end) for p in prev] + [
        (s[0], s[1], s[2], s[3]) for s in shifts
    ]
    tmpl = {t.id: t for t in problem.templates}
    for (d1, t1, _, e1), (d2, t2, s2, _) in zip(seq, seq[1:], strict=False):
        gap = _minutes(e1, s2)
        if gap < c.min_rest_hours * 60 - 1e-9 or gap < 0:
            out.append(
                Violation(
                    "minimum rest between shifts",
                    aid,
                    str(d2),
                    f"{gap} min rest < {c.min_rest_hours} h",
                )
            )
        if (d2 - d1).days == 1 and t1 in tmpl and t2 in tmpl[t1].not_followed_by:
            out.append(
                Violation("forbidden shift succession", aid, str(d2), f"{t1} followed by {t2}")
            )
    if c.max_weekends is not None:
        weekends = {
            (grid.start + dt.timedelta(days=k)).isocalendar()[:2]
            for k in day
            if (grid.start + dt.timedelta(days=k)).weekday() >= 5
        }
        if len(weekends) > c.max_weekends:
            out.append(Violation("max weekends", aid, "", f"{len(weekends)} > {c.max_weekends}"))
    for t, n in c.max_shifts:
        m = sum(1 for s in shifts if base_template(s[1], tmpl) == t)
        if m > n:
            out.append(Violation("max shifts per template", aid, "", f"{t}: {m} > {n}"))
    return out
