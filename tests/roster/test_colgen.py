"""Column generation: the agent decomposition, a Lagrangian bound never above the brute-forced
optimum, rounding, and plan().
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from test_lns import TINY_CURTOIS, _brute_force_optimum, _problem

from staffplan.roster.budget import Budget
from staffplan.roster.build import build_model
from staffplan.roster.cpmodel import objective_expr
from staffplan.roster.engine import plan
from staffplan.roster.heuristics.colgen import (
    column_generation,
    decompose,
    decomposed_start,
    objective_grain,
    rens,
    rounded_bound,
)
from staffplan.roster.solver import Incumbent, complete_hint, objective_of
from staffplan.roster.validate import check_roster
from staffplan.settings import SolveSettings


def _tiny_curtois(tmp_path: Path):
    from staffplan.importers.curtois import parse_text, to_scenario
    from staffplan.roster.load import load_problem
    from staffplan.scenario import load

    return load_problem(load(to_scenario(parse_text(TINY_CURTOIS), tmp_path / "tiny")))


def _curtois_optimum(rm) -> float:
    """Every combination of each agent's shift choices (none/D/L per day), completed and costed: the
    brute-force optimum.
    """
    keys = sorted({(a, d) for a, d, _ in rm.x})
    choices = [[None] + sorted(v for a2, d2, v in rm.x if (a2, d2) == key) for key in keys]
    best = None
    for combo in itertools.product(*choices):
        shifts = {k: 0 for k in rm.x}
        shifts.update(
            {(a, d, v): 1 for (a, d), v in zip(keys, combo, strict=True) if v is not None}
        )
        values = complete_hint(rm, shifts, SolveSettings(5, 1, 0))
        if values is not None:
            obj = objective_of(rm, values)
            best = obj if best is None else min(best, obj)
    assert best is not None
    return best


def _start(rm) -> list[int]:
    values = complete_hint(
        rm, {k: 0 for k in rm.x}, SolveSettings(5, 1, 0)
    )  # nobody works: feasible, poor
    assert values is not None
    rm.model.Minimize(objective_expr(rm))
    return values


def test_decompose_gives_one_block_per_agent_and_the_cover_rows_to_the_master(
    tmp_path: Path,
) -> None:
    rm = build_model(_tiny_curtois(tmp_path))
    rm.model.Minimize(objective_expr(rm))
    dec = decompose(rm)
    assert dec is not None
    assert [b.agent for b in dec.blocks] == ["A", "B"]
    for b in dec.blocks:
        own = {lit.Index() for (a, _d, _v), lit in rm.x.items() if a == b.agent}
        assert own <= set(b.vars.tolist())
        others = {lit.Index() for (a, _d, _v), lit in rm.x.items() if a != b.agent}
        assert not others & set(b.vars.tolist())
    names = {rm.model.Proto().variables[int(v)].name for v in dec.master}
    # shift D can be worked by A and B: its cover slacks couple them and stay in the master;
    # only B may work L: its slacks are B's own (decided by B's schedule alone)
    assert {t.name for t in rm.terms if t.rule == "shift_cover" and t.name.endswith(",D]")} <= names
    b_block = next(b for b in dec.blocks if b.agent == "B")
    b_names = {rm.model.Proto().variables[int(v)].name for v in b_block.vars}
    assert {
        t.name for t in rm.terms if t.rule == "shift_cover" and t.name.endswith(",L]")
    } <= b_names
    # every master row is linear and touches some agent's variables or a master variable
    assert dec.rows.shape[0] > 0 and all(dec.rows[r].nnz > 0 for r in range(dec.rows.shape[0]))


def test_decompose_refuses_a_nonlinear_rule_coupling_agents(tmp_path: Path) -> None:
    rm = build_model(_tiny_curtois(tmp_path))
    both = rm.model.NewBoolVar("both")
    rm.model.AddMaxEquality(both, [rm.work[("A", 0)], rm.work[("B", 0)]])
    rm.model.Minimize(objective_expr(rm) + both)
    assert decompose(rm) is None


@pytest.mark.parametrize("which", ["interval coverage", "curtois"])
def test_every_lagrangian_bound_is_at_most_the_brute_force_optimum_and_converges_to_it(
    which: str, tmp_path: Path
) -> None:
    if which == "curtois":
        rm = build_model(_tiny_curtois(tmp_path))
        optimum = _curtois_optimum(rm)
    else:
        rm = build_model(_problem())
        optimum = _brute_force_optimum(rm)
    start = _start(rm)
    dec = decompose(rm)
    assert dec is not None
    seen: list[float] = []
    res = column_generation(
        dec, start, 20.0, deterministic=True, on_round=lambda lp, b: seen.append(b)
    )
    assert res.converged and res.bound is not None
    assert all(
        b <= optimum * 100 + 1e-6 for b in seen
    )  # model units (× SCALE): every round's bound is valid
    # a budget far too small for the pricing solves: each block gets its share of it (a solve cut
    # short gives its proven bound, or the box minimum), so a round completes with a valid bound
    cut: list[float] = []
    short = column_generation(
        dec, start, 0.002, deterministic=True, on_round=lambda lp, b: cut.append(b)
    )
    assert short.rounds >= 1 and short.bound is not None and cut
    assert all(b <= optimum * 100 + 1e-6 for b in cut)
    assert res.lp_value is not None and res.bound <= res.lp_value + 1e-6
    assert rounded_bound(rm, res.bound) == pytest.approx(optimum)  # tight on these instances
    # the fractional solution is a convex combination of schedules: shift literals in [0, 1], one
    # shift a day
    frac = res.fractional
    assert frac is not None
    for (a, d), w in rm.work.items():
        day = sum(frac[lit.Index()] for (a2, d2, _v), lit in rm.x.items() if (a2, d2) == (a, d))
        assert -1e-9 <= day <= 1 + 1e-9 and abs(day - frac[w.Index()]) < 1e-6


def test_rens_rounds_an_integral_lp_solution_to_that_roster_or_better() -> None:
    rm = build_model(_problem())
    start = _start(rm)
    found = rens(
        rm, np.asarray(start, dtype=float), SolveSettings(5, 1, 0), 5.0
    )  # every literal fixed: only the completion is left
    assert found is not None and objective_of(rm, found) <= objective_of(rm, start)
    assert all(found[lit.Index()] == start[lit.Index()] for lit in rm.x.values())


def test_decomposed_start_proves_the_tiny_instances_optimal() -> None:
    rm = build_model(_problem())
    budget = Budget.single(SolveSettings(10, 2, 0, deterministic=True), "colgen")
    out = decomposed_start(rm, {k: 0 for k in rm.x}, budget)
    assert out is not None and out.optimal
    assert out.objective == pytest.approx(_brute_force_optimum(rm)) == pytest.approx(out.bound)


def test_objective_grain_rounds_bounds_up_to_a_reachable_cost(tmp_path: Path) -> None:
    rm = build_model(
        _tiny_curtois(tmp_path)
    )  # Curtois weights are whole numbers: every cost is a multiple of 1 (× SCALE = 100)
    assert objective_grain(rm) % 100 == 0
    assert rounded_bound(rm, 129_907.03) == 1300.0
    assert rounded_bound(rm, 130_000.0000001) == 1300.0  # LP tolerance
    assert rounded_bound(rm, 129_800.0) == 1298.0


def test_plan_with_column_generation_is_optimal_valid_and_deterministic() -> None:
    p = _problem()
    lines: list[Incumbent] = []
    s = SolveSettings(10.0, 2, 0, True, lp_bound=True, lns_share=0.5, colgen_share=0.4)
    out = plan(p, s, lines.append)
    res = out.result
    assert res.status == "OPTIMAL" and res.gap == 0
    assert (
        res.objective
        == pytest.approx(_brute_force_optimum(build_model(p)))
        == pytest.approx(res.bound)
    )
    assert (
        abs(res.objective - sum(t.coef * res.term_values[t.name] for t in out.model.terms) / 100)
        < 1e-9
    )
    assert lines and lines[-1].objective == res.objective
    assert check_roster(p, out.roster.roster) == []
    d = SolveSettings(2.0, 2, 3, deterministic=True, lns_share=0.5, colgen_share=0.4)
    a, b = plan(p, d).result, plan(p, d).result
    assert a.values == b.values and a.objective == b.objective


def test_column_generation_gives_up_at_once_when_its_rounds_cannot_fit_the_budget() -> None:
    rm = build_model(_problem())
    start = _start(rm)
    dec = decompose(rm)
    assert dec is not None
    res = column_generation(
        dec, start, 0.5, threads=2, expected_rounds=10**6
    )  # a million rounds never fit in 0.5 s
    assert res.too_slow and not res.converged and res.rounds == 1
    short = Budget.single(SolveSettings(4.0, 2, 0), "colgen")
    rounded = decomposed_start(rm, {k: 0 for k in rm.x}, short)
    assert rounded is None  # under MIN_BUDGET_S: not tried at all


def test_deterministic_column_generation_converges_and_repeats() -> None:
    """Deterministic budgets count each master solve's own simplex iterations (GLOP reports them per
    solve).
    """
    rm = build_model(_problem())
    start = _start(rm)
    dec = decompose(rm)
    assert dec is not None
    a = column_generation(dec, start, 5.0, threads=2, deterministic=True)
    b = column_generation(dec, start, 5.0, threads=2, deterministic=True)
    assert (
        a.converged
        and a.rounds > 1
        and rounded_bound(rm, a.bound) == pytest.approx(_brute_force_optimum(rm))
    )
    assert (a.rounds, a.bound, len(a.columns)) == (b.rounds, b.bound, len(b.columns))
