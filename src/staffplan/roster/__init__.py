"""The CP-SAT roster engine: problem (``model``), ``build``, ``solve``, ``extract``, ``explain``, ``validate``.

:func:`plan` runs the whole pipeline for a :class:`RosterProblem`; other
stages may instead call ``build_model`` → add constraints/terms → ``solve`` →
``extract`` themselves (see :mod:`staffplan.roster.build`).
"""

from __future__ import annotations

from dataclasses import dataclass

from staffplan.errors import InfeasibleError
from staffplan.roster.build import RosterModel, Term, build_model
from staffplan.roster.explain import explain_infeasible, gap_notes, precheck
from staffplan.roster.extract import Roster, allocate, extract, on_phone_matrix
from staffplan.roster.hint import greedy_hint
from staffplan.roster.model import RosterProblem
from staffplan.roster.solve import Progress, SolveResult, SolveSettings, solve

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
    """Build, pre-check, solve and extract; raises :class:`InfeasibleError` with reasons if no roster exists."""
    settings = settings or SolveSettings()
    rm = build_model(problem)
    pre = precheck(rm)
    if pre:
        raise InfeasibleError("no roster satisfies the hard rules", reasons=pre)
    result = solve(rm, settings, progress, hint=greedy_hint(rm))
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
