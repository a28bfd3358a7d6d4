"""Infeasible inputs are explained (pre-checks and assumption cores); unavoidable gaps are named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from rosterkit import contract, day_hours, make, solve_tiny, template

from staffplan.errors import InfeasibleError
from staffplan.io.team import Absence, Agent, Availability
from staffplan.roster.engine import plan
from staffplan.settings import SolveSettings


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_localize("UTC")


def test_precheck_names_the_agent_whose_minimum_cannot_be_reached() -> None:
    # available 4 h a day only, but needs 3 × 480 paid minutes in 3 days
    av = tuple(Availability("A1", wd, None, 8 * 60, 12 * 60) for wd in range(7))
    p = make(
        templates=(template("D", "08:00"), template("S", "08:00", length=240)),
        contracts={"C": contract(min_minutes_week=480 * 7)},
        availability=av,
        required=day_hours(3, {0: [(8, 16, 1)]}),
    )
    with pytest.raises(InfeasibleError) as exc:
        plan(p, SolveSettings(5, 1, 0, deterministic=True))
    text = str(exc.value)
    assert "weekly paid minutes" in text and "A1" in text and "A0" not in text
    assert "720 min" in text  # 3 × 240 reachable


def test_precheck_names_a_hard_minimum_nobody_can_staff() -> None:
    agents = [Agent("A0", "a", "t", "C", ("voice",)), Agent("A1", "b", "t", "C", ("billing",))]
    req = np.zeros((2, 72), dtype=np.int64)
    minimum = np.zeros_like(req)
    minimum[1, 32:34] = 1  # Tuesday 08:00-10:00 billing
    from staffplan.roster.problem import plain_demand

    p = make(agents=agents, queues=("voice", "billing"), required=req)
    p = type(p)(
        p.grid,
        p.agents,
        p.contracts,
        p.templates,
        plain_demand(("voice", "billing"), req, minimum),
        p.weights,
        absences=(Absence("A1", ts("2026-12-08"), ts("2026-12-09"), "vacation"),),
    )
    with pytest.raises(InfeasibleError) as exc:
        plan(p, SolveSettings(5, 1, 0, deterministic=True))
    text = str(exc.value)
    assert "minimum cover" in text and "billing" in text and "Tue 2026-12-08 08:00–10:00" in text


def test_core_names_the_conflicting_rule_and_agent() -> None:
    # A0 must work every day (minimum) but may not work more than 2 days in a row: only the solver
    # can see it
    cons = {"C": contract(min_minutes_week=480 * 7, max_consecutive_days=2), "F": contract()}
    agents = [Agent("A0", "a", "t", "C", ("voice",)), Agent("A1", "b", "t", "F", ("voice",))]
    p = make(agents=agents, contracts=cons, required=day_hours(3, {0: [(8, 16, 1)]}))
    with pytest.raises(InfeasibleError) as exc:
        plan(p, SolveSettings(5, 1, 0, deterministic=True))
    rules = {r.constraint for r in exc.value.reasons}
    where = " ".join(r.where for r in exc.value.reasons)
    assert {"weekly paid minutes", "max consecutive days"} <= rules
    assert "A0" in where and "A1" not in where
    assert "INFEASIBLE" not in str(exc.value).split("\n")[0]


def test_gap_note_when_the_only_skilled_agents_are_on_vacation() -> None:
    agents = [
        Agent("A0", "a", "t", "C", ("voice",)),
        Agent("A1", "b", "t", "C", ("billing",)),
        Agent("A2", "c", "t", "C", ("billing",)),
    ]
    req = np.zeros((2, 72), dtype=np.int64)
    req[1, 32:34] = 1
    vac = tuple(Absence(a, ts("2026-12-08"), ts("2026-12-09"), "vacation") for a in ("A1", "A2"))
    p = make(agents=agents, queues=("voice", "billing"), required=req, absences=vac)
    out = solve_tiny(p)
    assert len(out.notes) == 1
    note = out.notes[0]
    assert (
        note.startswith("Tue 2026-12-08 08:00–10:00 billing")
        and "only 0 agent(s)" in note
        and "A1, A2" in note
    )


def test_gap_note_when_no_template_reaches_the_hours() -> None:
    out = solve_tiny(make(required=day_hours(3, {0: [(2, 4, 1), (8, 16, 1)]})))
    assert out.notes == (
        "Mon 2026-12-07 02:00–04:00 voice: target 1 agents but only 0 agent(s) with skill "
        "voice can be on shift (no shift template their contracts allow "
        "covers these hours)",
    )
    assert out.result.objective == 0  # unreachable intervals carry no objective term


def test_an_agents_own_rules_in_conflict_are_named_before_the_solve() -> None:
    """Issue 18: min_consecutive_days 5 with 30 h rest (8-h shifts on consecutive days leave 16 h)
    gave "no roster found within the time limit (status UNKNOWN)" on a real team. The one-agent
    models name the rules and every agent they bind, before the full model is solved.
    """
    from staffplan.roster.build import build_model
    from staffplan.roster.explain import precheck

    strict = contract(
        min_minutes_week=4 * 480, max_days_week=5, min_consecutive_days=5, min_rest_hours=30
    )
    cons = {"C": strict, "F": contract()}
    agents = [Agent(f"A{i}", f"n{i}", "t", "C" if i % 2 else "F", ("voice",)) for i in range(40)]
    p = make(agents=agents, contracts=cons, days=7, required=day_hours(7, {0: [(8, 16, 1)]}))
    reasons = precheck(build_model(p))
    rules = {r.constraint for r in reasons}
    assert {"min consecutive days", "minimum rest between shifts"} <= rules
    where = " ".join(r.where for r in reasons)
    bound = {f"A{i}" for i in range(1, 40, 2)}
    assert all(f"{a} (" in where for a in sorted(bound)[:10]) and "and 10 more" in where
    assert "A0 (" not in where and "A2 (" not in where
    with pytest.raises(InfeasibleError) as exc:
        plan(p, SolveSettings(0.1, 1, 0, deterministic=True))
    assert "min consecutive days" in str(exc.value) and "A1 (n1)" in str(exc.value)


def test_everyone_absent_says_nobody_can_work_and_names_the_absences() -> None:
    ab = tuple(Absence(f"A{i}", ts("2026-12-07"), ts("2026-12-10"), "vacation") for i in range(2))
    p = make(absences=ab, required=day_hours(3, {0: [(8, 16, 1)]}))
    with pytest.raises(InfeasibleError) as exc:
        plan(p, SolveSettings(2, 1, 0))
    text = str(exc.value)
    assert "nobody can work" in text
    assert "A0 vacation 2026-12-07 to 2026-12-09" in text and "A1 vacation" in text


def test_a_time_out_still_names_an_agent_whose_own_rules_conflict() -> None:
    """Agents with absences are checked one by one only when the solve finds nothing (the
    pre-check keeps to one model per contract); the reason names them, not the time limit.
    """
    from staffplan.roster.build import build_model
    from staffplan.roster.explain import precheck, unsolved

    # sick Tuesday and Friday: Wednesday-Thursday is too short a block, so A1 can work Monday,
    # Saturday and Sunday only (edge blocks are exempt) but owes 2400 - 2 × 400 paid minutes
    strict = contract(min_minutes_week=2400, max_days_week=6, min_consecutive_days=4)
    sick = (
        Absence("A1", ts("2026-12-08"), ts("2026-12-09"), "sick"),
        Absence("A1", ts("2026-12-11"), ts("2026-12-12"), "sick"),
    )
    p = make(agents=2, days=7, contracts={"C": strict}, absences=sick)
    rm = build_model(p)
    assert precheck(rm) == []  # A0 alone is fine; A1 has an absence
    err = unsolved(rm, "UNKNOWN")
    assert {r.constraint for r in err.reasons} >= {"min consecutive days"}
    assert all("A1 (" in r.where and "A0" not in r.where for r in err.reasons)
    assert "time limit" not in str(err)
