"""The local search's state: every agent's schedule, its coverage, counts and the objective.

Every move is priced exactly in the objective's integer units (coefficients
× SCALE): coverage by :class:`~staffplan.roster.heuristics.allocation.Coverage`,
labour cost and preferences linear in the shifts, fairness spreads and
day-level shift cover from counts. Break plans are part of each option, so the
model's break-plan counts follow from the schedule (:meth:`Search.hint`).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Mapping

import numpy as np

from staffplan.roster.coverage import plans_in_order
from staffplan.roster.cpmodel import RosterModel, scaled
from staffplan.roster.heuristics.agent_rules import OFF, AgentRules, BreakKey, Key, Option
from staffplan.roster.heuristics.allocation import Coverage, coverage_tables
from staffplan.roster.problem import base_template, weekend_keys


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

    def paid(self) -> int:
        """Paid minutes [min] of the current schedule."""
        return sum(
            self.options[i][d][k].paid
            for i, sched in enumerate(self.sched)
            for d, k in enumerate(sched)
            if k != OFF
        )

    def on_phone(self) -> np.ndarray:
        """On-phone agents allocated per queue and interval, (n_queues, n) [agents]."""
        return np.asarray(self.cov.cov, dtype=np.int64)

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
