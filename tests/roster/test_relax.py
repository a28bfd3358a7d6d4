"""The LP-relaxation bound: closed-form LPs, every CP-SAT solution inside the relaxation, bound ≤
proven optimum.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ortools.sat.python import cp_model
from rosterkit import day_hours, make, template

from staffplan.roster.build import build_model
from staffplan.roster.cpmodel import objective_expr
from staffplan.roster.relax import linear_relaxation, lp_bound
from staffplan.roster.solver import solve
from staffplan.scenario import Weights
from staffplan.settings import SolveSettings


def test_odd_cycle_cover_lp_is_three_halves_and_rounds_up_to_the_optimum() -> None:
    # min x1+x2+x3, xi+xj >= 1 for every pair: LP optimum 1.5 (all ½), integer optimum 2
    m = cp_model.CpModel()
    x = [m.NewBoolVar(f"x{i}") for i in range(3)]
    for i in range(3):
        m.AddBoolOr([x[i], x[(i + 1) % 3]])
    m.Minimize(sum(x))
    r = linear_relaxation(m.Proto())
    assert r.a_ub.shape[0] == 3
    b = lp_bound(m.Proto())
    assert b is not None
    assert b.values[:3] == pytest.approx([0.5, 0.5, 0.5], abs=1e-6)
    assert b.bound == 2  # ceil(1.5): the objective is integral


def test_offset_scaling_and_fractional_objective() -> None:
    # min 3x + 2y + 7 with x + y >= 1 over [0, 5]: LP = integer optimum = 9
    m = cp_model.CpModel()
    x, y = m.NewIntVar(0, 5, "x"), m.NewIntVar(0, 5, "y")
    m.Add(x + y >= 1)
    m.Minimize(3 * x + 2 * y + 7)
    b = lp_bound(m.Proto())
    assert b is not None and b.bound == 9


def test_enforced_linear_is_relaxed_with_big_m_not_dropped() -> None:
    # e ⇒ x >= 4 and e is forced: bound must be 4; dropping the row would give 0
    m = cp_model.CpModel()
    x, e = m.NewIntVar(0, 10, "x"), m.NewBoolVar("e")
    m.Add(x >= 4).OnlyEnforceIf(e)
    m.AddBoolOr([e])
    m.Minimize(x)
    b = lp_bound(m.Proto())
    assert b is not None and b.bound == 4


def test_lin_max_keeps_the_convex_side() -> None:
    # t = max(x, y) with x + y >= 6: LP puts x = y = 3, so t >= 3
    m = cp_model.CpModel()
    x, y, t = (m.NewIntVar(0, 10, n) for n in "xyt")
    m.AddMaxEquality(t, [x, y])
    m.Add(x + y >= 6)
    m.Minimize(t)
    b = lp_bound(m.Proto())
    assert b is not None and b.bound == 3


def test_infeasible_relaxation_gives_none() -> None:
    m = cp_model.CpModel()
    x = m.NewIntVar(0, 3, "x")
    m.Add(x >= 5)
    m.Minimize(x)
    assert lp_bound(m.Proto()) is None


def _random_model(seed: int) -> tuple[cp_model.CpModel, list[cp_model.IntVar]]:
    rng = np.random.default_rng(seed)
    m = cp_model.CpModel()
    b = [m.NewBoolVar(f"b{i}") for i in range(8)]
    z = [m.NewIntVar(0, 6, f"z{i}") for i in range(3)]
    lits = [*b, *(v.Not() for v in b)]
    for _ in range(6):
        pick = rng.choice(len(lits), size=3, replace=False)
        m.AddBoolOr([lits[i] for i in pick])
    m.AddAtMostOne(b[:3])
    m.AddExactlyOne(b[3:6])
    for _ in range(3):
        coef = rng.integers(-3, 4, size=8)
        e = [lits[int(rng.integers(len(lits)))]]
        m.Add(
            sum(int(c) * v for c, v in zip(coef, b, strict=True)) + z[0] <= int(rng.integers(2, 8))
        ).OnlyEnforceIf(e)
    m.Add(z[1] + z[2] >= int(rng.integers(1, 6)))
    t = m.NewIntVar(0, 12, "t")
    m.AddMaxEquality(t, [z[0], z[1] + b[0]])
    obj = [int(c) for c in rng.integers(0, 9, size=8)]
    m.Minimize(sum(c * v for c, v in zip(obj, b, strict=True)) + 2 * t + z[2])
    return m, [*b, *z, t]


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000))
def test_every_solution_lies_in_the_relaxation_and_bound_never_exceeds_the_optimum(
    seed: int,
) -> None:
    m, _ = _random_model(seed)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    code = solver.Solve(m)
    b = lp_bound(m.Proto())
    if code == cp_model.INFEASIBLE:
        return
    assert code == cp_model.OPTIMAL
    x = np.array(solver.ResponseProto().solution, dtype=float)
    r = linear_relaxation(m.Proto())
    assert np.all(r.a_ub @ x <= r.b_ub + 1e-9)
    assert np.allclose(r.a_eq @ x, r.b_eq)
    assert np.all((r.lo <= x) & (x <= r.hi))
    assert b is not None
    assert b.bound <= solver.ObjectiveValue() + 1e-9


def test_roster_bound_is_valid_and_at_least_cp_sat_own() -> None:
    req = day_hours(3, {d: [(8, 12, 3), (12, 20, 2)] for d in range(3)})
    p = make(
        agents=4,
        days=3,
        templates=(
            template("E", "06:00", "10:00", length=480),
            template("L", "12:00", "14:00", length=480),
        ),
        required=req,
        weights=Weights(under_coverage=10, over_coverage=1, cost=0, preference=1, fairness=0),
    )
    rm = build_model(p)
    rm.model.Minimize(objective_expr(rm))
    lp = lp_bound(rm.model.Proto())
    out = solve(build_model(p), SolveSettings(10, 1, 0, deterministic=True))
    assert out.status == "OPTIMAL"
    assert lp is not None
    assert lp.bound / 100 <= out.objective + 1e-9
    assert out.bound == pytest.approx(out.objective)


def test_minimum_minutes_bound_counts_whole_shifts() -> None:
    """37.5 h a week from 8-h shifts: the LP must pay for 5 shifts (the fewest-shifts row), not
    4.6875; CP-SAT agrees.
    """
    from rosterkit import contract

    from staffplan.io.team import Agent

    con = contract(min_minutes_week=2250, max_minutes_week=2400, max_days_week=5)
    agent = Agent("A0", "a", "t", "C", ("voice",), 10.0)
    p = make(
        agents=[agent],
        days=7,
        templates=(template("D", "08:00", length=480),),
        contracts={"C": con},
        weights=Weights(under_coverage=0, over_coverage=0, cost=1, preference=0, fairness=0),
    )
    rm = build_model(p)
    rm.model.Minimize(objective_expr(rm))
    b = lp_bound(rm.model.Proto())
    assert b is not None and b.bound / 100 == pytest.approx(
        5 * 8 * 10.0
    )  # was 4.6875 shifts' pay without the row
    assert solve(rm, SolveSettings(5, 1, 0, deterministic=True)).objective == pytest.approx(
        5 * 8 * 10.0
    )
