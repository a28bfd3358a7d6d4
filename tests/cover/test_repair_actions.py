"""Cover repair: break moves and queue reassignment as priced actions, on crafted one-day cases with
hand-derived oracles.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from staffplan.cover.published import (
    coverage_counts,
    parse_rows,
    published_assignment,
    with_overtime,
)
from staffplan.cover.repair import repair
from staffplan.cover.settings import CoverSettings, NewAbsence
from staffplan.io.roster_csv import diff_rosters, roster_as_text
from staffplan.io.team import Absence, Agent, Break, Contract, ShiftTemplate
from staffplan.roster.extract import allocate, assign_queues
from staffplan.roster.problem import RosterProblem, plain_demand
from staffplan.roster.validate import check_roster
from staffplan.store import PlanStore
from staffplan.timegrid import TimeGrid

DAY = dt.date(2026, 12, 1)
GRID = TimeGrid(DAY, 1, 60, "Europe/Madrid")
LUNCH = Break("lunch", 60, False, 180, 300)  # starts 11:00-13:00 for an 08:00 shift
CONTRACT = {
    "FT": Contract("FT", 0, 7 * 600, 5, 6, min_rest_hours=11)
}  # a one-day grid: the week limit is pro-rated to 600 min


def _hours(values: dict[int, int]) -> np.ndarray:
    out = np.zeros(GRID.n, dtype=np.int64)
    for h, v in values.items():
        out[h] = v
    return out


def _row(agent: str, shift: str, queues: str, breaks: str = "") -> dict[str, object]:
    return {
        "agent_id": agent,
        "name": agent,
        "date": DAY.isoformat(),
        "day": 0,
        "shift": shift,
        "start": f"{DAY}T08:00:00+01:00",
        "end": f"{DAY}T16:00:00+01:00",
        "paid_minutes": 480 - (60 if breaks else 0),
        "breaks": breaks,
        "queues": queues,
        "activities": "",
    }


def _sick(agent: str) -> tuple[NewAbsence, ...]:
    return (
        NewAbsence(
            agent,
            GRID.local_midnight(DAY),
            GRID.local_midnight(DAY + dt.timedelta(days=1)),
            "sick",
            f"{agent}:{DAY}",
        ),
    )


NOW = GRID.local_midnight(DAY)


def _violations(
    problem: RosterProblem, absences: tuple[NewAbsence, ...], roster: pd.DataFrame
) -> list:
    prob = with_overtime(problem, CoverSettings(), set(roster["shift"]))
    prob = replace(
        prob,
        absences=prob.absences
        + tuple(Absence(a.agent_id, a.start, a.end, a.kind) for a in absences),
    )
    return check_roster(prob, roster)


def _consistent(res: object) -> None:
    """The model's own count of unrestored agent-intervals is the one the result reports, and never
    above no action.
    """
    s = res.summary()  # type: ignore[attr-defined]
    assert res.status == "OPTIMAL"  # type: ignore[attr-defined]
    assert res.model_short == s["unrestored_agent_intervals_after"]  # type: ignore[attr-defined]
    assert s["unrestored_agent_intervals_after"] <= s["unrestored_agent_intervals_no_action"]
    assert s["short_agent_intervals_after"] <= s["short_agent_intervals_no_action"]


# ---- break moves ------------------------------------------------------------------------------


def _lunch_case(required_13: int) -> tuple[RosterProblem, pd.DataFrame]:
    """A1-A3 (voice) on E 08:00-16:00 with a 60-min lunch starting 11:00-13:00; 2 agents needed
    08-16 except 13-14.
    """
    req = _hours({h: 2 for h in range(8, 16)} | {13: required_13})
    problem = RosterProblem(
        GRID,
        tuple(Agent(a, a, "t", "FT", ("voice",)) for a in ("A1", "A2", "A3")),
        CONTRACT,
        (ShiftTemplate("E", 480, 480, 60, 480, (LUNCH,)),),
        plain_demand(("voice",), req[None, :]),
    )
    pub = roster_as_text(
        pd.DataFrame(
            [
                _row("A1", "E", "voice", "lunch 13:00-14:00"),
                _row("A2", "E", "voice", "lunch 11:00-12:00"),
                _row("A3", "E", "voice", "lunch 12:00-13:00"),
            ]
        )
    )
    return problem, pub


def test_only_a_break_move_closes_the_gap() -> None:
    # oracle by hand: A3 sick leaves 11-12 with A1 only (A2 at lunch); nobody else exists, E only
    # starts 08:00 and
    # overtime is after 16:00, so the one fix is A2's lunch at 13:00-14:00, where nobody is needed
    problem, pub = _lunch_case(required_13=0)
    res = repair(problem, pub, _sick("A3"), NOW)
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
    assert _violations(problem, _sick("A3"), res.roster) == []
    _consistent(res)


def test_a_break_move_that_only_shifts_the_gap_is_not_worth_its_cost() -> None:
    # with one agent needed 13-14, A2's lunch there would leave 13-14 empty (A1 is at lunch then):
    # no net gain, so no move;
    # A1's lunch elsewhere (11 or 12) opens 11-12 or 12-13 instead
    problem, pub = _lunch_case(required_13=1)
    res = repair(problem, pub, _sick("A3"), NOW)
    assert res.changes.empty and res.agents_changed == ()
    assert res.gaps[["from", "short_max", "agent_intervals"]].values.tolist() == [
        [f"{DAY}T11:00:00+01:00", 1, 1]
    ]
    assert (
        len(res.notes) == 1
        and f"below the published plan on {DAY} by up to 1 agent(s) (1 agent-intervals)"
        in res.notes[0]
    )
    _consistent(res)


def test_break_moves_can_be_switched_off() -> None:
    problem, pub = _lunch_case(required_13=0)
    res = repair(problem, pub, _sick("A3"), NOW, settings=CoverSettings(max_break_moves=0))
    assert res.changes.empty
    assert res.summary()["short_agent_intervals_after"] == 1
    _consistent(res)


def test_no_break_move_before_now() -> None:
    problem, pub = _lunch_case(required_13=0)
    now = GRID.local_midnight(DAY) + pd.Timedelta(hours=11, minutes=30)
    absences = (NewAbsence("A3", now, GRID.local_midnight(DAY + dt.timedelta(days=1)), "sick"),)
    res = repair(problem, pub, absences, now)
    # A2's lunch started at 11:00, before now: it stays; A3 goes home at 11:30 and 12-13 is short
    # (A1's lunch is at 13)
    assert "move break" not in set(res.changes["action"])
    a2 = res.roster[res.roster.agent_id == "A2"].iloc[0]
    assert a2.breaks == "lunch 11:00-12:00"
    _consistent(res)


# ---- queue reassignment -------------------------------------------------------------------------


def _queue_case() -> tuple[RosterProblem, pd.DataFrame]:
    """V1 (voice), C1, C2 (chat), M1 (voice|chat) on E 08:00-16:00 without breaks; voice needs 1,
    chat 2, 08-16.
    """
    req = np.stack([_hours({h: 1 for h in range(8, 16)}), _hours({h: 2 for h in range(8, 16)})])
    agents = (
        Agent("C1", "C1", "t", "FT", ("chat",)),
        Agent("C2", "C2", "t", "FT", ("chat",)),
        Agent("M1", "M1", "t", "FT", ("voice", "chat")),
        Agent("V1", "V1", "t", "FT", ("voice",)),
    )
    problem = RosterProblem(
        GRID,
        agents,
        CONTRACT,
        (ShiftTemplate("E", 480, 480, 60, 480),),
        plain_demand(("voice", "chat"), req),
    )
    pub = roster_as_text(
        pd.DataFrame(
            [
                _row("C1", "E", "chat"),
                _row("C2", "E", "chat"),
                _row("M1", "E", "voice|chat"),
                _row("V1", "E", "voice"),
            ]
        )
    )
    return problem, pub


def test_published_assignment_follows_the_engine_allocation() -> None:
    problem, pub = _queue_case()
    rows = parse_rows(problem, pub)
    assign = published_assignment(problem, rows)
    # every queue is fully covered by its single-skilled agents, so M1 takes its first-priority
    # queue (voice) 08-16
    assert assign[2, 8:16].tolist() == [0] * 8 and assign[2, :8].tolist() == [-1] * 8
    before = coverage_counts(problem, pub, (), assign)
    on = np.zeros((4, GRID.n), dtype=bool)
    on[:, 8:16] = True
    assert (
        before
        == allocate(on, [problem.agent_queues(a) for a in problem.agents], problem.demand.required)
    ).all()


def test_only_a_queue_reassignment_closes_the_gap(tmp_path: Path) -> None:
    # oracle by hand: C2 sick leaves chat one short 08-16 (8 agent-intervals) while M1 is a surplus
    # on voice;
    # no one can be called in, so the repair reassigns M1 to chat for the whole shift and nothing
    # else
    problem, pub = _queue_case()
    res = repair(problem, pub, _sick("C2"), NOW)
    got = res.changes[["agent_id", "action", "old", "new", "minutes"]].values.tolist()
    assert got == [["M1", "reassign", "voice 08:00-16:00", "chat 08:00-16:00", 480]]
    s = res.summary()
    assert (s["short_agent_intervals_no_action"], s["short_agent_intervals_after"]) == (8, 0)
    assert res.roster.loc[res.roster.agent_id == "M1", "assignments"].item() == "chat 08:00-16:00"
    assert _violations(problem, _sick("C2"), res.roster) == []
    _consistent(res)
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
    again = repair(problem, stored, _sick("C2"), NOW)
    assert again.changes.empty and again.summary()["short_agent_intervals_after"] == 0


def test_reassignment_cap_and_voice_loss() -> None:
    problem, pub = _queue_case()
    capped = repair(problem, pub, _sick("C2"), NOW, settings=CoverSettings(max_reassignments=0))
    assert capped.changes.empty and capped.summary()["short_agent_intervals_after"] == 8
    # V1 sick instead: voice is short, M1 already serves voice -> nothing to do, nothing proposed
    res = repair(problem, pub, _sick("V1"), NOW)
    assert res.changes.empty and res.summary()["short_agent_intervals_after"] == 0
    _consistent(res)


def test_phone_order_groups_each_agent_earliest_first() -> None:
    old = roster_as_text(
        pd.DataFrame(
            [
                _row("A1", "E", "voice", "lunch 11:00-12:00"),
                _row("A2", "E", "voice|chat", "lunch 12:00-13:00"),
            ]
        )
    )
    new = old.copy()
    new["assignments"] = ""
    new.loc[0, "breaks"] = "lunch 13:00-14:00"
    new.loc[1, "breaks"] = "lunch 11:00-12:00"
    new.loc[1, "assignments"] = (
        "voice 08:00-09:00;chat 09:00-10:00;voice 10:00-11:00;voice 12:00-16:00"
    )
    log = diff_rosters(old, new, reason="cover")
    log.loc[log.agent_id == "A2", "old_assignments"] = "voice 08:00-12:00;voice 13:00-16:00"
    from staffplan.cover.phone import phone_list

    phone = phone_list(log)
    assert phone[["agent_id", "action", "old", "new"]].values.tolist() == [
        ["A2", "reassign", "voice 09:00-10:00", "chat 09:00-10:00"],
        ["A2", "move break", "lunch 12:00-13:00", "lunch 11:00-12:00"],
        ["A1", "move break", "lunch 11:00-12:00", "lunch 13:00-14:00"],
    ]


def test_assign_queues_reproduces_allocate() -> None:
    rng = np.random.default_rng(3)
    for _ in range(100):
        na, n = int(rng.integers(1, 10)), int(rng.integers(1, 7))
        on = rng.random((na, n)) < 0.6
        qs = [
            tuple(int(q) for q in rng.permutation(3)[: int(rng.integers(0, 4))]) for _ in range(na)
        ]
        req = rng.integers(0, 4, (3, n))
        got = assign_queues(on, qs, req)
        counts = np.zeros((3, n), dtype=np.int64)
        for i in range(na):
            for t in range(n):
                assert (got[i, t] >= 0) == (bool(on[i, t]) and len(qs[i]) > 0)
                if got[i, t] >= 0:
                    assert got[i, t] in qs[i]
                    counts[got[i, t], t] += 1
        assert (counts == allocate(on, qs, req)).all()


@pytest.mark.parametrize("deterministic", [False, True])
def test_reported_times_add_up(deterministic: bool) -> None:
    """Building and the solve are parts of the whole repair's time (the budget's arithmetic is
    tested in tests/roster/test_budget.py)."""
    import time

    from staffplan.settings import SolveSettings

    problem, pub = _lunch_case(required_13=0)
    t0 = time.perf_counter()
    settings = SolveSettings(2.0, 1, 0, deterministic)
    res = repair(problem, pub, _sick("A3"), NOW, solve_settings=settings)
    wall = time.perf_counter() - t0
    assert res.solve_seconds <= wall
    assert res.build_seconds + res.solver_seconds <= res.solve_seconds + 1e-6
    assert res.changes["action"].tolist() == ["move break"]  # the oracle of the lunch case


def test_overtime_counts_towards_the_template_cap() -> None:
    """An extended E (``E+60``) is still an E shift for the contract's ``max_shifts``: E+60 on day 0
    and E on day 1 break a cap of one E.
    """
    from ortools.sat.python import cp_model

    from staffplan.cover.window import build_window

    grid = TimeGrid(DAY, 2, 60, "Europe/Madrid")
    contract = {"FT": Contract("FT", 0, 7 * 600, 5, 6, min_rest_hours=11, max_shifts=(("E", 1),))}
    req = np.zeros((1, grid.n), dtype=np.int64)
    problem = RosterProblem(
        grid,
        (Agent("A1", "A1", "t", "FT", ("voice",)),),
        contract,
        (ShiftTemplate("E", 480, 480, 60, 480),),
        plain_demand(("voice",), req),
    )
    prob = with_overtime(problem, CoverSettings(), {"E"})
    pub = roster_as_text(pd.DataFrame([_row("A1", "E", "voice")]))
    rows = parse_rows(prob, pub)
    assign = published_assignment(prob, rows)
    target = np.zeros_like(req)

    def feasible(force: list[str]) -> bool:
        b = build_window(
            prob, rows, (0, 1), grid.local_midnight(DAY), (), CoverSettings(), assign, target
        )
        for key in force:
            d, vid = key.split(":")
            b.rm.model.Add(b.rm.x[("A1", int(d), vid)] == 1)
        return cp_model.CpSolver().Solve(b.rm.model) in (cp_model.OPTIMAL, cp_model.FEASIBLE)

    assert feasible(["0:E+60@0800"]) and feasible(["0:E@0800"])
    assert not feasible(["0:E+60@0800", "1:E@0800"])
    assert not feasible(["0:E@0800", "1:E@0800"])


def test_an_absent_agents_lost_minimum_does_not_make_the_repair_infeasible() -> None:
    # A3 has a weekly minimum (pro-rated 400 min on this one-day grid) and falls sick from 12:00
    # before the shift starts:
    # its 08:00-16:00 shift goes, leaving A3 below the minimum; the repair must still answer (the
    # absence broke it, not the repair)
    problem, pub = _lunch_case(required_13=0)
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
    res = repair(problem, pub, absences, GRID.local_midnight(DAY))
    assert "A3" not in set(res.roster["agent_id"])
    assert res.changes["action"].tolist() == ["move break"]
    _consistent(res)


def test_prune_undoes_changes_that_restore_nothing() -> None:
    # A3 sick; a "repair" that moves A2's lunch to 13:00 (needed) and A1's lunch from 13:00 to 12:00
    # (useless: it opens 12-13)
    # keeps the first and undoes the second; a change that only hurts is undone
    from staffplan.cover.extract import prune
    from staffplan.cover.published import no_action_roster

    problem, pub = _lunch_case(required_13=0)
    absences = _sick("A3")
    na = no_action_roster(problem, pub, absences, NOW)
    assert set(na["agent_id"]) == {"A1", "A2"}
    rows = parse_rows(problem, pub)
    assign = published_assignment(problem, rows)
    target = np.minimum(problem.demand.required, coverage_counts(problem, pub, (), assign))
    tried = na.copy()
    tried.loc[tried.agent_id == "A2", "breaks"] = "lunch 13:00-14:00"
    tried.loc[tried.agent_id == "A1", "breaks"] = "lunch 12:00-13:00"
    out = prune(problem, tried, na, absences, assign, target, 0, GRID.n)
    assert dict(zip(out["agent_id"], out["breaks"], strict=True)) == {
        "A1": "lunch 13:00-14:00",
        "A2": "lunch 13:00-14:00",
    }
    useless = na.copy()
    useless.loc[useless.agent_id == "A1", "breaks"] = (
        "lunch 11:15-12:15"  # opens 11-12 and 12-13 further, restores nothing
    )
    out = prune(problem, useless, na, absences, assign, target, 0, GRID.n)
    pd.testing.assert_frame_equal(
        out.reset_index(drop=True),
        na.sort_values("agent_id").reset_index(drop=True),
        check_dtype=False,
    )


@pytest.mark.parametrize(
    ("tz", "start"),
    [
        ("Europe/Madrid", dt.date(2026, 10, 19)),
        ("Europe/Madrid", dt.date(2026, 3, 23)),
        ("America/New_York", dt.date(2026, 11, 1)),
    ],
)
def test_row_elapsed_matches_pandas_across_dst(tz: str, start: dt.date) -> None:
    """The fast ISO path of row times equals pandas' zone arithmetic, local or UTC text, on
    DST-change weeks.
    """
    from staffplan.roster.extract import row_elapsed

    grid = TimeGrid(start, 14, 15, tz)
    origin = grid.starts[0]
    for t in grid.starts[np.random.default_rng(0).integers(0, grid.n, 200)]:
        for text in (t.isoformat(), t.tz_convert("UTC").isoformat()):
            local = grid.to_local(pd.Timestamp(text))
            e = int(round((local - origin).total_seconds() / 60))
            assert row_elapsed(grid, text, text) == (e, e, local.hour * 60 + local.minute)
