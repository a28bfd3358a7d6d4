"""The time budget: stage deadlines add up to the limit in both modes, deterministic budgets never
read the clock, and the cover repair's solve limit."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from staffplan.roster.budget import (
    STAGES,
    Budget,
    cover_solve_limit,
    cpsat_det_limit,
    cpsat_seconds,
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
    assert ends["cpsat"] == pytest.approx(start + cg + rest * (1 - (lns if with_lns else 0.0)))


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
