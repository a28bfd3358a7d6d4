"""KPIs of a roster against its demand, via the queueing core.

Per interval and queue: the on-phone agents the roster allocates to the queue
(:func:`staffplan.roster.allocate`) go into ``staffplan.queueing.kpis`` with
the interval's volume [contacts] and AHT [s]. Week KPIs are volume-weighted
means over intervals with volume (service level, ASA, abandonment) and
occupancy weighted by on-phone agents.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from staffplan.queueing import kpis, target_for_queue

KpiFn = Callable[..., pd.DataFrame]
METRICS = ("service_level", "asa_s", "p_wait", "occupancy", "abandon_rate")


def interval_kpis(
    interval_start: Sequence[object],
    queues: Sequence[str],
    volume: np.ndarray,
    aht_s: np.ndarray,
    agents: np.ndarray,
    interval_min: int,
    targets: Sequence[object],
    kpi_fn: KpiFn,
) -> pd.DataFrame:
    """Per (interval, queue) KPIs: volume [contacts], aht_seconds [s], agents, then :data:`METRICS`.

    ``volume``, ``aht_s``, ``agents`` have shape (n_queues, n); ``targets`` one
    queueing target per queue. Intervals without volume are left out.
    """
    parts = []
    for q, name in enumerate(queues):
        v = np.nan_to_num(np.asarray(volume[q], dtype=float))
        a = np.nan_to_num(np.asarray(aht_s[q], dtype=float))
        keep = (v > 0) & (a > 0)
        if not keep.any():
            continue
        k = kpi_fn(
            v[keep], a[keep], interval_min, np.asarray(agents[q], dtype=float)[keep], targets[q]
        )
        frame = pd.DataFrame(
            {
                "interval_start": np.asarray(interval_start, dtype=object)[keep],
                "queue": name,
                "volume": v[keep],
                "aht_seconds": a[keep],
                "agents": np.asarray(agents[q])[keep],
            }
        )
        for m in METRICS:
            frame[m] = np.asarray(k[m], dtype=float) if m in k else np.nan
        parts.append(frame)
    if not parts:
        return pd.DataFrame(
            columns=["interval_start", "queue", "volume", "aht_seconds", "agents", *METRICS]
        )
    return pd.concat(parts, ignore_index=True)


def week_kpis(per_interval: pd.DataFrame, interval_min: int) -> pd.DataFrame:
    """One row per queue plus ``all``: volume-weighted service level, ASA [s], abandonment;
    occupancy weighted by agents; agent_hours [h].
    """
    rows = []
    for name, g in [*per_interval.groupby("queue", sort=False), ("all", per_interval)]:
        vol = g["volume"].to_numpy(dtype=float)
        total = float(vol.sum())
        row: dict[str, object] = {"queue": name, "volume": total}
        for m in ("service_level", "asa_s", "p_wait", "abandon_rate"):
            vals = g[m].to_numpy(dtype=float)
            ok = np.isfinite(vals)
            row[m] = (
                float((vals[ok] * vol[ok]).sum() / vol[ok].sum())
                if ok.any() and vol[ok].sum() > 0
                else float("nan")
            )
        agents = g["agents"].to_numpy(dtype=float)
        occ = g["occupancy"].to_numpy(dtype=float)
        ok = np.isfinite(occ) & (agents > 0)
        row["occupancy"] = (
            float((occ[ok] * agents[ok]).sum() / agents[ok].sum()) if ok.any() else float("nan")
        )
        row["agent_hours"] = float(agents.sum()) * interval_min / 60.0
        rows.append(row)
    return pd.DataFrame(
        rows,
        columns=[
            "queue",
            "volume",
            "service_level",
            "asa_s",
            "p_wait",
            "abandon_rate",
            "occupancy",
            "agent_hours",
        ],
    )


def roster_kpis(
    problem: object, allocation: np.ndarray, scenario: object
) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """(per-interval, week) KPIs of a roster's allocation, or None without volumes."""
    dem = problem.demand  # type: ignore[attr-defined]
    if dem.volume is None or scenario is None:
        return None
    targets = [target_for_queue(scenario.queue(q)) for q in dem.queues]  # type: ignore[attr-defined]
    realtime = [not t.deferred for t in targets]  # deferred work has no per-interval KPIs
    grid = problem.grid  # type: ignore[attr-defined]
    starts = [t.isoformat() for t in grid.starts]
    vol = np.where(np.array(realtime)[:, None], dem.volume, np.nan)
    per = interval_kpis(
        starts, dem.queues, vol, dem.aht_s, allocation, grid.interval_min, targets, kpis
    )
    return per, week_kpis(per, grid.interval_min)
