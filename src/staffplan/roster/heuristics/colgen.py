"""Column generation over agents: a Dantzig–Wolfe lower bound and a fractional guide for the search.

A roster model is, apart from a few rows that couple agents (coverage,
day-level cover, fairness spreads), one independent sub-model per agent: the
agent's shift literals with the hard rules on them and the penalties only
they decide (requests). :func:`decompose` finds this split on the CP-SAT
proto itself, with no knowledge of the rules: every variable reachable from
one agent's shift literals through constraints that touch no other agent
belongs to that agent; every constraint over one agent's variables only is
that agent's; the rest (linear, by construction) are *master rows*.

:func:`column_generation` then solves the Dantzig–Wolfe master LP: choose a
convex combination of whole-horizon schedules (*columns*) per agent; the
master variables (under-/over-cover slacks, counts, spreads) stay as they
are, relaxed to reals. New columns come from *pricing*: each agent's
sub-model solved by CP-SAT with the master duals in its objective (Wentges
smoothing of the duals, so it converges in fewer rounds). The bound reported
is the Lagrangian one, valid after every round whether or not the LP has
converged: for any duals ``π`` of the right sign,

    L(π) = π·b + Σ_agents min_{z ∈ Z_a} (c_a − π A_a) z + Σ_y min_{y ∈ box} (c_y − π B) y

with every agent minimum replaced by CP-SAT's proven bound on it. Because
each agent's integrality is kept, this bound is far tighter than the plain
LP relaxation when the rules of one agent's schedule are what bind (runs,
weekends, horizon minutes).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ortools.linear_solver import pywraplp
from ortools.sat.python import cp_model
from scipy import sparse

from staffplan.roster.budget import SUBMODEL_CHARGE_S, Budget, colgen_split, safety_net_s
from staffplan.roster.cpmodel import RosterModel, objective_expr
from staffplan.roster.problem import SCALE
from staffplan.roster.relax import constraint_kind
from staffplan.roster.solver import (
    COLGEN_BOUND,
    Progress,
    SolveResult,
    complete_hint,
    incumbent,
    make_solver,
    objective_of,
    reached_net,
    result_of,
    shift_hint,
    work_s,
)
from staffplan.settings import SolveSettings

INT_INF = 2**62
"""Domain ends beyond ± this are unbounded."""

PRICE_SCALE = 64.0
"""Pricing objectives are integers: reduced-cost coefficients × this, rounded toward the valid side.
"""

RC_EPS = 1e-6
"""A column enters when its reduced cost is below −(this × (1 + |μ|)) [model objective units]."""

SMOOTHING = 0.5
"""Wentges smoothing: pricing duals = this × stability centre + (1 − this) × master duals."""

PRICE_LIMIT_S = 1.0
"""Limit of one pricing solve [s, or deterministic s]; a solve cut short still gives a valid
(weaker) bound.
"""

LP_ITERATION_DTIME = 2e-5
"""Deterministic time [s] charged per master simplex iteration."""

_LIT_KINDS = ("bool_or", "bool_and", "at_most_one", "exactly_one")


def _ref(r: int) -> int:
    return r if r >= 0 else -r - 1


def _ct_vars(ct: Any) -> list[int] | None:
    """Variable indices a constraint mentions, or None for a kind this module cannot handle."""
    kind = constraint_kind(ct)
    if kind is None:
        return None
    out = [_ref(e) for e in ct.enforcement_literal]
    if kind == "linear":
        out += [_ref(v) for v in ct.linear.vars]
    elif kind == "lin_max":
        out += [_ref(v) for v in ct.lin_max.target.vars]
        for ex in ct.lin_max.exprs:
            out += [_ref(v) for v in ex.vars]
    else:
        out += [_ref(v) for v in getattr(ct, kind).literals]
    return out


def _remap(ct: Any, new: dict[int, int]) -> None:
    """Rewrite the variable references of ``ct`` (in place) through ``new``."""

    def fix(rep: Any) -> None:
        for i in range(len(rep)):
            r = rep[i]
            rep[i] = new[r] if r >= 0 else -new[-r - 1] - 1

    fix(ct.enforcement_literal)
    if ct.has_linear():
        fix(ct.linear.vars)
    elif ct.has_lin_max():
        fix(ct.lin_max.target.vars)
        for ex in ct.lin_max.exprs:
            fix(ex.vars)
    else:
        for k in _LIT_KINDS:
            if getattr(ct, f"has_{k}")():
                fix(getattr(ct, k).literals)


@dataclass(eq=False)
class Block:
    """One agent's sub-model: its variables (global indices) and a CP-SAT model over them (local
    indices).
    """

    agent: str
    vars: np.ndarray
    model: cp_model.CpModel
    cost: np.ndarray
    """Objective coefficients of ``vars`` [model units]."""
    link: sparse.csr_matrix
    """Master-row coefficients of ``vars``, shape (rows, len(vars))."""


@dataclass(eq=False)
class Decomposition:
    """Agent blocks, master variables and master rows ``lo ≤ A x ≤ hi`` (x = all model
    variables).
    """

    blocks: list[Block]
    master: np.ndarray
    rows: sparse.csr_matrix
    lo: np.ndarray
    hi: np.ndarray
    cost: np.ndarray
    """Objective coefficients of every model variable [model units]."""
    offset: float
    scaling: float
    var_lo: np.ndarray
    var_hi: np.ndarray


def decompose(rm: RosterModel, proto: Any | None = None) -> Decomposition | None:
    """Split the model (with its objective set) into agent blocks and master rows; None when it does
    not decompose.

    It does not decompose when a constraint coupling several agents is not a
    plain linear one, or a master variable is unbounded.
    """
    proto = proto if proto is not None else rm.model.Proto()
    n = len(proto.variables)
    owner: list[int] = [-1] * n  # agent index, -1 none yet, -2 master
    agents = [a.id for a in rm.problem.agents]
    aidx = {a: i for i, a in enumerate(agents)}
    for (agent, _day), lit in rm.work.items():
        owner[lit.Index()] = aidx[agent]
    for (agent, _d, _v), lit in rm.x.items():
        owner[lit.Index()] = aidx[agent]
    cts: list[list[int]] = []
    for ct in proto.constraints:
        vs = _ct_vars(ct)
        if vs is None:
            return None
        cts.append(vs)
    var_cts: dict[int, list[int]] = defaultdict(list)
    for i, vs in enumerate(cts):
        for v in set(vs):
            var_cts[v].append(i)
    # grow agent blocks: a variable joins an agent when every constraint it is in touches only that
    # agent
    changed = True
    while changed:
        changed = False
        for v in range(n):
            if owner[v] != -1:
                continue
            seen: set[int] = set()
            for c in var_cts.get(v, ()):
                seen.update(owner[w] for w in cts[c] if owner[w] >= 0)
            if len(seen) == 1:
                owner[v] = seen.pop()
                changed = True
    own = np.asarray(owner)
    master = np.flatnonzero(own < 0)
    doms = [list(v.domain) for v in proto.variables]
    var_lo = np.array([float(d[0]) if d[0] > -INT_INF else -np.inf for d in doms])
    var_hi = np.array([float(d[-1]) if d[-1] < INT_INF else np.inf for d in doms])
    if not (np.isfinite(var_lo[master]).all() and np.isfinite(var_hi[master]).all()):
        return None
    cost = np.zeros(n)
    for v, a in zip(proto.objective.vars, proto.objective.coeffs, strict=True):
        cost[v] += float(a)
    local: dict[int, list[int]] = defaultdict(list)
    rr, rc, rv, lo, hi = [], [], [], [], []
    for i, (ct, vs) in enumerate(zip(proto.constraints, cts, strict=True)):
        ows = {owner[v] for v in vs}
        if len(ows) == 1 and next(iter(ows)) >= 0:
            local[next(iter(ows))].append(i)
            continue
        if not ct.has_linear() or len(ct.enforcement_literal):
            return None
        d = list(ct.linear.domain)
        r = len(lo)
        for v, a in zip(ct.linear.vars, ct.linear.coeffs, strict=True):
            rr.append(r)
            rc.append(_ref(v))
            rv.append(float(a) if v >= 0 else -float(a))
        lo.append(float(d[0]) if d[0] > -INT_INF else -np.inf)
        hi.append(float(d[-1]) if d[-1] < INT_INF else np.inf)
    rows = sparse.csr_matrix((rv, (rr, rc)), shape=(len(lo), n))
    blocks = []
    rows_csc = rows.tocsc()
    for ai, agent in enumerate(agents):
        vs = np.flatnonzero(own == ai)
        if vs.size == 0:
            continue
        new = {int(v): k for k, v in enumerate(vs)}
        m = cp_model.CpModel()
        sub = m.Proto()
        for v in vs:
            sub.variables.add().domain.extend(doms[v])
        for i in local.get(ai, []):
            c = sub.constraints.add()
            c.copy_from(proto.constraints[i])
            _remap(c, new)
        blocks.append(Block(agent, vs, m, cost[vs], rows_csc[:, vs].tocsr()))
    return Decomposition(
        blocks,
        master,
        rows,
        np.asarray(lo),
        np.asarray(hi),
        cost,
        float(proto.objective.offset),
        float(proto.objective.scaling_factor or 1.0),
        var_lo,
        var_hi,
    )


@dataclass(frozen=True)
class Column:
    """One agent's whole schedule: its block variables' values, cost [model units] and master-row
    activity.
    """

    block: int
    values: np.ndarray
    cost: float
    activity: sparse.csc_matrix


@dataclass
class ColGenResult:
    """Lagrangian bound [objective units], master LP value, columns and the LP's fractional values
    of the block variables.
    """

    bound: float | None
    lp_value: float | None
    rounds: int
    columns: list[Column]
    fractional: np.ndarray | None
    """Convex-combination value of every model variable (block variables only; master ones from the
    LP), or None.
    """
    converged: bool = False
    too_slow: bool = False
    work: float = 0.0
    """Deterministic work spent [deterministic s]."""
    net_reached: bool = False
    """Deterministic mode: the wall-clock safety net stopped the rounds."""
    """Stopped early: ``expected_rounds`` rounds at the pace so far would not fit in the budget."""
    history: list[tuple[float, float, float]] = field(default_factory=list)
    """(seconds, LP value, bound) per round [s, objective units]."""


class _Pricer:
    """One block's pricing problem (its own CP-SAT model, so blocks may be priced in parallel)."""

    def __init__(self, dec: Decomposition, block: Block) -> None:
        self.block = block
        self.proto = block.model.Proto()
        self.lo, self.hi = dec.var_lo[block.vars], dec.var_hi[block.vars]

    def solve(
        self, d: np.ndarray, limit_s: float, seed: int, deterministic: bool
    ) -> tuple[float, list[np.ndarray], float, bool]:
        """min d·z over the block: (proven lower bound [model units], solutions found, work
        [deterministic s], whether a deterministic solve reached its wall-clock safety net).

        The objective is made integral by rounding each coefficient toward
        the side that keeps CP-SAT's bound a valid bound on the real minimum
        (down for variables ≥ 0, up for variables ≤ 0; others pay the rounding
        error times their largest magnitude).
        """
        k = np.where(
            self.lo >= 0,
            np.floor(d * PRICE_SCALE),
            np.where(self.hi <= 0, np.ceil(d * PRICE_SCALE), np.round(d * PRICE_SCALE)),
        )
        mixed = (self.lo < 0) & (self.hi > 0)
        err = float(
            (np.abs(d * PRICE_SCALE - k) * np.maximum(np.abs(self.lo), np.abs(self.hi)))[
                mixed
            ].sum()
        )
        p = self.proto
        p.clear_objective()
        nz = np.flatnonzero(k)
        p.objective.vars.extend(nz.tolist())
        p.objective.coeffs.extend(k[nz].astype(np.int64).tolist())
        settings = SolveSettings(max(limit_s, 0.01), 1, seed, deterministic=deterministic)
        solver = make_solver(settings, linearization_level=1)
        found: list[np.ndarray] = []

        class Collect(cp_model.CpSolverSolutionCallback):
            def on_solution_callback(self) -> None:
                found.append(np.asarray(self.response_proto.solution, dtype=np.int64))

        code = solver.Solve(self.block.model, Collect())
        dtime = work_s(solver, self.block.model)
        net = reached_net(solver, settings, code)
        if code == cp_model.UNKNOWN:
            # cut short before a first schedule: the box minimum is still a valid bound
            return _box_min(d, self.lo, self.hi), found, dtime, net
        if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return -math.inf, found, dtime, net
        bound = (solver.BestObjectiveBound() - err) / PRICE_SCALE
        return max(bound, _box_min(d, self.lo, self.hi)), found, dtime, net


def _box_min(c: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    """min c·y over lo ≤ y ≤ hi (−inf when unbounded below; a zero cost ignores its bounds)."""
    with np.errstate(invalid="ignore"):
        return float(np.where(c > 0, c * lo, np.where(c < 0, c * hi, 0.0)).sum())


class _Master:
    """The restricted master LP (GLOP, re-solved warm after columns are added)."""

    def __init__(self, dec: Decomposition) -> None:
        self.dec = dec
        self.lp = pywraplp.Solver.CreateSolver("GLOP")
        inf = self.lp.infinity()
        self.obj = self.lp.Objective()
        self.obj.SetMinimization()
        lo_m, hi_m = dec.var_lo[dec.master], dec.var_hi[dec.master]
        self.y = [self.lp.NumVar(float(a), float(b), "") for a, b in zip(lo_m, hi_m, strict=True)]
        for v, c in zip(self.y, dec.cost[dec.master], strict=True):
            if c:
                self.obj.SetCoefficient(v, float(c))
        self.rows = [
            self.lp.Constraint(
                float(a) if np.isfinite(a) else -inf, float(b) if np.isfinite(b) else inf
            )
            for a, b in zip(dec.lo, dec.hi, strict=True)
        ]
        m = dec.rows[:, dec.master].tocoo()
        for r, k, a in zip(m.row, m.col, m.data, strict=True):
            self.rows[r].SetCoefficient(self.y[k], float(a))
        self.conv = [self.lp.Constraint(1.0, 1.0) for _ in dec.blocks]
        self.lam: list[Any] = []

    def add(self, col: Column) -> None:
        v = self.lp.NumVar(0.0, self.lp.infinity(), "")
        if col.cost:
            self.obj.SetCoefficient(v, col.cost)
        a = col.activity.tocoo()
        for r, val in zip(a.row, a.data, strict=True):
            self.rows[r].SetCoefficient(v, float(val))
        self.conv[col.block].SetCoefficient(v, 1.0)
        self.lam.append(v)

    def solve(self, limit_s: float) -> bool:
        self.lp.SetTimeLimit(int(max(limit_s, 0.1) * 1000))
        return self.lp.Solve() == pywraplp.Solver.OPTIMAL

    def value(self) -> float:
        return float(self.obj.Value())

    def duals(self) -> tuple[np.ndarray, np.ndarray]:
        """(master-row duals π, convexity duals μ): ∂ objective / ∂ right-hand side."""
        return np.array([r.dual_value() for r in self.rows]), np.array(
            [r.dual_value() for r in self.conv]
        )

    def primal(self) -> tuple[np.ndarray, np.ndarray]:
        """(column weights λ, master variable values)."""
        return np.array([v.solution_value() for v in self.lam]), np.array(
            [v.solution_value() for v in self.y]
        )


def _valid(pi: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Duals made sign-correct for a Lagrangian bound: π > 0 needs a finite ``lo``, π < 0 a finite
    ``hi``.
    """
    out = pi.copy()
    out[(out > 0) & ~np.isfinite(lo)] = 0.0
    out[(out < 0) & ~np.isfinite(hi)] = 0.0
    return out


def _pi_b(pi: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    """Σ π_r × (lo_r if π_r > 0 else hi_r) over rows with π_r ≠ 0."""
    pos, neg = pi > 0, pi < 0
    return float(pi[pos] @ lo[pos]) + float(pi[neg] @ hi[neg])


def column_generation(
    dec: Decomposition,
    start: Sequence[int],
    budget_s: float,
    *,
    seed: int = 0,
    threads: int = 1,
    deterministic: bool = False,
    stop: Callable[[], bool] | None = None,
    on_round: Callable[[float, float], None] | None = None,
    cutoff: float | None = None,
    expected_rounds: int | None = None,
) -> ColGenResult:
    """Column generation from the full assignment ``start`` (by variable index) for ``budget_s``
    [s].

    Returns the best Lagrangian bound found [objective units, scaling
    applied] — valid whether or not the master converged — and the last
    master LP's fractional solution. Blocks are priced on ``threads``
    threads. Stops when converged, when the budget is spent, when the bound
    reaches ``cutoff`` [objective units], when ``stop()`` is true, or — with
    ``expected_rounds`` — as soon as, at the mean pace of the rounds so far,
    that many rounds would not fit in the budget (a model too large to converge in time).
    With ``deterministic`` the budget is deterministic work (pricing solves'
    work, :func:`~staffplan.roster.solver.work_s`, plus
    :data:`~staffplan.roster.budget.SUBMODEL_CHARGE_S` each, shared by the
    ``threads`` that run them, plus :data:`LP_ITERATION_DTIME` per master simplex
    iteration) and the result does not depend on machine load; the wall clock
    is only a safety net (:func:`~staffplan.roster.budget.safety_net_s`), reported
    in the result when reached.
    ``on_round(lp_value, bound)`` [objective units] is called after every round.
    """
    t0 = time.perf_counter()
    wall_end = t0 + (safety_net_s(budget_s) if deterministic else budget_s)
    work = [0.0]  # deterministic work spent [s]
    net = [False]

    def left() -> float:
        if deterministic:
            if time.perf_counter() > wall_end:
                net[0] = True
                return 0.0
            return budget_s - work[0]
        return wall_end - time.perf_counter()

    x0 = np.asarray(start, dtype=np.float64)
    nr = dec.rows.shape[0]
    master = _Master(dec)
    cols: list[Column] = []
    seen: set[tuple[int, bytes]] = set()

    def add(b: int, z: np.ndarray) -> bool:
        key = (b, z.tobytes())
        if key in seen:
            return False
        seen.add(key)
        blk = dec.blocks[b]
        act = (
            sparse.csc_matrix(blk.link @ z.astype(np.float64)).T.tocsc()
            if nr
            else sparse.csc_matrix((0, 1))
        )
        col = Column(b, z, float(blk.cost @ z), act)
        cols.append(col)
        master.add(col)
        return True

    for b, blk in enumerate(dec.blocks):
        add(b, np.rint(x0[blk.vars]).astype(np.int64))
    pricers = [_Pricer(dec, blk) for blk in dec.blocks]
    m_rows_t = dec.rows[:, dec.master].T.tocsr()
    c_master = dec.cost[dec.master]
    lo_m, hi_m = dec.var_lo[dec.master], dec.var_hi[dec.master]
    best_bound = -math.inf
    centre: np.ndarray | None = None
    history: list[tuple[float, float, float]] = []
    lp_value: float | None = None
    fractional: np.ndarray | None = None
    converged = False
    too_slow = False
    rounds = 0
    pool = (
        ThreadPoolExecutor(max_workers=max(int(threads), 1), thread_name_prefix="staffplan-pricing")
        if threads > 1
        else None
    )

    def units(raw: float) -> float:
        return dec.scaling * (raw + dec.offset)

    def price(
        duals: np.ndarray, rnd: int, probe: bool = False
    ) -> tuple[list[tuple[float, list[np.ndarray], float, bool]], bool]:
        """Price every block: (results, whether ``probe`` found the rounds too slow for
        ``expected_rounds``). Each solve gets at most :data:`PRICE_LIMIT_S` and its share of the
        time left, so the round completes (a solve cut short gives its proven bound)."""
        nb = len(pricers)
        share = max(left(), 0.0) * max(int(threads), 1) / max(nb, 1)
        limit = min(PRICE_LIMIT_S, share)

        def one(b: int) -> tuple[float, list[np.ndarray], float, bool]:
            if limit <= 0 or left() <= -PRICE_LIMIT_S:
                return -math.inf, [], 0.0, False
            blk = dec.blocks[b]
            return pricers[b].solve(blk.cost - blk.link.T @ duals, limit, seed + rnd, deterministic)

        def run(blocks: Sequence[int]) -> list[tuple[float, list[np.ndarray], float, bool]]:
            return list(pool.map(one, blocks)) if pool is not None else [one(b) for b in blocks]

        head = min(nb, 2 * max(int(threads), 1)) if probe else nb
        t = time.perf_counter()
        out = run(range(head))
        slow = False
        if head < nb:
            per_round = (time.perf_counter() - t) * nb / head
            slow = expected_rounds is not None and per_round * expected_rounds > left()
            out += run(range(head, nb))  # this round still completes: its bound is valid
        return out, slow

    try:
        while left() > 0 and not (stop is not None and stop()):
            rounds += 1
            solved = master.solve(
                max(left(), 0.1) if not deterministic else wall_end - time.perf_counter()
            )  # deterministic: the master runs to optimality within the safety net
            work[0] += LP_ITERATION_DTIME * max(
                master.lp.iterations(), 0
            )  # simplex iterations of this solve
            if not solved:
                break
            lp_value = units(master.value())
            lam, yv = master.primal()
            fractional = x0.copy()
            for blk in dec.blocks:
                fractional[blk.vars] = 0.0
            for col, w in zip(cols, lam, strict=True):
                if w > 1e-9:
                    fractional[dec.blocks[col.block].vars] += w * col.values
            fractional[dec.master] = yv
            pi, mu = master.duals()
            pi = _valid(pi, dec.lo, dec.hi)
            added = 0
            complete = True
            for attempt in (0, 1):
                sep = (
                    pi
                    if centre is None or attempt == 1
                    else SMOOTHING * centre + (1 - SMOOTHING) * pi
                )
                results, slow = price(
                    sep,
                    rounds,
                    probe=rounds == 1
                    and attempt == 0
                    and expected_rounds is not None
                    and not deterministic,
                )
                too_slow = too_slow or slow
                charges = sum(r[2] + SUBMODEL_CHARGE_S for r in results)
                work[0] += charges / max(int(threads), 1)
                net[0] = net[0] or any(r[3] for r in results)
                complete = all(math.isfinite(r[0]) for r in results) and left() > -PRICE_LIMIT_S
                for b, (_bnd, sols, _dt, _net) in enumerate(results):
                    blk = dec.blocks[b]
                    d_lp = blk.cost - blk.link.T @ pi
                    for z in sols:
                        if float(d_lp @ z) - mu[b] < -RC_EPS * (1.0 + abs(mu[b])):
                            added += add(b, z)
                if complete:
                    lag = (
                        _pi_b(sep, dec.lo, dec.hi)
                        + _box_min(c_master - m_rows_t @ sep, lo_m, hi_m)
                        + sum(r[0] for r in results)
                    )
                    bound = units(lag)
                    if bound > best_bound:
                        best_bound = bound
                        centre = sep.copy()
                if added or attempt == 1 or not complete or too_slow:
                    break
            history.append((time.perf_counter() - t0, lp_value, best_bound))
            if on_round is not None:
                on_round(lp_value, best_bound)
            if not added:
                converged = complete
                break
            if too_slow:  # the first round showed the expected rounds cannot fit: keep its bound
                break
            if cutoff is not None and best_bound >= cutoff - 1e-9:
                break
            if (
                expected_rounds is not None
                and not deterministic
                and rounds < expected_rounds
                and (time.perf_counter() - t0) / rounds * (expected_rounds - rounds) > left()
            ):
                # at this pace the expected rounds do not fit: the model is too large for the budget
                too_slow = True
                break
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    return ColGenResult(
        best_bound if math.isfinite(best_bound) else None,
        lp_value,
        rounds,
        cols,
        fractional,
        converged,
        too_slow,
        work[0],
        net[0],
        history,
    )


EXPECTED_ROUNDS = 12
"""Rounds column generation is expected to need; a model whose rounds are too slow for that many
stops early.
"""

MIN_BUDGET_S = 5.0
"""Column generation is not tried with less than this budget [s]: completing, decomposing and one
round cost seconds on large models.
"""


def objective_grain(rm: RosterModel) -> int:
    """The greatest common divisor of the objective coefficients [objective units × SCALE]: every
    roster's cost is a multiple of it.
    """
    return math.gcd(*(abs(int(t.coef)) for t in rm.terms)) if rm.terms else 1


def rounded_bound(rm: RosterModel, raw: float) -> float:
    """A valid bound ``raw`` [objective units × SCALE] rounded up to the objective's grain (after
    1e-6 relative tolerance), in objective units.
    """
    g = objective_grain(rm) or 1
    tol = 1e-6 * max(1.0, abs(raw))
    return math.ceil((raw - tol) / g) * g / SCALE


def rens(
    rm: RosterModel,
    fractional: np.ndarray,
    settings: SolveSettings,
    limit_s: float,
    stop_at: float | None = None,
    budget: Budget | None = None,
) -> list[int] | None:
    """Relaxation-enforced neighbourhood search: fix every shift literal the LP solution has at 0 or
    1, solve the rest.

    ``fractional``: values of every model variable (column generation's
    LP solution). Returns the best full assignment found within ``limit_s``
    [s, deterministic s in deterministic mode], or None. Stops once a
    roster costs ``stop_at`` [objective units] or less (a known bound). Its
    work is charged to ``budget``.
    """
    m = rm.model.Clone()
    m.ClearHints()
    m.Minimize(objective_expr(rm))
    proto = m.Proto()
    for lit in rm.x.values():
        f = float(fractional[lit.Index()])
        r = round(f)
        if abs(f - r) < 1e-6:
            dom = proto.variables[lit.Index()].domain
            dom[0] = dom[1] = int(r)
    solver = make_solver(settings, max(limit_s, 0.1))
    cutoff = None if stop_at is None else stop_at * SCALE + 1e-6

    class Stop(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self) -> None:
            if cutoff is not None and self.ObjectiveValue() <= cutoff:
                self.StopSearch()

    code = solver.Solve(m, Stop())
    if budget is not None:
        budget.charge(work_s(solver, m))
        if reached_net(solver, settings, code):
            budget.warn("rounding column generation's LP", "its CP-SAT solve")
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return [int(v) for v in solver.ResponseProto().solution]


@dataclass(frozen=True)
class Decomposed:
    """What column generation before the search gave: the roster to start from, a bound, and whether
    it proves optimality.
    """

    hint: dict[tuple[str, int, str], int]
    values: list[int]
    objective: float
    bound: float | None
    """Valid lower bound [objective units], rounded up to the objective's grain; None if no round
    finished.
    """
    converged: bool
    rounds: int

    @property
    def optimal(self) -> bool:
        return self.bound is not None and self.bound >= self.objective - 1e-9

    def result(self, rm: RosterModel, budget: Budget, first_s: float | None) -> SolveResult:
        """The roster as a solve result (for a proof of optimality found before the search)."""
        t, warn = budget.elapsed(), budget.warnings
        return result_of(rm, "FEASIBLE", self.values, self.bound, t, first_s, warn, COLGEN_BOUND)


def decomposed_start(
    rm: RosterModel,
    hint: Mapping[tuple[str, int, str], int],
    budget: Budget,
    stage: str = "colgen",
    progress: Progress | None = None,
) -> Decomposed | None:
    """Column generation from ``hint`` (shift literals) until ``stage``'s deadline of ``budget``,
    then :func:`rens` on its LP solution.

    None when the time left is under :data:`MIN_BUDGET_S`, the model does not
    decompose by agent or ``hint`` cannot be completed. The rounds get their
    share of the time left and the rounding the rest
    (:func:`~staffplan.roster.budget.colgen_split`). The roster returned is the
    better of ``hint`` and the rounded LP solution (not tried when the rounds
    were too slow: that LP is far from converged); the bound is column
    generation's Lagrangian bound.
    """
    settings = budget.settings
    if budget.left(stage) < MIN_BUDGET_S:
        return None
    start = complete_hint(rm, hint, settings, budget)
    if start is None:
        return None
    rm.model.Minimize(objective_expr(rm))
    dec = decompose(rm)
    if dec is None:
        return None
    values, cost = start, objective_of(rm, start)
    cg_s, rens_s = colgen_split(budget.left(stage))
    cg = column_generation(
        dec,
        start,
        max(cg_s, 0.1),
        seed=settings.seed,
        threads=settings.workers,
        deterministic=settings.deterministic,
        expected_rounds=EXPECTED_ROUNDS,
        cutoff=cost * SCALE,
    )
    budget.charge(cg.work)
    if cg.net_reached:
        budget.warn("column generation", "its rounds")
    bound = None if cg.bound is None else rounded_bound(rm, cg.bound)
    if cg.fractional is not None and not cg.too_slow and not (bound is not None and bound >= cost):
        limit = max(budget.left(stage), rens_s)
        found = rens(rm, cg.fractional, settings, limit, stop_at=bound, budget=budget)
        if found is not None and objective_of(rm, found) < cost:
            values, cost = found, objective_of(rm, found)
    if progress is not None:
        b = bound if bound is not None else 0.0
        progress(incumbent(rm, values, budget.elapsed(), cost, b))
    shifts = shift_hint(rm, values)
    return Decomposed(shifts, values, cost, bound, cg.converged, cg.rounds)
