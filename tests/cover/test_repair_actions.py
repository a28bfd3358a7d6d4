"""Cover repair: break moves and queue reassignment as priced actions, on crafted one-day cases with
hand-derived oracles (``coverkit``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from coverkit import DAY, DET, GRID, NOW, consistent, lunch_case, queue_case, sick, violations

from staffplan.cover.repair import repair
from staffplan.cover.settings import CoverSettings, NewAbsence
from staffplan.io.team import Contract
from staffplan.store import PlanStore

# ---- break moves ------------------------------------------------------------------------------


def test_only_a_break_move_closes_the_gap() -> None:
    # oracle by hand: A3 sick leaves 11-12 with A1 only (A2 at lunch); nobody else exists, E only
    # starts 08:00 and
    # overtime is after 16:00, so the one fix is A2's lunch at 13:00-14:00, where nobody is needed
    problem, pub = lunch_case(required_13=0)
    res = repair(problem, pub, sick("A3"), NOW, solve_settings=DET)
    got = res.changes[["agent_id", "action", "old", "new", "minutes"]].values.tolist()
    assert got == [["A2", "move break", "lunch 11:00-12:00", "lunch 13:00-14:00", 120]]
    assert res.agents_changed == ("A2",)
    s = res.summary()
    assert (s["short_agent_intervals_no_action"], s["short_agent_intervals_after"]) == (1, 0)
    log = res.change_log[res.change_log.agent_id == "A2"].iloc[0]
    assert (log.old_breaks, log.new_breaks, log.old_shift, log.new_shift) == (
        "lunch 11:00-12:00",
        "lunch 13:00-14:00",
        "E",
        "E",
    )
    assert violations(problem, sick("A3"), res.roster) == []
    consistent(res)


def test_a_break_move_that_only_shifts_the_gap_is_not_worth_its_cost() -> None:
    # with one agent needed 13-14, A2's lunch there would leave 13-14 empty (A1 is at lunch then):
    # no net gain, so no move;
    # A1's lunch elsewhere (11 or 12) opens 11-12 or 12-13 instead
    problem, pub = lunch_case(required_13=1)
    res = repair(problem, pub, sick("A3"), NOW, solve_settings=DET)
    assert res.changes.empty and res.agents_changed == ()
    assert res.gaps[["from", "short_max", "agent_intervals"]].values.tolist() == [
        [f"{DAY}T11:00:00+01:00", 1, 1]
    ]
    assert (
        len(res.notes) == 1
        and f"below the published plan on {DAY} by up to 1 agent(s) (1 agent-intervals)"
        in res.notes[0]
    )
    consistent(res)


def test_break_moves_can_be_switched_off() -> None:
    problem, pub = lunch_case(required_13=0)
    res = repair(
        problem, pub, sick("A3"), NOW, settings=CoverSettings(max_break_moves=0), solve_settings=DET
    )
    assert res.changes.empty
    assert res.summary()["short_agent_intervals_after"] == 1
    consistent(res)


def test_no_break_move_before_now() -> None:
    problem, pub = lunch_case(required_13=0)
    now = GRID.local_midnight(DAY) + pd.Timedelta(hours=11, minutes=30)
    absences = (NewAbsence("A3", now, GRID.local_midnight(DAY + dt.timedelta(days=1)), "sick"),)
    res = repair(problem, pub, absences, now, solve_settings=DET)
    # A2's lunch started at 11:00, before now: it stays; A3 goes home at 11:30 and 12-13 is short
    # (A1's lunch is at 13)
    assert "move break" not in set(res.changes["action"])
    a2 = res.roster[res.roster.agent_id == "A2"].iloc[0]
    assert a2.breaks == "lunch 11:00-12:00"
    consistent(res)


# ---- queue reassignment -------------------------------------------------------------------------


def test_only_a_queue_reassignment_closes_the_gap(tmp_path: Path) -> None:
    # oracle by hand: C2 sick leaves chat one short 08-16 (8 agent-intervals) while M1 is a surplus
    # on voice;
    # no one can be called in, so the repair reassigns M1 to chat for the whole shift and nothing
    # else
    problem, pub = queue_case()
    res = repair(problem, pub, sick("C2"), NOW, solve_settings=DET)
    got = res.changes[["agent_id", "action", "old", "new", "minutes"]].values.tolist()
    assert got == [["M1", "reassign", "voice 08:00-16:00", "chat 08:00-16:00", 480]]
    s = res.summary()
    assert (s["short_agent_intervals_no_action"], s["short_agent_intervals_after"]) == (8, 0)
    assert res.roster.loc[res.roster.agent_id == "M1", "assignments"].item() == "chat 08:00-16:00"
    assert violations(problem, sick("C2"), res.roster) == []
    consistent(res)
    # stored as a new version and read back, the explicit assignment is the published one: repairing
    # again changes nothing
    store = PlanStore(tmp_path / "plans.sqlite")
    store.publish(pub, note="v1", author="t")
    store.publish(res.roster, note="cover", author="t", kind="cover", changes=res.change_log)
    stored = store.roster(2)
    assert stored.loc[stored.agent_id == "M1", "assignments"].item() == "chat 08:00-16:00"
    log = store.changes(2)
    assert log[["agent_id", "old_assignments", "new_assignments"]].values.tolist() == [
        ["C2", "", ""],
        ["M1", "voice 08:00-16:00", "chat 08:00-16:00"],
    ]
    again = repair(problem, stored, sick("C2"), NOW, solve_settings=DET)
    assert again.changes.empty and again.summary()["short_agent_intervals_after"] == 0


def test_reassignment_cap_and_voice_loss() -> None:
    problem, pub = queue_case()
    capped = repair(
        problem,
        pub,
        sick("C2"),
        NOW,
        settings=CoverSettings(max_reassignments=0),
        solve_settings=DET,
    )
    assert capped.changes.empty and capped.summary()["short_agent_intervals_after"] == 8
    # V1 sick instead: voice is short, M1 already serves voice -> nothing to do, nothing proposed
    res = repair(problem, pub, sick("V1"), NOW, solve_settings=DET)
    assert res.changes.empty and res.summary()["short_agent_intervals_after"] == 0
    consistent(res)


@pytest.mark.parametrize("deterministic", [False, True])
def test_reported_times_add_up(deterministic: bool) -> None:
    """Building and the solve are parts of the whole repair's time (the budget's arithmetic is
    tested in tests/roster/test_budget.py)."""
    import time

    from staffplan.settings import SolveSettings

    problem, pub = lunch_case(required_13=0)
    t0 = time.perf_counter()
    settings = SolveSettings(2.0, 1, 0, deterministic)
    res = repair(problem, pub, sick("A3"), NOW, solve_settings=settings)
    wall = time.perf_counter() - t0
    assert res.solve_seconds <= wall
    assert res.build_seconds + res.solver_seconds <= res.solve_seconds + 1e-6
    assert res.changes["action"].tolist() == ["move break"]  # the oracle of the lunch case


def test_an_absent_agents_lost_minimum_does_not_make_the_repair_infeasible() -> None:
    # A3 has a weekly minimum (pro-rated 400 min on this one-day grid) and falls sick from 12:00
    # before the shift starts:
    # its 08:00-16:00 shift goes, leaving A3 below the minimum; the repair must still answer (the
    # absence broke it, not the repair)
    problem, pub = lunch_case(required_13=0)
    strict = {"FT": Contract("FT", 7 * 400, 7 * 600, 5, 6, min_rest_hours=11)}
    problem = replace(problem, contracts=strict)
    absences = (
        NewAbsence(
            "A3",
            GRID.local_midnight(DAY) + pd.Timedelta(hours=12),
            GRID.local_midnight(DAY + dt.timedelta(days=1)),
            "sick",
        ),
    )
    res = repair(problem, pub, absences, GRID.local_midnight(DAY), solve_settings=DET)
    assert "A3" not in set(res.roster["agent_id"])
    assert res.changes["action"].tolist() == ["move break"]
    consistent(res)
