"""Minimal-change repair of a published roster after new absences (sick-leave cover).

Inputs: the scenario's roster problem, the published roster (text rows from the
plan store), the new absences and "now". The past is pinned (every agent-day
whose published shift starts before now, and every earlier day, keeps its
published shift); the new absences are hard absences. The repair model
(:func:`staffplan.cover.window.build_window`) is built by the roster's own
``build_model`` and rules, with literals only for the agent-days of the
repair window — keep, extend, move, swap, cancel or call in, move breaks,
reassign a multi-skilled agent's queue — and one fixed literal for every
other published shift, so the engine's hard rules see the whole horizon.
Objective, lexicographic in one solve: restore the published coverage
(:func:`staffplan.cover.published.coverage_counts`, the one coverage
definition also used for every number reported), then fewest changed agents,
then the cost of the actions (``[cover]`` table). "No action" is the solver's
hint. The whole repair — building, the solve and extraction — stays within the
time limit (:func:`staffplan.roster.budget.cover_solve_limit`).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from ortools.sat.python import cp_model

from staffplan.cover.baseline import full_resolve
from staffplan.cover.extract import extract_window, prune
from staffplan.cover.published import (
    coverage_counts,
    no_action_roster,
    parse_rows,
    published_assignment,
    repair_problem,
    repair_window,
)
from staffplan.cover.result import CoverResult, cover_result, infeasible
from staffplan.cover.settings import CoverSettings, NewAbsence
from staffplan.cover.window import build_window
from staffplan.errors import InputError
from staffplan.io.roster_csv import roster_as_text
from staffplan.roster.budget import cover_solve_limit
from staffplan.roster.cpmodel import objective_expr
from staffplan.roster.problem import RosterProblem
from staffplan.roster.solver import make_solver, reached_net
from staffplan.scenario import Scenario
from staffplan.settings import SolveSettings

DEFAULT_SOLVE = SolveSettings(time_limit_s=10.0, workers=2)


def repair(
    problem: RosterProblem,
    published: pd.DataFrame,
    absences: tuple[NewAbsence, ...],
    now: pd.Timestamp,
    *,
    settings: CoverSettings | None = None,
    solve_settings: SolveSettings = DEFAULT_SOLVE,
    scenario: Scenario | None = None,
    full: bool = False,
    recorded: tuple[NewAbsence, ...] = (),
) -> CoverResult:
    """Repair ``published`` (roster.csv text rows) after ``absences`` from ``now``, changing little.

    ``recorded``: absences the published roster already applied (the plan store's, see
    :mod:`staffplan.cover.start`): as hard as the new ones — nobody is proposed during them and
    their agents' contract minimums stay waived — but they do not widen the repair window.

    ``solve_settings.time_limit_s`` is the whole budget [s, or deterministic s]:
    model building, the solve and extraction. One solve of the window model
    (service first, then fewest changed agents, then cost) from the "no action"
    roster as hint. ``full=True`` is the comparison: a re-solve of every day
    from ``now`` on the engine's model with its own objective and no change
    costs (:func:`staffplan.cover.baseline.full_resolve`). Raises
    :class:`InfeasibleError` if even the pinned past cannot be kept.
    """
    t_start = time.perf_counter()
    settings = settings or CoverSettings()
    agents = {a.id for a in problem.agents}
    new = absences
    absences = (*new, *recorded)
    for a in absences:
        if a.agent_id not in agents:
            raise InputError(
                "unknown agent",
                column="--absent",
                expected="an agent_id from agents.csv",
                found=a.text or a.agent_id,
            )
    if full:
        return full_resolve(
            problem, published, absences, now, settings, solve_settings, scenario, t_start
        )
    prob = repair_problem(problem, published, absences, settings)
    text = roster_as_text(published)
    rows = parse_rows(prob, text)
    assignment = published_assignment(prob, rows)
    window = repair_window(prob, new, now, settings.extra_days)
    target = np.minimum(prob.demand.required, coverage_counts(prob, text, (), assignment))
    no_action = no_action_roster(prob, text, absences, now)
    focus = (target > coverage_counts(prob, no_action, absences, assignment)).any(axis=0)
    b = build_window(prob, rows, window, now, absences, settings, assignment, target, focus)
    for idx, val in b.hint.items():
        b.rm.model.AddHint(b.rm.model.GetIntVarFromProtoIndex(idx), val)
    b.rm.model.Minimize(objective_expr(b.rm))
    build_s = time.perf_counter() - t_start
    solver = make_solver(solve_settings, cover_solve_limit(solve_settings, build_s, len(text)))
    t_solve = time.perf_counter()
    code = solver.Solve(b.rm.model)
    solve_s = time.perf_counter() - t_solve
    status = solver.StatusName(code)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise infeasible(status, new)
    warnings = ()
    if reached_net(solver, solve_settings, code):
        warnings = (
            "deterministic mode: the repair's solve stopped at its wall-clock safety net "
            f"({solver.parameters.max_time_in_seconds:.0f} s); this repair may differ from a run "
            "on a less loaded machine",
        )
    roster = extract_window(
        prob, b, lambda v: solver.Value(v) > 0, rows, text, absences, assignment
    )
    model_short = int(sum(solver.Value(s) for s in b.short)) + b.short_const
    if not any((c.date - prob.grid.start).days in window for c in prob.shift_cover):
        roster = prune(prob, roster, no_action, absences, assignment, target, b.lo, b.hi)
    return cover_result(
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
        warnings=warnings,
        recorded=recorded,
    )
