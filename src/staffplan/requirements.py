"""Requirements: agents needed per interval and queue for a forecast.

``compute_requirements`` turns a forecast (one row per interval and queue) into
the agents each queue needs: voice by Erlang C (Erlang A with ``patience_s``),
chat by the slot model with its concurrency, email/back-office by workload
spread within the deadline. Then shrinkage: the on-phone heads a roster must
put on the queue are the fewest whose *promised* KPIs — expected over the
heads lost to residual shrinkage (:mod:`staffplan.evaluate.kpis`) — meet
every target (workload queues: ``ceil(required / (1 − r))``), and the paid
heads add the breaks the roster places. The forecast is used as given (the
forecast stage already applied the scenario's volume and handle-time
multipliers).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from staffplan import limits
from staffplan.errors import InputError, ScenarioError
from staffplan.evaluate.kpis import promised_heads, promised_kpis
from staffplan.io.tables import Column, parse_clock, read_table
from staffplan.io.team import ShiftTemplate
from staffplan.queueing import (
    deferred_requirements,
    offered_load,
    required_agents,
    scheduled_heads,
    target_for_queue,
)
from staffplan.scenario import Queue, Scenario
from staffplan.shrinkage import queue_residuals, queue_shrinkage

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
    "residual_shrinkage",
    "on_phone_agents",
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


def _check_load(rows: pd.DataFrame, queue: Queue, scenario: Scenario) -> None:
    """Refuse an offered load above the bound before the queueing models start on it."""
    load = rows["offered_load"].to_numpy(dtype=float)
    if load.size and float(load.max()) > limits.maximum("offered_load"):
        i = int(np.argmax(load))
        limits.check(
            "offered_load",
            float(load[i]),
            file=str(scenario.path),
            key=f"queues.{queue.name}",
            context=f"queue '{queue.name}' at {rows['interval_start'].iloc[i]} "
            f"({rows['volume'].iloc[i]:.4g} contacts of {rows['aht_seconds'].iloc[i]:.4g} s)",
        )


def compute_requirements(
    forecast: pd.DataFrame,
    scenario: Scenario,
    templates: tuple[ShiftTemplate, ...] | None = None,
) -> pd.DataFrame:
    """Agents needed per interval and queue; see the module docstring.

    Columns: interval_start, queue, channel, deferred (the queue is deferred work, staffed by
    workload within its deadline: :func:`~staffplan.queueing.target_for_queue` decides, and
    every later stage reads it from here), volume [contacts], aht_seconds [s],
    offered_load [Erlangs], required_agents [agents answering, all present],
    residual_shrinkage [0-1] (``templates``' breaks taken out; default: the
    scenario's shifts file), on_phone_agents [heads on the queue before
    residual losses: the fewest whose promised KPIs meet the targets],
    scheduled_agents [paid heads: on_phone_agents × (1 − r) / (1 − shrinkage),
    i.e. breaks added], then the promised service_level [0-1], asa_seconds
    [s], occupancy [0-1], abandon_rate [0-1] at on_phone_agents. Deferred
    queues report service_level 1 (every item within its deadline),
    asa_seconds NaN (not a queue wait) and abandon_rate 0. Rows are ordered by
    the scenario's queue order, then interval_start.
    """
    f = _check(forecast, scenario)
    interval_min = float(scenario.grid.interval_min)
    residuals = queue_residuals(scenario, templates)
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
        r = residuals[queue.name]
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
        _check_load(out, queue, scenario)
        out["residual_shrinkage"] = r
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
            heads = scheduled_heads(req, r)
            out["required_agents"] = req
            out["on_phone_agents"] = heads
            out["service_level"] = 1.0
            out["asa_seconds"] = np.nan
            out["occupancy"] = occ
            out["abandon_rate"] = 0.0
        else:
            safe_aht = np.where(vol > 0, aht, 1.0)
            try:
                req = required_agents(vol, safe_aht, interval_min, target)
                heads = promised_heads(
                    vol, safe_aht, interval_min, target, r, start=scheduled_heads(req, r)
                )
            except InputError as exc:
                raise ScenarioError(
                    f"queue '{queue.name}': {exc.message}",
                    file=scenario.path,
                    key=f"queues.{queue.name}",
                    hint=exc.hint,
                ) from None
            k = promised_kpis(vol, safe_aht, interval_min, heads, target, r)
            out["required_agents"] = req
            out["on_phone_agents"] = heads
            out["service_level"] = k["service_level"].to_numpy()
            out["asa_seconds"] = k["asa_s"].to_numpy()
            out["occupancy"] = k["occupancy"].to_numpy()
            out["abandon_rate"] = k["abandon_rate"].to_numpy()
        out["scheduled_agents"] = paid_heads(
            out["on_phone_agents"].to_numpy(dtype=float), r, queue_shrinkage(scenario, queue.name)
        )
        parts.append(out[OUTPUT_COLUMNS])
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in OUTPUT_COLUMNS})
    return pd.concat(parts, ignore_index=True)


def paid_heads(on_phone: np.ndarray, residual: float, shrinkage: float) -> np.ndarray:
    """Paid heads [agents] for ``on_phone`` heads: the breaks the roster places added,
    ``on_phone × (1 − residual) / (1 − shrinkage)`` (= on_phone / (1 − break share)).
    """
    if shrinkage >= 1.0:
        return np.asarray(on_phone, dtype=float)
    return np.asarray(on_phone, dtype=float) * (1.0 - residual) / (1.0 - shrinkage)
