"""One agent's hard rules over a schedule, checked in Python for the local search's moves.

A schedule is a list, per horizon day, of an option index or :data:`OFF`.
:class:`AgentRules` mirrors :mod:`staffplan.roster.rules` (a test brute-forces
that it accepts exactly what the CP-SAT model accepts).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from staffplan.io.team import Agent
from staffplan.roster.cpmodel import RosterModel
from staffplan.roster.problem import weekend_keys
from staffplan.roster.rules import trailing_days, week_limits

Key = tuple[str, int, str]
"""(agent id, day, variant id): a shift literal of ``rm.x``."""
BreakKey = tuple[tuple[int, ...], int, str, int]
"""(skill group's queues, day, variant id, break plan): a count of ``rm.breaks``."""
OFF = -1
"""A day off in a schedule."""


@dataclass(frozen=True)
class Option:
    """One shift an agent may work on a day: literal key, paid minutes, elapsed start/end [min],
    on-phone intervals.
    """

    key: Key
    paid: int
    start: int
    end: int
    template: str
    base: str
    late: bool
    on: frozenset[int]
    cost: int
    rows: tuple[int, ...]
    plan: int = 0
    """Break plan (index into ``rm.plan_holes[(day, variant)]``); options of one shift differing
    only here are adjacent.
    """


class AgentRules:
    """One agent's hard rules over a schedule (a list, per horizon day, of an option index or OFF).

    Mirrors :mod:`staffplan.roster.rules`: weekly paid minutes and days,
    horizon minutes, max/min consecutive days, min days off in a row, rest
    between shifts (up to three days apart) and forbidden successions,
    max weekends and per-template caps. Bans that involve the previous
    roster are removed from the options up front.
    """

    def __init__(self, rm: RosterModel, agent: Agent, options: list[list[Option]]) -> None:
        p = rm.problem
        c = p.contracts[agent.contract]
        self.days = p.grid.days
        self.options = options
        self.weeks = [(tuple(b), lo, hi) for b, lo, hi in week_limits(rm, agent)]
        self.max_days = c.max_days_week
        self.h_min = c.min_minutes_horizon or 0
        self.h_max = c.max_minutes_horizon
        self.mc = c.max_consecutive_days
        self.trail = trailing_days(rm, agent.id)
        self.min_on = c.min_consecutive_days
        self.min_off = c.min_days_off_in_row
        self.rest = int(round(c.min_rest_hours * 60))
        self.forbidden = {(t.id, u) for t in p.templates for u in t.not_followed_by}
        wk = weekend_keys(p)
        self.weekends = [tuple(ds) for _, ds in sorted(wk.items()) if any(options[d] for d in ds)]
        self.max_weekends = (
            c.max_weekends
            if c.max_weekends is not None and len(self.weekends) > c.max_weekends
            else None
        )
        caps = {}
        for t, n in c.max_shifts:
            count = sum(1 for d in range(self.days) for o in options[d] if o.base == t)
            if count > n:
                caps[t] = n
        self.caps = caps

    def ok(self, s: list[int]) -> bool:
        """True if schedule ``s`` keeps every rule."""
        opts = self.options
        days = self.days
        w = [k != OFF for k in s]
        paid = [opts[d][s[d]].paid if w[d] else 0 for d in range(days)]
        for block, lo, hi in self.weeks:
            m = sum(paid[d] for d in block)
            if m > hi or m < lo:
                return False
            if sum(w[d] for d in block) > self.max_days:
                return False
        if self.h_min or self.h_max is not None:
            m = sum(paid)
            if m < self.h_min or (self.h_max is not None and m > self.h_max):
                return False
        mc = self.mc
        run = self.trail
        for d in range(days):
            run = run + 1 if w[d] else 0
            if run > mc:
                return False
        if self.min_on > 1 and not _runs_ok(w, True, self.min_on):
            return False
        if self.min_off > 1 and not _runs_ok(w, False, self.min_off):
            return False
        rest = self.rest
        forbidden = self.forbidden
        for d in range(days):
            if not w[d]:
                continue
            o = opts[d][s[d]]
            for e in range(max(d - 3, 0), d):  # the rule looks up to three days back
                if w[e] and o.start - opts[e][s[e]].end < rest:
                    return False
            if (
                d > 0
                and w[d - 1]
                and forbidden
                and (opts[d - 1][s[d - 1]].template, o.template) in forbidden
            ):
                return False
        if (
            self.max_weekends is not None
            and sum(1 for ds in self.weekends if any(w[d] for d in ds)) > self.max_weekends
        ):
            return False
        if self.caps:
            counts: dict[str, int] = defaultdict(int)
            for d in range(days):
                if w[d]:
                    counts[opts[d][s[d]].base] += 1
            if any(counts[t] > n for t, n in self.caps.items()):
                return False
        return True


def _runs_ok(w: list[bool], working: bool, m: int) -> bool:
    """No interior run (not touching the horizon's ends) of ``working`` days shorter than ``m``."""
    days = len(w)
    d = 0
    while d < days:
        if w[d] != working:
            d += 1
            continue
        e = d
        while e < days and w[e] == working:
            e += 1
        if d > 0 and e < days and e - d < m:
            return False
        d = e
    return True
