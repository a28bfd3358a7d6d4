"""The CP-SAT roster engine: problem (``model``), ``build``, ``solve``, ``extract``, ``explain``,
``validate``.

:func:`plan` runs the whole pipeline for a :class:`RosterProblem`; other
stages may instead call ``build_model`` → add constraints/terms → ``solve`` →
``extract`` themselves (see :mod:`staffplan.roster.build`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from staffplan.errors import InfeasibleError
from staffplan.roster.build import build_model
from staffplan.roster.cpmodel import RosterModel, Term, objective_expr
from staffplan.roster.explain import explain_infeasible, gap_notes, precheck
from staffplan.roster.extract import Roster, allocate, extract, on_phone_matrix
from staffplan.roster.heuristics.anneal import MOVES_PER_S, search_chains, searchable
from staffplan.roster.heuristics.best_response import DETERMINISTIC_PASSES, best_response_hint
from staffplan.roster.heuristics.colgen import Decomposed, decomposed_start
from staffplan.roster.heuristics.greedy import greedy_hint
from staffplan.roster.heuristics.lns import improve
from staffplan.roster.problem import SCALE, RosterProblem
from staffplan.roster.solver import (
    LpJob,
    Progress,
    SolveResult,
    complete_hint,
    objective_of,
    relative_gap,
    solve,
)
from staffplan.scenario import SolveSettings

__all__ = [
    "Outcome",
    "Roster",
    "RosterModel",
    "RosterProblem",
    "SolveResult",
    "SolveSettings",
    "Term",
    "allocate",
    "build_model",
    "extract",
    "on_phone_matrix",
    "plan",
    "solve",
]


@dataclass(frozen=True, eq=False)
class Outcome:
    """A solved roster with its solve result and notes on gaps no roster could close."""

    result: SolveResult
    roster: Roster
    notes: tuple[str, ...]
    model: RosterModel


def plan(
    problem: RosterProblem, settings: SolveSettings | None = None, progress: Progress | None = None
) -> Outcome:
    """Build, pre-check, solve and extract; raises :class:`InfeasibleError` with reasons if no
    roster exists.

    The time limit covers everything: the greedy start; on models that price
    interval coverage, local search over whole shifts until ``search_share`` of
    the limit has passed (:func:`~staffplan.roster.heuristics.anneal.search_chains`, one
    chain per worker; the model's LP bound is solved meanwhile when
    ``lp_bound`` is set); best responses until ``improve_share`` of the limit
    has passed (each agent's week re-optimised against the
    others, :func:`~staffplan.roster.heuristics.greedy.best_response_hint`); then — for at
    most ``colgen_share`` of the time left, when the model decomposes by agent —
    column generation and the rounding of its LP
    (:func:`~staffplan.roster.heuristics.colgen.decomposed_start`; its bound is kept, and a
    roster meeting it ends the solve), then CP-SAT from the best start, then large-neighbourhood
    search from CP-SAT's roster for
    ``lns_share`` of the time CP-SAT would otherwise have had
    (:func:`~staffplan.roster.heuristics.lns.improve`; skipped when CP-SAT proves its
    roster optimal). Reported times count from the call.
    """
    settings = settings or SolveSettings()
    t0 = time.perf_counter()
    rm = build_model(problem)
    pre = precheck(rm)
    if pre:
        raise InfeasibleError("no roster satisfies the hard rules", reasons=pre)
    greedy = greedy_hint(rm)
    hint, first_s = greedy, None
    lp = None
    search = settings.search_share > 0 and searchable(rm)
    if settings.improve_share > 0 or search:
        budget_end = (
            t0 + settings.improve_share * settings.time_limit_s
        )  # best responses polish what is left of their share
        first = complete_hint(
            rm, greedy, settings
        )  # a proven-feasible roster before the best responses start
        passes = DETERMINISTIC_PASSES if settings.deterministic else None
        if (
            first is None
        ):  # the greedy start breaks a rule: one pass repairs every agent's week first
            repair_end = (
                t0
                + max(settings.improve_share, settings.search_share if search else 0.0)
                * settings.time_limit_s
            )
            hint = best_response_hint(
                rm, repair_end - time.perf_counter(), settings.seed, start=greedy, max_passes=1
            )
            first = complete_hint(rm, hint, settings)
            passes = None if passes is None else passes - 1
        if first is not None:
            first_s = time.perf_counter() - t0
            if progress is not None:
                obj0 = objective_of(rm, first)
                progress(first_s, obj0, 0.0, relative_gap(obj0, 0.0))
        searched = search and first is not None
        if searched:
            hint, lp = _search(rm, hint, settings, progress, t0)
        polish = settings.improve_share > 0 and (passes is None or passes > 0)
        # only what is left of their share (deterministic mode: only if that share is the longer
        # one)
        if searched:
            polish = polish and (
                settings.improve_share > settings.search_share
                if settings.deterministic
                else time.perf_counter() < budget_end
            )
        if polish:  # the break-plan counts of the shifts they leave alone still hold
            counts = {k: v for k, v in hint.items() if len(k) == 4}
            hint = counts | best_response_hint(
                rm, budget_end - time.perf_counter(), settings.seed, start=hint, max_passes=passes
            )
    # deterministic mode: budgets in deterministic time, never from the wall clock spent so far
    left = (
        settings.time_limit_s
        if settings.deterministic
        else max(settings.time_limit_s - (time.perf_counter() - t0), 1.0)
    )
    cg: Decomposed | None = None
    if settings.colgen_share > 0 and rm.terms:
        cg_progress = progress
        if (
            progress is not None and lp is not None
        ):  # progress lines keep the LP bound once it is known

            def cg_progress(t: float, obj: float, b: float, gap: float) -> None:
                if lp.bound is not None and lp.bound / SCALE > b:
                    b = min(lp.bound / SCALE, obj)
                    gap = relative_gap(obj, b)
                progress(t, obj, b, gap)

        cg = decomposed_start(rm, hint, settings, settings.colgen_share * left, cg_progress, t0)
        if cg is not None:
            hint = cg.hint
            if cg.optimal:
                return _finish(problem, rm, cg.result(rm, t0, first_s))
            left = (
                settings.time_limit_s * (1 - settings.colgen_share)
                if settings.deterministic
                else max(settings.time_limit_s - (time.perf_counter() - t0), 1.0)
            )
    lns_s = settings.lns_share * left
    if (
        lp is None
        and settings.lns_share > 0
        and settings.lp_bound
        and rm.terms
        and (cg is None or not cg.converged)
    ):
        rm.model.Minimize(objective_expr(rm))  # the LP job copies the model now
        lp = LpJob(rm.model, left)
    cp_settings = replace(settings, time_limit_s=max(left - lns_s, 1.0))
    known = None if cg is None else cg.bound
    result = solve(
        rm,
        cp_settings,
        progress,
        hint=hint,
        t0=t0,
        fallback_hint=greedy,
        lp=lp,
        wait_lp=lp is None,
        known_bound=known,
    )
    if settings.lns_share > 0 and result.status == "FEASIBLE":
        result = _improve(
            rm,
            result,
            settings,
            lp,
            progress,
            t0,
            settings.time_limit_s - (time.perf_counter() - t0),
            known,
        )
    elif known is not None and result.feasible:
        result = _with_bound(result, known)
    if (
        first_s is not None
        and result.feasible
        and (result.first_solution_seconds is None or first_s < result.first_solution_seconds)
    ):
        result = replace(result, first_solution_seconds=first_s)
    return _finish(problem, rm, result, settings)


def _search(
    rm: RosterModel,
    hint: dict[tuple[str, int, str], int],
    settings: SolveSettings,
    progress: Progress | None,
    t0: float,
) -> tuple[dict[tuple[str, int, str], int], LpJob | None]:
    """Local search from ``hint`` for ``search_share`` of the limit (deterministic mode: a fixed
    number of moves), one chain per worker.

    The LP bound job (when wanted) starts once the extra chains are forked and shares the cores with
    them.
    """
    budget = settings.search_share * settings.time_limit_s
    max_moves = int(budget * MOVES_PER_S) if settings.deterministic else None
    if (
        not settings.deterministic
    ):  # the share counts from the call: the build and the first roster came out of it
        budget = max(t0 + budget - time.perf_counter(), 0.1)
    lp: list[LpJob] = []

    def start_lp() -> None:
        if settings.lp_bound and settings.lns_share > 0:
            rm.model.Minimize(objective_expr(rm))  # the LP job copies the model now
            lp.append(LpJob(rm.model, settings.time_limit_s))

    def report(obj: float) -> None:
        if progress is not None:
            b = lp[0].bound / SCALE if lp and lp[0].bound is not None else 0.0
            progress(time.perf_counter() - t0, obj, min(b, obj), relative_gap(obj, min(b, obj)))

    found = search_chains(
        rm,
        hint,
        budget,
        settings.seed,
        chains=max(settings.workers, 1),
        max_moves=max_moves,
        on_improve=report,
        after_fork=start_lp,
    )
    return (found.hint if found.objective < found.start_objective else hint), (
        lp[0] if lp else None
    )


def _with_bound(result: SolveResult, bound: float) -> SolveResult:
    """``result`` with ``bound`` [objective units] if it is better than its own (OPTIMAL once it
    meets the objective).
    """
    if result.objective is None or (result.bound is not None and result.bound >= bound):
        return result
    b = min(bound, result.objective)
    return replace(
        result,
        bound=b,
        gap=relative_gap(result.objective, b),
        status="OPTIMAL" if b >= result.objective else result.status,
    )


def _finish(
    problem: RosterProblem,
    rm: RosterModel,
    result: SolveResult,
    settings: SolveSettings | None = None,
) -> Outcome:
    """Explain a failed solve, or extract the roster."""
    if result.status == "INFEASIBLE":
        raise explain_infeasible(problem, settings or SolveSettings())
    if not result.feasible:
        raise InfeasibleError(
            f"no roster found within the time limit (status {result.status})",
            hint="raise --time-limit, or relax the contracts (the hard rules may be impossible "
            "to meet)",
        )
    roster = extract(problem, rm, result)
    diff = roster.allocation - problem.demand.required
    return Outcome(result, roster, tuple(gap_notes(rm, diff)), rm)


def _improve(
    rm: RosterModel,
    result: SolveResult,
    settings: SolveSettings,
    lp: LpJob | None,
    progress: Progress | None,
    t0: float,
    budget_s: float,
    known: float | None = None,
) -> SolveResult:
    """Large-neighbourhood search from CP-SAT's roster for ``budget_s`` [s] (deterministic mode:
    ``lns_share`` of the limit, deterministic s); the bound is the highest of CP-SAT's, the LP's
    and ``known`` (column generation's).
    """
    start = list(result.solution) if result.solution else complete_hint(rm, result.values, settings)
    bound = (
        result.bound
        if known is None
        else max(result.bound if result.bound is not None else known, known)
    )
    budget = settings.lns_share * settings.time_limit_s if settings.deterministic else budget_s
    if start is not None and budget > 0.5:

        def report(obj: float) -> None:
            if progress is not None:
                b = bound if bound is not None else 0.0
                b = max(b, lp.bound / SCALE) if lp is not None and lp.bound is not None else b
                progress(time.perf_counter() - t0, obj, min(b, obj), relative_gap(obj, min(b, obj)))

        found = improve(
            rm,
            start,
            budget,
            seed=settings.seed,
            workers=settings.workers,
            deterministic=settings.deterministic,
            on_improve=report,
            hold=None if lp is None else (lambda: not lp.done()),
            target=bound,
        )
        if found.optimal:
            bound = found.objective  # a neighbourhood freeing every shift was solved to optimality
        if found.objective < result.objective:
            result = replace(
                result,
                objective=found.objective,
                values={k: int(found.values[v.Index()]) for k, v in rm.x.items()},
                term_values={t.name: int(found.values[t.var.Index()]) for t in rm.terms},
                solution=tuple(int(v) for v in found.values),
            )
    extra = (
        lp.result(max(t0 + settings.time_limit_s - time.perf_counter(), 0.0) + 0.5)
        if lp is not None
        else None
    )  # never past the limit
    if extra is not None:
        bound = max(bound if bound is not None else extra / SCALE, extra / SCALE)
    if bound is not None:
        bound = min(bound, result.objective)
        status = "OPTIMAL" if bound >= result.objective else result.status
        result = replace(
            result, status=status, bound=bound, gap=relative_gap(result.objective, bound)
        )
    return replace(result, solve_seconds=time.perf_counter() - t0)
