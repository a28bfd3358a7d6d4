"""Spreadsheets in and out (openpyxl): safe cells on the way out, text cells on the way in.

Out: every string that a spreadsheet program could read as a formula (it
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is written
as a text cell with Excel's quote prefix, so an agent named
``=HYPERLINK(...)`` stays a name and never becomes a live formula.

In: the first sheet of an ``.xlsx`` workbook is read as a table of text, the
way a CSV file is: the first row is the header, numbers are written without a
trailing ``.0``, a date without a time is ``YYYY-MM-DD``, a date-time
``YYYY-MM-DD HH:MM[:SS]`` and a clock time ``HH:MM[:SS]``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from staffplan.errors import InputError
from staffplan.io.csv_cells import FORMULA_STARTS

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm")


def is_formula_like(value: object) -> bool:
    """True for a string a spreadsheet program could read as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def cell_value(value: Any) -> Any:
    """A frame value as openpyxl takes it: NaN/NA/NaT become empty, numpy scalars plain."""
    if value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item") and not isinstance(value, str | pd.Timestamp):
        value = value.item()
        if isinstance(value, float) and not math.isfinite(value):
            return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


def _local(v: Any) -> Any:
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        return v.replace(tzinfo=None)  # spreadsheets have no time zones: keep the local wall time
    return v


def _secure(cell: Any) -> Any:
    if isinstance(cell.value, str):
        cell.data_type = "s"  # never "f": a string is never a formula
        if is_formula_like(cell.value):
            cell.quotePrefix = True
    return cell


def put(ws: Any, row: int, column: int, value: Any) -> Any:
    """Set one cell; a formula-like string is stored as text (quote prefix). Returns the cell."""
    cell = ws.cell(row=row, column=column)
    cell.value = _local(cell_value(value))
    return _secure(cell)


def append(ws: Any, values: Iterable[Any]) -> list[Any]:
    """Append one row of safe cells; returns the row's cells."""
    row = [_local(cell_value(v)) for v in values]
    ws.append(row)
    n = ws._current_row  # the row just appended (ws.max_row would scan every cell)
    return [_secure(ws.cell(row=n, column=j)) for j in range(1, len(row) + 1)]


def write_frame(ws: Any, frame: pd.DataFrame) -> None:
    """Write ``frame`` (header row, then its rows) into an empty sheet, cell by cell, safely."""
    append(ws, [str(c) for c in frame.columns])
    for rec in frame.itertuples(index=False):
        append(ws, list(rec))


def write_frames(path: str | Path, sheets: Mapping[str, pd.DataFrame]) -> Path:
    """Write one sheet per frame (bold header, frozen first row) atomically."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from staffplan.io.atomic import write_with

    wb = Workbook()
    wb.remove(wb.active)
    for title, frame in sheets.items():
        ws = wb.create_sheet(title)
        write_frame(ws, frame)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
    return write_with(path, wb.save)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="minutes" if value.second == 0 else "seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M" if value.second == 0 else "%H:%M:%S")
    if isinstance(value, dt.timedelta):  # a duration typed as [h]:mm
        minutes = round(value.total_seconds() / 60)
        return f"{minutes // 60:02d}:{minutes % 60:02d}"
    return str(value).strip()


def read_sheet(path: str | Path) -> pd.DataFrame:
    """The first sheet of an .xlsx workbook as a frame of strings (header = first row).

    Empty rows are skipped; formulas give their cached values.
    """
    from openpyxl import load_workbook

    p = Path(path)
    with open(p, "rb") as fh:  # a file object: the content decides, not the name's suffix
        try:
            wb = load_workbook(fh, read_only=True, data_only=True)
            ws = wb.worksheets[0]
            rows = [[_text(v) for v in r] for r in ws.iter_rows(values_only=True)]
            wb.close()
        except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a bad file
            raise InputError(
                f"cannot read workbook ({type(exc).__name__}: {exc})",
                file=p,
                hint="save it from a spreadsheet program as .xlsx, or as CSV UTF-8",
            ) from None
    rows = [r for r in rows if any(c != "" for c in r)]
    if not rows:
        raise InputError("empty sheet", file=p, expected="a header row and data rows")
    header = rows[0]
    while header and header[-1] == "":
        header = header[:-1]
    width = len(header)
    body = [(r + [""] * width)[:width] for r in rows[1:]]
    return pd.DataFrame(body, columns=header, dtype=object).astype(str)
