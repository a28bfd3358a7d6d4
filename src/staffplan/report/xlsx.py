"""The classic roster workbook: one row per agent, one column per day (openpyxl)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from staffplan.io.atomic import write_with
from staffplan.io.team import Absence
from staffplan.timegrid import TimeGrid


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
    """Agent × day text grid: ``SHIFT HH:MM-HH:MM`` on worked days, the absence kind on absent days,
    blank otherwise.

    ``agents`` has agent_id, name, team, contract, paid_hours; ``absences``
    (optional) agent_id, date (ISO), kind for whole-day absences.
    """
    cells: dict[tuple[str, str], str] = {}
    if absences is not None:
        for r in absences.itertuples(index=False):
            cells[(str(r.agent_id), str(r.date))] = str(r.kind)
    for r in roster.itertuples(index=False):
        s, e = pd.Timestamp(r.start), pd.Timestamp(r.end)
        cells[(str(r.agent_id), str(r.date))] = (
            f"{r.shift} {s.strftime('%H:%M')}-{e.strftime('%H:%M')}"
        )
    rows = []
    for a in agents.itertuples(index=False):
        row = {"agent_id": a.agent_id, "name": a.name, "team": a.team, "contract": a.contract}
        for d in dates:
            row[f"{d.strftime('%a')} {d.isoformat()}"] = cells.get(
                (str(a.agent_id), d.isoformat()), ""
            )
        row["paid_hours"] = a.paid_hours
        rows.append(row)
    return pd.DataFrame(rows)


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
    from openpyxl.styles import Alignment, Font, PatternFill

    wb = Workbook()
    ws = wb.active
    ws.title = "roster"
    ws.append(list(grid.columns))
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
    late_fill = PatternFill("solid", fgColor="FFE4C4")
    off_fill = PatternFill("solid", fgColor="DDDDDD")
    for values in grid.itertuples(index=False):
        ws.append(list(values))
        row = ws[ws.max_row]
        for cell in row[4:-1]:
            text = str(cell.value or "")
            if text and ":" not in text:
                cell.fill = off_fill
            elif text.startswith("L"):
                cell.fill = late_fill
    for i, col in enumerate(grid.columns, start=1):
        ws.column_dimensions[ws.cell(1, i).column_letter].width = max(
            10, min(24, len(str(col)) + 2)
        )
    ws.freeze_panes = "E2"
    for title, frame in (("coverage", coverage), ("kpis", week), *(extra or {}).items()):
        if frame is None:
            continue
        sh = wb.create_sheet(title)
        sh.append(list(frame.columns))
        for values in frame.itertuples(index=False):
            sh.append([v if not isinstance(v, float) or v == v else None for v in values])
    return write_with(path, wb.save)
