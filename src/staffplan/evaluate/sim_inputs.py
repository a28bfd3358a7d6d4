"""Simulation inputs from a scenario's files: forecast arrays, roster on-phone matrix, skills, queue
settings.

The on-phone matrix is the roster engine's
:func:`staffplan.roster.extract.on_phone_matrix` (an interval counts when it
lies wholly inside a shift and no break or activity touches it); the rows are
validated here first so a malformed roster.csv gives a clear error. Skill
priorities come from the roster's
``queues`` column (queues served, in priority order: the first is priority
1); when an agent's days list different orders, each queue keeps its best
position. A name in ``queues`` may be a queue or a queue's skill.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from staffplan import limits
from staffplan.errors import InputError, ScenarioError
from staffplan.evaluate.simulate import HANDLE_DISTRIBUTIONS, ROUTINGS, QueueSim
from staffplan.io.history import PatienceSummary
from staffplan.roster.extract import on_phone_matrix
from staffplan.scenario import Queue, Scenario, Spec, check_table
from staffplan.timegrid import TimeGrid

SIMULATE_SPEC: Spec = {
    "replications": ((int,), 10, "independent replications (whole number >= 1)"),
    "seed": ((int,), 0, "random seed (whole number)"),
    "workers": ((int,), 2, "processes for replications (whole number >= 1)"),
    "handle": ((str,), "exponential", "exponential or lognormal"),
    "handle_cv": (
        (float, int),
        1.0,
        "coefficient of variation of handle time (> 0; lognormal only)",
    ),
    "dispersion": (
        (float, int),
        0.0,
        "arrival over-dispersion d >= 0: variance = mean + d * mean^2",
    ),
    "threshold": (
        (float, int),
        0.1,
        "flag intervals whose simulated and promised service level or abandonment differ by "
        "more than this fraction",
    ),
    "patience": (
        (str,),
        "configured",
        "configured (each queue's patience_s) or history (estimate it from the history for "
        "queues without patience_s)",
    ),
    "routing": (
        (str,),
        "allocated",
        "allocated (each agent serves the queue the roster allocates it to in each interval, as "
        "the promise assumes) or pooled (that queue first, then the agent's other queues)",
    ),
}
PATIENCE_SOURCES = ("configured", "history")

_BREAK = re.compile(
    r"^\s*(?P<name>.*?)\s*(?P<a>\d{1,2}):(?P<am>\d\d)\s*-\s*(?P<b>\d{1,2}):(?P<bm>\d\d)\s*$"
)


@dataclass(frozen=True)
class RosterArrays:
    """Agents in id order, their on-phone matrix (n_agents, n_intervals) and skill priorities
    (n_agents, n_queues).
    """

    agent_ids: tuple[str, ...]
    on_phone: np.ndarray
    skills: np.ndarray


def simulate_settings(scenario: Scenario) -> dict[str, Any]:
    """The validated ``[simulate]`` table of a scenario, defaults filled."""
    t = check_table(scenario.section("simulate"), SIMULATE_SPEC, file=scenario.path, key="simulate")
    if t["handle"] not in HANDLE_DISTRIBUTIONS:
        raise ScenarioError(
            "unknown handle-time distribution",
            file=scenario.path,
            key="simulate.handle",
            expected=" or ".join(HANDLE_DISTRIBUTIONS),
            found=t["handle"],
        )
    for k in ("replications", "workers"):
        if t[k] < 1:
            raise ScenarioError(
                "value out of range",
                file=scenario.path,
                key=f"simulate.{k}",
                expected="a whole number >= 1",
                found=t[k],
            )
        limits.check(k, t[k], file=str(scenario.path), key=f"simulate.{k}")
    if not t["handle_cv"] > 0:
        raise ScenarioError(
            "value out of range",
            file=scenario.path,
            key="simulate.handle_cv",
            expected="a number > 0",
            found=t["handle_cv"],
        )
    for k in ("dispersion", "threshold"):
        if t[k] < 0:
            raise ScenarioError(
                "value out of range",
                file=scenario.path,
                key=f"simulate.{k}",
                expected="a number >= 0",
                found=t[k],
            )
    if t["routing"] not in ROUTINGS:
        raise ScenarioError(
            "unknown routing",
            file=scenario.path,
            key="simulate.routing",
            expected=" or ".join(f'"{x}"' for x in ROUTINGS),
            found=t["routing"],
        )
    if t["patience"] not in PATIENCE_SOURCES:
        raise ScenarioError(
            "unknown patience source",
            file=scenario.path,
            key="simulate.patience",
            expected=" or ".join(f'"{x}"' for x in PATIENCE_SOURCES),
            found=t["patience"],
            hint='"history" needs a per-contact history with abandoned and wait_seconds columns',
        )
    return t


def history_patience(
    queues: Sequence[Queue],
    patience: Mapping[str, PatienceSummary] | None,
    *,
    source: str | Path | None = None,
) -> tuple[dict[str, float | None], tuple[str, ...]]:
    """Mean patience [s] estimated from history for the queues without ``patience_s``.

    Returns ``{queue name: mean patience [s] or None}`` (None = infinite: no
    abandonment observed, so no finite estimate) and notes on the queues
    that fell back to infinite patience. A queue's configured ``patience_s``
    wins and is not in the result. ``patience`` is :attr:`History.patience`
    (keyed by history queue name); None means the history cannot give
    patience, an :class:`InputError`.
    """
    todo = [q for q in queues if q.patience_s is None]
    if not todo:
        return {}, ()
    if patience is None:
        raise InputError(
            "history has no patience data",
            file=source,
            column="abandoned/wait_seconds",
            expected="a per-contact history with abandoned and wait_seconds columns",
            found="per-interval history or a missing column",
            hint='set patience_s on the queues, or [simulate] patience = "configured"',
        )
    out: dict[str, float | None] = {}
    notes: list[str] = []
    for q in todo:
        hname = q.history_name or q.name
        if hname not in patience:
            raise InputError(
                "no history for queue",
                file=source,
                column="queue",
                expected=f"rows for queue '{hname}'",
                found=", ".join(sorted(patience)),
                hint="set history_name or patience_s on the queue",
            )
        mean = patience[hname].mean_patience_s
        if np.isfinite(mean) and mean > 0:
            out[q.name] = float(mean)
        else:
            out[q.name] = None
            notes.append(
                f"queue {q.name}: no abandonments with a positive wait in history "
                f"({patience[hname].contacts} contacts with a known wait), so no "
                "finite patience estimate; simulated with infinite patience"
            )
    return out, tuple(notes)


def queue_settings(queue: Queue, handle: str = "exponential", handle_cv: float = 1.0) -> QueueSim:
    """Simulation settings of a scenario queue.

    Service-level threshold: ``answer_within_s``, else the deadline
    (``deadline_hours`` × 3600 s), else 20 s. Patience: ``patience_s``
    (none = customers wait). Concurrency: ``concurrency`` rounded down
    (at least 1).
    """
    if queue.answer_within_s is not None:
        within = float(queue.answer_within_s)
    elif queue.deadline_hours is not None:
        within = float(queue.deadline_hours) * 3600.0
    else:
        within = 20.0
    conc = max(1, int(queue.concurrency)) if queue.concurrency is not None else 1
    return QueueSim(queue.name, queue.channel, within, queue.patience_s, conc, handle, handle_cv)


def forecast_arrays(
    forecast: pd.DataFrame, grid: TimeGrid, queues: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Expected contacts [contacts] and AHT [s] as (n_queues, n_intervals) arrays on ``grid``.

    ``forecast`` has columns ``interval_start`` (tz-aware), ``queue``,
    ``volume``, ``aht_seconds``; missing cells are 0 contacts; a missing or
    blank AHT where volume is 0 is 0.
    """
    nq, nt = len(queues), grid.n
    arrivals = np.zeros((nq, nt))
    aht = np.zeros((nq, nt))
    pos = {q: i for i, q in enumerate(queues)}
    f = forecast[forecast["queue"].isin(list(pos))]
    idx = grid.starts.get_indexer(pd.DatetimeIndex(f["interval_start"]).tz_convert(grid.zone))
    keep = idx >= 0
    qi = f["queue"].map(pos).to_numpy()[keep].astype(np.int64)
    ti = idx[keep]
    arrivals[qi, ti] = f["volume"].to_numpy(dtype=np.float64)[keep]
    aht[qi, ti] = np.nan_to_num(f["aht_seconds"].to_numpy(dtype=np.float64)[keep])
    return arrivals, aht


def _queue_lookup(queues: Sequence[Queue]) -> Mapping[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i, q in enumerate(queues):
        out.setdefault(q.name, []).append(i)
    for i, q in enumerate(queues):
        if q.skill and q.skill not in {x.name for x in queues}:
            out.setdefault(q.skill, []).append(i)
    return out


def roster_arrays(
    roster: pd.DataFrame, grid: TimeGrid, queues: Sequence[Queue], *, file: str | Path | None = None
) -> RosterArrays:
    """On-phone matrix and skill priorities from a roster.csv text frame (see the module
    docstring).
    """
    lookup = _queue_lookup(queues)
    agents = sorted(set(roster["agent_id"].tolist()))
    a_pos = {a: i for i, a in enumerate(agents)}
    prio = np.zeros((len(agents), len(queues)), dtype=np.int64)
    horizon = (grid.local_midnight(grid.start), grid.local_midnight(grid.end))
    for row, r in enumerate(roster.itertuples(index=False), start=2):
        a = a_pos[r.agent_id]
        try:
            start = pd.Timestamp(dt.datetime.fromisoformat(str(r.start)))
            end = pd.Timestamp(dt.datetime.fromisoformat(str(r.end)))
        except ValueError:
            raise InputError(
                "bad shift time",
                file=file,
                row=row,
                column="start/end",
                expected="ISO 8601 local times with offset, e.g. 2026-12-07T08:00:00+01:00",
                found=f"{r.start} / {r.end}",
            ) from None
        if end <= start:
            raise InputError(
                "shift ends before it starts",
                file=file,
                row=row,
                column="end",
                expected=f"a time after {r.start}",
                found=r.end,
            )
        if not horizon[0] <= grid.to_local(start) < horizon[1]:
            raise InputError(
                "shift outside the planning horizon",
                file=file,
                row=row,
                column="start",
                expected=f"a start from {grid.start} to {grid.end - dt.timedelta(days=1)} "
                "(the scenario's [grid])",
                found=r.start,
                hint="simulate the roster made for this scenario's week, or change [grid] start",
            )
        for col in ("breaks", "activities"):
            for item in [b for b in str(getattr(r, col, "") or "").split(";") if b.strip()]:
                if _BREAK.match(item) is None:
                    raise InputError(
                        f"bad {col[:-1]}",
                        file=file,
                        row=row,
                        column=col,
                        expected="items 'name HH:MM-HH:MM' separated by ';'",
                        found=item,
                    )
        served = [s.strip() for s in str(r.queues).split("|") if s.strip()]
        for k, name in enumerate(served, start=1):
            if name not in lookup:
                raise InputError(
                    "unknown queue in roster",
                    file=file,
                    row=row,
                    column="queues",
                    expected="queue or skill names of the scenario: "
                    + ", ".join(q.name for q in queues),
                    found=name,
                )
            for qi in lookup[name]:
                prio[a, qi] = k if prio[a, qi] == 0 else min(prio[a, qi], k)
    on = on_phone_matrix(roster, agents, grid)
    return RosterArrays(tuple(agents), on, prio)
