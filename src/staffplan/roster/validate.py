"""An independent checker of every hard rule, from roster.csv rows alone.

It shares no code with the model builder: it re-reads times from the
``start``/``end``/``breaks`` text, so a modelling bug cannot hide itself.
Tests run it on every solution; ``staffplan validate`` and ``staffplan publish``
run it on rosters people bring, together with the absences recorded in the plan
store.

Rules beyond the problem's own: a shift may be an overtime extension ``T+m``
of a template ``T`` when the scenario's cover settings allow ``m`` (see
:class:`Overtime`); a shift may end early exactly where one of the agent's
recorded absences starts (the agent went home sick); and an agent with a
recorded absence that keeps them off work has the contract's minimums (paid
minutes per week and over the horizon, minimum consecutive days) waived: the
absence broke them, and nobody is asked to make up a sick agent's hours.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

import numpy as np
import pandas as pd

from staffplan.io.roster_csv import VIOLATION_COLUMNS
from staffplan.io.team import BLOCKING_KINDS, Absence, Contract, ShiftTemplate
from staffplan.roster.problem import Demand, RosterProblem, base_template, split_overtime


@dataclass(frozen=True)
class Violation:
    """A broken hard rule: which rule, agent and date (blank when it spans the horizon), what was
    found and what the rule allows.
    """

    rule: str
    agent_id: str
    date: str
    found: str
    allowed: str

    @property
    def detail(self) -> str:
        return f"found {self.found}; allowed {self.allowed}"

    def __str__(self) -> str:
        where = " ".join(x for x in (self.agent_id, self.date) if x) or "roster"
        return f"{self.rule} — {where}: {self.detail}"

    def as_dict(self) -> dict[str, str]:
        return {c: getattr(self, c) for c in VIOLATION_COLUMNS}


@dataclass(frozen=True)
class Overtime:
    """Overtime extensions a cover may give: ``T+m`` is template ``T`` lengthened by ``m`` [min]
    (same start window and breaks; paid ``m`` more), ``m`` a multiple of ``step_min`` up to
    ``max_min``. A contract allowing ``T`` allows ``T+m``; it counts as ``T`` for ``max_shifts``
    and shift successions.
    """

    step_min: int
    max_min: int

    def allows(self, minutes: int) -> bool:
        return 0 < minutes <= self.max_min and self.step_min > 0 and minutes % self.step_min == 0


def violations_frame(violations: Sequence[Violation]) -> pd.DataFrame:
    """Violations as a table with :data:`VIOLATION_COLUMNS`."""
    return pd.DataFrame([v.as_dict() for v in violations], columns=list(VIOLATION_COLUMNS))


def rules_problem(scenario: object) -> RosterProblem:
    """The scenario's team and hard rules as a :class:`RosterProblem`, without its interval demand.

    Checking a roster needs no forecast: this loads the team files only (a
    placeholder requirement keeps ``load_problem`` from asking for one) and
    leaves the demand empty.
    """
    from staffplan.roster.load import load_problem

    grid = scenario.grid  # type: ignore[attr-defined]
    placeholder = pd.DataFrame(
        {
            "interval_start": [grid.starts[0]],
            "queue": [scenario.queues[0].name],  # type: ignore[attr-defined]
            "required": [1.0],
            "volume": [np.nan],
            "aht_seconds": [np.nan],
            "minimum": [0],
        }
    )
    p = load_problem(scenario, placeholder)  # type: ignore[arg-type]
    return replace(p, demand=Demand.empty(p.demand.queues, p.demand.skills, grid.n))


def _minutes(a: pd.Timestamp, b: pd.Timestamp) -> int:
    return int(round((b - a).total_seconds() / 60))


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _items(text: object) -> list[tuple[str, int, int]] | None:
    """``name HH:MM-HH:MM;...`` -> (name, clock start, clock end) [min]; None if unreadable."""
    out: list[tuple[str, int, int]] = []
    if not isinstance(text, str):
        return out
    for item in (x.strip() for x in text.split(";")):
        if not item:
            continue
        name, _, span = item.rpartition(" ")
        a, _, b = span.partition("-")
        try:
            ha, ma = (int(x) for x in a.split(":"))
            hb, mb = (int(x) for x in b.split(":"))
        except ValueError:
            return None
        out.append((name, ha * 60 + ma, hb * 60 + mb))
    return out


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _template(
    tid: str, tmpl: dict[str, ShiftTemplate], overtime: Overtime | None
) -> tuple[ShiftTemplate, int] | None:
    """(template, overtime [min]) of shift id ``tid``: a template, or an allowed ``T+m``."""
    if tid in tmpl:
        return tmpl[tid], 0
    base, minutes = split_overtime(tid)
    if minutes and base in tmpl and overtime is not None and overtime.allows(minutes):
        return tmpl[base], minutes
    return None


def _base(tid: str, problem: RosterProblem) -> str:
    """The template an overtime extension ``T+m`` extends (``tid`` itself otherwise)."""
    return base_template(tid, problem.template_by_id)


@dataclass(frozen=True)
class _Shift:
    date: dt.date
    template: str  # the base template (overtime counted as its template)
    start: pd.Timestamp
    end: pd.Timestamp
    paid: int


def check_roster(
    problem: RosterProblem,
    roster: pd.DataFrame,
    *,
    recorded: Sequence[Absence] = (),
    overtime: Overtime | None = None,
) -> list[Violation]:
    """Every hard-rule violation of ``roster`` (roster.csv columns) against ``problem``; empty if
    none.

    ``recorded``: absences recorded in the plan store, as hard as the
    scenario's (a shift may end where one starts; a blocking one waives the
    agent's contract minimums). ``overtime``: the ``T+m`` extensions allowed.
    """
    out: list[Violation] = []
    grid = problem.grid
    agents = {a.id: a for a in problem.agents}
    tmpl = {t.id: t for t in problem.templates}
    absences = (*problem.absences, *recorded)
    by_agent: dict[str, list[Absence]] = defaultdict(list)
    for ab in absences:
        by_agent[ab.agent_id].append(ab)
    cut_at: dict[str, list[pd.Timestamp]] = defaultdict(list)
    for ab in recorded:
        if ab.kind in BLOCKING_KINDS:
            cut_at[ab.agent_id].append(ab.start)
    last = grid.end - dt.timedelta(days=1)
    horizon = f"{grid.start} to {last}"
    shifts: dict[str, list[_Shift]] = defaultdict(list)
    seen: set[tuple[str, str]] = set()
    has_assignments = "assignments" in roster.columns
    for r in roster.itertuples(index=False):
        aid, date = _text(r.agent_id), _text(r.date)

        def bad(rule: str, found: str, allowed: str, aid: str = aid, date: str = date) -> None:
            out.append(Violation(rule, aid, date, found, allowed))

        if aid not in agents:
            bad("unknown agent", aid or "(blank)", "an agent_id from agents.csv")
            continue
        if (aid, date) in seen:
            bad("one shift a day", "two shifts on the same date", "one shift a day")
        seen.add((aid, date))
        a = agents[aid]
        c = problem.contracts[a.contract]
        try:
            d = dt.date.fromisoformat(date[:10])
        except ValueError:
            bad("readable row", f"date {date!r}", "a date YYYY-MM-DD")
            continue
        if not grid.start <= d < grid.end:
            bad("horizon", str(d), horizon)
            continue
        shift_id = _text(r.shift)
        found_t = _template(shift_id, tmpl, overtime)
        if found_t is None:
            known = ", ".join(sorted(tmpl))
            ext = (
                f" (or T+m, m a multiple of {overtime.step_min} up to {overtime.max_min} min)"
                if overtime is not None
                else ""
            )
            bad("shift template", shift_id or "(blank)", f"one of {known}{ext}")
            continue
        t, extra = found_t
        if not c.allows(t.id):
            bad(
                "contract templates",
                shift_id,
                f"{'|'.join(c.templates or ())} (contract {c.id})",
            )
        try:
            start = grid.to_local(pd.Timestamp(_text(r.start)))
            end = grid.to_local(pd.Timestamp(_text(r.end)))
            paid = int(float(_text(r.paid_minutes)))
        except (ValueError, TypeError):
            bad(
                "readable row",
                f"start {r.start!r}, end {r.end!r}, paid_minutes {r.paid_minutes!r}",
                "ISO 8601 date-times and whole minutes",
            )
            continue
        if start.date() != d:
            bad("shift belongs to its start day", f"starts {start}", f"a start on {d}")
        clock = start.hour * 60 + start.minute
        if not (
            t.earliest_start <= clock <= t.latest_start
            and (clock - t.earliest_start) % t.start_step_min == 0
        ):
            bad(
                "start window",
                f"start {_hhmm(clock)}",
                f"{_hhmm(t.earliest_start)}-{_hhmm(t.latest_start)} every "
                f"{t.start_step_min} min ({t.id})",
            )
        length = _minutes(start, end)
        full = t.length_min + extra
        brks = _items(r.breaks)
        cut = 0 < length < full and any(end == s for s in cut_at.get(aid, ()))
        if length != full and not cut:
            bad("shift length", f"{length} min", f"{full} min ({shift_id})")
        if brks is None:
            bad("breaks", f"unreadable {r.breaks!r}", "name HH:MM-HH:MM;...")
            brks = []
        unpaid = {b.name: not b.paid for b in t.breaks}
        if cut:  # worked until the absence began: only unpaid break time before it is unpaid
            expect_paid = length
            for n, s, e in brks:
                off = (s - clock) % 1440
                if unpaid.get(n, False):
                    expect_paid -= max(0, min(off + (e - s) % 1440, length) - off)
        else:
            expect_paid = t.paid_minutes + extra
        if paid != expect_paid:
            bad("paid minutes", f"{paid} min", f"{expect_paid} min")
        if sorted(n for n, _, _ in brks) != sorted(b.name for b in t.breaks):
            bad(
                "breaks",
                ", ".join(n for n, _, _ in brks) or "no breaks",
                ", ".join(b.name for b in t.breaks) or "no breaks",
            )
        else:
            used: list[tuple[int, int]] = []
            remaining = list(t.breaks)
            for name, s, e in sorted(brks, key=lambda b: (b[1] - clock) % 1440):
                off = (s - clock) % 1440
                blen = (e - s) % 1440
                match = next(
                    (
                        b
                        for b in remaining
                        if b.name == name and b.minutes == blen and b.earliest <= off <= b.latest
                    ),
                    None,
                )
                if match is None:
                    spec = next((b for b in remaining if b.name == name), None)
                    bad(
                        "breaks inside their windows",
                        f"{name} {_hhmm(s)}-{_hhmm(e % 1440)} (+{off} min, {blen} min)",
                        f"+{spec.earliest}..+{spec.latest} min, {spec.minutes} min"
                        if spec is not None
                        else f"{name} once",
                    )
                else:
                    remaining.remove(match)
                if any(off < u1 and u0 < off + blen for u0, u1 in used):
                    bad("breaks overlap", f"{name} overlaps another break", "breaks apart")
                used.append((off, off + blen))
        for ab in by_agent.get(aid, ()):
            if not (ab.start < end and start < ab.end):
                continue
            span = f"{ab.kind} {ab.start:%Y-%m-%d %H:%M}-{ab.end:%Y-%m-%d %H:%M}"
            if ab.kind in BLOCKING_KINDS:
                bad(
                    "absence",
                    f"shift {start:%H:%M}-{end:%H:%M} overlaps {span}",
                    "no shift during an absence",
                )
            elif not (start <= ab.start and ab.end <= end):
                bad(
                    "activity inside the shift",
                    f"{span} only partly inside the shift {start:%H:%M}-{end:%H:%M}",
                    "the whole activity inside the shift, or none of it",
                )
        avail = [x for x in problem.availability if x.agent_id == aid and x.date == d] or [
            x
            for x in problem.availability
            if x.agent_id == aid and x.date is None and x.weekday == d.weekday()
        ]
        if avail and not any(x.from_min <= clock and clock + length <= x.to_min for x in avail):
            bad(
                "availability",
                f"{_hhmm(clock)}-{_hhmm((clock + length) % 1440)}",
                ", ".join(f"{_hhmm(x.from_min)}-{_hhmm(x.to_min % 1440)}" for x in avail),
            )
        serves: set[str] = set()
        for q in problem.agent_queues(a):
            serves |= {problem.demand.queues[q], problem.demand.skills[q]}
        named = [x.strip() for x in _text(getattr(r, "queues", "")).split("|") if x.strip()]
        if has_assignments:
            spans = _items(_text(getattr(r, "assignments", "")))
            named += [n for n, _, _ in spans or ()]
        wrong = sorted({q for q in named if q not in serves})
        if wrong:
            bad(
                "skills",
                f"queue {', '.join(wrong)}",
                ", ".join(sorted(problem.demand.queues[q] for q in problem.agent_queues(a)))
                or "no queue (the agent has no skill of a scenario queue)",
            )
        shifts[aid].append(_Shift(d, _base(t.id, problem), start, end, paid))
    waived = {
        ab.agent_id
        for ab in recorded
        if ab.kind in BLOCKING_KINDS
        and ab.start < grid.local_midnight(grid.end)
        and grid.local_midnight(grid.start) < ab.end
    }
    for a in problem.agents:
        out += _contract_checks(
            problem, a.id, sorted(shifts.get(a.id, []), key=lambda s: s.start), a.id in waived
        )
    return out


@functools.lru_cache(maxsize=256)
def _week_range(c: Contract, templates: tuple[ShiftTemplate, ...], days: int) -> tuple[int, int]:
    """Paid minutes [min] a week of ``days`` days allows (docs/formats.md, contracts.csv): a
    partial week pro-rated, widened to the nearest reachable totals only when none fits and
    some lie on both sides (counted by enumerating every multiset of shifts).
    """
    if days >= 7:
        return c.min_minutes_week, c.max_minutes_week
    lo_x = Fraction(c.min_minutes_week * days, 7)
    hi_x = Fraction(c.max_minutes_week * days, 7)
    lo, hi = math.ceil(lo_x), math.floor(hi_x)
    paid = sorted(
        {
            t.paid_minutes
            for t in templates
            if c.allows(t.id)
            and not (t.id.rpartition("+")[0] and t.id.rpartition("+")[2].isdigit())
        }
    )
    totals = {
        sum(combo)
        for k in range(min(days, c.max_days_week) + 1)
        for combo in itertools.combinations_with_replacement(paid, k)
    }
    above = [t for t in totals if t >= hi_x]
    if any(lo <= t <= hi for t in totals) or not above:
        return lo, max(hi, lo)
    return max(t for t in totals if t <= lo_x), min(above)


def _contract_checks(
    problem: RosterProblem, aid: str, shifts: list[_Shift], waived: bool
) -> list[Violation]:
    out: list[Violation] = []
    grid = problem.grid
    a = next(x for x in problem.agents if x.id == aid)
    c = problem.contracts[a.contract]
    if waived:
        c = replace(c, min_minutes_week=0, min_minutes_horizon=None, min_consecutive_days=1)
    day = {(s.date - grid.start).days: s for s in shifts}
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
        paid = sum(day[k].paid for k in block if k in day)
        absent = sum(1 for k in block if k in gone)
        lo, hi = _week_range(c, problem.templates, len(block))
        lo = max(math.ceil(lo - absent * c.min_minutes_week / max(c.max_days_week, 1) - 1e-9), 0)
        wk = str(grid.start + dt.timedelta(days=w0))
        if not lo <= paid <= hi:
            out.append(
                Violation("weekly paid minutes", aid, wk, f"{paid} min", f"{lo}-{hi} min (week)")
            )
        n = sum(1 for k in block if k in day)
        if n > c.max_days_week:
            out.append(
                Violation(
                    "max days per week", aid, wk, f"{n} days", f"at most {c.max_days_week} days"
                )
            )
    total = sum(s.paid for s in shifts)
    if c.max_minutes_horizon is not None and total > c.max_minutes_horizon:
        out.append(
            Violation(
                "paid minutes over the horizon",
                aid,
                "",
                f"{total} min",
                f"at most {c.max_minutes_horizon} min",
            )
        )
    if c.min_minutes_horizon is not None and total < c.min_minutes_horizon:
        out.append(
            Violation(
                "paid minutes over the horizon",
                aid,
                "",
                f"{total} min",
                f"at least {c.min_minutes_horizon} min",
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
                    f"{run} days in a row",
                    f"at most {c.max_consecutive_days}",
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
                        f"{length} days",
                        f"at least {c.min_consecutive_days}",
                    )
                )
            if not worked[k] and length < c.min_days_off_in_row:
                out.append(
                    Violation(
                        "min days off in a row",
                        aid,
                        str(grid.start + dt.timedelta(days=k)),
                        f"{length} days off",
                        f"at least {c.min_days_off_in_row}",
                    )
                )
        k = j
    seq = [(p.date, _base(p.template, problem), p.start, p.end) for p in prev] + [
        (s.date, s.template, s.start, s.end) for s in shifts
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
                    f"{gap} min rest",
                    f"at least {c.min_rest_hours:g} h",
                )
            )
        if (d2 - d1).days == 1 and t1 in tmpl and t2 in tmpl[t1].not_followed_by:
            out.append(
                Violation(
                    "forbidden shift succession",
                    aid,
                    str(d2),
                    f"{t1} followed by {t2}",
                    f"{t1} not followed by {'|'.join(tmpl[t1].not_followed_by)}",
                )
            )
    if c.max_weekends is not None:
        weekends = {
            (grid.start + dt.timedelta(days=k)).isocalendar()[:2]
            for k in day
            if (grid.start + dt.timedelta(days=k)).weekday() >= 5
        }
        if len(weekends) > c.max_weekends:
            out.append(
                Violation(
                    "max weekends",
                    aid,
                    "",
                    f"{len(weekends)} weekends",
                    f"at most {c.max_weekends}",
                )
            )
    for t, n in c.max_shifts:
        m = sum(1 for s in shifts if s.template == t)
        if m > n:
            out.append(
                Violation("max shifts per template", aid, "", f"{m} x {t}", f"at most {n} x {t}")
            )
    return out
