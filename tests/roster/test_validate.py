"""The independent validator: the rules ``publish`` and ``validate`` enforce beyond the solver's
tests — overtime extensions, shifts cut by a recorded absence, waived minimums, skills, agents
without shifts — each against hand-computed expectations, and a week of random shift patterns
against a brute-force oracle of the contract rules.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from staffplan.io.team import Absence
from staffplan.roster.problem import RosterProblem
from staffplan.roster.validate import (
    Overtime,
    Violation,
    check_roster,
    rules_problem,
    violations_frame,
)
from staffplan.scenario import load

DAYS = [f"2026-12-{d:02d}" for d in range(7, 14)]
TZ = "Europe/Madrid"


def write_team(folder: Path, max_shifts: str = "") -> Path:
    """A1 (voice) and A2 (voice, chat); E 07:00 / L 13:00, 480 min with an unpaid lunch of 30 min
    at +180..+240; 4-5 shifts a week (1800-2250 paid min), 11 h rest, 5 days in a row.
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scenario.toml").write_text(
        textwrap.dedent(
            """
            [grid]
            start = 2026-12-07
            days = 7
            interval_minutes = 60
            timezone = "Europe/Madrid"
            [data]
            agents = "agents.csv"
            contracts = "contracts.csv"
            shifts = "shifts.csv"
            [queues.voice]
            service_level = 0.8
            answer_within_s = 20
            [queues.chat]
            channel = "chat"
            service_level = 0.8
            answer_within_s = 60
            """
        )
    )
    (folder / "agents.csv").write_text(
        "agent_id,name,team,contract,skills\nA1,One,t,FT,voice\nA2,Two,t,FT,voice:1|chat:2\n"
    )
    (folder / "contracts.csv").write_text(
        "contract,min_minutes_week,max_minutes_week,max_days_week,max_consecutive_days,"
        "min_rest_hours,templates,max_shifts\n"
        f"FT,1800,2250,5,5,11,*,{max_shifts}\n"
    )
    (folder / "shifts.csv").write_text(
        "template,earliest_start,latest_start,start_step_min,length_min,breaks\n"
        "E,07:00,07:00,60,480,lunch:30:unpaid:180-240\n"
        "L,13:00,13:00,60,480,lunch:30:unpaid:180-240\n"
    )
    return folder / "scenario.toml"


@pytest.fixture(scope="module")
def problem(tmp_path_factory: pytest.TempPathFactory) -> RosterProblem:
    return rules_problem(load(write_team(tmp_path_factory.mktemp("team"))))


def row(
    agent: str,
    day: int,
    shift: str = "E",
    end: str | None = None,
    paid: int = 450,
    lunch: str | None = None,
    queues: str = "voice",
) -> dict[str, object]:
    d = DAYS[day]
    h = 7 if shift.startswith("E") else 13
    length = 480 + (int(shift.partition("+")[2]) if "+" in shift else 0)
    stop = end or (pd.Timestamp(f"{d}T{h:02d}:00") + pd.Timedelta(minutes=length)).strftime("%H:%M")
    return {
        "agent_id": agent,
        "name": agent,
        "date": d,
        "day": day,
        "shift": shift,
        "start": f"{d}T{h:02d}:00:00+01:00",
        "end": f"{d}T{stop}:00+01:00",
        "paid_minutes": paid,
        "breaks": f"lunch {lunch or f'{h + 3:02d}:00-{h + 3:02d}:30'}",
        "queues": queues,
    }


def week(*rows: dict[str, object], drop: tuple[tuple[str, int], ...] = ()) -> pd.DataFrame:
    """A1 and A2 on E Monday to Friday (valid), less ``drop``, plus ``rows``."""
    base = [
        row(a, d, queues="voice|chat" if a == "A2" else "voice")
        for a in ("A1", "A2")
        for d in range(5)
        if (a, d) not in drop
    ]
    return pd.DataFrame([*base, *rows])


def rules(violations: list[Violation]) -> set[tuple[str, str, str]]:
    return {(v.rule, v.agent_id, v.date) for v in violations}


def sick(agent: str, start: str, end: str) -> Absence:
    return Absence(agent, pd.Timestamp(start, tz=TZ), pd.Timestamp(end, tz=TZ), "sick")


def test_the_base_week_is_valid(problem: RosterProblem) -> None:
    assert check_roster(problem, week()) == []


def test_violation_says_what_was_found_and_what_is_allowed(problem: RosterProblem) -> None:
    found = check_roster(problem, week(row("A1", 5)))
    v = found[0]
    assert v == Violation(
        "weekly paid minutes", "A1", "2026-12-07", "2700 min", "1800-2250 min (week)"
    )
    assert [x.rule for x in found[1:]] == ["max days per week", "max consecutive days"]
    assert str(v) == (
        "weekly paid minutes — A1 2026-12-07: found 2700 min; allowed 1800-2250 min (week)"
    )
    frame = violations_frame([v])
    assert frame.columns.tolist() == ["agent_id", "date", "rule", "found", "allowed"]


def test_agents_without_any_shift_still_owe_their_minimum(problem: RosterProblem) -> None:
    empty = week().iloc[:0]
    assert rules(check_roster(problem, empty)) == {
        ("weekly paid minutes", "A1", "2026-12-07"),
        ("weekly paid minutes", "A2", "2026-12-07"),
    }
    no_a2 = week(drop=tuple(("A2", d) for d in range(5)))
    assert rules(check_roster(problem, no_a2)) == {("weekly paid minutes", "A2", "2026-12-07")}


def test_overtime_extensions_follow_the_cover_settings(problem: RosterProblem) -> None:
    ot = Overtime(step_min=60, max_min=120)
    plus60 = week(row("A1", 0, "E+60", paid=510), drop=(("A1", 0), ("A1", 4)))
    assert check_roster(problem, plus60, overtime=ot) == []
    # without extensions the shift is unknown and does not count towards the week
    assert rules(check_roster(problem, plus60)) == {
        ("shift template", "A1", DAYS[0]),
        ("weekly paid minutes", "A1", DAYS[0]),
    }
    for bad in ("E+90", "E+180"):
        r = week(row("A1", 0, bad, paid=450 + int(bad[2:])), drop=(("A1", 0), ("A1", 4)))
        assert ("shift template", "A1", DAYS[0]) in rules(check_roster(problem, r, overtime=ot))
    wrong_paid = week(row("A1", 0, "E+60", paid=450), drop=(("A1", 0), ("A1", 4)))
    assert rules(check_roster(problem, wrong_paid, overtime=ot)) == {
        ("paid minutes", "A1", DAYS[0])
    }


def test_an_extension_counts_as_its_template(tmp_path: Path) -> None:
    p = rules_problem(load(write_team(tmp_path, max_shifts="E=3")))
    r = week(row("A1", 0, "E+60", paid=510), drop=(("A1", 0), ("A1", 4)))
    found = [v for v in check_roster(p, r, overtime=Overtime(60, 120)) if v.agent_id == "A1"]
    assert [(v.rule, v.found, v.allowed) for v in found] == [
        ("max shifts per template", "4 x E", "at most 3 x E")
    ]


def test_a_shift_may_end_where_a_recorded_absence_starts(problem: RosterProblem) -> None:
    absent = (sick("A1", "2026-12-08 11:00", "2026-12-08 23:00"),)
    # 07:00-11:00 = 240 min; the unpaid lunch 10:00-10:30 was taken: 210 paid
    cut = week(row("A1", 1, end="11:00", paid=210), drop=(("A1", 1),))
    assert check_roster(problem, cut, recorded=absent) == []
    # lunch 10:45-11:15: only its 15 minutes before 11:00 are unpaid time worked
    late_lunch = week(row("A1", 1, end="11:00", paid=225, lunch="10:45-11:15"), drop=(("A1", 1),))
    assert check_roster(problem, late_lunch, recorded=absent) == []
    assert rules(check_roster(problem, cut)) >= {("shift length", "A1", DAYS[1])}
    overrun = week(row("A1", 1, end="12:00", paid=270), drop=(("A1", 1),))
    assert rules(check_roster(problem, overrun, recorded=absent)) == {
        ("shift length", "A1", DAYS[1]),
        ("paid minutes", "A1", DAYS[1]),
        ("absence", "A1", DAYS[1]),
    }
    whole = week()
    assert rules(check_roster(problem, whole, recorded=absent)) == {("absence", "A1", DAYS[1])}


def test_a_recorded_absence_waives_the_minimum_a_scenario_absence_only_lowers(
    problem: RosterProblem,
) -> None:
    three = week(drop=(("A1", 1), ("A1", 2)))  # 3 shifts: 1350 min < 1800
    day = ("2026-12-08 00:00", "2026-12-09 00:00")
    assert check_roster(problem, three, recorded=(sick("A1", *day),)) == []
    # known when the roster was made (scenario absences.csv): 1800 - 1800/5 = 1440 min still owed
    from dataclasses import replace

    planned = replace(problem, absences=(sick("A1", *day),))
    assert [(v.rule, v.found, v.allowed) for v in check_roster(planned, three)] == [
        ("weekly paid minutes", "1350 min", "1440-2250 min (week)")
    ]
    # the maximum still holds for the sick agent
    late = (sick("A1", "2026-12-13 23:00", "2026-12-14 00:00"),)
    assert check_roster(problem, week(row("A1", 6), drop=(("A1", 1),)), recorded=late) == []
    six = week(row("A1", 6))
    assert rules(check_roster(problem, six, recorded=late)) == {
        ("max days per week", "A1", DAYS[0]),
        ("weekly paid minutes", "A1", DAYS[0]),
    }


def test_queues_must_be_the_agents_skills(problem: RosterProblem) -> None:
    chat = week(row("A1", 0, queues="voice|chat"), drop=(("A1", 0),))
    (v,) = check_roster(problem, chat)
    assert (v.rule, v.agent_id, v.found, v.allowed) == ("skills", "A1", "queue chat", "voice")
    spans = week(drop=(("A1", 0),)).assign(assignments="")
    spans = pd.concat([spans, pd.DataFrame([{**row("A1", 0), "assignments": "chat 08:00-10:00"}])])
    assert rules(check_roster(problem, spans)) == {("skills", "A1", DAYS[0])}
    a2 = week(row("A2", 5, queues="chat"), drop=(("A2", 0),))
    assert check_roster(problem, a2) == []


def test_unreadable_cells_are_violations_not_crashes(problem: RosterProblem) -> None:
    r = week(drop=(("A1", 0),))
    bad = pd.DataFrame([{**row("A1", 0), "start": "soon"}, {**row("A1", 5), "breaks": "lunch x"}])
    found = rules(check_roster(problem, pd.concat([r, bad])))
    assert ("readable row", "A1", DAYS[0]) in found and ("breaks", "A1", DAYS[5]) in found


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["off", "E", "L"]), min_size=7, max_size=7))
def test_contract_rules_match_a_brute_force_count(
    problem: RosterProblem, pattern: list[str]
) -> None:
    """One agent's week of E/L/off against the contract, counted directly: 4-5 shifts of 450
    paid minutes, at most 5 days and 5 in a row, 11 h rest (an L ending 21:00 before an E at
    07:00 leaves 10 h).
    """
    rows = [row("A1", d, s) for d, s in enumerate(pattern) if s != "off"]
    rows += [row("A2", d) for d in range(5)]
    n = len(rows) - 5
    expect = set()
    if not 1800 <= 450 * n <= 2250:
        expect.add(("weekly paid minutes", "A1", DAYS[0]))
    if n > 5:
        expect.add(("max days per week", "A1", DAYS[0]))
    run = 0
    for d, s in enumerate(pattern):
        run = run + 1 if s != "off" else 0
        if run > 5:
            expect.add(("max consecutive days", "A1", DAYS[d]))
        if d and s == "E" and pattern[d - 1] == "L":
            expect.add(("minimum rest between shifts", "A1", DAYS[d]))
    assert rules(check_roster(problem, pd.DataFrame(rows))) == expect
