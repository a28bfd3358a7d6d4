"""The roster workbook prints on one landscape page width and reads like a paper roster."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from openpyxl import load_workbook

from staffplan.report.xlsx import grid_frame, write_roster_xlsx

DATES = [dt.date(2026, 12, 7) + dt.timedelta(days=d) for d in range(3)]
ROSTER = pd.DataFrame(
    {
        "agent_id": ["A1", "A1", "A2", "A3"],
        "date": ["2026-12-07", "2026-12-08", "2026-12-07", "2026-12-09"],
        "shift": ["E8", "L8", "L8", "E8"],
        "start": [
            "2026-12-07T07:00:00+01:00",
            "2026-12-08T14:00:00+01:00",
            "2026-12-07T14:00:00+01:00",
            "2026-12-09T07:00:00+01:00",
        ],
        "end": [
            "2026-12-07T15:30:00+01:00",
            "2026-12-08T22:30:00+01:00",
            "2026-12-07T22:30:00+01:00",
            "2026-12-09T15:30:00+01:00",
        ],
        "breaks": ["coffee 09:00-09:15;lunch 11:30-12:00", "", "lunch 18:00-18:30", ""],
    }
)
AGENTS = pd.DataFrame(
    {
        "agent_id": ["A1", "A2", "A3"],
        "name": ['=HYPERLINK("http://x","click")', "Bo", "Cy"],
        "team": ["t", "t", "t"],
        "contract": ["C", "C", "C"],
        "paid_hours": [16.0, 8.0, 8.0],
    }
)
ABSENT = pd.DataFrame({"agent_id": ["A2"], "date": ["2026-12-08"], "kind": ["vacation"]})
COVERAGE = pd.DataFrame(
    {
        "interval_start": ["2026-12-07T08:00:00+01:00", "2026-12-07T08:15:00+01:00"],
        "queue": ["voice", "voice"],
        "required": [3, 4],
        "scheduled": [3, 2],
        "difference": [0, -2],
    }
)
WEEK = pd.DataFrame(
    {
        "queue": ["voice", "all"],
        "volume": [1234.5678, 1234.5678],
        "service_level": [0.98172670, 0.98172670],
        "asa_s": [3.14159, 3.14159],
        "occupancy": [0.7, 0.7],
    }
)


def _book(tmp_path: Path) -> object:
    grid = grid_frame(ROSTER, AGENTS, DATES, ABSENT)
    return load_workbook(write_roster_xlsx(tmp_path / "r.xlsx", grid, COVERAGE, WEEK))


def test_roster_sheet_prints_landscape_on_one_page_width(tmp_path: Path) -> None:
    ws = _book(tmp_path)["roster"]
    assert ws.page_setup.orientation == "landscape"
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
    assert ws.print_title_rows == "$1:$1"  # the header row on every page


def test_cells_show_shift_breaks_off_days_and_absences_in_colour(tmp_path: Path) -> None:
    ws = _book(tmp_path)["roster"]
    header = [c.value for c in ws[1]]
    assert header[:5] == ["agent_id", "name", "team", "contract", "Mon 2026-12-07"]
    a1 = {header[i]: c for i, c in enumerate(ws[2])}
    a2 = {header[i]: c for i, c in enumerate(ws[3])}
    assert a1["Mon 2026-12-07"].value == "E8 07:00-15:30\ncoffee 09:00-09:15\nlunch 11:30-12:00"
    assert a1["Mon 2026-12-07"].alignment.wrap_text
    assert a1["Wed 2026-12-09"].value == "off"
    assert a2["Tue 2026-12-08"].value == "vacation"
    fills = {
        k: c.fill.fgColor.rgb
        for k, c in (
            ("E8", a1["Mon 2026-12-07"]),
            ("L8", a1["Tue 2026-12-08"]),
            ("off", a1["Wed 2026-12-09"]),
            ("absence", a2["Tue 2026-12-08"]),
        )
    }
    assert len(set(fills.values())) == 4  # one colour per shift type, off days, absences
    assert ws["A3"].value == "A2" and a1["name"].data_type == "s"  # a name is never a formula


def test_headcount_rows_count_agents_per_day_and_template(tmp_path: Path) -> None:
    ws = _book(tmp_path)["roster"]
    rows = {r[1].value: [c.value for c in r[4:7]] for r in ws.iter_rows(min_row=5) if r[0].value}
    assert rows["agents working"] == [2, 1, 1]
    assert rows["on E8"] == [1, 0, 1]
    assert rows["on L8"] == [1, 1, 0]


def test_kpi_sheets_hold_real_times_and_formatted_numbers(tmp_path: Path) -> None:
    book = _book(tmp_path)
    cov = book["coverage"]
    assert cov["A2"].value == dt.datetime(2026, 12, 7, 8, 0)  # local wall time, not text
    assert "hh:mm" in cov["A2"].number_format
    kp = book["kpis"]
    head = [c.value for c in kp[1]]
    sl = kp.cell(2, head.index("service_level") + 1)
    # the frame's own value, kept as a number (not rounded text) under a percent format
    assert sl.value == 0.9817267 and sl.number_format == "0.0%"
    assert kp.cell(2, head.index("asa_s") + 1).number_format == "0.0"
    assert kp.cell(2, head.index("volume") + 1).number_format == "#,##0.0"
    assert kp.page_setup.orientation == "landscape"
