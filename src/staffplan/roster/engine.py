"""The roster engine: :func:`plan` runs the stages of one solve, in order.

build → pre-check → greedy start → first roster → local search → best
responses → column generation → CP-SAT → neighbourhood search → extract.
Each stage is a function of its own module; the time limit is shared among
them by :mod:`staffplan.roster.budget` (on the wall clock, or on deterministic
work with ``deterministic``). Other stages (cover) call ``build_model`` → add
constraints and terms → ``solve`` → ``extract`` themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from staffplan.errors import InfeasibleError
from staffplan.roster.budget import (
    MOVES_PER_S,
    Budget,
    build_work_s,
    finish_reserve_s,
    stage_ends,
)
from staffplan.roster.build import build_model
from staffplan.roster.cpmodel import RosterModel, objective_expr
from staffplan.roster.explain import explain_infeasible, gap_notes, precheck, unsolved
from staffplan.roster.extract import Roster, extract
from staffplan.roster.heuristics.anneal import search_chains, searchable
from staffplan.roster.heuristics.best_response import best_response_hint
from staffplan.roster.heuristics.colgen import decomposed_start
from staffplan.roster.heuristics.greedy import greedy_hint
from staffplan.roster.heuristics.lns import improve
from staffplan.roster.problem import SCALE, RosterProblem
from staffplan.roster.size import check_model_size
from staffplan.roster.solver import (
    COLGEN_BOUND,
    LNS_BOUND,
    LP_BOUND,
    Incumbent,
    LpJob,
    Progress,
    SolveResult,
    best_bound,
    complete_hint,
    incumbent,
    objective_of,
    relative_gap,
    result_of,
    shift_hint,
    solve,
    trivial_bound,
)
from staffplan.settings import SolveSettings

Hint = dict[Any, int]


@dataclass(frozen=True, eq=False)
class Outcome:
    """A solved roster with its solve result, notes on gaps no roster could close, and warnings
    (deterministic stages that reached their wall-clock safety net)."""

    result: SolveResult
    roster: Roster
    notes: tuple[str, ...]
    model: RosterModel
    stage_seconds: Mapping[str, float] = field(default_factory=dict)
    """Wall time of each step of the solve, in order [s] (``build``, ``start``, the stages that
    ran, ``lp wait``, ``tighten``, ``extract``): they add up to the call's time."""

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.result.warnings


def plan(
    problem: RosterProblem, settings: SolveSettings | None = None, progress: Progress | None = None
) -> Outcome:
    """Build, pre-check, solve and extract; raises :class:`InfeasibleError` with reasons if no
    roster exists.

    A problem whose model would need more memory than the machine has is refused first
    (:func:`~staffplan.roster.size.check_model_size`, a ``LimitError``). Stages, each until its
    deadline (:func:`~staffplan.roster.budget.stage_ends`):
    the greedy start, completed into a first roster; on models that price interval
    coverage, local search over whole shifts (one chain per worker; the LP bound is
    solved meanwhile when ``lp_bound`` is set, except in deterministic mode); best
    responses (each agent's week re-optimised against the others); column generation
    and the rounding of its LP when the model decomposes by agent (its bound is kept,
    and a roster meeting it ends the solve); CP-SAT from the best start;
    large-neighbourhood search from CP-SAT's roster unless CP-SAT proved it optimal.
    Reported times count from the call; ``progress`` hears of every improving roster.
    """
    settings = settings or SolveSettings()
    budget = Budget(settings, {})  # the clock starts with the call
    check_model_size(problem, settings.workers)  # refuse a model the machine cannot hold
    rm = build_model(problem)
    proto = rm.model.Proto()
    n_vars = len(proto.variables)
    budget.charge(build_work_s(n_vars, len(proto.constraints)))
    budget.mark("build")
    pre = precheck(rm)
    if pre:
        raise InfeasibleError("no roster satisfies the hard rules", reasons=pre)
    greedy = greedy_hint(rm)
    budget.mark("greedy")
    search = settings.search_share > 0 and searchable(rm)
    polish = settings.improve_share > 0
    colgen = settings.colgen_share > 0 and bool(rm.terms)
    lns = settings.lns_share > 0
    built_s = budget.clock()

    def planned() -> dict[str, float]:
        """Every stage's end, placed from the end of building with the finishing reserve the
        completions timed so far imply (none before the first roster)."""
        return stage_ends(
            settings,
            search=search,
            improve=polish,
            colgen=colgen,
            lns=lns,
            spent_s=built_s,
            reserve_s=finish_reserve_s(settings, n_vars, budget.completion_s),
        )

    budget.ends = planned()
    report = _Reporter(rm, progress, budget)
    hint: Hint = dict(greedy)
    first_s = None
    if search or polish:
        hint, first_s = _start(rm, hint, budget, report, search)
    # the first roster's completion has been timed: keep that much (finishing re-does it) for the
    # stages still to come
    later = planned()
    budget.ends.update({k: later[k] for k in ("colgen", "cpsat", "lns")})
    known = None
    converged = False
    if colgen:
        cg = decomposed_start(rm, hint, budget, progress=report)
        budget.mark("colgen")
        if cg is not None:
            hint, known, converged = cg.hint, cg.bound, cg.converged
            report.known = known
            if cg.optimal:
                return _finish(problem, rm, cg.result(rm, budget, first_s), settings, budget)
    # deterministic mode has no LP bound: its finish depends on the clock, and beside the stages it
    # takes a core (and the GIL while it reads the model), so a deterministic second would no
    # longer take about a second; otherwise CP-SAT uses it if ready, or starts and waits for its own
    lp_wanted = settings.lp_bound and bool(rm.terms) and not converged
    if report.lp is None and lp_wanted and lns and not settings.deterministic:
        _start_lp(rm, report, budget)
    mine = settings.deterministic or report.lp is not None

    # CP-SAT and the neighbourhood search share what the stages before them left: time a stage
    # did not need goes to both in proportion, not to CP-SAT alone
    def late_end(stage: str) -> float:
        """Where ``stage`` (cpsat or lns) ends, placed from now with the finishing reserve the
        completions timed so far imply."""
        return stage_ends(
            settings,
            search=False,
            improve=False,
            colgen=False,
            lns=lns,
            spent_s=budget.clock(),
            reserve_s=finish_reserve_s(settings, n_vars, budget.completion_s),
        )[stage]

    budget.ends["cpsat"] = late_end("cpsat")
    result = solve(
        rm,
        replace(settings, lp_bound=False) if mine else settings,
        report,
        hint=hint,
        fallback_hint=greedy,
        lp=None if settings.deterministic else report.lp,
        wait_lp=not mine,
        known_bound=known,
        budget=budget,
    )
    budget.mark("cpsat")
    # CP-SAT's start was completed too: the end of the last stage keeps the reserve it implies
    budget.ends["lns"] = late_end("lns")
    if lns and result.status == "FEASIBLE":
        result = _improve(rm, result, budget, report, known)
        budget.mark("lns")
    if result.feasible:
        result = _with_lp(rm, result, budget, report)
        budget.mark("lp wait")
    earlier = result.first_solution_seconds is None or (
        first_s is not None and first_s < result.first_solution_seconds
    )
    if first_s is not None and result.feasible and earlier:
        result = replace(result, first_solution_seconds=first_s)
    return _finish(problem, rm, replace(result, warnings=tuple(budget.warnings)), settings, budget)


class _Reporter:
    """Passes improving rosters to ``progress`` with the best bound known so far (the model's
    trivial bound, the LP relaxation's once ready, column generation's)."""

    def __init__(self, rm: RosterModel, progress: Progress | None, budget: Budget) -> None:
        self.rm = rm
        self.progress = progress
        self.budget = budget
        self.lp: LpJob | None = None
        self.known: float | None = None
        self.base = trivial_bound(rm)

    def bound(self, own: float = float("-inf")) -> float:
        b = max(own, self.base)
        if self.lp is not None and self.lp.bound is not None:
            b = max(b, self.lp.bound / SCALE)
        if self.known is not None:
            b = max(b, self.known)
        return b

    def __call__(self, inc: Incumbent) -> None:
        if self.progress is not None:
            b = min(self.bound(inc.bound), inc.objective)
            gap = relative_gap(inc.objective, b) if b > float("-inf") else 1.0
            self.progress(replace(inc, bound=b, gap=gap))

    def values(self, values: list[int], objective: float | None = None) -> None:
        """A full assignment (by variable index) as the new incumbent."""
        if self.progress is not None:
            obj = objective_of(self.rm, values) if objective is None else objective
            self(incumbent(self.rm, values, self.budget.elapsed(), obj, self.bound()))

    def lns(self, objective: float, values: list[int]) -> None:
        """A new incumbent of the neighbourhood search."""
        self.values(values, objective)

    def search(self, objective: float, paid: int, on_phone: np.ndarray) -> None:
        """A new best schedule of the local search."""
        if self.progress is not None:
            b = self.bound()
            self(Incumbent(self.budget.elapsed(), objective, b, 0.0, paid, on_phone))


def _start(
    rm: RosterModel, greedy: Hint, budget: Budget, report: _Reporter, search: bool
) -> tuple[Hint, float | None]:
    """The first roster (the greedy start completed, else repaired by one pass of best responses
    that may run to the last deadline), then the local search and best responses: (hint, seconds
    to the first roster or None)."""
    settings = budget.settings
    first = complete_hint(rm, greedy, settings, budget)
    hint = greedy
    if first is None:
        # the greedy start breaks a rule: one pass repairs every agent's week first; it may use the
        # whole limit (a roster comes before a better one), later stages get what it leaves
        hint = best_response_hint(rm, budget, "lns", seed=settings.seed, start=greedy, max_passes=1)
        first = complete_hint(rm, hint, settings, budget)
    first_s = None
    if first is not None:
        first_s = budget.elapsed()
        report.values(first)
    budget.mark("first roster")
    if first is not None and search:
        hint = _search(rm, hint, budget, report)
        budget.mark("search")
    if settings.improve_share > 0 and budget.left("improve") > 0:
        counts = {k: v for k, v in hint.items() if len(k) == 4}  # break-plan counts still hold
        hint = counts | best_response_hint(rm, budget, "improve", seed=settings.seed, start=hint)
        budget.mark("improve")
    return hint, first_s


def _search(rm: RosterModel, hint: Hint, budget: Budget, report: _Reporter) -> Hint:
    """Local search from ``hint`` until the search stage's deadline (deterministic mode: a fixed
    number of moves), one chain per worker.

    The LP bound job (when wanted) starts once the extra chains are forked and shares the cores
    with them.
    """
    settings = budget.settings
    left = budget.left("search")
    max_moves = int(left * MOVES_PER_S) if settings.deterministic else None

    def start_lp() -> None:
        if settings.lp_bound and settings.lns_share > 0 and not settings.deterministic:
            _start_lp(rm, report, budget)

    found = search_chains(
        rm,
        hint,
        left,
        settings.seed,
        chains=max(settings.workers, 1),
        max_moves=max_moves,
        on_improve=report.search,
        after_fork=start_lp,
    )
    budget.charge(found.moves / MOVES_PER_S)
    if found.lost_chains and settings.deterministic:
        budget.warn("local search", f"{found.lost_chains} chain(s) sent no result")
    return found.hint if found.objective < found.start_objective else hint


def _start_lp(rm: RosterModel, report: _Reporter, budget: Budget) -> None:
    """Start the LP-relaxation bound beside the search, until the time limit [wall s]."""
    rm.model.Minimize(objective_expr(rm))  # the LP job copies the model with its objective
    report.lp = LpJob(rm.model, max(budget.settings.time_limit_s - budget.elapsed(), 1.0))


def _with_lp(
    rm: RosterModel, result: SolveResult, budget: Budget, report: _Reporter
) -> SolveResult:
    """``result`` with the LP bound and column generation's, waiting for the LP at most until the
    last stage's deadline (never into the finishing reserve)."""
    lp = report.lp
    extra = lp.result(budget.left("lns")) if lp is not None else None
    return _rebound(
        result,
        (LP_BOUND, None if extra is None else extra / SCALE),
        (COLGEN_BOUND, report.known),
    )


def _rebound(result: SolveResult, *candidates: tuple[str, float | None]) -> SolveResult:
    """``result`` with the best of its bound and ``candidates`` (:func:`best_bound`; its own wins a
    tie), gap and status to match; the bound never exceeds the objective."""
    bound, source = best_bound((result.bound_source or "", result.bound), *candidates)
    if bound is None or result.objective is None:
        return result
    b = min(bound, result.objective)
    if b == result.bound and source == result.bound_source:
        return result
    return replace(
        result,
        bound=b,
        gap=relative_gap(result.objective, b),
        status="OPTIMAL" if b >= result.objective else result.status,
        bound_source=source or None,
    )


def _improve(
    rm: RosterModel,
    result: SolveResult,
    budget: Budget,
    report: _Reporter,
    known: float | None,
) -> SolveResult:
    """Large-neighbourhood search from CP-SAT's roster until the time limit; the bound is the
    highest of CP-SAT's and ``known`` (column generation's); a neighbourhood freeing every shift
    solved to optimality proves the result optimal."""
    settings = budget.settings
    start = (
        list(result.solution)
        if result.solution
        else complete_hint(rm, result.values, settings, budget)
    )
    result = _rebound(result, (COLGEN_BOUND, known))
    if start is None or budget.left("lns") <= MIN_LNS_S:
        return result
    lp = report.lp
    found = improve(
        rm,
        start,
        budget,
        "lns",
        on_improve=report.lns,
        hold=None if lp is None or settings.deterministic else (lambda: not lp.done()),
        target=result.bound,
    )
    proof = (LNS_BOUND, found.objective if found.optimal else None)
    if found.objective < result.objective:  # type: ignore[operator]
        first = result.first_solution_seconds
        bound, source = best_bound((result.bound_source or "", result.bound), proof)
        better = result_of(
            rm,
            result.status,
            found.values,
            bound,
            budget.elapsed(),
            first,
            bound_source=source or None,
        )
        return replace(better, warnings=result.warnings)
    return replace(_rebound(result, proof), solve_seconds=budget.elapsed())


def tightened(
    rm: RosterModel, result: SolveResult, settings: SolveSettings, budget: Budget | None = None
) -> SolveResult:
    """``result`` with its penalty variables at their least for its shifts and break plans.

    A solver stopped by its time limit may return slack above what its shifts need (an over-cover
    count of 3 where 2 agents are over); the objective must be the roster's own cost, so the shifts
    and break-plan counts are fixed and the rest re-solved (:func:`complete_hint`), keeping the
    bound. ``budget``: wall-clock mode keeps the re-solve within the time limit (at least
    :data:`~staffplan.roster.budget.MIN_SOLVE_S`).
    """
    if not result.solution:
        return result
    values = complete_hint(rm, shift_hint(rm, result.solution), settings, budget, hint_model=False)
    if values is None or objective_of(rm, values) >= result.objective:  # type: ignore[operator]
        return result
    fresh = result_of(
        rm,
        result.status,
        values,
        result.bound,
        result.solve_seconds,
        result.first_solution_seconds,
        result.warnings,
        result.bound_source,
    )
    return replace(fresh, core=result.core)


MIN_LNS_S = 0.5
"""Neighbourhood search is not started with less time left [s, or deterministic s]."""


def _finish(
    problem: RosterProblem,
    rm: RosterModel,
    result: SolveResult,
    settings: SolveSettings,
    budget: Budget | None = None,
) -> Outcome:
    """Explain a failed solve, or extract the roster."""
    if result.status == "INFEASIBLE":
        raise explain_infeasible(problem, settings)
    if not result.feasible:
        raise unsolved(rm, result.status)
    result = tightened(rm, result, settings, budget)
    if budget is not None:
        budget.mark("tighten")
    roster = extract(problem, rm, result)
    diff = roster.allocation - problem.demand.required
    notes = tuple(gap_notes(rm, diff))
    if budget is None:
        return Outcome(result, roster, notes, rm)
    budget.mark("extract")
    return Outcome(result, roster, notes, rm, budget.step_seconds())
