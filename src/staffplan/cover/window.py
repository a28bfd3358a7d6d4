"""The cover repair's window model, built by the roster's own ``build_model`` and rules.

:func:`~staffplan.roster.build.build_model` creates the shift literals and every
hard rule of the engine over the whole horizon (the contract's template caps
count an overtime extension ``T+m`` as ``T`` there), with each agent-day's
shifts narrowed by :func:`build_window`'s ``choose``: the published shift
alone, fixed, outside the repair window and for shifts started before now; in
the window the published shift, its same-start overtime extensions and the
allowed moves, swaps and call-ins. No soft rule of the engine is added: this
module prices the repair instead, as named terms on the same model —

* ``cover_action``: each action's cost [currency] (extend, move start, swap,
  call in, cancel, move a published break, reassign a multi-skilled agent's
  queue for an agent-day);
* ``cover_changed_agent``: ``changed_agent_weight`` per agent changed;
* ``cover_queue_deviation``: 1 per agent-interval a multi-skilled agent
  serves another queue than published (prefers the published queue on ties);
* ``cover_unrestored`` / ``cover_shift_cover``: the coverage rows
  (:func:`staffplan.roster.coverage.shortfall`) — every agent-interval below the
  published coverage capped at the requirement, every missing agent of a
  day-level cover row — at a weight above the largest possible sum of all the
  other terms, so that restoring service comes first.

Coverage counts the published breaks where they are (or where the model moves
them) and gives each multi-skilled agent one queue per interval, so that the
model's count of unrestored agent-intervals is the one
:func:`staffplan.cover.published.coverage_counts` reports. "No action" is
always a solution, and the hint.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from ortools.sat.python import cp_model

from staffplan.cover.published import NewAbsence, Row, absent_masks, cut_started
from staffplan.cover.settings import CoverSettings
from staffplan.errors import InputError
from staffplan.io.team import Agent
from staffplan.roster.breaks import PlacedBreak
from staffplan.roster.build import Allowed, agent_blocks, build_model
from staffplan.roster.coverage import shortfall, weighted
from staffplan.roster.cpmodel import RosterModel, scaled
from staffplan.roster.problem import (
    RosterProblem,
    Variant,
    full_intervals,
    planned_break_offsets,
    split_overtime,
    touched_intervals,
)

Pairs = list[tuple[cp_model.IntVar, int]]


@dataclass(frozen=True, eq=False)
class Option:
    """A new shift for an agent-day of the window: a variant with its breaks, its action, cost
    [currency] and on-phone mask (n,).
    """

    variant: Variant
    kind: str
    cost: float
    breaks: tuple[PlacedBreak, ...]
    on: np.ndarray


@dataclass(eq=False)
class Kept:
    """The published shift of a window agent-day: its variant and same-start extensions (literal,
    cost [currency]), and each published break's possible starts (elapsed [min], literal; None =
    fixed).
    """

    row: Row
    variants: list[tuple[Variant, cp_model.IntVar, float]]
    breaks: list[tuple[PlacedBreak, list[tuple[int, cp_model.IntVar | None]]]]


@dataclass(eq=False)
class Day:
    """One agent-day of the window: the published shift (if it may be kept), the new-shift
    options, works and changed literals.
    """

    kept: Kept | None
    new: list[tuple[Option, cp_model.IntVar]]
    work: cp_model.IntVar
    changed: cp_model.IntVar
    started: bool


@dataclass(eq=False)
class WindowModel:
    """The built window model and what extraction needs: the window's agent-days, the queue
    assignment literals ``y[(agent index, interval)][queue]``, the coverage shortfall variables
    (``short_const`` agent-intervals no literal can change), the changed-agent literals, the
    published rows counted as constants and the coverage span [lo, hi) of intervals."""

    rm: RosterModel
    days: dict[tuple[str, int], Day]
    reassigned: dict[tuple[str, int], cp_model.IntVar]
    y: dict[tuple[int, int], dict[int, cp_model.IntVar]]
    short: list[cp_model.IntVar]
    short_const: int
    cover_under: list[cp_model.IntVar]
    changed: dict[str, cp_model.IntVar]
    const_rows: list[Row]
    lo: int
    hi: int
    hint: dict[int, int]


@dataclass(eq=False)
class _Plan:
    """What the repair may do on one agent-day (decided while the model's literals are made)."""

    row: Row | None
    pinned: bool
    kept: list[tuple[Variant, float]] = field(default_factory=list)
    new: list[Option] = field(default_factory=list)
    started: bool = False
    inside: list[tuple[int, int]] = field(default_factory=list)
    keep_mask: np.ndarray | None = None

    def variants(self) -> list[Variant]:
        return [v for v, _ in self.kept] + [o.variant for o in self.new]


class _Window:
    """The inputs of one window model and the per agent-day plans made from them."""

    def __init__(
        self,
        problem: RosterProblem,
        rows: dict[tuple[str, int], Row],
        window: tuple[int, ...],
        now: pd.Timestamp,
        absences: tuple[NewAbsence, ...],
        settings: CoverSettings,
        focus: np.ndarray,
    ) -> None:
        self.problem = problem
        self.rows = rows
        self.window = set(window)
        self.now = problem.elapsed(now)
        self.settings = settings
        self.focus = focus
        self.gone = absent_masks(problem, absences)
        self.step = min(15, problem.grid.interval_min)
        self.cache: dict[tuple, np.ndarray] = {}
        self.variant = {v.id: v for v in problem.variants}
        self.plans: dict[tuple[str, int], _Plan] = {}
        self.const_rows: list[Row] = []
        self.absences = absences
        self.kept: dict[tuple[str, int], tuple[int, int]] = {}
        _, activity = agent_blocks(problem)
        self.activities = {k: sorted(v) for k, v in activity.items()}

    def elapsed(self, d: int, v: Variant) -> tuple[int, int]:
        e0 = self.problem.start_elapsed(d, v.start_min)
        return e0, e0 + v.length_min

    def mask(self, e0: int, e1: int, holes: Sequence[tuple[int, int]]) -> np.ndarray:
        """On-phone intervals (n,) bool of a shift [e0, e1) with breaks/activities ``holes``
        (elapsed [min]) off the phones."""
        key = (e0, e1, tuple(sorted(holes)))
        if key not in self.cache:
            g = self.problem.grid
            out = np.zeros(g.n, dtype=bool)
            lo, hi = full_intervals(e0, e1, g.interval_min, g.n)
            out[lo:hi] = True
            for s, e in holes:
                t0, t1 = touched_intervals(s, e, g.interval_min, g.n)
                out[t0:t1] = False
            self.cache[key] = out
        return self.cache[key]

    def option(self, d: int, v: Variant, kind: str, cost: float, acts: list) -> Option:
        """A new shift with the engine's planned breaks (window midpoints)."""
        e0, e1 = self.elapsed(d, v)
        t = self.problem.template_by_id[v.template]
        brks = tuple(
            PlacedBreak(b.name, e0 + o, e0 + o + b.minutes, b.paid)
            for o, b in zip(planned_break_offsets(t, self.step), t.breaks, strict=True)
        )
        holes = [(b.start, b.end) for b in brks] + [(s, e) for s, e in acts if e0 <= s and e <= e1]
        return Option(v, kind, cost, brks, self.mask(e0, e1, holes))

    def broken(self, agent: str, d: int, variant: str) -> InputError:
        return InputError(
            "the published roster breaks a hard rule",
            column="roster",
            found=f"{agent} {self.problem.date(d)} {variant}",
            hint="this shift is not allowed by the scenario (absence, availability or contract); "
            "publish a valid roster",
        )

    def choose(self, agent: Agent, d: int, allowed: Allowed) -> list[Variant]:
        """The shifts the model may give ``agent`` on day ``d`` (build_model's ``choose``)."""
        row = self.rows.get((agent.id, d))
        absent = agent.id in self.gone
        if d not in self.window:
            if row is None:
                return []
            ids = {v.id: v for v in allowed([self.variant[row.variant]])}
            if row.variant not in ids:
                if not absent:
                    raise self.broken(agent.id, d, row.variant)
                if row.e0 < self.now:  # started before the absence: ends when the agent falls sick
                    self.keep(row)
                return []
            self.plans[(agent.id, d)] = _Plan(row, True, [(ids[row.variant], 0.0)])
            self.const_rows.append(row)
            return [ids[row.variant]]
        plan = self._plan_window_day(agent, d, row, {v.id: v for v in allowed()})
        if plan is None:
            return []
        self.plans[(agent.id, d)] = plan
        return plan.variants()

    def keep(self, row: Row) -> None:
        """Keep a started shift an absence cuts as it plays out: counted on the phones as a
        constant, and as a worked day with its cut pay in the agent's week rules."""
        self.const_rows.append(row)
        rec = cut_started(self.problem, row, self.absences)
        if rec is not None:
            end = self.problem.elapsed(pd.Timestamp(rec["end"]))
            self.kept[(row.agent, row.day)] = (int(float(rec["paid_minutes"])), end)

    def _plan_window_day(
        self, agent: Agent, d: int, row: Row | None, ids: dict[str, Variant]
    ) -> _Plan | None:
        """Keep, extend, move, swap or cancel the published shift; or call in on a day off."""
        s = self.settings
        acts = self.activities.get(agent.id, [])
        off_mask = self.gone.get(agent.id)
        pub = row.variant if row is not None else None
        started = row is not None and row.e0 < self.now
        inside = [(a, b) for a, b in acts if row is not None and row.e0 <= a and b <= row.e1]
        keep_mask = None
        if row is not None and pub in ids:
            holes = [(b.start, b.end) for b in row.breaks] + inside
            keep_mask = self.mask(row.e0, row.e1, holes)
            if off_mask is not None and (keep_mask & off_mask).any():
                pub = None
        elif row is not None:
            if agent.id not in self.gone:
                raise self.broken(agent.id, d, str(pub))
            pub = None
        if row is not None and pub is None and started:
            # a started shift the new absence interrupts: it ends when the agent falls sick
            self.keep(row)
            return None
        plan = _Plan(row, False, started=started, inside=inside, keep_mask=keep_mask)
        if pub is not None and row is not None:
            v = ids[pub]
            base = split_overtime(v.template)[0]
            plan.kept = [(v, 0.0)]
            if row.e1 >= self.now:
                for w in ids.values():
                    if not (
                        w.start_min == v.start_min
                        and w.id != v.id
                        and split_overtime(w.template)[0] == base
                        and w.length_min > v.length_min
                    ):
                        continue
                    e0, e1 = self.elapsed(d, w)
                    holes = [(b.start, b.end) for b in row.breaks]
                    extra = self.mask(
                        e0, e1, holes + [(a, b) for a, b in acts if e0 <= a <= b <= e1]
                    )
                    if e0 == row.e0 and not (off_mask is not None and (extra & off_mask).any()):
                        cost = s.overtime_cost_per_hour * (w.length_min - v.length_min) / 60.0
                        plan.kept.append((w, cost))
            if not started:
                for w in ids.values():
                    e0, _ = self.elapsed(d, w)
                    wb, ext = split_overtime(w.template)
                    if w.id == v.id or ext or e0 < self.now:
                        continue
                    if wb == base:
                        if abs(e0 - row.e0) > s.max_move_min:
                            continue
                        plan.new.append(self.option(d, w, "move start", s.move_cost, acts))
                    elif s.allow_swap:
                        plan.new.append(self.option(d, w, "swap shift", s.swap_cost, acts))
        elif s.allow_callin:
            for w in ids.values():
                e0, _ = self.elapsed(d, w)
                if split_overtime(w.template)[1] or e0 < self.now:
                    continue
                plan.new.append(self.option(d, w, "call in", s.callin_cost, acts))
        if off_mask is not None:
            plan.new = [o for o in plan.new if not (o.on & off_mask).any()]
        if not plan.kept and not plan.new:
            return None
        return plan


class _Coverage:
    """On-phone contributions of the window's literals: per (queue, interval) for single-skilled
    agents, per (agent-day, interval) for multi-skilled ones, and new shifts of single-skilled
    agents pooled by identical masks."""

    def __init__(self, problem: RosterProblem, lo: int) -> None:
        self.aq = {a.id: problem.agent_queues(a) for a in problem.agents}
        self.lo = lo
        self.single: dict[tuple[int, int], Pairs] = {}
        self.multi: dict[tuple[str, int], dict[int, Pairs]] = {}
        self.pool: dict[tuple[int, tuple], list[cp_model.IntVar]] = {}

    def add(self, aid: str, d: int, t: int, var: cp_model.IntVar, coef: int) -> None:
        qs = self.aq[aid]
        if not qs or t < self.lo:
            return
        if len(qs) == 1:
            self.single.setdefault((qs[0], t), []).append((var, coef))
        else:
            self.multi.setdefault((aid, d), {}).setdefault(t, []).append((var, coef))


def build_window(
    problem: RosterProblem,
    rows: dict[tuple[str, int], Row],
    window: tuple[int, ...],
    now: pd.Timestamp,
    absences: tuple[NewAbsence, ...],
    settings: CoverSettings,
    assignment: np.ndarray,
    target: np.ndarray,
    focus: np.ndarray | None = None,
) -> WindowModel:
    """The repair model of ``rows`` (the published roster, parsed) after ``absences`` from ``now``
    (see the module doc).

    Options of an agent-day in the window: keep the published shift, move
    any of its breaks inside the template's window (old and new start from
    now on; one literal per break and start), extend it (same start,
    overtime templates), move its start (same template, within
    ``max_move_min``), another template (swap), cancel it; on a day off: call
    in. Nothing starts before now; a started shift may only be extended or
    have later breaks moved. New shifts get the engine's planned breaks
    (window midpoints). Coverage is counted against ``target`` (n_queues, n)
    [agents], the published coverage capped at the requirement; multi-skilled
    agents keep ``assignment``'s published queues except where they are
    reassigned.

    ``focus`` (n,) bool: the intervals where some queue is short of ``target``
    with no action. Only breaks that touch one may move, and multi-skilled
    agents change queue only there (elsewhere a move cannot restore anything
    by itself); None = everywhere.
    """
    focus = np.ones(problem.grid.n, dtype=bool) if focus is None else focus
    win = _Window(problem, rows, window, now, absences, settings, focus)
    rm = build_model(problem, choose=win.choose, soft_rules=(), kept=win.kept)
    b = _Builder(win, rm, problem.grid.boundary_index(now))
    for (aid, d), plan in win.plans.items():
        if plan.pinned:
            x = rm.x[(aid, d, plan.kept[0][0].id)]
            rm.model.Add(x == 1)
            b.hint[x.Index()] = b.hint[rm.work[(aid, d)].Index()] = 1
        else:
            b.price_day(aid, d, plan)
    b.coverage_terms(window, assignment)
    return b.finish(target)


class _Builder:
    """Adds the window's pins, priced actions, queue assignment and coverage rows to ``rm``."""

    def __init__(self, win: _Window, rm: RosterModel, lo: int) -> None:
        self.win = win
        self.rm = rm
        self.p = win.problem
        self.s = win.settings
        self.lo = lo
        self.hint: dict[int, int] = {}
        self.worst = 0  # the largest possible sum of every term but coverage's [× SCALE]
        self.cov = _Coverage(win.problem, lo)
        self.days: dict[tuple[str, int], Day] = {}
        self.brk_lits: list[cp_model.IntVar] = []
        self.hinted_on: dict[tuple[str, int], np.ndarray] = {}
        self.terms: list[list[Pairs]] = []
        self.const = np.zeros((0, 0), dtype=np.int64)
        self.cov_hint = np.zeros((0, 0), dtype=np.int64)
        self.y: dict[tuple[int, int], dict[int, cp_model.IntVar]] = {}
        self.reassigned: dict[tuple[str, int], cp_model.IntVar] = {}
        self.devs: list[cp_model.IntVar] = []
        self.hi = lo

    def lit(self, name: str, value: int) -> cp_model.IntVar:
        x = self.rm.model.NewBoolVar(name)
        self.hint[x.Index()] = value
        return x

    def price(self, name: str, var: cp_model.IntVar, cost: float) -> None:
        """An action's cost [currency] as a named objective term."""
        self.rm.add_term("cover_action", name, var, scaled(cost))

    def price_day(self, aid: str, d: int, plan: _Plan) -> None:
        """One window agent-day: the kept shift (extensions, break moves), new shifts, changed and
        cancel literals, and their coverage."""
        rm, s = self.rm, self.s
        kept = None
        if plan.kept:
            kept = self._kept(aid, d, plan)
        new_lits = [(o, rm.x[(aid, d, o.variant.id)]) for o in plan.new]
        qs = self.cov.aq[aid]
        for o, x in new_lits:
            self.hint[x.Index()] = 0
            self.price(f"{o.kind}[{aid},{d},{o.variant.id}]", x, o.cost)
            if len(qs) == 1:
                key = (qs[0], (o.variant.id, tuple(np.flatnonzero(o.on))))
                self.cov.pool.setdefault(key, []).append(x)
            else:
                for t in np.flatnonzero(o.on[self.lo :]) + self.lo:
                    self.cov.add(aid, d, int(t), x, 1)
        self.worst += max((scaled(o.cost) for o in plan.new), default=0)
        w_lit = rm.work[(aid, d)]
        self.hint[w_lit.Index()] = int(kept is not None)
        if kept is not None:
            ch = self.lit(f"changed[{aid},{d}]", 0)
            rm.model.Add(ch + kept.variants[0][1] >= 1)
            for _, zs in kept.breaks:
                for _, z in zs[1:]:
                    rm.model.Add(ch >= z)  # type: ignore[operator]
            if plan.started:
                rm.model.Add(w_lit == 1)  # the started shift goes on (perhaps extended)
            elif s.cancel_cost:
                cancel = self.lit(f"cancel[{aid},{d}]", 0)
                rm.model.Add(cancel + w_lit == 1)
                self.price(cancel.Name(), cancel, s.cancel_cost)
                self.worst += scaled(s.cancel_cost)
        else:
            ch = w_lit
        self.days[(aid, d)] = Day(kept, new_lits, w_lit, ch, plan.started)

    def _kept(self, aid: str, d: int, plan: _Plan) -> Kept:
        """The published shift: its extensions, its breaks' possible starts, and its coverage."""
        rm, row = self.rm, plan.row
        assert row is not None
        v = plan.kept[0][0]
        kv = [(w, rm.x[(aid, d, w.id)], c) for w, c in plan.kept]
        for w, x, c in kv:
            self.hint[x.Index()] = int(w.id == v.id)
            if c:
                self.price(f"extend[{aid},{d},{w.id}]", x, c)
        self.worst += max(scaled(c) for _, _, c in kv)
        positions = self._breaks(aid, d, plan, kv)
        kept = Kept(row, kv, positions)
        self._kept_coverage(aid, d, plan, kept)
        self.hinted_on[(aid, d)] = plan.keep_mask  # type: ignore[assignment]
        return kept

    def _breaks(
        self, aid: str, d: int, plan: _Plan, kv: list[tuple[Variant, cp_model.IntVar, float]]
    ) -> list[tuple[PlacedBreak, list[tuple[int, cp_model.IntVar | None]]]]:
        """One literal per possible start of each published break from now on (where it touches a
        focus interval); two breaks of one shift never overlap."""
        s, row, win = self.s, plan.row, self.win
        assert row is not None
        g = self.p.grid
        positions: list[tuple[PlacedBreak, list[tuple[int, cp_model.IntVar | None]]]] = []
        left = list(self.p.template_by_id[kv[0][0].template].breaks)
        for pb in row.breaks:
            b = next(
                (x for x in left if x.name == pb.name and x.minutes == pb.end - pb.start), None
            )
            if b is not None:
                left.remove(b)
            starts = [pb.start]
            t0, t1 = touched_intervals(pb.start, pb.end, g.interval_min, g.n)
            movable = s.max_break_moves > 0 and pb.start >= win.now and win.focus[t0:t1].any()
            if b is not None and movable:
                for o in range(b.earliest, b.latest + 1, win.step):
                    st = row.e0 + o
                    clash = any(st < e and u < st + b.minutes for u, e in plan.inside)
                    if st != pb.start and st >= win.now and not clash:
                        starts.append(st)
            if len(starts) == 1:
                positions.append((pb, [(pb.start, None)]))
                continue
            zs: list[tuple[int, cp_model.IntVar | None]] = [
                (st, self.lit(f"brk[{aid},{d},{pb.name},{st}]", int(st == pb.start)))
                for st in starts
            ]
            self.rm.model.Add(sum(z for _, z in zs if z is not None) == sum(x for _, x, _ in kv))
            for _, z in zs[1:]:
                assert z is not None
                self.price(z.Name(), z, s.break_move_cost)
                self.brk_lits.append(z)
            self.worst += scaled(s.break_move_cost)
            positions.append((pb, zs))
        for k, (pk, zk) in enumerate(positions):
            for pj, zj in positions[k + 1 :]:
                for st, z in zk:
                    for s2, z2 in zj:
                        if not (st < s2 + (pj.end - pj.start) and s2 < st + (pk.end - pk.start)):
                            continue
                        if z is None and z2 is None:
                            continue
                        if z is None or z2 is None:
                            self.rm.model.Add((z if z is not None else z2) == 0)  # type: ignore[operator]
                        else:
                            self.rm.model.Add(z + z2 <= 1)
        return positions

    def _kept_coverage(self, aid: str, d: int, plan: _Plan, kept: Kept) -> None:
        """The kept shift covers its full intervals less activities, less its breaks where they
        are (an ``off`` literal where several breaks may touch one interval)."""
        g = self.p.grid
        im, n = g.interval_min, g.n
        row = kept.row
        act_off: set[int] = set()
        for a, b in plan.inside:
            t0, t1 = touched_intervals(a, b, im, n)
            act_off.update(range(t0, t1))
        kv = kept.variants
        for w, x, _ in kv:
            l0, l1 = full_intervals(*self.rm.elapsed[(d, w.id)], im, n)
            for t in range(max(l0, self.lo), l1):
                if t not in act_off:
                    self.cov.add(aid, d, t, x, 1)
        p0, p1 = full_intervals(row.e0, row.e1, im, n)
        touchers: dict[int, list[tuple[int, cp_model.IntVar | None]]] = {}
        for k, (pb, zs) in enumerate(kept.breaks):
            for st, z in zs:
                t0, t1 = touched_intervals(st, st + (pb.end - pb.start), im, n)
                for t in range(max(t0, p0, self.lo), min(t1, p1)):
                    if t not in act_off:
                        touchers.setdefault(t, []).append((k, z))
        for t, lst in sorted(touchers.items()):
            if len({k for k, _ in lst}) == 1:
                for _, z in lst:
                    if z is None:
                        for _, x, _ in kv:
                            self.cov.add(aid, d, t, x, -1)
                    else:
                        self.cov.add(aid, d, t, z, -1)
                continue
            assert plan.keep_mask is not None
            off = self.lit(f"off[{aid},{t}]", int(not plan.keep_mask[t]))
            for _, z in lst:
                self.rm.model.Add(off >= (z if z is not None else sum(x for _, x, _ in kv)))
            self.cov.add(aid, d, t, off, -1)

    def coverage_terms(self, window: tuple[int, ...], assignment: np.ndarray) -> None:
        """Per (queue, interval) of [now, end of the window's last option): the literals' pairs,
        the constant coverage of published rows no literal changes, and the queue assignment of
        multi-skilled agents (``y``) with its reassignment literals."""
        p, rm, lo = self.p, self.rm, self.lo
        g, dem = p.grid, p.demand
        n, im, nq = g.n, g.interval_min, len(dem.queues)
        ends = [int(g.day_offsets[max(window) + 1])] if window else [lo]
        ends += [
            full_intervals(*rm.elapsed[(d, w.id)], im, n)[1]
            for (aid, d) in self.days
            for w in rm.options[(aid, d)]
        ]
        self.hi = hi = min(max(ends), n)
        span = hi - lo
        self.terms = [[[] for _ in range(span)] for _ in range(nq)]
        self.const = np.zeros((nq, span), dtype=np.int64)
        self.cov_hint = np.zeros((nq, span), dtype=np.int64)
        index = {a.id: i for i, a in enumerate(p.agents)}
        aq = self.cov.aq
        gone = self.win.gone
        by_agent: dict[str, np.ndarray] = {}
        for r in self.win.const_rows:
            on = r.on[lo:hi] & (~gone[r.agent][lo:hi] if r.agent in gone else True)
            by_agent[r.agent] = by_agent.get(r.agent, np.zeros(span, dtype=bool)) | on
        for aid, on in by_agent.items():
            qs = aq[aid]
            if not qs:
                continue
            mine = assignment[index[aid], lo:hi]
            q = np.where(mine >= 0, mine, qs[0]) if len(qs) > 1 else np.full(span, qs[0])
            ts = np.flatnonzero(on)
            np.add.at(self.const, (q[ts], ts), 1)
            np.add.at(self.cov_hint, (q[ts], ts), 1)
        for (q, t), pairs in self.cov.single.items():
            if t < hi:
                self.terms[q][t - lo] += pairs
        for (q, (vid, ts)), lits in self.cov.pool.items():
            if len(lits) == 1:
                count = lits[0]
            else:
                count = rm.model.NewIntVar(0, len(lits), f"count[{dem.queues[q]},{vid}]")
                rm.model.Add(count == sum(lits))
                self.hint[count.Index()] = 0
            for t in ts:
                if lo <= t < hi:
                    self.terms[q][t - lo].append((count, 1))
        for (aid, _), on in self.hinted_on.items():
            if len(aq[aid]) == 1:
                self.cov_hint[aq[aid][0]] += on[lo:hi]
        for (aid, d), per_t in self.cov.multi.items():
            self._assign(aid, d, per_t, index[aid], assignment)
        if self.reassigned:
            rm.model.Add(sum(self.reassigned.values()) <= self.s.max_reassignments)
        if self.brk_lits:
            rm.model.Add(sum(self.brk_lits) <= self.s.max_break_moves)

    def _assign(
        self, aid: str, d: int, per_t: dict[int, Pairs], i: int, assignment: np.ndarray
    ) -> None:
        """A multi-skilled agent-day's queue per interval: the published one where nothing is
        short, else one assignment literal per queue (deviations priced)."""
        lo, hi = self.lo, self.hi
        qs = self.cov.aq[aid]
        row = self.win.rows.get((aid, d))
        was = self.hinted_on.get((aid, d))
        devs: list[cp_model.IntVar] = []
        for t, pairs in sorted(per_t.items()):
            if t >= hi:
                continue
            pub_q = int(assignment[i, t]) if row is not None and row.on[t] else -1
            was_on = was is not None and bool(was[t])
            if not self.win.focus[t]:  # the published queue (or the first) where nothing is short
                if pub_q >= 0:
                    q = pub_q
                else:
                    q = int(assignment[i, t]) if assignment[i, t] >= 0 else qs[0]
                self.terms[q][t - lo] += pairs
                self.cov_hint[q, t - lo] += int(was_on)
                continue
            first = pub_q if pub_q >= 0 else qs[0]
            ys = {q: self.lit(f"y[{aid},{t},{q}]", int(was_on and q == first)) for q in qs}
            self.rm.model.Add(sum(ys.values()) == weighted(pairs))
            self.y[(i, t)] = ys
            for q, yv in ys.items():
                self.terms[q][t - lo].append((yv, 1))
                self.cov_hint[q, t - lo] += self.hint[yv.Index()]
            if pub_q >= 0:
                devs += [yv for q, yv in ys.items() if q != pub_q]
        if devs and self.days[(aid, d)].kept is not None:
            r_lit = self.lit(f"reassigned[{aid},{d}]", 0)
            for dv in devs:
                self.rm.model.Add(r_lit >= dv)
            self.reassigned[(aid, d)] = r_lit
            self.price(r_lit.Name(), r_lit, self.s.reassign_cost)
            self.worst += scaled(self.s.reassign_cost)
        self.devs += devs

    def finish(self, target: np.ndarray) -> WindowModel:
        """Changed agents and caps, then the coverage rows at a weight above every other term."""
        p, rm, s, lo = self.p, self.rm, self.s, self.lo
        per_agent: dict[str, list[cp_model.IntVar]] = {}
        for (aid, _), day in self.days.items():
            per_agent.setdefault(aid, []).append(day.changed)
        for (aid, _), r_lit in self.reassigned.items():
            per_agent.setdefault(aid, []).append(r_lit)
        changed: dict[str, cp_model.IntVar] = {}
        w2 = scaled(s.changed_agent_weight)
        for aid in sorted(per_agent):
            c = self.lit(f"changed_agent[{aid}]", 0)
            for x in per_agent[aid]:
                rm.model.Add(c >= x)
            changed[aid] = c
            rm.add_term("cover_changed_agent", c.Name(), c, w2)
        if s.max_changed_agents > 0 and changed:
            rm.model.Add(sum(changed.values()) <= s.max_changed_agents)
        for dv in self.devs:
            rm.add_term("cover_queue_deviation", dv.Name(), dv, 1)
        w1 = self.worst + w2 * len(changed) + len(self.devs) + 1
        short: list[cp_model.IntVar] = []
        short_const = 0
        req = target[:, lo : self.hi]
        for q, name in enumerate(p.demand.queues):
            for t in range(self.hi - lo):
                r = int(req[q, t])
                if r <= 0:
                    continue
                pairs = self.terms[q][t]
                if not pairs:
                    short_const += max(r - int(self.const[q, t]), 0)
                    continue
                covered = weighted(pairs) + int(self.const[q, t])
                names = [f"short[{name},{lo + t}]"]
                (term,) = shortfall(rm, "cover_unrestored", names, covered, r, [(r, w1)])
                self.hint[term.var.Index()] = max(r - int(self.cov_hint[q, t]), 0)
                short.append(term.var)
        return WindowModel(
            rm,
            self.days,
            self.reassigned,
            self.y,
            short,
            short_const,
            self._shift_cover(w1),
            changed,
            self.win.const_rows,
            lo,
            self.hi,
            self.hint,
        )

    def _shift_cover(self, w1: int) -> list[cp_model.IntVar]:
        """Day-level cover rows of the window's days: each missing agent at the coverage weight."""
        p = self.p
        out: list[cp_model.IntVar] = []
        for c in p.shift_cover:
            d = (c.date - p.grid.start).days
            if d not in self.win.window or c.under_weight <= 0 or c.required <= 0:
                continue
            lits = [
                x
                for a in p.agents
                if c.skill is None or c.skill in a.skills
                for v, x in self.rm.shifts(a.id, d)
                if split_overtime(v.template)[0] == c.template
            ]
            names = [f"cover_under[{c.date},{c.template}]"]
            covered = weighted([(x, 1) for x in lits])
            segs = [(c.required, w1)]
            (term,) = shortfall(self.rm, "cover_shift_cover", names, covered, c.required, segs)
            hinted = sum(self.hint.get(x.Index(), 0) for x in lits)
            self.hint[term.var.Index()] = max(c.required - hinted, 0)
            out.append(term.var)
        return out
