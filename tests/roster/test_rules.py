"""One rule, one test: tiny models where the rule binds; the independent validator checks every
solution.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rosterkit import START, contract, day_hours, days_worked, make, solve_tiny, template

from staffplan.errors import InfeasibleError
from staffplan.io.team import Absence, Agent, Availability, Break, Preference, PreviousShift
from staffplan.roster.problem import RosterProblem
from staffplan.roster.rules import rest_cliques
from staffplan.roster.validate import check_roster
from staffplan.scenario import Weights

FULL = {d: [(8, 16, 2)] for d in range(3)}


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_localize("UTC")


def test_one_shift_a_day_and_full_cover() -> None:
    out = solve_tiny(make(required=day_hours(3, FULL)))
    r = out.roster.roster
    assert len(r) == 6 and not r.duplicated(["agent_id", "date"]).any()
    assert out.result.objective == 0
    assert (out.roster.coverage["difference"] == 0).all()


def test_max_days_per_week() -> None:
    p = make(required=day_hours(3, FULL), contracts={"C": contract(max_days_week=2)})
    out = solve_tiny(p)
    assert all(len(days_worked(out, a)) == 2 for a in ("A0", "A1"))
    # the 2 missing agent-days cost 8 hours × 1 agent × 10 each
    assert out.result.objective == pytest.approx(2 * 8 * 10)


def test_weekly_minimum_forces_work_without_demand() -> None:
    p = make(
        required=day_hours(3, {0: [(8, 16, 1)]}),
        contracts={"C": contract(min_minutes_week=960 * 7 // 3)},
    )
    out = solve_tiny(p)
    # min pro-rated to 3/7 of the week: 960 min = 2 shifts each
    assert [len(days_worked(out, a)) for a in ("A0", "A1")] == [2, 2]


def test_max_consecutive_days() -> None:
    req = day_hours(3, {d: [(8, 16, 1)] for d in range(3)})
    p = make(agents=1, required=req, contracts={"C": contract(max_consecutive_days=2)})
    out = solve_tiny(p)
    assert len(days_worked(out, "A0")) == 2


def test_max_consecutive_counts_the_previous_roster() -> None:
    req = day_hours(3, {d: [(8, 16, 1)] for d in range(3)})
    prev = tuple(
        PreviousShift(
            "A0",
            START - dt.timedelta(days=k),
            "D",
            ts(f"{START - dt.timedelta(days=k)} 08:00"),
            ts(f"{START - dt.timedelta(days=k)} 16:00"),
        )
        for k in (1, 2)
    )
    p = make(
        agents=1, required=req, contracts={"C": contract(max_consecutive_days=3)}, previous=prev
    )
    out = solve_tiny(p)
    worked = days_worked(out, "A0")
    assert len(worked) == 2 and worked != [0, 1]  # days 0 and 1 would make 4 in a row


def test_min_consecutive_days() -> None:
    # demand only on the middle day of 5; a block of 1 in the middle is forbidden
    req = day_hours(5, {2: [(8, 16, 1)]})
    p = make(agents=1, days=5, required=req, contracts={"C": contract(min_consecutive_days=2)})
    out = solve_tiny(p)
    worked = days_worked(out, "A0")
    assert 2 in worked and len(worked) == 2


def test_min_days_off_in_row() -> None:
    req = day_hours(5, {1: [(8, 16, 1)], 3: [(8, 16, 1)]})
    p = make(agents=1, days=5, required=req, contracts={"C": contract(min_days_off_in_row=2)})
    out = solve_tiny(p)
    worked = days_worked(out, "A0")
    # working days 1 and 3 would leave one day off between them: work 1-3 or only one of them
    assert worked in ([1, 2, 3],) or len([d for d in (1, 3) if d in worked]) == 1


def test_minimum_rest_between_shifts() -> None:
    late = template("L", "16:00", length=480)
    early = template("E", "06:00", length=480)
    req = day_hours(2, {0: [(16, 24, 1)], 1: [(6, 14, 1)]})
    p = make(
        agents=1,
        days=2,
        templates=(early, late),
        required=req,
        contracts={"C": contract(min_rest_hours=11)},
    )
    out = solve_tiny(p)
    assert len(out.roster.roster) == 1  # 24:00 -> 06:00 is 6 h < 11 h


def test_rest_after_the_previous_roster() -> None:
    req = day_hours(1, {0: [(6, 14, 1)]})
    prev = (
        PreviousShift(
            "A0",
            START - dt.timedelta(days=1),
            "L",
            ts(f"{START - dt.timedelta(days=1)} 16:00"),
            ts(f"{START} 00:00"),
        ),
    )
    p = make(
        agents=1,
        days=1,
        templates=(template("E", "06:00"),),
        required=req,
        contracts={"C": contract(min_rest_hours=11)},
        previous=prev,
    )
    out = solve_tiny(p)
    assert out.roster.roster.empty


def test_forbidden_succession() -> None:
    n = template("N", "20:00", length=480, not_followed_by=("E",))
    e = template("E", "10:00", length=480)
    req = day_hours(2, {0: [(20, 24, 1)], 1: [(0, 4, 1), (10, 18, 1)]})
    p = make(agents=1, days=2, templates=(e, n), required=req)
    out = solve_tiny(p)
    assert list(out.roster.roster["shift"]) != ["N", "E"]


def test_max_weekends() -> None:
    sat = dt.date(2026, 12, 12)
    req = day_hours(4, {0: [(8, 16, 1)], 1: [(8, 16, 1)], 2: [(8, 16, 1)], 3: [(8, 16, 1)]})
    # Sat 12, Sun 13, Mon 14, ... Sat 19: two weekends in 8 days; use days 0,1 (weekend 1) and 7
    # (weekend 2)
    req8 = day_hours(8, {0: [(8, 16, 1)], 7: [(8, 16, 1)]})
    p = make(agents=1, days=8, start=sat, required=req8, contracts={"C": contract(max_weekends=1)})
    out = solve_tiny(p)
    assert len(out.roster.roster) == 1
    del req


def test_max_shifts_per_template() -> None:
    p = make(
        agents=1,
        required=day_hours(3, {d: [(8, 16, 1)] for d in range(3)}),
        contracts={"C": contract(max_shifts=(("D", 1),))},
    )
    assert len(solve_tiny(p).roster.roster) == 1


def test_contract_templates() -> None:
    a = template("A", "08:00")
    b = template("B", "12:00")
    req = day_hours(3, {d: [(12, 20, 1)] for d in range(3)})
    p = make(agents=1, templates=(a, b), required=req, contracts={"C": contract(templates=("A",))})
    out = solve_tiny(p)
    assert set(out.roster.roster["shift"]) == {"A"}


def test_horizon_minutes() -> None:
    p = make(
        agents=1, required=day_hours(3, FULL), contracts={"C": contract(max_minutes_horizon=960)}
    )
    assert len(solve_tiny(p).roster.roster) == 2


def test_vacation_blocks_the_day() -> None:
    ab = (Absence("A0", ts("2026-12-08"), ts("2026-12-09"), "vacation"),)
    out = solve_tiny(make(required=day_hours(3, FULL), absences=ab))
    assert 1 not in days_worked(out, "A0")


def test_training_inside_the_shift_takes_the_agent_off_the_phones() -> None:
    ab = (Absence("A0", ts("2026-12-07 10:00"), ts("2026-12-07 12:00"), "training"),)
    p = make(
        agents=1,
        days=1,
        templates=(template("D", "08:00", "09:00"),),
        required=day_hours(1, {0: [(8, 16, 1)]}),
        absences=ab,
    )
    out = solve_tiny(p)
    r = out.roster.roster
    assert r["start"].iloc[0].startswith("2026-12-07T08:00")  # 09:00 start would cut the training
    on = out.roster.on_phone[0]
    assert on[8:10].all() and not on[10:12].any() and on[12:16].all()


def test_availability_window() -> None:
    av = (Availability("A0", 0, None, 12 * 60, 22 * 60),)  # Mondays 12-22 only
    p = make(
        agents=1,
        days=1,
        templates=(template("D", "08:00", "14:00"),),
        required=day_hours(1, {0: [(8, 20, 1)]}),
        availability=av,
    )
    out = solve_tiny(p)
    assert out.roster.roster["start"].iloc[0][11:16] >= "12:00"


NIGHTS = day_hours(2, {0: [(22, 24, 1)], 1: [(0, 8, 1), (22, 24, 1)]})
NIGHT = (template("N", "22:00", length=600),)


def _nights(*days: int) -> pd.DataFrame:
    first = [START + dt.timedelta(days=d) for d in days]
    return pd.DataFrame(
        {
            "agent_id": ["A0"] * len(days),
            "date": [d.isoformat() for d in first],
            "day": list(days),
            "shift": ["N"] * len(days),
            "start": [f"{d.isoformat()}T22:00:00+00:00" for d in first],
            "end": [f"{(d + dt.timedelta(days=1)).isoformat()}T08:00:00+00:00" for d in first],
            "paid_minutes": [600] * len(days),
            "breaks": [""] * len(days),
        }
    )


def test_an_unavailable_day_bans_starts_but_not_the_night_shift_running_into_it() -> None:
    off = (Availability("A0", None, START + dt.timedelta(days=1), 0, 0),)  # Tuesday: no start
    p = make(agents=1, days=2, templates=NIGHT, required=NIGHTS, availability=off)
    assert days_worked(solve_tiny(p), "A0") == [0]  # Monday 22:00 - Tuesday 08:00 is allowed
    assert check_roster(p, _nights(0)) == []
    assert [v.rule for v in check_roster(p, _nights(0, 1))] == ["availability"]


def test_an_absence_is_a_span_no_shift_may_overlap_even_one_from_the_day_before() -> None:
    ab = (Absence("A0", ts("2026-12-08"), ts("2026-12-09"), "day_off"),)
    p = make(agents=1, days=2, templates=NIGHT, required=NIGHTS, absences=ab)
    # Monday's night overlaps Tuesday 00:00-08:00, so no shift is left: the pre-check says so
    with pytest.raises(InfeasibleError, match="nobody can work") as err:
        solve_tiny(p)
    assert "A0 day_off 2026-12-08" in str(err.value)
    assert [v.rule for v in check_roster(p, _nights(0))] == ["absence"]


def test_preferences_off_and_not() -> None:
    prefs = (
        Preference("A0", START, "off", None, 5),
        Preference("A1", START + dt.timedelta(days=1), "not", "D", 5),
    )
    req = day_hours(3, {d: [(8, 16, 1)] for d in range(3)})
    out = solve_tiny(make(required=req, preferences=prefs))
    assert 0 not in days_worked(out, "A0") and 1 not in days_worked(out, "A1")
    assert out.result.objective == 0


def test_labour_cost_prefers_the_cheaper_agent() -> None:
    agents = [
        Agent("A0", "a", "t", "C", ("voice",), 30.0),
        Agent("A1", "b", "t", "C", ("voice",), 10.0),
    ]
    w = Weights(under_coverage=100, over_coverage=1, cost=1, preference=0, fairness=0)
    out = solve_tiny(
        make(agents=agents, required=day_hours(3, {d: [(8, 16, 1)] for d in range(3)}), weights=w)
    )
    assert days_worked(out, "A1") == [0, 1, 2] and days_worked(out, "A0") == []
    assert out.result.objective == pytest.approx(3 * 8 * 10)


def test_fairness_spreads_weekends() -> None:
    sat = dt.date(2026, 12, 12)
    req = day_hours(8, {0: [(8, 16, 1)], 7: [(8, 16, 1)]})
    w = Weights(under_coverage=100, over_coverage=1, cost=0, preference=0, fairness=10)
    out = solve_tiny(make(days=8, start=sat, required=req, weights=w))
    assert out.roster.agents["weekends"].tolist() == [1, 1]


def test_multi_skill_agent_serves_one_queue_at_a_time() -> None:
    agents = [Agent("A0", "a", "t", "C", ("voice", "chat"))]
    req = np.zeros((2, 24), dtype=np.int64)
    req[0, 8:16] = 1
    req[1, 8:16] = 1
    out = solve_tiny(make(agents=agents, days=1, queues=("voice", "chat"), required=req))
    assert out.roster.allocation[:, 8:16].sum(axis=0).tolist() == [1] * 8
    assert out.result.objective == pytest.approx(8 * 10)


def test_breaks_stay_inside_their_windows_and_avoid_the_peak() -> None:
    brk = (Break("lunch", 60, False, 120, 300),)
    t = template("D", "08:00", length=540, breaks=brk)
    req = day_hours(1, {0: [(8, 11, 2), (11, 12, 1), (12, 17, 2)]})
    out = solve_tiny(make(days=1, templates=(t,), required=req, interval_min=60))
    breaks = sorted(out.roster.roster["breaks"])
    assert "lunch 11:00-12:00" in breaks  # the one quiet hour inside the 10:00-13:00 window


def test_validator_catches_each_broken_rule() -> None:
    p: RosterProblem = make(
        agents=1,
        contracts={"C": contract(max_days_week=1, max_consecutive_days=1, min_rest_hours=20)},
        templates=(template("D", "08:00", length=480, breaks=(Break("b", 30, False, 60, 120),)),),
    )
    rows = pd.DataFrame(
        {
            "agent_id": ["A0", "A0"],
            "date": ["2026-12-07", "2026-12-08"],
            "day": [0, 1],
            "shift": ["D", "D"],
            "start": ["2026-12-07T08:00:00+00:00", "2026-12-08T09:00:00+00:00"],
            "end": ["2026-12-07T16:00:00+00:00", "2026-12-08T17:00:00+00:00"],
            "paid_minutes": [450, 450],
            "breaks": ["b 08:30-09:00", "b 10:30-11:00"],
        }
    )
    rules = {v.rule for v in check_roster(p, rows)}
    assert {
        "breaks inside their windows",
        "start window",
        "max days per week",
        "max consecutive days",
        "minimum rest between shifts",
    } <= rules


def test_validator_counts_overtime_extensions_towards_their_template_cap() -> None:
    # D capped at 1: a D shift and a D+60 extension (cover overtime) are two D shifts
    p: RosterProblem = make(
        agents=1,
        contracts={"C": contract(max_shifts=(("D", 1),))},
        templates=(template("D", "08:00", length=480), template("D+60", "08:00", length=540)),
    )
    rows = pd.DataFrame(
        {
            "agent_id": ["A0", "A0"],
            "date": ["2026-12-07", "2026-12-08"],
            "day": [0, 1],
            "shift": ["D", "D+60"],
            "start": ["2026-12-07T08:00:00+00:00", "2026-12-08T08:00:00+00:00"],
            "end": ["2026-12-07T16:00:00+00:00", "2026-12-08T17:00:00+00:00"],
            "paid_minutes": [480, 540],
            "breaks": ["", ""],
        }
    )
    assert [v.rule for v in check_roster(p, rows)] == ["max shifts per template"]
    assert check_roster(p, rows.iloc[:1]) == []


def test_an_exact_contract_is_rostered_over_a_horizon_of_ten_days() -> None:
    """40 h exactly a week over 10 days: week 1 gets 2400 min, the 3-day week 2 or 3 shifts
    (1028.6 min pro-rated lies between them); CP-SAT, the heuristics' rules and the validator
    agree.
    """
    p = make(
        days=10,
        required=day_hours(10, {d: [(8, 16, 1)] for d in range(10)}),
        contracts={"C": contract(min_minutes_week=2400, max_minutes_week=2400, max_days_week=5)},
    )
    out = solve_tiny(p)
    r = out.roster.roster
    for a in ("A0", "A1"):
        days = days_worked(out, a)
        assert sum(d < 7 for d in days) == 5
        assert sum(d >= 7 for d in days) in (2, 3)
    assert r["paid_minutes"].astype(int).sum() >= 2 * (2400 + 960)


@settings(max_examples=200, deadline=None)
@given(
    ends=st.lists(st.integers(0, 3000), min_size=1, max_size=6),
    starts=st.lists(st.integers(0, 3000), min_size=1, max_size=6),
    rest=st.integers(0, 1440),
)
def test_rest_cliques_forbid_exactly_the_clashing_pairs(
    ends: list[int], starts: list[int], rest: int
) -> None:
    """Every pair the cliques put together clashes (a later start less than ``rest`` after an end),
    and every clashing pair shares a clique."""
    clashing = {(i, j) for i, e in enumerate(ends) for j, s in enumerate(starts) if s - e < rest}
    together = {
        (i, j) for first, later in rest_cliques(ends, starts, rest) for i in first for j in later
    }
    assert together == clashing


@pytest.mark.parametrize("kept", [False, True])
def test_a_kept_shift_counts_as_a_worked_day_with_its_pay_and_rest(kept: bool) -> None:
    """A cover keeps the shift an absence cut (no option that day): the day still counts towards
    max days and paid minutes, and rest runs from its end. Brute force over A0's days 1 and 2."""
    from ortools.sat.python import cp_model

    from staffplan.roster.build import build_model

    c = contract(max_days_week=2, min_rest_hours=11)
    p = make(agents=1, required=day_hours(3, FULL), contracts={"C": c})
    end = p.start_elapsed(0, 23 * 60)  # cut at 23:00: 9 h before day 1's 08:00 start
    rm = build_model(
        p,
        choose=lambda a, d, allowed: [] if d == 0 else allowed(),
        kept={("A0", 0): (300, end)} if kept else None,
    )
    rm.model.Maximize(sum(rm.work.values()))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.Solve(rm.model) == cp_model.OPTIMAL
    worked = [d for d in (1, 2) if solver.Value(rm.work[("A0", d)])]
    # without the kept day A0 may work days 1 and 2; with it, day 1 breaks the rest after 23:00
    # and a third day the two-day maximum
    assert worked == ([2] if kept else [1, 2])
    assert rm.worked("A0", 0) == (1 if kept else 0)
    if kept:  # cut at 12:00 instead: rest allows day 1, the two-day maximum still one day only
        rm = build_model(
            p,
            choose=lambda a, d, allowed: [] if d == 0 else allowed(),
            kept={("A0", 0): (240, p.start_elapsed(0, 12 * 60))},
        )
        rm.model.Maximize(sum(rm.work.values()))
        assert solver.Solve(rm.model) == cp_model.OPTIMAL
        assert solver.ObjectiveValue() == 1
