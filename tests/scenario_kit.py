"""A tiny, fast scenario folder for end-to-end command tests (imported by tests).

One voice queue on an hourly grid, three weeks of synthetic history (a
deterministic daily profile), a handful of agents on one 8-hour template, so
``staffplan run`` finishes in seconds. Callers override any file's rows.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Sequence
from pathlib import Path

START = dt.date(2026, 12, 7)  # a Monday
HISTORY_WEEKS = 3

AGENTS = (
    ("A1", "Ana Ruiz", "t", "C", "voice:1", "15"),
    ("A2", "Bo Li", "t", "C", "voice:1", "15"),
    ("A3", "Cy Oz", "t", "C", "voice:1", "15"),
    ("A4", "Di Vo", "t", "C", "voice:1", "15"),
)


def _csv(path: Path, header: str, rows: Sequence[Sequence[object]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(header.split(","))
        out.writerows(rows)


def history_rows(start: dt.date = START, weeks: int = HISTORY_WEEKS) -> list[tuple[object, ...]]:
    """Hourly voice volumes for ``weeks`` weeks before ``start`` (08:00-19:00 open)."""
    rows: list[tuple[object, ...]] = []
    first = start - dt.timedelta(days=7 * weeks)
    for d in range(7 * weeks):
        day = first + dt.timedelta(days=d)
        for h in range(24):
            calls = 0 if not 8 <= h < 20 else 20 + 10 * (h % 4)
            rows.append((f"{day.isoformat()}T{h:02d}:00:00", "voice", calls, calls, 180, 0))
    return rows


def tiny_scenario(
    folder: Path,
    *,
    agents: Sequence[Sequence[object]] = AGENTS,
    absences: Sequence[Sequence[object]] = (),
    extra_toml: str = "",
    data_toml: str = "",
    name: str | None = None,
    time_limit_s: float = 1.0,
) -> Path:
    """Write the scenario folder and return its scenario.toml path."""
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    _csv(
        data / "history.csv",
        "interval_start,queue,offered,handled,aht_seconds,abandoned",
        history_rows(),
    )
    _csv(data / "agents.csv", "agent_id,name,team,contract,skills,hourly_cost", agents)
    _csv(
        data / "contracts.csv",
        "contract,min_minutes_week,max_minutes_week,max_days_week,max_consecutive_days",
        [("C", 0, 2400, 5, 6)],
    )
    _csv(
        data / "shifts.csv",
        "template,earliest_start,latest_start,start_step_min,length_min,breaks",
        [
            ("D8", "08:00", "11:00", 60, 480, "lunch:60:unpaid:180-240"),
            ("L8", "12:00", "12:00", 60, 480, ""),
        ],
    )
    _csv(data / "absences.csv", "agent_id,start,end,kind", absences)
    head = f'name = "{name}"\n' if name is not None else ""
    text = f"""{head}shrinkage = 0.2

[grid]
start = {START.isoformat()}
days = 7
interval_minutes = 60
timezone = "Europe/Madrid"

[data]
history = "data/history.csv"
agents = "data/agents.csv"
contracts = "data/contracts.csv"
shifts = "data/shifts.csv"
absences = "data/absences.csv"
{data_toml}
[queues.voice]
channel = "voice"
service_level = 0.8
answer_within_s = 20

[forecast]
method = "weekly_profile"
backtest_weeks = 1

[solver]
time_limit_s = {time_limit_s}
workers = 1
seed = 0
{extra_toml}"""
    path = folder / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    return path
