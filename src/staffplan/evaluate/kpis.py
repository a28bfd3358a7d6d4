"""The promised KPIs: the one definition of service level, ASA, abandonment and occupancy.

A roster puts ``n`` agents on a queue's phones in an interval (its
*heads*, before shrinkage). Each of them is lost to residual shrinkage with
probability ``r`` (:mod:`staffplan.shrinkage`), independently in every
interval, so the agents actually answering are ``K ~ Binomial(n, 1 − r)``.
The promised KPIs of a plan are the expectations over those draws, each
queue carried from interval to interval and the agents who change queue
finishing what they hold first (:mod:`staffplan.evaluate.plan_promise`,
:mod:`staffplan.queueing.carried`, docs/queueing.md "Promised KPIs"):

* service level, abandonment, probability of waiting: shares of the
  offered contacts;
* ASA: E[answered · wait] / E[answered] — the mean wait of the contacts
  answered;
* occupancy: E[carried] / E[slots] — the interval's answered work over the
  available agents' time.

Week KPIs weigh intervals the same way (contacts offered, answered, agents
available), so they are what a simulation of the whole week counts.
Every command that shows a KPI calls
:func:`~staffplan.evaluate.plan_promise.plans_kpis` (through
:func:`interval_kpis` / :func:`roster_kpis` / :class:`WeekPromise`). The
requirement (:func:`promised_heads`) and the roster objective
(:func:`promised_curve`) price each interval alone, as a *steady* interval
(:func:`promised_kpis`: the same heads long before,
:func:`staffplan.queueing.state_kpis`), since a sum over intervals cannot
see the heads before them.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from staffplan.errors import InputError
from staffplan.evaluate.plan_promise import plans_kpis, realtime_target
from staffplan.queueing import Target, offered_load, state_kpis
from staffplan.queueing.staffing import _EPS, _inputs, _slots

METRICS = ("service_level", "asa_s", "p_wait", "occupancy", "abandon_rate")
INTERVAL_COLUMNS = (
    "interval_start",
    "queue",
    "volume",
    "aht_seconds",
    "agents",
    "available",
    *METRICS,
)
WEEK_COLUMNS = (
    "queue",
    "volume",
    "service_level",
    "asa_s",
    "p_wait",
    "abandon_rate",
    "occupancy",
    "agent_hours",
    "available_hours",
)
_MASS = 1e-13  # binomial mass left out at the low end of the available agents
PROGRESS_SHARE = 0.05  # of the solve's time, at most, for the progress lines' service level
_MEMO: dict[tuple[float, ...], tuple[float, ...]] = {}
_MEMO_MAX = 400_000


def _state_rows(
    load: np.ndarray,
    agents: np.ndarray,
    aht: np.ndarray,
    interval_min: float,
    target: Target,
    residual: float,
) -> dict[str, np.ndarray]:
    """Per-state KPIs of (load, agents) pairs, memoised (the kernel is exact and pure)."""
    slots = _slots(np.asarray(agents, dtype=float), target.concurrency)
    t = float(target.sl_within_s)
    interval_s = float(interval_min) * 60.0
    head = (interval_s, float(residual), float(target.patience_s or 0.0), t)
    keys = [(*head, float(a), float(s), float(h)) for a, s, h in zip(load, slots, aht, strict=True)]
    todo = [i for i, k in enumerate(keys) if k not in _MEMO]
    if todo:
        idx = np.asarray(todo)
        got = state_kpis(
            load[idx],
            slots[idx],
            aht[idx],
            np.full(idx.size, t),
            interval_s,
            residual,
            target.patience_s,
        )
        if len(_MEMO) + idx.size > _MEMO_MAX:
            _MEMO.clear()
        cols = (got.service_level, got.answered, got.wait_s, got.p_wait, got.carried, got.slots)
        for j, i in enumerate(todo):
            _MEMO[keys[i]] = tuple(float(c[j]) for c in cols)
    vals = np.array([_MEMO[k] for k in keys], dtype=float).reshape(len(keys), 6)
    names = ("service_level", "answered", "wait_s", "p_wait", "carried", "slots")
    return {n: vals[:, i] for i, n in enumerate(names)}


def binomial_pmf(heads: np.ndarray, keep: float, kmax: int) -> np.ndarray:
    """P(K = k) for K ~ Binomial(heads, keep), k = 0..kmax: shape (len(heads), kmax + 1)."""
    k = np.arange(kmax + 1)
    n = np.asarray(heads, dtype=np.int64)[:, None]
    return np.where(k[None, :] <= n, stats.binom.pmf(k[None, :], n, keep), 0.0)


def thin(values: np.ndarray, keep: float) -> np.ndarray:
    """Binomial thinning of rows f(k), k = 0..K: (Tf)(n) = Σ_k P(Binomial(n, keep) = k) f(k)."""
    f = np.array(values, dtype=float, ndmin=2)
    kmax = f.shape[1] - 1
    pmf = binomial_pmf(np.arange(kmax + 1), keep, kmax)  # (n, k)
    return f @ pmf.T


def promised_kpis(
    volume: np.ndarray,
    aht_s: np.ndarray,
    interval_min: float,
    heads: np.ndarray,
    target: Target,
    residual: float,
) -> pd.DataFrame:
    """Promised KPIs per interval with ``heads`` on-phone agents [agents, whole] before shrinkage.

    ``volume`` [contacts], ``aht_s`` [s], ``heads`` of one shape; ``residual``
    [0-1) the probability that a head is lost. Columns: offered_load
    [Erlangs], available [agents] = heads (1 − residual), service_level
    [0-1], asa_s [s], p_wait [0-1], occupancy [0-1], abandon_rate [0-1];
    plus the expectations the week weighs by: answered [0-1 of the
    offered] and slots [servers]. Zero volume: service level 1, the rest 0.
    """
    tgt = realtime_target(target)
    v, h, m, _ = _inputs(volume, aht_s, interval_min)
    n = np.rint(np.asarray(heads, dtype=float)).ravel().astype(np.int64)
    if n.shape != v.shape or np.any(n < 0):
        raise InputError(
            "bad head count", column="agents", expected="whole agents >= 0, one per interval"
        )
    keep = 1.0 - float(residual)
    load = offered_load(v, m, h)
    out = {
        "offered_load": load,
        "available": n * keep,
        "service_level": np.ones(v.shape),
        "asa_s": np.zeros(v.shape),
        "p_wait": np.zeros(v.shape),
        "occupancy": np.zeros(v.shape),
        "abandon_rate": np.zeros(v.shape),
        "answered": np.ones(v.shape),
        "slots": np.zeros(v.shape),
    }
    live = np.flatnonzero(v > 0)
    if live.size:
        lo = np.where(
            keep >= 1.0, n[live], np.maximum(stats.binom.ppf(_MASS, n[live], keep), 0)
        ).astype(np.int64)
        lo = np.minimum(lo, n[live])
        counts = n[live] - lo + 1
        row = np.repeat(np.arange(live.size), counts)
        k = np.concatenate([np.arange(a, b + 1) for a, b in zip(lo, n[live], strict=True)])
        w = stats.binom.pmf(k, n[live][row], keep) if keep < 1.0 else np.ones(k.size)
        st = _state_rows(load[live][row], k, h[live][row], float(m[0]), tgt, residual)
        tot = np.bincount(row, weights=w, minlength=live.size)

        def e(x: np.ndarray) -> np.ndarray:
            return np.bincount(row, weights=w * x, minlength=live.size) / tot

        ans = e(st["answered"])
        slots = e(st["slots"])
        out["service_level"][live] = np.clip(e(st["service_level"]), 0.0, 1.0)
        out["p_wait"][live] = np.clip(e(st["p_wait"]), 0.0, 1.0)
        lost = 1.0 - ans
        out["abandon_rate"][live] = np.where(lost < 1e-12, 0.0, np.clip(lost, 0.0, 1.0))
        out["answered"][live] = ans
        out["slots"][live] = slots
        out["asa_s"][live] = e(st["answered"] * st["wait_s"]) / np.maximum(ans, 1e-300)
        out["occupancy"][live] = np.where(
            slots > 0, e(st["carried"]) / np.where(slots > 0, slots, 1.0), 0.0
        )
    return pd.DataFrame(out)


def state_table(
    volume: np.ndarray,
    aht_s: np.ndarray,
    interval_min: float,
    target: Target,
    residual: float,
    kmax: int,
) -> dict[str, np.ndarray]:
    """Per-state KPIs with k = 0..kmax available agents per interval: arrays (m, kmax + 1).

    Zero-volume rows are answered fully (service level 1, nothing waits).
    """
    tgt = realtime_target(target)
    v, h, m, _ = _inputs(volume, aht_s, interval_min)
    load = offered_load(v, m, h)
    rows, cols = v.size, kmax + 1
    names = ("service_level", "answered", "wait_s", "p_wait", "carried", "slots")
    out = {c: np.zeros((rows, cols)) for c in names}
    out["service_level"][:] = 1.0
    out["answered"][:] = 1.0
    out["slots"][:] = _slots(np.arange(cols, dtype=float), tgt.concurrency)[None, :]
    live = np.flatnonzero(v > 0)
    if live.size:
        r = np.repeat(live, cols)
        k = np.tile(np.arange(cols), live.size)
        st = _state_rows(load[r], k, h[r], float(m[0]), tgt, residual)
        for c in names:
            out[c][live] = st[c].reshape(live.size, cols)
    return out


def promised_curve(
    volume: np.ndarray,
    aht_s: np.ndarray,
    interval_min: float,
    target: Target,
    residual: float,
    max_heads: int,
) -> np.ndarray:
    """Contacts answered within target [contacts], promised with n = 0..max_heads heads:
    volume · E[SL(Binomial(n, 1 − residual))], shape (m, max_heads + 1).
    """
    v = np.asarray(volume, dtype=float).ravel()
    tab = state_table(volume, aht_s, interval_min, target, residual, max_heads)
    return v[:, None] * thin(tab["service_level"], 1.0 - residual)


def _expected(tab: Mapping[str, np.ndarray], keep: float) -> dict[str, np.ndarray]:
    """Promised KPIs for n = 0..K heads from a state table (rows, K + 1)."""
    kmax = tab["service_level"].shape[1] - 1
    pmf = binomial_pmf(np.arange(kmax + 1), keep, kmax)  # (n, k)

    def e(x: np.ndarray) -> np.ndarray:
        return x @ pmf.T

    ans = e(tab["answered"])
    slots = e(tab["slots"])
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "service_level": e(tab["service_level"]),
            "asa_s": e(tab["answered"] * tab["wait_s"]) / np.maximum(ans, 1e-300),
            "abandon_rate": 1.0 - ans,
            "occupancy": np.where(slots > 0, e(tab["carried"]) / np.where(slots > 0, slots, 1), 0),
        }


def _meets(target: Target, k: Mapping[str, np.ndarray]) -> np.ndarray:
    ok = np.ones(k["service_level"].shape, dtype=bool)
    if target.service_level is not None:
        ok &= k["service_level"] >= target.service_level - _EPS
    if target.asa_max_s is not None:
        ok &= k["asa_s"] <= target.asa_max_s + 1e-9
    if target.max_occupancy is not None:
        ok &= k["occupancy"] <= target.max_occupancy + _EPS
    if target.abandon_max is not None:
        ok &= k["abandon_rate"] <= target.abandon_max + _EPS
    return ok


def _low(n: np.ndarray, keep: float) -> np.ndarray:
    """The fewest available agents :func:`promised_kpis` counts for ``n`` heads: binomial mass
    below it is under ``_MASS``."""
    n = np.asarray(n, dtype=np.int64)
    if keep >= 1.0:
        return n
    return np.minimum(np.maximum(stats.binom.ppf(_MASS, n, keep), 0), n).astype(np.int64)


def _bracket_kpis(
    load: np.ndarray,
    aht: np.ndarray,
    interval_min: float,
    target: Target,
    residual: float,
    lo: np.ndarray,
    hi: np.ndarray,
) -> dict[str, np.ndarray]:
    """Promised SL, ASA, abandonment and occupancy for n = lo..hi heads per row, as
    :func:`promised_kpis` computes them (the same truncated binomial): arrays (rows, max width),
    NaN beyond a row's ``hi``."""
    keep = 1.0 - float(residual)
    rows = load.size
    width = int((hi - lo).max()) + 1
    ns = lo[:, None] + np.arange(width)[None, :]  # (rows, width) head counts
    valid = ns <= hi[:, None]
    kmin = _low(lo, keep)
    span = int((hi - kmin).max()) + 1
    ks = kmin[:, None] + np.arange(span)[None, :]  # (rows, span) available agents
    need = ks <= hi[:, None]
    r_idx = np.repeat(np.arange(rows), need.sum(axis=1))
    st = _state_rows(load[r_idx], ks[need], aht[r_idx], interval_min, target, residual)
    tab = {c: np.zeros((rows, span)) for c in ("service_level", "answered", "wait_s", "carried")}
    tab["slots"] = np.zeros((rows, span))
    for c in tab:
        tab[c][need] = st[c]
    # P(K = k | n) for k >= _low(n), renormalised: (rows, width, span)
    nn = np.where(valid, ns, 0)
    w = np.where(
        (ks[:, None, :] <= nn[:, :, None]) & (ks[:, None, :] >= _low(nn, keep)[:, :, None]),
        stats.binom.pmf(ks[:, None, :], nn[:, :, None], keep) if keep < 1.0 else 0.0,
        0.0,
    )
    if keep >= 1.0:
        w = (ks[:, None, :] == nn[:, :, None]).astype(float)
    w /= np.maximum(w.sum(axis=2, keepdims=True), 1e-300)

    def e(x: np.ndarray) -> np.ndarray:
        return np.einsum("rwk,rk->rw", w, x)

    ans = e(tab["answered"])
    slots = e(tab["slots"])
    out = {
        "service_level": np.clip(e(tab["service_level"]), 0.0, 1.0),
        "asa_s": e(tab["answered"] * tab["wait_s"]) / np.maximum(ans, 1e-300),
        "abandon_rate": np.where(1.0 - ans < 1e-12, 0.0, np.clip(1.0 - ans, 0.0, 1.0)),
        "occupancy": np.where(slots > 0, e(tab["carried"]) / np.where(slots > 0, slots, 1.0), 0.0),
    }
    return {k: np.where(valid, v, np.nan) for k, v in out.items()}


def promised_heads(
    volume: np.ndarray,
    aht_s: np.ndarray,
    interval_min: float,
    target: Target,
    residual: float,
    start: np.ndarray | None = None,
) -> np.ndarray:
    """Smallest heads [agents] whose *promised* KPIs (:func:`promised_kpis`) meet every target
    of ``target``, per interval.

    0 for zero volume. ``start`` (optional, per interval) is a first guess of
    the answer, e.g. ``ceil(required / (1 − residual))``; the search looks in
    a bracket around it and moves the bracket until it holds the smallest n
    (the promised KPIs improve with the heads), computing per-state KPIs only
    for the available agents the bracket's binomials weigh. Raises
    ``InputError`` when no staffing up to 10,000 heads meets the target.
    """
    v, h, m, shape = _inputs(volume, aht_s, interval_min)
    out = np.zeros(v.size, dtype=np.int64)
    live = np.flatnonzero(v > 0)
    if not live.size:
        return out.reshape(shape)
    tgt = realtime_target(target)
    load = offered_load(v, m, h)
    guess = (
        np.ones(v.size, dtype=np.int64)
        if start is None
        else np.maximum(np.asarray(start, dtype=np.int64).ravel(), 1)
    )
    todo = live
    lo = np.maximum(np.floor(0.9 * guess[todo]).astype(np.int64) - 1, 0)
    hi = guess[todo] + 2
    while todo.size:
        if int(hi.max()) > 10_000:
            raise InputError(
                "target cannot be met",
                expected="a reachable target",
                found=f"{target}",
                hint="no staffing up to 10,000 agents meets it once residual shrinkage is "
                "counted; relax the service level, ASA or answer time",
            )
        k = _bracket_kpis(load[todo], h[todo], float(m[0]), tgt, residual, lo, hi)
        ok = _meets(tgt, k) & np.isfinite(k["service_level"])
        found = ok.any(axis=1)
        first = lo + np.argmax(ok, axis=1)
        done = found & ((first > lo) | (lo == 0))
        out[todo[done]] = first[done]
        up = ~found  # even the bracket's top falls short: look above it
        down = found & ~done  # its bottom already meets the targets: look below it
        width = hi - lo + 1
        new_lo = np.where(up, hi + 1, np.maximum(lo - 2 * width, 0))
        new_hi = np.where(up, hi + 2 * width + 2, lo)
        keep_rows = up | down
        todo, lo, hi = todo[keep_rows], new_lo[keep_rows], new_hi[keep_rows]
    return out.reshape(shape)


def interval_kpis(
    interval_start: Sequence[object],
    queues: Sequence[str],
    volume: np.ndarray,
    aht_s: np.ndarray,
    agents: np.ndarray,
    interval_min: int,
    targets: Sequence[Target],
    residuals: Sequence[float],
    stays: np.ndarray | None = None,
    moves: np.ndarray | None = None,
    report: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Per (interval, queue) promised KPIs: :data:`INTERVAL_COLUMNS`.

    ``volume``, ``aht_s``, ``agents`` (on-phone heads allocated, before
    shrinkage) have shape (n_queues, n), the n intervals contiguous in time
    order (each queue is carried across them: :func:`plans_kpis`); ``targets``
    and ``residuals`` one per queue; ``stays`` (n_queues, n) the heads also
    on the queue in the interval before (default: as many as the heads
    allow); ``moves`` (n_queues, n_queues, n) who came from which queue
    (:func:`~staffplan.evaluate.plan_promise.plans_kpis`; default none).
    Rows for the queues ``report`` (default all); intervals without volume
    are left out.
    """
    v = np.nan_to_num(np.asarray(volume, dtype=float))
    a = np.nan_to_num(np.asarray(aht_s, dtype=float))
    keep = (v > 0) & (a > 0)
    shown = [q for q in (range(len(queues)) if report is None else report) if keep[q].any()]
    plans = plans_kpis(
        np.where(keep, v, 0.0),
        a,
        interval_min,
        agents,
        targets,
        residuals,
        stays,
        moves,
        shown,
    )
    parts = []
    for q in shown:
        name, plan, kq = queues[q], plans[q], keep[q]
        heads = np.asarray(agents[q], dtype=float)[kq]
        k = plan[kq].reset_index(drop=True)
        frame = pd.DataFrame(
            {
                "interval_start": np.asarray(interval_start, dtype=object)[kq],
                "queue": name,
                "volume": v[q][kq],
                "aht_seconds": a[q][kq],
                "agents": np.rint(heads).astype(np.int64),
                "available": k["available"].to_numpy(),
            }
        )
        for col in METRICS:
            frame[col] = k[col].to_numpy(dtype=float)
        parts.append(frame)
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in INTERVAL_COLUMNS})
    return pd.concat(parts, ignore_index=True)[list(INTERVAL_COLUMNS)]


def week_kpis(per_interval: pd.DataFrame, interval_min: int) -> pd.DataFrame:
    """One row per queue plus ``all`` (:data:`WEEK_COLUMNS`).

    Service level, p_wait and abandonment weighted by contacts offered; ASA
    by contacts answered; occupancy by available agents; agent_hours [h] are
    on-phone heads, available_hours [h] the expected agents after shrinkage.
    """
    rows = []
    groups = [*per_interval.groupby("queue", sort=False), ("all", per_interval)]
    for name, g in groups:
        vol = g["volume"].to_numpy(dtype=float)
        row: dict[str, object] = {"queue": name, "volume": float(vol.sum())}
        answered = vol * (1.0 - g["abandon_rate"].to_numpy(dtype=float))
        for m, wt in (
            ("service_level", vol),
            ("p_wait", vol),
            ("abandon_rate", vol),
            ("asa_s", answered),
        ):
            vals = g[m].to_numpy(dtype=float)
            ok = np.isfinite(vals) & np.isfinite(wt)
            row[m] = (
                float((vals[ok] * wt[ok]).sum() / wt[ok].sum())
                if ok.any() and wt[ok].sum() > 0
                else float("nan")
            )
        avail = g["available"].to_numpy(dtype=float)
        occ = g["occupancy"].to_numpy(dtype=float)
        ok = np.isfinite(occ) & (avail > 0)
        row["occupancy"] = (
            float((occ[ok] * avail[ok]).sum() / avail[ok].sum()) if ok.any() else float("nan")
        )
        row["agent_hours"] = float(g["agents"].to_numpy(dtype=float).sum()) * interval_min / 60.0
        row["available_hours"] = float(avail.sum()) * interval_min / 60.0
        rows.append(row)
    return pd.DataFrame(rows, columns=list(WEEK_COLUMNS))


def scenario_targets(scenario: Any, queues: Sequence[str]) -> list[Target]:
    """The queueing target of each named scenario queue."""
    from staffplan.queueing import target_for_queue

    return [target_for_queue(scenario.queue(q)) for q in queues]


def roster_kpis(
    problem: Any,
    allocation: np.ndarray,
    scenario: Any,
    stays: np.ndarray | None = None,
    moves: np.ndarray | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """(per-interval, week) promised KPIs of a roster's allocation (on-phone heads per queue and
    interval), ``stays`` (those also on the queue in the interval before:
    ``roster.extract.queue_stays``; default as many as the heads allow) and ``moves`` (who came
    from which queue: ``roster.extract.queue_moves``; default none), or None without volumes or
    a scenario. Deferred queues (email, back-office) have no per-interval KPIs and are left out
    (their agents still come busy to the queues they move to).
    """
    from staffplan.shrinkage import queue_residuals

    dem = problem.demand
    if dem.volume is None or scenario is None:
        return None
    targets = scenario_targets(scenario, dem.queues)
    own = getattr(dem, "residual", None)  # the roster's residual per queue, when it carries one
    if own is not None:
        residual = dict(zip(dem.queues, (float(r) for r in own), strict=True))
    else:
        residual = queue_residuals(scenario, problem.templates)
    grid = problem.grid
    starts = [t.isoformat() for t in grid.starts]
    per = interval_kpis(
        starts,
        dem.queues,
        dem.volume,
        dem.aht_s,
        allocation,
        grid.interval_min,
        targets,
        [residual[q] for q in dem.queues],
        stays,
        moves,
        [q for q, t in enumerate(targets) if t.deadline_hours is None],
    )
    return per, week_kpis(per, grid.interval_min)


class WeekPromise:
    """The promised week service level of allocations, cheap enough for every solver progress line.

    The same figure as :func:`roster_kpis` (:func:`plans_kpis`, the queue carried
    across intervals); successive incumbents reuse every segment of a queue's
    week they did not change (:func:`staffplan.queueing.carried.carried_kpis`
    remembers them). Deferred queues (``targets`` None or with a deadline) and
    intervals without volume are left out, as in :func:`roster_kpis`.
    """

    def __init__(
        self,
        volume: np.ndarray,
        aht_s: np.ndarray,
        interval_min: float,
        targets: Sequence[Target | None],
        residuals: Sequence[float],
    ) -> None:
        vol = np.nan_to_num(np.asarray(volume, dtype=float))
        aht = np.nan_to_num(np.asarray(aht_s, dtype=float))
        self._vol = np.where(aht > 0, vol, 0.0)
        self._aht = aht
        self.queues = tuple(
            q
            for q, t in enumerate(targets)
            if t is not None and t.deadline_hours is None and bool((self._vol[q] > 0).any())
        )
        self._interval_min = float(interval_min)
        self._targets = tuple(targets)
        self._residuals = tuple(float(r) for r in residuals)
        self.total = float(self._vol[list(self.queues)].sum()) if self.queues else 0.0
        self.spent_s = 0.0  # CPU spent in :meth:`service_level` [s]
        self.calls = 0

    def affordable(self, elapsed_s: float, share: float = PROGRESS_SHARE) -> bool:
        """Whether one more :meth:`service_level` keeps its CPU within ``share`` of ``elapsed_s``
        [s] of solving (the first one always): a progress line must not slow the solve it
        reports (a week of chat kept as one segment costs about 0.5 s per incumbent)."""
        return self.calls == 0 or self.spent_s <= share * elapsed_s

    def service_level(
        self,
        allocation: np.ndarray,
        stays: np.ndarray | None = None,
        moves: np.ndarray | None = None,
    ) -> float | None:
        """Promised week service level [0-1] of on-phone heads per (queue, interval), their
        ``stays`` and ``moves`` (as :func:`roster_kpis`), weighted by contacts offered (the
        ``all`` row of :func:`week_kpis`); None without volume.
        """
        if self.total <= 0:
            return None
        t0 = time.process_time()
        try:
            n = np.rint(np.asarray(allocation, dtype=float)).astype(np.int64)
            plans = plans_kpis(
                self._vol,
                self._aht,
                self._interval_min,
                n,
                self._targets,
                self._residuals,
                stays,
                moves,
                self.queues,
            )
            answered = sum(
                float((self._vol[q] * plans[q]["service_level"].to_numpy()).sum())
                for q in self.queues
            )
            return answered / self.total
        finally:
            self.spent_s += time.process_time() - t0
            self.calls += 1


def week_promise(problem: Any, scenario: Any) -> WeekPromise | None:
    """A :class:`WeekPromise` for a roster problem's demand, or None without volumes or a
    scenario (the residuals and targets of :func:`roster_kpis`).
    """
    from staffplan.shrinkage import queue_residuals

    dem = problem.demand
    if dem.volume is None or scenario is None:
        return None
    targets = scenario_targets(scenario, dem.queues)
    own = getattr(dem, "residual", None)
    if own is not None:
        residual = [float(r) for r in own]
    else:
        by_queue = queue_residuals(scenario, problem.templates)
        residual = [float(by_queue[q]) for q in dem.queues]
    return WeekPromise(dem.volume, dem.aht_s, problem.grid.interval_min, targets, residual)


GAP_COLUMNS = (
    "queue",
    "target",
    "intervals",
    "below_target",
    "mean_shortfall",
    "max_shortfall",
    "contacts_below",
)


def target_gaps(per_interval: pd.DataFrame, targets: Mapping[str, float | None]) -> pd.DataFrame:
    """Per queue, the intervals whose *promised* service level is below the queue's target.

    ``targets`` maps a queue to its service-level target [0-1] (None = no
    target). Columns :data:`GAP_COLUMNS`: intervals with contacts, how many
    are below target, the mean and largest shortfall below it [fraction]
    and the contacts offered in them [contacts].
    """
    rows = []
    for name, g in per_interval.groupby("queue", sort=False):
        tgt = targets.get(str(name))
        if tgt is None:
            continue
        sl = g["service_level"].to_numpy(dtype=float)
        short = np.clip(tgt - sl, 0.0, None)
        below = short > _EPS
        rows.append(
            (
                name,
                float(tgt),
                len(g),
                int(below.sum()),
                float(short[below].mean()) if below.any() else 0.0,
                float(short.max()) if len(short) else 0.0,
                float(g["volume"].to_numpy(dtype=float)[below].sum()),
            )
        )
    return pd.DataFrame(rows, columns=list(GAP_COLUMNS))
