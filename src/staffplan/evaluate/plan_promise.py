"""The promise of a staffing plan: each queue carried from interval to interval, and the agents
who move between queues.

:func:`plan_kpis` is the promised KPIs of one queue's plan (heads per
interval, who stays; :mod:`staffplan.queueing.carried`). :func:`plans_kpis`
evaluates several queues together: an agent moved from queue s to queue q
at an interval's start first finishes the contacts it holds on s, so each
queue's movers come busy with the probability and for the time that s's own
chain gives at the end of the interval before (docs/queueing.md, "Movers").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from staffplan.errors import InputError
from staffplan.queueing import Target
from staffplan.queueing.carried import Movers, QueueModel, carried_kpis


def realtime_target(target: Target) -> Target:
    """A deadline target evaluated as a queue whose threshold is the deadline (the simulator's
    view).
    """
    if target.deadline_hours is None:
        return target
    within = (
        target.answer_within_s
        if target.answer_within_s is not None
        else target.deadline_hours * 3600.0
    )
    return replace(target, answer_within_s=within, deadline_hours=None)


def plan_kpis(
    volume: np.ndarray,
    aht_s: np.ndarray,
    interval_min: float,
    heads: np.ndarray,
    target: Target,
    residual: float,
    stay: np.ndarray | None = None,
    movers: Movers | None = None,
) -> pd.DataFrame:
    """Promised KPIs of a staffing plan: one queue, ``heads`` on-phone agents [whole] in
    contiguous intervals in time order, the queue carried from each interval to the next
    (:func:`staffplan.queueing.carried.carried_kpis`).

    Columns as :func:`staffplan.evaluate.kpis.promised_kpis`, then
    ``busy_end`` [agents] and ``hold_end`` [agent·s] (the queue as movers
    leave it: :func:`~staffplan.queueing.carried.carried_kpis`). ``volume``
    [contacts] (NaN = 0) and ``aht_s`` [s] per interval; an AHT is needed
    only where contacts are (elsewhere the nearest known one serves the
    contacts still in the system). ``stay`` [agents] per interval: the heads
    also on the queue in the interval before (default: as many as the heads
    allow); ``movers``: newcomers who come from another queue (default none;
    :func:`plans_kpis` finds them). Zero volume: service level 1; ASA,
    P(wait), occupancy and abandonment 0; ``slots`` the expected slots
    available all the same.
    """
    tgt = realtime_target(target)
    if not 0.0 <= float(residual) < 1.0:
        raise InputError("bad residual shrinkage", expected="a fraction in [0, 1)", found=residual)
    v0, h0, n0 = (np.asarray(x, dtype=float) for x in (volume, aht_s, heads))
    if not (v0.ndim == 1 and v0.shape == h0.shape == n0.shape):
        raise InputError(
            "bad plan", column="agents", expected="one volume, AHT and head count per interval"
        )
    v = np.nan_to_num(v0)
    h = h0
    n = np.rint(np.nan_to_num(n0, nan=-1.0)).astype(np.int64)
    if np.any(n < 0) or np.any(v < 0):
        raise InputError(
            "bad plan",
            column="agents",
            expected="whole agents >= 0 and volumes >= 0, one per interval",
        )
    ok = np.isfinite(h) & (h > 0)
    if np.any((v > 0) & ~ok):
        raise InputError("bad AHT", column="aht_seconds", expected="> 0 where contacts arrive")
    if ok.any():
        idx = np.flatnonzero(ok)
        near = idx[np.clip(np.searchsorted(idx, np.arange(v.size)), 0, idx.size - 1)]
        h = np.where(ok, h, h[near])
    else:
        h = np.ones(v.size)
    keep = 1.0 - float(residual)
    model = QueueModel(
        float(interval_min) * 60.0,
        float(residual),
        float(tgt.concurrency),
        float(tgt.sl_within_s),
        tgt.patience_s,
    )
    got = carried_kpis(v, h, n, model, None if stay is None else np.asarray(stay).ravel(), movers)
    live = v > 0
    ans = np.where(live, np.clip(got["answered"], 0.0, 1.0), 1.0)
    slots = got["slots"]
    lost = 1.0 - ans
    return pd.DataFrame(
        {
            "offered_load": np.where(live, v * h / (float(interval_min) * 60.0), 0.0),
            "available": n * keep,
            "service_level": np.where(live, np.clip(got["service_level"], 0.0, 1.0), 1.0),
            "asa_s": np.where(live, got["answered_wait_s"] / np.maximum(ans, 1e-300), 0.0),
            "p_wait": np.where(live, np.clip(got["p_wait"], 0.0, 1.0), 0.0),
            "occupancy": np.where(
                live & (slots > 0), got["carried"] / np.where(slots > 0, slots, 1.0), 0.0
            ),
            "abandon_rate": np.where(lost < 1e-12, 0.0, np.clip(lost, 0.0, 1.0)),
            "answered": ans,
            "slots": slots,
            "busy_end": got["busy_end"],
            "hold_end": got["hold_end"],
        }
    )


def queue_movers(
    moves: np.ndarray, heads: np.ndarray, ends: Sequence[pd.DataFrame | None], q: int
) -> Movers | None:
    """The movers into queue ``q``: ``moves`` (n_queues, n_queues, n) [agents], moves[q, s, t]
    on queue s in t − 1 and on q in t; ``heads`` (n_queues, n); ``ends[s]`` queue s's
    :func:`plan_kpis` frame (None: nobody busy there). A mover from s is busy with s's chance
    that a scheduled agent holds contacts at the end of t − 1 (busy_end / heads), for s's mean
    time to finish them (hold_end / busy_end); several sources are mixed by their busy movers.
    None without a mover into ``q``.
    """
    into = np.asarray(moves[q], dtype=float)  # (sources, n)
    count = into.sum(axis=0)
    if not count.any():
        return None
    busy_movers = np.zeros(count.size)
    hold = np.zeros(count.size)
    for s, frame in enumerate(ends):
        if s == q or frame is None or not into[s].any():
            continue
        n_prev = np.r_[0.0, np.asarray(heads[s], dtype=float)[:-1]]
        busy_prev = np.r_[0.0, frame["busy_end"].to_numpy(dtype=float)[:-1]]
        hold_prev = np.r_[0.0, frame["hold_end"].to_numpy(dtype=float)[:-1]]
        share = np.divide(into[s], n_prev, out=np.zeros(count.size), where=n_prev > 0)
        busy_movers += share * busy_prev
        hold += share * hold_prev
    busy = np.divide(busy_movers, count, out=np.zeros(count.size), where=count > 0)
    hold_s = np.divide(hold, busy_movers, out=np.ones(count.size), where=busy_movers > 0)
    return Movers(np.rint(count).astype(np.int64), np.clip(busy, 0.0, 1.0), hold_s)


def plans_kpis(
    volume: np.ndarray,
    aht_s: np.ndarray,
    interval_min: float,
    heads: np.ndarray,
    targets: Sequence[Target | None],
    residuals: Sequence[float],
    stays: np.ndarray | None = None,
    moves: np.ndarray | None = None,
    report: Sequence[int] | None = None,
) -> dict[int, pd.DataFrame]:
    """:func:`plan_kpis` of the queues ``report`` (default: every queue with a target), with
    the agents who move between queues counted: ``volume``, ``aht_s``, ``heads``, ``stays``
    are (n_queues, n) as in :func:`plan_kpis`; ``moves`` (n_queues, n_queues, n) [agents] as
    :func:`queue_movers` reads it (default none). Each queue's movers come busy as the queue they
    left ends the interval before *without* movers of its own (one pass; the second-order effect
    is measured in benchmarks/RESULTS.md). Queues without a target are never evaluated (nobody is
    busy there).
    """
    nq = len(targets)
    want = [q for q in (range(nq) if report is None else report) if targets[q] is not None]

    def one(q: int, movers: Movers | None = None) -> pd.DataFrame:
        target = targets[q]
        assert target is not None
        return plan_kpis(
            volume[q],
            aht_s[q],
            interval_min,
            heads[q],
            target,
            residuals[q],
            None if stays is None else stays[q],
            movers,
        )

    if moves is None or not np.asarray(moves).any():
        return {q: one(q) for q in want}
    mv = np.asarray(moves)
    sources = {s for q in want for s in range(nq) if s != q and mv[q, s].any()}
    alone = {q: one(q) for q in sorted(set(want) | sources) if targets[q] is not None}
    ends = [alone.get(s) for s in range(nq)]
    out = {}
    for q in want:
        movers = queue_movers(mv, heads, ends, q)
        out[q] = alone[q] if movers is None else one(q, movers)
    return out
