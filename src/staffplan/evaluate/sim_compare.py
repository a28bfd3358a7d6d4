"""Simulated KPIs side by side with what the queueing model promised, with flags.

The promise comes from :func:`staffplan.queueing.kpis` on the same on-phone
agents per queue and interval as the simulation's split
(:func:`staffplan.evaluate.simulate.agents_per_queue`, rounded to whole
agents). An interval × queue is flagged when it has contacts and the
simulated service level or abandonment rate differs from the promise by more
than ``threshold`` (a fraction, e.g. 0.1 = 10 points) even at the near end of
the simulation's 95 % confidence interval (``|diff| − ci > threshold``; with
one replication there is no interval and ``|diff| > threshold``), so
replication noise alone does not raise flags.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from staffplan.queueing import kpis, target_for_queue
from staffplan.scenario import Queue

PROMISE_COLUMNS = ("service_level", "asa_s", "abandon_rate", "occupancy")


def promise_from_queueing(
    arrivals: np.ndarray,
    aht_s: np.ndarray,
    interval_min: int,
    agents_q: np.ndarray,
    queues: Sequence[Queue],
) -> pd.DataFrame:
    """Queueing-model KPIs per interval × queue for the given agents.

    ``arrivals`` [contacts], ``aht_s`` [s], ``agents_q`` [agents] are
    (n_queues, n_intervals); agents are rounded to whole agents. Returns
    ``interval``, ``queue`` and ``promised_<kpi>`` for each of
    :data:`PROMISE_COLUMNS`.
    """
    frames = []
    nt = arrivals.shape[1]
    for k, q in enumerate(queues):
        got = kpis(
            arrivals[k],
            aht_s[k],
            interval_min,
            np.rint(agents_q[k]).astype(np.int64),
            target_for_queue(q),
        )
        frame = pd.DataFrame({"interval": np.arange(nt), "queue": q.name})
        for c in PROMISE_COLUMNS:
            frame[f"promised_{c}"] = np.asarray(got[c], dtype=np.float64) if c in got else np.nan
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def compare(intervals: pd.DataFrame, promise: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """``intervals`` (simulated) joined with ``promise`` on interval and queue, plus differences and
    ``flagged``.

    Adds ``service_level_diff`` and ``abandon_rate_diff`` (simulated minus
    promised [fraction]) and ``flagged`` (bool; rule in the module docstring).
    """
    out = intervals.merge(promise, on=["interval", "queue"], how="left", validate="one_to_one")
    out["service_level_diff"] = out["service_level"] - out["promised_service_level"]
    out["abandon_rate_diff"] = out["abandon_rate"] - out["promised_abandon_rate"]
    sl_ci = out["service_level_ci"].fillna(0.0) if "service_level_ci" in out else 0.0
    ab_ci = out["abandon_rate_ci"].fillna(0.0) if "abandon_rate_ci" in out else 0.0
    big = (out["service_level_diff"].abs() - sl_ci > threshold) | (
        out["abandon_rate_diff"].abs() - ab_ci > threshold
    )
    out["flagged"] = (out["offered"] > 0) & big.fillna(False).astype(bool)
    return out


def promise_week(
    promise: pd.DataFrame, arrivals: np.ndarray, queues: Sequence[str]
) -> pd.DataFrame:
    """Week promise per queue: each promised KPI averaged over intervals weighted by expected
    contacts.

    ``arrivals`` (n_queues, n_intervals) [contacts] in the order of ``queues``.
    """
    rows = []
    for k, name in enumerate(queues):
        p = promise[promise["queue"] == name].sort_values("interval")
        w = arrivals[k]
        row: dict[str, object] = {"queue": name}
        for c in PROMISE_COLUMNS:
            v = p[f"promised_{c}"].to_numpy(dtype=np.float64)
            ok = ~np.isnan(v) & (w > 0)
            row[f"promised_{c}"] = (
                float((v[ok] * w[ok]).sum() / w[ok].sum()) if ok.any() else float("nan")
            )
        rows.append(row)
    return pd.DataFrame(rows)
