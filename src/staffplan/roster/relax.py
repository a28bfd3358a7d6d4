"""A lower bound on a CP-SAT model's optimum from its linear relaxation, solved by HiGHS.

CP-SAT's own LP worker can take longer than the time limit to finish its
root relaxation on large interval-coverage models (150 agents × 7 days ×
40+ shift variants), and then reports only the trivial bound. The LP
relaxation of the same model, solved by HiGHS (through ``scipy``), takes a
few seconds and gives a bound that holds for every roster the model admits.

:func:`linear_relaxation` reads the model's proto and keeps, for every
constraint, a linear relaxation of it (never anything stronger):

* ``linear``: its activity within the domain's hull; with enforcement
  literals ``e``, big-M rows ``activity ≤ ub + M·Σ(1 − e)`` (and ≥ likewise)
  with M from the variables' bounds;
* ``bool_or`` / ``bool_and`` / ``at_most_one`` / ``exactly_one``: the usual
  clause and cardinality rows (an enforcement literal joins the clause negated);
* ``lin_max``: ``target ≥ expr`` for every expression (the ``≤`` side is
  non-convex and dropped);
* every other constraint kind is dropped.

Dropping or weakening constraints only lowers the relaxation's optimum, so
``lp_bound`` is a valid lower bound; it is moved down by a relative 1e-6 (LP
tolerances) and rounded up to an integer when the objective is integral.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

INT_INF = 2**62
"""Domain ends beyond ± this are treated as unbounded."""


@dataclass(frozen=True)
class Relaxation:
    """``min c·x + offset`` s.t. ``A_ub x ≤ b_ub``, ``A_eq x = b_eq``, ``lo ≤ x ≤ hi`` (model units,
    before scaling).
    """

    c: np.ndarray
    offset: float
    scaling: float
    a_ub: sparse.csr_matrix
    b_ub: np.ndarray
    a_eq: sparse.csr_matrix
    b_eq: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    integral: bool


@dataclass(frozen=True)
class LpBound:
    """A valid lower bound [objective units of the model] and the LP's time [s]; ``values`` = LP
    solution (model variables).
    """

    bound: float
    seconds: float
    values: np.ndarray


class _Rows:
    def __init__(self) -> None:
        self.rows: list[int] = []
        self.cols: list[int] = []
        self.vals: list[float] = []
        self.rhs: list[float] = []

    def add(self, terms: dict[int, float], rhs: float) -> None:
        r = len(self.rhs)
        for v, a in terms.items():
            if a != 0.0:
                self.rows.append(r)
                self.cols.append(v)
                self.vals.append(a)
        self.rhs.append(rhs)

    def matrix(self, n: int) -> tuple[sparse.csr_matrix, np.ndarray]:
        m = sparse.csr_matrix((self.vals, (self.rows, self.cols)), shape=(len(self.rhs), n))
        return m, np.asarray(self.rhs, dtype=float)


def _lit(lit: int) -> tuple[int, float, float]:
    """(variable, coefficient, constant) with literal value = coefficient × x + constant."""
    return (lit, 1.0, 0.0) if lit >= 0 else (-lit - 1, -1.0, 1.0)


def _clause(ub: _Rows, lits: list[int]) -> None:
    """Σ lit ≥ 1 as −Σ lit ≤ −1."""
    terms: dict[int, float] = {}
    const = 0.0
    for lit in lits:
        v, a, k = _lit(lit)
        terms[v] = terms.get(v, 0.0) - a
        const += k
    ub.add(terms, -1.0 + const)


def _span(terms: dict[int, float], lo: np.ndarray, hi: np.ndarray) -> tuple[float, float]:
    mn = mx = 0.0
    for v, a in terms.items():
        mn += a * (lo[v] if a > 0 else hi[v])
        mx += a * (hi[v] if a > 0 else lo[v])
    return mn, mx


_KINDS = ("bool_or", "bool_and", "at_most_one", "exactly_one", "linear", "lin_max")


def constraint_kind(ct: Any) -> str | None:
    """The constraint's kind among those this module relaxes, or None."""
    return next((k for k in _KINDS if getattr(ct, f"has_{k}")()), None)


def linear_relaxation(proto: Any) -> Relaxation:
    """The LP relaxation of ``proto`` described in the module docstring."""
    n = len(proto.variables)
    doms = [
        list(v.domain) for v in proto.variables
    ]  # list() first: the proto wrapper ignores negative indexes
    lo = np.array([float(d[0]) if d[0] > -INT_INF else -np.inf for d in doms])
    hi = np.array([float(d[-1]) if d[-1] < INT_INF else np.inf for d in doms])
    ub, eq = _Rows(), _Rows()
    for ct in proto.constraints:
        kind = constraint_kind(ct)
        enf = list(ct.enforcement_literal)
        if kind == "bool_or":
            _clause(ub, list(ct.bool_or.literals) + [-e - 1 for e in enf])
        elif kind == "bool_and":
            for lit in ct.bool_and.literals:
                _clause(ub, [lit] + [-e - 1 for e in enf])
        elif kind in ("at_most_one", "exactly_one") and not enf:
            lits = ct.at_most_one.literals if kind == "at_most_one" else ct.exactly_one.literals
            terms: dict[int, float] = {}
            const = 0.0
            for lit in lits:
                v, a, k = _lit(lit)
                terms[v] = terms.get(v, 0.0) + a
                const += k
            (ub if kind == "at_most_one" else eq).add(terms, 1.0 - const)
        elif kind == "linear":
            terms = {}
            for v, a in zip(ct.linear.vars, ct.linear.coeffs, strict=True):
                terms[v] = terms.get(v, 0.0) + float(a)
            d = list(ct.linear.domain)
            rlo = float(d[0]) if d[0] > -INT_INF else -np.inf
            rhi = float(d[-1]) if d[-1] < INT_INF else np.inf
            if not enf:
                if rlo == rhi:
                    eq.add(terms, rlo)
                    continue
                if rhi < np.inf:
                    ub.add(terms, rhi)
                if rlo > -np.inf:
                    ub.add({v: -a for v, a in terms.items()}, -rlo)
                continue
            mn, mx = _span(terms, lo, hi)
            if not (math.isfinite(mn) and math.isfinite(mx)):
                continue
            # σ·activity ≤ σ·bound + M·Σ(1 − e) for σ = +1 (≤ rhi) and σ = −1 (≥ rlo), M the most it
            # can exceed the bound
            slack = 1.0 * len(enf) - sum(
                _lit(e)[2] for e in enf
            )  # Σ(1 − e) = slack − Σ a·x over the literals
            for sign, bound, worst in ((1.0, rhi, mx), (-1.0, rlo, mn)):
                excess = sign * (worst - bound)
                if not math.isfinite(bound) or excess <= 0:
                    continue
                row = {v: sign * a for v, a in terms.items()}
                for e in enf:
                    v, a, _k = _lit(e)
                    row[v] = row.get(v, 0.0) + excess * a
                ub.add(row, sign * bound + excess * slack)
        elif kind == "lin_max" and not enf:
            t = ct.lin_max.target
            for ex in ct.lin_max.exprs:
                # target ≥ expr ⇔ expr − target ≤ offset_t − offset_e
                row: dict[int, float] = {}
                for v, a in zip(ex.vars, ex.coeffs, strict=True):
                    row[v] = row.get(v, 0.0) + float(a)
                for v, a in zip(t.vars, t.coeffs, strict=True):
                    row[v] = row.get(v, 0.0) - float(a)
                ub.add(row, float(t.offset) - float(ex.offset))
    obj = proto.objective
    c = np.zeros(n)
    for v, a in zip(obj.vars, obj.coeffs, strict=True):
        c[v] += float(a)
    a_ub, b_ub = ub.matrix(n)
    a_eq, b_eq = eq.matrix(n)
    integral = all(float(a).is_integer() for a in obj.coeffs)
    return Relaxation(
        c,
        float(obj.offset),
        float(obj.scaling_factor or 1.0),
        a_ub,
        b_ub,
        a_eq,
        b_eq,
        lo,
        hi,
        integral,
    )


def lp_bound(proto: Any, time_limit_s: float = 10.0) -> LpBound | None:
    """A valid lower bound on the optimum of ``proto`` (minimisation), or None if the LP did not
    solve in time.

    Unit: the model's objective value (``scaling × (Σ coef·x + offset)``).
    ``time_limit_s`` [s] counts from the call (reading the proto included).
    An infeasible relaxation (the model is infeasible too) gives None.
    """
    if not proto.has_objective() or proto.objective.scaling_factor < 0:
        return None
    t0 = time.perf_counter()
    r = linear_relaxation(proto)
    res = linprog(
        r.c,
        A_ub=r.a_ub if r.a_ub.shape[0] else None,
        b_ub=r.b_ub if r.a_ub.shape[0] else None,
        A_eq=r.a_eq if r.a_eq.shape[0] else None,
        b_eq=r.b_eq if r.a_eq.shape[0] else None,
        bounds=np.column_stack([r.lo, r.hi]),
        method="highs-ipm",
        options={
            "time_limit": max(float(time_limit_s) - (time.perf_counter() - t0), 0.1),
            "presolve": True,
        },
    )
    if res.status != 0:
        return None
    raw = float(res.fun)
    raw -= 1e-6 * max(1.0, abs(raw))
    if r.integral:
        raw = math.ceil(raw)
    return LpBound(r.scaling * (raw + r.offset), time.perf_counter() - t0, np.asarray(res.x))
