"""Cover settings and inputs: ``--absent`` and ``--now`` parsing (DST included), the ``[cover]``
table's validation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from staffplan.cover.settings import CoverSettings, cover_settings, parse_absent, parse_now
from staffplan.errors import InputError, ScenarioError
from staffplan.timegrid import TimeGrid

GRID = TimeGrid(dt.date(2026, 11, 30), 7, 15, "Europe/Madrid")


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_localize("Europe/Madrid")


def test_parse_absent_whole_day_and_span() -> None:
    a = parse_absent("A17:2026-12-02", GRID)
    assert (a.agent_id, a.start, a.end, a.kind) == (
        "A17",
        ts("2026-12-02"),
        ts("2026-12-03"),
        "sick",
    )
    b = parse_absent("A03:2026-12-02T12:00/2026-12-03", GRID, kind="other")
    assert (b.start, b.end, b.kind) == (ts("2026-12-02 12:00"), ts("2026-12-04"), "other")
    c = parse_absent("A03:2026-12-02T12:00/2026-12-02T16:30", GRID)
    assert c.end == ts("2026-12-02 16:30")
    assert c.overlaps(ts("2026-12-02 16:00"), ts("2026-12-02 20:00"))
    assert not c.overlaps(ts("2026-12-02 16:30"), ts("2026-12-02 20:00"))


def test_parse_absent_across_dst_end() -> None:
    grid = TimeGrid(dt.date(2026, 10, 19), 14, 15, "Europe/Madrid")  # 25 October has 25 hours
    a = parse_absent("A1:2026-10-25", grid)
    assert (a.end - a.start) == pd.Timedelta(hours=25)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("A17", "bad absence"),
        ("A17:", "bad absence"),
        (":2026-12-02", "bad absence"),
        ("A17:2026-13-02", "bad date or time"),
        ("A17:2026-12-02T12:00", "without an end"),
        ("A17:2026-12-03/2026-12-02", "ends before it starts"),
        ("A17:2026-12-02T12:00/2026-12-02T12:00", "ends before it starts"),
        ("A17:2027-01-05", "outside the planning horizon"),
        ("A17:2026-12-02/tomorrow", "bad date or time"),
    ],
)
def test_parse_absent_errors(text: str, match: str) -> None:
    with pytest.raises(InputError, match=match) as info:
        parse_absent(text, GRID)
    assert info.value.column == "--absent"
    assert text in str(info.value)


def test_parse_now() -> None:
    assert parse_now("2026-12-02T07:00", GRID) == ts("2026-12-02 07:00")
    assert parse_now("2026-12-02T07:00+00:00", GRID) == ts("2026-12-02 08:00")
    with pytest.raises(InputError, match="bad time"):
        parse_now("7am", GRID)
    with pytest.raises(InputError, match="after the planning horizon"):
        parse_now("2026-12-07T00:00", GRID)


def test_cover_settings_validation(tmp_path: Path) -> None:
    f = tmp_path / "scenario.toml"
    assert cover_settings({}, file=f) == CoverSettings()
    assert cover_settings({"max_overtime_min": 60, "callin_cost": 250}, file=f).callin_cost == 250.0
    with pytest.raises(ScenarioError, match="unknown key"):
        cover_settings({"overtime": 60}, file=f)
    with pytest.raises(ScenarioError, match="wrong type"):
        cover_settings({"allow_callin": "yes"}, file=f)
    with pytest.raises(ScenarioError, match="out of range"):
        cover_settings({"move_cost": -1}, file=f)
