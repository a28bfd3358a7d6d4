"""Local search over whole shifts: simulated annealing with exact incremental costs.

CP-SAT sub-solves cost 0.2 s or more each on a week of 15-minute intervals,
whatever their size; this search makes tens of thousands of small moves a
second instead. A move changes one agent's shift on one day (another start,
template or break plan), moves a working day to a day off, adds or drops a day, or
swaps two agents' shifts on a day; half the moves are aimed at the (queue,
interval) pairs whose next agent is worth most. Each move is checked against the moving
agents' own hard rules (:class:`AgentRules`, the same rules as
:mod:`staffplan.roster.rules`) and priced exactly, in the objective's integer
units (coefficients × SCALE):

* interval coverage per queue from a cost table per (queue, interval) — the
  under-coverage segments, over-coverage and minimum floors of
  :func:`staffplan.roster.rules.coverage` — with multi-skilled agents
  allocated to queues optimally: adding or removing one on-phone agent moves
  allocations along the cheapest augmenting path (the costs are convex, so
  the allocation stays optimal after every step, as CP-SAT's would be);
* break plans (``rm.breaks``): each agent's option is a shift *and* a break
  plan, so the counts per (group, shift, plan) the model has follow from the
  schedule, and :meth:`Search.hint` returns them with the literals;
* labour cost and preferences, linear in the shifts;
* fairness spreads (weekends, late shifts per contract) and day-level shift
  cover, from counts.

Only the rules and terms that :func:`staffplan.roster.build.build_model`
creates are known here: a model with other terms (e.g. cover repair's) is
not searched (:func:`searchable`). The result is a literal hint; callers
complete it with CP-SAT (:func:`staffplan.roster.solve.complete_hint`),
which re-checks every rule.

Deterministic: with ``max_moves`` the run depends only on the start and
the seed. :func:`search_chains` runs one chain per core (forked) and keeps the best.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import itertools
import math
import multiprocessing
import random
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection

from staffplan.io.team import Agent
from staffplan.roster.build import RosterModel, plans_in_order, scaled
from staffplan.roster.model import SCALE, base_template, weekend_keys
from staffplan.roster.rules import UNDER_SEGMENTS, trailing_days, under_segments, week_limits

Key = tuple[str, int, str]
BreakKey = tuple[tuple[int, ...], int, str, int]
"""(skill group's queues, day, variant id, break plan): a count of ``rm.breaks``."""
OFF = -1
KNOWN_RULES = frozenset(
    {"under_coverage", "over_coverage", "cost", "preference", "fairness", "shift_cover"}
)
#: share of moves aimed at an under-covered (queue, interval)
TARGETED = 0.5
#: deterministic runs: moves per second of budget (about what one core makes on a 150-agent week)
MOVES_PER_S = 20_000
# : a run makes at most this many moves per (agent, day, shift option): small models stop long
# before their budget
PASSES = 300
#: cost of one agent-interval below a hard minimum floor [objective units × SCALE]
FLOOR_PENALTY = 10**12


def searchable(rm: RosterModel) -> bool:
    """True if every objective term comes from the standard soft rules (so the search prices the
    objective exactly)
    and some of them price interval coverage (what the targeted moves aim at; models of day-level
    cover alone, like
    the Curtois instances, are better served by column generation and best responses)."""
    return all(t.rule in KNOWN_RULES for t in rm.terms) and any(
        t.rule in ("under_coverage", "over_coverage") for t in rm.terms
    )


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


class Coverage:
    """On-phone counts per queue and interval with an optimal allocation of multi-skilled agents,
    and its cost.

    ``add(g, t)``/``remove(g, t)`` change group ``g``'s on-phone agents at
    interval ``t`` by one and return the change in cost [objective units ×
    SCALE]; the allocation follows the cheapest augmenting path, which keeps
    it optimal because every queue's cost is convex in its coverage.
    """

    def __init__(
        self, tables: list[list[list[int]]], groups: list[tuple[int, ...]], n: int
    ) -> None:
        nq = len(tables)
        self.tab = tables
        self.groups = groups
        self.cov = [[0] * n for _ in range(nq)]
        self.multi = [len(g) > 1 for g in groups]
        self.alloc: list[list[list[int]] | None] = [
            [[0] * nq for _ in range(n)] if len(g) > 1 else None for g in groups
        ]
        self.serving = [
            [h for h, g in enumerate(groups) if len(g) > 1 and q in g] for q in range(nq)
        ]
        # queues a unit of each group can reach through reallocations of multi-skilled agents
        self.component: list[tuple[int, ...]] = []
        for g in groups:
            seen = set(g)
            stack = list(g)
            while stack:
                q = stack.pop()
                for h in self.serving[q]:
                    for q2 in groups[h]:
                        if q2 not in seen:
                            seen.add(q2)
                            stack.append(q2)
            self.component.append(tuple(sorted(seen)))
        self.others = [
            tuple(q for q in comp if q not in g)
            for comp, g in zip(self.component, groups, strict=True)
        ]

    def cost(self) -> int:
        return sum(
            tq[t][c] for tq, cq in zip(self.tab, self.cov, strict=True) for t, c in enumerate(cq)
        )

    def _direct(self, g: int, t: int, step: int) -> tuple[int, int] | None:
        """(cost change, queue) of adding (``step`` +1) or removing (−1) one of group ``g``'s agents
        at ``t`` on one
        of its own queues; None when another queue reachable by reallocating multi-skilled agents
        might be cheaper."""
        cov = self.cov
        tab = self.tab
        ag = self.alloc[g][t] if step < 0 and self.multi[g] else None  # type: ignore[index]
        best, bq = None, -1
        for q in self.groups[g]:
            if ag is not None and ag[q] == 0:
                continue
            tb = tab[q][t]
            c = cov[q][t]
            d = tb[c + step] - tb[c]
            if best is None or d < best:
                best, bq = d, q
        for q in self.others[g] if step > 0 else self.component[g]:
            if q == bq:
                continue
            tb = tab[q][t]
            c = cov[q][t]
            if c + step >= 0 and tb[c + step] - tb[c] < best:  # type: ignore[operator]
                return None
        return best, bq  # type: ignore[return-value]

    def add(self, g: int, t: int) -> int:
        return self.step(g, t, 1)

    def remove(self, g: int, t: int) -> int:
        return self.step(g, t, -1)

    def step(self, g: int, t: int, step: int) -> int:
        """One more (``step`` +1) or one fewer (−1) of group ``g``'s agents on the phones at ``t``:
        the change in cost.
        """
        direct = self._direct(g, t, step)
        if direct is None:
            return self._augment(g, t, step)
        best, q = direct
        self.cov[q][t] += step
        if self.multi[g]:
            self.alloc[g][t][q] += step  # type: ignore[index]
        return best

    def peek(
        self, g: int, adds: frozenset[int] | set[int], removes: frozenset[int] | set[int]
    ) -> int:
        """The cost change of adding group ``g``'s agent at ``adds`` and removing one at ``removes``
        (disjoint
        intervals: each is priced on its own), without changing anything."""
        # the loop of _direct, inlined: this is the search's hot path (a call per interval costs a
        # quarter of the moves)
        cov = self.cov
        tab = self.tab
        groups = self.groups[g]
        ags = self.alloc[g] if self.multi[g] else None
        total = 0
        for step, ts, rivals in ((1, adds, self.others[g]), (-1, removes, self.component[g])):
            for t in ts:
                ag = ags[t] if step < 0 and ags is not None else None  # type: ignore[index]
                best, bq = None, -1
                for q in groups:
                    if ag is not None and ag[q] == 0:
                        continue
                    tb = tab[q][t]
                    c = cov[q][t]
                    d = tb[c + step] - tb[c]
                    if best is None or d < best:
                        best, bq = d, q
                for q in rivals:
                    if q != bq:
                        tb = tab[q][t]
                        c = cov[q][t]
                        if c + step >= 0 and tb[c + step] - tb[c] < best:  # type: ignore[operator]
                            best = self._reach(g, t, step > 0)
                            break
                total += best  # type: ignore[operator]
        return total

    def _tree(self, g: int, t: int, step: int) -> dict[int, tuple[int, int] | None]:
        """Queues one more (``step`` +1) or one fewer (−1) of group ``g``'s agents at ``t`` can end
        up changing,
        each with the link that reaches it: (group h, queue) — h moves one agent from that queue
        (adding) or to it (removing)."""
        alloc = self.alloc
        groups = self.groups
        if step > 0 or not self.multi[g]:
            roots: list[int] | tuple[int, ...] = groups[g]
        else:
            ag = alloc[g][t]  # type: ignore[index]
            roots = [q for q in groups[g] if ag[q] > 0]
        parent: dict[int, tuple[int, int] | None] = dict.fromkeys(roots)
        stack = list(roots)
        while stack:
            q1 = stack.pop()
            for h in self.serving[q1]:
                ah = alloc[h][t]  # type: ignore[index]
                if step > 0 and ah[q1] == 0:
                    continue
                for q2 in groups[h]:
                    if q2 not in parent and (step > 0 or ah[q2] > 0):
                        parent[q2] = (h, q1)
                        stack.append(q2)
        return parent

    def _cheapest(
        self, parent: dict[int, tuple[int, int] | None], t: int, step: int
    ) -> tuple[int, int]:
        """(cost change, queue) of the cheapest queue in ``parent`` to change by ``step`` at ``t``
        (ties: the lowest queue).
        """
        best, bq = None, -1
        for q in sorted(parent):
            tb = self.tab[q][t]
            c = self.cov[q][t]
            d = tb[c + step] - tb[c]
            if best is None or d < best:
                best, bq = d, q
        return best, bq  # type: ignore[return-value]

    def _reach(self, g: int, t: int, adding: bool) -> int:
        """The cheapest cost change of adding (removing) one of group ``g``'s agents at ``t`` over
        every augmenting path, without applying it.
        """
        step = 1 if adding else -1
        return self._cheapest(self._tree(g, t, step), t, step)[0]

    def _augment(self, g: int, t: int, step: int) -> int:
        """Add (``step`` +1) or remove (−1) one of group ``g``'s agents at ``t`` along the cheapest
        augmenting path.
        """
        parent = self._tree(g, t, step)
        best, q = self._cheapest(parent, t, step)
        self.cov[q][t] += step
        while (link := parent[q]) is not None:
            h, prev = link
            ah = self.alloc[h][t]  # type: ignore[index]
            ah[prev] -= step
            ah[q] += step
            q = prev
        if self.multi[g]:
            self.alloc[g][t][q] += step  # type: ignore[index]
        return best


def coverage_tables(
    rm: RosterModel, coverable: list[set[int]], caps: list[int]
) -> list[list[list[int]]]:
    """Cost [objective units × SCALE] of 0..cap on-phone agents per (queue, interval), as
    :func:`~staffplan.roster.rules.coverage` prices it.
    """
    p = rm.problem
    dem = p.demand
    w_under, w_over = p.weights.under_coverage, p.weights.over_coverage
    over = scaled(w_over) if w_over > 0 else 0
    out = []
    for q in range(len(dem.queues)):
        rows = []
        cap = caps[q]
        for t in range(p.grid.n):
            if t not in coverable[q]:
                rows.append([0] * (cap + 2))
                continue
            r = int(dem.required[q, t])
            mn = int(dem.minimum[q, t])
            segs = (
                under_segments(dem.step_costs[q, t, :r], w_under, UNDER_SEGMENTS)
                if r > 0 and w_under > 0
                else []
            )
            row = []
            for c in range(cap + 2):
                missing = max(r - c, 0)
                cost = 0
                for size, coef in segs:  # cheapest segments fill first (costs are non-decreasing)
                    take = min(size, missing)
                    cost += take * coef
                    missing -= take
                cost += over * max(c - r, 0)
                cost += FLOOR_PENALTY * max(mn - c, 0)
                row.append(cost)
            rows.append(row)
        out.append(rows)
    return out


class Search:
    """The search state: every agent's schedule, coverage, counts and the objective [objective units
    × SCALE].
    """

    def __init__(self, rm: RosterModel, start: Mapping[Key, int]) -> None:
        p = rm.problem
        self.rm = rm
        dem = p.demand
        nq, n, days = len(dem.queues), p.grid.n, p.grid.days
        self.days = days
        w = p.weights
        known = p.template_by_id
        late_t = {t.id for t in p.templates if t.late}
        # shift-cover rows: (day, template, skill, required, under coef, over coef)
        self.cover_rows: list[tuple[int, int, int]] = []
        row_of: dict[tuple[int, str], list[tuple[int, str | None]]] = defaultdict(list)
        for c in p.shift_cover:
            day = (c.date - p.grid.start).days
            if not 0 <= day < days:
                continue
            under = scaled(c.under_weight) if c.under_weight > 0 and c.required > 0 else 0
            over = scaled(c.over_weight) if c.over_weight > 0 else 0
            row_of[(day, c.template)].append((len(self.cover_rows), c.skill))
            self.cover_rows.append((c.required, under, over))
        self.cover_count = [0] * len(self.cover_rows)
        prefs: dict[tuple[str, int], list[tuple[str, str | None, int]]] = defaultdict(list)
        if w.preference > 0:
            for pref in p.preferences:
                day = (pref.date - p.grid.start).days
                if 0 <= day < days and pref.weight != 0:
                    prefs[(pref.agent_id, day)].append(
                        (
                            pref.kind,
                            None if pref.kind == "off" else pref.template,
                            scaled(w.preference * pref.weight),
                        )
                    )
        activity_off = {}
        for a in p.agents:
            if a.id in rm.activities:
                off = set()
                for s, e in rm.activities[a.id]:
                    off.update(range(s // p.grid.interval_min, -(-e // p.grid.interval_min)))
                activity_off[a.id] = off
        phone_on: dict[tuple[int, str], tuple[frozenset[int], ...]] = {}  # per break plan
        for (d, vid), (lo, hi, _holes) in rm.phone.items():
            plans = [
                {t for h0, h1 in holes for t in range(h0, h1)} for holes in rm.plan_holes[(d, vid)]
            ]
            phone_on[(d, vid)] = tuple(
                frozenset(t for t in range(lo, hi) if t not in off) for off in plans
            )
        skill_sets = [tuple(sorted(p.agent_queues(a))) for a in p.agents]
        groups = sorted(
            {qs for qs in skill_sets if qs}
        )  # agents with the same queues, as rules.coverage groups them
        group_ids = {g: i for i, g in enumerate(groups)}
        self.agents = list(p.agents)
        self.row = {a.id: i for i, a in enumerate(self.agents)}
        self.group = [group_ids.get(qs, -1) for qs in skill_sets]
        self.options: list[list[list[Option]]] = []
        self.off_cost: list[list[int]] = []
        self.const = 0
        coverable: list[set[int]] = [set() for _ in range(nq)]
        cap = [0] * nq
        prev_end: dict[str, tuple[int, str | None, bool]] = {}
        for s in p.previous:
            e = p.elapsed(s.end)
            if s.agent_id not in prev_end or e > prev_end[s.agent_id][0]:
                prev_end[s.agent_id] = (
                    e,
                    s.template,
                    s.date == p.grid.start - dt.timedelta(days=1),
                )
        for i, a in enumerate(p.agents):
            g = self.group[i]
            if g >= 0:
                for q in groups[g]:
                    cap[q] += 1
            rest = int(round(p.contracts[a.contract].min_rest_hours * 60))
            per_day: list[list[Option]] = []
            offc: list[int] = []
            for d in range(days):
                opts = []
                ps = prefs.get((a.id, d), [])
                for v in rm.options.get((a.id, d), []):
                    e0, e1 = rm.elapsed[(d, v.id)]
                    if a.id in prev_end and d < 3:
                        end, last_t, adjacent = prev_end[a.id]
                        if e0 - end < rest or (
                            d == 0
                            and adjacent
                            and last_t in known
                            and v.template in known[last_t].not_followed_by
                        ):
                            continue
                    plans = phone_on[(d, v.id)]
                    if a.id in activity_off and any(
                        e0 <= s and e <= e1 for s, e in rm.activities[a.id]
                    ):
                        plans = (
                            frozenset(plans[0] - activity_off[a.id]),
                        )  # as the model: midpoint breaks
                    elif g < 0:
                        plans = plans[:1]
                    cost = (
                        scaled(w.cost * a.hourly_cost * v.paid_minutes / 60)
                        if w.cost > 0 and a.hourly_cost > 0
                        else 0
                    )
                    for kind, tm, coef in ps:
                        if kind != "on" or (
                            tm is not None and v.template != tm
                        ):  # an 'on' preference is broken by another template
                            cost += coef
                    rows = tuple(
                        r
                        for r, skill in row_of.get((d, v.template), [])
                        if skill is None or skill in a.skills
                    )
                    for j, on in enumerate(plans):
                        opts.append(
                            Option(
                                (a.id, d, v.id),
                                v.paid_minutes,
                                e0,
                                e1,
                                v.template,
                                base_template(v.template, known),
                                v.template in late_t,
                                on,
                                cost,
                                rows,
                                j,
                            )
                        )
                if (
                    g >= 0
                    # where the model has coverage terms: any option of the group, before activities
                    # and
                    # bans
                ):
                    for v in rm.options.get((a.id, d), []):
                        for q in groups[g]:
                            for on in phone_on[(d, v.id)]:
                                coverable[q].update(on)
                per_day.append(opts)
                oc = sum(coef for kind, _tm, coef in ps if kind == "on")
                if not opts:
                    self.const += oc
                    oc = 0
                offc.append(oc)
            self.options.append(per_day)
            self.off_cost.append(offc)
        self.rules = [AgentRules(rm, a, self.options[i]) for i, a in enumerate(p.agents)]
        # targeted moves: who may serve each queue, which (day, variant) cover each interval, option
        # index by variant
        self.servers = [
            [i for i in range(len(p.agents)) if self.group[i] >= 0 and q in groups[self.group[i]]]
            for q in range(nq)
        ]
        by_t: dict[int, list[tuple[int, str]]] = defaultdict(list)
        for (d, vid), plans_on in sorted(phone_on.items()):
            for t in sorted(frozenset().union(*plans_on)):
                by_t[t].append((d, vid))
        self.covering = by_t
        self.index = [
            [{o.key[2]: k for k, o in reversed(list(enumerate(day)))} for day in per_agent]
            for per_agent in self.options
        ]  # the first plan's option
        self.deficits: list[tuple[int, int]] = []
        self.deficit_weights: list[int] = []
        self.cov = Coverage(coverage_tables(rm, coverable, cap), groups, n)
        # fairness: per contract with >= 2 members, spreads of weekends and late shifts
        self.fair_coef = scaled(w.fairness) if w.fairness > 0 else 0
        by_contract: dict[str, list[int]] = defaultdict(list)
        for i, a in enumerate(p.agents):
            by_contract[a.contract].append(i)
        self.fair_groups = (
            [members for _, members in sorted(by_contract.items()) if len(members) >= 2]
            if self.fair_coef
            else []
        )
        self.fair_of = [-1] * len(self.agents)
        for k, members in enumerate(self.fair_groups):
            for i in members:
                self.fair_of[i] = k
        wk = weekend_keys(p)
        self.weekend_days = [tuple(ds) for _, ds in sorted(wk.items())]
        self.weekend_of = {d for ds in self.weekend_days for d in ds}
        self.count_weekends = bool(wk)
        self.count_late = bool(late_t)
        self.n_weekends = [0] * len(self.agents)
        self.n_late = [0] * len(self.agents)
        # histograms of the counts per fairness group: max - min without scanning the members
        self.hist_weekends = [[len(m)] + [0] * len(self.weekend_days) for m in self.fair_groups]
        self.hist_late = [[len(m)] + [0] * days for m in self.fair_groups]
        # the schedule
        self.sched: list[list[int]] = []
        for i in range(len(p.agents)):
            s = []
            for d in range(days):
                k = OFF
                for j, o in enumerate(self.options[i][d]):
                    if start.get(o.key, 0):
                        k = j
                        break
                s.append(k)
            self.sched.append(s)
        self._plans_from(start)
        self.fixed = [not self.rules[i].ok(self.sched[i]) for i in range(len(self.agents))]
        for i in range(len(self.agents)):
            for d in range(days):
                if self.sched[i][d] != OFF:
                    self._shift(i, d, self.sched[i][d], +1)
            self._recount(i)
        self.objective = self.total()

    # -- costs -----------------------------------------------------------------------------------

    def total(self) -> int:
        """The objective of the current schedule, from scratch [objective units × SCALE]."""
        obj = self.const + self.cov.cost()
        for i, s in enumerate(self.sched):
            for d, k in enumerate(s):
                obj += self.options[i][d][k].cost if k != OFF else self.off_cost[i][d]
        obj += self._cover_cost_all() + self._fair_cost_all()
        return obj

    def _cover_cost(self, r: int, count: int) -> int:
        req, under, over = self.cover_rows[r]
        return under * max(req - count, 0) + over * max(count - req, 0)

    def _cover_cost_all(self) -> int:
        return sum(self._cover_cost(r, c) for r, c in enumerate(self.cover_count))

    def _fair_cost(self, k: int) -> int:
        out = 0
        if self.count_weekends:
            out += _spread(self.hist_weekends[k])
        if self.count_late:
            out += _spread(self.hist_late[k])
        return out * self.fair_coef

    def _fair_cost_all(self) -> int:
        return sum(self._fair_cost(k) for k in range(len(self.fair_groups)))

    def _weekends_worked(self, s: list[int]) -> int:
        return sum(1 for ds in self.weekend_days if any(s[d] != OFF for d in ds))

    def _recount(self, i: int) -> None:
        s = self.sched[i]
        nw = self._weekends_worked(s)
        nl = sum(1 for d, k in enumerate(s) if k != OFF and self.options[i][d][k].late)
        k = self.fair_of[i]
        if k >= 0:
            hw, hl = self.hist_weekends[k], self.hist_late[k]
            hw[self.n_weekends[i]] -= 1
            hw[nw] += 1
            hl[self.n_late[i]] -= 1
            hl[nl] += 1
        self.n_weekends[i] = nw
        self.n_late[i] = nl

    def _shift(self, i: int, d: int, k: int, sign: int) -> int:
        """Put on (+1) or take off (−1) agent ``i``'s option ``k`` on day ``d``: coverage and
        shift-cover change [× SCALE].
        """
        o = self.options[i][d][k]
        g = self.group[i]
        delta = 0
        if g >= 0:
            step = self.cov.step
            for t in o.on:
                delta += step(g, t, sign)
        for r in o.rows:
            before = self._cover_cost(r, self.cover_count[r])
            self.cover_count[r] += sign
            delta += self._cover_cost(r, self.cover_count[r]) - before
        return delta

    def _change(self, i: int, d: int, old: int, new: int) -> int:
        """Agent ``i`` on day ``d`` from option ``old`` to ``new`` (either may be OFF): the change
        in cost [× SCALE].
        """
        opts = self.options[i][d]
        delta = 0
        g = self.group[i]
        if old != OFF and new != OFF and g >= 0 and not opts[old].rows and not opts[new].rows:
            a, b = opts[old].on, opts[new].on
            cov = self.cov
            for t in a - b:
                delta += cov.remove(g, t)
            for t in b - a:
                delta += cov.add(g, t)
        else:
            if old != OFF:
                delta += self._shift(i, d, old, -1)
            if new != OFF:
                delta += self._shift(i, d, new, +1)
        delta += (opts[new].cost if new != OFF else self.off_cost[i][d]) - (
            opts[old].cost if old != OFF else self.off_cost[i][d]
        )
        self.sched[i][d] = new
        return delta

    def peek(self, changes: list[tuple[int, int, int]]) -> int | None:
        """The objective change of one agent's ``changes`` without making them, or None when only
        applying can tell.
        """
        i = changes[0][0]
        g = self.group[i]
        opts = self.options[i]
        s = self.sched[i]
        adds: set[int] = set()
        removes: set[int] = set()
        delta = 0
        for j, d, new in changes:
            if j != i:
                return None
            old = s[d]
            if (old != OFF and opts[d][old].rows) or (new != OFF and opts[d][new].rows):
                return None
            a = opts[d][old].on if old != OFF else frozenset()
            b = opts[d][new].on if new != OFF else frozenset()
            rem, add = a - b, b - a
            if (
                not adds.isdisjoint(rem)
                or not removes.isdisjoint(add)
                or not adds.isdisjoint(add)
                or not removes.isdisjoint(rem)
            ):
                return None
            adds |= add
            removes |= rem
            delta += (opts[d][new].cost if new != OFF else self.off_cost[i][d]) - (
                opts[d][old].cost if old != OFF else self.off_cost[i][d]
            )
        if g >= 0:
            delta += self.cov.peek(g, adds, removes)
        k = self.fair_of[i] if self.fair_groups else -1
        if k >= 0:
            nl = self.n_late[i]
            weekend = False
            for _, d, new in changes:
                old = s[d]
                nl += (new != OFF and opts[d][new].late) - (old != OFF and opts[d][old].late)
                weekend = weekend or d in self.weekend_of
            nw = self.n_weekends[i]
            if weekend:
                trial = list(s)
                for _, d, new in changes:
                    trial[d] = new
                nw = self._weekends_worked(trial)
            if nw != self.n_weekends[i] or nl != self.n_late[i]:
                before = self._fair_cost(k)
                hw, hl = self.hist_weekends[k], self.hist_late[k]
                ow, ol = self.n_weekends[i], self.n_late[i]
                hw[ow] -= 1
                hw[nw] += 1
                hl[ol] -= 1
                hl[nl] += 1
                delta += self._fair_cost(k) - before
                hw[nw] -= 1
                hw[ow] += 1
                hl[nl] -= 1
                hl[ol] += 1
        return delta

    def apply(self, changes: list[tuple[int, int, int]]) -> int:
        """Apply (agent, day, new option) changes; returns the change in objective [× SCALE]."""
        touched = set()
        fair_before = 0
        if self.fair_groups:
            ks = {self.fair_of[i] for i, _, _ in changes if self.fair_of[i] >= 0}
            fair_before = sum(self._fair_cost(k) for k in ks)
        delta = 0
        for i, d, new in changes:
            delta += self._change(i, d, self.sched[i][d], new)
            touched.add(i)
        if self.fair_groups:
            for i in touched:
                self._recount(i)
            delta += sum(self._fair_cost(k) for k in ks) - fair_before
        self.objective += delta
        return delta

    def refresh_deficits(self) -> None:
        """(queue, interval) pairs where one more on-phone agent would lower the cost, weighted by
        how much.
        """
        out, weights = [], []
        for q, (tq, cq) in enumerate(zip(self.cov.tab, self.cov.cov, strict=True)):
            for t, c in enumerate(cq):
                tb = tq[t]
                gain = tb[c] - tb[c + 1]
                if gain > 0:
                    out.append((q, t))
                    weights.append(gain)
        self.deficits = out
        self.deficit_weights = list(itertools.accumulate(weights))

    def _works(self, i: int, d: int, vid: str) -> bool:
        """Agent ``i`` works shift ``vid`` on day ``d`` (any break plan)."""
        k = self.sched[i][d]
        return k != OFF and self.options[i][d][k].key[2] == vid

    def _plans_from(self, start: Mapping[Key | BreakKey, int]) -> None:
        """Give the agents working a shift the break plans counted in ``start`` (by agent id within
        each group).
        """
        for (g, d, vid), (members, ys) in self.rm.breaks.items():
            counts = [int(start.get((g, d, vid, j), 0)) for j in range(len(ys))]
            if not any(counts[1:]):
                continue
            for aid, j in plans_in_order(
                [aid for aid in members if self._works(self.row[aid], d, vid)], counts
            ).items():
                i = self.row[aid]
                k0 = self.index[i][d][vid]
                if k0 + j < len(self.options[i][d]) and self.options[i][d][k0 + j].key[2] == vid:
                    self.sched[i][d] = k0 + j

    def hint(self) -> dict[Key | BreakKey, int]:
        """The schedule as literal values for every key of ``rm.x``, and the break plans as counts
        per key of ``rm.breaks``.
        """
        out: dict[Key | BreakKey, int] = {k: 0 for k in self.rm.x}
        for i, s in enumerate(self.sched):
            for d, k in enumerate(s):
                if k != OFF:
                    out[self.options[i][d][k].key] = 1
        for (g, d, vid), (members, ys) in self.rm.breaks.items():
            counts = [0] * len(ys)
            for aid in members:
                i = self.row[aid]
                if self._works(i, d, vid):
                    counts[self.options[i][d][self.sched[i][d]].plan] += 1
            for j, c in enumerate(counts):
                out[(g, d, vid, j)] = c
        return out


def _spread(hist: list[int]) -> int:
    """max − min of the values counted in ``hist`` (value -> how many)."""
    lo = 0
    while hist[lo] == 0:
        lo += 1
    hi = len(hist) - 1
    while hist[hi] == 0:
        hi -= 1
    return hi - lo


def _targeted(st: Search, rng: random.Random) -> list[tuple[int, int, int]] | None:
    """A move that puts an agent on the phones in an under-covered (queue, interval), picked by its
    cost.
    """
    if not st.deficits:
        return None
    q, t = rng.choices(st.deficits, cum_weights=st.deficit_weights)[0]
    servers = st.servers[q]
    cands = st.covering.get(t)
    if not servers or not cands:
        return None
    i = rng.choice(servers)
    if st.fixed[i]:
        return None
    d, vid = rng.choice(cands)
    k = st.index[i][d].get(vid)
    if k is None:
        return None
    opts = st.options[i][d]
    plans = [j for j in range(k, _plans_end(opts, k)) if t in opts[j].on]
    if not plans:
        return None
    k = rng.choice(plans)
    s = st.sched[i]
    if s[d] != OFF:
        if s[d] == k:
            return None
        move = [(i, d, k)]
    else:
        working = [e for e in range(st.days) if s[e] != OFF]
        move = (
            [(i, rng.choice(working), OFF), (i, d, k)]
            if working and rng.random() < 0.8
            else [(i, d, k)]
        )
    return move


def _plans_end(opts: list[Option], k: int) -> int:
    """End (exclusive) of the run of options with the same shift as ``opts[k]``, which starts at its
    first plan.
    """
    e = k + 1
    while e < len(opts) and opts[e].key == opts[k].key:
        e += 1
    return e


def _same_shift(opts: list[Option], vid: str, plan: int) -> int | None:
    """The option of shift ``vid`` with break plan ``plan`` (else its first plan), or None."""
    first = None
    for x, o in enumerate(opts):
        if o.key[2] == vid:
            if o.plan == plan:
                return x
            if first is None:
                first = x
    return first


def _propose(st: Search, rng: random.Random) -> list[tuple[int, int, int]] | None:
    """A random move as (agent, day, new option) changes, or None if the draw gives nothing to
    try.
    """
    u = rng.random()
    if u < TARGETED:
        return _targeted(st, rng)
    n_agents = len(st.agents)
    i = rng.randrange(n_agents)
    if st.fixed[i]:
        return None
    s = st.sched[i]
    opts = st.options[i]
    days = st.days
    r = rng.random()
    working = [d for d in range(days) if s[d] != OFF]
    if r < 0.45 and working:  # another shift on a working day, mostly a nearby start
        d = rng.choice(working)
        m = len(opts[d])
        if m < 2:
            return None
        k = s[d]
        k0 = st.index[i][d][opts[d][k].key[2]]
        n_plans = _plans_end(opts[d], k0) - k0
        u2 = rng.random()
        if u2 < 0.25 and n_plans > 1:  # another break plan
            k2 = rng.randrange(k0, k0 + n_plans)
            if k2 == k:
                return None
        elif u2 < 0.75:  # a nearby start, same break plan
            k2 = k + n_plans * rng.choice((-4, -3, -2, -1, 1, 2, 3, 4))
            if not 0 <= k2 < m or opts[d][k2].template != opts[d][k].template:
                return None
        else:
            k2 = rng.randrange(m)
            if k2 == k:
                return None
        return [(i, d, k2)]
    if r < 0.75 and working:  # move a working day to a day off
        d = rng.choice(working)
        free = [e for e in range(days) if s[e] == OFF and opts[e]]
        if not free:
            return None
        e = rng.choice(free)
        o = opts[d][s[d]]
        same = _same_shift(opts[e], o.key[2], o.plan)
        k2 = same if same is not None and rng.random() < 0.7 else rng.randrange(len(opts[e]))
        return [(i, d, OFF), (i, e, k2)]
    if r < 0.85:  # add or drop a day
        d = rng.randrange(days)
        if s[d] != OFF:
            return [(i, d, OFF)]
        if not opts[d]:
            return None
        return [(i, d, rng.randrange(len(opts[d])))]
    # swap the shifts of two agents on a day
    j = rng.randrange(n_agents)
    if j == i or st.fixed[j]:
        return None
    d = rng.randrange(days)
    ki, kj = s[d], st.sched[j][d]
    if ki == kj == OFF:
        return None
    oi = opts[d][ki] if ki != OFF else None
    oj = st.options[j][d][kj] if kj != OFF else None
    if (oi and oi.key[2]) == (oj and oj.key[2]):
        return None
    ni = OFF if oj is None else _same_shift(opts[d], oj.key[2], oj.plan)
    nj = OFF if oi is None else _same_shift(st.options[j][d], oi.key[2], oi.plan)
    if ni is None or nj is None:
        return None
    return [(i, d, ni), (j, d, nj)]


def _feasible(st: Search, changes: list[tuple[int, int, int]]) -> bool:
    agents: dict[int, list[int]] = {}
    for i, d, k in changes:
        s = agents.setdefault(i, list(st.sched[i]))
        s[d] = k
    return all(st.rules[i].ok(s) for i, s in agents.items())


@dataclass(frozen=True)
class SearchResult:
    """The best schedule found, as literal values, its objective [objective units] and the moves
    tried/accepted.
    """

    hint: dict[Key, int]
    objective: float
    start_objective: float
    moves: int
    accepted: int
    seconds: float


def local_search(
    rm: RosterModel,
    start: Mapping[Key, int],
    budget_s: float,
    seed: int = 0,
    *,
    max_moves: int | None = None,
    on_improve: Callable[[float], None] | None = None,
) -> SearchResult:
    """Simulated annealing from ``start`` for ``budget_s`` [s] (or exactly ``max_moves`` moves,
    deterministic).

    A run also ends after :data:`PASSES` moves per (agent, day, shift option),
    so small models hand back their time. The temperature falls geometrically
    from the size of a typical worsening move to a thousandth of it over the
    run (by time or by moves, whichever is further along); the best schedule
    seen is returned.
    ``on_improve`` gets each new best objective [objective units], at most every 0.5 s.
    """
    was_enabled = gc.isenabled()
    # the moves make no reference cycles; collections would walk the whole model's objects again and
    # again
    gc.disable()
    try:
        return _anneal(rm, start, budget_s, seed, max_moves, on_improve)
    finally:
        if was_enabled:
            gc.enable()


def _anneal(
    rm: RosterModel,
    start: Mapping[Key, int],
    budget_s: float,
    seed: int,
    max_moves: int | None,
    on_improve: Callable[[float], None] | None,
) -> SearchResult:

    t0 = time.perf_counter()
    st = Search(rm, start)
    rng = random.Random(seed)
    start_obj = st.objective
    best_obj = st.objective
    best = [list(s) for s in st.sched]
    # temperature from a sample of worsening moves
    ups: list[int] = []
    for _ in range(400):
        mv = _propose(st, rng)
        if mv is None or not _feasible(st, mv):
            continue
        undo = [(i, d, st.sched[i][d]) for i, d, _ in mv]
        delta = st.apply(mv)
        st.apply(undo[::-1])
        if delta > 0:
            ups.append(delta)
    ups.sort()
    t_hi = float(ups[len(ups) // 4]) if ups else 1.0
    t_lo = t_hi / 1000
    size = sum(len(day) for per_agent in st.options for day in per_agent)
    cap = PASSES * max(size, 1)
    limit = cap if max_moves is None else min(max_moves, cap)
    moves = accepted = 0
    temp = t_hi
    last_report = t0
    while True:
        if moves % 1024 == 0:
            st.refresh_deficits()
        if moves % 256 == 0:
            frac = moves / limit if limit else 1.0
            if max_moves is None:
                frac = max(frac, (time.perf_counter() - t0) / max(budget_s, 1e-9))
            if frac >= 1:
                break
            temp = t_hi * (t_lo / t_hi) ** frac
        moves += 1
        mv = _propose(st, rng)
        if mv is None or not _feasible(st, mv):
            continue
        delta = st.peek(mv)
        if delta is not None:
            if delta <= 0 or rng.random() < math.exp(-delta / temp):
                st.apply(mv)
                accepted += 1
                if st.objective < best_obj:
                    best_obj = st.objective
                    best = [list(s) for s in st.sched]
                    if on_improve is not None and time.perf_counter() - last_report > 0.5:
                        last_report = time.perf_counter()
                        on_improve(best_obj / SCALE)
            continue
        undo = [(i, d, st.sched[i][d]) for i, d, _ in mv]
        delta = st.apply(mv)
        if delta <= 0 or rng.random() < math.exp(-delta / temp):
            accepted += 1
            if st.objective < best_obj:
                best_obj = st.objective
                best = [list(s) for s in st.sched]
                if on_improve is not None and time.perf_counter() - last_report > 0.5:
                    last_report = time.perf_counter()
                    on_improve(best_obj / SCALE)
        else:
            st.apply(undo[::-1])
    st.sched = best
    return SearchResult(
        st.hint(), best_obj / SCALE, start_obj / SCALE, moves, accepted, time.perf_counter() - t0
    )


def _chain(
    conn: Connection,
    rm: RosterModel,
    start: Mapping[Key, int],
    budget_s: float,
    seed: int,
    max_moves: int | None,
) -> None:
    """A forked search: sends back the non-zero hint values (literals, break-plan counts), the
    objectives, moves and time.
    """
    try:
        res = local_search(rm, start, budget_s, seed, max_moves=max_moves)
        conn.send(
            (
                [(k, v) for k, v in res.hint.items() if v],
                res.objective,
                res.start_objective,
                res.moves,
                res.accepted,
                res.seconds,
            )
        )
    finally:  # a chain that fails sends nothing: the parent keeps its own result
        conn.close()


def search_chains(
    rm: RosterModel,
    start: Mapping[Key, int],
    budget_s: float,
    seed: int = 0,
    *,
    chains: int = 1,
    max_moves: int | None = None,
    on_improve: Callable[[float], None] | None = None,
    after_fork: Callable[[], None] | None = None,
) -> SearchResult:
    """``chains`` independent searches with seeds ``seed``, ``seed + 1``, ...; the best wins (ties:
    the lowest seed).

    The extra chains run in forked processes (one core each) where the
    platform can fork, else only the first runs. ``after_fork`` is called once
    the children exist, before this process's own chain (start threads there,
    not before: a fork copies no running thread).
    """
    children = []
    if chains > 1 and "fork" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("fork")
        for c in range(1, chains):
            recv, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(
                target=_chain, args=(send, rm, start, budget_s, seed + c, max_moves), daemon=True
            )
            proc.start()
            send.close()
            children.append((recv, proc))
    if after_fork is not None:
        after_fork()
    best = local_search(rm, start, budget_s, seed, max_moves=max_moves, on_improve=on_improve)
    wait = (
        budget_s + 5.0 if max_moves is None else 10 * budget_s + 60.0
    )  # deterministic runs must hear from every chain
    for recv, proc in children:
        try:
            with contextlib.suppress(EOFError, OSError):  # a chain that died sent nothing
                if recv.poll(wait):
                    nonzero, obj, start_obj, moves, accepted, seconds = recv.recv()
                    if obj < best.objective:
                        hint = dict.fromkeys(rm.x, 0)
                        hint.update(nonzero)
                        best = SearchResult(hint, obj, start_obj, moves, accepted, seconds)
        finally:
            recv.close()
            proc.join(1.0)
            if proc.is_alive():
                proc.terminate()
    return best
