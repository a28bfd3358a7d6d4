import datetime as dt

import numpy as np
import pytest

from staffplan.forecast.backtest import backtest_queue, pick_method, seasonal_scale
from staffplan.forecast.methods import run_method

FIRST = dt.date(2026, 9, 7)  # Monday
SLOTS = 8


def oracle(
    values: np.ndarray, cutoff: dt.date, weeks: int, method: str
) -> tuple[float, float, float, float]:
    """Straightforward loop version of the backtest metrics."""
    end = (cutoff - FIRST).days
    abs_e = err = act = naive_e = 0.0
    mases = []
    for k in range(weeks, 0, -1):
        o = end - 7 * k
        train = values[:o]
        origin = FIRST + dt.timedelta(days=o)
        f = run_method(method, train, origin, 7)
        naive = run_method("seasonal_naive", train, origin, 7)
        fold_abs, fold_n = 0.0, 0
        for h in range(7):
            a = values[o + h]
            if np.isnan(a).any():
                continue
            for s in range(SLOTS):
                abs_e += abs(f[h, s] - a[s])
                err += f[h, s] - a[s]
                act += a[s]
                naive_e += abs(naive[h, s] - a[s])
                fold_abs += abs(f[h, s] - a[s])
                fold_n += 1
        diffs = [
            abs(train[t, s] - train[t - 7, s])
            for t in range(7, len(train))
            for s in range(SLOTS)
            if not (np.isnan(train[t]).any() or np.isnan(train[t - 7]).any())
        ]
        mases.append(fold_abs / fold_n / np.mean(diffs))
    return abs_e / act, err / act, naive_e and abs_e / naive_e, float(np.mean(mases))


@pytest.mark.parametrize("method", ["seasonal_naive", "weekly_profile"])
def test_metrics_match_oracle_with_gaps(method: str) -> None:
    rng = np.random.default_rng(5)
    values = rng.poisson(20, size=(70, SLOTS)).astype(float)
    values[[12, 40, 61]] = np.nan  # missing days: skipped, never scored as zero
    cutoff = FIRST + dt.timedelta(days=70)
    got = backtest_queue(values, FIRST, cutoff, weeks=3, methods=[method])[method]
    wape, bias, rel, mase = oracle(values, cutoff, 3, method)
    assert got.folds == 3
    assert got.wape == pytest.approx(wape)
    assert got.bias == pytest.approx(bias)
    assert got.rel_mae == pytest.approx(rel)
    assert got.mase == pytest.approx(mase)
    if method == "seasonal_naive":
        assert got.rel_mae == pytest.approx(1.0)


def test_periodic_series_scores_zero_and_auto_prefers_the_better_method() -> None:
    week = np.random.default_rng(2).uniform(0, 30, size=(7, SLOTS))
    values = np.tile(week, (8, 1))
    cutoff = FIRST + dt.timedelta(days=56)
    scores = backtest_queue(
        values, FIRST, cutoff, weeks=4, methods=["seasonal_naive", "weekly_profile"]
    )
    assert scores["seasonal_naive"].wape == pytest.approx(0, abs=1e-12)
    assert scores["weekly_profile"].wape == pytest.approx(0, abs=1e-12)
    noisy = values + np.random.default_rng(3).normal(0, 3, size=values.shape).clip(
        -week.min(), None
    )
    noisy = np.clip(noisy, 0, None)
    sc = backtest_queue(noisy, FIRST, cutoff, weeks=4, methods=["seasonal_naive", "weekly_profile"])
    assert sc["weekly_profile"].wape < sc["seasonal_naive"].wape  # averaging weeks cancels noise
    assert pick_method(sc) == "weekly_profile"


def test_folds_need_enough_history() -> None:
    values = np.ones((14, SLOTS))
    sc = backtest_queue(
        values,
        FIRST,
        FIRST + dt.timedelta(days=14),
        weeks=4,
        methods=["seasonal_naive", "exp_smoothing"],
    )
    assert sc["seasonal_naive"].folds == 1  # only the origin at day 7 leaves a week to fit
    assert sc["exp_smoothing"].folds == 0 and np.isnan(sc["exp_smoothing"].wape)
    assert pick_method(sc) == "seasonal_naive"
    assert pick_method({}) == "weekly_profile"


def test_seasonal_scale() -> None:
    v = np.arange(16 * SLOTS, dtype=float).reshape(16, SLOTS)
    assert seasonal_scale(v) == pytest.approx(7 * SLOTS)
    assert np.isnan(seasonal_scale(v[:7]))
