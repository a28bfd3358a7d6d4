"""Roster rules: one function per business rule.

A hard rule adds constraints (each enforced by ``rm.guard(rule, agent, ...)``
so an infeasible model can name it). A soft rule adds penalty variables and
returns the named :class:`~staffplan.roster.cpmodel.Term` s it created (also
recorded on ``rm.terms``). Interval coverage, the largest soft rule, lives in
:mod:`staffplan.roster.coverage`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence

import numpy as np
from ortools.sat.python import cp_model

from staffplan.io.team import Agent, Contract
from staffplan.roster.coverage import coverage
from staffplan.roster.cpmodel import RosterModel, Term, scaled
from staffplan.roster.problem import (
    base_template,
    ceil_int,
    week_blocks,
    week_bounds,
    weekend_keys,
)

Lit = cp_model.IntVar | int


def _clause(
    rm: RosterModel,
    positives: Sequence[Lit],
    negatives: Sequence[Lit],
    guard: list[cp_model.IntVar],
) -> None:
    """Add OR(positives ∪ ¬negatives), simplifying constant 0/1 literals."""
    lits: list[cp_model.IntVar] = []
    for p in positives:
        if isinstance(p, int):
            if p:
                return
            continue
        lits.append(p)
    for q in negatives:
        if isinstance(q, int):
            if not q:
                return
            continue
        lits.append(q.Not())
    if not lits:
        rm.model.AddBoolOr([rm.model.NewConstant(0)]).OnlyEnforceIf(guard)
        return
    rm.model.AddBoolOr(lits).OnlyEnforceIf(guard)


def _paid(rm: RosterModel, agent: str, days: Sequence[int]) -> cp_model.LinearExprT:
    """Paid minutes of ``agent`` on ``days``: its shift literals plus the shifts kept as is."""
    vs, cs = [], []
    for d in days:
        for v, lit in rm.shifts(agent, d):
            vs.append(lit)
            cs.append(v.paid_minutes)
    fixed = sum(rm.kept[(agent, d)][0] for d in days if (agent, d) in rm.kept)
    return cp_model.LinearExpr.WeightedSum(vs, cs) + fixed if vs else fixed


def absent_days(rm: RosterModel, agent: str) -> set[int]:
    """Horizon days a vacation/sick absence covers from local midnight to midnight."""
    p = rm.problem
    out = set()
    for a in p.absences:
        if a.agent_id != agent or a.kind not in ("vacation", "sick"):
            continue
        s, e = p.elapsed(a.start), p.elapsed(a.end)
        for d in range(p.grid.days):
            d0, d1 = (
                p.start_elapsed(d, 0),
                p.start_elapsed(d + 1, 0)
                if d + 1 < p.grid.days
                else p.elapsed(p.grid.local_midnight(p.grid.end)),
            )
            if s <= d0 and d1 <= e:
                out.add(d)
    return out


def week_limits(rm: RosterModel, agent: Agent) -> list[tuple[range, int, int]]:
    """(days, min, max) paid minutes per planning week [min], pro-rated and reduced for absences.

    :func:`~staffplan.roster.problem.week_bounds` pro-rates a partial last
    week; each whole day of vacation or sickness in the week lowers the
    minimum by a day's share, ``min_minutes_week / max_days_week`` (never below 0).
    """
    p = rm.problem
    c = p.contracts[agent.contract]
    gone = absent_days(rm, agent.id)
    out = []
    for block in week_blocks(p.grid.days):
        lo, hi = week_bounds(c, p.templates, len(block))
        absent = sum(1 for d in block if d in gone)
        share = c.min_minutes_week / max(c.max_days_week, 1)
        out.append((block, max(ceil_int(lo - absent * share), 0), hi))
    return out


def _fewest_shifts(
    rm: RosterModel, agent: str, days: Sequence[int], lo: int, g: list[cp_model.IntVar]
) -> None:
    """Redundant: at least ``ceil(lo / longest paid shift)`` paid shifts on ``days`` (implied by
    ``paid >= lo``).

    The Chvátal–Gomory rounding of the minimum-minutes row: integer rosters
    meet it anyway, but the LP relaxation (:mod:`staffplan.roster.relax`) and
    column generation's master would otherwise cover a minimum of 37.5 h with
    4.7 shifts of 8 h, and bound the labour cost a shift per agent too low.
    """
    lits = [
        (v.paid_minutes, lit) for d in days for v, lit in rm.shifts(agent, d) if v.paid_minutes > 0
    ]
    if not lits or lo <= 0:
        return
    n = -(-lo // max(m for m, _ in lits))
    if n > 1:
        rm.model.Add(sum(lit for _, lit in lits) >= n).OnlyEnforceIf(g)


def weekly_minutes(rm: RosterModel) -> None:
    """Hard: paid minutes per planning week within the contract's [min, max] (with the fewest shifts
    that allows, redundantly).
    """
    for a in rm.problem.agents:
        for k, (block, lo, hi) in enumerate(week_limits(rm, a)):
            paid = _paid(rm, a.id, block)
            g = rm.guard("weekly paid minutes", a.id, f"week {k + 1}")
            rm.model.Add(paid <= hi).OnlyEnforceIf(g)
            if lo > 0:
                rm.model.Add(paid >= lo).OnlyEnforceIf(g)
                _fewest_shifts(rm, a.id, block, lo, g)


def weekly_days(rm: RosterModel) -> None:
    """Hard: working days per planning week at most ``max_days_week``."""
    for a in rm.problem.agents:
        c = rm.problem.contracts[a.contract]
        for k, block in enumerate(week_blocks(rm.problem.grid.days)):
            ws = [rm.work[(a.id, d)] for d in block if (a.id, d) in rm.work]
            fixed = sum(1 for d in block if (a.id, d) in rm.kept)
            if len(ws) + fixed > c.max_days_week:
                rm.model.Add(sum(ws) + fixed <= c.max_days_week).OnlyEnforceIf(
                    rm.guard("max days per week", a.id, f"week {k + 1}")
                )


def horizon_minutes(rm: RosterModel) -> None:
    """Hard: paid minutes over the horizon within optional [min_minutes_horizon,
    max_minutes_horizon].
    """
    days = range(rm.problem.grid.days)
    for a in rm.problem.agents:
        c = rm.problem.contracts[a.contract]
        if c.min_minutes_horizon is None and c.max_minutes_horizon is None:
            continue
        paid = _paid(rm, a.id, days)
        g = rm.guard("paid minutes over the horizon", a.id)
        if c.max_minutes_horizon is not None:
            rm.model.Add(paid <= c.max_minutes_horizon).OnlyEnforceIf(g)
        if c.min_minutes_horizon:
            rm.model.Add(paid >= c.min_minutes_horizon).OnlyEnforceIf(g)
            _fewest_shifts(rm, a.id, days, c.min_minutes_horizon, g)


def trailing_days(rm: RosterModel, agent: str) -> int:
    """Consecutive days the agent worked right before the horizon (from ``previous_roster``)."""
    worked = {s.date for s in rm.problem.previous if s.agent_id == agent}
    k, d = 0, rm.problem.grid.start - dt.timedelta(days=1)
    while d in worked:
        k += 1
        d -= dt.timedelta(days=1)
    return k


def max_consecutive(rm: RosterModel) -> None:
    """Hard: at most ``max_consecutive_days`` working days in a row (counting the previous
    roster).
    """
    days = rm.problem.grid.days
    for a in rm.problem.agents:
        mc = rm.problem.contracts[a.contract].max_consecutive_days
        g = rm.guard("max consecutive days", a.id)
        w = [rm.worked(a.id, d) for d in range(days)]
        for s in range(0, days - mc):
            _clause(rm, [], w[s : s + mc + 1], g)
        k = trailing_days(rm, a.id)
        if k:
            first = w[: max(mc - k + 1, 1)]
            if k >= mc:
                for lit in first[:1]:
                    _clause(rm, [], [lit], g)
            elif len(first) == mc - k + 1:
                _clause(rm, [], first, g)


def _min_run(
    rm: RosterModel, rule: str, minimum_of: Callable[[Contract], int], working: bool
) -> None:
    """Forbid interior runs shorter than the contract's minimum: of worked days (``working``) or of
    days off.

    A run from day s of ``length`` days, bordered on both sides by the opposite
    state, is cut by one clause; runs touching the horizon's ends are exempt.
    """
    days = rm.problem.grid.days
    for a in rm.problem.agents:
        m = minimum_of(rm.problem.contracts[a.contract])
        if m <= 1:
            continue
        g = rm.guard(rule, a.id)
        w = [rm.worked(a.id, d) for d in range(days)]
        for s in range(1, days):
            for length in range(1, m):
                if s + length > days - 1:
                    break
                run, borders = w[s : s + length], [w[s - 1], w[s + length]]
                if working:
                    _clause(rm, borders, run, g)
                else:
                    _clause(rm, run, borders, g)


def min_consecutive(rm: RosterModel) -> None:
    """Hard: work blocks not touching the horizon's ends last at least ``min_consecutive_days``."""
    _min_run(rm, "min consecutive days", lambda c: c.min_consecutive_days, working=True)


def min_days_off(rm: RosterModel) -> None:
    """Hard: runs of days off not touching the horizon's ends last at least
    ``min_days_off_in_row``.
    """
    _min_run(rm, "min days off in a row", lambda c: c.min_days_off_in_row, working=False)


def rest_cliques(
    ends: Sequence[int], starts: Sequence[int], rest: int
) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Cliques of shifts on two days that no roster may combine: (shifts of the first day, shifts
    of the later day), by index.

    A shift ending at ``ends[i]`` and a later one starting at ``starts[j]`` [elapsed min] clash
    when ``starts[j] − ends[i] < rest``. For a threshold ``τ`` (a start of the later day), every
    first-day shift with ``ends[i] + rest > τ`` clashes with every later shift with
    ``starts[j] ≤ τ``: since each day has at most one shift, "at most one of them" is a valid
    clique, and the thresholds cover every clashing pair. A clique whose first-day part equals the
    next threshold's is contained in it and dropped.
    """
    e = np.asarray(ends, dtype=np.int64) + int(rest)
    s = np.asarray(starts, dtype=np.int64)
    taus = np.unique(s)
    out: list[tuple[tuple[int, ...], tuple[int, ...]]] = []
    counts = [int((e > t).sum()) for t in taus]
    for k, t in enumerate(taus):
        if counts[k] == 0 or (k + 1 < len(taus) and counts[k + 1] == counts[k]):
            continue
        first = tuple(int(i) for i in np.flatnonzero(e > t))
        later = tuple(int(j) for j in np.flatnonzero(s <= t))
        out.append((first, later))
    return out


def rest_and_successions(rm: RosterModel) -> None:
    """Hard: minimum rest between shifts (and no overlap), forbidden template successions, across
    the boundary too.

    Rest is a clique per clash threshold (:func:`rest_cliques`, at most one of the clashing shifts
    of two days), which is both smaller and tighter in the LP than a rest row per pair of days;
    cliques are computed once per distinct pair of option lists and shared by the agents.
    Succession: per day and template, at most one of that template and the templates that may not
    follow it the next day.
    """
    p = rm.problem
    days = p.grid.days
    tmpl = p.template_by_id
    cliques: dict[tuple, list[tuple[tuple[int, ...], tuple[int, ...]]]] = {}
    for a in p.agents:
        c = p.contracts[a.contract]
        rest = int(round(c.min_rest_hours * 60))
        g = rm.guard("minimum rest between shifts", a.id)
        gs = rm.guard("forbidden shift succession", a.id)
        opts = [rm.shifts(a.id, d) for d in range(days)]
        ids = [tuple(v.id for v, _ in o) for o in opts]
        ends = [[rm.elapsed[(d, v.id)][1] for v, _ in o] for d, o in enumerate(opts)]
        starts = [[rm.elapsed[(d, v.id)][0] for v, _ in o] for d, o in enumerate(opts)]
        for d in range(days):
            if not opts[d]:
                continue
            max_end = max(ends[d])
            for e in range(d + 1, min(d + 4, days)):
                if not opts[e] or min(starts[e]) - max_end >= rest:
                    continue
                key = (d, e, ids[d], ids[e], rest)
                if key not in cliques:
                    cliques[key] = rest_cliques(ends[d], starts[e], rest)
                for first, later in cliques[key]:
                    lits = [opts[d][i][1] for i in first] + [opts[e][j][1] for j in later]
                    rm.model.Add(cp_model.LinearExpr.Sum(lits) <= 1).OnlyEnforceIf(g)
        for d in range(days - 1):
            if not opts[d] or not opts[d + 1]:
                continue
            by_t: dict[str, list[cp_model.IntVar]] = defaultdict(list)
            nxt: dict[str, list[cp_model.IntVar]] = defaultdict(list)
            for v, x in opts[d]:
                by_t[v.template].append(x)
            for v, x in opts[d + 1]:
                nxt[v.template].append(x)
            for t in sorted(by_t):
                banned = [
                    x for u in dict.fromkeys(tmpl[t].not_followed_by) if u in nxt for x in nxt[u]
                ]
                if banned:
                    rm.model.Add(cp_model.LinearExpr.Sum(by_t[t] + banned) <= 1).OnlyEnforceIf(gs)
        for (agent, d), (_, end) in rm.kept.items():  # rest after a shift kept as it is
            if agent != a.id:
                continue
            for e in range(d + 1, min(d + 4, days)):
                for v, x in opts[e]:
                    if rm.elapsed[(e, v.id)][0] - end < rest:
                        rm.model.Add(x == 0).OnlyEnforceIf(g)
        prev = [s for s in p.previous if s.agent_id == a.id]
        if prev:
            last = max(prev, key=lambda s: s.end)
            end = p.elapsed(last.end)
            gp = rm.guard("rest after the previous roster", a.id)
            for d in range(min(3, days)):
                for v, x in opts[d]:
                    s0 = rm.elapsed[(d, v.id)][0]
                    banned_v = s0 - end < rest
                    if (
                        d == 0
                        and last.date == p.grid.start - dt.timedelta(days=1)
                        and last.template in tmpl
                    ):
                        banned_v = banned_v or v.template in tmpl[last.template].not_followed_by
                    if banned_v:
                        rm.model.Add(x == 0).OnlyEnforceIf(gp)


def weekend_vars(rm: RosterModel, agent: str) -> list[cp_model.IntVar]:
    """One literal per weekend in the horizon: the agent works Saturday or Sunday."""
    key = f"weekends[{agent}]"
    if key not in rm.cache:
        out = []
        for wk, ds in sorted(weekend_keys(rm.problem).items()):
            ws = [rm.work[(agent, d)] for d in ds if (agent, d) in rm.work]
            if any((agent, d) in rm.kept for d in ds):
                ws = [rm.model.NewConstant(1)]
            if not ws:
                continue
            v = rm.model.NewBoolVar(f"weekend[{agent},{dt.date.fromordinal(wk)}]")
            rm.model.AddMaxEquality(v, ws)
            out.append(v)
        rm.cache[key] = out
    return rm.cache[key]  # type: ignore[return-value]


def max_weekends(rm: RosterModel) -> None:
    """Hard: weekends worked over the horizon at most ``max_weekends``."""
    for a in rm.problem.agents:
        m = rm.problem.contracts[a.contract].max_weekends
        if m is None:
            continue
        wv = weekend_vars(rm, a.id)
        if len(wv) > m:
            rm.model.Add(sum(wv) <= m).OnlyEnforceIf(rm.guard("max weekends", a.id))


def template_limits(rm: RosterModel) -> None:
    """Hard: each template worked at most ``max_shifts`` times over the horizon (overtime extensions
    ``T+m`` count as ``T``).
    """
    known = rm.problem.template_by_id
    base = {v.template: base_template(v.template, known) for v in rm.problem.variants}
    for a in rm.problem.agents:
        limits = rm.problem.contracts[a.contract].max_shifts
        if not limits:
            continue
        by_t: dict[str, list[cp_model.IntVar]] = defaultdict(list)
        for d in range(rm.problem.grid.days):
            for v, x in rm.shifts(a.id, d):
                if v.template not in base:
                    base[v.template] = base_template(v.template, known)
                by_t[base[v.template]].append(x)
        for t, n in limits:
            xs = by_t.get(t, [])
            if len(xs) > n:
                rm.model.Add(cp_model.LinearExpr.Sum(xs) <= n).OnlyEnforceIf(
                    rm.guard("max shifts per template", a.id, t)
                )


def labour_cost(rm: RosterModel) -> list[Term]:
    """Soft: ``cost`` weight × hourly_cost × paid hours of every shift."""
    w = rm.problem.weights.cost
    terms: list[Term] = []
    if w <= 0:
        return terms
    for a in rm.problem.agents:
        if a.hourly_cost <= 0:
            continue
        for d in range(rm.problem.grid.days):
            for v, x in rm.shifts(a.id, d):
                terms.append(
                    rm.add_term(
                        "cost",
                        f"cost[{a.id},{d},{v.id}]",
                        x,
                        scaled(w * a.hourly_cost * v.paid_minutes / 60),
                    )
                )
    return terms


def _template_lits(
    rm: RosterModel, agent: str, day: int, template: str | None
) -> list[cp_model.IntVar]:
    return [x for v, x in rm.shifts(agent, day) if template is None or v.template == template]


def preferences(rm: RosterModel) -> list[Term]:
    """Soft: each broken preference costs ``preference`` weight × its weight."""
    p = rm.problem
    terms: list[Term] = []
    if p.weights.preference <= 0:
        return terms
    for pref in p.preferences:
        day = (pref.date - p.grid.start).days
        if not 0 <= day < p.grid.days or pref.weight == 0:
            continue
        lits = _template_lits(rm, pref.agent_id, day, None if pref.kind == "off" else pref.template)
        name = f"preference[{pref.agent_id},{pref.date},{pref.kind},{pref.template or '*'}]"
        broken = rm.model.NewBoolVar(name)
        if pref.kind == "on":
            rm.model.Add(sum(lits) + broken == 1)
        else:
            rm.model.Add(sum(lits) == broken)
        terms.append(
            rm.add_term("preference", name, broken, scaled(p.weights.preference * pref.weight))
        )
    return terms


def _spread(
    rm: RosterModel, name: str, counts: list[cp_model.LinearExprT], ub: int
) -> cp_model.IntVar:
    mx = rm.model.NewIntVar(0, ub, f"max_{name}")
    mn = rm.model.NewIntVar(0, ub, f"min_{name}")
    for c in counts:
        rm.model.Add(mx >= c)
        rm.model.Add(mn <= c)
    spread = rm.model.NewIntVar(0, ub, f"spread_{name}")
    rm.model.Add(spread == mx - mn)
    return spread


def fairness(rm: RosterModel) -> list[Term]:
    """Soft: weekends worked and late shifts spread evenly — ``fairness`` × (max − min) per
    contract.
    """
    p = rm.problem
    terms: list[Term] = []
    if p.weights.fairness <= 0:
        return terms
    by_contract: dict[str, list[Agent]] = defaultdict(list)
    for a in p.agents:
        by_contract[a.contract].append(a)
    late = {t.id for t in p.templates if t.late}
    for cid in sorted(by_contract):
        members = by_contract[cid]
        if len(members) < 2:
            continue
        weekends = [sum(weekend_vars(rm, a.id)) for a in members]
        n_we = len(weekend_keys(p))
        if n_we:
            s = _spread(rm, f"weekends[{cid}]", weekends, n_we)
            terms.append(rm.add_term("fairness", s.Name(), s, scaled(p.weights.fairness)))
        if late:
            lates = [
                sum(
                    x
                    for d in range(p.grid.days)
                    for v, x in rm.shifts(a.id, d)
                    if v.template in late
                )
                for a in members
            ]
            s = _spread(rm, f"late[{cid}]", lates, p.grid.days)
            terms.append(rm.add_term("fairness", s.Name(), s, scaled(p.weights.fairness)))
    return terms


def shift_cover(rm: RosterModel) -> list[Term]:
    """Soft: day-level cover per (date, template[, skill]); each missing/surplus agent costs its
    row's weight.
    """
    p = rm.problem
    terms: list[Term] = []
    by_day: dict[int, dict[str, list[tuple[Agent, cp_model.IntVar]]]] = {}
    for c in p.shift_cover:
        day = (c.date - p.grid.start).days
        if not 0 <= day < p.grid.days:
            continue
        if day not in by_day:  # (agent, literal) per template of the day, in agent order
            by_day[day] = defaultdict(list)
            for a in p.agents:
                for v, x in rm.shifts(a.id, day):
                    by_day[day][v.template].append((a, x))
        lits = [
            x for a, x in by_day[day].get(c.template, []) if c.skill is None or c.skill in a.skills
        ]
        count = cp_model.LinearExpr.Sum(lits) if lits else 0
        key = f"{c.date},{c.template}" + (f",{c.skill}" if c.skill else "")
        if c.under_weight > 0 and c.required > 0:
            u = rm.model.NewIntVar(0, c.required, f"cover_under[{key}]")
            rm.model.Add(count + u >= c.required)
            terms.append(rm.add_term("shift_cover", u.Name(), u, scaled(c.under_weight)))
        if c.over_weight > 0 and lits:
            o = rm.model.NewIntVar(0, len(lits), f"cover_over[{key}]")
            rm.model.Add(o >= count - c.required)
            terms.append(rm.add_term("shift_cover", o.Name(), o, scaled(c.over_weight)))
    return terms


HARD_RULES: tuple[Callable[[RosterModel], None], ...] = (
    weekly_minutes,
    weekly_days,
    horizon_minutes,
    max_consecutive,
    min_consecutive,
    min_days_off,
    rest_and_successions,
    max_weekends,
    template_limits,
)
SOFT_RULES: tuple[Callable[[RosterModel], list[Term]], ...] = (
    coverage,
    labour_cost,
    preferences,
    fairness,
    shift_cover,
)
