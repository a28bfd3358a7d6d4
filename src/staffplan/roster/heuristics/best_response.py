"""Best responses: each agent's whole schedule re-optimised with everyone else fixed.

A one-agent CP-SAT model (the agent's own hard rules only) is solved with the
exact gain of every shift literal in its objective: the coverage it adds
(interval and day-level shift cover), its preferences and its cost, given the
coverage of all the other agents. Passes over the agents repeat until one
changes nothing or the budget is spent.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from ortools.sat.python import cp_model

from staffplan.io.team import Agent
from staffplan.roster.budget import SUBMODEL_CHARGE_S, Budget
from staffplan.roster.build import build_model
from staffplan.roster.cpmodel import RosterModel
from staffplan.roster.problem import SCALE, Variant, single_agent_problem
from staffplan.roster.solver import make_solver, reached_net, work_s


class _Ledger:
    """Coverage of the agents placed so far: interval counts per queue and counts per shift-cover
    row.
    """

    def __init__(self, rm: RosterModel) -> None:
        p = rm.problem
        self.rm = rm
        self.cov = np.zeros(p.demand.required.shape, dtype=np.int64)
        self.rows: dict[tuple[int, str], list[int]] = defaultdict(
            list
        )  # (day, template) -> shift-cover row indexes
        self.any_rows: dict[int, list[int]] = defaultdict(list)
        for i, c in enumerate(p.shift_cover):
            d = (c.date - p.grid.start).days
            if 0 <= d < p.grid.days:
                self.rows[(d, c.template)].append(i)
        self.count = np.zeros(len(p.shift_cover), dtype=np.int64)
        self.placed: dict[str, dict[int, tuple[Variant, tuple[int, ...]]]] = {}
        steps = (
            -np.sort(-p.demand.step_costs, axis=2)
            if p.demand.step_costs.size
            else p.demand.step_costs
        )
        self.steps = (
            steps  # (q, t, j): gain of the (j+1)-th agent on the phones, non-increasing in j
        )

    def interval_gain(self, agent: Agent) -> tuple[np.ndarray, np.ndarray]:
        """Per interval: the agent's best marginal gain [objective units] and the queue it goes
        to.
        """
        p = self.rm.problem
        qs = list(p.agent_queues(agent))
        n = p.grid.n
        if not qs:
            return np.zeros(n), np.full(n, -1)
        w_u, w_o = p.weights.under_coverage, p.weights.over_coverage
        req = p.demand.required
        gains = np.empty((len(qs), n))
        for i, q in enumerate(qs):
            c = self.cov[q]
            short = c < req[q]
            g = np.full(n, -float(w_o))
            if short.any() and self.steps.shape[2]:
                idx = np.minimum(c, self.steps.shape[2] - 1)
                g[short] = w_u * self.steps[q, np.arange(n), idx][short]
            gains[i] = g
        best = gains.argmax(axis=0)
        return gains[best, np.arange(n)], np.asarray(qs)[best]

    def apply(
        self,
        agent: Agent,
        shifts: dict[int, Variant],
        sign: int,
        queue_of: np.ndarray | None = None,
    ) -> None:
        """Add (sign +1, remembering each interval's queue) or remove (−1) an agent's shifts."""
        p = self.rm.problem
        if sign > 0:
            assert queue_of is not None
            self.placed[agent.id] = {}
        for d, v in shifts.items():
            lo, hi, holes = self.rm.phone[(d, v.id)]
            off = {t for h0, h1 in holes for t in range(h0, h1)}
            ts = tuple(t for t in range(lo, hi) if t not in off)
            if sign > 0:
                qs = tuple(int(queue_of[t]) for t in ts)  # type: ignore[index]
                self.placed[agent.id][d] = (v, qs)
            else:
                qs = self.placed[agent.id][d][1]
            for t, q in zip(ts, qs, strict=True):
                if q >= 0:
                    self.cov[q, t] += sign
            for i in self.rows.get((d, v.template), []):
                c = p.shift_cover[i]
                if c.skill is None or c.skill in agent.skills:
                    self.count[i] += sign
        if sign < 0:
            self.placed.pop(agent.id, None)


def _scores(
    rm: RosterModel, sub: RosterModel, agent: Agent, ledger: _Ledger
) -> dict[tuple[str, int, str], float]:
    """Objective gain [objective units] of each of the agent's shift literals, everyone else
    fixed.
    """
    p = rm.problem
    gain, _ = ledger.interval_gain(agent)
    csum = np.concatenate([[0.0], np.cumsum(gain)])
    prefs = defaultdict(list)
    for pr in p.preferences:
        if pr.agent_id == agent.id:
            prefs[(pr.date - p.grid.start).days].append(pr)
    w_pref, w_cost = p.weights.preference, p.weights.cost
    out = {}
    for key in sub.x:
        _, d, vid = key
        v = next(o for o in sub.options[(agent.id, d)] if o.id == vid)
        lo, hi, holes = rm.phone[(d, vid)]
        s = csum[hi] - csum[lo] - sum(csum[h1] - csum[h0] for h0, h1 in holes)
        for i in ledger.rows.get((d, v.template), []):
            c = p.shift_cover[i]
            if c.skill is None or c.skill in agent.skills:
                s += c.under_weight if ledger.count[i] < c.required else -c.over_weight
        for pr in prefs.get(d, []):
            hit = pr.kind == "off" or pr.template is None or pr.template == v.template
            if pr.kind == "on" and hit:
                s += w_pref * pr.weight
            elif pr.kind != "on" and hit:
                s -= w_pref * pr.weight
        s -= w_cost * agent.hourly_cost * v.paid_minutes / 60
        out[key] = s
    return out


PER_AGENT_S = 0.5
"""Limit of one agent's re-optimisation [s, or deterministic s]; the best schedule found is used."""
REPAIR_SCALES = (4, 16)
"""A broken start whose repair found no schedule within :data:`PER_AGENT_S` is tried again with
these multiples of it (first schedule only): on long horizons (Curtois, 182 days) a first schedule
keeping every run rule can take a few times that limit, and an unrepaired agent leaves the whole
roster infeasible."""
CHECK_S = 0.2
"""Limit of checking that one agent's start keeps its own rules [s, or deterministic s]."""
MIN_SUBSOLVE_S = 0.05
"""Least limit of a one-agent solve near the deadline [s, or deterministic s]."""


def best_response_hint(
    rm: RosterModel,
    budget: Budget,
    stage: str = "improve",
    *,
    seed: int = 0,
    start: dict[tuple[str, int, str], int] | None = None,
    max_passes: int | None = None,
) -> dict[tuple[str, int, str], int]:
    """A starting roster by best responses: each agent's whole schedule optimised with everyone else
    fixed.

    Pass 0 places agents one by one (fewest shift options first), each taking
    the schedule of largest gain under their own hard rules (a one-agent CP-SAT
    model: contract, rest, successions, runs, weekends, template caps) given
    the coverage left by the agents already placed; later passes re-optimise
    each agent against all the others until a pass changes nothing, after
    ``max_passes`` passes, or at ``stage``'s deadline of ``budget``. Gains are
    the objective's coverage (interval and shift cover), preference and cost
    terms, exact for one agent's change. ``start`` (literal values) replaces
    pass 0. Agents whose own rules admit no schedule are left off (the main
    solve then reports why). Rules that tie agents together (minimum cover
    floors, a cap a caller adds on the whole model) are not seen here: if the
    result breaks one, ``solve`` falls back to the greedy start. Agents whose
    ``start`` breaks their own rules are re-optimised first, and any schedule
    that keeps the rules replaces such a start. Each one-agent solve gets at
    most :data:`PER_AGENT_S`; in deterministic mode its work
    (:func:`~staffplan.roster.solver.work_s`) plus
    :data:`~staffplan.roster.budget.SUBMODEL_CHARGE_S` is charged to the budget,
    so the result never depends on the clock.
    """
    settings = budget.settings
    p = rm.problem
    ledger = _Ledger(rm)
    subs: dict[str, RosterModel | None] = {}
    schedule: dict[str, dict[int, Variant]] = {}
    fits: dict[str, bool] = {}
    order = sorted(
        p.agents,
        key=lambda a: (sum(len(rm.options.get((a.id, d), [])) for d in range(p.grid.days)), a.id),
    )

    def sub_model(a: Agent) -> RosterModel | None:
        if a.id not in subs:
            sub = build_model(single_agent_problem(p, a))
            subs[a.id] = sub if sub.x else None
        return subs[a.id]

    def run(sub: RosterModel, limit_s: float, **params: bool) -> tuple[cp_model.CpSolver, int]:
        limit = max(MIN_SUBSOLVE_S, min(limit_s, budget.left(stage)))
        solver = make_solver(settings, limit, workers=1, seed=seed, **params)
        code = solver.Solve(sub.model)
        budget.charge(work_s(solver, sub.model) + SUBMODEL_CHARGE_S)
        if reached_net(solver, settings, code):
            budget.warn("best responses", f"{solver.parameters.max_time_in_seconds:.0f} s")
        return solver, code

    def hint_with(sub: RosterModel, sched: dict[int, Variant]) -> None:
        sub.model.ClearHints()
        for k in sub.x:
            sub.model.AddHint(sub.x[k], int(k[1] in sched and sched[k[1]].id == k[2]))

    if start is not None:
        for a in order:
            sched = {
                d: v
                for d in range(p.grid.days)
                for v, _ in rm.shifts(a.id, d)
                if start.get((a.id, d, v.id), 0)
            }
            _, q_of = ledger.interval_gain(a)
            schedule[a.id] = sched
            ledger.apply(a, sched, +1, q_of)
        for a in order:  # does each agent's start keep that agent's own rules?
            if budget.left(stage) <= 0:
                break
            sub = sub_model(a)
            if sub is None:
                continue
            hint_with(sub, schedule[a.id])
            sub.model.ClearObjective()
            _, code = run(sub, CHECK_S, fix_variables_to_their_hinted_value=True)
            fits[a.id] = code in (cp_model.OPTIMAL, cp_model.FEASIBLE)
        order = sorted(order, key=lambda a: fits.get(a.id, True))  # repair the broken starts first
    passes = 0
    while budget.left(stage) > 0 and (max_passes is None or passes < max_passes):
        changed = False
        for a in order:
            if budget.left(stage) <= 0:
                break
            sub = sub_model(a)
            if sub is None:
                continue
            old = schedule.get(a.id)
            if old is not None:
                ledger.apply(a, old, -1)
            scores = _scores(rm, sub, a, ledger)
            keys = list(sub.x)
            sub.model.Maximize(
                cp_model.LinearExpr.WeightedSum(
                    [sub.x[k] for k in keys], [int(round(scores[k] * SCALE)) for k in keys]
                )
            )
            if old is not None and fits.get(a.id, True):
                hint_with(sub, old)
            else:
                # a start that breaks the agent's rules would only mislead the search
                sub.model.ClearHints()
            # a broken start is repaired fast (the first solution); later passes improve it
            broken = not fits.get(a.id, True)
            solver, code = run(sub, PER_AGENT_S, stop_after_first_solution=broken)
            for scale in REPAIR_SCALES if broken else ():
                if code != cp_model.UNKNOWN:
                    break  # a long horizon's first schedule may need more than one solve's limit
                solver, code = run(sub, PER_AGENT_S * scale, stop_after_first_solution=True)
            new = old if old is not None else {}
            if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                found = {
                    k[1]: next(o for o in sub.options[(a.id, k[1])] if o.id == k[2])
                    for k in keys
                    if solver.Value(sub.x[k])
                }
                old_score = sum(scores.get((a.id, d, v.id), 0.0) for d, v in (old or {}).items())
                new_score = sum(scores.get((a.id, d, v.id), 0.0) for d, v in found.items())
                # take it if the old one broke the agent's rules, or if strictly better (ties would
                # never converge)
                if old is None or not fits.get(a.id, True) or new_score > old_score + 1e-9:
                    new = found
            if new != old:
                changed = True
                fits[a.id] = True
            _, q_of = ledger.interval_gain(a)
            schedule[a.id] = new
            ledger.apply(a, new, +1, q_of)
        passes += 1
        if not changed:
            break
    picked = {k: 0 for k in rm.x}
    for aid, sched in schedule.items():
        for d, v in sched.items():
            if (aid, d, v.id) in picked:
                picked[(aid, d, v.id)] = 1
    return picked
