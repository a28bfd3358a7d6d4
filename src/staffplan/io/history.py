"""Contact history: read per-contact or per-interval files onto a planning grid.

Two shapes are recognised from the header:

- **per contact**: ``arrived_at``, ``queue``, ``handle_seconds`` and optionally
  ``abandoned`` (bool) and ``wait_seconds``;
- **per interval**: ``interval_start``, ``queue``, ``offered``, ``handled``,
  ``aht_seconds`` and optionally ``abandoned``. Only ``interval_start`` and
  ``offered`` are required: without ``queue`` the file is one queue named
  ``all``; without ``aht_seconds`` handle time is unknown (NaN).

Both are aggregated onto ``interval_min``-minute intervals of *elapsed* time
from local midnight (the :class:`~staffplan.timegrid.TimeGrid` convention), so
a DST day has 92 or 100 quarter-hours and every contact is counted exactly
once. Naive timestamps are local times; on a fall-back night the repeated
hour is told apart by file order (the second pass through 02:00-03:00 is the
standard-time one).

**Recorded days and gaps.** History is kept in whole local days. A day with at
least one row (any queue) is *recorded*: its intervals without rows have zero
contacts (the center was closed or quiet). A day without rows is *missing* —
never zero. Missing days on weekdays that are recorded in other weeks are
reported as gaps; weekdays never recorded (a weekday-only file) are reported
separately.

**Patience.** A per-contact file with both ``abandoned`` and ``wait_seconds``
also yields a per-queue :class:`PatienceSummary` (see
:func:`patience_summary`) on :attr:`History.patience`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from staffplan.errors import InputError
from staffplan.io.tables import Column, decimal_points, parse_column, read_raw
from staffplan.timegrid import (
    DATE_FORMAT_HINT,
    ISO_TIMESTAMP,
    SLASHED_DATE,
    TimeGrid,
    check_timezone,
)

DEFAULT_QUEUE = "all"
COLUMNS = ("interval_start", "queue", "offered", "handled", "aht_seconds", "abandoned")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# staffplan name -> other accepted header names (case-insensitive)
ALIASES: dict[str, tuple[str, ...]] = {
    "interval_start": ("interval", "start", "timestamp", "datetime", "ds", "period_start"),
    "queue": ("queue_name", "skill", "unique_id", "split"),
    "offered": ("calls", "volume", "contacts", "offered_calls", "arrivals", "y"),
    "handled": ("answered", "handled_calls"),
    "aht_seconds": ("aht", "aht_s", "average_handle_time"),
    "abandoned": ("abandons", "abandoned_calls"),
    "arrived_at": ("arrival", "arrival_time", "arrived", "created_at"),
    "handle_seconds": ("handle_s", "handle_time", "handle_time_s", "duration_seconds"),
    "wait_seconds": ("wait_s", "wait_time"),
}

_OFFSET = r"(?:[+-]\d\d:?\d\d|Z)$"
_TS_EXPECTED = "a date-time like 2026-12-07 08:30 (optionally with an offset like +01:00)"


@dataclass(frozen=True)
class PatienceSummary:
    """Censored-exponential sufficient statistics of one queue's customer patience.

    ``time_at_risk_s`` [s] is the total time contacts were seen waiting
    (Σ ``wait_seconds``: an abandoned contact until it hung up, an answered
    one until it was answered — censored there); ``abandonments``
    [contacts]; ``contacts`` [contacts] with a known wait.
    """

    time_at_risk_s: float
    abandonments: int
    contacts: int

    @property
    def mean_patience_s(self) -> float:
        """Maximum-likelihood mean patience [s]: time at risk / abandonments.

        With zero abandonments the likelihood increases without bound in the
        mean, so there is no finite estimate: returns ``inf`` (customers
        never observed to hang up).
        """
        if self.abandonments == 0:
            return float("inf")
        return self.time_at_risk_s / self.abandonments


def patience_summary(wait_s: np.ndarray, abandoned: np.ndarray) -> PatienceSummary:
    """Censored-exponential patience statistics from per-contact waits [s] and abandon flags.

    Assumes patience is exponential (memoryless) and independent of the
    wait offered: a contact answered after waiting ``w`` had patience > ``w``
    (right-censored at ``w``); an abandoned one had patience = ``w``. The
    log-likelihood ``-A log(m) - T / m`` (``T`` = Σ w over all contacts,
    ``A`` = abandonments) is maximal at ``m = T / A``. Contacts with an
    unknown (NaN) wait are left out.
    """
    w = np.asarray(wait_s, dtype=float)
    ab = np.asarray(abandoned, dtype=bool)
    known = np.isfinite(w)
    return PatienceSummary(float(w[known].sum()), int(ab[known].sum()), int(known.sum()))


@dataclass(frozen=True)
class History:
    """Contact history on a grid of ``interval_min``-minute intervals.

    ``frame`` is long and dense over recorded days: one row per (interval,
    queue) for every interval of every recorded local day, sorted by queue
    then time, with columns ``interval_start`` (tz-aware, ``timezone``),
    ``queue``, ``offered`` [contacts], ``handled`` [contacts],
    ``aht_seconds`` [s] (NaN where no handle time is known) and ``abandoned``
    [contacts]. ``patience`` maps each queue to its :class:`PatienceSummary`
    when the file is per contact with ``abandoned`` and ``wait_seconds``
    (else None).
    """

    frame: pd.DataFrame
    timezone: str
    interval_min: int
    shape: str
    recorded_dates: tuple[dt.date, ...]
    gaps: tuple[dt.date, ...]
    unrecorded_weekdays: tuple[int, ...]
    has_aht: bool
    last_interval_start: pd.Timestamp
    source: str = ""
    patience: Mapping[str, PatienceSummary] | None = None

    @property
    def queues(self) -> tuple[str, ...]:
        """Queue names, sorted."""
        return tuple(sorted(self.frame["queue"].unique()))

    @property
    def first_date(self) -> dt.date:
        return self.recorded_dates[0]

    @property
    def last_date(self) -> dt.date:
        return self.recorded_dates[-1]

    @property
    def weeks(self) -> float:
        """Length of the recorded span [weeks]."""
        return ((self.last_date - self.first_date).days + 1) / 7

    def gap_report(self) -> dict[str, object]:
        """The gaps as plain data (for ``--json`` and logs)."""
        return {
            "first_date": str(self.first_date),
            "last_date": str(self.last_date),
            "recorded_days": len(self.recorded_dates),
            "missing_days": [str(d) for d in self.gaps],
            "weekdays_never_recorded": [WEEKDAYS[w] for w in self.unrecorded_weekdays],
        }

    def queue_frame(self, queue: str) -> pd.DataFrame:
        """The rows of one queue, in time order."""
        return self.frame[self.frame["queue"] == queue].reset_index(drop=True)


def _find(raw_cols: Iterable[str], name: str) -> str | None:
    lower = {str(c).strip().lower(): str(c) for c in raw_cols}
    for n in (name, *ALIASES.get(name, ())):
        if n.lower() in lower:
            return lower[n.lower()]
    return None


def _parse_times(
    values: pd.Series,
    tz: str,
    queue: pd.Series,
    path: Path,
    column: str,
    *,
    repeat_is_second: bool = False,
    date_format: str | None = None,
) -> pd.Series:
    """Parse timestamps to tz-aware times in ``tz``; naive values are local.

    Ambiguous local times (fall-back hour) are resolved per queue and local
    date by file order: the first pass is daylight time, the second standard
    (the second pass starts where the clock goes back, or — for per-interval
    files, ``repeat_is_second`` — repeats a time).
    """
    zone = check_timezone(tz)
    text = values.astype(str).str.strip()
    codes, uniques = pd.factorize(text)
    u = pd.Series(np.asarray(uniques, dtype=object))
    if date_format is None:
        has_off = u.str.contains(_OFFSET, regex=True).to_numpy()
        iso = u.str.fullmatch(ISO_TIMESTAMP.pattern).fillna(False).to_numpy(dtype=bool)
        aware = pd.to_datetime(u.where(has_off & iso), format="ISO8601", errors="coerce", utc=True)
        naive = pd.to_datetime(u.where(~has_off & iso), format="ISO8601", errors="coerce")
    else:  # the scenario declares this file's format
        has_off = np.full(len(u), "%z" in date_format)
        aware = pd.to_datetime(u.where(has_off), format=date_format, errors="coerce", utc=True)
        naive = pd.to_datetime(u.where(~has_off), format=date_format, errors="coerce")
    bad_u = (has_off & aware.isna().to_numpy()) | (~has_off & naive.isna().to_numpy())
    if bad_u.any():
        row = int(np.flatnonzero(bad_u[codes])[0])
        text_bad = str(values.iloc[row]).strip()
        ambiguous = date_format is None and SLASHED_DATE.fullmatch(text_bad) is not None
        raise InputError(
            "bad value",
            file=path,
            row=row + 2,
            column=column,
            expected=(
                f"a date-time in the declared format {date_format!r}"
                if date_format is not None
                else "an ISO 8601 date-time like 2026-12-01 08:30 (01/12/2026 could be 1 December "
                "or 12 January)"
                if ambiguous
                else _TS_EXPECTED
            ),
            found=values.iloc[row],
            hint=DATE_FORMAT_HINT,
        )
    local_u = naive.dt.tz_localize(zone, ambiguous="NaT", nonexistent="shift_forward")
    ambiguous_u = ~has_off & local_u.isna().to_numpy()
    out_u = aware.dt.tz_convert(zone).where(has_off, local_u)
    utc_ns = out_u.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")
    rows_ns = utc_ns[codes] if len(values) else np.array([], dtype="datetime64[ns]")
    amb_rows = np.flatnonzero(ambiguous_u[codes]) if len(values) else np.array([], dtype=np.int64)
    if len(amb_rows):
        wall = pd.Series(naive.to_numpy(dtype="datetime64[ns]")[codes[amb_rows]])
        key = pd.DataFrame(
            {
                "q": queue.iloc[amb_rows].to_numpy(),
                "d": wall.dt.date.to_numpy(),
                "w": wall.to_numpy(),
            }
        )
        went_back = key.groupby(["q", "d"], sort=False)["w"].transform(
            lambda s: (
                (s.diff() <= pd.Timedelta(0)) if repeat_is_second else (s.diff() < pd.Timedelta(0))
            ).cummax()
        )
        first_pass = ~went_back.to_numpy(dtype=bool)
        resolved = pd.DatetimeIndex(wall).tz_localize(zone, ambiguous=first_pass)
        rows_ns = rows_ns.copy()
        rows_ns[amb_rows] = (
            resolved.tz_convert("UTC").tz_localize(None).to_numpy(dtype="datetime64[ns]")
        )
    out = pd.Series(
        pd.DatetimeIndex(rows_ns).tz_localize("UTC").tz_convert(zone), index=values.index
    )
    return out


def _numbers_with_rows(
    raw: pd.DataFrame, src: str | None, name: str, path: Path, *, allow_empty: bool
) -> pd.Series:
    """Like :func:`_number` but row numbers in errors always refer to the file."""
    if src is None:
        return pd.Series(np.nan, index=raw.index, dtype=float)
    s = raw[src]
    text = s.astype(str).str.strip()
    if raw.attrs.get("decimal_comma"):
        text = decimal_points(text)
    num = pd.to_numeric(text.where(text != ""), errors="coerce").astype(float)
    bad = num.isna() & ((text != "") | (not allow_empty))
    bad |= np.isinf(num)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            "bad value",
            file=path,
            row=i + 2,
            column=src,
            expected="a number",
            found=s.iloc[i],
            hint="leave the cell empty where unknown" if allow_empty else None,
        )
    neg = num < 0
    if neg.any():
        i = int(np.flatnonzero(neg.to_numpy())[0])
        raise InputError(
            "negative value",
            file=path,
            row=i + 2,
            column=src,
            expected="a value >= 0",
            found=s.iloc[i],
            hint="counts and durations cannot be negative",
        )
    return num


def _counts(raw: pd.DataFrame, src: str | None, path: Path) -> pd.Series | None:
    if src is None:
        return None
    num = _numbers_with_rows(raw, src, src, path, allow_empty=False)
    frac = (num % 1) != 0
    if frac.any():
        i = int(np.flatnonzero(frac.to_numpy())[0])
        raise InputError(
            "bad value",
            file=path,
            row=i + 2,
            column=src,
            expected="a whole number of contacts",
            found=raw[src].iloc[i],
        )
    return num


def _queues(
    raw: pd.DataFrame, src: str | None, path: Path, allowed: tuple[str, ...] | None
) -> pd.Series:
    if src is None:
        return pd.Series(DEFAULT_QUEUE, index=raw.index, dtype=object)
    q = raw[src].astype(str).str.strip().astype(object)
    empty = q == ""
    if empty.any():
        i = int(np.flatnonzero(empty.to_numpy())[0])
        raise InputError(
            "missing queue name",
            file=path,
            row=i + 2,
            column=src,
            expected="a queue name",
            found="",
        )
    if allowed is not None:
        unknown = ~q.isin(allowed)
        if unknown.any():
            i = int(np.flatnonzero(unknown.to_numpy())[0])
            raise InputError(
                "unknown queue",
                file=path,
                row=i + 2,
                column=src,
                expected="one of " + ", ".join(allowed),
                found=q.iloc[i],
                hint="add a [queues.NAME] table to the scenario, or set history_name on the "
                "queue it belongs to",
            )
    return q


def _bools(raw: pd.DataFrame, src: str | None, path: Path) -> pd.Series | None:
    if src is None:
        return None
    return parse_column(raw[src], Column(src, "bool"), path)


def read_history(
    path: str | Path,
    *,
    timezone: str,
    interval_min: int,
    columns: Mapping[str, str] | None = None,
    queues: Iterable[str] | None = None,
    date_format: str | None = None,
) -> History:
    """Read a history file (CSV or Parquet) and aggregate it onto ``interval_min`` intervals.

    ``columns`` maps staffplan's column names to the file's (a scenario's
    ``[forecast] columns``); ``queues`` (when given) is the set of allowed
    queue names — any other name is an error; ``date_format`` (strptime)
    replaces ISO 8601 for the timestamps. Raises
    :class:`~staffplan.errors.InputError` with file, row and column on bad
    input.
    """
    p = Path(path)
    check_timezone(timezone)
    TimeGrid(dt.date(2000, 1, 3), 1, interval_min, timezone)  # validates interval_min
    raw = read_raw(p)
    if columns:
        raw = raw.rename(columns={v: k for k, v in columns.items()})
    raw.columns = [str(c).strip() for c in raw.columns]
    patience: dict[str, PatienceSummary] | None = None
    if len(raw) == 0:
        raise InputError(
            "history file has no rows", file=p, expected="at least one week of history"
        )
    allowed = tuple(sorted(set(queues))) if queues is not None else None
    cols = list(raw.columns)
    q_src = _find(cols, "queue")
    queue = _queues(raw, q_src, p, allowed)
    arrived = _find(cols, "arrived_at")
    start = _find(cols, "interval_start")
    if arrived is not None:
        shape = "per_contact"
        ts = _parse_times(raw[arrived], timezone, queue, p, arrived, date_format=date_format)
        handle = _numbers_with_rows(
            raw, _find(cols, "handle_seconds"), "handle_seconds", p, allow_empty=True
        )
        wait_src = _find(cols, "wait_seconds")
        wait = _numbers_with_rows(raw, wait_src, "wait_seconds", p, allow_empty=True)
        aband = _bools(raw, _find(cols, "abandoned"), p)
        ab = aband.to_numpy(dtype=bool) if aband is not None else np.zeros(len(raw), dtype=bool)
        if wait_src is not None and aband is not None:
            w = wait.to_numpy(dtype=float)
            qv = queue.to_numpy()
            patience = {
                str(name): patience_summary(w[qv == name], ab[qv == name])
                for name in sorted(set(qv.tolist()))
            }
        h = (~ab).astype(float)
        known = (~ab) & handle.notna().to_numpy()
        rows = pd.DataFrame(
            {
                "ts": ts,
                "queue": queue,
                "offered": 1.0,
                "handled": h,
                "abandoned": ab.astype(float),
                "aht_w": np.where(known, 1.0, 0.0),
                "aht_sum": np.where(known, handle.fillna(0).to_numpy(), 0.0),
            }
        )
        has_aht = bool(known.any())
    elif start is not None:
        shape = "per_interval"
        ts = _parse_times(
            raw[start], timezone, queue, p, start, repeat_is_second=True, date_format=date_format
        )
        dup = pd.DataFrame({"t": ts, "q": queue}).duplicated(keep=False).to_numpy()
        if dup.any():
            rows_dup = np.flatnonzero(dup)
            first = rows_dup[0]
            second = next(
                r
                for r in rows_dup[1:]
                if ts.iloc[r] == ts.iloc[first] and queue.iloc[r] == queue.iloc[first]
            )
            raise InputError(
                "duplicate interval",
                file=p,
                row=int(second) + 2,
                column=start,
                expected=f"one row per interval and queue (row {first + 2} has the same)",
                found=f"{raw[start].iloc[second]} / {queue.iloc[second]}",
                hint="sum duplicate rows, or check the file was not appended twice",
            )
        offered_src = _find(cols, "offered")
        if offered_src is None:
            raise InputError(
                "history has no column 'offered'",
                file=p,
                row=1,
                expected="a per-interval header with interval_start, queue, offered, handled, "
                "aht_seconds",
                found=", ".join(cols),
                hint="map your column names under [forecast] columns",
            )
        offered = _counts(raw, offered_src, p)
        assert offered is not None
        aband_c = _counts(raw, _find(cols, "abandoned"), p)
        abandoned = aband_c if aband_c is not None else pd.Series(0.0, index=raw.index)
        handled_c = _counts(raw, _find(cols, "handled"), p)
        handled = handled_c if handled_c is not None else (offered - abandoned).clip(lower=0)
        aht = _numbers_with_rows(
            raw, _find(cols, "aht_seconds"), "aht_seconds", p, allow_empty=True
        )
        known = aht.notna().to_numpy() & (handled.to_numpy() > 0)
        rows = pd.DataFrame(
            {
                "ts": ts,
                "queue": queue,
                "offered": offered.to_numpy(),
                "handled": handled.to_numpy(),
                "abandoned": abandoned.to_numpy(),
                "aht_w": np.where(known, handled.to_numpy(), 0.0),
                "aht_sum": np.where(known, handled.to_numpy() * aht.fillna(0).to_numpy(), 0.0),
            }
        )
        has_aht = bool(known.any())
        _check_resolution(ts, queue, interval_min, p, start)
    else:
        raise InputError(
            "cannot tell the history's shape",
            file=p,
            row=1,
            expected="per contact (arrived_at, queue, handle_seconds) or per interval "
            "(interval_start, queue, offered, handled, aht_seconds)",
            found=", ".join(cols),
            hint="map your column names under [forecast] columns",
        )
    return aggregate(
        rows,
        timezone=timezone,
        interval_min=interval_min,
        shape=shape,
        has_aht=has_aht,
        source=str(p),
        patience=patience,
    )


def _check_resolution(
    ts: pd.Series, queue: pd.Series, interval_min: int, path: Path, column: str
) -> None:
    """Refuse per-interval data coarser than the grid (it cannot be split)."""
    t = (
        pd.DatetimeIndex(ts)
        .tz_convert("UTC")
        .tz_localize(None)
        .to_numpy(dtype="datetime64[ns]")
        .astype(np.int64)
    )
    q = pd.factorize(queue)[0]
    order = np.lexsort((t, q))
    t, q = t[order], q[order]
    step = np.diff(t)[(np.diff(q) == 0)]
    step = step[step > 0]
    if len(step) and step.min() > interval_min * 60 * 10**9:
        found_min = int(step.min() // (60 * 10**9))
        raise InputError(
            "history is coarser than the planning grid",
            file=path,
            column=column,
            expected=f"intervals of at most {interval_min} minutes",
            found=f"{found_min}-minute intervals",
            hint=f"plan on a {found_min}-minute grid (interval_minutes / --interval-minutes) "
            "or supply finer history",
        )


def aggregate(
    rows: pd.DataFrame,
    *,
    timezone: str,
    interval_min: int,
    shape: str,
    has_aht: bool,
    source: str = "",
    patience: Mapping[str, PatienceSummary] | None = None,
) -> History:
    """Aggregate parsed rows onto the grid into a :class:`History`.

    ``rows`` has ``ts`` (tz-aware), ``queue``, ``offered``, ``handled``,
    ``abandoned`` [contacts], ``aht_w`` (handled contacts with a known handle
    time) and ``aht_sum`` (their total handle time [s]); ``patience`` is
    passed through to :attr:`History.patience`.
    """
    zone = check_timezone(timezone)
    ts = pd.DatetimeIndex(rows["ts"]).tz_convert(zone)
    local_dates = ts.tz_localize(None).normalize()
    first = local_dates.min().date()
    last = local_dates.max().date()
    grid = TimeGrid(first, (last - first).days + 1, interval_min, timezone)
    idx = grid.starts.searchsorted(ts, side="right") - 1
    day = grid.day_index[idx]
    recorded_days = np.unique(day)
    keep = np.isin(grid.day_index, recorded_days)
    slots = np.flatnonzero(keep)
    queues = sorted(rows["queue"].unique())
    qcode = pd.Categorical(rows["queue"], categories=queues).codes.astype(np.int64)
    n_q, n_i = len(queues), grid.n
    flat = qcode * n_i + idx
    sums = {}
    for col in ("offered", "handled", "abandoned", "aht_w", "aht_sum"):
        sums[col] = np.bincount(
            flat, weights=rows[col].to_numpy(dtype=float), minlength=n_q * n_i
        ).reshape(n_q, n_i)[:, slots]
    with np.errstate(invalid="ignore", divide="ignore"):
        aht = np.where(sums["aht_w"] > 0, sums["aht_sum"] / sums["aht_w"], np.nan)
    frame = pd.DataFrame(
        {
            "interval_start": pd.DatetimeIndex(
                np.tile(
                    grid.starts[slots]
                    .tz_convert("UTC")
                    .tz_localize(None)
                    .to_numpy(dtype="datetime64[ns]"),
                    n_q,
                )
            )
            .tz_localize("UTC")
            .tz_convert(zone),
            "queue": np.repeat(np.asarray(queues, dtype=object), len(slots)),
            "offered": sums["offered"].ravel(),
            "handled": sums["handled"].ravel(),
            "aht_seconds": aht.ravel(),
            "abandoned": sums["abandoned"].ravel(),
        }
    )
    frame["queue"] = frame["queue"].astype(str)
    dates = grid.dates()
    recorded = tuple(dates[d] for d in recorded_days)
    rec_wd = {d.weekday() for d in recorded}
    rec_set = set(recorded)
    gaps = tuple(d for d in dates if d not in rec_set and d.weekday() in rec_wd)
    unrecorded = tuple(w for w in range(7) if w not in rec_wd)
    last_start = grid.starts[int(idx.max())]
    return History(
        frame=frame,
        timezone=timezone,
        interval_min=interval_min,
        shape=shape,
        recorded_dates=recorded,
        gaps=gaps,
        unrecorded_weekdays=unrecorded,
        has_aht=has_aht,
        last_interval_start=last_start,
        source=source,
        patience=patience,
    )
