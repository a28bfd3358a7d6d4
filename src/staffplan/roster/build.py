"""Build the CP-SAT roster model: decision literals, hard rules, named penalty terms.

:func:`build_model` returns a :class:`~staffplan.roster.cpmodel.RosterModel`
with every hard rule (:data:`staffplan.roster.rules.HARD_RULES`) and the soft
rules' penalty terms; the objective is set at solve time
(:func:`~staffplan.roster.cpmodel.objective_expr`), so other stages (cover
repair, the Curtois importer's checks) add constraints and terms before
solving. ``choose`` narrows the shifts an agent may work on a day (cover pins
the past and prices the repair window this way); ``soft_rules`` replaces the
soft rules (cover prices its own coverage rows).

With ``explain=True`` every hard rule is enforced by a named literal per
(rule, agent) — the assumptions used to explain infeasibility.

Breaks: ``rm.phone[(day, variant_id)]`` is a shift's on-phone span with its
breaks at their windows' midpoints; ``rm.plan_holes[(day, variant_id)]`` the
break holes of each staggered break plan (the midpoint plan first, see
:func:`~staffplan.roster.problem.break_plans`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from functools import partial

from ortools.sat.python import cp_model

from staffplan.io.team import ACTIVITY_KINDS, BLOCKING_KINDS, Agent
from staffplan.roster import rules
from staffplan.roster.cpmodel import RosterModel, Term
from staffplan.roster.problem import (
    RosterProblem,
    Variant,
    break_plans,
    full_intervals,
    touched_intervals,
)

Allowed = Callable[..., list[Variant]]
"""``allowed(candidates=None)``: those of ``candidates`` (default: every variant) the engine's
rules allow an agent on a day (:func:`allowed_variants`)."""
Choose = Callable[[Agent, int, Allowed], Sequence[Variant]]
"""The variants the model may give an agent on a horizon day, given its ``allowed`` function."""


def agent_blocks(
    problem: RosterProblem,
) -> tuple[dict[str, list[tuple[int, int]]], dict[str, list[tuple[int, int]]]]:
    """Per agent: blocking absences (vacation, sickness ...) and activities (training, meetings)
    as elapsed spans [min]."""
    blocking: dict[str, list[tuple[int, int]]] = defaultdict(list)
    activity: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for a in problem.absences:
        span = (problem.elapsed(a.start), problem.elapsed(a.end))
        if a.kind in BLOCKING_KINDS:
            blocking[a.agent_id].append(span)
        elif a.kind in ACTIVITY_KINDS:
            activity[a.agent_id].append(span)
    return blocking, activity


def allowed_variants(
    problem: RosterProblem,
    agent: Agent,
    day: int,
    blocking: list[tuple[int, int]],
    activity: list[tuple[int, int]],
    candidates: Sequence[Variant] | None = None,
) -> list[Variant]:
    """Variants (of ``candidates``, default all) the agent may work on ``day``: contract templates,
    availability, absences, activities.
    """
    contract = problem.contracts[agent.contract]
    rows = problem.availability_on(agent.id, problem.date(day))
    # spans ending before the day or starting after its latest shift end (with an hour of
    # daylight-saving margin) cannot touch a shift starting that day
    d0 = problem.start_elapsed(day, 0) - 60
    reach = d0 + 120 + max((v.start_min + v.length_min for v in problem.variants), default=0)
    blocking = [(s, e) for s, e in blocking if e > d0 and s < reach]
    activity = [(s, e) for s, e in activity if e > d0 and s < reach]
    out = []
    for v in problem.variants if candidates is None else candidates:
        if not contract.allows(v.template):
            continue
        if rows and not any(
            r.from_min <= v.start_min and v.start_min + v.length_min <= r.to_min for r in rows
        ):
            continue
        if blocking or activity:
            e0 = problem.start_elapsed(day, v.start_min)
            e1 = e0 + v.length_min
            if any(s < e1 and e0 < e for s, e in blocking):
                continue
            if any(s < e1 and e0 < e and not (e0 <= s and e <= e1) for s, e in activity):
                continue
        out.append(v)
    return out


def build_model(
    problem: RosterProblem,
    *,
    explain: bool = False,
    choose: Choose | None = None,
    soft_rules: Sequence[Callable[[RosterModel], list[Term]]] = rules.SOFT_RULES,
    kept: Mapping[tuple[str, int], tuple[int, int]] | None = None,
) -> RosterModel:
    """Create variables, hard rules and penalty terms for ``problem`` (the objective is set at
    solve time).

    ``choose(agent, day, allowed)``: the variants the agent may work that day;
    ``allowed(candidates=None)`` gives those of ``candidates`` (default every
    variant) the engine's rules allow (:func:`allowed_variants`). Default: all
    allowed variants.

    ``kept``: (agent, day) -> (paid minutes, elapsed end [min]) of shifts kept as they are on
    days ``choose`` gives no option (:attr:`RosterModel.kept`); read after every ``choose`` call,
    so ``choose`` may fill it.
    """
    rm = RosterModel(problem, cp_model.CpModel(), explain=explain)
    blocking, activity = agent_blocks(problem)
    grid = problem.grid
    step = min(15, grid.interval_min)
    tmpl = problem.template_by_id
    for day in range(grid.days):
        for v in problem.variants:
            e0 = problem.start_elapsed(day, v.start_min)
            rm.elapsed[(day, v.id)] = (e0, e0 + v.length_min)
            lo, hi = full_intervals(e0, e0 + v.length_min, grid.interval_min, grid.n)
            t = tmpl[v.template]
            plans = break_plans(t, step, problem.break_plans)
            rm.plan_holes[(day, v.id)] = tuple(
                tuple(
                    touched_intervals(e0 + o, e0 + o + b.minutes, grid.interval_min, grid.n)
                    for o, b in zip(offs, t.breaks, strict=True)
                )
                for offs in plans
            )
            rm.phone[(day, v.id)] = (lo, hi, rm.plan_holes[(day, v.id)][0])
    for a in problem.agents:
        acts = activity.get(a.id, [])
        for day in range(grid.days):
            allowed = partial(allowed_variants, problem, a, day, blocking.get(a.id, []), acts)
            opts = allowed() if choose is None else list(choose(a, day, allowed))
            if not opts:
                continue
            rm.options[(a.id, day)] = opts
            lits = []
            for v in opts:
                lit = rm.model.NewBoolVar(f"x[{a.id},{day},{v.id}]")
                rm.x[(a.id, day, v.id)] = lit
                lits.append(lit)
            w = rm.model.NewBoolVar(f"work[{a.id},{day}]")
            rm.model.Add(sum(lits) == w)  # at most one shift a day
            rm.work[(a.id, day)] = w
        if acts:
            rm.activities[a.id] = sorted(acts)
    rm.kept = {k: v for k, v in (kept or {}).items() if k not in rm.options}
    for rule in rules.HARD_RULES:
        rule(rm)
    for soft in soft_rules:
        soft(rm)
    return rm
