import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from staffplan.errors import InputError
from staffplan.timegrid import TimeGrid, TimestampParseError, parse_timestamps


def test_plain_week_has_672_quarter_hours() -> None:
    g = TimeGrid(dt.date(2026, 12, 7), 7, 15, "Europe/Madrid")
    assert g.n == 672
    assert list(np.diff(g.day_offsets)) == [96] * 7
    assert g.weekday[0] == 0 and g.weekday[-1] == 6
    assert g.minute_of_day[95] == 23 * 60 + 45


@pytest.mark.parametrize(
    ("start", "day", "hours"),
    [(dt.date(2026, 3, 23), 6, 23), (dt.date(2026, 10, 19), 6, 25)],
)
def test_dst_days_have_23_or_25_hours(start: dt.date, day: int, hours: int) -> None:
    g = TimeGrid(start, 7, 15, "Europe/Madrid")
    per_day = np.diff(g.day_offsets)
    assert per_day[day] == hours * 4
    assert per_day.sum() == g.n == (6 * 24 + hours) * 4
    # elapsed time between consecutive starts is always the interval length
    steps = pd.Series(g.starts.tz_convert("UTC")).diff().dropna()
    assert (steps == pd.Timedelta(minutes=15)).all()


def test_index_and_spans() -> None:
    g = TimeGrid(dt.date(2026, 12, 7), 7, 15, "Europe/Madrid")
    assert g.index_of("2026-12-07 08:00") == 32
    assert g.index_of("2026-12-07 08:14") == 32
    assert g.index_of(pd.Timestamp("2026-12-07 07:00", tz="UTC")) == 32  # 08:00 in Madrid
    assert g.span(0, 8 * 60, 16 * 60) == (32, 64)
    assert g.span(6, 22 * 60, 30 * 60) == (
        6 * 96 + 88,
        672,
    )  # night shift clipped at the horizon end
    with pytest.raises(InputError):
        g.index_of("2026-12-14 00:00")


def test_bad_grid_values_are_clear_errors() -> None:
    with pytest.raises(InputError, match="interval"):
        TimeGrid(dt.date(2026, 12, 7), 7, 17, "UTC")
    with pytest.raises(InputError, match="timezone"):
        TimeGrid(dt.date(2026, 12, 7), 7, 15, "Mars/Olympus")


def test_parse_naive_and_offset_timestamps() -> None:
    s = pd.Series(["2026-10-25 02:30", "2026-10-25T01:00:00+00:00", "2026-03-29 02:30"])
    out = parse_timestamps(s, "Europe/Madrid")
    assert str(out[0]) == "2026-10-25 02:30:00+02:00"  # ambiguous: first occurrence
    assert str(out[1]) == "2026-10-25 02:00:00+01:00"
    assert str(out[2]) == "2026-03-29 03:00:00+02:00"  # nonexistent: shifted forward
    with pytest.raises(TimestampParseError) as exc:
        parse_timestamps(pd.Series(["2026-01-01 00:00", "yesterday"]), "UTC")
    assert exc.value.index == 1


@settings(deadline=None)
@given(
    st.integers(0, 60),
    st.sampled_from([15, 30, 60]),
    st.sampled_from(["UTC", "Europe/Madrid", "America/New_York", "Australia/Sydney"]),
)
def test_every_interval_maps_back_to_itself(offset: int, step: int, tz: str) -> None:
    g = TimeGrid(dt.date(2026, 1, 5) + dt.timedelta(days=offset * 5), 7, step, tz)
    idx = np.arange(0, g.n, max(1, g.n // 17))
    for i in idx:
        assert g.index_of(g.starts[i]) == i
    assert g.day_offsets[-1] == g.n
    assert (np.diff(g.day_index) >= 0).all()
