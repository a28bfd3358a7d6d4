"""Deferred work (email, back-office): staffed by workload and deadline, not Erlang.

Items arriving in interval i must be finished within ``deadline_hours``, i.e.
by the end of interval i + d - 1 with d = floor(deadline / interval) (>= 1).
The workload of interval i, w_i = volume * AHT / interval [agents], is spread
evenly over the workable intervals of its window i .. i+d-1; the requirement is
the sum of the spreads covering each interval, rounded up. This fluid schedule
finishes every cohort by its deadline and never processes work before it
arrives (each cohort is worked at rate w_i/d <= its arrival rate w_i), and it is
the smoothest such plan. The horizon is treated as repeating (cyclic): work
arriving near its end is spread into its start, where the previous horizon's
tail would fall.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from staffplan.errors import InputError
from staffplan.queueing.erlang import ArrayLike, FArray

IArray = npt.NDArray[np.int64]


def deadline_intervals(deadline_hours: float, interval_min: float) -> int:
    """Intervals in a deadline window [intervals], at least 1."""
    return max(int(np.floor(deadline_hours * 60.0 / interval_min + 1e-9)), 1)


def deferred_load(workload: ArrayLike, window: int, workable: ArrayLike | None = None) -> FArray:
    """Fluid agents needed per interval [agents] to finish each cohort within ``window``
    intervals.
    """
    w = np.asarray(workload, dtype=float).ravel()
    n = w.size
    mask = (
        np.ones(n, dtype=float)
        if workable is None
        else np.asarray(workable, dtype=bool).astype(float).ravel()
    )
    if n == 0:
        return w
    d = min(window, n)
    ext = np.concatenate([mask, mask])
    csum = np.concatenate([[0.0], np.cumsum(ext)])
    count = (
        csum[np.arange(n) + d] - csum[np.arange(n)]
    )  # workable intervals in each cohort's window
    starved = (w > 0) & (count == 0)
    if starved.any():
        raise InputError(
            "deferred work cannot meet its deadline",
            row=int(np.flatnonzero(starved)[0]) + 2,
            column="volume",
            expected="a deadline longer than the closed hours",
            hint="raise deadline_hours or widen the queue's opening hours",
        )
    dens = np.where(count > 0, w / np.where(count > 0, count, 1.0), 0.0)
    dsum = np.concatenate([[0.0], np.cumsum(np.concatenate([dens, dens]))])
    t = np.arange(n) + n
    cover = dsum[t + 1] - dsum[t + 1 - d]  # cohorts t-d+1 .. t (cyclic) cover interval t
    return cover * mask


def deferred_requirements(
    volume: ArrayLike,
    aht_s: ArrayLike,
    interval_min: float,
    deadline_hours: float,
    workable: ArrayLike | None = None,
) -> tuple[IArray, FArray]:
    """(required agents [agents] per interval, occupancy [0-1]) for deferred work with a
    deadline.
    """
    v = np.asarray(volume, dtype=float).ravel()
    h = np.broadcast_to(np.asarray(aht_s, dtype=float), v.shape)
    h = np.where(v > 0, h, 0.0)
    work = v * h / (interval_min * 60.0)
    load = deferred_load(work, deadline_intervals(deadline_hours, interval_min), workable)
    req = np.ceil(load - 1e-9).astype(np.int64)
    req = np.maximum(req, 0)
    occ = np.where(req > 0, load / np.maximum(req, 1), 0.0)
    return req, np.clip(occ, 0.0, 1.0)
