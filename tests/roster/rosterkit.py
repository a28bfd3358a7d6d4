"""Tiny roster problems for per-rule tests (2 agents × 3 days, hourly grid); imported by the tests
in this folder.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

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
    """Plan with one worker and return the outcome; asserts the independent validator finds
    nothing.
    """
    from staffplan.roster.engine import plan
    from staffplan.roster.validate import check_roster
    from staffplan.settings import SolveSettings

    out = plan(problem, SolveSettings(seconds, 1, 0))
    violations = check_roster(problem, out.roster.roster)
    assert violations == [], violations
    return out


def days_worked(outcome, agent: str) -> list[int]:
    r = outcome.roster.roster
    return sorted(r.loc[r["agent_id"] == agent, "day"].tolist())
