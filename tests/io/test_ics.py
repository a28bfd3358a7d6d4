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


def _one_shift(agent_ids: list[str]) -> pd.DataFrame:
    n = len(agent_ids)
    return pd.DataFrame(
        {
            "agent_id": agent_ids,
            "date": ["2026-12-07"] * n,
            "shift": [f"S{i}" for i in range(n)],
            "start": ["2026-12-07T08:00:00+01:00"] * n,
            "end": ["2026-12-07T16:00:00+01:00"] * n,
            "breaks": [""] * n,
            "queues": ["voice"] * n,
        }
    )


def test_ids_that_differ_only_in_unsafe_characters_get_distinct_files(tmp_path: Path) -> None:
    ids = ["AÑ1", "AÜ1", "A 1", "A_1", "A/1", "a_1", "..", "CON"]
    paths = write_calendars(
        _one_shift(ids), tmp_path, scenario="ex", first_day=dt.date(2026, 12, 7)
    )
    assert len({p.name.lower() for p in paths}) == len(ids)  # distinct even ignoring case
    assert all(p.parent == tmp_path and not p.name.startswith(".") for p in paths)
    owners = {}
    for p in paths:
        cal = Calendar.from_ical(p.read_bytes())
        owners[p.name] = str(cal["x-wr-calname"])
        (event,) = cal.walk("VEVENT")
        shift = str(event["summary"]).split()[1]
        assert ids[int(shift[1:])] in owners[p.name]  # each file holds its own agent's shift
    uids = {str(Calendar.from_ical(p.read_bytes()).walk("VEVENT")[0]["uid"]) for p in paths}
    assert len(uids) == len(ids)


def test_calendars_of_agents_no_longer_rostered_are_removed(tmp_path: Path) -> None:
    first = dt.date(2026, 12, 7)
    write_calendars(_one_shift(["A1", "A2", "A3"]), tmp_path, scenario="ex", first_day=first)
    (tmp_path / "notes.txt").write_text("kept")
    write_calendars(_one_shift(["A1", "A3"]), tmp_path, scenario="ex", first_day=first)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["A1.ics", "A3.ics", "notes.txt"]
