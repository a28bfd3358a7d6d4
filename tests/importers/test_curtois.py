"""Curtois importer: parser (against the checker's independent parser), errors, scenario mapping."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.importers.curtois_checker import check, read_bench

from staffplan.errors import InputError
from staffplan.importers.curtois import (
    DEFAULT_START,
    Shift,
    nominal_starts,
    parse_instance,
    parse_text,
    scenario_frames,
    to_scenario,
)
from staffplan.scenario import load

DATA = Path(__file__).resolve().parents[1] / "data" / "curtois"
INSTANCES = sorted(DATA.glob("Instance*.txt"))


def test_instance_copies_present() -> None:
    assert [p.stem for p in INSTANCES] == [
        "Instance1",
        "Instance2",
        "Instance3",
        "Instance4",
        "Instance7",
        "Instance8",
    ]


@pytest.mark.parametrize("path", INSTANCES, ids=lambda p: p.stem)
def test_parser_agrees_with_the_independent_checker_parser(path: Path) -> None:
    inst = parse_instance(path)
    b = read_bench(path)
    assert inst.horizon_days == b.horizon
    assert {s.id: s.length_min for s in inst.shifts} == b.length
    assert {s.id: set(s.not_followed_by) for s in inst.shifts} == b.forbidden
    assert {
        s.id: [
            dict(s.max_shifts),
            s.max_total_min,
            s.min_total_min,
            s.max_consecutive_shifts,
            s.min_consecutive_shifts,
            s.min_consecutive_days_off,
            s.max_weekends,
        ]
        for s in inst.staff
    } == b.staff
    assert {e: set(d) for e, d in inst.days_off} == b.days_off
    assert sorted((r.staff, r.day, r.shift, r.weight) for r in inst.on_requests) == sorted(b.on)
    assert sorted((r.staff, r.day, r.shift, r.weight) for r in inst.off_requests) == sorted(b.off)
    assert sorted(
        (c.day, c.shift, c.requirement, c.under_weight, c.over_weight) for c in inst.cover
    ) == sorted(b.cover)


def test_published_sizes() -> None:
    # sizes from the benchmark's instance table: (days, staff, shift types)
    sizes = {
        p.stem: (i.horizon_days, len(i.staff), len(i.shifts))
        for p in INSTANCES
        for i in [parse_instance(p)]
    }
    assert sizes == {
        "Instance1": (14, 8, 1),
        "Instance2": (14, 14, 2),
        "Instance3": (14, 20, 3),
        "Instance4": (28, 10, 2),
        "Instance7": (28, 20, 3),
        "Instance8": (28, 30, 4),
    }


MINI = """SECTION_HORIZON
7
SECTION_SHIFTS
E,480,
L,480,E
SECTION_STAFF
A,E=7|L=2,2400,960,5,1,1,1
B,E=7,2400,0,5,2,2,1
SECTION_DAYS_OFF
A,2,3
SECTION_SHIFT_ON_REQUESTS
A,0,E,2
SECTION_SHIFT_OFF_REQUESTS
B,1,L,3
SECTION_COVER
0,E,1,100,1
0,L,1,100,1
"""


def test_robust_to_comments_blank_lines_crlf_and_spaces() -> None:
    noisy = "# header comment\r\n\r\n" + "\r\n".join(
        f"  {line}  # trailing comment\r\n" if "," in line else line for line in MINI.splitlines()
    )
    assert parse_text(noisy) == parse_text(MINI)
    inst = parse_text(MINI, "mini.txt")
    assert inst.name == "mini"
    assert inst.staff[1].max_shifts == (("E", 7),)
    assert inst.shifts[1] == Shift("L", 480, ("E",))
    assert inst.days_off == (("A", (2, 3)),)


@pytest.mark.parametrize(
    ("old", "new", "row", "needle"),
    [
        ("SECTION_HORIZON\n7", "SECTION_HORIZON\nseven", 2, "bad horizon length"),
        ("E,480,\n", "E,0,\n", 4, "bad shift length"),
        ("L,480,E", "L,480,X", 5, "unknown shift id in the forbidden successions"),
        ("L,480,E", "E,480,", 5, "duplicate shift id"),
        ("A,E=7|L=2,2400,960,5,1,1,1", "A,E=7|L=2,2400,960,5,1", 7, "wrong number of fields"),
        ("A,E=7|L=2", "A,E=7|Q=2", 7, "bad MaxShifts item"),
        ("A,E=7|L=2", "A,E=7|L=x", 7, "bad MaxShifts item"),
        ("2400,960,5", "900,960,5", 7, "MinTotalMinutes above MaxTotalMinutes"),
        ("B,E=7,2400,0,5,2,2,1", "A,E=7,2400,0,5,2,2,1", 8, "duplicate staff id"),
        ("A,2,3", "A,2,9", 10, "day index out of range"),
        ("A,2,3", "Z,2,3", 10, "unknown staff id"),
        ("A,0,E,2", "A,0,E", 12, "wrong number of fields"),
        ("A,0,E,2", "A,0,E,-2", 12, "bad weight"),
        ("B,1,L,3", "B,1,N,3", 14, "unknown shift id"),
        ("0,L,1,100,1", "0,E,1,100,1", 17, "duplicate cover row"),
        ("0,L,1,100,1", "0,L,1,100", 17, "wrong number of fields"),
        ("SECTION_COVER", "SECTION_COVERS", 15, "unknown section"),
        ("SECTION_COVER", "SECTION_HORIZON", 15, "section appears twice"),
    ],
)
def test_malformed_input_names_file_and_line(old: str, new: str, row: int, needle: str) -> None:
    assert old in MINI
    with pytest.raises(InputError) as info:
        parse_text(MINI.replace(old, new, 1), "bad.txt")
    assert info.value.row == row
    assert needle in str(info.value)
    assert str(info.value).startswith(f"bad.txt, row {row}: ")


def test_missing_sections_and_stray_data() -> None:
    with pytest.raises(InputError, match="missing SECTION_STAFF"):
        parse_text(MINI.split("SECTION_STAFF")[0])
    with pytest.raises(InputError, match="row 1: data before the first section"):
        parse_text("7\n" + MINI)
    with pytest.raises(InputError, match="instance file not found"):
        parse_instance("/nonexistent/Instance99.txt")


def test_frames_follow_the_contract() -> None:
    inst = parse_text(MINI, "mini.txt")
    f = scenario_frames(inst, dt.date(2024, 1, 1))
    assert list(f["agents"].columns) == [
        "agent_id",
        "name",
        "team",
        "contract",
        "skills",
        "hourly_cost",
    ]
    assert f["agents"]["contract"].tolist() == ["A", "B"]  # one contract per staff member
    c = f["contracts"].set_index("contract")
    assert c.loc["A", "templates"] == "*" and c.loc["A", "max_shifts"] == "L=2"
    assert (
        c.loc["B", "templates"] == "*" and c.loc["B", "max_shifts"] == ""
    )  # L not in B's limits: no cap; E=7 over 7 days: no cap
    zero = scenario_frames(parse_text(MINI.replace("B,E=7,", "B,E=7|L=0,")), dt.date(2024, 1, 1))[
        "contracts"
    ].set_index("contract")
    assert (
        zero.loc["B", "templates"] == "E" and zero.loc["B", "max_shifts"] == ""
    )  # L=0: L not allowed at all
    assert c.loc[
        "A",
        [
            "min_minutes_horizon",
            "max_minutes_horizon",
            "max_consecutive_days",
            "min_consecutive_days",
            "min_days_off_in_row",
            "max_weekends",
            "min_rest_hours",
        ],
    ].tolist() == [960, 2400, 5, 1, 1, 1, 0]
    assert f["shifts"][
        ["template", "earliest_start", "latest_start", "length_min", "not_followed_by"]
    ].values.tolist() == [["E", "06:00", "06:00", 480, ""], ["L", "14:00", "14:00", 480, "E"]]
    assert f["absences"].empty  # a benchmark day off bans starts only: availability, not absence
    assert f["availability"].values.tolist() == [
        ["A", "", "2024-01-03", "", ""],
        ["A", "", "2024-01-04", "", ""],
    ]
    assert f["preferences"].values.tolist() == [
        ["A", "2024-01-01", "on", "E", 2],
        ["B", "2024-01-02", "not", "L", 3],
    ]
    assert f["shift_cover"].values.tolist() == [
        ["2024-01-01", "E", 1, 100, 1],
        ["2024-01-01", "L", 1, 100, 1],
    ]
    with pytest.raises(InputError, match="Monday"):
        scenario_frames(inst, dt.date(2024, 1, 2))


def test_to_scenario_writes_a_loadable_scenario_and_refuses_to_overwrite(tmp_path: Path) -> None:
    inst = parse_instance(DATA / "Instance2.txt")
    out = tmp_path / "i2"
    toml = to_scenario(inst, out, time_limit_s=5, workers=1)
    assert sorted(p.name for p in out.iterdir()) == [
        "absences.csv",
        "agents.csv",
        "availability.csv",
        "contracts.csv",
        "preferences.csv",
        "scenario.toml",
        "shift_cover.csv",
        "shifts.csv",
    ]
    sc = load(toml)
    assert sc.grid.start.weekday() == 0 and sc.grid.days == 14
    assert (
        sc.weights.cost,
        sc.weights.fairness,
        sc.weights.over_coverage,
        sc.weights.under_coverage,
        sc.weights.preference,
    ) == (0, 0, 0, 0, 1)
    assert (sc.solver.time_limit_s, sc.solver.workers) == (5.0, 1)
    assert {k: Path(v).name for k, v in sc.data.items()} == {
        k: f"{k}.csv"
        for k in (
            "agents",
            "contracts",
            "shifts",
            "absences",
            "availability",
            "preferences",
            "shift_cover",
        )
    }
    with pytest.raises(InputError, match="not empty"):
        to_scenario(inst, out)
    (out / "notes.txt").write_text("keep me")
    to_scenario(parse_instance(DATA / "Instance1.txt"), out, force=True)
    assert (out / "notes.txt").read_text() == "keep me"
    assert pd.read_csv(out / "agents.csv")["agent_id"].tolist() == list("ABCDEFGH")
    assert not list(out.glob(".*.tmp"))
    with pytest.raises(InputError, match="is a file"):
        to_scenario(inst, out / "notes.txt")


def test_nominal_starts() -> None:
    e, d, ll, n = (
        Shift("E", 480),
        Shift("D", 480, ("E",)),
        Shift("L", 480, ("E", "D")),
        Shift("N", 480, ("E", "D", "L")),
    )
    assert nominal_starts((e, d, ll, n)) == {"E": 360, "D": 540, "L": 840, "N": 1320}
    # a long night shift allowed before an early one would overlap it: everything starts at midnight
    assert nominal_starts((e, Shift("N", 600))) == {"E": 0, "N": 0}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["E", "D", "L", "N", "X", "Y"]), st.integers(1, 1440)),
        min_size=1,
        max_size=5,
        unique_by=lambda t: t[0],
    ),
    st.data(),
)
def test_nominal_starts_never_overlap_an_allowed_succession(
    items: list[tuple[str, int]], data: st.DataObject
) -> None:
    ids = [i for i, _ in items]
    shifts = tuple(
        Shift(i, n, tuple(data.draw(st.lists(st.sampled_from(ids), unique=True)))) for i, n in items
    )
    starts = nominal_starts(shifts)
    for a in shifts:
        assert 0 <= starts[a.id] < 1440
        for b in shifts:
            if b.id not in a.not_followed_by:
                assert starts[a.id] + a.length_min <= 1440 + starts[b.id]


def _objective_from_scenario_files(
    folder: Path, roster: list[tuple[str, int, str]], start: dt.date
) -> int:
    """The roster objective by the contract's semantics of preferences.csv and shift_cover.csv."""
    work = {(e, (start + dt.timedelta(days=d)).isoformat()): s for e, d, s in roster}
    total = 0
    for r in pd.read_csv(folder / "preferences.csv", dtype=str, keep_default_na=False).itertuples():
        shift = work.get((r.agent_id, r.date))
        broken = (shift != r.template) if r.kind == "on" else (shift == r.template)
        total += int(r.weight) * broken
    for c in pd.read_csv(folder / "shift_cover.csv", dtype=str).itertuples():
        have = sum(1 for (_, day), s in work.items() if day == c.date and s == c.template)
        total += max(int(c.required) - have, 0) * int(c.under_weight) + max(
            have - int(c.required), 0
        ) * int(c.over_weight)
    return total


@pytest.mark.parametrize("name", ["Instance2", "Instance3", "Instance8"])
def test_scenario_objective_equals_benchmark_objective_on_random_rosters(
    tmp_path: Path, name: str
) -> None:
    import numpy as np

    path = DATA / f"{name}.txt"
    inst = parse_instance(path)
    start = dt.date(2025, 3, 3)
    to_scenario(inst, tmp_path, start=start)
    bench = read_bench(path)
    rng = np.random.default_rng(7)
    for p_work in (0.2, 0.5, 0.8):
        roster = [
            (e, d, str(rng.choice(inst.shift_ids)))
            for e in inst.staff_ids
            for d in range(inst.horizon_days)
            if rng.random() < p_work
        ]
        assert (
            _objective_from_scenario_files(tmp_path, roster, start)
            == check(bench, roster).objective
        )


def _rule(violation: str) -> tuple[str, str]:
    """(staff, rule) of one checker message."""
    agent = violation.split()[0].rstrip(":")
    for needle, rule in (
        ("day off", "day_off"),
        ("may not follow", "succession"),
        ("shifts, max", "max_shifts"),
        ("min, max", "max_minutes"),
        ("min, min", "min_minutes"),
        ("weekends", "max_weekends"),
        ("is off", "min_off"),
    ):
        if needle in violation:
            return agent, rule
    return agent, "max_consecutive" if ", max " in violation else "min_consecutive"


def _violations_by_contract(
    folder: Path, roster: list[tuple[str, int, str]], days: int
) -> set[tuple[str, str]]:
    """Hard-rule breaches by the contract's semantics of the written contracts/shifts/absences
    files.
    """
    agents = pd.read_csv(folder / "agents.csv", dtype=str).set_index("agent_id")["contract"]
    contracts = pd.read_csv(folder / "contracts.csv", dtype=str, keep_default_na=False).set_index(
        "contract"
    )
    shifts = pd.read_csv(folder / "shifts.csv", dtype=str, keep_default_na=False).set_index(
        "template"
    )
    unavailable = pd.read_csv(folder / "availability.csv", dtype=str, keep_default_na=False)
    assert (unavailable[["from", "to"]] == "").all().all()  # days without a start
    out: set[tuple[str, str]] = set()
    plan = {e: [None] * days for e in agents.index}
    for e, d, s in roster:
        plan[e][d] = s
    first = DEFAULT_START
    for e, row in contracts.loc[agents].iterrows():
        p = plan[e]
        allowed = set(shifts.index) if row["templates"] == "*" else set(row["templates"].split("|"))
        caps = {k: int(v) for k, v in (x.split("=") for x in row["max_shifts"].split("|") if x)}
        if any(s is not None and (s not in allowed or p.count(s) > caps.get(s, days)) for s in p):
            out.add((e, "max_shifts"))
        for a in unavailable[unavailable["agent_id"] == e].itertuples():
            if p[(dt.date.fromisoformat(a.date) - first).days] is not None:
                out.add((e, "day_off"))
        for d in range(days - 1):
            if (
                p[d] is not None
                and p[d + 1] is not None
                and p[d + 1] in shifts.loc[p[d], "not_followed_by"].split("|")
            ):
                out.add((e, "succession"))
        minutes = sum(int(shifts.loc[s, "length_min"]) for s in p if s is not None)
        if minutes > int(row["max_minutes_horizon"]):
            out.add((e, "max_minutes"))
        if minutes < int(row["min_minutes_horizon"]):
            out.add((e, "min_minutes"))
        work = "".join("1" if s else "0" for s in p)
        runs = [(m.start(), len(m.group())) for m in re.finditer(r"1+|0+", work)]
        for i, n in runs:
            inner = i > 0 and i + n < days
            if work[i] == "1" and n > int(row["max_consecutive_days"]):
                out.add((e, "max_consecutive"))
            if work[i] == "1" and inner and n < int(row["min_consecutive_days"]):
                out.add((e, "min_consecutive"))
            if work[i] == "0" and inner and n < int(row["min_days_off_in_row"]):
                out.add((e, "min_off"))
        weekends = sum(1 for w in range(days // 7) if "1" in work[7 * w + 5 : 7 * w + 7])
        if weekends > int(row["max_weekends"]):
            out.add((e, "max_weekends"))
    return out


@pytest.mark.parametrize("name", ["Instance1", "Instance3", "Instance8"])
def test_scenario_hard_rules_equal_benchmark_rules_on_random_rosters(
    tmp_path: Path, name: str
) -> None:
    import numpy as np

    path = DATA / f"{name}.txt"
    inst = parse_instance(path)
    to_scenario(inst, tmp_path)
    bench = read_bench(path)
    rng = np.random.default_rng(11)
    seen: set[str] = set()
    for _ in range(40):
        p_work = rng.uniform(0.3, 0.95)
        roster = [
            (e, d, str(rng.choice(inst.shift_ids)))
            for e in inst.staff_ids
            for d in range(inst.horizon_days)
            if rng.random() < p_work
        ]
        expected = {_rule(v) for v in check(bench, roster).violations}
        assert _violations_by_contract(tmp_path, roster, inst.horizon_days) == expected
        seen |= {r for _, r in expected}
    assert {
        "max_consecutive",
        "min_consecutive",
        "min_off",
        "max_minutes",
        "min_minutes",
        "max_weekends",
        "day_off",
    } <= seen
