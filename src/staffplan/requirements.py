"""Requirements: agents needed per interval and queue for a forecast.

``compute_requirements`` turns a forecast (one row per interval and queue) into
the agents each queue needs: voice by Erlang C (Erlang A with ``patience_s``),
chat by the slot model with its concurrency, email/back-office by workload
spread within the deadline. Scheduled heads add shrinkage (the queue's own, or
the scenario's). The forecast is used as given (the forecast stage already
applied the scenario's volume and handle-time multipliers).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from staffplan.errors import InputError, ScenarioError
from staffplan.io.tables import Column, parse_clock, read_table
from staffplan.queueing import (
    deferred_requirements,
    kpis,
    offered_load,
    required_agents,
    scheduled_heads,
    target_for_queue,
)
from staffplan.scenario import Queue, Scenario

FORECAST_COLUMNS = (
    Column("interval_start", "timestamp", hint="ISO timestamps like 2026-12-07T08:00:00+01:00"),
    Column("queue", "str"),
    Column("volume", "float", minimum=0.0, hint="contacts per interval, >= 0"),
    Column(
        "aht_seconds",
        "float",
        required=False,
        default=0.0,
        minimum=0.0,
        hint="average handle time in seconds",
    ),
)

OUTPUT_COLUMNS = [
    "interval_start",
    "queue",
    "channel",
    "deferred",
    "volume",
    "aht_seconds",
    "offered_load",
    "required_agents",
    "scheduled_agents",
    "service_level",
    "asa_seconds",
    "occupancy",
    "abandon_rate",
]


def read_forecast(path: str | Path, timezone: str) -> pd.DataFrame:
    """Read a forecast CSV/Parquet (interval_start, queue, volume [contacts], aht_seconds [s])."""
    frame = read_table(path, FORECAST_COLUMNS, tz=timezone, what="forecast")
    frame = frame[["interval_start", "queue", "volume", "aht_seconds"]].copy()
    frame["queue"] = frame["queue"].astype(str)
    return frame


def _open_mask(queue: Queue, starts: pd.Series, scenario: Scenario) -> np.ndarray | None:
    """Workable intervals of a deferred queue: its opening hours, if any."""
    if queue.open is None:
        return None
    parts = queue.open.split("-")
    bounds = [parse_clock(p.strip()) for p in parts] if len(parts) == 2 else [None, None]
    if bounds[0] is None or bounds[1] is None or bounds[1] <= bounds[0]:
        raise ScenarioError(
            "bad opening hours",
            file=scenario.path,
            key=f"queues.{queue.name}.open",
            expected="'HH:MM-HH:MM' with the end after the start",
            found=queue.open,
        )
    local = starts.dt.tz_convert(scenario.grid.timezone) if starts.dt.tz is not None else starts
    minute = (local.dt.hour * 60 + local.dt.minute).to_numpy()
    lo, hi = bounds
    return ((minute >= lo) & (minute < hi)) | ((minute + 1440 >= lo) & (minute + 1440 < hi))


def _check(forecast: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    missing = [
        c for c in ("interval_start", "queue", "volume", "aht_seconds") if c not in forecast.columns
    ]
    if missing:
        raise InputError(
            "forecast lacks columns",
            column=missing[0],
            expected="interval_start, queue, volume, aht_seconds",
            found=", ".join(map(str, forecast.columns)),
        )
    f = forecast[["interval_start", "queue", "volume", "aht_seconds"]].reset_index(drop=True).copy()
    f["queue"] = f["queue"].astype(str)
    f["volume"] = pd.to_numeric(f["volume"], errors="coerce").astype(float)
    f["aht_seconds"] = pd.to_numeric(f["aht_seconds"], errors="coerce").astype(float)
    known = {q.name for q in scenario.queues}
    for col, ok in (
        ("queue", f["queue"].isin(known).to_numpy()),
        ("volume", (np.isfinite(f["volume"].to_numpy()) & (f["volume"].to_numpy() >= 0))),
        (
            "aht_seconds",
            (f["volume"].to_numpy() <= 0)
            | (np.isfinite(f["aht_seconds"].to_numpy()) & (f["aht_seconds"].to_numpy() > 0)),
        ),
    ):
        if not ok.all():
            i = int(np.flatnonzero(~ok)[0])
            expected = {
                "queue": "one of the scenario's queues: " + ", ".join(sorted(known)),
                "volume": "contacts >= 0",
                "aht_seconds": "seconds > 0 where volume > 0",
            }[col]
            raise InputError(
                "bad forecast value",
                row=i + 2,
                column=col,
                expected=expected,
                found=f[col].iloc[i],
                hint="the forecast must match the scenario's queues and be non-negative",
            )
    dup = f.duplicated(["interval_start", "queue"]).to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise InputError(
            "duplicate forecast row",
            row=i + 2,
            column="interval_start",
            expected="one row per interval and queue",
            found=str(f["interval_start"].iloc[i]),
        )
    return f


def compute_requirements(forecast: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Agents needed per interval and queue; see the module docstring.

    Columns: interval_start, queue, channel, deferred (the queue is deferred work, staffed by
    workload within its deadline: :func:`~staffplan.queueing.target_for_queue` decides, and
    every later stage reads it from here), volume [contacts], aht_seconds [s],
    offered_load [Erlangs], required_agents [agents on the queue],
    scheduled_agents [agents incl. shrinkage], service_level [0-1],
    asa_seconds [s], occupancy [0-1], abandon_rate [0-1] (KPIs at
    required_agents). Deferred queues report service_level 1 (every item
    within its deadline), asa_seconds NaN (not a queue wait) and abandon_rate 0.
    Rows are ordered by the scenario's queue order, then interval_start.
    """
    f = _check(forecast, scenario)
    interval_min = float(scenario.grid.interval_min)
    parts = []
    for queue in scenario.queues:
        rows = (
            f[f["queue"] == queue.name]
            .sort_values("interval_start", kind="stable")
            .reset_index(drop=True)
        )
        if rows.empty:
            continue
        vol = rows["volume"].to_numpy(dtype=float)
        aht = rows["aht_seconds"].to_numpy(dtype=float)
        aht = np.nan_to_num(aht, nan=0.0)
        target = target_for_queue(queue)
        out = pd.DataFrame(
            {
                "interval_start": rows["interval_start"],
                "queue": queue.name,
                "channel": queue.channel,
                "deferred": target.deferred,
                "volume": vol,
                "aht_seconds": aht,
            }
        )
        out["offered_load"] = offered_load(vol, interval_min, aht)
        if target.deferred:
            try:
                req, occ = deferred_requirements(
                    vol,
                    aht,
                    interval_min,
                    target.deadline_hours,
                    _open_mask(queue, rows["interval_start"], scenario),
                )
            except InputError as exc:
                when = rows["interval_start"].iloc[(exc.row or 2) - 2]
                raise ScenarioError(
                    f"queue '{queue.name}': work arriving at {when} {exc.message}",
                    file=scenario.path,
                    key=f"queues.{queue.name}.deadline_hours",
                    expected=exc.expected,
                    hint=exc.hint,
                ) from None
            out["required_agents"] = req
            out["service_level"] = 1.0
            out["asa_seconds"] = np.nan
            out["occupancy"] = occ
            out["abandon_rate"] = 0.0
        else:
            try:
                req = required_agents(vol, np.where(vol > 0, aht, 1.0), interval_min, target)
            except InputError as exc:
                raise ScenarioError(
                    f"queue '{queue.name}': {exc.message}",
                    file=scenario.path,
                    key=f"queues.{queue.name}",
                    hint=exc.hint,
                ) from None
            k = kpis(vol, np.where(vol > 0, aht, 1.0), interval_min, req, target)
            out["required_agents"] = req
            out["service_level"] = k["service_level"].to_numpy()
            out["asa_seconds"] = k["asa_s"].to_numpy()
            out["occupancy"] = k["occupancy"].to_numpy()
            out["abandon_rate"] = k["abandon_rate"].to_numpy()
        shrink = queue.shrinkage if queue.shrinkage is not None else scenario.shrinkage
        out["scheduled_agents"] = scheduled_heads(
            out["required_agents"].to_numpy(dtype=np.int64), shrink
        )
        parts.append(out[OUTPUT_COLUMNS])
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in OUTPUT_COLUMNS})
    return pd.concat(parts, ignore_index=True)
