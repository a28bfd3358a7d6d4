"""The planning grid: interval length, horizon, timezone, DST.

Everything in a run is indexed by interval number on one grid. The grid starts
at local midnight of ``start`` and covers ``days`` local days; intervals are
``interval_min`` minutes of *elapsed* time, so a spring-forward day has 23 h
(e.g. 92 quarter-hours) and a fall-back day 25 h (100 quarter-hours).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from staffplan.errors import InputError

ALLOWED_INTERVALS_MIN = (5, 10, 15, 20, 30, 60)


ISO_EXPECTED = (
    "an ISO 8601 date or date-time like 2026-12-07 or 2026-12-07 08:30 (optionally with an "
    "offset like +01:00)"
)
ISO_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?"
)
ISO_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
SLASHED_DATE = re.compile(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}(?:\D.*)?")
DATE_FORMAT_HINT = (
    "write dates as YYYY-MM-DD (ISO 8601), or declare the file's format under the scenario's "
    '[data]: KEY = { path = "FILE", date_format = "%d/%m/%Y" }'
)


class TimestampParseError(ValueError):
    """Raised by :func:`parse_timestamps` with the position of the first bad value."""

    def __init__(self, index: int, expected: str = ISO_EXPECTED, hint: str | None = None) -> None:
        super().__init__(index)
        self.index = index
        self.expected = expected
        self.hint = hint


def _date_part(date_format: str) -> str:
    return date_format.split(" ", 1)[0].split("T", 1)[0]


def is_date_only(text: str, date_format: str | None = None) -> bool:
    """True if ``text`` is a date without a time (ISO 8601, or the date part of
    ``date_format``).
    """
    t = str(text).strip()
    if date_format is None:
        return ISO_DATE_ONLY.fullmatch(t) is not None
    part = _date_part(date_format)
    try:
        dt.datetime.strptime(t, part)
    except ValueError:
        return False
    return True


def _bad_text(text: pd.Series, date_format: str | None) -> TimestampParseError:
    """The error for the first value of ``text`` that is not a valid timestamp."""
    if date_format is None:
        ok = text.str.fullmatch(ISO_TIMESTAMP.pattern).fillna(False).to_numpy(dtype=bool)
    else:
        ok = np.ones(len(text), dtype=bool)
    i = int(np.flatnonzero(~ok)[0]) if (~ok).any() else 0
    if date_format is not None:
        return TimestampParseError(
            i,
            f"a date or date-time in the declared format {date_format!r}",
            "the scenario's [data] table declares this file's date_format",
        )
    if SLASHED_DATE.fullmatch(str(text.iloc[i])):
        return TimestampParseError(
            i,
            "an ISO 8601 date like 2026-12-01 (01/12/2026 could be 1 December or 12 January)",
            DATE_FORMAT_HINT,
        )
    return TimestampParseError(i, ISO_EXPECTED, DATE_FORMAT_HINT)


def _parse_text(text: pd.Series, date_format: str | None) -> pd.Series:
    """Parse strings (ISO 8601, or ``date_format``) to UTC timestamps; NaT where invalid."""
    if date_format is None:
        iso = text.str.fullmatch(ISO_TIMESTAMP.pattern).fillna(False)
        parsed = pd.to_datetime(text.where(iso), errors="coerce", utc=True, format="ISO8601")
        return parsed.where(iso)
    parsed = pd.to_datetime(text, errors="coerce", utc=True, format=date_format)
    part = _date_part(date_format)
    if part != date_format and parsed.isna().any():
        day = pd.to_datetime(text, errors="coerce", utc=True, format=part)
        parsed = parsed.where(parsed.notna(), day)
    return parsed


def check_timezone(tz: str) -> ZoneInfo:
    """Return the zone for an IANA name, or raise a clear error."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(
            "unknown timezone", expected="an IANA name like Europe/Madrid or UTC", found=tz
        ) from None


def parse_timestamps(
    values: pd.Series, tz: str | None, date_format: str | None = None
) -> pd.Series:
    """Parse strings to timestamps in ``tz``.

    Values are ISO 8601 (``2026-12-07``, ``2026-12-07 08:30``,
    ``2026-12-07T08:30:00+01:00``) unless ``date_format`` (strptime, e.g.
    ``%d/%m/%Y %H:%M``; its date part alone is accepted too) is given: an
    ambiguous ``01/12/2026`` is never guessed. Naive values are local times in
    ``tz`` (ambiguous fall-back times are taken as the first occurrence,
    nonexistent spring-forward times shifted forward); values with an offset
    are converted to ``tz``. With ``tz=None`` the result stays naive (offsets
    are then an error). Raises :class:`TimestampParseError` with the position
    of the first bad value, what was expected and a hint.
    """
    text = values.astype(str).str.strip()
    parsed = _parse_text(text, date_format)
    bad = parsed.isna().to_numpy()
    if bad.any():
        err = _bad_text(text, date_format)
        first = int(np.flatnonzero(bad)[0])
        if err.index != first:
            err = TimestampParseError(first, err.expected, err.hint)
        raise err
    if date_format is None:  # an offset only ever follows a time
        has_offset = text.str.contains(r"[T ]\d\d:\d\d.*(?:[+-]\d\d(?::?\d\d)?|Z)$").to_numpy()
    else:
        has_offset = np.full(len(text), "%z" in date_format or "%Z" in date_format)
    if tz is None:
        if has_offset.any():
            raise TimestampParseError(
                int(np.flatnonzero(has_offset)[0]), "a local time without an offset"
            )
        return parsed.dt.tz_localize(None)
    zone = check_timezone(tz)
    out = parsed.dt.tz_convert(zone)
    if (~has_offset).any():
        naive = parsed[~has_offset].dt.tz_localize(None)
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
