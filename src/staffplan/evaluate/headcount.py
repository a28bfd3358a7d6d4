"""Headcount to hire or release per queue to meet the targets at the team's contracts.

Required FTE of a queue: the paid heads the promised KPIs need
(``requirements.csv`` ``scheduled_agents``: on-phone heads that meet the
targets after residual shrinkage, breaks added) summed over the horizon
[h], per :data:`FTE_HOURS` a week. Available FTE: the team's contracted
maximum paid hours (``max_minutes_week``, pro rata for a partial week) less
whole days away (vacation, sickness, days off: ``max / max_days_week`` per
day), each multi-skilled agent split over its queues in proportion to the
on-phone time the roster gives it on each (equally when it works no
interval). The change in headcount assumes a new agent has the mean contract
of the queue's agents: ``(required − available) × FTE_HOURS / mean contract
hours`` — positive means hire, negative means release.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from staffplan.i18n import N_

FTE_HOURS = 37.5  # paid hours of one full-time equivalent per week
COLUMNS = (
    "queue",
    "required_fte",
    "available_fte",
    "rostered_fte",
    "mean_contract_hours",
    "headcount_change",
)
#: the assumption behind the numbers, in words (``%(hours)s``: :data:`FTE_HOURS`; a message of
#: the report's catalogs)
ASSUMPTION_TEXT = N_(
    "FTE = %(hours)s paid hours a week; required = paid heads whose promised service meets "
    "the target after residual shrinkage; available = contracted maximum hours less whole days "
    "away, multi-skilled agents split by the roster's time on each queue; a hire or release has "
    "the mean contract of the queue's agents"
)
ASSUMPTION = ASSUMPTION_TEXT % {"hours": f"{FTE_HOURS:g}"}
BLOCKING = ("vacation", "sick", "day_off", "other")


def days_away(problem: Any) -> dict[str, int]:
    """Whole local days each agent is away (absences of the blocking kinds covering noon)."""
    grid = problem.grid
    out: dict[str, set[str]] = {}
    for ab in problem.absences:
        if ab.kind not in BLOCKING:
            continue
        for d in grid.dates():
            d0 = grid.local_midnight(d)
            noon = d0 + pd.Timedelta(hours=12)
            if ab.start <= d0 and noon <= ab.end:
                out.setdefault(ab.agent_id, set()).add(d.isoformat())
    return {a: len(ds) for a, ds in out.items()}


def headcount(
    problem: Any,
    required_paid_heads: pd.DataFrame,
    assigned: np.ndarray,
    rostered_minutes: dict[str, float],
) -> pd.DataFrame:
    """Per queue: :data:`COLUMNS` (FTE and hours as the module docstring defines them).

    ``required_paid_heads``: queue, scheduled_agents [paid heads per interval];
    ``assigned`` (n_agents, n) the queue index each agent serves per interval
    (-1 off the phones), agents in ``problem.agents`` order;
    ``rostered_minutes``: paid minutes each agent works in the roster.
    """
    grid = problem.grid
    weeks = grid.days / 7.0
    queues: Sequence[str] = problem.demand.queues
    interval_h = grid.interval_min / 60.0
    away = days_away(problem)
    req = {
        q: float(
            required_paid_heads.loc[required_paid_heads["queue"] == q, "scheduled_agents"].sum()
        )
        * interval_h
        for q in queues
    }
    avail = dict.fromkeys(queues, 0.0)
    rostered = dict.fromkeys(queues, 0.0)
    contract_h: dict[str, list[float]] = {q: [] for q in queues}
    for i, a in enumerate(problem.agents):
        mine = problem.agent_queues(a)
        if not mine:
            continue
        c = problem.contracts[a.contract]
        week_h = c.max_minutes_week / 60.0
        lost = away.get(a.id, 0) * week_h / max(c.max_days_week, 1)
        hours = max(week_h * weeks - lost, 0.0)
        counts = np.array([(assigned[i] == q).sum() for q in mine], dtype=float)
        share = counts / counts.sum() if counts.sum() > 0 else np.full(len(mine), 1.0 / len(mine))
        worked = rostered_minutes.get(a.id, 0.0) / 60.0
        for q, w in zip(mine, share, strict=True):
            avail[queues[q]] += hours * w
            rostered[queues[q]] += worked * w
            if w > 0:
                contract_h[queues[q]].append(week_h)
    rows = []
    for q in queues:
        mean_h = float(np.mean(contract_h[q])) if contract_h[q] else FTE_HOURS
        need = req[q] / FTE_HOURS / weeks
        have = avail[q] / FTE_HOURS / weeks
        rows.append(
            (
                q,
                round(need, 2),
                round(have, 2),
                round(rostered[q] / FTE_HOURS / weeks, 2),
                round(mean_h, 2),
                round((need - have) * FTE_HOURS / mean_h, 1),
            )
        )
    return pd.DataFrame(rows, columns=list(COLUMNS))
