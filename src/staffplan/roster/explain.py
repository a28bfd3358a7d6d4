"""Why a roster cannot be built, or why it leaves gaps — in a planner's words.

1. Pre-checks before solving: an agent whose contract minimum cannot be
   reached given absences, availability and allowed templates; a hard
   ``minimum`` at an interval where no agent with the skill can be on shift.
2. When CP-SAT proves infeasibility: the model is rebuilt with one
   enforcement literal per (rule, agent[, week/template/date]) and solved with
   those literals as assumptions; ``sufficient_assumptions_for_infeasibility``
   names a conflicting set of rules and agents.
3. Gap notes for a feasible roster: intervals left short where fewer agents
   with the skill could work at all than the target asks for.
"""

from __future__ import annotations

import time

import numpy as np

from staffplan.errors import InfeasibleError, Reason
from staffplan.roster.build import build_model
from staffplan.roster.cpmodel import RosterModel
from staffplan.roster.problem import RosterProblem
from staffplan.roster.rules import week_limits
from staffplan.roster.solver import solve
from staffplan.settings import SolveSettings

SUGGESTIONS = {
    "weekly paid minutes": "lower the contract's min_minutes_week, allow more templates, or "
    "check the agent's absences and availability",
    "max days per week": "raise max_days_week or lower the minimum paid minutes",
    "paid minutes over the horizon": "check min/max_minutes_horizon against the days the agent "
    "can work",
    "max consecutive days": "raise max_consecutive_days or give a day off in the previous roster",
    "min consecutive days": "lower min_consecutive_days",
    "min days off in a row": "lower min_days_off_in_row",
    "minimum rest between shifts": "lower min_rest_hours or allow earlier/later shift starts",
    "forbidden shift succession": "relax not_followed_by in shifts.csv",
    "rest after the previous roster": "check the previous roster's last shift or min_rest_hours",
    "max weekends": "raise max_weekends",
    "max shifts per template": "raise max_shifts for this template",
    "minimum cover": "lower the requirement's minimum or add agents with this skill",
}


def _dayname(problem: RosterProblem, t: int) -> str:
    ts = problem.grid.starts[t]
    return f"{ts.strftime('%a')} {ts.date()}"


def _span_text(problem: RosterProblem, t0: int, t1: int) -> str:
    a = problem.grid.starts[t0]
    b = problem.grid.starts[t1 - 1] + np.timedelta64(problem.grid.interval_min, "m")
    return f"{_dayname(problem, t0)} {a.strftime('%H:%M')}–{b.strftime('%H:%M')}"


def possible_on_phone(rm: RosterModel) -> np.ndarray:
    """(n_queues, n): agents serving each queue who could be on the phones in each interval at
    all.
    """
    p = rm.problem
    n, nq = p.grid.n, len(p.demand.queues)
    out = np.zeros((nq, n), dtype=np.int64)
    for a in p.agents:
        mask = np.zeros(n, dtype=bool)
        for d in range(p.grid.days):
            for v, _ in rm.shifts(a.id, d):
                lo, hi, _holes = rm.phone[(d, v.id)]
                mask[lo:hi] = True
        for q in p.agent_queues(a):
            out[q] += mask
    return out


def precheck(rm: RosterModel) -> list[Reason]:
    """Reasons found before solving (empty if none)."""
    p = rm.problem
    reasons: list[Reason] = []
    for a in p.agents:
        c = p.contracts[a.contract]
        for k, (block, lo, hi) in enumerate(week_limits(rm, a)):
            if lo > hi:
                reasons.append(
                    Reason(
                        "weekly paid minutes",
                        f"agent {a.id} ({a.name}), week {k + 1}",
                        f"contract {c.id} needs at least {lo} and at most {hi} paid min in "
                        f"this {len(block)}-day week (limits pro-rated by days/7)",
                        SUGGESTIONS["weekly paid minutes"],
                    )
                )
                continue
            if lo <= 0:
                continue
            best = sorted(
                (max((v.paid_minutes for v, _ in rm.shifts(a.id, d)), default=0) for d in block),
                reverse=True,
            )
            reach = sum(best[: c.max_days_week])
            if reach < lo:
                days = sum(1 for d in block if (a.id, d) in rm.work)
                reasons.append(
                    Reason(
                        "weekly paid minutes",
                        f"agent {a.id} ({a.name}), week {k + 1}",
                        f"contract {c.id} needs at least {lo} paid min but the agent can work "
                        f"at most {reach} "
                        f"min ({days} workable days after absences, "
                        "availability and "
                        "allowed templates)",
                        SUGGESTIONS["weekly paid minutes"],
                    )
                )
    dem = p.demand
    if dem.minimum.any():
        possible = possible_on_phone(rm)
        for q in range(len(dem.queues)):
            short = dem.minimum[q] > possible[q]
            for t0, t1 in _runs(short):
                who = possible[q, t0:t1].min()
                reasons.append(
                    Reason(
                        "minimum cover",
                        f"{dem.queues[q]}, {_span_text(p, t0, t1)}",
                        f"a hard minimum of {int(dem.minimum[q, t0:t1].max())} agents but only "
                        f"{int(who)} agent(s) with skill {dem.skills[q]} can be on shift "
                        "then (the others "
                        "are absent, "
                        "unavailable or not allowed such "
                        "shifts)",
                        SUGGESTIONS["minimum cover"],
                    )
                )
    return reasons


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    out = []
    t, n = 0, len(mask)
    while t < n:
        if mask[t]:
            s = t
            while t < n and mask[t]:
                t += 1
            out.append((s, t))
        else:
            t += 1
    return out


def explain_infeasible(problem: RosterProblem, settings: SolveSettings) -> InfeasibleError:
    """Rebuild with enforcement literals, solve with them as assumptions, and name the conflicting
    rules.
    """
    rm = build_model(problem, explain=True)
    pre = precheck(rm)
    if pre:
        return InfeasibleError(
            "no roster satisfies the hard rules", reasons=pre, hint="see the reasons below"
        )
    lits = rm.guard_literals()
    res = solve(
        rm,
        SolveSettings(max(settings.time_limit_s, 5.0), 1, settings.seed, settings.deterministic),
        assumptions=lits,
    )
    core = _minimize_core(rm, list(res.core), settings)
    reasons = []
    for idx in core:
        g = rm.guards.get(idx)
        if g is None:
            continue
        who = f"agent {g.agent}" if g.rule != "minimum cover" else f"queue {g.agent}"
        where = who + (f", {g.detail}" if g.detail else "")
        c = next((problem.contracts[a.contract] for a in problem.agents if a.id == g.agent), None)
        detail = (
            f"this rule cannot hold together with the others listed (contract {c.id})"
            if c
            else "this rule cannot hold together with the others listed"
        )
        reasons.append(Reason(g.rule, where, detail, SUGGESTIONS.get(g.rule, "")))
    if not reasons:
        reasons.append(
            Reason(
                "hard rules",
                "whole roster",
                f"the solver found no roster within the time limit (status {res.status})",
                "raise --time-limit or relax contracts",
            )
        )
    return InfeasibleError("no roster satisfies the hard rules", reasons=reasons)


def _minimize_core(
    rm: RosterModel, core: list[int], settings: SolveSettings, budget_s: float = 20.0
) -> list[int]:
    """Drop assumptions one by one while the rest stays infeasible (a smaller, clearer set of
    reasons), for at most ``budget_s`` [s] of wall time (deterministic mode: every assumption is
    tried, each trial on deterministic time, so the reasons never depend on the clock).
    """
    lits = {lit.Index(): lit for lit in rm.guard_literals()}
    keep = [i for i in core if i in lits]
    t0 = time.perf_counter()
    for idx in list(keep):
        late = not settings.deterministic and time.perf_counter() - t0 > budget_s
        if len(keep) <= 1 or late:
            break
        trial = [i for i in keep if i != idx]
        trial_settings = SolveSettings(2.0, 1, settings.seed, settings.deterministic)
        res = solve(rm, trial_settings, assumptions=[lits[i] for i in trial])
        if res.status == "INFEASIBLE":
            keep = trial
    return keep


def template_reach(rm: RosterModel) -> np.ndarray:
    """(n_queues, n): intervals some shift allowed by the contract of an agent with the skill
    covers, ignoring absences.
    """
    p = rm.problem
    n, nq = p.grid.n, len(p.demand.queues)
    out = np.zeros((nq, n), dtype=bool)
    for a in p.agents:
        c = p.contracts[a.contract]
        mask = np.zeros(n, dtype=bool)
        for d in range(p.grid.days):
            for v in p.variants:
                if c.allows(v.template):
                    lo, hi, _holes = rm.phone[(d, v.id)]
                    mask[lo:hi] = True
        for q in p.agent_queues(a):
            out[q] |= mask
    return out


def gap_notes(rm: RosterModel, coverage_diff: np.ndarray) -> list[str]:
    """Shortfalls that no roster could close: fewer agents with the skill could work than the target
    asks.
    """
    p = rm.problem
    dem = p.demand
    possible = possible_on_phone(rm)
    reach = template_reach(rm)
    notes = []
    for q in range(len(dem.queues)):
        blocked = (coverage_diff[q] < 0) & (possible[q] < dem.required[q])
        for t0, t1 in _runs(blocked):
            who = int(possible[q, t0:t1].min())
            head = (
                f"{_span_text(p, t0, t1)} {dem.queues[q]}: target "
                f"{int(dem.required[q, t0:t1].max())} agents but only {who} agent(s) "
                f"with skill {dem.skills[q]} can be on shift"
            )
            if not reach[q, t0:t1].any():
                notes.append(head + " (no shift template their contracts allow covers these hours)")
                continue
            absent = sorted(
                {
                    ab.agent_id
                    for ab in p.absences
                    for a in p.agents
                    if a.id == ab.agent_id
                    and q in p.agent_queues(a)
                    and ab.start < p.grid.starts[t1 - 1]
                    and p.grid.starts[t0] < ab.end
                }
            )
            notes.append(
                head
                + (
                    f"; absent then: {', '.join(absent)}"
                    if absent
                    else " (the others are unavailable or limited by their contracts)"
                )
            )
    return notes
