"""History as day × clock-slot arrays, and forecasts back onto a grid.

The methods work on a matrix per queue: one row per local date, one column per
clock slot of ``interval_min`` minutes (96 quarter-hours). DST is folded into
clock time: on a fall-back day the two intervals starting at the same clock
time are averaged into one slot (a rate per interval of elapsed time), and on
a spring-forward day the skipped slots are interpolated from their
neighbours. Going back to a grid, every interval takes its date's slot value,
so a 25-hour day gets the repeated hour twice and a 23-hour day none of it.

Unrecorded days are rows of NaN; recorded days have no NaN.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from staffplan.io.history import History


@dataclass(frozen=True)
class HistoryArrays:
    """Per-queue arrays of shape (queues, days, slots) from ``first_date``.

    ``volume`` [contacts per interval], ``aht_weight`` [handled contacts with
    a known handle time] and ``aht_total`` [s of handle time of those].
    """

    queues: tuple[str, ...]
    first_date: dt.date
    interval_min: int
    volume: np.ndarray
    aht_weight: np.ndarray
    aht_total: np.ndarray

    @property
    def days(self) -> int:
        return int(self.volume.shape[1])

    @property
    def slots(self) -> int:
        return int(self.volume.shape[2])

    def index(self, queue: str) -> int:
        return self.queues.index(queue)


def slot_of(starts: pd.DatetimeIndex, interval_min: int) -> np.ndarray:
    """Clock slot (local minute of day // interval) of tz-aware starts."""
    local = starts.tz_localize(None)
    return ((local.hour * 60 + local.minute) // interval_min).to_numpy().astype(np.int64)


def history_arrays(history: History) -> HistoryArrays:
    """Fold a dense :class:`History` frame into day × slot arrays (see module doc)."""
    queues = history.queues
    frame = history.frame
    n_q = len(queues)
    n_rows = len(frame) // n_q
    starts = pd.DatetimeIndex(frame["interval_start"].iloc[:n_rows])
    s_count = 1440 // history.interval_min
    first = history.first_date
    local = starts.tz_localize(None)
    day = (
        ((local.normalize() - pd.Timestamp(first)) // pd.Timedelta(days=1))
        .to_numpy()
        .astype(np.int64)
    )
    slot = slot_of(starts, history.interval_min)
    n_days = (history.last_date - first).days + 1
    cell = day * s_count + slot
    counts = np.bincount(cell, minlength=n_days * s_count).astype(float)
    aht = frame["aht_seconds"].to_numpy(dtype=float)
    handled = frame["handled"].to_numpy(dtype=float)
    known = ~np.isnan(aht)
    cols = {
        "volume": frame["offered"].to_numpy(dtype=float),
        "aht_weight": np.where(known, handled, 0.0),
        "aht_total": np.where(known, handled * np.nan_to_num(aht), 0.0),
    }
    recorded = np.zeros(n_days, dtype=bool)
    recorded[np.unique(day)] = True
    out: dict[str, np.ndarray] = {}
    flat = (np.arange(n_q)[:, None] * (n_days * s_count) + cell[None, :]).ravel()
    with np.errstate(invalid="ignore", divide="ignore"):
        for name, values in cols.items():
            sums = np.bincount(flat, weights=values, minlength=n_q * n_days * s_count).reshape(
                n_q, n_days, s_count
            )
            arr = sums / counts.reshape(1, n_days, s_count)
            arr[:, ~recorded, :] = np.nan
            out[name] = _fill_skipped(arr, counts.reshape(n_days, s_count), recorded)
    return HistoryArrays(
        queues, first, history.interval_min, out["volume"], out["aht_weight"], out["aht_total"]
    )


def _fill_skipped(arr: np.ndarray, counts: np.ndarray, recorded: np.ndarray) -> np.ndarray:
    """Interpolate slots a recorded day never had (spring-forward) from neighbours."""
    days = np.flatnonzero(recorded & (counts == 0).any(axis=1))
    x = np.arange(arr.shape[2])
    for d in days:
        have = counts[d] > 0
        for q in range(arr.shape[0]):
            arr[q, d, ~have] = np.interp(x[~have], x[have], arr[q, d, have])
    return arr


def window(
    values: np.ndarray, first_date: dt.date, cutoff: dt.date, weeks: int | None = None
) -> np.ndarray:
    """Rows for the days before ``cutoff`` (padded with NaN rows up to it), optionally the last
    ``weeks``.
    """
    end = (cutoff - first_date).days
    if end <= 0:
        return values[:0]
    rows = values[: min(end, len(values))]
    if end > len(values):
        pad = np.full((end - len(values), *values.shape[1:]), np.nan)
        rows = np.concatenate([rows, pad])
    if weeks is not None:
        rows = rows[-7 * weeks :]
    return rows


def to_grid(
    forecast: np.ndarray, cutoff: dt.date, starts: pd.DatetimeIndex, interval_min: int
) -> np.ndarray:
    """Values for grid interval ``starts`` from a (days, slots) forecast beginning at ``cutoff``."""
    local = starts.tz_localize(None)
    day = (
        ((local.normalize() - pd.Timestamp(cutoff)) // pd.Timedelta(days=1))
        .to_numpy()
        .astype(np.int64)
    )
    if len(day) and (day.min() < 0 or day.max() >= len(forecast)):
        raise ValueError("grid outside the forecast horizon")
    return forecast[day, slot_of(starts, interval_min)]
