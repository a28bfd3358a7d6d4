"""The published roster as the cover repair reads it: its rows parsed, its queue assignment, its
coverage (the one coverage definition every cover number uses), how it plays out if nobody acts,
and the problem the repair solves (overtime templates, absent agents' lost minimums relaxed).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from staffplan.cover.settings import CoverSettings, NewAbsence
from staffplan.errors import InputError
from staffplan.io.team import Absence
from staffplan.roster.breaks import PlacedBreak
from staffplan.roster.extract import (
    assign_queues,
    queue_counts,
    row_elapsed,
    row_on_phone,
    row_spans,
)
from staffplan.roster.problem import RosterProblem, overtime_id, split_overtime

ASSIGN_COLUMN = "assignments"
"""The roster column of explicit queue spans of a multi-skilled agent (written by a repair)."""


def with_overtime(problem: RosterProblem, settings: CoverSettings, used: set[str]) -> RosterProblem:
    """The problem with overtime templates ``T+m`` (``T`` lengthened by m [min], same starts and
    breaks).

    ``m`` runs over the steps up to ``max_overtime_min``, plus any ``T+m``
    already in the published roster (``used``). A contract allowing ``T``
    allows its extensions; successions forbidden after/before ``T`` also apply
    to ``T+m``.
    """
    tmpl = {t.id: t for t in problem.templates}
    steps = list(
        range(settings.overtime_step_min, settings.max_overtime_min + 1, settings.overtime_step_min)
    )
    wanted = {(t, m) for t in tmpl for m in steps}
    for u in used:
        base, m = split_overtime(u)
        if m and base in tmpl:
            wanted.add((base, m))
    wanted = {(t, m) for t, m in wanted if overtime_id(t, m) not in tmpl}
    if not wanted:
        return problem
    ext_of: dict[str, list[str]] = {}
    for t, m in sorted(wanted):
        ext_of.setdefault(t, []).append(overtime_id(t, m))
    new = []
    for t in problem.templates:
        nfb = tuple(
            dict.fromkeys(
                [*t.not_followed_by, *(e for u in t.not_followed_by for e in ext_of.get(u, []))]
            )
        )
        new.append(replace(t, not_followed_by=nfb))
    for t, m in sorted(wanted):
        base = tmpl[t]
        new.append(
            replace(
                base,
                id=overtime_id(t, m),
                length_min=base.length_min + m,
                not_followed_by=new[[x.id for x in problem.templates].index(t)].not_followed_by,
            )
        )
    contracts = {}
    for cid, c in problem.contracts.items():
        if c.templates is None:
            contracts[cid] = c
        else:
            contracts[cid] = replace(
                c,
                templates=tuple(
                    dict.fromkeys(
                        [*c.templates, *(e for u in c.templates for e in ext_of.get(u, []))]
                    )
                ),
            )
    return replace(problem, templates=tuple(new), contracts=contracts)


def published_variants(
    problem: RosterProblem, roster: pd.DataFrame, *, source: str = "published roster"
) -> dict[tuple[str, int], str]:
    """(agent_id, day) -> variant id (``template@HHMM``) of the published roster's rows."""
    agents = {a.id for a in problem.agents}
    tmpl = {t.id for t in problem.templates}
    out: dict[tuple[str, int], str] = {}
    for i, r in enumerate(roster.itertuples(index=False)):
        aid = str(r.agent_id)
        if aid not in agents:
            raise InputError(
                "agent of the published roster is not in agents.csv",
                file=source,
                row=i + 2,
                column="agent_id",
                found=aid,
                hint="repair the roster against the scenario it was planned for",
            )
        if str(r.shift) not in tmpl:
            raise InputError(
                "shift template of the published roster is unknown",
                file=source,
                row=i + 2,
                column="shift",
                expected="a template from shifts.csv",
                found=str(r.shift),
            )
        d = (dt.date.fromisoformat(str(r.date)[:10]) - problem.grid.start).days
        if not 0 <= d < problem.grid.days:
            raise InputError(
                "published roster row outside the planning horizon",
                file=source,
                row=i + 2,
                column="date",
                found=str(r.date),
                expected=f"{problem.grid.start} to {problem.grid.end - dt.timedelta(days=1)}",
            )
        start = problem.grid.to_local(pd.Timestamp(str(r.start)))
        out[(aid, d)] = f"{r.shift}@{start.hour:02d}{start.minute:02d}"
    return out


def repair_window(
    problem: RosterProblem, absences: tuple[NewAbsence, ...], now: pd.Timestamp, extra_days: int
) -> tuple[int, ...]:
    grid = problem.grid
    first = max(0, (now.tz_convert(grid.zone).date() - grid.start).days)
    last = max(
        (
            ((a.end - pd.Timedelta(minutes=1)).tz_convert(grid.zone).date() - grid.start).days
            for a in absences
        ),
        default=first,
    )
    # the day before a day's absence may hold a night shift that reaches into it
    return tuple(range(first, min(grid.days, last + 1 + extra_days)))


@dataclass(frozen=True, eq=False)
class Row:
    """A published roster row, parsed: day, variant id, elapsed [start, end) [min], clock start
    [min], breaks, on-phone mask.
    """

    agent: str
    day: int
    variant: str
    e0: int
    e1: int
    clock0: int
    breaks: tuple[PlacedBreak, ...]
    on: np.ndarray
    record: dict[str, str]


def named_spans(text: object, e0: int, clock0: int) -> list[tuple[str, int, int]]:
    """``name HH:MM-HH:MM;...`` -> (name, elapsed start, elapsed end) [min] for a row starting at
    elapsed ``e0``.
    """
    if not isinstance(text, str) or not text.strip():
        return []
    items = [x.strip() for x in text.split(";") if x.strip()]
    spans = row_spans(";".join(items), e0, clock0)
    return [(item.rpartition(" ")[0], s, e) for item, (s, e) in zip(items, spans, strict=True)]


def absent_masks(problem: RosterProblem, absences: tuple[NewAbsence, ...]) -> dict[str, np.ndarray]:
    """Per absent agent: intervals (n,) bool of the new absences (off the phones there)."""
    out: dict[str, np.ndarray] = {}
    for a in absences:
        m = out.setdefault(a.agent_id, np.zeros(problem.grid.n, dtype=bool))
        m[problem.grid.boundary_index(a.start) : problem.grid.boundary_index(a.end)] = True
    return out


def parse_rows(problem: RosterProblem, published: pd.DataFrame) -> dict[tuple[str, int], Row]:
    """(agent_id, day) -> the parsed published row (breaks with the template's paid flags, on-phone
    mask before absences).
    """
    variants = published_variants(problem, published)
    tmpl = problem.template_by_id
    out: dict[tuple[str, int], Row] = {}
    for rec in published.to_dict(orient="records"):
        rec = {k: ("" if v is None else str(v)) for k, v in rec.items()}
        d = (dt.date.fromisoformat(rec["date"][:10]) - problem.grid.start).days
        e0, e1, clock0 = row_elapsed(problem.grid, rec["start"], rec["end"])
        paid = {b.name: b.paid for b in tmpl[rec["shift"]].breaks}
        brks = tuple(
            PlacedBreak(name, s, e, paid.get(name, True))
            for name, s, e in named_spans(rec.get("breaks", ""), e0, clock0)
        )
        on = row_on_phone(
            problem.grid, rec["start"], rec["end"], rec.get("breaks", ""), rec.get("activities", "")
        )
        out[(rec["agent_id"], d)] = Row(
            rec["agent_id"], d, variants[(rec["agent_id"], d)], e0, e1, clock0, brks, on, rec
        )
    return out


def published_assignment(problem: RosterProblem, rows: dict[tuple[str, int], Row]) -> np.ndarray:
    """The queue each agent serves per interval in the published roster, (n_agents, n) int (-1 off
    the phones).

    Explicit ``assignments`` cells (written by an earlier repair) win; the rest
    follows the engine's allocation rule (:func:`staffplan.roster.extract.assign_queues`).
    """
    index = {a.id: i for i, a in enumerate(problem.agents)}
    on = np.zeros((len(problem.agents), problem.grid.n), dtype=bool)
    for (aid, _), r in rows.items():
        on[index[aid]] |= r.on
    out = assign_queues(
        on, [problem.agent_queues(a) for a in problem.agents], problem.demand.required
    )
    qindex = {q: k for k, q in enumerate(problem.demand.queues)}
    im = problem.grid.interval_min
    for (aid, _), r in rows.items():
        for name, s, e in named_spans(r.record.get(ASSIGN_COLUMN, ""), r.e0, r.clock0):
            if name in qindex:
                ts = np.arange(s // im, min(e // im, problem.grid.n))
                ts = ts[r.on[ts]]
                out[index[aid], ts] = qindex[name]
    return out


def coverage_counts(
    problem: RosterProblem,
    roster: pd.DataFrame,
    absences: tuple[NewAbsence, ...],
    assignment: np.ndarray,
) -> np.ndarray:
    """On-phone agents per queue and interval (n_queues, n) of roster rows, the cover repair's
    definition: the counts of :func:`coverage_assigned`.
    """
    q = coverage_assigned(problem, roster, absences, assignment)
    return queue_counts(q, problem.demand.required.shape[0])


def coverage_assigned(
    problem: RosterProblem,
    roster: pd.DataFrame,
    absences: tuple[NewAbsence, ...],
    assignment: np.ndarray,
) -> np.ndarray:
    """The queue each agent serves per interval, (n_agents, n) int, -1 off the phones, of roster
    rows.

    An agent is on the phones in an interval wholly inside a shift and clear
    of its breaks and activities, and not absent. Single-skilled agents serve
    their queue; a multi-skilled agent serves the queue of the row's
    ``assignments`` cell where it names one, else its queue in ``assignment``
    (the published plan's, see :func:`published_assignment`), else its
    first-priority queue.
    """
    index = {a.id: i for i, a in enumerate(problem.agents)}
    qindex = {q: k for k, q in enumerate(problem.demand.queues)}
    gone = absent_masks(problem, absences)
    im = problem.grid.interval_min
    out = np.full((len(problem.agents), problem.grid.n), -1, dtype=np.int64)
    aq = [problem.agent_queues(a) for a in problem.agents]
    for rec in roster.to_dict(orient="records"):
        aid = str(rec["agent_id"])
        i = index.get(aid)
        if i is None or not aq[i]:
            continue
        on = row_on_phone(
            problem.grid, rec["start"], rec["end"], rec.get("breaks", ""), rec.get("activities", "")
        )
        if aid in gone:
            on &= ~gone[aid]
        if len(aq[i]) == 1:
            out[i, on] = aq[i][0]
            continue
        q = np.where(assignment[i] >= 0, assignment[i], aq[i][0])
        text = rec.get(ASSIGN_COLUMN, "")
        if isinstance(text, str) and text.strip():
            e0, _, clock0 = row_elapsed(problem.grid, rec["start"], rec["end"])
            for name, s, e in named_spans(text, e0, clock0):
                if name in qindex:
                    q[s // im : min(e // im, problem.grid.n)] = qindex[name]
        out[i, on] = q[on]
    return out


def cut_started(
    problem: RosterProblem, row: Row, absences: tuple[NewAbsence, ...]
) -> dict[str, str] | None:
    """A shift started before now of an agent who falls sick: kept whole if back before its end, cut
    at the absence's start, or dropped.

    A cut shift keeps its breaks as published and is paid for the time from its start to the cut
    [min] less the unpaid breaks taken before the cut (an unpaid lunch already taken stays
    unpaid; one the agent never reached is not deducted): :func:`cut_paid_minutes`.
    """
    start = problem.origin + pd.Timedelta(minutes=row.e0)
    end = problem.origin + pd.Timedelta(minutes=row.e1)
    hit = [a for a in absences if a.agent_id == row.agent and a.overlaps(start, end)]
    if not hit:
        return dict(row.record)
    if all(start < a.start for a in hit) and all(a.end < end for a in hit):
        return dict(row.record)  # back before the shift ends: off the phones only while absent
    cut = [a for a in hit if start < a.start]
    if not cut:
        return None
    stop = min(a.start for a in cut).tz_convert(problem.grid.zone)
    rec = dict(row.record)
    rec["end"] = stop.isoformat()
    stop_e = row.e0 + int(round((stop - start).total_seconds() / 60))
    rec["paid_minutes"] = str(cut_paid_minutes(problem, rec, row.e0, row.clock0, stop_e))
    return rec


def cut_paid_minutes(
    problem: RosterProblem, record: dict[str, str], e0: int, clock0: int, stop: int
) -> int:
    """Paid minutes [min] of a shift starting at elapsed ``e0`` (clock minute ``clock0``) that is
    cut at elapsed ``stop``: the worked span [e0, stop) less the part of each unpaid break of
    its template (``breaks`` cell of ``record``) that lies before the cut.
    """
    shift = str(record.get("shift", ""))
    by_id = problem.template_by_id
    tmpl = by_id.get(shift) or by_id.get(split_overtime(shift)[0])  # T+m breaks as T's
    unpaid = {b.name for b in tmpl.breaks if not b.paid} if tmpl is not None else set()
    taken = sum(
        max(0, min(e, stop) - max(s, e0))
        for name, s, e in named_spans(record.get("breaks", ""), e0, clock0)
        if name in unpaid
    )
    return max(stop - e0 - taken, 0)


def no_action_roster(
    problem: RosterProblem,
    published: pd.DataFrame,
    absences: tuple[NewAbsence, ...],
    now: pd.Timestamp,
) -> pd.DataFrame:
    """The published roster as it plays out if nobody acts: a shift meeting a new absence is dropped
    if it starts at or after now.

    A shift that started before now is cut at the absence's start (kept whole
    if the agent is back before its end, dropped if the absence covers its
    start) — as the repair does; every other row stays.
    """
    now_e = problem.elapsed(now)
    absent = {a.agent_id for a in absences}
    out = []
    for rec in published.to_dict(orient="records"):
        if str(rec["agent_id"]) not in absent:
            out.append(rec)
            continue
        e0, e1, clock0 = row_elapsed(problem.grid, rec["start"], rec["end"])
        start, end = (
            problem.origin + pd.Timedelta(minutes=e0),
            problem.origin + pd.Timedelta(minutes=e1),
        )
        if not any(a.agent_id == rec["agent_id"] and a.overlaps(start, end) for a in absences):
            out.append(rec)
        elif e0 < now_e:
            row = Row(
                str(rec["agent_id"]),
                0,
                "",
                e0,
                e1,
                clock0,
                (),
                np.zeros(0, dtype=bool),
                {k: ("" if v is None else str(v)) for k, v in rec.items()},
            )
            cut = cut_started(problem, row, absences)
            if cut is not None:
                out.append(cut)
    return pd.DataFrame(out, columns=published.columns, dtype=object).fillna("")


def relax_absent(problem: RosterProblem, absent: frozenset[str]) -> RosterProblem:
    """``problem`` with the contract minimums the new absences themselves break lifted for the
    absent agents.

    Each absent agent gets its own copy of its contract (id ``C|absent A17``)
    without a minimum of paid minutes (week and horizon) and with
    ``min_consecutive_days`` 1: a sick agent's lost hours or broken work
    block are not the repair's to make up, and must not make it infeasible.
    Every maximum, rest and succession rule still holds.
    """
    if not absent:
        return problem
    contracts = dict(problem.contracts)
    agents = []
    for a in problem.agents:
        if a.id not in absent:
            agents.append(a)
            continue
        c = problem.contracts[a.contract]
        cid = f"{c.id}|absent {a.id}"
        contracts[cid] = replace(
            c, id=cid, min_minutes_week=0, min_minutes_horizon=None, min_consecutive_days=1
        )
        agents.append(replace(a, contract=cid))
    return replace(problem, agents=tuple(agents), contracts=contracts)


def clock_text(problem: RosterProblem, elapsed: int) -> str:
    t = (problem.origin + pd.Timedelta(minutes=elapsed)).tz_convert(problem.grid.zone)
    return f"{t.hour:02d}:{t.minute:02d}"


def breaks_text(problem: RosterProblem, breaks: tuple[PlacedBreak, ...]) -> str:
    return ";".join(
        f"{b.name} {clock_text(problem, b.start)}-{clock_text(problem, b.end)}"
        for b in sorted(breaks, key=lambda b: b.start)
    )


def assign_text(problem: RosterProblem, queue_of: np.ndarray) -> str:
    """Spans of one agent-day's queue per interval (``-1`` = off the phones) as ``queue
    HH:MM-HH:MM;...``.
    """
    im = problem.grid.interval_min
    parts = []
    t, n = 0, len(queue_of)
    while t < n:
        q = int(queue_of[t])
        if q < 0:
            t += 1
            continue
        u = t
        while u < n and queue_of[u] == q:
            u += 1
        span = f"{clock_text(problem, t * im)}-{clock_text(problem, u * im)}"
        parts.append(f"{problem.demand.queues[q]} {span}")
        t = u
    return ";".join(parts)


def repair_problem(
    problem: RosterProblem,
    published: pd.DataFrame,
    absences: tuple[NewAbsence, ...],
    settings: CoverSettings,
) -> RosterProblem:
    """The problem a repair solves: overtime templates (:func:`with_overtime`), the new absences as
    absences, and the absent agents' contract minimums lifted (:func:`relax_absent`)."""
    base = with_overtime(problem, settings, {str(s) for s in published["shift"]})
    new = tuple(Absence(a.agent_id, a.start, a.end, a.kind) for a in absences)
    prob = replace(base, absences=base.absences + new)
    return relax_absent(prob, frozenset(a.agent_id for a in absences))
