"""The planning grid: interval length, horizon, timezone, DST.

Everything in a run is indexed by interval number on one grid. The grid starts
at local midnight of ``start`` and covers ``days`` local days; intervals are
``interval_min`` minutes of *elapsed* time, so a spring-forward day has 23 h
(e.g. 92 quarter-hours) and a fall-back day 25 h (100 quarter-hours).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from staffplan.errors import InputError

ALLOWED_INTERVALS_MIN = (5, 10, 15, 20, 30, 60)


class TimestampParseError(ValueError):
    """Raised by :func:`parse_timestamps` with the position of the first bad value."""

    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.index = index


def check_timezone(tz: str) -> ZoneInfo:
    """Return the zone for an IANA name, or raise a clear error."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(
            "unknown timezone", expected="an IANA name like Europe/Madrid or UTC", found=tz
        ) from None


def parse_timestamps(values: pd.Series, tz: str | None) -> pd.Series:
    """Parse strings to timestamps in ``tz``.

    Naive values are local times in ``tz`` (ambiguous fall-back times are taken
    as the first occurrence, nonexistent spring-forward times shifted forward);
    values with an offset are converted to ``tz``. With ``tz=None`` the result
    stays naive (offsets are then an error). Raises
    :class:`TimestampParseError` with the position of the first bad value.
    """
    text = values.astype(str).str.strip()
    parsed = pd.to_datetime(text, errors="coerce", utc=True, format="mixed")
    bad = parsed.isna().to_numpy()
    if bad.any():
        raise TimestampParseError(int(np.flatnonzero(bad)[0]))
    has_offset = text.str.contains(r"(?:[+-]\d\d:?\d\d|Z)$", regex=True).to_numpy()
    if tz is None:
        if has_offset.any():
            raise TimestampParseError(int(np.flatnonzero(has_offset)[0]))
        return parsed.dt.tz_localize(None)
    zone = check_timezone(tz)
    out = parsed.dt.tz_convert(zone)
    if (~has_offset).any():
        naive = pd.to_datetime(text[~has_offset], format="mixed")
        local = naive.dt.tz_localize(
            zone, ambiguous=np.ones(len(naive), dtype=bool), nonexistent="shift_forward"
        )
        out = out.copy()
        out[~has_offset] = local
    return out


@dataclass(frozen=True)
class TimeGrid:
    """A planning horizon of ``days`` local days from ``start``, in ``interval_min`` steps.

    Attributes are plain values so the grid is hashable and picklable.
    """

    start: dt.date
    days: int = 7
    interval_min: int = 15
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        if self.interval_min not in ALLOWED_INTERVALS_MIN:
            raise InputError(
                "bad interval length",
                expected="one of " + ", ".join(map(str, ALLOWED_INTERVALS_MIN)) + " minutes",
                found=self.interval_min,
            )
        if self.days < 1:
            raise InputError("bad horizon", expected="at least 1 day", found=self.days)
        check_timezone(self.timezone)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def end(self) -> dt.date:
        """First local date after the horizon."""
        return self.start + dt.timedelta(days=self.days)

    def local_midnight(self, day: dt.date) -> pd.Timestamp:
        """Tz-aware timestamp of local midnight on ``day``."""
        return pd.Timestamp(day).tz_localize(self.zone, nonexistent="shift_forward", ambiguous=True)

    @cached_property
    def starts(self) -> pd.DatetimeIndex:
        """Tz-aware local start of every interval (length ``n``)."""
        first = self.local_midnight(self.start).tz_convert("UTC")
        last = self.local_midnight(self.end).tz_convert("UTC")
        idx = pd.date_range(first, last, freq=f"{self.interval_min}min", inclusive="left")
        return idx.tz_convert(self.zone)

    @property
    def n(self) -> int:
        """Number of intervals on the grid."""
        return len(self.starts)

    @cached_property
    def day_index(self) -> np.ndarray:
        """Horizon day (0-based) of every interval, by local date."""
        dates = self.starts.tz_localize(None).normalize()
        return (
            ((dates - pd.Timestamp(self.start)) // pd.Timedelta(days=1)).to_numpy().astype(np.int64)
        )

    @cached_property
    def day_offsets(self) -> np.ndarray:
        """Index of each day's first interval, plus ``n`` at the end (length days+1)."""
        return np.searchsorted(self.day_index, np.arange(self.days + 1)).astype(np.int64)

    def dates(self) -> list[dt.date]:
        """Local dates of the horizon, in order."""
        return [self.start + dt.timedelta(days=d) for d in range(self.days)]

    @cached_property
    def minute_of_day(self) -> np.ndarray:
        """Local clock minute (0-1439) at each interval's start."""
        local = self.starts.tz_localize(None)
        return (local.hour * 60 + local.minute).to_numpy().astype(np.int64)

    @cached_property
    def weekday(self) -> np.ndarray:
        """Local weekday (Monday=0) of each interval."""
        return self.starts.day_of_week.to_numpy().astype(np.int64)

    def index_of(self, ts: pd.Timestamp | dt.datetime | str) -> int:
        """Index of the interval containing ``ts`` (naive = local); raises if off-grid."""
        t = self.to_local(ts)
        i = int(self.starts.searchsorted(t, side="right")) - 1
        if i < 0 or t >= self.starts[-1] + pd.Timedelta(minutes=self.interval_min):
            raise InputError(
                "time outside the planning horizon",
                expected=f"{self.start} to {self.end} (exclusive)",
                found=str(ts),
            )
        return i

    def boundary_index(self, ts: pd.Timestamp | dt.datetime | str) -> int:
        """Number of grid intervals starting before ``ts``, clipped to [0, n]."""
        return int(self.starts.searchsorted(self.to_local(ts), side="left"))

    def to_local(self, ts: pd.Timestamp | dt.datetime | str) -> pd.Timestamp:
        """A tz-aware timestamp in the grid's zone (naive input is local time)."""
        t = pd.Timestamp(ts)
        if t.tzinfo is None:
            return t.tz_localize(self.zone, ambiguous=True, nonexistent="shift_forward")
        return t.tz_convert(self.zone)

    def at(self, day: int, minute: int) -> pd.Timestamp:
        """Local time ``minute`` minutes of *clock* time after midnight of horizon day ``day``.

        Minutes past 1440 roll into the next day (a night shift's end).
        """
        base = pd.Timestamp(self.start + dt.timedelta(days=day)) + pd.Timedelta(minutes=minute)
        return base.tz_localize(self.zone, ambiguous=True, nonexistent="shift_forward")

    def span(self, day: int, start_min: int, end_min: int) -> tuple[int, int]:
        """Grid index range [lo, hi) covered by local clock times on ``day`` (end may pass 1440)."""
        return self.boundary_index(self.at(day, start_min)), self.boundary_index(
            self.at(day, end_min)
        )

    def frame(self) -> pd.DataFrame:
        """One row per interval: ``interval``, ``interval_start``, ``day``, ``weekday``,
        ``minute_of_day``.
        """
        return pd.DataFrame(
            {
                "interval": np.arange(self.n),
                "interval_start": self.starts,
                "day": self.day_index,
                "weekday": self.weekday,
                "minute_of_day": self.minute_of_day,
            }
        )
