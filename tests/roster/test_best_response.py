"""The greedy start: it keeps the hard rules it knows, and completing it proves feasibility."""

from __future__ import annotations

from rosterkit import contract, day_hours, make, template

from staffplan.roster.budget import Budget
from staffplan.roster.build import build_model
from staffplan.roster.heuristics.best_response import best_response_hint
from staffplan.roster.heuristics.greedy import greedy_hint
from staffplan.roster.solver import complete_hint
from staffplan.settings import SolveSettings


def _budget(limit_s: float) -> Budget:
    """A deterministic best-response budget (deterministic s): the same result on any machine."""
    return Budget.single(SolveSettings(limit_s, 1, 0, deterministic=True), "improve")


def test_greedy_hint_covers_demand_within_contract() -> None:
    req = day_hours(3, {d: [(8, 16, 1), (16, 24, 1)] for d in range(3)})
    p = make(
        templates=(template("E", "08:00"), template("L", "16:00")),
        required=req,
        contracts={"C": contract(max_days_week=2, min_rest_hours=11)},
    )
    rm = build_model(p)
    h = greedy_hint(rm)
    picked = sorted(k for k, v in h.items() if v)
    assert {a for a, _, _ in picked} == {"A0", "A1"}
    for agent in ("A0", "A1"):
        days = [d for a, d, _ in picked if a == agent]
        assert len(days) <= 2 and len(set(days)) == len(days)
    assert complete_hint(rm, h, SolveSettings(5, 1, 0)) is not None


def test_complete_hint_rejects_an_infeasible_start() -> None:
    p = make(
        agents=1,
        days=2,
        templates=(template("L", "16:00"), template("E", "06:00")),
        contracts={"C": contract(min_rest_hours=11)},
        required=day_hours(2, {0: [(16, 24, 1)]}),
    )
    rm = build_model(p)
    bad = {k: 0 for k in rm.x}
    bad[("A0", 0, "L@1600")] = 1
    bad[("A0", 1, "E@0600")] = 1  # 00:00 -> 06:00 is 6 h of rest < 11 h
    assert complete_hint(rm, bad, SolveSettings(5, 1, 0)) is None
    good = {k: 0 for k in rm.x}
    good[("A0", 0, "L@1600")] = 1
    values = complete_hint(rm, good, SolveSettings(5, 1, 0))
    assert values is not None and values[rm.x[("A0", 0, "L@1600")].Index()] == 1


def _objective(rm, shifts) -> float:
    values = complete_hint(rm, shifts, SolveSettings(5, 1, 0))
    assert values is not None
    return sum(t.coef * values[t.var.Index()] for t in rm.terms) / 100


def _single_agent_optimum_is_reached(rm, shifts, agent: str) -> None:
    """Brute force over the agent's feasible weeks (others fixed): no better week exists."""
    import itertools

    days = rm.problem.grid.days
    options = [[None] + [v.id for v in rm.options.get((agent, d), [])] for d in range(days)]
    base = {k: v for k, v in shifts.items() if k[0] != agent}
    best = None
    for combo in itertools.product(*options):
        trial = dict(base)
        trial.update({(agent, d, vid): 0 for d in range(days) for vid in options[d][1:]})
        for d, vid in enumerate(combo):
            if vid is not None:
                trial[(agent, d, vid)] = 1
        values = complete_hint(rm, trial, SolveSettings(5, 1, 0))
        if values is None:
            continue
        obj = sum(t.coef * values[t.var.Index()] for t in rm.terms) / 100
        best = obj if best is None else min(best, obj)
    assert best is not None
    assert _objective(rm, shifts) <= best + 1e-9


def test_best_responses_never_worsen_the_start_and_leave_no_single_agent_improvement() -> None:
    req = day_hours(3, {0: [(8, 20, 2)], 1: [(6, 14, 1), (14, 22, 2)], 2: [(10, 18, 1)]})
    templates = (
        template("E", "06:00", "08:00", length=480, step=120),
        template("L", "12:00", "14:00", length=480, step=120),
    )
    p = make(
        agents=3,
        days=3,
        templates=templates,
        required=req,
        contracts={"C": contract(max_days_week=2, min_rest_hours=11, max_consecutive_days=2)},
    )
    rm = build_model(p)
    start = {k: 0 for k in rm.x}
    start[("A0", 0, "E@0600")] = 1  # a poor but feasible start: one early shift
    before = _objective(rm, start)
    out = best_response_hint(rm, _budget(30.0), start=start)
    after = _objective(rm, out)
    assert after < before
    for agent in ("A0", "A1", "A2"):
        _single_agent_optimum_is_reached(rm, out, agent)


def test_best_responses_keep_every_hard_rule_of_the_validator() -> None:
    from staffplan.roster.extract import extract
    from staffplan.roster.solver import solve
    from staffplan.roster.validate import check_roster

    req = day_hours(3, {d: [(6, 22, 2)] for d in range(3)})
    templates = (template("E", "06:00", length=480), template("L", "14:00", length=480))
    p = make(
        agents=3,
        days=3,
        templates=templates,
        required=req,
        contracts={
            "C": contract(
                max_days_week=2, min_rest_hours=11, max_consecutive_days=2, min_minutes_week=480
            )
        },
    )
    rm = build_model(p)
    h = best_response_hint(rm, _budget(30.0), start=greedy_hint(rm), max_passes=5)
    res = solve(rm, SolveSettings(1.0, 1, 0, deterministic=True), hint=h)
    assert res.feasible
    assert check_roster(p, extract(p, rm, res).roster) == []
