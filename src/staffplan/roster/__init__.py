"""The CP-SAT roster engine: problem (``model``), ``build``, ``solve``, ``extract``, ``explain``, ``validate``.

:func:`plan` runs the whole pipeline for a :class:`RosterProblem`; other
stages may instead call ``build_model`` → add constraints/terms → ``solve`` →
``extract`` themselves (see :mod:`staffplan.roster.build`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from staffplan.errors import InfeasibleError
from staffplan.roster.build import RosterModel, Term, build_model
from staffplan.roster.explain import explain_infeasible, gap_notes, precheck
from staffplan.roster.extract import Roster, allocate, extract, on_phone_matrix
from staffplan.roster.hint import DETERMINISTIC_PASSES, best_response_hint, greedy_hint
from staffplan.roster.model import RosterProblem
from staffplan.roster.solve import (
    Progress,
    SolveResult,
    SolveSettings,
    complete_hint,
    objective_of,
    relative_gap,
    solve,
)

__all__ = [
    "Outcome", "Roster", "RosterModel", "RosterProblem", "SolveResult", "SolveSettings", "Term",
    "allocate", "build_model", "extract", "on_phone_matrix", "plan", "solve",
]  # fmt: skip


@dataclass(frozen=True, eq=False)
class Outcome:
    """A solved roster with its solve result and notes on gaps no roster could close."""

    result: SolveResult
    roster: Roster
    notes: tuple[str, ...]
    model: RosterModel


def plan(problem: RosterProblem, settings: SolveSettings | None = None, progress: Progress | None = None) -> Outcome:
    """Build, pre-check, solve and extract; raises :class:`InfeasibleError` with reasons if no roster exists.

    The time limit covers everything: the greedy start, best responses for
    ``improve_share`` of the limit (each agent's week re-optimised against the
    others, :func:`~staffplan.roster.hint.best_response_hint`), then CP-SAT
    from that start for the rest. Reported times count from the call.
    """
    settings = settings or SolveSettings()
    t0 = time.perf_counter()
    rm = build_model(problem)
    pre = precheck(rm)
    if pre:
        raise InfeasibleError("no roster satisfies the hard rules", reasons=pre)
    greedy = greedy_hint(rm)
    hint, first_s = greedy, None
    if settings.improve_share > 0:
        budget_end = t0 + settings.improve_share * settings.time_limit_s
        first = complete_hint(rm, greedy, settings)  # a proven-feasible roster before the best responses start
        passes = DETERMINISTIC_PASSES if settings.deterministic else None
        if first is None:  # the greedy start breaks a rule: one pass repairs every agent's week first
            hint = best_response_hint(rm, budget_end - time.perf_counter(), settings.seed, start=greedy, max_passes=1)
            first = complete_hint(rm, hint, settings)
            passes = None if passes is None else passes - 1
        if first is not None:
            first_s = time.perf_counter() - t0
            if progress is not None:
                obj0 = objective_of(rm, first)
                progress(first_s, obj0, 0.0, relative_gap(obj0, 0.0))
        if passes is None or passes > 0:
            hint = best_response_hint(rm, budget_end - time.perf_counter(), settings.seed, start=hint, max_passes=passes)
    spent = time.perf_counter() - t0
    result = solve(rm, replace(settings, time_limit_s=max(settings.time_limit_s - spent, 1.0)), progress, hint=hint, t0=t0, fallback_hint=greedy)
    if first_s is not None and result.feasible and (result.first_solution_seconds is None or first_s < result.first_solution_seconds):
        result = replace(result, first_solution_seconds=first_s)
    if result.status == "INFEASIBLE":
        raise explain_infeasible(problem, settings)
    if not result.feasible:
        raise InfeasibleError(
            f"no roster found within the time limit (status {result.status})",
            hint="raise --time-limit, or relax the contracts (the hard rules may be impossible to meet)",
        )
    roster = extract(problem, rm, result)
    diff = roster.allocation - problem.demand.required
    return Outcome(result, roster, tuple(gap_notes(rm, diff)), rm)
