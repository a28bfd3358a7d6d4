"""Targets, KPIs and staffing: the smallest agent count meeting every target.

Voice uses Erlang C, or Erlang A when the target has a patience. Chat uses the
*slot model*: an agent holds ``concurrency`` sessions at once, so n agents are
floor(c n) independent servers of an M/M/s (or M/M/s+M) queue whose handle
time is the session length measured under concurrency; occupancy is per slot.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from fractions import Fraction

import numpy as np
import numpy.typing as npt
import pandas as pd

from staffplan import limits
from staffplan.errors import InputError
from staffplan.queueing.erlang import (
    ArrayLike,
    FArray,
    erlang_c_metrics,
    log_erlang_b,
    offered_load,
)
from staffplan.queueing.erlang_a import erlang_a_metrics
from staffplan.scenario import DEFERRED_CHANNELS, Queue

IArray = npt.NDArray[np.int64]
_EPS = 1e-12  # tolerance on targets, so 0.8 computed as 0.79999999999 still counts


@dataclass(frozen=True)
class Target:
    """Service targets of one queue.

    ``service_level`` [0-1] of contacts answered within ``answer_within_s`` [s];
    ``asa_max_s`` [s] cap on the average speed of answer; ``abandon_max`` [0-1];
    ``max_occupancy`` [0-1]; ``patience_s`` [s] mean patience (None = Erlang C,
    no abandonment); ``concurrency`` [sessions per agent] (chat);
    ``deadline_hours`` [h] for deferred work (email, back-office).
    With no target at all, the smallest stable staffing is required.
    """

    service_level: float | None = None
    answer_within_s: float | None = None
    asa_max_s: float | None = None
    abandon_max: float | None = None
    max_occupancy: float | None = None
    patience_s: float | None = None
    concurrency: float = 1.0
    deadline_hours: float | None = None

    def __post_init__(self) -> None:
        checks = (
            ("service_level", self.service_level, 0.0, 1.0, False),
            ("abandon_max", self.abandon_max, 0.0, 1.0, False),
            ("max_occupancy", self.max_occupancy, 0.0, 1.0, False),
        )
        for name, value, lo, hi, _ in checks:
            if value is not None and not (lo < value <= hi):
                raise InputError(
                    "target out of range", key=name, expected="a fraction in (0, 1]", found=value
                )
        for name, value in (
            ("answer_within_s", self.answer_within_s),
            ("asa_max_s", self.asa_max_s),
        ):
            if value is not None and not value >= 0:
                raise InputError(
                    "target out of range", key=name, expected="seconds >= 0", found=value
                )
        for name, value in (
            ("patience_s", self.patience_s),
            ("deadline_hours", self.deadline_hours),
        ):
            if value is not None and not value > 0:
                raise InputError(
                    "target out of range", key=name, expected="a number > 0", found=value
                )
        if not self.concurrency >= 1:
            raise InputError(
                "target out of range",
                key="concurrency",
                expected="a number >= 1",
                found=self.concurrency,
            )
        if self.service_level is not None and self.answer_within_s is None:
            raise InputError(
                "incomplete target",
                key="answer_within_s",
                expected="seconds, since service_level is set",
            )

    @property
    def deferred(self) -> bool:
        """Deferred work (a deadline, staffed by workload): no per-interval service level."""
        return self.deadline_hours is not None

    @property
    def sl_within_s(self) -> float:
        """The service-level threshold [s] (20 s when none is set, for reporting)."""
        return float(self.answer_within_s) if self.answer_within_s is not None else 20.0


def target_for_queue(queue: Queue) -> Target:
    """The :class:`Target` of a scenario queue: the one place a queue's target is derived, and
    where email and back-office queues become deferred work (a deadline, :attr:`Target.deferred`).
    """
    deferred = queue.channel in DEFERRED_CHANNELS
    return Target(
        service_level=queue.service_level,
        answer_within_s=queue.answer_within_s,
        asa_max_s=queue.asa_max_s,
        abandon_max=queue.abandon_max,
        max_occupancy=queue.max_occupancy,
        patience_s=queue.patience_s,
        concurrency=float(queue.concurrency) if queue.concurrency is not None else 1.0,
        deadline_hours=queue.deadline_hours if deferred else None,
    )


def _inputs(
    volume: ArrayLike, aht_s: ArrayLike, interval_min: ArrayLike
) -> tuple[FArray, FArray, FArray, tuple[int, ...]]:
    v, h, m = np.broadcast_arrays(
        np.asarray(volume, dtype=float),
        np.asarray(aht_s, dtype=float),
        np.asarray(interval_min, dtype=float),
    )
    shape = v.shape
    v, h, m = v.ravel().copy(), h.ravel().copy(), m.ravel().copy()
    if not np.all(np.isfinite(v) & (v >= 0)):
        raise InputError(
            "bad volume",
            column="volume",
            expected="contacts >= 0 (finite)",
            found=float(v[~(np.isfinite(v) & (v >= 0))][0]),
        )
    if not np.all(np.isfinite(m) & (m > 0)):
        raise InputError(
            "bad interval length",
            column="interval_min",
            expected="minutes > 0",
            found=float(m[~(np.isfinite(m) & (m > 0))][0]),
        )
    bad_h = (v > 0) & ~(np.isfinite(h) & (h > 0))
    if bad_h.any():
        raise InputError(
            "bad handle time",
            column="aht_seconds",
            expected="seconds > 0 where volume > 0",
            found=float(h[bad_h][0]),
        )
    h = np.where(v > 0, h, 1.0)
    load = offered_load(v, m, h)
    if load.size and float(load.max()) > limits.maximum("offered_load"):
        limits.check("offered_load", float(load.max()), column="volume")
    return v, h, m, shape


def _slots(agents: FArray, concurrency: float) -> FArray:
    return np.floor(agents * concurrency + 1e-9)


def _agents_for_slots(slots: IArray, concurrency: float) -> IArray:
    """Smallest n with floor(c n) >= slots."""
    if concurrency == 1.0:
        return slots.astype(np.int64)
    n = np.ceil(slots / concurrency - 1e-9).astype(np.int64)
    n = np.where(_slots(n.astype(float), concurrency) < slots, n + 1, n)
    return np.maximum(n, 0).astype(np.int64)


def _metrics(
    load: FArray, slots: FArray, aht: FArray, target: Target, *, with_asa: bool = True
) -> tuple[FArray, FArray, FArray, FArray, FArray]:
    """(service_level, asa_s, p_wait, occupancy, abandon_rate) with ``slots`` servers."""
    t = np.full(load.shape, target.sl_within_s)
    if target.patience_s is None:
        sl, asa, pw, occ = erlang_c_metrics(load, slots, aht, t)
        return sl, asa, pw, occ, np.zeros(load.shape)
    return erlang_a_metrics(
        load, slots, aht, np.full(load.shape, float(target.patience_s)), t, with_asa=with_asa
    )


def kpis(
    volume: ArrayLike, aht_s: ArrayLike, interval_min: ArrayLike, agents: ArrayLike, target: Target
) -> pd.DataFrame:
    """KPIs per interval with ``agents`` [agents] on the queue, vectorised.

    Fractional agents are allowed: floor(concurrency * agents) servers answer.

    Columns: offered_load [Erlangs], service_level [0-1], asa_s [s], p_wait
    [0-1], occupancy [0-1], abandon_rate [0-1]. No NaN: zero volume gives SL 1
    and zeros; zero agents (or an unstable Erlang C queue) gives SL 0, p_wait 1
    and ASA ``inf``. A deadline target (email, back-office) is evaluated as a
    stationary queue whose service-level threshold is the deadline (unless
    ``answer_within_s`` is set), the same view the simulator takes; its staffing
    plan comes from :func:`staffplan.queueing.deferred.deferred_requirements`.
    """
    if target.deadline_hours is not None:
        within = (
            target.answer_within_s
            if target.answer_within_s is not None
            else target.deadline_hours * 3600.0
        )
        target = replace(target, answer_within_s=within, deadline_hours=None)
    v0, h0, m0, n0 = np.broadcast_arrays(
        np.asarray(volume, dtype=float),
        np.asarray(aht_s, dtype=float),
        np.asarray(interval_min, dtype=float),
        np.asarray(agents, dtype=float),
    )
    v, h, m, _ = _inputs(v0, h0, m0)
    n = n0.ravel()
    if not np.all(np.isfinite(n) & (n >= 0)):
        raise InputError(
            "bad agent count",
            column="agents",
            expected="agents >= 0",
            found=float(n[~(np.isfinite(n) & (n >= 0))][0]),
        )
    if n.size and float(n.max()) > limits.maximum("agents"):
        limits.check("agents", float(n.max()), column="agents")
    load = offered_load(v, m, h)
    sl, asa, pw, occ, ab = _metrics(load, _slots(n, target.concurrency), h, target)
    return pd.DataFrame(
        {
            "offered_load": load,
            "service_level": sl,
            "asa_s": asa,
            "p_wait": pw,
            "occupancy": occ,
            "abandon_rate": ab,
        }
    )


def _meets(
    target: Target, sl: FArray, asa: FArray, occ: FArray, ab: FArray
) -> npt.NDArray[np.bool_]:
    ok = np.ones(sl.shape, dtype=bool)
    if target.service_level is not None:
        ok &= sl >= target.service_level - _EPS
    if target.asa_max_s is not None:
        ok &= asa <= target.asa_max_s + 1e-9
    if target.max_occupancy is not None:
        ok &= occ <= target.max_occupancy + _EPS
    if target.abandon_max is not None:
        ok &= ab <= target.abandon_max + _EPS
    return ok


def _cap(load: FArray, aht: FArray, target: Target) -> FArray:
    """A generous search limit [servers]; a target still unmet there is unreachable."""
    extra = (
        40.0 * aht / max(target.answer_within_s, 1e-3) if target.answer_within_s else 0.0
    )  # capped at 1e6 below anyway
    if target.asa_max_s is not None:
        extra = np.maximum(extra, 40.0 * aht / max(target.asa_max_s, 1e-3))
    return np.ceil(
        load / (target.max_occupancy or 1.0) + 20.0 * np.sqrt(load) + 100.0 + np.minimum(extra, 1e6)
    )


def _unreachable(target: Target, load: float) -> InputError:
    return InputError(
        "target cannot be met",
        expected="a reachable target",
        found=f"{target}",
        hint=f"at an offered load of {load:.1f} Erlangs no agent count reaches it; relax the "
        "service level, ASA or answer time",
    )


def _erlang_c_servers(load: FArray, aht: FArray, target: Target) -> IArray:
    """Smallest stable server count meeting the Erlang C targets (abandonment is 0), by a recursion
    scan.
    """
    out = np.zeros(load.shape, dtype=np.int64)
    idx = np.flatnonzero(load > 0)
    if idx.size == 0:
        return out
    a, h = load[idx], aht[idx]
    cap = _cap(a, h, target)
    k = np.floor(a) + 1.0  # Erlang C needs k > A
    if target.max_occupancy is not None:  # and A / k <= max occupancy
        k = np.maximum(k, np.ceil(a / target.max_occupancy - 1e-9))
    b = np.exp(log_erlang_b(a, k))
    while idx.size:
        sl, asa, _, occ = erlang_c_metrics(a, k, h, np.full(a.shape, target.sl_within_s), b)
        done = _meets(target, sl, asa, occ, np.zeros(a.shape))
        if done.any():
            out[idx[done]] = k[done].astype(np.int64)
        over = ~done & (k >= cap)
        if over.any():
            raise _unreachable(target, float(a[over][0]))
        keep = ~done
        idx, a, h, k, b, cap = idx[keep], a[keep], h[keep], k[keep], b[keep], cap[keep]
        k = k + 1.0
        b = a * b / (k + a * b)
    return out


def _erlang_a_servers(load: FArray, aht: FArray, target: Target) -> IArray:
    """Smallest server count meeting every Erlang A target, by vectorised bisection."""
    out = np.zeros(load.shape, dtype=np.int64)
    idx = np.flatnonzero(load > 0)
    if idx.size == 0:
        return out
    a, h = load[idx], aht[idx]
    need_asa = target.asa_max_s is not None

    def ok(sel: npt.NDArray[np.int64], k: FArray) -> npt.NDArray[np.bool_]:
        sl, asa, _, occ, ab = _metrics(a[sel], k, h[sel], target, with_asa=need_asa)
        return (k >= 1) & _meets(target, sl, asa, occ, ab)

    # lower bound that surely fails: answered contacts <= n/A, so SL and 1 - abandonment <= n/A
    frac = max(target.service_level or 0.0, 1.0 - (target.abandon_max or 1.0))
    lo = np.maximum(np.ceil(frac * a * (1.0 - 1e-9)) - 1.0, 0.0)
    c_target = Target(
        target.service_level, target.answer_within_s, target.asa_max_s, None, target.max_occupancy
    )
    hi = np.maximum(_erlang_c_servers(a, h, c_target).astype(float), lo + 1.0)
    cap = _cap(a, h, target)
    all_i = np.arange(a.size)
    bad = all_i[~ok(all_i, hi)]
    while bad.size:  # rare: the strict SL convention can need more than Erlang C
        lo[bad] = hi[bad]
        hi[bad] = hi[bad] + np.maximum(np.ceil(0.25 * hi[bad]), 1.0)
        if np.any(lo[bad] >= cap[bad]):
            raise _unreachable(target, float(a[bad][lo[bad] >= cap[bad]][0]))
        bad = bad[~ok(bad, hi[bad])]
    act = all_i[hi - lo > 1]
    while act.size:
        mid = np.floor((lo[act] + hi[act]) / 2.0)
        good = ok(act, mid)
        hi[act[good]] = mid[good]
        lo[act[~good]] = mid[~good]
        act = act[hi[act] - lo[act] > 1]
    out[idx] = hi.astype(np.int64)
    return out


def required_agents(
    volume: ArrayLike, aht_s: ArrayLike, interval_min: ArrayLike, target: Target
) -> IArray:
    """Smallest agent count [agents] meeting every target in each interval; 0 when volume is 0.

    Raises :class:`InputError` when a target cannot be met at any staffing
    (e.g. an ASA cap of 0 s without abandonment).
    """
    if target.deadline_hours is not None:
        raise InputError(
            "deferred work is staffed over its deadline window",
            key="deadline_hours",
            hint="use staffplan.queueing.deferred.deferred_requirements",
        )
    v, h, m, shape = _inputs(volume, aht_s, interval_min)
    load = offered_load(v, m, h)
    servers = (
        _erlang_c_servers(load, h, target)
        if target.patience_s is None
        else _erlang_a_servers(load, h, target)
    )
    return _agents_for_slots(servers, target.concurrency).reshape(shape)


def service_level_curve(
    volume: ArrayLike, aht_s: ArrayLike, interval_min: ArrayLike, target: Target, max_agents: int
) -> FArray:
    """Service level [0-1] with k = 0..max_agents agents: shape (n, max_agents + 1), non-decreasing
    in k.

    Zero-volume rows are 1 everywhere. With Erlang C the curve is 0 for every
    k up to the offered load (the queue is unstable there).
    """
    if max_agents < 0:
        raise InputError(
            "bad max_agents", key="max_agents", expected="a whole number >= 0", found=max_agents
        )
    v, h, m, _ = _inputs(volume, aht_s, interval_min)
    load = offered_load(v, m, h)
    ks = np.arange(max_agents + 1, dtype=float)
    slots = _slots(ks, target.concurrency)
    rows, cols = load.size, ks.size
    if target.patience_s is None:
        out = np.empty((rows, cols))
        b = np.ones(rows)
        prev = 0.0
        t = np.full(rows, target.sl_within_s)
        for j, s in enumerate(slots):
            for kk in range(int(prev) + 1, int(s) + 1):
                b = load * b / (kk + load * b)
            prev = s
            out[:, j] = erlang_c_metrics(load, np.full(rows, s), h, t, b)[0]
        return out
    sl = _metrics(
        np.repeat(load, cols), np.tile(slots, rows), np.repeat(h, cols), target, with_asa=False
    )[0]
    return sl.reshape(rows, cols)


def answered_within_curve(
    volume: ArrayLike,
    aht_s: ArrayLike,
    interval_min: ArrayLike,
    target: Target,
    max_agents: int,
    *,
    concave: bool = True,
) -> FArray:
    """Contacts answered within target [contacts] with k = 0..max_agents agents: volume * SL(k).

    With ``concave=True`` (for the roster objective) each row is replaced by
    its least concave majorant through the origin on the first steps: up to
    the tangent point k* = argmax_k ans(k)/k the curve is the chord
    k ans(k*)/k* (every early agent gets the best average gain, which removes
    the Erlang C flat zone below the offered load), and beyond k* the gains
    are made non-increasing by a running minimum (a no-op where the curve is
    already concave). The gains g(k) = ans(k) - ans(k-1) are then
    non-increasing, so "contacts answered late" is convex in the agents.
    """
    v = np.broadcast_to(
        np.asarray(volume, dtype=float),
        np.broadcast_shapes(np.shape(volume), np.shape(aht_s), np.shape(interval_min)),
    ).ravel()
    ans = v[:, None] * service_level_curve(volume, aht_s, interval_min, target, max_agents)
    ans[:, 0] = np.where(v > 0, ans[:, 0], 0.0)
    if not concave or max_agents == 0:
        return ans
    return concave_majorant(ans)


def concave_majorant(values: ArrayLike) -> FArray:
    """Rows of a non-decreasing curve f(0..K) made concave, for the roster objective.

    Up to the tangent point k* = argmax_k (f(k) − f(0))/k the curve is the
    chord f(0) + k (f(k*) − f(0))/k*; beyond k* the gains are made
    non-increasing by a running minimum (a no-op where f is already concave).
    """
    ans = np.array(values, dtype=float, ndmin=2)
    if ans.shape[1] <= 1:
        return ans
    ks = np.arange(1, ans.shape[1], dtype=float)
    ratio = (ans[:, 1:] - ans[:, :1]) / ks
    kstar = np.argmax(ratio, axis=1) + 1  # first k with the best average gain
    slope = ratio[np.arange(ans.shape[0]), kstar - 1]
    gains = np.diff(ans, axis=1)
    gains = np.where(ks[None, :] <= kstar[:, None], slope[:, None], gains)
    gains = np.minimum.accumulate(gains, axis=1)
    return np.concatenate([ans[:, :1], ans[:, :1] + np.cumsum(gains, axis=1)], axis=1)


def scheduled_heads(required: ArrayLike, shrinkage: ArrayLike) -> IArray:
    """ceil(required / (1 - shrinkage)) [agents], exact for decimal shrinkage (0.3 -> 10 for 7, not
    11).
    """
    r_in, s_in = np.broadcast_arrays(np.asarray(required), np.asarray(shrinkage, dtype=float))
    r = r_in.ravel()
    s = s_in.ravel()
    if not np.all(np.isfinite(r.astype(float)) & (r >= 0)):
        raise InputError("bad requirement", column="required", expected="agents >= 0")
    if not np.all((s >= 0) & (s < 1)):
        raise InputError(
            "bad shrinkage",
            column="shrinkage",
            expected="a fraction in [0, 1)",
            found=float(s[~((s >= 0) & (s < 1))][0]),
        )
    out = np.empty(r.shape, dtype=np.int64)
    for value in np.unique(s):
        sel = s == value
        frac = Fraction(repr(float(value))).limit_denominator(10**6)
        keep = 1 - frac  # the on-phone fraction as a rational p/q
        p, q = keep.numerator, keep.denominator
        rr = r[sel]
        if np.issubdtype(rr.dtype, np.integer):
            out[sel] = -((-rr.astype(np.int64) * q) // p)
        else:
            out[sel] = [
                math.ceil(Fraction(repr(float(x))).limit_denominator(10**9) * q / p) for x in rr
            ]
    return out.reshape(r_in.shape)
