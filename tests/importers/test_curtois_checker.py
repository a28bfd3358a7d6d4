"""The independent checker: every hard rule caught once, objectives recomputed by hand."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pytest
from tests.importers.curtois_checker import (
    Bench,
    blocks,
    check,
    check_files,
    read_bench,
    read_roster,
)

TINY = """# a tiny instance: 14 days, two shift types, two staff
SECTION_HORIZON
14

SECTION_SHIFTS
# ShiftID, Length in mins, Shifts which cannot follow this shift | separated
E,480,
L,600,E

SECTION_STAFF
A,E=10|L=3,5000,960,4,2,2,1
B,E=14|L=0,6000,0,5,1,1,2

SECTION_DAYS_OFF
A,3
B,8

SECTION_SHIFT_ON_REQUESTS
A,0,E,2
B,1,E,3

SECTION_SHIFT_OFF_REQUESTS
A,1,L,4

SECTION_COVER
0,E,1,100,1
1,E,2,100,1
1,L,1,50,2
"""

# A: E E L . . E E . . E E . . .   B: . E E . . . . . . . . . . .
BASE = {"A": {0: "E", 1: "E", 2: "L", 5: "E", 6: "E", 9: "E", 10: "E"}, "B": {1: "E", 2: "E"}}


def rows(plan: dict[str, dict[int, str]]) -> list[tuple[str, int, str]]:
    return [(e, d, s) for e, days in plan.items() for d, s in sorted(days.items())]


def variant(**changes: dict[int, str | None]) -> list[tuple[str, int, str]]:
    plan = copy.deepcopy(BASE)
    for e, days in changes.items():
        for d, s in days.items():
            if s is None:
                plan[e].pop(d, None)
            else:
                plan[e][d] = s
    return rows(plan)


@pytest.fixture
def bench(tmp_path: Path) -> Bench:
    f = tmp_path / "tiny.txt"
    f.write_text(TINY)
    return read_bench(f)


def test_base_roster_is_feasible_and_costs_50(bench: Bench) -> None:
    # requests all granted; cover: day 1 L has 0 of 1 -> 1 x 50
    v = check(bench, rows(BASE))
    assert v.violations == []
    assert (v.objective, v.requests, v.cover) == (50, 0, 50)


@pytest.mark.parametrize(
    ("changes", "objective"),
    [
        ({"B": {0: "E"}}, 51),  # day 0 E over-covered by one: + 1
        (
            {"A": {1: "L", 2: "L"}},
            104,
        ),  # off-request A day 1 L broken (4), day 1 E short by one (100), day 1 L met
        (
            {"A": {0: None}},
            152,
        ),  # on-request A day 0 E broken (2), day 0 E short by one (100), day 1 L short (50)
        (
            {"B": {1: None}},
            153,
        ),  # on-request B day 1 E broken (3), day 1 E short (100), day 1 L short (50)
    ],
)
def test_objective_by_hand(
    bench: Bench, changes: dict[str, dict[int, str | None]], objective: int
) -> None:
    v = check(bench, variant(**changes))
    assert v.violations == []
    assert v.objective == objective


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"B": {8: "E"}}, "B works on day off 8"),
        ({"A": {9: "L", 10: "E"}}, "E on day 10 may not follow L"),
        ({"B": {2: "L"}}, "B works 1 L shifts, max 0"),
        ({"A": {7: "E", 8: "E"}}, "A works 6 days in a row from day 5, max 4"),
        ({"A": {10: None}}, "A works 1 days in a row from day 9, min 2"),
        ({"A": {8: "E"}}, "A is off 1 days in a row from day 7, min 2"),
        ({"A": {11: "E", 12: "E"}}, "A works 2 weekends, max 1"),
        ({"C": {1: "E"}}, "unknown staff C"),
        ({"B": {4: "X"}}, "unknown shift X"),
        ({"B": {14: "E"}}, "day 14 outside the horizon"),
    ],
)
def test_each_rule_violated_once_is_detected(
    bench: Bench, changes: dict[str, dict[int, str | None]], needle: str
) -> None:
    plan = copy.deepcopy(BASE)
    for e, days in changes.items():
        plan.setdefault(e, {})
        for d, s in days.items():
            if s is None:
                plan[e].pop(d)
            else:
                plan[e][d] = s
    v = check(bench, rows(plan))
    assert len(v.violations) == 1, v.violations
    assert needle in v.violations[0]
    assert not v.feasible


def test_two_shifts_on_one_day(bench: Bench) -> None:
    v = check(bench, [*rows(BASE), ("B", 1, "L")])
    assert any("B has two shifts on day 1" in x for x in v.violations)


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [(2, 3479, "A works 3480 min, max 3479"), (3, 3481, "A works 3480 min, min 3481")],
)
def test_total_minutes(bench: Bench, field: int, value: int, needle: str) -> None:
    # A works 6 E (480 min) + 1 L (600 min) = 3480 min
    bench.staff["A"][field - 1] = value
    v = check(bench, rows(BASE))
    assert v.violations == [needle]


def test_blocks() -> None:
    w = [True, True, False, True, False, False, True]
    assert blocks(w, True) == [(0, 2), (3, 1), (6, 1)]
    assert blocks(w, False) == [(2, 1), (4, 2)]
    assert blocks([], True) == []


def test_min_rules_do_not_apply_to_blocks_touching_the_horizon_ends() -> None:
    # min 3 days in a row worked and off; limits otherwise loose
    b = Bench(
        horizon=7,
        length={"D": 480},
        forbidden={"D": set()},
        staff={"A": [{"D": 7}, 10**6, 0, 7, 3, 3, 7]},
    )
    # one-day work blocks at both ends: exempt; the 5-day off block between is long enough
    assert check(b, [("A", 0, "D"), ("A", 6, "D")]).violations == []
    # one-day off blocks at both ends: exempt
    assert check(b, [("A", d, "D") for d in range(1, 6)]).violations == []
    # an inner 1-day work block and an inner 2-day off block are both too short
    v = check(b, [("A", 0, "D"), ("A", 3, "D")])
    assert sorted(v.violations) == [
        "A is off 2 days in a row from day 1, min 3",
        "A works 1 days in a row from day 3, min 3",
    ]


def test_weekend_counted_once_when_both_days_worked() -> None:
    b = Bench(
        horizon=14,
        length={"D": 480},
        forbidden={"D": set()},
        staff={"A": [{}, 10**6, 0, 14, 1, 1, 1]},
    )
    assert check(b, [("A", 5, "D"), ("A", 6, "D")]).violations == []
    assert check(b, [("A", 6, "D"), ("A", 12, "D")]).violations == ["A works 2 weekends, max 1"]


def test_read_roster_by_day_and_by_date(tmp_path: Path, bench: Bench) -> None:
    by_day = tmp_path / "a.csv"
    by_day.write_text("agent_id,day,shift\nA,0,E\nB,3,E\n")
    by_date = tmp_path / "b.csv"
    by_date.write_text("agent_id,name,date,shift\nA,A,2024-01-01,E\nB,B,2024-01-04,E\n")
    assert read_roster(by_day) == [("A", 0, "E"), ("B", 3, "E")]
    assert read_roster(by_date) == [("A", 0, "E"), ("B", 3, "E")]
    assert read_roster(by_date, start=dt.date(2023, 12, 25)) == [("A", 7, "E"), ("B", 10, "E")]


def test_check_files(tmp_path: Path) -> None:
    inst = tmp_path / "tiny.txt"
    inst.write_text(TINY)
    roster = tmp_path / "roster.csv"
    roster.write_text("agent_id,day,shift\n" + "".join(f"{e},{d},{s}\n" for e, d, s in rows(BASE)))
    v = check_files(inst, roster)
    assert v.feasible and v.objective == 50
