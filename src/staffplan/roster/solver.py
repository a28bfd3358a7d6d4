"""Solve a built roster model; ``make_solver`` sets the parameters of every full-model CP-SAT solve
(lns and colgen solve restricted copies).

Every solver parameter is set explicitly. With ``deterministic=True`` the
search is CP-SAT's interleaved deterministic parallel search and the time
limit is *deterministic time* (``max_deterministic_time``), so the same inputs
and seed give the same roster whatever the machine's load; the wall clock is
only a safety net at 3× the limit.
The default portfolio search (``deterministic=False``) finds good rosters much
faster but, with several workers, may return a different roster of equal or
near-equal cost from run to run; with ``workers=1`` it is deterministic too.

Gap (relative): ``(objective − bound) / max(|objective|, 1)``, 0 at optimality.
Objective and bound are reported in objective units (coefficients / SCALE).

Bound: the better of CP-SAT's own bound and, with ``lp_bound`` (planning
solves: ``staffplan roster``/``run``; off by default so that quick repairs do not share their
cores),
the model's linear relaxation solved by HiGHS in a background thread while
CP-SAT searches (:mod:`staffplan.roster.heuristics.relax`): on large interval-coverage
models CP-SAT's LP worker may not finish its root relaxation within the limit.
When the search stops before the proof of optimality, the solve waits for
that LP (it has the same time limit), so the reported bound does not depend
on machine load unless the LP itself runs out of time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from staffplan.roster.cpmodel import RosterModel, objective_expr
from staffplan.roster.heuristics.relax import lp_bound
from staffplan.roster.problem import SCALE
from staffplan.scenario import SolveSettings

LINEARIZATION_LEVEL = 2
"""CP-SAT LP relaxation level: 2 also linearises the clauses of the sequence and rest rules, which
steers the search
to better rosters (Curtois, 60 s, 2 workers: Instance3/4 reach the optimum, Instance8 1642 vs
1831–2161 at level 1)."""

Progress = Callable[[float, float, float, float], None]
"""Called on each improving solution with (elapsed [s], objective, bound, gap)."""


@dataclass(frozen=True, eq=False)
class SolveResult:
    """Status, objective and bound [objective units], gap [fraction], times [s] and literal values.

    ``bound``/``gap`` are None when the time ran out before the search
    reported (the roster is then the completed greedy start, still feasible).
    """

    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    solve_seconds: float
    first_solution_seconds: float | None
    values: dict[tuple[str, int, str], int] = field(default_factory=dict)
    term_values: dict[str, int] = field(default_factory=dict)
    core: tuple[int, ...] = ()
    solution: tuple[int, ...] = ()
    """Every model variable's value (by index) of the returned roster, when the solve found one."""

    @property
    def feasible(self) -> bool:
        return self.status in ("OPTIMAL", "FEASIBLE")


def relative_gap(objective: float, bound: float) -> float:
    """``(objective − bound) / max(|objective|, 1)`` [fraction], never negative."""
    return max(objective - bound, 0.0) / max(abs(objective), 1.0)


DETERMINISTIC_WALL_FACTOR = 3.0


def make_solver(settings: SolveSettings, wall_s: float | None = None) -> cp_model.CpSolver:
    """A ``CpSolver`` with every parameter set from ``settings``.

    ``wall_s`` [s] is the wall-clock budget left (default: the time limit).
    With ``deterministic`` the limit is *deterministic time* only, never the
    remaining wall clock (which depends on machine load); the wall clock is
    then a safety net at :data:`DETERMINISTIC_WALL_FACTOR` × the limit.
    """
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.num_workers = int(settings.workers)
    p.random_seed = int(settings.seed)
    p.log_search_progress = False
    p.interleave_search = bool(settings.deterministic)
    wall = float(settings.time_limit_s if wall_s is None else wall_s)
    if settings.deterministic:
        p.max_deterministic_time = float(settings.time_limit_s)
        p.max_time_in_seconds = DETERMINISTIC_WALL_FACTOR * float(settings.time_limit_s)
    else:
        p.max_time_in_seconds = wall
    p.relative_gap_limit = 0.0
    p.absolute_gap_limit = 0.0
    p.linearization_level = LINEARIZATION_LEVEL
    return solver


class LpJob:
    """The model's LP relaxation bound [objective units × SCALE], computed in a background thread
    (HiGHS frees the GIL).
    """

    def __init__(self, model: cp_model.CpModel, time_limit_s: float) -> None:
        self.bound: float | None = None
        self._proto = model.Proto()
        self._limit = time_limit_s
        self._thread = threading.Thread(target=self._run, name="staffplan-lp-bound", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        res = lp_bound(self._proto, self._limit)
        if res is not None:
            self.bound = res.bound

    def done(self) -> bool:
        """True once the LP has finished (with or without a bound)."""
        return not self._thread.is_alive()

    def result(self, timeout_s: float | None = None) -> float | None:
        """Wait for the LP (at most its time limit, or ``timeout_s`` [s]) and return its bound, if
        done.
        """
        self._thread.join(timeout_s)
        return self.bound


class _Callback(cp_model.CpSolverSolutionCallback):
    def __init__(
        self, progress: Progress | None, lp: LpJob | None = None, known_bound: float | None = None
    ) -> None:
        super().__init__()
        self.progress = progress
        self.lp = lp
        self.known = known_bound
        self.t0 = time.perf_counter()
        self.first: float | None = None

    def on_solution_callback(self) -> None:
        elapsed = time.perf_counter() - self.t0
        if self.first is None:
            self.first = elapsed
        if self.progress is not None:
            obj, bound = self.ObjectiveValue() / SCALE, self.BestObjectiveBound() / SCALE
            if self.lp is not None and self.lp.bound is not None:
                bound = max(bound, self.lp.bound / SCALE)
            if self.known is not None:
                bound = min(max(bound, self.known), obj)
            self.progress(elapsed, obj, bound, relative_gap(obj, bound))
        if self.known is not None and self.ObjectiveValue() <= self.known * SCALE + 1e-6:
            self.StopSearch()  # the roster meets a known bound: optimal


def complete_hint(
    rm: RosterModel, shifts: Mapping[tuple, int], settings: SolveSettings
) -> list[int] | None:
    """Turn a hint on the shift literals into a complete hint (every variable), if those shifts are
    feasible.

    Solves a copy of the model with the shift literals fixed to ``shifts``
    and the break-plan counts of ``rm.breaks`` fixed to those given in
    ``shifts`` as ``(queues, day, variant id, plan)`` keys (when they add up;
    else the agents spread evenly over the plans). Only the allocation and
    penalty variables are left free, so presolve usually solves it outright;
    it is solved to optimality within a deterministic-time limit. Then every
    variable of ``rm.model`` is hinted with that solution and its values (by
    variable index) are returned; None (and a partial hint) when the fixed
    copy finds no solution.
    """
    copy = rm.model.Clone()
    copy.Minimize(objective_expr(rm))
    for key, lit in rm.x.items():
        copy.Add(copy.GetBoolVarFromProtoIndex(lit.Index()) == int(shifts.get(key, 0)))
    for (g, d, vid), (
        members,
        ys,
    ) in rm.breaks.items():  # break plans: as given, else spread evenly (the first plans first)
        working = sum(int(shifts.get((a, d, vid), 0)) for a in members)
        counts = [int(shifts.get((g, d, vid, j), 0)) for j in range(len(ys))]
        if sum(counts) != working or min(counts) < 0:
            counts = [working // len(ys) + (j < working % len(ys)) for j in range(len(ys))]
        for y, c in zip(ys, counts, strict=True):
            copy.Add(copy.GetIntVarFromProtoIndex(y.Index()) == c)
    # optimal completion (the first one can leave penalty variables above their minimum, a poor
    # start);
    # limited by deterministic time so that the result does not depend on machine load
    solver = make_solver(
        SolveSettings(
            max(1.0, min(5.0, settings.time_limit_s / 4)), 1, settings.seed, deterministic=True
        )
    )
    solver.parameters.interleave_search = False
    code = solver.Solve(copy)
    rm.model.ClearHints()
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        for key, lit in rm.x.items():
            rm.model.AddHint(lit, int(shifts.get(key, 0)))
        return None
    values = list(solver.ResponseProto().solution)
    for i in range(len(rm.model.Proto().variables)):
        rm.model.AddHint(rm.model.GetIntVarFromProtoIndex(i), int(values[i]))
    return values


def shift_hint(rm: RosterModel, values: Sequence[int]) -> dict[tuple, int]:
    """A full solution (values by variable index) as a hint for :func:`complete_hint`: shift
    literals and break-plan counts.
    """
    out: dict[tuple, int] = {k: int(values[v.Index()]) for k, v in rm.x.items()}
    for (g, d, vid), (_members, ys) in rm.breaks.items():
        for j, y in enumerate(ys):
            out[(g, d, vid, j)] = int(values[y.Index()])
    return out


def objective_of(rm: RosterModel, values: Sequence[int]) -> float:
    """The objective [objective units] of a full assignment ``values`` (by variable index, e.g. a
    completed hint).
    """
    return sum(t.coef * values[t.var.Index()] for t in rm.terms) / SCALE


def _nonnegative(rm: RosterModel) -> bool:
    """True if every objective term has a coefficient >= 0 on a variable whose domain starts at >=
    0.
    """
    return all(
        t.coef >= 0 and rm.model.Proto().variables[t.var.Index()].domain[0] >= 0 for t in rm.terms
    )


def solve(
    rm: RosterModel,
    settings: SolveSettings | None = None,
    progress: Progress | None = None,
    assumptions: Sequence[cp_model.IntVar] = (),
    hint: Mapping[tuple[str, int, str], int] | None = None,
    t0: float | None = None,
    fallback_hint: Mapping[tuple[str, int, str], int] | None = None,
    lp: LpJob | None = None,
    wait_lp: bool = True,
    known_bound: float | None = None,
) -> SolveResult:
    """Minimise ``Σ terms`` of ``rm`` and return the result (never raises on infeasibility).

    ``hint``: values of the shift literals to start from (see :func:`complete_hint`);
    times include completing it, and count from ``t0`` (a ``time.perf_counter()``
    value, default: now) — the time limit itself counts from this call.
    A completed hint is reported to ``progress`` as the first solution;
    ``fallback_hint`` is completed instead when ``hint`` cannot be.
    ``lp``: an LP-bound job already running (instead of starting one with
    ``settings.lp_bound``); with ``wait_lp=False`` its bound is used only if
    it is ready when the search stops (a caller that goes on searching waits later).
    ``known_bound`` [objective units]: a valid bound found elsewhere (column
    generation): the search stops once a roster meets it, and it counts as the bound.
    """
    settings = settings or SolveSettings()
    t_call = time.perf_counter()
    t0 = t_call if t0 is None else t0
    rm.model.ClearAssumptions()
    start: list[int] | None = None
    start_s: float | None = None
    if hint is not None:
        start = complete_hint(rm, hint, settings)
        if start is None and fallback_hint is not None:
            start = complete_hint(rm, fallback_hint, settings)
        start_s = time.perf_counter() - t0
        if start is not None and progress is not None:
            obj0 = objective_of(rm, start)
            b0 = 0.0 if _nonnegative(rm) else float("-inf")
            if lp is not None and lp.bound is not None:
                b0 = min(
                    max(b0, lp.bound / SCALE), obj0
                )  # a bound already known (an LP finished during an earlier stage)
            progress(start_s, obj0, b0, relative_gap(obj0, b0) if b0 > float("-inf") else 1.0)
    rm.model.Minimize(objective_expr(rm))
    if assumptions:
        rm.model.AddAssumptions(list(assumptions))
    remaining = max(settings.time_limit_s - (time.perf_counter() - t_call), 0.5)
    if lp is None and settings.lp_bound and not assumptions and rm.terms:
        lp = LpJob(rm.model, remaining)
    solver = make_solver(settings, remaining)
    cb = _Callback(progress, lp, known_bound)
    cb.t0 = t0
    code = solver.Solve(rm.model, cb)
    status = solver.StatusName(code)
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        obj = solver.ObjectiveValue() / SCALE
        bound = solver.BestObjectiveBound() / SCALE
        if _nonnegative(rm):
            bound = max(bound, 0.0)  # every term is >= 0: 0 is a valid bound
        if lp is not None and code == cp_model.FEASIBLE:
            extra = lp.result() if wait_lp else lp.bound
            if extra is not None:
                bound = min(max(bound, extra / SCALE), obj)
        if known_bound is not None:
            bound = min(max(bound, known_bound), obj)
        if bound >= obj:
            status = "OPTIMAL"
        seconds = time.perf_counter() - t0
        values = {k: int(solver.Value(v)) for k, v in rm.x.items()}
        term_values = {t.name: int(solver.Value(t.var)) for t in rm.terms}
        first = min(x for x in (cb.first, start_s, seconds) if x is not None)
        solution = tuple(int(v) for v in solver.ResponseProto().solution)
        return SolveResult(
            status,
            obj,
            bound,
            relative_gap(obj, bound),
            seconds,
            first,
            values,
            term_values,
            solution=solution,
        )
    seconds = time.perf_counter() - t0
    if start is not None and code == cp_model.UNKNOWN:
        # the search found nothing better in time: the completed hint is a proven-feasible roster
        obj = objective_of(rm, start)
        values = {k: int(start[v.Index()]) for k, v in rm.x.items()}
        term_values = {t.name: int(start[t.var.Index()]) for t in rm.terms}
        extra = (lp.result() if wait_lp else lp.bound) if lp is not None else None
        bound = None if extra is None else min(extra / SCALE, obj)
        if known_bound is not None:
            bound = min(max(bound if bound is not None else known_bound, known_bound), obj)
        seconds = time.perf_counter() - t0
        return SolveResult(
            "OPTIMAL" if bound is not None and bound >= obj else "FEASIBLE",
            obj,
            bound,
            None if bound is None else relative_gap(obj, bound),
            seconds,
            start_s,
            values,
            term_values,
            solution=tuple(start),
        )
    core: tuple[int, ...] = ()
    if code == cp_model.INFEASIBLE and assumptions:
        core = tuple(solver.SufficientAssumptionsForInfeasibility())
    return SolveResult(status, None, None, None, seconds, None, core=core)
