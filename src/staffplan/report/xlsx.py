"""The roster workbook managers print: one row per agent, one column per day (openpyxl).

Sheet ``roster``: a cell per agent and day — the shift and its times with one
line per break on worked days, the absence kind on absent days, ``off``
otherwise — coloured per shift template (absences red, days off grey),
then a headcount block (agents working per day, and per template). It prints
landscape on one page width, the header row repeated on every page.
Sheets ``coverage`` and ``kpis`` hold real date-times (local wall time) and
numbers with display formats. Every text cell is written safely
(:mod:`staffplan.io.spreadsheet`): a name is never a live formula.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from staffplan.io.atomic import write_with
from staffplan.io.spreadsheet import append
from staffplan.io.team import ABSENCE_KINDS, Absence
from staffplan.timegrid import TimeGrid

#: fill colours given to shift templates in sorted order (light, print-friendly)
TEMPLATE_FILLS = (
    "DCE9F7",
    "FCE4C4",
    "D9F0DF",
    "EADCF5",
    "FFF3B0",
    "D4EEF2",
    "F8D9E4",
    "E3E3CF",
)
OFF_FILL = "E6E6E6"
ABSENCE_FILL = "F8D0D0"
OFF_TEXT = "off"
#: agent columns before the day columns, and after them
LEAD_COLUMNS = ("agent_id", "name", "team", "contract")
TAIL_COLUMNS = ("paid_hours",)

#: display formats of known KPI columns (fractions as percentages, seconds and counts rounded)
NUMBER_FORMATS = {
    "service_level": "0.0%",
    "p_wait": "0.0%",
    "occupancy": "0.0%",
    "abandon_rate": "0.0%",
    "asa_s": "0.0",
    "aht_seconds": "0.0",
    "volume": "#,##0.0",
    "agent_hours": "#,##0.0",
    "agents": "0.0",
    "required": "0",
    "scheduled": "0",
    "difference": "0",
    "paid_hours": "0.0",
}
DATETIME_FORMAT = "ddd yyyy-mm-dd hh:mm"


def _clock(ts: object) -> str:
    return pd.Timestamp(ts).strftime("%H:%M")


def _break_lines(text: object) -> list[str]:
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return []
    return [b.strip() for b in str(text).split(";") if b.strip()]


def absence_days(absences: Sequence[Absence], grid: TimeGrid) -> pd.DataFrame:
    """Agent-days an absence takes (it covers the day's noon): ``agent_id``, ``date`` (ISO),
    ``kind``, for the grid's absence cells.
    """
    rows = []
    for ab in absences:
        for d in grid.dates():
            d0 = grid.local_midnight(d)
            d1 = grid.local_midnight(d + dt.timedelta(days=1))
            if ab.start < d1 and d0 < ab.end and ab.start <= d0 + pd.Timedelta(hours=12) <= ab.end:
                rows.append((ab.agent_id, d.isoformat(), ab.kind))
    return pd.DataFrame(rows, columns=["agent_id", "date", "kind"]).drop_duplicates(
        ["agent_id", "date"]
    )


def grid_frame(
    roster: pd.DataFrame,
    agents: pd.DataFrame,
    dates: list[dt.date],
    absences: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Agent × day text grid.

    A worked day is ``SHIFT HH:MM-HH:MM`` and, when the roster has a
    ``breaks`` column, one more line per break (``lunch 12:00-12:30``); an
    absent day is the absence kind; any other day is ``off``. ``agents`` has
    agent_id, name, team, contract, paid_hours; ``absences`` (optional)
    agent_id, date (ISO), kind for whole-day absences.
    """
    cells: dict[tuple[str, str], str] = {}
    if absences is not None:
        for r in absences.itertuples(index=False):
            cells[(str(r.agent_id), str(r.date))] = str(r.kind)
    has_breaks = "breaks" in roster.columns
    for r in roster.itertuples(index=False):
        lines = [f"{r.shift} {_clock(r.start)}-{_clock(r.end)}"]
        if has_breaks:
            lines.extend(_break_lines(r.breaks))
        cells[(str(r.agent_id), str(r.date))] = "\n".join(lines)
    rows = []
    for a in agents.itertuples(index=False):
        row = {"agent_id": a.agent_id, "name": a.name, "team": a.team, "contract": a.contract}
        for d in dates:
            row[f"{d.strftime('%a')} {d.isoformat()}"] = cells.get(
                (str(a.agent_id), d.isoformat()), OFF_TEXT
            )
        row["paid_hours"] = a.paid_hours
        rows.append(row)
    return pd.DataFrame(rows)


def cell_kind(text: str) -> str:
    """``off``, ``absence`` or the shift template of a grid cell."""
    if text == OFF_TEXT or not text:
        return "off"
    if text in ABSENCE_KINDS:
        return "absence"
    return text.split(" ", 1)[0]


def _day_columns(grid: pd.DataFrame) -> list[str]:
    return [c for c in grid.columns if c not in LEAD_COLUMNS and c not in TAIL_COLUMNS]


def headcount(grid: pd.DataFrame) -> pd.DataFrame:
    """Agents working per day (row ``working``), then per shift template (rows by template id)."""
    days = _day_columns(grid)
    kinds = grid[days].map(lambda v: cell_kind(str(v)))
    templates = sorted({k for k in kinds.to_numpy().ravel() if k not in ("off", "absence")})
    rows = {"working": [int((~kinds[d].isin(["off", "absence"])).sum()) for d in days]}
    for t in templates:
        rows[t] = [int((kinds[d] == t).sum()) for d in days]
    return pd.DataFrame.from_dict(rows, orient="index", columns=days)


def _roster_sheet(ws: object, grid: pd.DataFrame) -> None:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    ws.title = "roster"  # type: ignore[attr-defined]
    header = append(ws, [str(c) for c in grid.columns])
    bold = Font(bold=True)
    thin = Side(style="thin", color="BBBBBB")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    top = Alignment(horizontal="center", vertical="top", wrap_text=True)
    for cell in header:
        cell.font = bold
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = box
    days = _day_columns(grid)
    first_day = len(LEAD_COLUMNS) + 1
    kinds = sorted(
        {cell_kind(str(v)) for d in days for v in grid[d]} - {"off", "absence"},
    )
    fills = {
        k: PatternFill("solid", fgColor=TEMPLATE_FILLS[i % len(TEMPLATE_FILLS)])
        for i, k in enumerate(kinds)
    }
    fills["off"] = PatternFill("solid", fgColor=OFF_FILL)
    fills["absence"] = PatternFill("solid", fgColor=ABSENCE_FILL)
    for values in grid.itertuples(index=False):
        for j, cell in enumerate(append(ws, list(values)), start=1):
            cell.border = box
            if first_day <= j < first_day + len(days):
                cell.fill = fills[cell_kind(str(cell.value or ""))]
                cell.alignment = top
                if cell.value == OFF_TEXT:
                    cell.font = Font(color="777777", italic=True)
            elif j == len(grid.columns):
                cell.number_format = NUMBER_FORMATS["paid_hours"]
            else:
                cell.alignment = Alignment(vertical="top")
    counts = headcount(grid)
    append(ws, [])
    for label, rec in counts.iterrows():
        title = "agents working" if label == "working" else f"on {label}"
        for cell in append(ws, ["headcount", title, "", "", *rec.tolist()]):
            cell.font = bold if label == "working" else Font()
            if cell.column >= first_day:
                cell.alignment = Alignment(horizontal="center")
                if label != "working":
                    cell.fill = fills.get(str(label), PatternFill())
    widths = {"agent_id": 9, "name": 20, "team": 12, "contract": 9, "paid_hours": 8}
    for i, col in enumerate(grid.columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = widths.get(col, 17)  # type: ignore[attr-defined]
    ws.freeze_panes = ws.cell(2, first_day)  # type: ignore[attr-defined]
    setup = ws.page_setup  # type: ignore[attr-defined]
    setup.orientation = "landscape"
    setup.fitToWidth = 1
    setup.fitToHeight = 0  # as many pages tall as needed
    ws.sheet_properties.pageSetUpPr.fitToPage = True  # type: ignore[attr-defined]
    ws.print_title_rows = "1:1"  # type: ignore[attr-defined]
    ws.print_options.horizontalCentered = True  # type: ignore[attr-defined]
    ws.page_margins.left = ws.page_margins.right = 0.4  # type: ignore[attr-defined]


def _as_datetime(series: pd.Series) -> pd.Series:
    """ISO 8601 text (with offset) or tz-aware times as naive local wall-clock date-times."""
    out = []
    for v in series:
        if v is None or (isinstance(v, float) and pd.isna(v)):
            out.append(None)
            continue
        t = pd.Timestamp(v)
        out.append((t.tz_localize(None) if t.tzinfo is not None else t).to_pydatetime())
    return pd.Series(out, index=series.index, dtype=object)


def _table_sheet(ws: object, frame: pd.DataFrame) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    frame = frame.copy()
    for c in frame.columns:
        if c == "interval_start" or str(c).endswith("_time"):
            frame[c] = _as_datetime(frame[c])
    for cell in append(ws, [str(c) for c in frame.columns]):
        cell.font = Font(bold=True)
    for rec in frame.itertuples(index=False):
        for c, cell in zip(frame.columns, append(ws, list(rec)), strict=True):
            if isinstance(cell.value, dt.datetime):
                cell.number_format = DATETIME_FORMAT
            elif c in NUMBER_FORMATS and isinstance(cell.value, int | float):
                cell.number_format = NUMBER_FORMATS[c]
    for i, c in enumerate(frame.columns, start=1):
        width = 22 if c == "interval_start" else max(10, len(str(c)) + 2)
        ws.column_dimensions[get_column_letter(i)].width = width  # type: ignore[attr-defined]
    ws.freeze_panes = "B2"  # type: ignore[attr-defined]
    ws.page_setup.orientation = "landscape"  # type: ignore[attr-defined]
    ws.page_setup.fitToWidth = 1  # type: ignore[attr-defined]
    ws.page_setup.fitToHeight = 0  # type: ignore[attr-defined]
    ws.sheet_properties.pageSetUpPr.fitToPage = True  # type: ignore[attr-defined]
    ws.print_title_rows = "1:1"  # type: ignore[attr-defined]


def write_roster_xlsx(
    path: str | Path,
    grid: pd.DataFrame,
    coverage: pd.DataFrame | None = None,
    week: pd.DataFrame | None = None,
    extra: Mapping[str, pd.DataFrame] | None = None,
) -> Path:
    """Write the grid (sheet ``roster``), plus ``coverage`` and ``kpis`` sheets when given and one
    sheet per ``extra`` item (title -> table), atomically.
    """
    from openpyxl import Workbook

    wb = Workbook()
    _roster_sheet(wb.active, grid)
    for title, frame in (("coverage", coverage), ("kpis", week), *(extra or {}).items()):
        if frame is not None:
            _table_sheet(wb.create_sheet(title), frame)
    return write_with(path, wb.save)
