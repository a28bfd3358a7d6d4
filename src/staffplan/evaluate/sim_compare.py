"""Simulated KPIs side by side with the promise, with flags.

The promise is the roster's promised KPIs (:mod:`staffplan.evaluate.kpis`,
the one definition every command shows) for the on-phone heads the roster
allocates to each queue and interval (:func:`staffplan.roster.extract.assign_queues`).
An interval × queue is flagged when it has contacts and the simulated
service level or abandonment rate differs from the promise by more than
``threshold`` (a fraction, e.g. 0.1 = 10 points) even at the near end of the
simulation's 95 % confidence interval (``|diff| − ci > threshold``; with one
replication there is no interval and ``|diff| > threshold``), so replication
noise alone does not raise flags.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from staffplan.evaluate.kpis import interval_kpis, week_kpis
from staffplan.queueing import target_for_queue
from staffplan.scenario import Queue

PROMISE_COLUMNS = ("service_level", "asa_s", "abandon_rate", "occupancy")


def promise(
    arrivals: np.ndarray,
    aht_s: np.ndarray,
    interval_min: int,
    heads: np.ndarray,
    queues: Sequence[Queue],
    residuals: Sequence[float],
    stays: np.ndarray | None = None,
    moves: np.ndarray | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The promised KPIs per interval × queue and per week × queue, ``promised_``-prefixed.

    ``arrivals`` [contacts], ``aht_s`` [s], ``heads`` [on-phone agents allocated,
    before shrinkage] are (n_queues, n_intervals); ``residuals`` one per queue.
    ``stays`` (n_queues, n) and ``moves`` (n_queues, n_queues, n) as
    :func:`~staffplan.evaluate.kpis.interval_kpis` takes them. Deferred queues
    are evaluated as queues whose threshold is their deadline (the
    simulator's view). Intervals without contacts have no promise.
    """
    names = [q.name for q in queues]
    nt = arrivals.shape[1]
    per = interval_kpis(
        np.arange(nt),
        names,
        arrivals,
        aht_s,
        heads,
        interval_min,
        [target_for_queue(q) for q in queues],
        residuals,
        stays,
        moves,
    )
    week = week_kpis(per, interval_min)
    per = per.rename(columns={"interval_start": "interval"})
    per = per[["interval", "queue", *PROMISE_COLUMNS]].rename(
        columns={c: f"promised_{c}" for c in PROMISE_COLUMNS}
    )
    week = week[week["queue"] != "all"][["queue", *PROMISE_COLUMNS]].rename(
        columns={c: f"promised_{c}" for c in PROMISE_COLUMNS}
    )
    week = pd.DataFrame({"queue": names}).merge(week, on="queue", how="left")
    return per.astype({"interval": np.int64}), week


def compare(intervals: pd.DataFrame, promised: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """``intervals`` (simulated) joined with ``promised`` on interval and queue, plus differences
    and ``flagged``.

    Adds ``service_level_diff`` and ``abandon_rate_diff`` (simulated minus
    promised [fraction]) and ``flagged`` (bool; rule in the module docstring).
    """
    out = intervals.merge(promised, on=["interval", "queue"], how="left", validate="one_to_one")
    out["service_level_diff"] = out["service_level"] - out["promised_service_level"]
    out["abandon_rate_diff"] = out["abandon_rate"] - out["promised_abandon_rate"]
    sl_ci = out["service_level_ci"].fillna(0.0) if "service_level_ci" in out else 0.0
    ab_ci = out["abandon_rate_ci"].fillna(0.0) if "abandon_rate_ci" in out else 0.0
    big = (out["service_level_diff"].abs() - sl_ci > threshold) | (
        out["abandon_rate_diff"].abs() - ab_ci > threshold
    )
    out["flagged"] = (out["offered"] > 0) & big.fillna(False).astype(bool)
    return out
