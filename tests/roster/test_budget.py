"""The time budget: stage deadlines add up to the limit in both modes, deterministic budgets never
read the clock, and the cover repair's solve limit."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from staffplan.roster.budget import (
    BUILD_S_PER_ITEM,
    CPSAT_MOST_S,
    FINISH_MAX_SHARE,
    FINISH_MIN_S,
    FINISH_PER_COMPLETION,
    FINISH_S_PER_VAR,
    STAGES,
    Budget,
    build_work_s,
    cover_solve_limit,
    cpsat_det_limit,
    cpsat_seconds,
    finish_reserve_s,
    safety_net_s,
    stage_ends,
)
from staffplan.settings import SolveSettings

share = st.floats(0.0, 0.99, allow_nan=False)


@settings(deadline=None)
@given(
    limit=st.floats(0.1, 1e4, allow_nan=False),
    s=share,
    i=share,
    c=share,
    lns=share,
    flags=st.tuples(st.booleans(), st.booleans(), st.booleans(), st.booleans()),
    det=st.booleans(),
)
def test_stage_shares_add_up_to_the_limit(
    limit: float,
    s: float,
    i: float,
    c: float,
    lns: float,
    flags: tuple[bool, bool, bool, bool],
    det: bool,
) -> None:
    cfg = SolveSettings(limit, 2, 0, det, search_share=s, improve_share=i, colgen_share=c,
                        lns_share=lns)  # fmt: skip
    search, improve, colgen, with_lns = flags
    ends = stage_ends(cfg, search=search, improve=improve, colgen=colgen, lns=with_lns)
    points = [0.0] + [ends[k] for k in STAGES]
    shares = [b - a for a, b in zip(points, points[1:], strict=False)]
    assert all(x >= -1e-9 for x in shares)
    assert sum(shares) == pytest.approx(limit) and ends["lns"] == limit
    # a stage that does not run gets nothing
    assert ends["search"] == (limit * s if search else 0.0)
    if not colgen:
        assert ends["colgen"] == ends["improve"]
    if not with_lns:
        assert ends["cpsat"] == pytest.approx(limit)
    # the documented shares, by hand: best responses end at the longer of the two, column
    # generation takes its share of the rest, neighbourhood search its share of what is left
    start = limit * max(s if search else 0.0, i if improve else 0.0)
    assert ends["improve"] == pytest.approx(start)
    cg = (limit - start) * (c if colgen else 0.0)
    assert ends["colgen"] == pytest.approx(start + cg)
    rest = limit - start - cg
    cpsat = rest * (1 - (lns if with_lns else 0.0))
    if with_lns:
        cpsat = min(cpsat, CPSAT_MOST_S)  # beyond it, the time goes to the neighbourhood search
    assert ends["cpsat"] == pytest.approx(start + cg + cpsat)


def test_deterministic_budgets_never_read_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = SolveSettings(10.0, 2, 0, True, search_share=0.5, lns_share=0.5)
    budget = Budget(cfg, stage_ends(cfg, search=True, improve=False, colgen=False, lns=True))

    def no_clock() -> float:
        raise AssertionError("a deterministic budget read the clock")

    monkeypatch.setattr(time, "perf_counter", no_clock)
    monkeypatch.setattr(time, "monotonic", no_clock)
    assert budget.left("search") == 5.0
    budget.charge(2.0)
    assert budget.left("search") == 3.0 and budget.left("cpsat") == 5.5
    budget.charge(4.0)  # the search overran: CP-SAT's deadline stays where it was
    assert budget.left("search") == 0.0 and budget.left("cpsat") == 1.5 and budget.left("lns") == 4


def test_wall_clock_budgets_ignore_charges() -> None:
    cfg = SolveSettings(10.0, 2, 0, False)
    budget = Budget.single(cfg)
    budget.charge(100.0)
    assert 9.0 < budget.left("cpsat") <= 10.0  # the clock, not the charge


def test_safety_net_is_far_beyond_the_limit() -> None:
    for limit in (0.01, 1.0, 60.0):
        assert safety_net_s(limit) >= 10 * limit + 30


def test_cp_sat_deterministic_time_converts_both_ways() -> None:
    for limit, workers in ((1.0, 1), (7.5, 2), (60.0, 8)):
        assert cpsat_seconds(cpsat_det_limit(limit, workers), workers) == pytest.approx(limit)
    assert cpsat_det_limit(1.0, 2) == pytest.approx(2 * cpsat_det_limit(1.0, 1))


def test_cover_solve_limit() -> None:
    wall = SolveSettings(10.0, 2, 0)
    # wall clock: what building left, less a reserve for extraction growing with the roster
    assert cover_solve_limit(wall, 1.0, 0) == pytest.approx(10.0 - 1.0 - 1.0)
    assert cover_solve_limit(wall, 1.0, 2000) == pytest.approx(10.0 - 1.0 - 1.0 - 1.0)
    assert cover_solve_limit(wall, 20.0, 0) == 0.2  # never below a fifth of a second
    det = SolveSettings(10.0, 2, 0, deterministic=True)
    # deterministic: a share of the limit, whatever building took
    assert cover_solve_limit(det, 1.0, 0) == cover_solve_limit(det, 9.0, 5000) == 8.0


@settings(deadline=None)
@given(
    limit=st.floats(0.1, 1e4, allow_nan=False),
    spent=st.floats(0.0, 2e4, allow_nan=False),
    reserve=st.floats(0.0, 2e4, allow_nan=False),
    s=share,
    i=share,
    c=share,
    lns=share,
)
def test_stages_share_what_building_left_up_to_the_reserve(
    limit: float, spent: float, reserve: float, s: float, i: float, c: float, lns: float
) -> None:
    """The stages run from the end of building to the limit less the finishing reserve: their
    deadlines never go backwards, never before building ended (unless building overran the whole
    window) and the last is the limit less the reserve."""
    cfg = SolveSettings(limit, 2, 0, search_share=s, improve_share=i, colgen_share=c,
                        lns_share=lns)  # fmt: skip
    ends = stage_ends(
        cfg, search=True, improve=True, colgen=True, lns=True, spent_s=spent, reserve_s=reserve
    )
    last = max(limit - reserve, 0.0)
    first = min(spent, last)
    points = [first] + [ends[k] for k in STAGES]
    assert all(b >= a - 1e-9 for a, b in zip(points, points[1:], strict=False))
    assert ends["lns"] == pytest.approx(last)
    # the shares apply to the window: the search ends at its share of what is left after building
    assert ends["search"] == pytest.approx(first + (last - first) * s)
    assert ends["improve"] == pytest.approx(first + (last - first) * max(s, i))


def test_building_is_charged_in_deterministic_mode_only() -> None:
    assert build_work_s(100_000, 50_000) == pytest.approx(150_000 * BUILD_S_PER_ITEM)
    assert build_work_s(0, 0) == 0.0
    det = Budget.single(SolveSettings(10.0, 2, 0, deterministic=True))
    det.charge(build_work_s(100_000, 100_000))
    assert det.left("cpsat") == pytest.approx(10.0 - 200_000 * BUILD_S_PER_ITEM)


def test_the_finishing_reserve_grows_with_the_model_within_a_share_of_the_limit() -> None:
    wall = SolveSettings(60.0, 2, 0)
    assert finish_reserve_s(wall, 0) == FINISH_MIN_S
    assert finish_reserve_s(wall, 100_000) == pytest.approx(100_000 * FINISH_S_PER_VAR)
    assert finish_reserve_s(wall, 10**9) == pytest.approx(FINISH_MAX_SHARE * 60.0)
    assert finish_reserve_s(SolveSettings(0.4, 2, 0), 10**6) == pytest.approx(0.1)
    # deterministic: the limit is work, and finishing does none of the search
    assert finish_reserve_s(SolveSettings(60.0, 2, 0, deterministic=True), 10**6) == 0.0


def test_once_a_completion_is_timed_the_reserve_follows_it_not_the_model_size() -> None:
    wall = SolveSettings(60.0, 2, 0)
    # a slow machine (or load): 2 s per completion keeps that many completions, whatever the size
    assert finish_reserve_s(wall, 1_000, 2.0) == pytest.approx(FINISH_PER_COMPLETION * 2.0)
    assert finish_reserve_s(wall, 10**6, 0.01) == FINISH_MIN_S  # a fast one: little
    assert finish_reserve_s(wall, 0, 1e4) == pytest.approx(FINISH_MAX_SHARE * 60.0)
    assert finish_reserve_s(SolveSettings(60.0, 2, 0, deterministic=True), 0, 3.0) == 0.0
    budget = Budget.single(wall)
    for seconds in (0.5, 2.0, 1.0):
        budget.completed(seconds)
    assert budget.completion_s == 2.0  # the longest


def test_step_seconds_add_up_the_marks_in_order() -> None:
    budget = Budget.single(SolveSettings(10.0, 2, 0))
    budget.marks = [("build", 1.0), ("search", 4.0), ("cpsat", 4.5), ("search", 6.0)]
    assert budget.step_seconds() == {"build": 1.0, "search": 4.5, "cpsat": 0.5}
    budget.marks = []
    budget.mark("build")
    (step, at), *_ = budget.marks
    assert step == "build" and 0.0 <= at <= budget.elapsed()


def test_wall_left_counts_to_the_limit_and_is_none_when_deterministic() -> None:
    wall = Budget.single(SolveSettings(10.0, 2, 0))
    wall.t0 -= 4.0  # as if four seconds had passed
    left = wall.wall_left()
    after = wall.elapsed()
    assert left is not None and 10.0 - after <= left <= 6.0
    wall.t0 -= 100.0
    assert wall.wall_left() == 0.0
    assert Budget.single(SolveSettings(10.0, 2, 0, deterministic=True)).wall_left() is None
