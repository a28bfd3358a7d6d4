"""Completing a hint: a wall-clock budget caps its solve at the time limit and is told how long
it took; shifts that break a fixed literal give no completion; the model's hint is set only when
asked."""

from __future__ import annotations

import pytest
from rosterkit import day_hours, make, solve_tiny

from staffplan.roster import solver as solver_mod
from staffplan.roster.budget import MIN_SOLVE_S, Budget
from staffplan.roster.solver import complete_hint, objective_of, shift_hint
from staffplan.settings import SolveSettings


@pytest.mark.parametrize("deterministic", [False, True])
def test_completion_never_runs_past_a_wall_clock_limit(
    monkeypatch: pytest.MonkeyPatch, deterministic: bool
) -> None:
    out = solve_tiny(make(required=day_hours(3, {d: [(8, 16, 1)] for d in range(3)})))
    rm = out.model
    made = []
    real = solver_mod.make_solver

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        s = real(*args, **kwargs)
        made.append(s)
        return s

    monkeypatch.setattr(solver_mod, "make_solver", spy)
    settings = SolveSettings(60.0, 1, 0, deterministic=deterministic)
    budget = Budget.single(settings)
    budget.t0 -= 1000.0  # the limit passed long ago
    values = complete_hint(rm, shift_hint(rm, out.result.solution), settings, budget)
    # a completion with every shift fixed is solved by presolve: still the roster's own cost
    assert values is not None and objective_of(rm, values) == out.result.objective
    net = made[-1].parameters.max_time_in_seconds
    if deterministic:  # work-bounded: the wall clock is only the far safety net
        assert net > 60.0
    else:
        assert net == MIN_SOLVE_S


def test_a_completion_is_timed_and_may_leave_the_models_hint_alone() -> None:
    out = solve_tiny(make(required=day_hours(3, {d: [(8, 16, 1)] for d in range(3)})))
    rm = out.model
    settings = SolveSettings(60.0, 1, 0)
    rm.model.ClearHints()
    budget = Budget.single(settings)
    values = complete_hint(rm, shift_hint(rm, out.result.solution), settings, budget, False)
    assert values is not None and objective_of(rm, values) == out.result.objective
    assert budget.completion_s > 0.0
    assert len(rm.model.Proto().solution_hint.vars) == 0  # left alone
    again = complete_hint(rm, shift_hint(rm, out.result.solution), settings, budget)
    hint = rm.model.Proto().solution_hint
    assert again == values
    assert list(hint.vars) == list(range(len(values))) and list(hint.values) == values


def test_shifts_against_a_fixed_literal_give_no_completion() -> None:
    out = solve_tiny(make(required=day_hours(3, {d: [(8, 16, 1)] for d in range(3)})))
    rm = out.model
    shifts = shift_hint(rm, out.result.solution)
    key = next(k for k in rm.x if len(k) == 3 and shifts[k] == 1)
    worked = rm.x[key]
    dom = rm.model.Proto().variables[worked.Index()].domain
    dom[0] = dom[1] = 0  # a rule fixed that shift off: the given roster cannot be completed
    assert complete_hint(rm, shifts, SolveSettings(60.0, 1, 0)) is None
    hint = rm.model.Proto().solution_hint  # the shifts as given stay the model's hint
    assert dict(zip(hint.vars, hint.values, strict=True))[worked.Index()] == 1
