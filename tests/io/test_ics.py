import datetime as dt
from pathlib import Path

import pandas as pd
from icalendar import Calendar

from staffplan.io.ics import write_calendars

ROSTER = pd.DataFrame(
    {
        "agent_id": ["A1", "A1", "B/2"],
        "date": ["2026-12-07", "2026-12-08", "2026-12-07"],
        "shift": ["E", "L", "N"],
        "start": [
            "2026-12-07T08:00:00+01:00",
            "2026-12-08T14:00:00+01:00",
            "2026-12-07T22:00:00+01:00",
        ],
        "end": [
            "2026-12-07T16:30:00+01:00",
            "2026-12-08T22:30:00+01:00",
            "2026-12-08T06:00:00+01:00",
        ],
        "breaks": ["lunch 12:00-12:30", "", ""],
        "queues": ["voice|chat", "voice", "email"],
    }
)


def test_one_calendar_per_agent_with_exact_times(tmp_path: Path) -> None:
    paths = write_calendars(ROSTER, tmp_path, scenario="ex", first_day=dt.date(2026, 12, 7))
    assert [p.name for p in paths] == ["A1.ics", "B%2F2.ics"]
    cal = Calendar.from_ical(paths[0].read_bytes())
    events = list(cal.walk("VEVENT"))
    assert len(events) == 2
    first = events[0]
    assert first.decoded("dtstart") == pd.Timestamp("2026-12-07T07:00:00Z").to_pydatetime()
    assert first.decoded("dtend") == pd.Timestamp("2026-12-07T15:30:00Z").to_pydatetime()
    assert "voice, chat" in str(first["summary"])
    assert "lunch 12:00-12:30" in str(first["description"])
    night = Calendar.from_ical(paths[1].read_bytes()).walk("VEVENT")[0]
    assert night.decoded("dtend") - night.decoded("dtstart") == dt.timedelta(hours=8)


def test_calendars_are_deterministic(tmp_path: Path) -> None:
    a = write_calendars(ROSTER, tmp_path / "a", scenario="ex", first_day=dt.date(2026, 12, 7))
    b = write_calendars(ROSTER, tmp_path / "b", scenario="ex", first_day=dt.date(2026, 12, 7))
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
