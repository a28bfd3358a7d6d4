"""CP-SAT for the roster engine: the only place a ``CpSolver`` is made (:func:`make_solver`), and
one CP-SAT solve of a built model (:func:`solve`).

Every solver parameter is set explicitly. With ``deterministic`` the limit is
CP-SAT's *deterministic time* (``max_deterministic_time``) and, with several
workers, the search is CP-SAT's interleaved deterministic parallel search, so
the same inputs and seed give the same roster whatever the machine's load; the
wall clock is then only a safety net (:func:`staffplan.roster.budget.safety_net_s`),
and a solve that reaches it is reported, not taken silently. The default
portfolio search (``deterministic=False``) finds good rosters much faster but,
with several workers, may return a different roster of equal or near-equal
cost from run to run.

Gap (relative): ``(objective − bound) / max(|objective|, 1)``, 0 at optimality.
Objective and bound are reported in objective units (coefficients / SCALE).

Bound: the better of CP-SAT's own bound and, with ``lp_bound``, the model's
linear relaxation solved by HiGHS in a background thread while CP-SAT searches
(:mod:`staffplan.roster.relax`): on large interval-coverage models
CP-SAT's LP worker may not finish its root relaxation within the limit.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from staffplan.roster.budget import (
    LOAD_S_PER_VAR,
    MIN_SOLVE_S,
    Budget,
    cpsat_det_limit,
    cpsat_seconds,
    safety_net_s,
)
from staffplan.roster.coverage import allocation_of
from staffplan.roster.cpmodel import RosterModel, objective_expr
from staffplan.roster.problem import SCALE
from staffplan.roster.relax import lp_bound
from staffplan.settings import SolveSettings

LINEARIZATION_LEVEL = 2
"""CP-SAT LP relaxation level: 2 also linearises the clauses of the sequence and rest rules, which
steers the search to better rosters (measurements in ``benchmarks/RESULTS.md``, Curtois)."""

COMPLETION_LIMIT_S = (1.0, 5.0)
"""Deterministic-time limit [s] of completing a hint: a quarter of the solve's limit, within these
bounds."""


@dataclass(frozen=True, eq=False)
class Incumbent:
    """An improving roster as a solve reports it.

    ``elapsed_s`` [s] from the call; ``objective``, ``bound`` [objective units];
    ``gap`` [fraction]; ``paid_minutes`` [min] of its shifts and ``on_phone``
    (n_queues, n) [agents], the agents the model allocates to each queue per
    interval, when known (the model counts heads, not who they are).
    """

    elapsed_s: float
    objective: float
    bound: float
    gap: float
    paid_minutes: int | None = None
    on_phone: np.ndarray | None = None


Progress = Callable[[Incumbent], None]
"""Called with each improving roster."""


@dataclass(frozen=True, eq=False)
class SolveResult:
    """Status, objective and bound [objective units], gap [fraction], times [s] and literal values.

    ``bound``/``gap`` are None when the time ran out before the search
    reported (the roster is then the completed greedy start, still feasible).
    ``warnings``: deterministic stages that reached their wall-clock safety net.
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
    warnings: tuple[str, ...] = ()
    bound_source: str | None = None
    """Which stage proved ``bound`` (one of :data:`BOUND_SOURCES`), None without a bound."""

    @property
    def feasible(self) -> bool:
        return self.status in ("OPTIMAL", "FEASIBLE")


CPSAT_BOUND = "CP-SAT"
LP_BOUND = "LP relaxation"
COLGEN_BOUND = "column generation (Lagrangian)"
LNS_BOUND = "neighbourhood search (every shift free)"
ZERO_BOUND = "no negative costs"
BOUND_SOURCES = (CPSAT_BOUND, LP_BOUND, COLGEN_BOUND, LNS_BOUND, ZERO_BOUND)
"""Where a reported lower bound comes from: CP-SAT's proven bound, the model's LP relaxation
(HiGHS), column generation's Lagrangian bound, a neighbourhood search that freed every shift and
finished, or 0 when every objective term is a cost >= 0 (:func:`trivial_bound`)."""


def best_bound(*candidates: tuple[str, float | None]) -> tuple[float | None, str | None]:
    """The highest of the valid lower bounds ``(source, value)`` [objective units] (None or
    −inf: not known) with its source; the first listed wins a tie; (None, None) when none is known.
    """
    best: tuple[float | None, str | None] = (None, None)
    for source, value in candidates:
        if value is None or not math.isfinite(value):
            continue
        if best[0] is None or value > best[0]:
            best = (float(value), source)
    return best


def relative_gap(objective: float, bound: float) -> float:
    """``(objective − bound) / max(|objective|, 1)`` [fraction], never negative."""
    return max(objective - bound, 0.0) / max(abs(objective), 1.0)


def make_solver(
    settings: SolveSettings,
    limit_s: float | None = None,
    *,
    workers: int | None = None,
    seed: int | None = None,
    **params: Any,
) -> cp_model.CpSolver:
    """A ``CpSolver`` with every parameter set: the only place one is made.

    ``limit_s``: this solve's limit [s; deterministic s with
    ``settings.deterministic``], default the settings' time limit. ``workers``
    and ``seed`` default to the settings'. Deterministic: the limit becomes
    ``max_deterministic_time`` (:func:`~staffplan.roster.budget.cpsat_det_limit`),
    the wall clock a safety net (:func:`~staffplan.roster.budget.safety_net_s`),
    and several workers interleave deterministically. ``params``: further CP-SAT
    parameters by name (e.g. ``stop_after_first_solution=True``).
    """
    limit = float(settings.time_limit_s if limit_s is None else limit_s)
    n = int(settings.workers if workers is None else workers)
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.num_workers = n
    p.random_seed = int(settings.seed if seed is None else seed) % (2**31)
    p.log_search_progress = False
    p.interleave_search = bool(settings.deterministic) and n > 1
    # one task per worker per batch: CP-SAT then checks the deterministic limit often enough to
    # stop near it (the default batches overshoot it by half or more on roster models)
    p.interleave_batch_size = n
    if settings.deterministic:
        p.max_deterministic_time = cpsat_det_limit(limit, n)
        p.max_time_in_seconds = safety_net_s(limit)
    else:
        p.max_deterministic_time = float("inf")
        p.max_time_in_seconds = limit
    p.relative_gap_limit = 0.0
    p.absolute_gap_limit = 0.0
    p.linearization_level = LINEARIZATION_LEVEL
    for name, value in params.items():
        setattr(p, name, value)
    return solver


def work_s(solver: cp_model.CpSolver, model: cp_model.CpModel) -> float:
    """The deterministic work of a finished solve of ``model`` [deterministic s]: CP-SAT's
    deterministic time converted, plus loading and presolving the model."""
    det = solver.ResponseProto().deterministic_time
    n_vars = len(model.Proto().variables)
    return cpsat_seconds(det, solver.parameters.num_workers) + LOAD_S_PER_VAR * n_vars


def reached_net(solver: cp_model.CpSolver, settings: SolveSettings, code: int) -> bool:
    """True when a deterministic solve stopped at its wall-clock safety net, not its deterministic
    limit (its result may then depend on machine load)."""
    if not settings.deterministic or code in (cp_model.OPTIMAL, cp_model.INFEASIBLE):
        return False
    r = solver.ResponseProto()
    return r.wall_time >= 0.99 * solver.parameters.max_time_in_seconds and (
        r.deterministic_time < 0.99 * solver.parameters.max_deterministic_time
    )


class LpJob:
    """The model's LP relaxation bound [objective units × SCALE], computed in a background thread
    on a copy of the model (HiGHS frees the GIL).
    """

    def __init__(self, model: cp_model.CpModel, time_limit_s: float) -> None:
        self.bound: float | None = None
        self._model = model.Clone()
        self._limit = time_limit_s
        self._thread = threading.Thread(target=self._run, name="staffplan-lp-bound", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        res = lp_bound(self._model.Proto(), self._limit)
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


def paid_minutes_of(rm: RosterModel, values: Sequence[int]) -> int:
    """Paid minutes [min] of the shifts a full assignment ``values`` (by variable index) works."""
    key = "paid_vector"
    if key not in rm.cache:
        idx, paid = [], []
        for (a, d), opts in rm.options.items():
            for v in opts:
                idx.append(rm.x[(a, d, v.id)].Index())
                paid.append(v.paid_minutes)
        rm.cache[key] = (np.asarray(idx, dtype=np.int64), np.asarray(paid, dtype=np.int64))
    idx, paid = rm.cache[key]  # type: ignore[misc]
    vals = np.asarray(values, dtype=np.int64)
    return int((vals[idx] * paid).sum()) if len(idx) else 0


def incumbent(
    rm: RosterModel, values: Sequence[int] | None, elapsed_s: float, objective: float, bound: float
) -> Incumbent:
    """An :class:`Incumbent` for ``values`` (a full assignment by variable index, if known)."""
    b = min(bound, objective)
    gap = relative_gap(objective, b) if b > float("-inf") else 1.0
    if values is None:
        return Incumbent(elapsed_s, objective, b, gap)
    return Incumbent(
        elapsed_s, objective, b, gap, paid_minutes_of(rm, values), allocation_of(rm, values)
    )


class _Callback(cp_model.CpSolverSolutionCallback):
    def __init__(
        self,
        rm: RosterModel,
        progress: Progress | None,
        t0: float,
        lp: LpJob | None = None,
        known_bound: float | None = None,
    ) -> None:
        super().__init__()
        self.rm = rm
        self.progress = progress
        self.lp = lp
        self.known = known_bound
        self.t0 = t0
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
                bound = max(bound, self.known)
            values = list(self.response_proto.solution)
            self.progress(incumbent(self.rm, values, elapsed, obj, bound))
        if self.known is not None and self.ObjectiveValue() <= self.known * SCALE + 1e-6:
            self.StopSearch()  # the roster meets a known bound: optimal


def complete_hint(
    rm: RosterModel,
    shifts: Mapping[tuple, int],
    settings: SolveSettings,
    budget: Budget | None = None,
    hint_model: bool = True,
) -> list[int] | None:
    """Turn a hint on the shift literals into a complete hint (every variable), if those shifts are
    feasible.

    Solves a copy of the model with the shift literals fixed to ``shifts``
    and the break-plan counts of ``rm.breaks`` fixed to those given in
    ``shifts`` as ``(queues, day, variant id, plan)`` keys (when they add up;
    else the agents spread evenly over the plans). Only the allocation and
    penalty variables are left free, so presolve usually solves it outright;
    it is solved to optimality by one worker within a deterministic-time
    limit (:data:`COMPLETION_LIMIT_S`), in every mode, so that the completion
    never depends on machine load; its deterministic time is charged to
    ``budget``, and with a wall-clock ``budget`` it also stops at the time limit (given at least
    :data:`~staffplan.roster.budget.MIN_SOLVE_S`). Then every variable of ``rm.model`` is hinted
    with that solution and its values (by variable index) are returned; None (and a partial hint)
    when the fixed copy finds no solution. ``hint_model=False``: ``rm.model``'s hint is left as it
    is (the values are only read). The wall time of a completion that found a solution is told to
    ``budget`` (:meth:`~staffplan.roster.budget.Budget.completed`: finishing a solve re-does one).
    """
    t_start = time.perf_counter()
    copy = rm.model.Clone()
    copy.Minimize(objective_expr(rm))
    fixed = [(lit.Index(), int(shifts.get(key, 0))) for key, lit in rm.x.items()]
    for (g, d, vid), (members, ys) in rm.breaks.items():
        # break plans: as given, else spread evenly (the first plans first)
        working = sum(int(shifts.get((a, d, vid), 0)) for a in members)
        counts = [int(shifts.get((g, d, vid, j), 0)) for j in range(len(ys))]
        if sum(counts) != working or min(counts) < 0:
            counts = [working // len(ys) + (j < working % len(ys)) for j in range(len(ys))]
        fixed += [(y.Index(), c) for y, c in zip(ys, counts, strict=True)]
    _fix(copy, fixed)
    lo, hi = COMPLETION_LIMIT_S
    limit = max(lo, min(hi, settings.time_limit_s / 4))
    det = SolveSettings(limit, 1, settings.seed, deterministic=True)
    solver = make_solver(det)
    wall = budget.wall_left() if budget is not None else None
    if wall is not None:  # wall-clock mode: never past the solve's time limit
        p = solver.parameters
        p.max_time_in_seconds = min(p.max_time_in_seconds, max(wall, MIN_SOLVE_S))
    code = solver.Solve(copy)
    if budget is not None:
        budget.charge(work_s(solver, copy))
        if reached_net(solver, det, code):
            budget.warn("completing a roster", f"{solver.parameters.max_time_in_seconds:.0f} s")
    if not hint_model:
        if budget is not None:
            budget.completed(time.perf_counter() - t_start)
        ok = code in (cp_model.OPTIMAL, cp_model.FEASIBLE)
        return list(solver.ResponseProto().solution) if ok else None
    rm.model.ClearHints()
    hint = rm.model.Proto().solution_hint
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        hint.vars.extend(i for i, _ in fixed[: len(rm.x)])  # the shift literals as given
        hint.values.extend(v for _, v in fixed[: len(rm.x)])
        return None
    values = list(solver.ResponseProto().solution)
    hint.vars.extend(range(len(values)))
    hint.values.extend(int(v) for v in values)
    if budget is not None:
        budget.completed(time.perf_counter() - t_start)
    return values


def _fix(model: cp_model.CpModel, fixed: Sequence[tuple[int, int]]) -> None:
    """Fix the variables ``(index, value)`` of ``model``: by their domain when the value lies in
    it (presolve then removes them at once), else by a constraint (the model is infeasible)."""
    variables = model.Proto().variables
    for i, v in fixed:
        dom = variables[i].domain
        if len(dom) == 2 and dom[0] <= v <= dom[1]:
            dom[0] = dom[1] = v
        else:
            model.Add(model.GetIntVarFromProtoIndex(i) == v)


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


def trivial_bound(rm: RosterModel) -> float:
    """0 when every objective term is a coefficient >= 0 on a variable whose domain starts at >= 0
    (0 is then a valid bound), else −inf [objective units]."""
    ok = all(
        t.coef >= 0 and rm.model.Proto().variables[t.var.Index()].domain[0] >= 0 for t in rm.terms
    )
    return 0.0 if ok else float("-inf")


def result_of(
    rm: RosterModel,
    status: str,
    values: Sequence[int],
    bound: float | None,
    seconds: float,
    first_s: float | None,
    warnings: Sequence[str] = (),
    bound_source: str | None = None,
) -> SolveResult:
    """A :class:`SolveResult` for the full assignment ``values`` (by variable index); OPTIMAL once
    ``bound`` [objective units] meets its objective; ``bound_source`` says which stage proved
    it."""
    obj = objective_of(rm, values)
    if bound is not None:
        bound = min(bound, obj)
        if bound >= obj:
            status = "OPTIMAL"
    return SolveResult(
        status,
        obj,
        bound,
        None if bound is None else relative_gap(obj, bound),
        seconds,
        first_s,
        {k: int(values[v.Index()]) for k, v in rm.x.items()},
        {t.name: int(values[t.var.Index()]) for t in rm.terms},
        solution=tuple(int(v) for v in values),
        warnings=tuple(warnings),
        bound_source=None if bound is None else bound_source,
    )


def solve(
    rm: RosterModel,
    settings: SolveSettings | None = None,
    progress: Progress | None = None,
    assumptions: Sequence[cp_model.IntVar] = (),
    hint: Mapping[tuple[str, int, str], int] | None = None,
    fallback_hint: Mapping[tuple[str, int, str], int] | None = None,
    lp: LpJob | None = None,
    wait_lp: bool = True,
    known_bound: float | None = None,
    budget: Budget | None = None,
) -> SolveResult:
    """Minimise ``Σ terms`` of ``rm`` and return the result (never raises on infeasibility).

    ``budget``: the solve's clock and the CP-SAT stage's deadline (default: the
    whole limit from this call); times are reported from its start. ``hint``:
    values of the shift literals to start from (see :func:`complete_hint`;
    completing it counts against the stage); a completed hint is reported to
    ``progress`` as the first solution, and ``fallback_hint`` is completed
    instead when ``hint`` cannot be. ``lp``: an LP-bound job already running
    (instead of starting one with ``settings.lp_bound``); with ``wait_lp=False``
    its bound is used only if it is ready when the search stops (a caller that
    goes on searching waits later). ``known_bound`` [objective units]: a valid
    bound found elsewhere (column generation): the search stops once a roster
    meets it, and it counts as the bound.
    """
    settings = settings or SolveSettings()
    budget = budget or Budget.single(settings)
    rm.model.ClearAssumptions()
    start: list[int] | None = None
    start_s: float | None = None
    if hint is not None:
        start = complete_hint(rm, hint, settings, budget)
        if start is None and fallback_hint is not None:
            start = complete_hint(rm, fallback_hint, settings, budget)
        start_s = budget.elapsed()
        if start is not None and progress is not None:
            b0 = trivial_bound(rm)
            if lp is not None and lp.bound is not None:
                b0 = max(b0, lp.bound / SCALE)  # a bound already known (an LP of an earlier stage)
            progress(incumbent(rm, start, start_s, objective_of(rm, start), b0))
    rm.model.Minimize(objective_expr(rm))
    if assumptions:
        rm.model.AddAssumptions(list(assumptions))
    limit = max(budget.left("cpsat"), MIN_SOLVE_S)
    if lp is None and settings.lp_bound and not assumptions and rm.terms:
        lp = LpJob(rm.model, limit if not settings.deterministic else safety_net_s(limit))
    solver = make_solver(settings, limit)
    cb = _Callback(rm, progress, budget.t0, lp, known_bound)
    code = solver.Solve(rm.model, cb)
    budget.charge(work_s(solver, rm.model))
    if reached_net(solver, settings, code):
        budget.warn("CP-SAT", f"{solver.parameters.max_time_in_seconds:.0f} s")
    status = solver.StatusName(code)
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        values = list(solver.ResponseProto().solution)
        extra = None
        if lp is not None and code == cp_model.FEASIBLE:
            extra = lp.result() if wait_lp else lp.bound
        bound, source = best_bound(
            (CPSAT_BOUND, solver.BestObjectiveBound() / SCALE),
            (LP_BOUND, None if extra is None else extra / SCALE),
            (COLGEN_BOUND, known_bound),
            (ZERO_BOUND, trivial_bound(rm)),
        )
        seconds = budget.elapsed()
        first = min(x for x in (cb.first, start_s, seconds) if x is not None)
        return result_of(rm, status, values, bound, seconds, first, budget.warnings, source)
    if start is not None and code == cp_model.UNKNOWN:
        # the search found nothing better in time: the completed hint is a proven-feasible roster
        extra = (lp.result() if wait_lp else lp.bound) if lp is not None else None
        bound, source = best_bound(
            (LP_BOUND, None if extra is None else extra / SCALE),
            (COLGEN_BOUND, known_bound),
            (ZERO_BOUND, trivial_bound(rm)),
        )
        return result_of(
            rm, "FEASIBLE", start, bound, budget.elapsed(), start_s, budget.warnings, source
        )
    core: tuple[int, ...] = ()
    if code == cp_model.INFEASIBLE and assumptions:
        core = tuple(solver.SufficientAssumptionsForInfeasibility())
    return SolveResult(
        status, None, None, None, budget.elapsed(), None, core=core, warnings=tuple(budget.warnings)
    )
