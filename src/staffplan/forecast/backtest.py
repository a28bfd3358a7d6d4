"""Rolling-origin backtest: WAPE, MASE and bias per queue and method.

For k = weeks, ..., 1 the origin is ``cutoff - 7k`` days: each method is fitted
on the days before the origin and forecasts the next 7 days, which are
compared interval by interval with what was recorded (unrecorded days are
skipped, never scored as zero). Over all folds:

- ``wape`` = Σ|F − A| / ΣA  [fraction]
- ``bias`` = Σ(F − A) / ΣA  [fraction; > 0 means over-forecast]
- ``mase`` = mean over folds of MAE / (in-sample MAE of the weekly seasonal
  naive forecast on the fold's training data) — Hyndman & Koehler (2006)
- ``rel_mae`` = MAE / MAE of seasonal naive on the same points [ratio];
  below 1 the method beats "same interval last week" out of sample.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from staffplan.forecast.methods import (
    METHODS,
    MIN_DAYS,
    RECENT_WEEKS,
    recorded,
    run_method,
    seasonal_naive,
)

COLUMNS = ("queue", "method", "folds", "wape", "mase", "rel_mae", "bias")


@dataclass(frozen=True)
class Score:
    """Backtest errors of one method on one queue (see module doc for definitions)."""

    folds: int
    wape: float
    mase: float
    rel_mae: float
    bias: float


def seasonal_scale(train: np.ndarray) -> float:
    """In-sample MAE of the weekly seasonal naive forecast [contacts per interval] (NaN if
    undefined).
    """
    if len(train) <= 7:
        return float("nan")
    a, b = train[7:], train[:-7]
    both = recorded(a) & recorded(b)
    if not both.any():
        return float("nan")
    return float(np.mean(np.abs(a[both] - b[both])))


def backtest_queue(
    values: np.ndarray,
    first_date: dt.date,
    cutoff: dt.date,
    *,
    weeks: int,
    methods: Sequence[str] = METHODS,
    recent_weeks: int = RECENT_WEEKS,
    history_weeks: int | None = None,
) -> dict[str, Score]:
    """Scores per method for one queue whose rows start at ``first_date``; folds end at
    ``cutoff``.
    """
    end = (cutoff - first_date).days
    acc = {m: np.zeros(5) for m in methods}  # abs err, err, actual, naive abs err, n points
    mase_sum = {m: 0.0 for m in methods}
    mase_n = {m: 0 for m in methods}
    folds = {m: 0 for m in methods}
    for k in range(weeks, 0, -1):
        origin_row = end - 7 * k
        lo = 0 if history_weeks is None else max(0, origin_row - 7 * history_weeks)
        if origin_row <= lo:
            continue
        train = values[lo:origin_row]
        actual = values[origin_row : origin_row + 7]
        if len(actual) < 7:
            actual = np.concatenate([actual, np.full((7 - len(actual), values.shape[1]), np.nan)])
        rec = recorded(actual)
        if not rec.any() or not recorded(train).any():
            continue
        origin = first_date + dt.timedelta(days=origin_row)
        a = actual[rec]
        naive = seasonal_naive(train, origin, 7)[rec]
        scale = seasonal_scale(train)
        for m in methods:
            if len(train) < MIN_DAYS[m]:
                continue
            try:
                f = run_method(m, train, origin, 7, recent_weeks)[rec]
            except (FloatingPointError, ValueError, np.linalg.LinAlgError):
                continue  # a fit that fails on this fold is not scored (the fold count shows it)
            e = f - a
            acc[m] += [np.abs(e).sum(), e.sum(), a.sum(), np.abs(naive - a).sum(), e.size]
            folds[m] += 1
            if np.isfinite(scale) and scale > 0:
                mase_sum[m] += float(np.abs(e).mean()) / scale
                mase_n[m] += 1
    out = {}
    for m in methods:
        abs_e, err, act, naive_e, _ = acc[m]
        nan = float("nan")
        out[m] = Score(
            folds=folds[m],
            wape=abs_e / act if act > 0 else nan,
            mase=mase_sum[m] / mase_n[m] if mase_n[m] else nan,
            rel_mae=abs_e / naive_e if naive_e > 0 else nan,
            bias=err / act if act > 0 else nan,
        )
    return out


def scores_frame(scores: dict[str, dict[str, Score]]) -> pd.DataFrame:
    """Long table: one row per (queue, method) with :data:`COLUMNS`."""
    rows = [
        {
            "queue": q,
            "method": m,
            "folds": s.folds,
            "wape": s.wape,
            "mase": s.mase,
            "rel_mae": s.rel_mae,
            "bias": s.bias,
        }
        for q, by in scores.items()
        for m, s in by.items()
    ]
    return pd.DataFrame(rows, columns=list(COLUMNS))


def pick_method(by_method: dict[str, Score], fallback: str = "weekly_profile") -> str:
    """The method with the lowest backtest WAPE (ties: the simpler, listed first)."""
    best, best_wape = fallback, float("inf")
    for m in METHODS:
        s = by_method.get(m)
        if s is None or s.folds == 0 or not np.isfinite(s.wape):
            continue
        if s.wape < best_wape - 1e-12:
            best, best_wape = m, s.wape
    return best
