"""Tiny roster problems for per-rule tests (2 agents × 3 days, hourly grid); imported by the tests
in this folder.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from staffplan.io.team import Agent, Contract, ShiftTemplate
from staffplan.roster.problem import RosterProblem, plain_demand
from staffplan.scenario import Weights
from staffplan.timegrid import TimeGrid

START = dt.date(2026, 12, 7)  # a Monday


def contract(**kw: Any) -> Contract:
    base = dict(
        id="C",
        min_minutes_week=0,
        max_minutes_week=7 * 1440,
        max_days_week=7,
        max_consecutive_days=7,
    )
    base.update(kw)
    return Contract(**base)


def template(
    tid: str = "D",
    start: str = "08:00",
    latest: str | None = None,
    length: int = 480,
    step: int = 60,
    **kw: Any,
) -> ShiftTemplate:
    h, m = map(int, start.split(":"))
    s = h * 60 + m
    if latest is None:
        e = s
    else:
        h2, m2 = map(int, latest.split(":"))
        e = h2 * 60 + m2
    return ShiftTemplate(tid, s, e, step, length, **kw)


def make(
    agents: int | list[Agent] = 2,
    days: int = 3,
    templates: tuple[ShiftTemplate, ...] | None = None,
    contracts: dict[str, Contract] | None = None,
    required: np.ndarray | None = None,
    queues: tuple[str, ...] = ("voice",),
    weights: Weights | None = None,
    interval_min: int = 60,
    start: dt.date = START,
    **kw: Any,
) -> RosterProblem:
    grid = TimeGrid(start, days, interval_min, "UTC")
    if isinstance(agents, int):
        agents = [Agent(f"A{i}", f"Agent {i}", "t", "C", (queues[0],)) for i in range(agents)]
    templates = templates or (template(),)
    contracts = contracts or {"C": contract()}
    req = (
        np.zeros((len(queues), grid.n), dtype=np.int64)
        if required is None
        else np.asarray(required)
    )
    w = weights or Weights(under_coverage=10, over_coverage=1, cost=0, preference=1, fairness=0)
    return RosterProblem(
        grid, tuple(agents), contracts, templates, plain_demand(queues, req), w, **kw
    )


def day_hours(
    grid_days: int,
    per_day: dict[int, list[tuple[int, int, int]]],
    n_queues: int = 1,
    queue: int = 0,
) -> np.ndarray:
    """Hourly requirement: per_day[d] = [(from_h, to_h, agents)]."""
    req = np.zeros((n_queues, grid_days * 24), dtype=np.int64)
    for d, spans in per_day.items():
        for a, b, k in spans:
            req[queue, d * 24 + a : d * 24 + b] = k
    return req


def solve_tiny(problem: RosterProblem, seconds: float = 5.0):
    """Plan with one worker for ``seconds`` deterministic seconds (the same answer on any machine)
    and return the outcome; asserts the independent validator finds nothing.
    """
    from staffplan.roster.engine import plan
    from staffplan.roster.validate import check_roster
    from staffplan.settings import SolveSettings

    out = plan(problem, SolveSettings(seconds, 1, 0, deterministic=True))
    violations = check_roster(problem, out.roster.roster)
    assert violations == [], violations
    return out


def days_worked(outcome, agent: str) -> list[int]:
    r = outcome.roster.roster
    return sorted(r.loc[r["agent_id"] == agent, "day"].tolist())


SCENARIO = """
name = "tiny"
shrinkage = 0.0
[grid]
start = 2026-12-07
days = 3
interval_minutes = 60
timezone = "Europe/Madrid"
[data]
agents = "agents.csv"
contracts = "contracts.csv"
shifts = "shifts.csv"
absences = "absences.csv"
requirements = "requirements.csv"
[queues.voice]
channel = "voice"
service_level = 0.8
answer_within_s = 20
[queues.chat]
channel = "chat"
service_level = 0.8
answer_within_s = 60
concurrency = 2
[solver]
time_limit_s = 5
workers = 1
seed = 0
"""


def write_scenario(folder: Path) -> Path:
    """A small scenario folder (4 agents, voice and chat, 3 days of hourly requirements)."""
    (folder / "agents.csv").write_text(
        "agent_id,name,team,contract,skills,hourly_cost\nA1,Ana,T,FT,voice:1,20\nA2,Luis,T,FT,voice:1|chat:2,20\nA3,Marta,T,PT,chat,15\nA4,Pablo,T,FT,voice,18\n",
        encoding="utf-8",
    )
    (folder / "contracts.csv").write_text(
        "contract,min_minutes_week,max_minutes_week,max_days_week,max_consecutive_days,min_rest_hours,templates\nFT,0,2400,5,5,11,*\nPT,0,1200,3,3,11,P\n",
        encoding="utf-8",
    )
    (folder / "shifts.csv").write_text(
        "template,earliest_start,latest_start,start_step_min,length_min,breaks,not_followed_by,late\n"
        "D,08:00,10:00,60,480,lunch:60:unpaid:180-300,,false\nP,09:00,13:00,60,240,,,false\n",
        encoding="utf-8",
    )
    (folder / "absences.csv").write_text(
        "agent_id,start,end,kind\nA4,2026-12-08,2026-12-08,vacation\n", encoding="utf-8"
    )
    rows = []
    for d in range(3):
        for h in range(24):
            t = pd.Timestamp(f"2026-12-{7 + d:02d} {h:02d}:00")
            open_ = 9 <= h < 17
            rows.append((t.isoformat(), "voice", 2 if open_ else 0, 30.0 if open_ else 0.0, 240.0))
            rows.append((t.isoformat(), "chat", 1 if open_ else 0, 20.0 if open_ else 0.0, 400.0))
    pd.DataFrame(
        rows, columns=["interval_start", "queue", "required", "volume", "aht_seconds"]
    ).to_csv(folder / "requirements.csv", index=False)
    path = folder / "scenario.toml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path
