"""Minimal-change repair of a published roster after new absences (sick-leave cover).

Inputs: the scenario's roster problem, the published roster (text rows from the
plan store), the new absences and "now". The past is pinned (every agent-day
whose published shift starts before now, and every earlier day, keeps its
published shift); the new absences are hard absences. The repair model
(:func:`build_window`) has decision literals only for the agent-days of the
repair window — keep, extend, move, swap, cancel or call in, move breaks,
reassign a multi-skilled agent's queue — and one fixed literal for every
other published shift, so the engine's hard rules (``rules.HARD_RULES``) see
the whole horizon. Objective, lexicographic in one solve: restore the
published coverage (:func:`coverage_counts`, the one coverage definition
also used for every number reported), then fewest changed agents, then the
cost of the actions (``[cover]`` table). "No action" is the solver's hint.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from ortools.sat.python import cp_model

from staffplan.errors import InfeasibleError, InputError, Reason, ScenarioError
from staffplan.roster.breaks import PlacedBreak
from staffplan.roster.budget import cover_solve_limit, full_resolve_limit
from staffplan.roster.cpmodel import RosterModel, Term, scaled
from staffplan.roster.problem import (
    RosterProblem,
    Variant,
    full_intervals,
    planned_break_offsets,
    touched_intervals,
)
from staffplan.scenario import Scenario, SolveSettings
from staffplan.store import cell_text, diff_rosters, roster_as_text
from staffplan.timegrid import TimeGrid

COVER_SPEC = {
    "max_overtime_min": (
        (int,),
        120,
        "the longest extension of one published shift [min], a whole number >= 0",
    ),
    "max_move_min": ((int,), 180, "how far a shift's start may move [min], a whole number >= 0"),
    "overtime_step_min": (
        (int,),
        60,
        "overtime comes in steps of this many minutes [min], a whole number >= 1",
    ),
    "max_changed_agents": ((int,), 0, "the most agents a repair may change (0 = no cap)"),
    "extra_days": (
        (int,),
        0,
        "days after the last absent day that the repair may also change [days]",
    ),
    "allow_callin": ((bool,), True, "true to allow calling in agents on their day off"),
    "allow_swap": ((bool,), True, "true to allow agents to take another agent's shift"),
    "changed_agent_weight": (
        (float, int),
        1000.0,
        "objective weight of one changed agent (tier 2, below service)",
    ),
    "move_cost": ((float, int), 20.0, "cost of moving one shift's start [currency]"),
    "overtime_cost_per_hour": ((float, int), 40.0, "cost of one hour of overtime [currency/h]"),
    "callin_cost": (
        (float, int),
        100.0,
        "premium for calling in one agent on a day off [currency]",
    ),
    "swap_cost": ((float, int), 30.0, "cost of giving an agent another shift template [currency]"),
    "cancel_cost": (
        (float, int),
        30.0,
        "cost of cancelling a published shift of an agent who is not absent [currency]",
    ),
    "break_move_cost": (
        (float, int),
        5.0,
        "cost of moving one published break inside its window [currency]",
    ),
    "max_break_moves": ((int,), 20, "the most break moves a repair may propose (0 = none)"),
    "reassign_cost": (
        (float, int),
        10.0,
        "cost of reassigning a multi-skilled agent to another queue for a span, per agent-day "
        "[currency]",
    ),
    "max_reassignments": (
        (int,),
        20,
        "the most agent-days a repair may reassign to another queue (0 = none)",
    ),
}


@dataclass(frozen=True)
class CoverSettings:
    """Costs [currency] and caps ([min], [agents]) of the repair actions, from ``[cover]``."""

    max_overtime_min: int = 120
    max_move_min: int = 180
    overtime_step_min: int = 60
    max_changed_agents: int = 0
    extra_days: int = 0
    allow_callin: bool = True
    allow_swap: bool = True
    changed_agent_weight: float = 1000.0
    move_cost: float = 20.0
    overtime_cost_per_hour: float = 40.0
    callin_cost: float = 100.0
    swap_cost: float = 30.0
    cancel_cost: float = 30.0
    break_move_cost: float = 5.0
    max_break_moves: int = 20
    reassign_cost: float = 10.0
    max_reassignments: int = 20


def cover_settings(table: Any, *, file: Path) -> CoverSettings:
    """Validate a scenario's ``[cover]`` table (unknown keys, types, ranges) into
    :class:`CoverSettings`.
    """
    from staffplan.scenario import check_table

    t = check_table(table, COVER_SPEC, file=file, key="cover")
    for k, v in t.items():
        if not isinstance(v, bool) and v < 0:
            raise ScenarioError(
                "value out of range",
                file=file,
                key=f"cover.{k}",
                expected=COVER_SPEC[k][2],
                found=v,
            )
    if t["overtime_step_min"] < 1:
        raise ScenarioError(
            "value out of range",
            file=file,
            key="cover.overtime_step_min",
            expected=COVER_SPEC["overtime_step_min"][2],
            found=t["overtime_step_min"],
        )
    return CoverSettings(**t)


@dataclass(frozen=True)
class NewAbsence:
    """An agent absent over local times [start, end) (tz-aware), as given on the command line."""

    agent_id: str
    start: pd.Timestamp
    end: pd.Timestamp
    kind: str = "sick"
    text: str = ""

    def overlaps(self, start: pd.Timestamp, end: pd.Timestamp) -> bool:
        """True if [start, end) meets the absence."""
        return bool(start < self.end and self.start < end)


_ABSENT_HINT = (
    "use AGENT:DATE (the whole day), or AGENT:FROM/TO with ISO dates or date-times, "
    "e.g. A03:2026-12-02T12:00/2026-12-03"
)


def _when(text: str, grid: TimeGrid, *, is_end: bool, option: str, found: str) -> pd.Timestamp:
    text = text.strip()
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return grid.local_midnight(day + dt.timedelta(days=1) if is_end else day)
        return grid.to_local(pd.Timestamp(dt.datetime.fromisoformat(text)))
    except ValueError:
        raise InputError(
            "bad date or time",
            column=option,
            expected="an ISO date (2026-12-02) or date-time (2026-12-02T12:00)",
            found=found,
            hint=_ABSENT_HINT,
        ) from None


def parse_absent(text: str, grid: TimeGrid, kind: str = "sick") -> NewAbsence:
    """Parse one ``--absent`` value: ``A17:2026-12-02`` or ``A03:2026-12-02T12:00/2026-12-03``.

    A date-only end is inclusive (the whole day). The agent id is everything
    before the first ``:``. Raises :class:`InputError` on a malformed value, an
    empty span or one that misses the planning horizon.
    """
    agent, sep, span = text.partition(":")
    if not sep or not agent.strip() or not span.strip():
        raise InputError(
            "bad absence",
            column="--absent",
            expected="AGENT:DATE or AGENT:FROM/TO",
            found=text,
            hint=_ABSENT_HINT,
        )
    first, slash, last = span.partition("/")
    start = _when(first, grid, is_end=False, option="--absent", found=text)
    if slash:
        end = _when(last, grid, is_end=True, option="--absent", found=text)
    elif len(first.strip()) == 10:
        end = _when(first, grid, is_end=True, option="--absent", found=text)
    else:
        raise InputError(
            "absence without an end",
            column="--absent",
            expected="AGENT:FROM/TO when FROM has a time",
            found=text,
            hint=_ABSENT_HINT,
        )
    if end <= start:
        raise InputError(
            "absence ends before it starts",
            column="--absent",
            expected="TO after FROM",
            found=text,
            hint=_ABSENT_HINT,
        )
    h0, h1 = grid.local_midnight(grid.start), grid.local_midnight(grid.end)
    if end <= h0 or start >= h1:
        raise InputError(
            "absence outside the planning horizon",
            column="--absent",
            expected=f"a time between {grid.start} and {grid.end - dt.timedelta(days=1)}",
            found=text,
        )
    return NewAbsence(agent.strip(), start, end, kind, text)


def parse_now(text: str, grid: TimeGrid) -> pd.Timestamp:
    """Parse ``--now`` (ISO date-time, local if no offset); it may not lie after the horizon."""
    try:
        now = grid.to_local(pd.Timestamp(dt.datetime.fromisoformat(text.strip())))
    except ValueError:
        raise InputError(
            "bad time",
            column="--now",
            expected="an ISO date-time like 2026-12-02T07:00",
            found=text,
        ) from None
    if now >= grid.local_midnight(grid.end):
        raise InputError(
            "now is after the planning horizon",
            column="--now",
            expected=f"a time before {grid.end} 00:00",
            found=text,
            hint="nothing is left to repair",
        )
    return now


PHONE_COLUMNS: tuple[str, ...] = (
    "first_time",
    "agent_id",
    "date",
    "action",
    "old",
    "new",
    "minutes",
    "reason",
)


def _minutes(a: str, b: str) -> int:
    """Whole minutes from ISO time ``a`` to ``b``."""
    return int(
        round((dt.datetime.fromisoformat(b) - dt.datetime.fromisoformat(a)).total_seconds() / 60)
    )


def classify(old: Any, new: Any) -> tuple[str, int]:
    """The lead's name for one agent-day change and its size [min], from change-log fields.

    ``call in`` (a shift on a day off; minutes = its length), ``cancel`` (no
    shift any more), ``extend`` / ``shorten`` (same start, end moved; minutes =
    the difference), ``move start`` (same template, start moved; minutes = the
    signed shift), ``swap shift`` (another template), ``reassign queue`` (same
    times, other queue priority order), ``move break`` (same shift, breaks
    moved), ``reassign`` (same shift, other queue spans; minutes 0 here, per
    span in :func:`phone_list`).
    """
    if not old.old_shift and not old.old_start:
        return "call in", _minutes(new.new_start, new.new_end)
    if not new.new_shift and not new.new_start:
        return "cancel", _minutes(old.old_start, old.old_end)
    if old.old_start == new.new_start and old.old_end != new.new_end:
        d = _minutes(old.old_end, new.new_end)
        return ("extend" if d > 0 else "shorten"), abs(d)
    if old.old_shift == new.new_shift and old.old_start != new.new_start:
        return "move start", _minutes(old.old_start, new.new_start)
    if (
        old.old_shift != new.new_shift
        or old.old_start != new.new_start
        or old.old_end != new.new_end
    ):
        return "swap shift", _minutes(old.old_start, new.new_start)
    if getattr(old, "old_queues", "") != getattr(new, "new_queues", ""):
        return "reassign queue", 0
    if getattr(old, "old_breaks", "") != getattr(new, "new_breaks", ""):
        return "move break", 0
    if getattr(old, "old_assignments", "") != getattr(new, "new_assignments", ""):
        return "reassign", 0
    return "reassign queue", 0


def _at(start_iso: str, clock: str) -> dt.datetime:
    """The first time at clock ``HH:MM`` on or after the shift start ``start_iso`` (local, with its
    offset).
    """
    s = dt.datetime.fromisoformat(start_iso)
    minutes = (int(clock[:2]) * 60 + int(clock[3:5]) - (s.hour * 60 + s.minute)) % 1440
    return s + dt.timedelta(minutes=minutes)


def _items(text: str) -> list[tuple[str, str, str]]:
    """``name HH:MM-HH:MM;...`` -> (name, from, to)."""
    out = []
    for item in (x.strip() for x in (text or "").split(";")):
        if item:
            name, _, span = item.rpartition(" ")
            a, _, b = span.partition("-")
            out.append((name, a, b))
    return out


def _span_rows(r: Any, action: str) -> list[tuple[str, str, str, int]]:
    """(first time ISO, old, new, minutes) per moved break or per reassigned span of one
    agent-day.
    """
    start = r.new_start or r.old_start
    out = []
    if action == "move break":
        old = _items(r.old_breaks)
        for name, a, b in _items(r.new_breaks):
            prev = next(((x, y) for n, x, y in old if n == name), None)
            if prev is None or prev == (a, b):
                continue
            t_old, t_new = _at(start, prev[0]), _at(start, a)
            out.append(
                (
                    min(t_old, t_new).isoformat(),
                    f"{name} {prev[0]}-{prev[1]}",
                    f"{name} {a}-{b}",
                    int((t_new - t_old).total_seconds() // 60),
                )
            )
        return out
    im = 1

    def per_minute(text: str) -> dict[int, str]:
        m: dict[int, str] = {}
        for name, a, b in _items(text):
            t0 = _at(start, a)
            t1 = _at(start, b)
            k0 = int((t0 - dt.datetime.fromisoformat(start)).total_seconds() // 60)
            k1 = int((t1 - dt.datetime.fromisoformat(start)).total_seconds() // 60)
            for k in range(k0, k1, im):
                m[k] = name
        return m

    old_q, new_q = per_minute(r.old_assignments), per_minute(r.new_assignments)
    keys = sorted(k for k in new_q if k in old_q and old_q[k] != new_q[k])
    s0 = dt.datetime.fromisoformat(start)
    i = 0
    while i < len(keys):
        j = i
        while (
            j + 1 < len(keys)
            and keys[j + 1] == keys[j] + 1
            and old_q[keys[j + 1]] == old_q[keys[i]]
            and new_q[keys[j + 1]] == new_q[keys[i]]
        ):
            j += 1
        t0, t1 = s0 + dt.timedelta(minutes=keys[i]), s0 + dt.timedelta(minutes=keys[j] + 1)
        span = f"{t0:%H:%M}-{t1:%H:%M}"
        out.append(
            (
                t0.isoformat(),
                f"{old_q[keys[i]]} {span}",
                f"{new_q[keys[i]]} {span}",
                keys[j] + 1 - keys[i],
            )
        )
        i = j + 1
    return out


def phone_list(
    change_log: pd.DataFrame, absent_agents: frozenset[str] = frozenset()
) -> pd.DataFrame:
    """The changes a lead phones through (:data:`PHONE_COLUMNS`): agents by their earliest affected
    time, each agent's changes together in time order.

    ``change_log`` has the store's change columns (see :func:`staffplan.store.diff_rosters`).
    Removals of absent agents' own shifts need no call and are left out. A
    shift kept as it was but with breaks moved gives one ``move break`` row
    per break (old and new ``name HH:MM-HH:MM``; minutes = the signed move);
    with other queue spans one ``reassign`` row per span (old and new
    ``queue HH:MM-HH:MM``; minutes = the span's length).
    """
    from staffplan.store import describe

    log = change_log.copy()
    for c in ("old_breaks", "new_breaks", "old_assignments", "new_assignments"):
        if c not in log.columns:
            log[c] = ""
    rows = []
    for r in log.itertuples(index=False):
        action, minutes = classify(r, r)
        if action == "cancel" and r.agent_id in absent_agents:
            continue
        if action == "move break" and r.old_assignments != r.new_assignments:
            spans = [(*x, "move break") for x in _span_rows(r, "move break")] + [
                (*x, "reassign") for x in _span_rows(r, "reassign")
            ]
        elif action in ("move break", "reassign"):
            spans = [(*x, action) for x in _span_rows(r, action)]
        else:
            spans = []
        if spans:
            for first, old, new, mins, act in spans:
                rows.append(
                    (
                        first,
                        r.agent_id,
                        r.date,
                        act,
                        old,
                        new,
                        mins,
                        r.reason,
                        dt.datetime.fromisoformat(first),
                    )
                )
            continue
        first = min(
            (t for t in (r.old_start, r.new_start) if t), key=lambda t: dt.datetime.fromisoformat(t)
        )
        old = describe(r.old_shift, r.old_start, r.old_end) + (
            f" [{r.old_queues}]" if action == "reassign queue" else ""
        )
        new = describe(r.new_shift, r.new_start, r.new_end) + (
            f" [{r.new_queues}]" if action == "reassign queue" else ""
        )
        rows.append(
            (
                first,
                r.agent_id,
                r.date,
                action,
                old,
                new,
                minutes,
                r.reason,
                dt.datetime.fromisoformat(first),
            )
        )
    frame = pd.DataFrame(rows, columns=[*PHONE_COLUMNS, "_t"])
    frame["_first"] = (
        frame.groupby("agent_id")["_t"].transform("min") if len(frame) else frame["_t"]
    )
    frame = (
        frame.sort_values(["_first", "agent_id", "_t"], kind="stable")
        .drop(columns=["_t", "_first"])
        .reset_index(drop=True)
    )
    return frame.astype({"minutes": "int64"})


# ---- the repair model -------------------------------------------------------------------------

DEFAULT_SOLVE = SolveSettings(time_limit_s=10.0, workers=2)


def _ext_id(template: str, minutes: int) -> str:
    return f"{template}+{minutes}"


def _split_ext(template: str) -> tuple[str, int]:
    """``E+60`` -> (``E``, 60); a plain id -> (id, 0)."""
    base, plus, extra = template.rpartition("+")
    if plus and base and extra.isdigit():
        return base, int(extra)
    return template, 0


def with_overtime(problem: RosterProblem, settings: CoverSettings, used: set[str]) -> RosterProblem:
    """The problem with overtime templates ``T+m`` (``T`` lengthened by m [min], same starts and
    breaks).

    ``m`` runs over the steps up to ``max_overtime_min``, plus any ``T+m``
    already in the published roster (``used``). A contract allowing ``T``
    allows its extensions; successions forbidden after/before ``T`` also apply
    to ``T+m``.
    """
    from dataclasses import replace

    tmpl = {t.id: t for t in problem.templates}
    steps = list(
        range(settings.overtime_step_min, settings.max_overtime_min + 1, settings.overtime_step_min)
    )
    wanted = {(t, m) for t in tmpl for m in steps}
    for u in used:
        base, m = _split_ext(u)
        if m and base in tmpl:
            wanted.add((base, m))
    wanted = {(t, m) for t, m in wanted if _ext_id(t, m) not in tmpl}
    if not wanted:
        return problem
    ext_of: dict[str, list[str]] = {}
    for t, m in sorted(wanted):
        ext_of.setdefault(t, []).append(_ext_id(t, m))
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
                id=_ext_id(t, m),
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


@dataclass(frozen=True)
class Plan:
    """What the repair may touch: the published variant per agent-day and the days open to
    change.
    """

    published: dict[tuple[str, int], str]
    window: tuple[int, ...]
    now_elapsed: int


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


def _window(
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


def pin_and_price(
    rm: RosterModel,
    plan: Plan,
    absent: frozenset[str],
    settings: CoverSettings,
    *,
    price: bool = True,
) -> tuple[dict[str, cp_model.IntVar], list[Term]]:
    """Pin the past and the days outside the window; add change indicators and action costs.

    Returns the changed-agent literals (agent -> bool var) and the action cost
    terms. With ``price=False`` only the pinning is added (a full re-solve).
    An agent-day is *changed* when its published shift is not worked as
    published (moved, extended, swapped, cancelled) or a day off becomes a
    shift; an absent agent's shift cancelled by the absence is not a change.
    """
    p = rm.problem
    m = rm.model
    window = set(plan.window)
    day_changes: dict[str, list[cp_model.IntVar]] = {}
    costs: list[Term] = []
    for a in p.agents:
        for d in range(p.grid.days):
            opts = rm.shifts(a.id, d)
            pub = plan.published.get((a.id, d))
            ids = {v.id for v, _ in opts}
            pinned = d not in window
            if pub is not None and pub not in ids:
                if a.id not in absent:
                    raise InputError(
                        "the published roster breaks a hard rule",
                        column="roster",
                        found=f"{a.id} {p.date(d)} {pub}",
                        hint="this shift is not allowed by the scenario (absence, availability "
                        "or contract); publish a valid roster",
                    )
                # cancelled by the new absence: no change to phone; a started day stays closed
                pinned = pinned or rm.elapsed[(d, pub)][0] < plan.now_elapsed
                pub = None
            pub_start = rm.elapsed[(d, pub)][0] if pub is not None else None
            pub_base = _split_ext(pub.split("@")[0])[0] if pub is not None else None
            pinned = pinned or (pub_start is not None and pub_start < plan.now_elapsed)
            keep_lit = None
            for v, x in opts:
                e0 = rm.elapsed[(d, v.id)][0]
                base, _ = _split_ext(v.template)
                if v.id == pub:
                    keep_lit = x
                    continue
                same_start_ext = (
                    pub is not None
                    and e0 == pub_start
                    and base == pub_base
                    and v.length_min > p.template_by_id[pub.split("@")[0]].length_min
                )
                if pinned:
                    ok = d in window and same_start_ext and price
                elif e0 < plan.now_elapsed:
                    ok = False
                elif pub is None:
                    ok = _split_ext(v.template)[1] == 0 and (settings.allow_callin or not price)
                elif same_start_ext:
                    ok = True
                elif _split_ext(v.template)[1] != 0:
                    ok = False
                elif base == pub_base:
                    ok = abs(e0 - pub_start) <= settings.max_move_min if price else True  # type: ignore[operator]
                else:
                    ok = settings.allow_swap or not price
                if not ok:
                    m.Add(x == 0)
                    continue
                if not price:
                    continue
                if pub is None:
                    cost = settings.callin_cost
                elif same_start_ext:
                    cost = (
                        settings.overtime_cost_per_hour
                        * (v.length_min - p.template_by_id[pub.split("@")[0]].length_min)
                        / 60.0
                    )
                elif base == pub_base:
                    cost = settings.move_cost
                else:
                    cost = settings.swap_cost
                costs.append(
                    rm.add_term("cover_action", f"action[{a.id},{d},{v.id}]", x, scaled(cost))
                )
            if pinned and keep_lit is None:
                if (a.id, d) in rm.work:
                    m.Add(rm.work[(a.id, d)] == 0)
                continue
            if pinned and keep_lit is not None and not price:
                m.Add(keep_lit == 1)
                continue
            if pub is None:
                if (a.id, d) in rm.work:
                    day_changes.setdefault(a.id, []).append(rm.work[(a.id, d)])
                continue
            if keep_lit is None:
                continue
            if pinned:
                m.Add(rm.work[(a.id, d)] == 1)  # the started shift goes on (perhaps extended)
            changed = m.NewBoolVar(f"changed[{a.id},{d}]")
            m.Add(changed + keep_lit == 1)
            day_changes.setdefault(a.id, []).append(changed)
            if price:
                cancel = m.NewBoolVar(f"cancel[{a.id},{d}]")
                m.Add(cancel + rm.work[(a.id, d)] == 1)
                costs.append(
                    rm.add_term("cover_action", cancel.Name(), cancel, scaled(settings.cancel_cost))
                )
    agents: dict[str, cp_model.IntVar] = {}
    for aid in sorted(day_changes):
        lits = day_changes[aid]
        c = m.NewBoolVar(f"changed_agent[{aid}]")
        m.AddMaxEquality(c, lits)
        agents[aid] = c
    if price and settings.max_changed_agents > 0 and agents:
        m.Add(sum(agents.values()) <= settings.max_changed_agents)
    return agents, costs


@dataclass(frozen=True, eq=False)
class CoverResult:
    """A proposed repair: new roster, change log and phone list, service per interval, gaps.

    ``service`` columns: interval_start, queue, required [agents],
    scheduled_before / scheduled_no_action / scheduled_after [on-phone agents],
    sl_before / sl_no_action / sl_after [fraction, NaN without volume], volume
    [contacts]; rows for the repaired window from now on. ``gaps``: queue,
    from, to, short_max [agents], agent_intervals [agent-intervals] still short
    after the repair (and short because of the absences).
    """

    status: str
    roster: pd.DataFrame
    change_log: pd.DataFrame
    changes: pd.DataFrame
    service: pd.DataFrame
    gaps: pd.DataFrame
    agents_changed: tuple[str, ...]
    solve_seconds: float
    service_penalty: float | None
    build_seconds: float = 0.0
    solver_seconds: float = 0.0
    model_short: int | None = None
    notes: tuple[str, ...] = ()

    def sl(self, column: str) -> float:
        """Volume-weighted service level of ``column`` over the window [fraction] (NaN without
        volume).
        """
        f = self.service.dropna(subset=[column])
        vol = f["volume"].to_numpy(dtype=float)
        if vol.sum() <= 0:
            return float("nan")
        return float((f[column].to_numpy(dtype=float) * vol).sum() / vol.sum())

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary: status, agents changed, SL before / no action / after [fraction],
        changes, gaps.
        """

        def num(x: float) -> float | None:
            return None if x != x else round(x, 4)

        return {
            "status": self.status,
            "agents_changed": len(self.agents_changed),
            "changed_agents": list(self.agents_changed),
            "sl_before": num(self.sl("sl_before")),
            "sl_no_action": num(self.sl("sl_no_action")),
            "sl_after": num(self.sl("sl_after")),
            "short_agent_intervals_no_action": int(
                (self.service["required"] - self.service["scheduled_no_action"]).clip(lower=0).sum()
            ),
            "short_agent_intervals_after": int(
                (self.service["required"] - self.service["scheduled_after"]).clip(lower=0).sum()
            ),
            "short_agent_intervals_before": int(
                (self.service["required"] - self.service["scheduled_before"]).clip(lower=0).sum()
            ),
            "unrestored_agent_intervals_no_action": self.unrestored("scheduled_no_action"),
            "unrestored_agent_intervals_after": self.unrestored("scheduled_after"),
            "solve_seconds": round(self.solve_seconds, 3),
            "build_seconds": round(self.build_seconds, 3),
            "solver_seconds": round(self.solver_seconds, 3),
            "changes": self.changes.to_dict(orient="records"),
            "gaps": self.gaps.to_dict(orient="records"),
            "notes": list(self.notes),
        }

    def unrestored(self, column: str) -> int:
        """Agent-intervals of ``column`` below the published coverage capped at the requirement,
        ``min(required, scheduled_before)`` [agent-intervals].
        """
        f = self.service
        if f.empty:
            return 0
        target = np.minimum(
            f["required"].to_numpy(dtype=np.int64), f["scheduled_before"].to_numpy(dtype=np.int64)
        )
        return int((target - f[column].to_numpy(dtype=np.int64)).clip(min=0).sum())

    def gaps_text(self) -> list[str]:
        """One line per remaining gap: where coverage stays short and by how much."""
        return [
            f"{g.queue} {g['from'][:16].replace('T', ' ')}-{g['to'][11:16]}: up to "
            f"{g.short_max} agent(s) short ({g.agent_intervals} agent-intervals)"
            for _, g in self.gaps.iterrows()
        ]


def _service_levels(
    problem: RosterProblem, scenario: Scenario | None, scheduled: np.ndarray
) -> np.ndarray:
    """Service level per queue and interval [fraction] via the queueing core (NaN where unknown)."""
    out = np.full(scheduled.shape, np.nan)
    dem = problem.demand
    if scenario is None or dem.volume is None or dem.aht_s is None:
        return out
    from staffplan.queueing import kpis, target_for_queue

    for q, name in enumerate(dem.queues):
        queue = scenario.queue(name)
        if queue.answer_within_s is None or dem.is_deferred(q):
            continue
        vol, aht = dem.volume[q], dem.aht_s[q]
        ok = np.isfinite(vol) & np.isfinite(aht)
        if not ok.any():
            continue
        agents = np.floor(scheduled[q, ok] * (1.0 - problem.residual_shrinkage) + 1e-9)
        k = kpis(vol[ok], aht[ok], problem.grid.interval_min, agents, target_for_queue(queue))
        out[q, ok] = k["service_level"].to_numpy(dtype=float)
    return out


def _gaps(
    problem: RosterProblem, required: np.ndarray, after: np.ndarray, lo: int, hi: int
) -> pd.DataFrame:
    rows = []
    starts = problem.grid.starts
    step = pd.Timedelta(minutes=problem.grid.interval_min)
    for q, name in enumerate(problem.demand.queues):
        short = (required[q] - after[q]).clip(min=0)
        t = lo
        while t < hi:
            if short[t] <= 0:
                t += 1
                continue
            u = t
            while u < hi and short[u] > 0:
                u += 1
            rows.append(
                (
                    name,
                    starts[t].isoformat(),
                    (starts[u - 1] + step).isoformat(),
                    int(short[t:u].max()),
                    int(short[t:u].sum()),
                )
            )
            t = u
    return pd.DataFrame(rows, columns=["queue", "from", "to", "short_max", "agent_intervals"])


def _compose(
    problem: RosterProblem,
    published: pd.DataFrame,
    new_rows: pd.DataFrame,
    values: dict[tuple[str, int, str], int],
    plan: Plan,
    absences: tuple[NewAbsence, ...],
) -> pd.DataFrame:
    """The repaired roster: published rows where the agent-day is unchanged, new rows elsewhere.

    A started shift of an agent who falls sick during it ends at the absence's
    start, or is kept whole if the agent is back before its end (the agent is
    then off the phones only while absent; the model counts no coverage from
    that shift after now, a conservative view).
    """
    chosen = {(a, d): v for (a, d, v), val in values.items() if val}
    keep = [
        plan.published.get(
            (
                str(r.agent_id),
                int((dt.date.fromisoformat(str(r.date)[:10]) - problem.grid.start).days),
            )
        )
        for r in published.itertuples(index=False)
    ]
    rows = []
    for r, pub in zip(published.to_dict(orient="records"), keep, strict=True):
        d = (dt.date.fromisoformat(str(r["date"])[:10]) - problem.grid.start).days
        key = (str(r["agent_id"]), d)
        if chosen.get(key) == pub:
            rows.append({k: str(v) for k, v in r.items()})
            continue
        start = problem.grid.to_local(pd.Timestamp(str(r["start"])))
        end = problem.grid.to_local(pd.Timestamp(str(r["end"])))
        hit = [a for a in absences if a.agent_id == key[0] and a.overlaps(start, end)]
        if (
            hit
            and key not in chosen
            and problem.elapsed(start) < plan.now_elapsed
            and all(start < a.start for a in hit)
            and all(a.end < end for a in hit)
        ):
            rows.append(
                {k: str(v) for k, v in r.items()}
            )  # back before the shift ends: off the phones only while absent
            continue
        cut = [a for a in hit if start < a.start and problem.elapsed(start) < plan.now_elapsed]
        if cut and key not in chosen:
            stop = min(a.start for a in cut)
            lost = int(round((end - stop).total_seconds() / 60))
            row = {k: str(v) for k, v in r.items()}
            row["end"] = stop.isoformat()
            row["paid_minutes"] = str(max(int(float(r["paid_minutes"] or 0)) - lost, 0))
            rows.append(row)
    new_keys = {
        (str(a), int(d)) for a, d in zip(new_rows["agent_id"], new_rows["day"], strict=True)
    }
    for r in new_rows.to_dict(orient="records"):
        key = (str(r["agent_id"]), int(r["day"]))
        if key in new_keys and chosen.get(key) != plan.published.get(key):
            rows.append({k: ("" if v is None else str(v)) for k, v in r.items()})
    cols = list(dict.fromkeys([*published.columns, *new_rows.columns]))
    out = pd.DataFrame(rows, columns=cols, dtype=object).fillna("")
    out["_d"] = out["date"]
    return (
        out.sort_values(["agent_id", "_d"], kind="stable").drop(columns="_d").reset_index(drop=True)
    )


# ---- the window model: variables only where the repair may act ---------------------------------

_ASSIGN_COLUMN = "assignments"


@dataclass(frozen=True, eq=False)
class _Row:
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


@dataclass(frozen=True, eq=False)
class _Opt:
    """One choice for an agent-day of the window: a variant with its breaks, its action, cost
    [currency] and on-phone mask (n,).
    """

    variant: Variant
    kind: str
    cost: float
    breaks: tuple[PlacedBreak, ...]
    on: np.ndarray


def _named_spans(text: object, e0: int, clock0: int) -> list[tuple[str, int, int]]:
    """``name HH:MM-HH:MM;...`` -> (name, elapsed start, elapsed end) [min] for a row starting at
    elapsed ``e0``.
    """
    from staffplan.roster.extract import row_spans

    if not isinstance(text, str) or not text.strip():
        return []
    items = [x.strip() for x in text.split(";") if x.strip()]
    spans = row_spans(";".join(items), e0, clock0)
    return [(item.rpartition(" ")[0], s, e) for item, (s, e) in zip(items, spans, strict=True)]


def _clock(problem: RosterProblem, elapsed: int) -> str:
    t = (problem.origin + pd.Timedelta(minutes=elapsed)).tz_convert(problem.grid.zone)
    return f"{t.hour:02d}:{t.minute:02d}"


def _breaks_text(problem: RosterProblem, breaks: tuple[PlacedBreak, ...]) -> str:
    return ";".join(
        f"{b.name} {_clock(problem, b.start)}-{_clock(problem, b.end)}"
        for b in sorted(breaks, key=lambda b: b.start)
    )


def _assign_text(problem: RosterProblem, queue_of: np.ndarray) -> str:
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
        parts.append(
            f"{problem.demand.queues[q]} {_clock(problem, t * im)}-{_clock(problem, u * im)}"
        )
        t = u
    return ";".join(parts)


def _mask(
    problem: RosterProblem, e0: int, e1: int, holes: list[tuple[int, int]], cache: dict
) -> np.ndarray:
    """On-phone intervals (n,) bool of a shift [e0, e1) with breaks/activities ``holes`` (elapsed)
    off the phones.
    """
    key = (e0, e1, tuple(sorted(holes)))
    if key not in cache:
        g = problem.grid
        out = np.zeros(g.n, dtype=bool)
        lo, hi = full_intervals(e0, e1, g.interval_min, g.n)
        out[lo:hi] = True
        for s, e in holes:
            t0, t1 = touched_intervals(s, e, g.interval_min, g.n)
            out[t0:t1] = False
        cache[key] = out
    return cache[key]


def _blocks(
    problem: RosterProblem,
) -> tuple[dict[str, list[tuple[int, int]]], dict[str, list[tuple[int, int]]]]:
    """Per agent: blocking absences and activities (training, meetings) as elapsed spans [min]."""
    from staffplan.io.team import ACTIVITY_KINDS, BLOCKING_KINDS

    blocking: dict[str, list[tuple[int, int]]] = {}
    activity: dict[str, list[tuple[int, int]]] = {}
    for a in problem.absences:
        span = (problem.elapsed(a.start), problem.elapsed(a.end))
        if a.kind in BLOCKING_KINDS:
            blocking.setdefault(a.agent_id, []).append(span)
        elif a.kind in ACTIVITY_KINDS:
            activity.setdefault(a.agent_id, []).append(span)
    return blocking, {k: sorted(v) for k, v in activity.items()}


def _absent_masks(
    problem: RosterProblem, absences: tuple[NewAbsence, ...]
) -> dict[str, np.ndarray]:
    """Per absent agent: intervals (n,) bool of the new absences (off the phones there)."""
    out: dict[str, np.ndarray] = {}
    for a in absences:
        m = out.setdefault(a.agent_id, np.zeros(problem.grid.n, dtype=bool))
        m[problem.grid.boundary_index(a.start) : problem.grid.boundary_index(a.end)] = True
    return out


def parse_rows(problem: RosterProblem, published: pd.DataFrame) -> dict[tuple[str, int], _Row]:
    """(agent_id, day) -> the parsed published row (breaks with the template's paid flags, on-phone
    mask before absences).
    """
    from staffplan.roster.extract import row_elapsed, row_on_phone

    variants = published_variants(problem, published)
    tmpl = problem.template_by_id
    out: dict[tuple[str, int], _Row] = {}
    for rec in published.to_dict(orient="records"):
        rec = {k: ("" if v is None else str(v)) for k, v in rec.items()}
        d = (dt.date.fromisoformat(rec["date"][:10]) - problem.grid.start).days
        e0, e1, clock0 = row_elapsed(problem.grid, rec["start"], rec["end"])
        paid = {b.name: b.paid for b in tmpl[rec["shift"]].breaks}
        brks = tuple(
            PlacedBreak(name, s, e, paid.get(name, True))
            for name, s, e in _named_spans(rec.get("breaks", ""), e0, clock0)
        )
        on = row_on_phone(
            problem.grid, rec["start"], rec["end"], rec.get("breaks", ""), rec.get("activities", "")
        )
        out[(rec["agent_id"], d)] = _Row(
            rec["agent_id"], d, variants[(rec["agent_id"], d)], e0, e1, clock0, brks, on, rec
        )
    return out


def published_assignment(problem: RosterProblem, rows: dict[tuple[str, int], _Row]) -> np.ndarray:
    """The queue each agent serves per interval in the published roster, (n_agents, n) int (-1 off
    the phones).

    Explicit ``assignments`` cells (written by an earlier repair) win; the rest
    follows the engine's allocation rule (:func:`staffplan.roster.extract.assign_queues`).
    """
    from staffplan.roster.extract import assign_queues

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
        for name, s, e in _named_spans(r.record.get(_ASSIGN_COLUMN, ""), r.e0, r.clock0):
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
    definition.

    An agent is on the phones in an interval wholly inside a shift and clear
    of its breaks and activities, and not absent. Single-skilled agents serve
    their queue; a multi-skilled agent serves the queue of the row's
    ``assignments`` cell where it names one, else its queue in ``assignment``
    (the published plan's, see :func:`published_assignment`), else its
    first-priority queue.
    """
    from staffplan.roster.extract import row_elapsed, row_on_phone

    index = {a.id: i for i, a in enumerate(problem.agents)}
    qindex = {q: k for k, q in enumerate(problem.demand.queues)}
    gone = _absent_masks(problem, absences)
    im = problem.grid.interval_min
    out = np.zeros(problem.demand.required.shape, dtype=np.int64)
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
            out[aq[i][0], on] += 1
            continue
        q = np.where(assignment[i] >= 0, assignment[i], aq[i][0])
        text = rec.get(_ASSIGN_COLUMN, "")
        if isinstance(text, str) and text.strip():
            e0, _, clock0 = row_elapsed(problem.grid, rec["start"], rec["end"])
            for name, s, e in _named_spans(text, e0, clock0):
                if name in qindex:
                    q[s // im : min(e // im, problem.grid.n)] = qindex[name]
        ts = np.flatnonzero(on)
        np.add.at(out, (q[ts], ts), 1)
    return out


def _allows(
    problem: RosterProblem,
    agent: Any,
    day: int,
    v: Variant,
    blocking: list[tuple[int, int]],
    activity: list[tuple[int, int]],
) -> bool:
    """True if ``v`` on ``day`` keeps the agent's contract templates, absences, activities and
    availability.
    """
    from staffplan.roster.build import allowed_variants

    one = _OneVariant(problem, v)
    return bool(allowed_variants(one, agent, day, blocking, activity))  # type: ignore[arg-type]


class _OneVariant:
    """``problem`` seen with a single shift variant (for checking one published shift with the
    engine's own rule).
    """

    def __init__(self, problem: RosterProblem, variant: Variant) -> None:
        self._p = problem
        self.variants = (variant,)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._p, name)


@dataclass(eq=False)
class _Kept:
    """The published shift of a window agent-day: its variant and same-start extensions (literal,
    cost [currency]), and each published break's possible starts (elapsed [min], literal; None =
    fixed).
    """

    row: _Row
    variants: list[tuple[Variant, cp_model.IntVar, float]]
    breaks: list[tuple[PlacedBreak, list[tuple[int, cp_model.IntVar | None]]]]


@dataclass(eq=False)
class _Day:
    """One agent-day of the window: the published shift (if kept possible), the new-shift options,
    works and changed literals.
    """

    kept: _Kept | None
    new: list[tuple[_Opt, cp_model.IntVar]]
    work: cp_model.IntVar
    changed: cp_model.IntVar
    started: bool


@dataclass(eq=False)
class _Build:
    """The built window model and what extraction needs."""

    rm: RosterModel
    days: dict[tuple[str, int], _Day]
    reassigned: dict[tuple[str, int], cp_model.IntVar]
    y: dict[tuple[int, int], dict[int, cp_model.IntVar]]
    short: list[cp_model.IntVar]
    short_const: int
    cover_under: list[cp_model.IntVar]
    changed: dict[str, cp_model.IntVar]
    const_rows: list[_Row]
    lo: int
    hi: int
    hint: dict[int, int]


def build_window(
    problem: RosterProblem,
    rows: dict[tuple[str, int], _Row],
    window: tuple[int, ...],
    now: pd.Timestamp,
    absences: tuple[NewAbsence, ...],
    settings: CoverSettings,
    assignment: np.ndarray,
    target: np.ndarray,
    focus: np.ndarray | None = None,
) -> _Build:
    """The repair model: literals only for the window's agent-days (every other day one fixed
    literal), the engine's hard rules, coverage with per-agent queue assignment, and the three-tier
    objective.

    Options of an agent-day in the window: keep the published shift, move
    any of its breaks inside the template's window (old and new start from
    now on; one literal per break and start), extend it (same start,
    overtime templates), move its start (same template, within
    ``max_move_min``), another template (swap), cancel it; on a day off: call
    in. Nothing starts before now; a started shift may only be extended or
    have later breaks moved. New shifts get the engine's planned breaks
    (window midpoints). Objective: W1 × unrestored agent-intervals —
    coverage below ``target`` (n_queues, n) [agents], the published roster's
    coverage capped at the requirement — (plus day-level shift-cover
    shortfall) + changed agents × ``changed_agent_weight`` + action costs,
    with W1 above the largest possible sum of the other two tiers, so
    restoring service comes first. "No action" is always one of the model's
    solutions (and its hint).

    ``focus`` (n,) bool: the intervals where some queue is short of ``target``
    with no action. Only breaks that touch one may move, and multi-skilled
    agents change queue only there (elsewhere a move cannot restore anything
    by itself); None = everywhere.
    """
    focus = np.ones(problem.grid.n, dtype=bool) if focus is None else focus
    from staffplan.roster import rules
    from staffplan.roster.build import allowed_variants

    grid, dem = problem.grid, problem.demand
    n, im = grid.n, grid.interval_min
    now_elapsed = problem.elapsed(now)
    step = min(15, im)
    tmpl = problem.template_by_id
    m = cp_model.CpModel()
    rm = RosterModel(problem, m)
    blocking, activity = _blocks(problem)
    rm.activities = dict(activity)
    gone = _absent_masks(problem, absences)
    absent = set(gone)
    in_window = set(window)
    var_by_id = {v.id: v for v in problem.variants}
    cache: dict = {}
    hint: dict[int, int] = {}
    days: dict[tuple[str, int], _Day] = {}
    costs: list[tuple[cp_model.IntVar, int]] = []
    brk_lits: list[cp_model.IntVar] = []
    const_rows: list[_Row] = []
    worst = 0  # the largest possible tier-2 + tier-3 sum [× SCALE]
    lo = grid.boundary_index(now)
    nq = len(dem.queues)
    aq = {a.id: problem.agent_queues(a) for a in problem.agents}
    index = {a.id: i for i, a in enumerate(problem.agents)}
    # coverage contributions, filled per agent-day: (var, coef) per (queue, interval) for
    # single-skilled agents,
    # per (agent-day, interval) for multi-skilled ones; new shifts of single-skilled agents pooled
    # by identical masks
    single: dict[tuple[int, int], list[tuple[cp_model.IntVar, int]]] = {}
    multi: dict[tuple[str, int], dict[int, list[tuple[cp_model.IntVar, int]]]] = {}
    pool: dict[tuple[int, tuple], list[cp_model.IntVar]] = {}
    hinted_on: dict[tuple[str, int], np.ndarray] = {}

    def lit(name: str, value: int) -> cp_model.IntVar:
        x = m.NewBoolVar(name)
        hint[x.Index()] = value
        return x

    def elapsed_of(d: int, v: Variant) -> tuple[int, int]:
        key = (d, v.id)
        if key not in rm.elapsed:
            e0 = problem.start_elapsed(d, v.start_min)
            rm.elapsed[key] = (e0, e0 + v.length_min)
        return rm.elapsed[key]

    def planned(v: Variant, e0: int) -> tuple[PlacedBreak, ...]:
        t = tmpl[v.template]
        return tuple(
            PlacedBreak(b.name, e0 + o, e0 + o + b.minutes, b.paid)
            for o, b in zip(planned_break_offsets(t, step), t.breaks, strict=True)
        )

    def add(aid: str, d: int, t: int, var: cp_model.IntVar, coef: int) -> None:
        qs = aq[aid]
        if not qs or t < lo:
            return
        if len(qs) == 1:
            single.setdefault((qs[0], t), []).append((var, coef))
        else:
            multi.setdefault((aid, d), {}).setdefault(t, []).append((var, coef))

    for a in problem.agents:
        acts = activity.get(a.id, [])
        blk = blocking.get(a.id, [])
        off_mask = gone.get(a.id)
        for d in range(grid.days):
            row = rows.get((a.id, d))
            if d not in in_window:
                if row is None:
                    continue
                v = var_by_id[row.variant]
                if not _allows(problem, a, d, v, blk, acts):
                    if a.id not in absent:
                        raise InputError(
                            "the published roster breaks a hard rule",
                            column="roster",
                            found=f"{a.id} {problem.date(d)} {row.variant}",
                            hint="this shift is not allowed by the scenario (absence, "
                            "availability or contract); publish a valid roster",
                        )
                    if row.e0 < now_elapsed:
                        const_rows.append(
                            row
                        )  # started before the absence: it ends when the agent falls sick
                    continue
                elapsed_of(d, v)
                x = lit(f"x[{a.id},{d},{v.id}]", 1)
                m.Add(x == 1)
                rm.options[(a.id, d)] = [v]
                rm.x[(a.id, d, v.id)] = x
                rm.work[(a.id, d)] = x
                const_rows.append(row)
                continue
            allowed = allowed_variants(problem, a, d, blk, acts)
            ids = {v.id: v for v in allowed}
            pub = row.variant if row is not None else None
            started = row is not None and row.e0 < now_elapsed
            inside = [(s, e) for s, e in acts if row is not None and row.e0 <= s and e <= row.e1]
            keep_mask = None
            if row is not None and pub in ids:
                keep_mask = _mask(
                    problem, row.e0, row.e1, [(b.start, b.end) for b in row.breaks] + inside, cache
                )
                if off_mask is not None and (keep_mask & off_mask).any():
                    pub = None
            elif row is not None:
                if a.id not in absent:
                    raise InputError(
                        "the published roster breaks a hard rule",
                        column="roster",
                        found=f"{a.id} {problem.date(d)} {pub}",
                        hint="this shift is not allowed by the scenario (absence, availability "
                        "or contract); publish a valid roster",
                    )
                pub = None
            if row is not None and pub is None and started:
                const_rows.append(
                    row
                )  # a started shift the new absence interrupts: it ends when the agent falls sick
                continue
            kept: _Kept | None = None
            new: list[_Opt] = []
            if pub is not None and row is not None:
                v = ids[pub]
                elapsed_of(d, v)
                base, _ = _split_ext(v.template)
                group: list[tuple[Variant, float]] = [(v, 0.0)]
                if row.e1 >= now_elapsed:
                    for w in allowed:
                        if (
                            w.start_min == v.start_min
                            and w.id != v.id
                            and _split_ext(w.template)[0] == base
                            and w.length_min > v.length_min
                        ):
                            e0, e1 = elapsed_of(d, w)
                            extra = _mask(
                                problem,
                                e0,
                                e1,
                                [(b.start, b.end) for b in row.breaks]
                                + [(s, e) for s, e in acts if e0 <= s and e <= e1],
                                cache,
                            )
                            if e0 == row.e0 and not (
                                off_mask is not None and (extra & off_mask).any()
                            ):
                                group.append(
                                    (
                                        w,
                                        settings.overtime_cost_per_hour
                                        * (w.length_min - v.length_min)
                                        / 60.0,
                                    )
                                )
                if not started:
                    for w in allowed:
                        e0, e1 = elapsed_of(d, w)
                        wb, ext = _split_ext(w.template)
                        if w.id == v.id or ext or e0 < now_elapsed:
                            continue
                        if wb == base:
                            if abs(e0 - row.e0) > settings.max_move_min:
                                continue
                            kind, cost = "move start", settings.move_cost
                        elif settings.allow_swap:
                            kind, cost = "swap shift", settings.swap_cost
                        else:
                            continue
                        brks = planned(w, e0)
                        new.append(
                            _Opt(
                                w,
                                kind,
                                cost,
                                brks,
                                _mask(
                                    problem,
                                    e0,
                                    e1,
                                    [(b.start, b.end) for b in brks]
                                    + [(s, e) for s, e in acts if e0 <= s and e <= e1],
                                    cache,
                                ),
                            )
                        )
                kv = [(w, lit(f"x[{a.id},{d},{w.id}]", int(w.id == v.id)), c) for w, c in group]
                for _, x, c in kv:
                    if c:
                        costs.append((x, scaled(c)))
                worst += max(scaled(c) for _, _, c in kv)
                # breaks: one literal per possible start of each published break that lies after now
                positions: list[tuple[PlacedBreak, list[tuple[int, cp_model.IntVar | None]]]] = []
                left = list(tmpl[v.template].breaks)
                for pb in row.breaks:
                    b = next(
                        (x for x in left if x.name == pb.name and x.minutes == pb.end - pb.start),
                        None,
                    )
                    if b is not None:
                        left.remove(b)
                    starts = [pb.start]
                    t0, t1 = touched_intervals(pb.start, pb.end, im, n)
                    if (
                        b is not None
                        and settings.max_break_moves > 0
                        and pb.start >= now_elapsed
                        and focus[t0:t1].any()
                    ):
                        for o in range(b.earliest, b.latest + 1, step):
                            s = row.e0 + o
                            if (
                                s != pb.start
                                and s >= now_elapsed
                                and not any(s < e and u < s + b.minutes for u, e in inside)
                            ):
                                starts.append(s)
                    if len(starts) == 1:
                        positions.append((pb, [(pb.start, None)]))
                        continue
                    zs: list[tuple[int, cp_model.IntVar | None]] = [
                        (s, lit(f"brk[{a.id},{d},{pb.name},{s}]", int(s == pb.start)))
                        for s in starts
                    ]
                    m.Add(sum(z for _, z in zs if z is not None) == sum(x for _, x, _ in kv))
                    for _, z in zs[1:]:
                        costs.append((z, scaled(settings.break_move_cost)))  # type: ignore[arg-type]
                        brk_lits.append(z)  # type: ignore[arg-type]
                    worst += scaled(settings.break_move_cost)
                    positions.append((pb, zs))
                # two breaks of one shift never overlap
                for k, (pk, zk) in enumerate(positions):
                    for pj, zj in positions[k + 1 :]:
                        for s, z in zk:
                            for s2, z2 in zj:
                                if s < s2 + (pj.end - pj.start) and s2 < s + (pk.end - pk.start):
                                    if z is None and z2 is None:
                                        continue
                                    if z is None or z2 is None:
                                        m.Add((z if z is not None else z2) == 0)
                                    else:
                                        m.Add(z + z2 <= 1)
                kept = _Kept(row, kv, positions)
                # coverage of the kept shift: its full intervals minus activities, minus the breaks
                # where they are
                act_off = set()
                for s, e in inside:
                    t0, t1 = touched_intervals(s, e, im, n)
                    act_off.update(range(t0, t1))
                for w, x, _ in kv:
                    l0, l1 = full_intervals(*rm.elapsed[(d, w.id)], im, n)
                    for t in range(max(l0, lo), l1):
                        if t not in act_off:
                            add(a.id, d, t, x, 1)
                p0, p1 = full_intervals(row.e0, row.e1, im, n)
                touchers: dict[int, list[tuple[int, cp_model.IntVar | None]]] = {}
                for k, (pb, zs) in enumerate(positions):
                    for s, z in zs:
                        t0, t1 = touched_intervals(s, s + (pb.end - pb.start), im, n)
                        for t in range(max(t0, p0, lo), min(t1, p1)):
                            if t not in act_off:
                                touchers.setdefault(t, []).append((k, z))
                for t, lst in sorted(touchers.items()):
                    if len({k for k, _ in lst}) == 1:
                        for _, z in lst:
                            if z is None:
                                for _, x, _ in kv:
                                    add(a.id, d, t, x, -1)
                            else:
                                add(a.id, d, t, z, -1)
                        continue
                    off = lit(f"off[{a.id},{t}]", int(not keep_mask[t]))  # type: ignore[index]
                    for _, z in lst:
                        m.Add(off >= (z if z is not None else sum(x for _, x, _ in kv)))
                    add(a.id, d, t, off, -1)
                hinted_on[(a.id, d)] = keep_mask  # type: ignore[assignment]
            elif settings.allow_callin:
                for w in allowed:
                    e0, e1 = elapsed_of(d, w)
                    if _split_ext(w.template)[1] or e0 < now_elapsed:
                        continue
                    brks = planned(w, e0)
                    new.append(
                        _Opt(
                            w,
                            "call in",
                            settings.callin_cost,
                            brks,
                            _mask(
                                problem,
                                e0,
                                e1,
                                [(b.start, b.end) for b in brks]
                                + [(s, e) for s, e in acts if e0 <= s and e <= e1],
                                cache,
                            ),
                        )
                    )
            if off_mask is not None:
                new = [o for o in new if not (o.on & off_mask).any()]
            if kept is None and not new:
                continue
            new_lits = [(o, lit(f"x[{a.id},{d},{o.variant.id}]", 0)) for o in new]
            for o, x in new_lits:
                costs.append((x, scaled(o.cost)))
                qs = aq[a.id]
                if len(qs) == 1:
                    pool.setdefault(
                        (qs[0], (o.variant.id, tuple(np.flatnonzero(o.on)))), []
                    ).append(x)
                else:
                    for t in np.flatnonzero(o.on[lo:]) + lo:
                        add(a.id, d, int(t), x, 1)
            worst += max((scaled(o.cost) for o in new), default=0)
            all_x = [x for _, x, _ in (kept.variants if kept else [])] + [x for _, x in new_lits]
            rm.options[(a.id, d)] = [w for w, _, _ in (kept.variants if kept else [])] + [
                o.variant for o in new
            ]
            for w, x in zip(rm.options[(a.id, d)], all_x, strict=True):
                rm.x[(a.id, d, w.id)] = x
            w_lit = lit(f"work[{a.id},{d}]", int(kept is not None))
            m.Add(sum(all_x) == w_lit)
            rm.work[(a.id, d)] = w_lit
            if kept is not None:
                ch = lit(f"changed[{a.id},{d}]", 0)
                m.Add(ch + kept.variants[0][1] >= 1)
                for _, zs in kept.breaks:
                    for _, z in zs[1:]:
                        m.Add(ch >= z)  # type: ignore[arg-type]
                if started:
                    m.Add(w_lit == 1)  # the started shift goes on (perhaps extended)
                elif settings.cancel_cost:
                    cancel = lit(f"cancel[{a.id},{d}]", 0)
                    m.Add(cancel + w_lit == 1)
                    costs.append((cancel, scaled(settings.cancel_cost)))
                    worst += scaled(settings.cancel_cost)
            else:
                ch = w_lit
            days[(a.id, d)] = _Day(kept, new_lits, w_lit, ch, started)
    for rule in rules.HARD_RULES:
        rule(rm)
    # an overtime template T+m counts towards the contract's max_shifts of T
    for a in problem.agents:
        for t, cap in problem.contracts[a.contract].max_shifts:
            xs = [
                x
                for d in range(grid.days)
                for v, x in rm.shifts(a.id, d)
                if _split_ext(v.template)[0] == t
            ]
            if len(xs) > cap:
                m.Add(sum(xs) <= cap)

    # coverage over the window's intervals, from now to the end of the last option
    ends = [int(grid.day_offsets[max(window) + 1])] if window else [lo]
    ends += [
        full_intervals(*rm.elapsed[(d, w.id)], im, n)[1]
        for (aid, d) in days
        for w in rm.options[(aid, d)]
    ]
    hi = min(max(ends), n)
    span = hi - lo
    terms: list[list[list[tuple[cp_model.IntVar, int]]]] = [
        [[] for _ in range(span)] for _ in range(nq)
    ]
    const = np.zeros((nq, span), dtype=np.int64)
    cov_hint = np.zeros((nq, span), dtype=np.int64)
    by_agent_const: dict[str, np.ndarray] = {}
    for r in const_rows:
        on = r.on[lo:hi] & (~gone[r.agent][lo:hi] if r.agent in gone else True)
        by_agent_const[r.agent] = by_agent_const.get(r.agent, np.zeros(span, dtype=bool)) | on
    for aid, on in by_agent_const.items():
        qs = aq[aid]
        if not qs:
            continue
        q = (
            np.where(assignment[index[aid], lo:hi] >= 0, assignment[index[aid], lo:hi], qs[0])
            if len(qs) > 1
            else np.full(span, qs[0])
        )
        ts = np.flatnonzero(on)
        np.add.at(const, (q[ts], ts), 1)
        np.add.at(cov_hint, (q[ts], ts), 1)
    for (q, t), pairs in single.items():
        if t < hi:
            terms[q][t - lo] += pairs
    for (q, (vid, ts)), lits in pool.items():
        if len(lits) == 1:
            count = lits[0]
        else:
            count = m.NewIntVar(0, len(lits), f"count[{dem.queues[q]},{vid}]")
            m.Add(count == sum(lits))
            hint[count.Index()] = 0
        for t in ts:
            if lo <= t < hi:
                terms[q][t - lo].append((count, 1))
    for (aid, _), on in hinted_on.items():
        qs = aq[aid]
        if len(qs) == 1:
            cov_hint[qs[0]] += on[lo:hi]
    y: dict[tuple[int, int], dict[int, cp_model.IntVar]] = {}
    reassigned: dict[tuple[str, int], cp_model.IntVar] = {}
    dev_terms: list[cp_model.IntVar] = []
    for (aid, d), per_t in multi.items():
        qs = aq[aid]
        i = index[aid]
        row = rows.get((aid, d))
        was = hinted_on.get((aid, d))
        devs: list[cp_model.IntVar] = []
        for t, pairs in sorted(per_t.items()):
            if t >= hi:
                continue
            pub_q = int(assignment[i, t]) if row is not None and row.on[t] else -1
            was_on = was is not None and bool(was[t])
            if not focus[t]:  # the published queue (or the first) where nothing is short
                q = (
                    pub_q
                    if pub_q >= 0
                    else (int(assignment[i, t]) if assignment[i, t] >= 0 else qs[0])
                )
                terms[q][t - lo] += pairs
                cov_hint[q, t - lo] += int(was_on)
                continue
            ys = {
                q: lit(f"y[{aid},{t},{q}]", int(was_on and q == (pub_q if pub_q >= 0 else qs[0])))
                for q in qs
            }
            m.Add(
                sum(ys.values())
                == cp_model.LinearExpr.WeightedSum([v for v, _ in pairs], [c for _, c in pairs])
            )
            y[(i, t)] = ys
            for q, yv in ys.items():
                terms[q][t - lo].append((yv, 1))
                cov_hint[q, t - lo] += hint[yv.Index()]
            if pub_q >= 0:
                devs += [yv for q, yv in ys.items() if q != pub_q]
        if devs and days[(aid, d)].kept is not None:
            r_lit = lit(f"reassigned[{aid},{d}]", 0)
            for dv in devs:
                m.Add(r_lit >= dv)
            reassigned[(aid, d)] = r_lit
            costs.append((r_lit, scaled(settings.reassign_cost)))
            worst += scaled(settings.reassign_cost)
        dev_terms += devs
    if reassigned:
        m.Add(sum(reassigned.values()) <= settings.max_reassignments)
    if brk_lits:
        m.Add(sum(brk_lits) <= settings.max_break_moves)
    short: list[cp_model.IntVar] = []
    short_const = 0
    req = target[:, lo:hi]
    for q in range(nq):
        for t in range(span):
            r = int(req[q, t])
            if r <= 0:
                continue
            if not terms[q][t]:
                short_const += max(r - int(const[q, t]), 0)
                continue
            s = m.NewIntVar(0, r, f"short[{dem.queues[q]},{lo + t}]")
            hint[s.Index()] = max(r - int(cov_hint[q, t]), 0)
            pairs = terms[q][t]
            m.Add(
                cp_model.LinearExpr.WeightedSum([v for v, _ in pairs], [c for _, c in pairs])
                + int(const[q, t])
                + s
                >= r
            )
            short.append(s)
    cover_under: list[cp_model.IntVar] = []
    for c in problem.shift_cover:
        d = (c.date - grid.start).days
        if d not in in_window or c.under_weight <= 0 or c.required <= 0:
            continue
        lits = [
            x
            for a in problem.agents
            if c.skill is None or c.skill in a.skills
            for v, x in rm.shifts(a.id, d)
            if _split_ext(v.template)[0] == c.template
        ]
        u = m.NewIntVar(0, c.required, f"cover_under[{c.date},{c.template}]")
        m.Add(sum(lits) + u >= c.required)
        hint[u.Index()] = max(c.required - sum(hint.get(x.Index(), 0) for x in lits), 0)
        cover_under.append(u)
    # changed agents: any changed day or reassignment
    per_agent: dict[str, list[cp_model.IntVar]] = {}
    for (aid, _), day in days.items():
        per_agent.setdefault(aid, []).append(day.changed)
    for (aid, _), r_lit in reassigned.items():
        per_agent.setdefault(aid, []).append(r_lit)
    changed: dict[str, cp_model.IntVar] = {}
    for aid in sorted(per_agent):
        c = lit(f"changed_agent[{aid}]", 0)
        for x in per_agent[aid]:
            m.Add(c >= x)
        changed[aid] = c
    if settings.max_changed_agents > 0 and changed:
        m.Add(sum(changed.values()) <= settings.max_changed_agents)
    w2 = scaled(settings.changed_agent_weight)
    worst += w2 * len(changed) + len(dev_terms)
    w1 = worst + 1
    tier1 = short + cover_under
    m.Minimize(
        cp_model.LinearExpr.WeightedSum(
            [*tier1, *changed.values(), *(c for c, _ in costs), *dev_terms],
            [
                *([w1] * len(tier1)),
                *([w2] * len(changed)),
                *(k for _, k in costs),
                *([1] * len(dev_terms)),
            ],
        )
    )
    return _Build(
        rm, days, reassigned, y, short, short_const, cover_under, changed, const_rows, lo, hi, hint
    )


def _cut_started(
    problem: RosterProblem, row: _Row, absences: tuple[NewAbsence, ...]
) -> dict[str, str] | None:
    """A shift started before now of an agent who falls sick: kept whole if back before its end, cut
    at the absence's start, or dropped.
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
    lost = int(round((end - stop).total_seconds() / 60))
    rec["paid_minutes"] = str(max(int(float(rec.get("paid_minutes") or 0)) - lost, 0))
    return rec


def _chosen_breaks(kept: _Kept, value: Any) -> tuple[PlacedBreak, ...]:
    """The breaks of a kept shift where the solution put them."""
    out = []
    for pb, zs in kept.breaks:
        s = next((s for s, z in zs if z is not None and value(z)), pb.start)
        out.append(PlacedBreak(pb.name, s, s + (pb.end - pb.start), pb.paid))
    return tuple(out)


def _extract_window(
    problem: RosterProblem,
    b: _Build,
    value: Any,
    rows: dict[tuple[str, int], _Row],
    published: pd.DataFrame,
    absences: tuple[NewAbsence, ...],
    assignment: np.ndarray,
) -> pd.DataFrame:
    """The repaired roster (text rows): published rows where nothing changed, the chosen options
    elsewhere, queue spans where reassigned or changed.
    """
    from staffplan.roster.breaks import Worked
    from staffplan.roster.extract import roster_frame, row_on_phone

    index = {a.id: i for i, a in enumerate(problem.agents)}
    aq = {a.id: problem.agent_queues(a) for a in problem.agents}
    const = {(r.agent, r.day) for r in b.const_rows}
    absent = {a.agent_id for a in absences}
    out: list[dict[str, str]] = []
    for key, row in rows.items():
        if key in b.days:
            continue
        if key in const and row.agent in absent:
            rec = _cut_started(problem, row, absences)
            if rec is not None:
                out.append(rec)
        elif key in const:
            out.append(dict(row.record))
    for (aid, d), day in b.days.items():
        rec: dict[str, str] | None = None
        changed = False
        if day.kept is not None:
            for v, x, _ in day.kept.variants:
                if not value(x):
                    continue
                row = day.kept.row
                rec = dict(row.record)
                brks = _chosen_breaks(day.kept, value)
                if brks != row.breaks:
                    rec["breaks"] = _breaks_text(problem, brks)
                    changed = True
                if v.id != row.variant:
                    rec["shift"] = v.template
                    rec["end"] = (
                        (problem.origin + pd.Timedelta(minutes=b.rm.elapsed[(d, v.id)][1]))
                        .tz_convert(problem.grid.zone)
                        .isoformat()
                    )
                    rec["paid_minutes"] = str(v.paid_minutes)
                    changed = True
        if rec is None:
            o = next((o for o, x in day.new if value(x)), None)
            if o is None:
                continue
            e0, e1 = b.rm.elapsed[(d, o.variant.id)]
            frame = roster_frame(
                problem,
                [Worked(aid, d, o.variant, e0, e1)],
                {(aid, d): list(o.breaks)},
                b.rm.activities,
            )
            rec = {k: cell_text(x) for k, x in frame.iloc[0].items()}
            changed = True
        i = index[aid]
        if len(aq[aid]) > 1:
            r_lit = b.reassigned.get((aid, d))
            if changed or (r_lit is not None and value(r_lit)):
                on = row_on_phone(
                    problem.grid,
                    rec["start"],
                    rec["end"],
                    rec.get("breaks", ""),
                    rec.get("activities", ""),
                )
                queue_of = np.full(problem.grid.n, -1, dtype=np.int64)
                ts = np.flatnonzero(on)
                queue_of[ts] = np.where(assignment[i, ts] >= 0, assignment[i, ts], aq[aid][0])
                for t in ts[(ts >= b.lo) & (ts < b.hi)]:
                    ys = b.y.get((i, int(t)))
                    if ys:
                        queue_of[t] = next((q for q, yv in ys.items() if value(yv)), queue_of[t])
                rec[_ASSIGN_COLUMN] = _assign_text(problem, queue_of)
        out.append(rec)
    cols = list(dict.fromkeys([*published.columns, *(k for r in out for k in r)]))
    frame = pd.DataFrame(out, columns=cols, dtype=object).fillna("")
    frame["_d"] = frame["date"]
    return (
        frame.sort_values(["agent_id", "_d"], kind="stable")
        .drop(columns="_d")
        .reset_index(drop=True)
    )


def headroom(
    problem: RosterProblem,
    rows: dict[tuple[str, int], _Row],
    day: int,
    absent: frozenset[str],
    step_min: int,
) -> dict[str, int]:
    """Agents the weekly contract limits leave free on ``day``: ``call_in`` (off that day, a shift
    of an allowed template still fits the week's paid-minute and day limits) and ``extend``
    (working, ``step_min`` more minutes fit) [agents].
    """
    from staffplan.roster.problem import week_blocks

    block = next(b for b in week_blocks(problem.grid.days) if day in b)
    free_call, free_ext = 0, 0
    for a in problem.agents:
        if a.id in absent:
            continue
        c = problem.contracts[a.contract]
        paid = sum(
            int(float(rows[(a.id, d)].record.get("paid_minutes") or 0))
            for d in block
            if (a.id, d) in rows
        )
        days = sum(1 for d in block if (a.id, d) in rows)
        hi = c.max_minutes_week * len(block) // 7
        if (a.id, day) in rows:
            free_ext += int(paid + step_min <= hi)
        else:
            shortest = min(
                (
                    t.paid_minutes
                    for t in problem.templates
                    if c.allows(t.id) and not _split_ext(t.id)[1]
                ),
                default=None,
            )
            free_call += int(
                shortest is not None and days < c.max_days_week and paid + shortest <= hi
            )
    return {"call_in": free_call, "extend": free_ext}


def repair(
    problem: RosterProblem,
    published: pd.DataFrame,
    absences: tuple[NewAbsence, ...],
    now: pd.Timestamp,
    *,
    settings: CoverSettings = CoverSettings(),
    solve_settings: SolveSettings = DEFAULT_SOLVE,
    scenario: Scenario | None = None,
    full: bool = False,
) -> CoverResult:
    """Repair ``published`` (roster.csv text rows) after ``absences`` from ``now``, changing little.

    ``solve_settings.time_limit_s`` is the whole wall budget [s]: model
    building, the solve (which gets what building left, less a reserve for
    extraction) and extraction. One solve of :func:`build_window`'s model
    (service first, then fewest changed agents, then cost) from the "no
    action" roster as hint. ``full=True`` is the comparison: a re-solve of
    every day from ``now`` on the engine's model with its own objective and no
    change costs (the past still pinned). Raises :class:`InfeasibleError` if
    even the pinned past cannot be kept.
    """
    from dataclasses import replace

    from staffplan.io.team import Absence
    from staffplan.roster.solver import make_solver

    t_start = time.perf_counter()
    agents = {a.id for a in problem.agents}
    for a in absences:
        if a.agent_id not in agents:
            raise InputError(
                "unknown agent",
                column="--absent",
                expected="an agent_id from agents.csv",
                found=a.text or a.agent_id,
            )
    if full:
        return _full_resolve(
            problem, published, absences, now, settings, solve_settings, scenario, t_start
        )
    base = with_overtime(problem, settings, {str(s) for s in published["shift"]})
    prob = relax_absent(
        replace(
            base,
            absences=base.absences
            + tuple(Absence(a.agent_id, a.start, a.end, a.kind) for a in absences),
        ),
        frozenset(a.agent_id for a in absences),
    )
    text = roster_as_text_safe(published)
    rows = parse_rows(prob, text)
    assignment = published_assignment(prob, rows)
    window = _window(prob, absences, now, settings.extra_days)
    target = np.minimum(prob.demand.required, coverage_counts(prob, text, (), assignment))
    focus = (
        target
        > coverage_counts(prob, no_action_roster(prob, text, absences, now), absences, assignment)
    ).any(axis=0)
    b = build_window(prob, rows, window, now, absences, settings, assignment, target, focus)
    for idx, val in b.hint.items():
        b.rm.model.AddHint(b.rm.model.GetIntVarFromProtoIndex(idx), val)
    build_s = time.perf_counter() - t_start
    solver = make_solver(solve_settings, cover_solve_limit(solve_settings, build_s, len(text)))
    t_solve = time.perf_counter()
    code = solver.Solve(b.rm.model)
    solve_s = time.perf_counter() - t_solve
    status = solver.StatusName(code)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise _infeasible(status, absences)
    roster = _extract_window(
        prob, b, lambda v: solver.Value(v) > 0, rows, text, absences, assignment
    )
    model_short = int(sum(solver.Value(s) for s in b.short)) + b.short_const
    if not any((c.date - prob.grid.start).days in window for c in prob.shift_cover):
        roster = prune(
            prob,
            roster,
            no_action_roster(prob, text, absences, now),
            absences,
            assignment,
            target,
            b.lo,
            b.hi,
        )
    return _result(
        prob,
        scenario,
        text,
        roster,
        absences,
        now,
        window,
        assignment,
        b.lo,
        b.hi,
        status,
        t_start,
        build_s,
        solve_s,
        model_short,
        rows,
    )


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
    from staffplan.roster.extract import row_elapsed

    now_e = problem.elapsed(now)
    absent = {a.agent_id for a in absences}
    out = []
    for rec in published.to_dict(orient="records"):
        if str(rec["agent_id"]) not in absent:
            out.append(rec)
            continue
        e0, e1, _ = row_elapsed(problem.grid, rec["start"], rec["end"])
        start, end = (
            problem.origin + pd.Timedelta(minutes=e0),
            problem.origin + pd.Timedelta(minutes=e1),
        )
        if not any(a.agent_id == rec["agent_id"] and a.overlaps(start, end) for a in absences):
            out.append(rec)
        elif e0 < now_e:
            row = _Row(
                str(rec["agent_id"]),
                0,
                "",
                e0,
                e1,
                0,
                (),
                np.zeros(0, dtype=bool),
                {k: ("" if v is None else str(v)) for k, v in rec.items()},
            )
            cut = _cut_started(problem, row, absences)
            if cut is not None:
                out.append(cut)
    return pd.DataFrame(out, columns=published.columns, dtype=object).fillna("")


def prune(
    problem: RosterProblem,
    roster: pd.DataFrame,
    no_action: pd.DataFrame,
    absences: tuple[NewAbsence, ...],
    assignment: np.ndarray,
    target: np.ndarray,
    lo: int,
    hi: int,
) -> pd.DataFrame:
    """Undo every changed agent (then every pair of them) whose changes restore nothing: their rows
    go back to ``no_action``'s.

    A solve stopped by the time limit may keep changes that no longer help.
    Every hard rule is per agent, so putting one agent's rows back as
    published (or as "no action" for an absent agent) keeps the roster
    valid; an undo is taken when the unrestored agent-intervals in [lo, hi)
    (coverage below ``target``) do not grow. Deterministic: agents by id.
    """

    def key(f: pd.DataFrame) -> dict[str, list[tuple[str, ...]]]:
        out: dict[str, list[tuple[str, ...]]] = {}
        cols = [
            c for c in ("date", "shift", "start", "end", "breaks", _ASSIGN_COLUMN) if c in f.columns
        ]
        for r in f[["agent_id", *cols]].itertuples(index=False, name=None):
            out.setdefault(str(r[0]), []).append(
                tuple(str(x) for x in r[1:]) + ("",) * (6 - len(cols))
            )
        return {k: sorted(v) for k, v in out.items()}

    new_rows, old_rows = key(roster), key(no_action)
    changed = sorted(
        a for a in set(new_rows) | set(old_rows) if new_rows.get(a, []) != old_rows.get(a, [])
    )
    if not changed:
        return roster

    def contrib(frame: pd.DataFrame, agent: str) -> np.ndarray:
        return coverage_counts(
            problem, frame[frame["agent_id"].astype(str) == agent], absences, assignment
        )[:, lo:hi]

    tgt = target[:, lo:hi]
    cov = coverage_counts(problem, roster, absences, assignment)[:, lo:hi]
    delta = {a: contrib(no_action, a) - contrib(roster, a) for a in changed}

    def lost(c: np.ndarray) -> int:
        return int((tgt - c).clip(min=0).sum())

    undone: list[str] = []
    base = lost(cov)
    for a in changed:
        if lost(cov + delta[a]) <= base:
            cov = cov + delta[a]
            base = lost(cov)
            undone.append(a)
    left = [a for a in changed if a not in undone]
    for i, a in enumerate(left):
        for b in left[i + 1 :]:
            if a in undone or b in undone:
                continue
            if lost(cov + delta[a] + delta[b]) <= base:
                cov = cov + delta[a] + delta[b]
                base = lost(cov)
                undone += [a, b]
    if not undone:
        return roster
    keep = roster[~roster["agent_id"].astype(str).isin(undone)]
    back = no_action[no_action["agent_id"].astype(str).isin(undone)]
    out = pd.concat([keep, back], ignore_index=True).astype(object).fillna("")
    out["_d"] = out["date"]
    return (
        out.sort_values(["agent_id", "_d"], kind="stable").drop(columns="_d").reset_index(drop=True)
    )


def relax_absent(problem: RosterProblem, absent: frozenset[str]) -> RosterProblem:
    """``problem`` with the contract minimums the new absences themselves break lifted for the
    absent agents.

    Each absent agent gets its own copy of its contract (id ``C|absent A17``)
    without a minimum of paid minutes (week and horizon) and with
    ``min_consecutive_days`` 1: a sick agent's lost hours or broken work
    block are not the repair's to make up, and must not make it infeasible.
    Every maximum, rest and succession rule still holds.
    """
    from dataclasses import replace

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


def _result(
    prob: RosterProblem,
    scenario: Scenario | None,
    published: pd.DataFrame,
    roster: pd.DataFrame,
    absences: tuple[NewAbsence, ...],
    now: pd.Timestamp,
    window: tuple[int, ...],
    assignment: np.ndarray,
    lo: int,
    hi: int,
    status: str,
    t_start: float,
    build_s: float,
    solve_s: float,
    model_short: int | None,
    rows: dict[tuple[str, int], _Row],
    after_assignment: np.ndarray | None = None,
) -> CoverResult:
    """Change log, phone list, service per interval (one coverage definition for before / no action
    / after), gaps and notes.
    """
    log = diff_rosters(published, roster, reason="")
    absent = frozenset(a.agent_id for a in absences)
    why = "cover " + ", ".join(sorted({f"{a.agent_id} ({a.kind})" for a in absences}))
    log["reason"] = [
        ("absent (" + next(a.kind for a in absences if a.agent_id == aid) + ")")
        if aid in absent
        else why
        for aid in log["agent_id"]
    ]
    index = {a.id: i for i, a in enumerate(prob.agents)}
    aq = {a.id: prob.agent_queues(a) for a in prob.agents}
    by_date = {(x.agent, x.record["date"]): x for x in rows.values()}
    for k, r in log.iterrows():  # spell out the published queue spans a reassignment replaces
        row = by_date.get((r["agent_id"], r["date"]))
        if r["new_assignments"] and not r["old_assignments"] and row is not None:
            i = index[r["agent_id"]]
            q = np.where(
                row.on, np.where(assignment[i] >= 0, assignment[i], aq[r["agent_id"]][0]), -1
            )
            log.at[k, "old_assignments"] = _assign_text(prob, q)
    phone = phone_list(log, absent)
    who = tuple(sorted(set(phone["agent_id"])))
    before = coverage_counts(prob, published, (), assignment)
    no_action = coverage_counts(
        prob, no_action_roster(prob, published, absences, now), absences, assignment
    )
    after = coverage_counts(
        prob, roster, absences, assignment if after_assignment is None else after_assignment
    )
    req = prob.demand.required
    sl = [_service_levels(prob, scenario, x) for x in (before, no_action, after)]
    frames = []
    for q, name in enumerate(prob.demand.queues):
        vol = (
            prob.demand.volume[q]
            if prob.demand.volume is not None
            else np.full(prob.grid.n, np.nan)
        )
        frames.append(
            pd.DataFrame(
                {
                    "interval_start": [t.isoformat() for t in prob.grid.starts[lo:hi]],
                    "queue": name,
                    "required": req[q, lo:hi],
                    "scheduled_before": before[q, lo:hi],
                    "scheduled_no_action": no_action[q, lo:hi],
                    "scheduled_after": after[q, lo:hi],
                    "sl_before": sl[0][q, lo:hi],
                    "sl_no_action": sl[1][q, lo:hi],
                    "sl_after": sl[2][q, lo:hi],
                    "volume": np.nan_to_num(vol[lo:hi], nan=0.0),
                }
            )
        )
    service_frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    gaps = _gaps(prob, req, after, lo, hi)
    notes: list[str] = []
    target = np.minimum(req, before)
    for d in window:
        a0, a1 = max(int(prob.grid.day_offsets[d]), lo), min(int(prob.grid.day_offsets[d + 1]), hi)
        lost = (target[:, a0:a1] - after[:, a0:a1]).clip(min=0)
        if a1 <= a0 or lost.sum() <= 0:
            continue
        step = 60
        h = headroom(prob, rows, d, absent, step)
        notes.append(
            f"coverage stays below the published plan on {prob.date(d)} by up to "
            f"{int(lost.max())} agent(s) ({int(lost.sum())} agent-intervals): "
            "the weekly contract limits leave only "
            f"{h['call_in']} agent(s) free to be called in and {h['extend']} to work {step} "
            "min more that week (an extension only adds time at a shift's end; "
            "rest, successions, "
            "availability and the [cover] caps rule out more), and the moves, swaps, break "
            "moves and reassignments left cannot fill the rest"
        )
    total = time.perf_counter() - t_start
    return CoverResult(
        status,
        roster,
        log,
        phone,
        service_frame,
        gaps,
        who,
        total,
        None,
        build_s,
        solve_s,
        model_short,
        tuple(notes),
    )


def _full_resolve(
    problem: RosterProblem,
    published: pd.DataFrame,
    absences: tuple[NewAbsence, ...],
    now: pd.Timestamp,
    settings: CoverSettings,
    solve_settings: SolveSettings,
    scenario: Scenario | None,
    t_start: float,
) -> CoverResult:
    """The comparison: every day from now re-solved on the engine's model with its own objective (no
    change costs, the past pinned).
    """
    from dataclasses import replace

    from staffplan.io.team import Absence
    from staffplan.roster.build import build_model
    from staffplan.roster.extract import assign_queues, extract, on_phone_matrix
    from staffplan.roster.solver import solve

    base = with_overtime(
        problem, replace(settings, max_overtime_min=0), {str(s) for s in published["shift"]}
    )
    prob = relax_absent(
        replace(
            base,
            absences=base.absences
            + tuple(Absence(a.agent_id, a.start, a.end, a.kind) for a in absences),
        ),
        frozenset(a.agent_id for a in absences),
    )
    text = roster_as_text_safe(published)
    pub = published_variants(prob, text)
    window = tuple(
        range(
            max(0, (now.tz_convert(prob.grid.zone).date() - prob.grid.start).days), prob.grid.days
        )
    )
    plan = Plan(pub, window, prob.elapsed(now))
    rm = build_model(prob)
    pin_and_price(rm, plan, frozenset(a.agent_id for a in absences), settings, price=False)
    hint = {(a, d, v): 1 for (a, d), v in pub.items() if (a, d, v) in rm.x}
    build_s = time.perf_counter() - t_start
    result = solve(
        rm,
        replace(solve_settings, time_limit_s=full_resolve_limit(solve_settings, build_s)),
        hint=hint,
    )
    if not result.feasible:
        raise _infeasible(result.status, absences)
    new = extract(prob, rm, result).roster
    roster = _compose(prob, text, new, result.values, plan, absences)
    rows = parse_rows(prob, text)
    assignment = published_assignment(prob, rows)
    # the re-solve's own allocation: every multi-skilled agent re-assigned by the engine's rule
    on = on_phone_matrix(roster, prob.agents, prob.grid)
    gone = _absent_masks(prob, absences)
    for i, a in enumerate(prob.agents):
        if a.id in gone:
            on[i] &= ~gone[a.id]
    fresh = assign_queues(on, [prob.agent_queues(a) for a in prob.agents], prob.demand.required)
    lo = prob.grid.boundary_index(now)
    hi = prob.grid.n
    return _result(
        prob,
        scenario,
        text,
        roster,
        absences,
        now,
        window,
        assignment,
        lo,
        hi,
        result.status,
        t_start,
        build_s,
        result.solve_seconds,
        None,
        rows,
        fresh,
    )


def roster_as_text_safe(roster: pd.DataFrame) -> pd.DataFrame:
    """A roster frame as text cells (see :func:`staffplan.store.roster_as_text`)."""
    return roster_as_text(roster)


def _infeasible(status: str, absences: tuple[NewAbsence, ...]) -> InfeasibleError:
    if status == "UNKNOWN":
        return InfeasibleError(
            "no repair found within the time limit (solver status UNKNOWN)",
            reasons=[
                Reason(
                    "time limit",
                    ", ".join(a.text or a.agent_id for a in absences),
                    "the solver had no time left after building the model",
                    "give a longer --time-limit",
                )
            ],
        )
    return InfeasibleError(
        f"no repair keeps the hard rules (solver status {status})",
        reasons=[
            Reason(
                "pinned past and contracts",
                ", ".join(a.text or a.agent_id for a in absences),
                "the shifts already started and the contract rules leave no roster",
                "give a later --now, a longer --time-limit, or relax [cover] caps",
            )
        ],
    )


def repair_scenario(
    scenario: Scenario,
    published: pd.DataFrame,
    absences: tuple[NewAbsence, ...],
    now: pd.Timestamp,
    *,
    time_limit_s: float = 10.0,
    workers: int | None = None,
    seed: int | None = None,
    deterministic: bool = False,
) -> CoverResult:
    """Load the scenario's problem and ``[cover]`` settings and :func:`repair` ``published``
    (``deterministic``: see ``SolveSettings``).
    """
    from staffplan.roster.load import load_problem

    settings = cover_settings(scenario.section("cover"), file=scenario.path)
    solve_settings = SolveSettings(
        time_limit_s=time_limit_s,
        workers=min(workers or scenario.solver.workers, 2),
        seed=scenario.solver.seed if seed is None else seed,
        deterministic=deterministic,
    )
    return repair(
        load_problem(scenario),
        published,
        absences,
        now,
        settings=settings,
        solve_settings=solve_settings,
        scenario=scenario,
    )
