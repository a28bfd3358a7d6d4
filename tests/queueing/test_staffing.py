"""Staffing search, KPIs frame, curves and shrinkage against brute force and invariants."""

from __future__ import annotations

import math
from fractions import Fraction

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from staffplan.errors import InputError
from staffplan.queueing import (
    Target,
    answered_within_curve,
    erlang_a_metrics,
    kpis,
    required_agents,
    scheduled_heads,
    service_level_curve,
    target_for_queue,
)
from staffplan.scenario import Queue


def mp_erlang_c_sl(load: float, n: int, aht: float, t: float) -> float:
    """Service level of M/M/n from the textbook definition, 50 digits."""
    if load == 0:
        return 1.0
    if n <= load:
        return 0.0
    with mp.workdps(50):
        a = mp.mpf(load)
        terms = [a**j / mp.factorial(j) for j in range(n)]
        top = a**n / mp.factorial(n) * n / (n - a)
        c = top / (sum(terms) + top)
        return float(1 - c * mp.exp(-(n - a) * t / aht))


@settings(max_examples=60, deadline=None)
@given(
    volume=st.floats(0.01, 400.0),
    aht=st.floats(20.0, 900.0),
    sl=st.floats(0.3, 0.99),
    t=st.floats(0.0, 120.0),
)
def test_erlang_c_requirement_is_smallest(volume: float, aht: float, sl: float, t: float) -> None:
    target = Target(sl, t)
    n = int(required_agents(volume, aht, 30, target))
    load = volume * aht / 1800
    assert mp_erlang_c_sl(load, n, aht, t) >= sl - 1e-9
    assert n == 0 or mp_erlang_c_sl(load, n - 1, aht, t) < sl + 1e-9


def test_fractional_load_above_half_not_overstaffed() -> None:
    # peers start their search one agent too high when frac(load) > .5: scan from 0 instead
    for load in (0.6, 2.7, 10.55, 17.9, 101.51):
        target = Target(0.8, 20)
        n = int(required_agents(load * 1800 / 180, 180, 30, target))
        scan = next(k for k in range(0, 400) if mp_erlang_c_sl(load, k, 180, 20) >= 0.8)
        assert n == scan


def linear_scan_erlang_a(load: float, aht: float, target: Target) -> int:
    ks = np.arange(0, int(3 * load) + 60, dtype=float)
    sl, asa, _, occ, ab = erlang_a_metrics(
        np.full(ks.shape, load),
        ks,
        np.full(ks.shape, aht),
        np.full(ks.shape, target.patience_s),
        np.full(ks.shape, target.sl_within_s),
    )
    ok = ks >= 1
    if target.service_level is not None:
        ok &= sl >= target.service_level - 1e-12
    if target.asa_max_s is not None:
        ok &= asa <= target.asa_max_s + 1e-9
    if target.abandon_max is not None:
        ok &= ab <= target.abandon_max + 1e-12
    if target.max_occupancy is not None:
        ok &= occ <= target.max_occupancy + 1e-12
    return int(ks[np.argmax(ok)])


@settings(max_examples=50, deadline=None)
@given(
    load=st.floats(0.01, 300.0),
    aht=st.floats(30.0, 600.0),
    patience=st.floats(10.0, 1200.0),
    sl=st.none() | st.floats(0.5, 0.95),
    asa=st.none() | st.floats(5.0, 60.0),
    ab=st.none() | st.floats(0.01, 0.2),
    occ=st.none() | st.floats(0.6, 0.98),
)
def test_erlang_a_bisection_equals_linear_scan(
    load: float,
    aht: float,
    patience: float,
    sl: float | None,
    asa: float | None,
    ab: float | None,
    occ: float | None,
) -> None:
    target = Target(sl, 20.0 if sl is not None else None, asa, ab, occ, patience)
    assert int(required_agents(load * 1800 / aht, aht, 30, target)) == linear_scan_erlang_a(
        load, aht, target
    )


@settings(max_examples=60, deadline=None)
@given(
    volume=st.floats(0.01, 500.0),
    aht=st.floats(30.0, 600.0),
    t=st.floats(0.0, 60.0),
    extra=st.floats(1.0, 20.0),
    sl=st.floats(0.5, 0.95),
    asa=st.none() | st.floats(5.0, 60.0),
)
def test_erlang_a_never_needs_more_than_erlang_c(
    volume: float, aht: float, t: float, extra: float, sl: float, asa: float | None
) -> None:
    # holds when patience >= the answer threshold; with very short patience the strict SL
    # convention (abandoned = not answered) can need one agent more (documented)
    c = required_agents(volume, aht, 15, Target(sl, t, asa))
    a = required_agents(volume, aht, 15, Target(sl, t, asa, patience_s=max(t, 1.0) * extra))
    assert a <= c


def test_zero_and_tiny_volume() -> None:
    for target in (
        Target(0.8, 20),
        Target(0.8, 20, patience_s=60),
        Target(max_occupancy=0.85),
        Target(),
        Target(0.8, 20, concurrency=2.5),
    ):
        r = required_agents(
            np.array([0.0, 1e-9, 0.0]), np.array([180.0, 180.0, np.nan]), 15, target
        )
        assert r.tolist() == [0, 1, 0]
        k = kpis(np.array([0.0, 1e-9]), 180.0, 15, np.array([0, 1]), target)
        assert not k.isna().any().any()
        assert k["service_level"].iloc[0] == 1.0


def test_kpis_frame_zero_agents_and_columns() -> None:
    k = kpis(np.array([50.0, 50.0]), 180.0, 15, np.array([0, 20]), Target(0.8, 20, patience_s=90))
    assert list(k.columns) == [
        "offered_load",
        "service_level",
        "asa_s",
        "p_wait",
        "occupancy",
        "abandon_rate",
    ]
    assert (
        k.loc[0, "service_level"] == 0.0
        and k.loc[0, "abandon_rate"] == 1.0
        and k.loc[0, "p_wait"] == 1.0
    )
    assert not k.isna().any().any()


def test_large_load_is_finite_and_near_square_root_rule() -> None:
    load = 10_000.0
    n_c = int(required_agents(load * 900 / 180, 180, 15, Target(0.8, 20)))
    assert load < n_c < load + 3 * math.sqrt(load)
    assert mp_erlang_c_sl(load, n_c, 180, 20) >= 0.8 > mp_erlang_c_sl(load, n_c - 1, 180, 20)
    n_a = int(required_agents(1667 * 900 / 180, 180, 15, Target(0.8, 20, patience_s=180)))
    assert n_a < 1667  # with abandonment fewer agents than the offered load can meet 80/20
    assert n_a == linear_scan_erlang_a(1667.0, 180.0, Target(0.8, 20, patience_s=180))


def test_chat_concurrency_slot_model() -> None:
    target = Target(0.8, 60, concurrency=2.5)
    vols = np.array([5.0, 40.0, 130.0])
    r = required_agents(vols, 400.0, 15, target)
    slots = required_agents(vols, 400.0, 15, Target(0.8, 60))
    for n, s in zip(r, slots, strict=True):
        assert math.floor(n * 2.5 + 1e-9) >= s > math.floor((n - 1) * 2.5 + 1e-9)
    k = kpis(vols, 400.0, 15, r, target)
    np.testing.assert_allclose(k["occupancy"], vols * 400 / 900 / np.floor(r * 2.5 + 1e-9))


def test_unreachable_target_is_a_clear_error() -> None:
    assert (
        int(required_agents(900.0, 180.0, 15, Target(max_occupancy=0.01))) == 18_000
    )  # starts at A / occupancy, no long scan
    with pytest.raises(InputError, match="service_level"):
        Target(1.5, 20)
    with pytest.raises(InputError, match="answer_within_s"):
        Target(0.8)
    with pytest.raises(InputError, match="volume"):
        required_agents(-1.0, 180.0, 15, Target(0.8, 20))
    with pytest.raises(InputError, match="aht"):
        required_agents(10.0, 0.0, 15, Target(0.8, 20))


def test_deadline_target_kpis_use_the_deadline_as_threshold() -> None:
    got = kpis(np.array([10.0, 0.0]), 600.0, 15, np.array([8, 0]), Target(deadline_hours=2))
    ref = kpis(np.array([10.0, 0.0]), 600.0, 15, np.array([8, 0]), Target(0.5, 7200.0))
    assert got.equals(ref)
    with pytest.raises(InputError, match="deadline"):
        required_agents(10.0, 600.0, 15, Target(deadline_hours=2))


def test_target_for_queue() -> None:
    q = Queue(
        "chat",
        channel="chat",
        service_level=0.8,
        answer_within_s=60,
        concurrency=2,
        max_occupancy=0.9,
    )
    assert target_for_queue(q) == Target(0.8, 60, None, None, 0.9, None, 2.0, None)
    e = Queue("email", channel="email", deadline_hours=24)
    assert target_for_queue(e).deadline_hours == 24


@settings(max_examples=200, deadline=None)
@given(required=st.integers(0, 100_000), shrink=st.integers(0, 999))
def test_scheduled_heads_exact(required: int, shrink: int) -> None:
    s = shrink / 1000
    expected = math.ceil(Fraction(required) / (1 - Fraction(shrink, 1000)))
    assert int(scheduled_heads(required, s)) == expected


def test_scheduled_heads_float_trap() -> None:
    assert scheduled_heads(np.array([7, 14, 0, 21]), 0.3).tolist() == [
        10,
        20,
        0,
        30,
    ]  # 7/0.7 = 10.000000000000002 in floats


@pytest.mark.parametrize(
    "target", [Target(0.8, 20), Target(0.8, 20, patience_s=120), Target(0.8, 60, concurrency=2.0)]
)
def test_service_level_curve_matches_kpis_and_is_monotone(target: Target) -> None:
    vols = np.array([0.0, 3.0, 60.0, 140.0])
    curve = service_level_curve(vols, 240.0, 15, target, 60)
    assert curve.shape == (4, 61)
    assert np.all(np.diff(curve, axis=1) >= -1e-12)
    for k in (0, 1, 7, 20, 60):
        np.testing.assert_allclose(
            curve[:, k], kpis(vols, 240.0, 15, k, target)["service_level"], atol=1e-12
        )
    assert np.all(curve[0] == 1.0)


@pytest.mark.parametrize("target", [Target(0.8, 20), Target(0.8, 20, patience_s=120)])
def test_answered_within_curve_concave_majorant(target: Target) -> None:
    vols = np.array([0.0, 5.0, 60.0, 200.0])
    raw = answered_within_curve(vols, 240.0, 15, target, 80, concave=False)
    cav = answered_within_curve(vols, 240.0, 15, target, 80)
    np.testing.assert_allclose(
        raw, vols[:, None] * service_level_curve(vols, 240.0, 15, target, 80)
    )
    gains = np.diff(cav, axis=1)
    assert np.all(np.diff(gains, axis=1) <= 1e-9)  # concave: gains never grow
    assert np.all(gains >= -1e-12)
    assert np.all(cav >= raw - 1e-9)  # a majorant
    np.testing.assert_allclose(
        cav[:, -1], raw[:, -1], atol=1e-9
    )  # and equal once service is saturated
    assert np.all(cav[0] == 0.0)
