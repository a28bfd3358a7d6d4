"""Forecast methods: pure functions on a (days, slots) matrix of one queue.

Every method takes ``train`` — rows for the local days just before ``cutoff``
(NaN rows for unrecorded days) — and returns a (horizon_days, slots) array
of forecast volume [contacts per interval] for ``cutoff`` onwards.

- ``seasonal_naive``: the same interval on the last recorded same weekday.
- ``weekly_profile``: classic WFM — per weekday, the mean daily total of the
  last ``recent_weeks`` recorded same weekdays (outlier days dropped by a
  median/MAD rule) times that weekday's intraday distribution.
- ``exp_smoothing``: Holt-Winters (statsmodels) on daily totals with damped
  additive trend and weekly seasonality over the weekdays the queue is open,
  split into intervals with the weekly profile's intraday distribution.

Intervals that had no contacts on any recent recorded same weekday (closed)
stay at zero in every method.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable

import numpy as np

RECENT_WEEKS = 8
MIN_DAYS = {"seasonal_naive": 7, "weekly_profile": 7, "exp_smoothing": 21}
METHODS = ("seasonal_naive", "weekly_profile", "exp_smoothing")
OUTLIER_Z = 3.0


def weekdays_of(n: int, cutoff: dt.date) -> np.ndarray:
    """Weekday (Monday=0) of the ``n`` days before ``cutoff``."""
    return (cutoff.weekday() - n + np.arange(n)) % 7


def horizon_weekdays(days: int, cutoff: dt.date) -> np.ndarray:
    """Weekday of each of ``days`` days from ``cutoff``."""
    return (cutoff.weekday() + np.arange(days)) % 7


def recorded(train: np.ndarray) -> np.ndarray:
    """True for rows (days) with data."""
    return ~np.isnan(train).any(axis=1) if train.size else np.zeros(len(train), dtype=bool)


def recent_rows(train: np.ndarray, cutoff: dt.date, weekday: int, n: int) -> np.ndarray:
    """Row indices of the last ``n`` recorded days with ``weekday``, oldest first."""
    rows = np.flatnonzero(recorded(train) & (weekdays_of(len(train), cutoff) == weekday))
    return rows[-n:]


def robust_keep(totals: np.ndarray, z: float = OUTLIER_Z) -> np.ndarray:
    """Mask of values within ``z`` robust standard deviations of the median.

    The scale is 1.4826·MAD, floored at 5 % of the median so that a very
    regular series does not reject ordinary noise. Fewer than 3 values are all kept.
    """
    if len(totals) < 3:
        return np.ones(len(totals), dtype=bool)
    med = float(np.median(totals))
    scale = max(1.4826 * float(np.median(np.abs(totals - med))), 0.05 * abs(med), 1e-9)
    return np.abs(totals - med) <= z * scale


def weekday_profiles(
    train: np.ndarray, cutoff: dt.date, recent_weeks: int = RECENT_WEEKS
) -> tuple[np.ndarray, np.ndarray]:
    """Per weekday: mean daily total [contacts] (7,) and intraday distribution (7, slots) summing to
    1 (or 0).
    """
    slots = train.shape[1]
    level = np.zeros(7)
    profile = np.zeros((7, slots))
    for w in range(7):
        rows = recent_rows(train, cutoff, w, recent_weeks)
        if len(rows) == 0:
            continue
        days = train[rows]
        totals = days.sum(axis=1)
        keep = robust_keep(totals)
        level[w] = float(totals[keep].mean())
        total = float(totals[keep].sum())
        if total > 0:
            profile[w] = days[keep].sum(axis=0) / total
    return level, profile


def closed_mask(train: np.ndarray, cutoff: dt.date, recent_weeks: int = RECENT_WEEKS) -> np.ndarray:
    """(7, slots) True where no recent recorded same weekday had any contact."""
    mask = np.ones((7, train.shape[1]), dtype=bool)
    for w in range(7):
        rows = recent_rows(train, cutoff, w, recent_weeks)
        if len(rows):
            mask[w] = train[rows].sum(axis=0) <= 0
    return mask


def seasonal_naive(
    train: np.ndarray, cutoff: dt.date, horizon_days: int, recent_weeks: int = RECENT_WEEKS
) -> np.ndarray:
    """Same interval on the last recorded same weekday; zero for a weekday never recorded."""
    out = np.zeros((horizon_days, train.shape[1]))
    for h, w in enumerate(horizon_weekdays(horizon_days, cutoff)):
        rows = recent_rows(train, cutoff, int(w), 1)
        if len(rows):
            out[h] = train[rows[-1]]
    return out


def weekly_profile(
    train: np.ndarray, cutoff: dt.date, horizon_days: int, recent_weeks: int = RECENT_WEEKS
) -> np.ndarray:
    """Trimmed mean daily total × intraday distribution, per weekday."""
    level, profile = weekday_profiles(train, cutoff, recent_weeks)
    wd = horizon_weekdays(horizon_days, cutoff)
    return level[wd, None] * profile[wd]


def _fill_seasonal(y: np.ndarray, m: int) -> np.ndarray:
    """Fill NaN with the mean of the same season position within ±2 seasons (else its overall
    mean).
    """
    y = y.copy()
    for i in np.flatnonzero(np.isnan(y)):
        near = [
            y[j]
            for j in (i - m, i + m, i - 2 * m, i + 2 * m)
            if 0 <= j < len(y) and not np.isnan(y[j])
        ]
        if not near:
            same = y[i % m :: m]
            same = same[~np.isnan(same)]
            near = list(same) if len(same) else [float(np.nanmean(y))]
        y[i] = float(np.mean(near))
    return y


def _clean_outliers(y: np.ndarray, m: int, z: float = OUTLIER_Z) -> np.ndarray:
    """Replace days far from the median of their season position (±4 seasons) by that median."""
    y = y.copy()
    med = np.empty_like(y)
    for i in range(len(y)):
        same = y[max(i % m, i - 4 * m) : i + 4 * m + 1 : m]
        med[i] = np.median(same)
    resid = y - med
    scale = max(
        1.4826 * float(np.median(np.abs(resid - np.median(resid)))),
        0.02 * float(np.mean(np.abs(y))),
        1e-9,
    )
    bad = np.abs(resid) > z * scale
    y[bad] = med[bad]
    return y


def ets_daily(y: np.ndarray, m: int, steps: int) -> np.ndarray:
    """Holt-Winters forecast of ``steps`` values after series ``y`` with season ``m``.

    Damped additive trend; multiplicative seasonality when every value is
    positive (volumes scale with the level), additive otherwise. Fitted by
    statsmodels (least-squares smoothing parameters from its default start;
    its brute-force start grid costs ~2.5x the time without better fits on
    our data). statsmodels is used rather than hand-written code for its
    tested Holt-Winters recursions, damping and optimiser.
    """
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    seasonal = None if m < 2 else ("mul" if np.all(y > 0) else "add")
    model = ExponentialSmoothing(
        y,
        trend="add",
        damped_trend=True,
        seasonal=seasonal,
        seasonal_periods=m if seasonal else None,
        initialization_method="estimated",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = model.fit(optimized=True, use_brute=False)
        out = np.asarray(fit.forecast(steps), dtype=float)
    if not np.all(np.isfinite(out)):
        raise FloatingPointError("exponential smoothing diverged")
    return np.clip(out, 0.0, None)


def exp_smoothing(
    train: np.ndarray, cutoff: dt.date, horizon_days: int, recent_weeks: int = RECENT_WEEKS
) -> np.ndarray:
    """Daily totals by Holt-Winters over open weekdays, split by the weekday profile."""
    level, profile = weekday_profiles(train, cutoff, recent_weeks)
    open_wd = np.flatnonzero(level > 0)
    out = np.zeros((horizon_days, train.shape[1]))
    if len(open_wd) == 0:
        return out
    wd = weekdays_of(len(train), cutoff)
    use = np.isin(wd, open_wd)
    totals = train.sum(axis=1)[use]
    first_rec = int(np.flatnonzero(~np.isnan(totals))[0])
    totals = totals[first_rec:]
    m = len(open_wd)
    y = (
        _clean_outliers(_fill_seasonal(totals, m), m)
        if m >= 2
        else _fill_seasonal(totals, max(m, 1))
    )
    hw = horizon_weekdays(horizon_days, cutoff)
    steps = np.flatnonzero(np.isin(hw, open_wd))
    if len(steps) == 0:
        return out
    daily = ets_daily(y, m, len(steps))
    out[steps] = daily[:, None] * profile[hw[steps]]
    return out


Method = Callable[[np.ndarray, dt.date, int, int], np.ndarray]
METHOD_FUNCS: dict[str, Method] = {
    "seasonal_naive": seasonal_naive,
    "weekly_profile": weekly_profile,
    "exp_smoothing": exp_smoothing,
}


def run_method(
    method: str,
    train: np.ndarray,
    cutoff: dt.date,
    horizon_days: int,
    recent_weeks: int = RECENT_WEEKS,
) -> np.ndarray:
    """Forecast with ``method``; intervals closed in recent weeks are set to zero."""
    out = METHOD_FUNCS[method](train, cutoff, horizon_days, recent_weeks)
    closed = closed_mask(train, cutoff, recent_weeks)
    out = np.where(closed[horizon_weekdays(horizon_days, cutoff)], 0.0, out)
    return np.clip(out, 0.0, None)


def aht_forecast(
    weight: np.ndarray,
    total: np.ndarray,
    cutoff: dt.date,
    horizon_days: int,
    recent_weeks: int = RECENT_WEEKS,
    prior_contacts: float = 10.0,
) -> np.ndarray:
    """Handle time [s] per horizon day and slot, volume-weighted by interval-of-week.

    For each (weekday, slot): handle time summed over the recent same
    weekdays divided by the handled contacts, shrunk towards the queue's
    volume-weighted mean with the weight of ``prior_contacts`` contacts (a
    slot with 2 contacts barely moves off the mean; one with 500 is its own).
    NaN everywhere when the queue has no handle time at all.
    """
    slots = weight.shape[1]
    rec = recorded(weight)
    recent = np.flatnonzero(rec)[-7 * recent_weeks :]
    w_all = float(np.nansum(weight[recent]))
    if w_all <= 0:
        return np.full((horizon_days, slots), np.nan)
    mean = float(np.nansum(total[recent])) / w_all
    by_wd = np.full((7, slots), mean)
    for w in range(7):
        rows = recent_rows(weight, cutoff, w, recent_weeks)
        if len(rows):
            sw = weight[rows].sum(axis=0)
            st = total[rows].sum(axis=0)
            by_wd[w] = (st + prior_contacts * mean) / (sw + prior_contacts)
    return by_wd[horizon_weekdays(horizon_days, cutoff)]
