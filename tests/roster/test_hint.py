"""The greedy start: it keeps the hard rules it knows, and completing it proves feasibility."""

from __future__ import annotations

from rosterkit import contract, day_hours, make, template

from staffplan.roster import build_model
from staffplan.roster.hint import greedy_hint
from staffplan.roster.solve import SolveSettings, complete_hint


def test_greedy_hint_covers_demand_within_contract() -> None:
    req = day_hours(3, {d: [(8, 16, 1), (16, 24, 1)] for d in range(3)})
    p = make(templates=(template("E", "08:00"), template("L", "16:00")), required=req, contracts={"C": contract(max_days_week=2, min_rest_hours=11)})
    rm = build_model(p)
    h = greedy_hint(rm)
    picked = sorted(k for k, v in h.items() if v)
    assert {a for a, _, _ in picked} == {"A0", "A1"}
    for agent in ("A0", "A1"):
        days = [d for a, d, _ in picked if a == agent]
        assert len(days) <= 2 and len(set(days)) == len(days)
    assert complete_hint(rm, h, SolveSettings(5, 1, 0)) is not None


def test_complete_hint_rejects_an_infeasible_start() -> None:
    p = make(agents=1, days=2, templates=(template("L", "16:00"), template("E", "06:00")), contracts={"C": contract(min_rest_hours=11)}, required=day_hours(2, {0: [(16, 24, 1)]}))
    rm = build_model(p)
    bad = {k: 0 for k in rm.x}
    bad[("A0", 0, "L@1600")] = 1
    bad[("A0", 1, "E@0600")] = 1  # 00:00 -> 06:00 is 6 h of rest < 11 h
    assert complete_hint(rm, bad, SolveSettings(5, 1, 0)) is None
    good = {k: 0 for k in rm.x}
    good[("A0", 0, "L@1600")] = 1
    values = complete_hint(rm, good, SolveSettings(5, 1, 0))
    assert values is not None and values[rm.x[("A0", 0, "L@1600")].Index()] == 1
