import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from staffplan.forecast.methods import (
    aht_forecast,
    exp_smoothing,
    robust_keep,
    run_method,
    seasonal_naive,
    weekly_profile,
)

CUTOFF = dt.date(2026, 12, 7)  # a Monday: train rows end on Sunday
SLOTS = 24


def pattern(
    weeks: int, trend_per_day: float = 0.0, rng: np.random.Generator | None = None
) -> np.ndarray:
    """Level × weekday factor × intraday shape (hourly slots), optional linear trend and Poisson
    noise.
    """
    days = 7 * weeks
    wd = (CUTOFF.weekday() - days + np.arange(days)) % 7
    factor = np.array([1.3, 1.1, 1.0, 1.0, 1.05, 0.6, 0.0])[wd]
    hours = np.arange(SLOTS)
    shape = np.where((hours >= 8) & (hours < 20), np.exp(-0.5 * ((hours - 12) / 3.0) ** 2), 0.0)
    shape /= shape.sum()
    level = 1000.0 + trend_per_day * np.arange(days)
    mean = (level * factor)[:, None] * shape[None, :]
    return rng.poisson(mean).astype(float) if rng is not None else mean


def test_seasonal_naive_copies_last_recorded_same_weekday() -> None:
    rng = np.random.default_rng(1)
    train = rng.integers(0, 50, size=(21, SLOTS)).astype(float)
    train[-6] = np.nan  # last Tuesday missing: use the Tuesday before
    fc = seasonal_naive(train, CUTOFF, 14)
    expected = train[-7:].copy()
    expected[1] = train[-13]
    np.testing.assert_array_equal(fc[:7], expected)
    np.testing.assert_array_equal(fc[7:], expected)


def test_weekly_profile_recovers_pattern_and_ignores_a_holiday() -> None:
    train = pattern(8)
    week = train[-7:].copy()
    train[-12] *= 0.3  # a holiday two weeks ago (a Wednesday)
    fc = weekly_profile(train, CUTOFF, 7)
    np.testing.assert_allclose(fc, week, rtol=1e-12, atol=1e-12)


def test_weekly_profile_is_trimmed_mean_times_distribution() -> None:
    rng = np.random.default_rng(7)
    train = pattern(8, rng=rng)
    fc = weekly_profile(train, CUTOFF, 7)
    for h in range(7):
        rows = train[h::7]  # same weekday as horizon day h (train has whole weeks ending Sunday)
        totals = rows.sum(axis=1)
        med = np.median(totals)
        scale = max(1.4826 * np.median(np.abs(totals - med)), 0.05 * med, 1e-9)
        keep = np.abs(totals - med) <= 3 * scale
        if totals.sum() == 0:
            np.testing.assert_array_equal(fc[h], 0)
            continue
        expected = totals[keep].mean() * rows[keep].sum(axis=0) / totals[keep].sum()
        np.testing.assert_allclose(fc[h], expected, rtol=1e-12)
        assert fc[h].sum() == pytest.approx(totals[keep].mean())


def test_exp_smoothing_follows_a_trend_weekly_profile_lags() -> None:
    train = pattern(12, trend_per_day=4.0)
    truth = pattern(13, trend_per_day=4.0)[-7:]
    es = exp_smoothing(train, CUTOFF, 7)
    wp = weekly_profile(train, CUTOFF, 7)
    err_es = np.abs(es - truth).sum() / truth.sum()
    err_wp = np.abs(wp - truth).sum() / truth.sum()
    assert err_es < 0.02
    # the eight-week mean (days 28-83) sits ~4.5 weeks behind the target week (days 84-90): ~0.91 of
    # it
    assert 0.08 < err_wp < 0.10
    np.testing.assert_array_equal(es[6], 0)  # Sunday closed stays closed


def test_exp_smoothing_handles_gaps_and_weekday_only_data() -> None:
    train = pattern(10, trend_per_day=2.0)
    wd = (CUTOFF.weekday() - len(train) + np.arange(len(train))) % 7
    train[wd >= 5] = np.nan  # weekends never recorded
    train[[10, 31, 50]] = np.nan  # and three missing weekdays
    truth = pattern(11, trend_per_day=2.0)[-7:]
    fc = exp_smoothing(train, CUTOFF, 7)
    assert np.abs(fc[:5] - truth[:5]).sum() / truth[:5].sum() < 0.03
    np.testing.assert_array_equal(fc[5:], 0)


@pytest.mark.parametrize("method", ["seasonal_naive", "weekly_profile", "exp_smoothing"])
def test_closed_intervals_stay_zero_and_values_nonnegative(method: str) -> None:
    rng = np.random.default_rng(3)
    train = pattern(6, rng=rng)
    fc = run_method(method, train, CUTOFF, 7)
    assert fc.shape == (7, SLOTS) and np.all(fc >= 0)
    closed = np.arange(SLOTS)[(np.arange(SLOTS) < 8) | (np.arange(SLOTS) >= 20)]
    np.testing.assert_array_equal(fc[:, closed], 0)
    np.testing.assert_array_equal(fc[6], 0)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(min_value=1, max_value=1e4), min_size=3, max_size=12),
    st.floats(min_value=0.0, max_value=0.5),
)
def test_robust_keep_drops_only_far_values(values: list[float], shrink: float) -> None:
    t = np.array(values)
    keep = robust_keep(t)
    assert keep.sum() >= (len(t) + 1) // 2  # never drops the median half
    med = np.median(t)
    assert np.all(np.abs(t[keep] - med) <= np.abs(t[~keep] - med).min(initial=np.inf))
    # a value at a small fraction of the others (a holiday) is dropped
    base = np.full(8, 1000.0)
    base[3] = 1000.0 * shrink
    assert not robust_keep(base)[3]


def test_aht_forecast_matches_brute_force() -> None:
    rng = np.random.default_rng(11)
    days = 21
    weight = rng.integers(0, 20, size=(days, SLOTS)).astype(float)
    aht = rng.uniform(100, 500, size=(days, SLOTS))
    total = weight * aht
    weight[4] = np.nan
    total[4] = np.nan
    fc = aht_forecast(weight, total, CUTOFF, 7, recent_weeks=8, prior_contacts=10.0)
    mean = np.nansum(total) / np.nansum(weight)
    for h in range(7):
        for s in range(SLOTS):
            rows = [d for d in range(h, days, 7) if not np.isnan(weight[d, s])]
            sw = sum(weight[d, s] for d in rows)
            st_ = sum(total[d, s] for d in rows)
            assert fc[h, s] == pytest.approx((st_ + 10 * mean) / (sw + 10))
    nothing = aht_forecast(np.zeros((7, SLOTS)), np.zeros((7, SLOTS)), CUTOFF, 7)
    assert np.isnan(nothing).all()


@settings(max_examples=25, deadline=None)
@given(
    st.integers(min_value=0, max_value=2**31 - 1),
    st.floats(min_value=0.1, max_value=50),
    st.sampled_from(["seasonal_naive", "weekly_profile"]),
)
def test_forecast_scales_with_history(seed: int, k: float, method: str) -> None:
    # linear methods: k × history gives k × forecast, and the forecast of a day never exceeds the
    # recent maximum
    rng = np.random.default_rng(seed)
    train = pattern(5, rng=rng)
    train[rng.integers(0, len(train), 3)] = np.nan
    fc = run_method(method, train, CUTOFF, 7)
    np.testing.assert_allclose(
        run_method(method, k * train, CUTOFF, 7), k * fc, rtol=1e-9, atol=1e-9
    )
    assert np.all(fc <= np.nanmax(train, axis=0) + 1e-9)
