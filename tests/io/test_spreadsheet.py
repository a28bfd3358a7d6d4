"""Spreadsheet cells: never a live formula on the way out; text as a CSV gives it on the way in."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

from staffplan.io.spreadsheet import is_formula_like, read_sheet, write_frames

DANGEROUS = [
    '=HYPERLINK("http://example.com","click")',
    "=1+1",
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
]


@pytest.mark.parametrize("text", DANGEROUS)
def test_formula_like_text_is_written_as_quoted_text(tmp_path: Path, text: str) -> None:
    path = write_frames(tmp_path / "x.xlsx", {"s": pd.DataFrame({text: [text, "plain"]})})
    ws = load_workbook(path)["s"]
    for cell in (ws["A1"], ws["A2"]):
        # XML reads a carriage return back as a line feed; the cell stays text
        assert cell.value in (text, text.replace("\r", "\n"))
        assert cell.data_type == "s" and cell.quotePrefix
    assert ws["A3"].value == "plain" and not ws["A3"].quotePrefix
    sheet_xml = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml  # no formula element anywhere in the file


def test_is_formula_like() -> None:
    assert all(is_formula_like(t) for t in DANGEROUS)
    assert not any(is_formula_like(t) for t in ("A01", "Ana", " =x", "", 3, None))


def test_numbers_dates_and_blanks_keep_their_types(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "n": [1, 2],
            "x": [0.5, float("nan")],
            "t": [pd.Timestamp("2026-12-07T08:00:00+01:00"), pd.NaT],
        }
    )
    ws = load_workbook(write_frames(tmp_path / "x.xlsx", {"s": frame}))["s"]
    assert [c.value for c in ws[2]] == [1, 0.5, dt.datetime(2026, 12, 7, 8, 0)]
    assert [c.value for c in ws[3]] == [2, None, None]


def test_a_sheet_reads_as_the_text_a_csv_would_hold(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["agent_id", "hours", "cost", "day", "at", "clock", "flag", "blank"])
    ws.append(
        [
            "A1",
            37,
            19.07,
            dt.datetime(2026, 12, 7),
            dt.datetime(2026, 12, 7, 8, 30),
            dt.time(6, 30),
            True,
            None,
        ]
    )
    ws.append([None] * 8)  # an empty row (formatting left behind) is skipped
    wb.save(tmp_path / "t.xlsx")
    frame = read_sheet(tmp_path / "t.xlsx")
    assert frame.to_dict("records") == [
        {
            "agent_id": "A1",
            "hours": "37",
            "cost": "19.07",
            "day": "2026-12-07",
            "at": "2026-12-07 08:30",
            "clock": "06:30",
            "flag": "true",
            "blank": "",
        }
    ]
