"""Why a roster cannot be built, or why it leaves gaps — in a planner's words.

1. Pre-checks before solving: nobody can work at all (every agent absent or
   unavailable: the absences are named); an agent whose contract minimum
   cannot be reached given absences, availability and allowed templates; a
   hard ``minimum`` at an interval where no agent with the skill can be on
   shift; then one small CP-SAT model per class of agents with the same
   contract and personal constraints (:func:`agent_checks`), which names the
   conflicting rules of an agent's own contract (e.g. ``min_consecutive_days``
   against ``min_rest_hours``) however large the team.
2. When CP-SAT proves infeasibility: the model is rebuilt with one
   enforcement literal per (rule, agent[, week/template/date]) and solved with
   those literals as assumptions; ``sufficient_assumptions_for_infeasibility``
   names a conflicting set of rules and agents.
3. Gap notes for a feasible roster: intervals left short where fewer agents
   with the skill could work at all than the target asks for.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from staffplan.errors import InfeasibleError, Reason
from staffplan.io.team import Agent, Contract
from staffplan.roster.build import build_model
from staffplan.roster.cpmodel import RosterModel
from staffplan.roster.problem import RosterProblem, single_agent_problem
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


MAX_AGENT_CLASSES = 64
"""One-agent models :func:`agent_checks` solves at most (the first classes by agent id)."""
AGENT_CHECK_S = 2.0
"""Deterministic time limit of each one-agent model [deterministic s]."""


def nobody_works(rm: RosterModel) -> list[Reason]:
    """A reason if no agent can work any shift of the horizon, naming the absences (else [])."""
    p = rm.problem
    if not p.agents or rm.work:
        return []
    absent = sorted(
        (ab.agent_id, str(ab.start.date()), ab.kind, str((ab.end - pd.Timedelta(1)).date()))
        for ab in p.absences
        if ab.start < p.grid.starts[-1] + np.timedelta64(p.grid.interval_min, "m")
        and p.grid.starts[0] < ab.end
    )
    listed = [f"{a} {k} {s0}" + ("" if s1 == s0 else f" to {s1}") for a, s0, k, s1 in absent]
    more = f" and {len(listed) - 10} more" if len(listed) > 10 else ""
    detail = f"none of the {len(p.agents)} agents can work a shift in the horizon" + (
        f"; absences: {'; '.join(listed[:10])}{more}" if listed else ""
    )
    return [
        Reason(
            "nobody can work",
            "whole team",
            detail,
            "check the absences, availability and the contracts' allowed templates",
        )
    ]


def _class_key(p: RosterProblem, a: Agent) -> tuple[object, ...]:
    """Agents with equal keys have the same one-agent hard rules."""

    def mine(items: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(replace(x, agent_id="") for x in items if x.agent_id == a.id)

    return (a.contract, mine(p.absences), mine(p.availability), mine(p.previous))


def agent_checks(rm: RosterModel, personal: bool = True) -> list[Reason]:
    """Each class of agents alone (no demand, shift cover or preferences, so a relaxation of the
    roster): if its own hard rules conflict, the rules in the conflict and the agents it binds.

    A one-agent model per class, solved on deterministic time with the rules as
    assumptions (a class whose model is not settled within :data:`AGENT_CHECK_S`
    passes). ``personal=False`` checks only agents without absences,
    availability or previous shifts: one model per contract, cheap enough before
    every solve.
    """
    p = rm.problem
    classes: dict[tuple[object, ...], list[Agent]] = {}
    for a in sorted(p.agents, key=lambda x: x.id):
        key = _class_key(p, a)
        if personal or not any(key[1:]):
            classes.setdefault(key, []).append(a)
    reasons: list[Reason] = []
    check = SolveSettings(AGENT_CHECK_S, 1, 0, deterministic=True)
    for members in list(classes.values())[:MAX_AGENT_CLASSES]:
        one = build_model(single_agent_problem(p, members[0]), explain=True, soft_rules=())
        res = solve(one, check, assumptions=one.guard_literals())
        if res.status != "INFEASIBLE":
            continue
        core = _minimize_core(one, list(res.core), check)
        rules = sorted({one.guards[i].rule for i in core if i in one.guards})
        c = p.contracts[members[0].contract]
        names = ", ".join(f"{a.id} ({a.name})" for a in members[:10])
        more = f" and {len(members) - 10} more" if len(members) > 10 else ""
        for rule in rules or ["hard rules"]:
            others = [r for r in rules if r != rule]
            reasons.append(
                Reason(
                    rule,
                    f"agent{'s' if len(members) > 1 else ''} {names}{more}",
                    f"contract {c.id}: cannot hold for the agent alone"
                    + (f" together with {', '.join(others)}" if others else "")
                    + f" ({_contract_text(c)})",
                    SUGGESTIONS.get(rule, "relax the contract"),
                )
            )
    return reasons


def _contract_text(c: Contract) -> str:
    return (
        f"{c.min_minutes_week}-{c.max_minutes_week} paid min/week, at most "
        f"{c.max_days_week} days/week, {c.min_consecutive_days}-{c.max_consecutive_days} "
        f"days in a row, {c.min_rest_hours:g} h rest"
    )


def precheck(rm: RosterModel) -> list[Reason]:
    """Reasons found before solving (empty if none); one-agent models of the contracts run only
    when the cheap checks find nothing.
    """
    reasons = _cheap_checks(rm)
    return reasons or agent_checks(rm, personal=False)


def unsolved(rm: RosterModel, status: str) -> InfeasibleError:
    """The error for a solve that found no roster in its time limit: the agents whose own rules
    conflict (every class, absences included) if any, else the time limit.
    """
    reasons = agent_checks(rm)
    if reasons:
        return InfeasibleError("no roster satisfies the hard rules", reasons=reasons)
    return InfeasibleError(
        f"no roster found within the time limit (status {status})",
        hint="raise --time-limit, or relax the contracts (the hard rules may be impossible "
        "to meet)",
    )


def _cheap_checks(rm: RosterModel) -> list[Reason]:
    p = rm.problem
    reasons: list[Reason] = nobody_works(rm)
    if reasons:
        return reasons
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
    pre = precheck(rm) or agent_checks(rm)
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
