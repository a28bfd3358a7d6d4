"""The engine's last step: the reported objective is the roster's own cost, not a stopped
solver's loose slack."""

from __future__ import annotations

from rosterkit import day_hours, make, solve_tiny

from staffplan.roster.engine import tightened
from staffplan.roster.solver import objective_of, result_of
from staffplan.settings import SolveSettings


def test_loose_slack_is_tightened_to_the_rosters_own_cost() -> None:
    out = solve_tiny(make(required=day_hours(3, {d: [(8, 16, 1)] for d in range(3)})))
    rm, res = out.model, out.result
    values = list(res.solution)
    domains = rm.model.Proto().variables
    over = next(  # an over-cover count with room to loosen: still a feasible assignment
        t
        for t in rm.terms
        if t.name.startswith("over[") and values[t.var.Index()] < max(domains[t.var.Index()].domain)
    )
    values[over.var.Index()] += 1
    loose = result_of(rm, "FEASIBLE", values, res.bound, 1.0, 0.5)
    assert loose.objective > res.objective
    tight = tightened(rm, loose, SolveSettings(1, 1, 0, deterministic=True))
    assert tight.objective == res.objective == objective_of(rm, list(tight.solution))
    assert tight.values == loose.values  # the same shifts
    assert tightened(rm, res, SolveSettings(1, 1, 0, deterministic=True)) is res
