"""A queue carried from interval to interval: the promised KPIs of a staffing plan.

A plan puts ``n_t`` heads on a queue's phones in interval t. Each head is
available with probability 1 − r, independently in every interval; the
queue is never reset between intervals (docs/queueing.md, "Promised KPIs").
The law of (K, N) — agents available, contacts in the system (in service or
waiting) — is carried exactly from the end of one interval to the next:

* **Boundary t − 1 → t.** The B = min(N, s(K')) busy slots and Q = N − B
  waiting contacts of the previous interval's end (s(k) = floor(c k) slots
  for concurrency c), held by a(B) = ceil(B / c) busy agents (sessions
  packed). When the heads fall, A_s ~ Hypergeometric(n_{t−1}, a(B), n_t) of
  them are still scheduled (those who leave are any of them), with
  B_s = min(B, c A_s) sessions. Each is available again with probability
  1 − r: x ~ Binomial(a(B_s), 1 − r) keep min(B_s, c x) sessions; an agent
  lost or gone finishes its contacts off the queue, where they no longer
  delay anyone. The other scheduled heads are available with probability
  1 − r and idle: K = x + Binomial(n_t − a(B_s), 1 − r) ~ Binomial(n_t, 1 − r)
  and N = min(B_s, c x) + Q. For c = 1 this is exact.
* **During.** With K = k fixed, the number in system is the birth–death
  chain of :mod:`staffplan.queueing.interval` (Poisson arrivals, exponential
  handling and patience); uniformization gives its time average, which
  arrivals see (PASTA), and its law at the interval's end.
* **A contact** is valued per state as in :func:`~staffplan.queueing.interval.arrival_values`.

The chain starts empty at the first interval. Once it is empty to within
``EMPTY`` (no contact in the system), the future does not depend on the past:
the state is set to exactly empty there, so a plan's KPIs split into
independent *segments* (:func:`segment`), remembered by their inputs.
"""

from __future__ import annotations

import functools
import hashlib
import math
import threading
from dataclasses import dataclass

import numba
import numpy as np
from scipy import stats

from staffplan.queueing.erlang import FArray
from staffplan.queueing.interval import _TAIL, _rates, arrival_values, uniformize
from staffplan.queueing.staffing import _slots

EMPTY = 1e-13  # probability of a contact in the system below which the queue counts as empty
_MASS = 1e-15  # probability mass dropped from the tails of the state law
KPI_FIELDS = ("service_level", "answered", "answered_wait_s", "p_wait", "carried", "slots")


@dataclass(frozen=True)
class QueueModel:
    """What the carried chain needs of one queue: ``interval_s`` [s], ``residual`` [0-1) the
    probability that a head is lost in an interval, ``concurrency`` [contacts per agent],
    ``answer_within_s`` [s] and ``patience_s`` [s] (None: nobody abandons, Erlang C)."""

    interval_s: float
    residual: float
    concurrency: float
    answer_within_s: float
    patience_s: float | None


def _agents(x: np.ndarray, c: float) -> np.ndarray:
    return np.ceil(np.asarray(x, dtype=float) / c - 1e-9).astype(np.int64)


def _busy_waiting(end: FArray, k0: int, c: float) -> FArray:
    """F[B, Q]: busy slots and waiting contacts from the end law ``end`` (rows k = k0.., cols N)."""
    ks = k0 + np.arange(end.shape[0])
    s = _slots(ks.astype(float), c).astype(np.int64)
    n_states = end.shape[1]
    out = np.zeros((int(s.max()) + 1, n_states))
    for row, si in zip(end, s, strict=True):
        m = min(int(si), n_states)
        out[np.arange(m), 0] += row[:m]
        if n_states > si:
            out[si, : n_states - si] += row[si:]
    return out


def _kept(b: int, agents: int, x: int, c: float) -> tuple[tuple[int, float], ...]:
    """(sessions, probability) kept when ``x`` of the ``agents`` holding ``b`` packed sessions
    stay, any of them alike: with a whole concurrency c the one partly busy agent is among them
    with probability x / agents; otherwise min(b, floor(c x))."""
    ci = int(c)
    rem = b - ci * (agents - 1) if agents else 0
    if ci != c or agents == 0 or rem == ci:
        return ((min(b, int(math.floor(c * x + 1e-9))), 1.0),)
    p = x / agents
    return ((ci * (x - 1) + rem, p), (ci * x, 1.0 - p))


def _scheduled(busy: FArray, before: int, stay: int, c: float) -> FArray:
    """The busy slots whose agents stay on the queue when ``stay`` of the ``before`` heads do:
    rows B -> the sessions of A_s ~ Hypergeometric(before, a(B), stay) busy agents who stay (any
    of the agents may be the ones who leave; :func:`_kept`)."""
    if stay >= before:
        return busy
    held = np.minimum(_agents(np.arange(busy.shape[0]), c), before)
    kept = np.arange(min(int(held.max()), stay) + 1)
    # P(A_s = kept | a busy agents) for every a held: one vectorized call, the same values per
    # element as one call each
    hyper = np.asarray(stats.hypergeom.pmf(kept[None, :], before, held[:, None], stay), float)
    out = np.zeros_like(busy)
    _scheduled_kernel(np.ascontiguousarray(busy), held, np.ascontiguousarray(hyper), stay, c, out)
    return out


@numba.njit(cache=True, nogil=True)
def _scheduled_kernel(
    busy: FArray, held: np.ndarray, hyper: FArray, stay: int, c: float, out: FArray
) -> None:  # pragma: no cover - compiled
    """out[slots] += P(kept | held[B]) P(slots | kept) F[B] for every row B with mass, in the
    order of rows, kept and :func:`_kept`'s branches (hyper[B, kept]: the hypergeometric law)."""
    n_b, n_q = busy.shape
    ci = int(c)
    for b in range(n_b):
        nonzero = False
        for q in range(n_q):
            if busy[b, q] != 0.0:
                nonzero = True
                break
        if not nonzero:
            continue
        agents = held[b]
        rem = b - ci * (agents - 1) if agents else 0
        split = not (ci != c or agents == 0 or rem == ci)
        for kept in range(min(agents, stay) + 1):
            w = hyper[b, kept]
            if not w > 0:
                continue
            for branch in range(2):
                if split:
                    p = kept / agents
                    slots = ci * (kept - 1) + rem if branch == 0 else ci * kept
                    p = p if branch == 0 else 1.0 - p
                elif branch == 0:
                    slots = min(b, int(math.floor(c * kept + 1e-9)))
                    p = 1.0
                else:
                    continue
                if p > 0:
                    f = w * p
                    for q in range(n_q):
                        out[slots, q] += f * busy[b, q]


@functools.lru_cache(maxsize=64)
def _binomials(heads: int, keep: float) -> FArray:
    """P(Binomial(m, keep) = j) for m, j = 0..heads: (heads + 1, heads + 1), read-only."""
    m = np.arange(heads + 1)
    out = np.where(m[None, :] <= m[:, None], stats.binom.pmf(m[None, :], m[:, None], keep), 0.0)
    out.setflags(write=False)
    return out


def _admit(busy: FArray, heads: int, keep: float, c: float) -> FArray:
    """G[k, N]: the law at an interval's start (agents available k = 0..heads, contacts N)."""
    n_b, n_q = busy.shape
    out = np.zeros((heads + 1, n_q + n_b))
    table = _binomials(max(heads, n_b - 1), keep)
    _admit_kernel(np.ascontiguousarray(busy), table, heads, c, _MASS * 1e-3, out)
    return out


@numba.njit(cache=True, nogil=True)
def _admit_kernel(
    busy: FArray, table: FArray, heads: int, c: float, tiny: float, out: FArray
) -> None:  # pragma: no cover - compiled
    """out[x + j, kept + Q] += P(x | a(B_s)) P(kept | x) P(j | heads − a(B_s)) F[B_s, Q]: x of
    the a(B_s) busy agents are available again and keep their sessions (:func:`_kept`), j of the
    others are available (module docstring)."""
    n_b, n_q = busy.shape
    ci = int(c)
    whole = ci == c
    for bs in range(n_b):
        mass = 0.0
        for q in range(n_q):
            mass += busy[bs, q]
        if mass <= tiny:
            continue
        held = min(int(math.ceil(bs / c - 1e-9)), heads)
        rest = heads - held
        rem = bs - ci * (held - 1) if held > 0 else 0
        for x in range(held + 1):
            u = table[held, x]
            if u <= tiny:
                continue
            for branch in range(2):
                if whole and held > 0 and rem != ci:
                    p_in = x / held
                    b = ci * (x - 1) + rem if branch == 0 else ci * x
                    pb = p_in if branch == 0 else 1.0 - p_in
                elif branch == 0:
                    b = min(bs, int(math.floor(c * x + 1e-9)))
                    pb = 1.0
                else:
                    continue
                if pb <= 0.0:
                    continue
                for j in range(rest + 1):
                    w = u * pb * table[rest, j]
                    if w == 0.0:
                        continue
                    for q in range(n_q):
                        out[x + j, b + q] += w * busy[bs, q]


def _room(start: FArray, lam: float, mu: float, theta: float, interval_s: float) -> int:
    """States the interval needs, but for a tail of ``_MASS``: every contact leaves at rate
    >= min(μ, θ), so N(T) is stochastically below N(0) + Poisson(λ (1 − e^{−min(μ, θ) T}) /
    min(μ, θ)) (λT without patience); the bound's law is the start's convolved with that Poisson.
    """
    if lam <= 0:
        return start.shape[1]
    rate = min(mu, theta) if theta > 0 else 0.0
    mean = lam * interval_s if rate == 0 else lam * -np.expm1(-rate * interval_s) / rate
    top = int(stats.poisson.isf(_TAIL, mean)) + 1
    law = np.convolve(start.sum(axis=0), stats.poisson.pmf(np.arange(top + 1), mean))
    tail = np.cumsum(law[::-1])[::-1]
    return max(int(np.flatnonzero(tail >= _MASS)[-1]) + 2, start.shape[1])


def _trim_columns(p: FArray) -> FArray:
    """``p`` without the top columns whose total mass is below the tail bound."""
    col = p.sum(axis=0)
    tail = np.cumsum(col[::-1])[::-1]
    keep = int(np.flatnonzero(tail >= _MASS)[-1]) + 1 if (tail >= _MASS).any() else 1
    return p[:, :keep]


def carried_kpis(
    volume: FArray,
    aht_s: FArray,
    heads: np.ndarray,
    model: QueueModel,
    stay: np.ndarray | None = None,
) -> dict[str, FArray]:
    """Expected KPIs per interval of one queue staffed with ``heads`` [agents, whole] in
    contiguous intervals, the queue carried across them (module docstring).

    ``volume`` [contacts] >= 0 and ``aht_s`` [s] > 0 per interval. Returns
    arrays of :data:`KPI_FIELDS`: service_level, answered, answered_wait_s
    [s] (answered × mean wait of the answered, so ASA = answered_wait_s /
    answered) and p_wait are shares of the interval's arrivals (0 without
    arrivals); carried [slots] the interval's own answered work,
    E[min(load · answered(K), s(K))] (its occupancy's numerator, as in
    :mod:`staffplan.queueing.interval`); slots [slots] the expected slots
    available. ``stay`` [agents] per interval: the heads who were also on the
    queue in the interval before (the others arrive idle; those who left
    take their contacts); default min(heads before, heads now), the same
    agents staying as far as the heads allow.
    """
    vol = np.ascontiguousarray(volume, dtype=float)
    aht = np.ascontiguousarray(aht_s, dtype=float)
    n = np.ascontiguousarray(heads, dtype=np.int64)
    st = stays(n, stay)
    out = {f: np.zeros(vol.size) for f in KPI_FIELDS}
    lo = 0
    while lo < vol.size:
        hi, part = _cached_segment(vol, aht, n, st, model, lo)
        for f in KPI_FIELDS:
            out[f][lo:hi] = part[f]
        lo = hi
    return out


def stays(heads: np.ndarray, stay: np.ndarray | None = None) -> np.ndarray:
    """Heads who stay on the queue from each interval to the next [agents]: ``stay`` clipped to
    [0, min(heads before, heads now)] (0 in the first interval), by default that minimum."""
    n = np.asarray(heads, dtype=np.int64)
    most = np.minimum(np.r_[0, n[:-1]], n) if n.size else n
    if stay is None:
        return np.ascontiguousarray(most)
    return np.ascontiguousarray(np.clip(np.asarray(stay, dtype=np.int64), 0, most))


_SEGMENTS: dict[tuple[QueueModel, int], dict[int, dict[bytes, dict[str, FArray]]]] = {}
_SEGMENTS_MAX = 4_000_000  # stored results [floats], about 32 MB
_STORED = 0
_LOCK = threading.Lock()  # the web server evaluates plans from several threads


def _digest(
    vol: FArray, aht: FArray, heads: np.ndarray, stay: np.ndarray, lo: int, hi: int, last: bool
) -> bytes:
    """Key of intervals lo..hi − 1's inputs; ``last``: the segment ran to its plan's end (not to an
    empty queue), so it fits only a plan that ends there too."""
    h = hashlib.blake2b(digest_size=16)
    h.update(b"last" if last else b"empty")
    for x in (vol[lo:hi], aht[lo:hi], heads[lo:hi], stay[lo + 1 : hi]):
        h.update(x.tobytes())
    return h.digest()


def _cached_segment(
    vol: FArray, aht: FArray, heads: np.ndarray, stay: np.ndarray, model: QueueModel, lo: int
) -> tuple[int, dict[str, FArray]]:
    """:func:`segment`, remembered: a segment depends only on its own intervals' inputs, so a
    plan that changes one day recomputes that day's segments only (same numbers either way).
    One digest per segment end seen from ``lo``."""
    global _STORED
    with _LOCK:
        ends = sorted(_SEGMENTS.get((model, lo), {}).items())
    for hi, by_key in ends:
        if hi > vol.size:
            continue
        part = by_key.get(_digest(vol, aht, heads, stay, lo, hi, hi == vol.size))
        if part is not None:
            return hi, part
    hi, got = segment(vol, aht, heads, model, lo, stay)
    part = {f: np.array(v, copy=True) for f, v in got.items()}
    key = _digest(vol, aht, heads, stay, lo, hi, hi == vol.size)
    with _LOCK:
        if _STORED >= _SEGMENTS_MAX:
            _SEGMENTS.clear()
            _STORED = 0
        _SEGMENTS.setdefault((model, lo), {}).setdefault(hi, {})[key] = part
        _STORED += len(KPI_FIELDS) * (hi - lo)
    return hi, part


def segment(
    volume: FArray,
    aht_s: FArray,
    heads: np.ndarray,
    model: QueueModel,
    lo: int,
    stay: np.ndarray | None = None,
) -> tuple[int, dict[str, FArray]]:
    """(hi, KPIs of intervals lo..hi − 1): the chain started empty at ``lo`` and run until an
    interval ends empty to within :data:`EMPTY` (then hi is the next one) or the plan ends. The
    result depends only on the inputs of intervals lo..hi − 1 (``stay`` of lo + 1..hi − 1), so
    callers may cache it.
    """
    vol = np.asarray(volume, dtype=float)
    aht = np.asarray(aht_s, dtype=float)
    n = np.asarray(heads, dtype=np.int64)
    st = stays(n, stay)
    keep = 1.0 - float(model.residual)
    c = float(model.concurrency)
    theta = 0.0 if model.patience_s is None else 1.0 / float(model.patience_s)
    t_s = float(model.interval_s)
    m = vol.size
    out = {f: np.zeros(m - lo) for f in KPI_FIELDS}
    end = np.ones((1, 1))  # empty, nobody there
    k0, before = 0, 0
    for t in range(lo, m):
        i = t - lo
        nt = int(n[t])
        busy = _scheduled(_busy_waiting(end, k0, c), before, int(st[t]) if t > lo else 0, c)
        start = _admit(busy, nt, keep, c)
        rows = np.flatnonzero(start.sum(axis=1) > _MASS)
        k0 = int(rows[0]) if rows.size else 0
        start = start[k0 : int(rows[-1]) + 1 if rows.size else 1]
        start = _trim_columns(start / start.sum())
        ks = k0 + np.arange(start.shape[0])
        s = _slots(ks.astype(float), c)
        mu = np.full(ks.size, 1.0 / float(aht[t]))
        lam = np.full(ks.size, float(vol[t]) / t_s)
        n_states = _room(start, float(vol[t]) / t_s, float(mu[0]), theta, t_s)
        p0 = np.pad(start, ((0, 0), (0, n_states - start.shape[1])))
        if vol[t] > 0 or p0[:, 1:].sum() > 0:
            birth, death = _rates(lam, mu, theta, s, n_states)
            pbar, fin = uniformize(p0, birth, death, t_s)
            pbar /= pbar.sum()
        else:
            pbar, fin = p0, p0
        out["slots"][i] = float((start.sum(axis=1) * s).sum())
        if vol[t] > 0:
            within, p_ans, wait, waits = arrival_values(
                n_states, s, mu, theta, np.full(ks.size, float(model.answer_within_s))
            )
            weight = pbar.sum(axis=1)
            ans_k = (pbar * p_ans).sum(axis=1)  # P(K = k, answered)
            load = float(vol[t]) * float(aht[t]) / t_s
            carried = np.minimum(load * ans_k, s * weight)  # min(load · answered(k), s(k)) P(k)
            out["carried"][i] = carried.sum()
            out["service_level"][i] = (pbar * within).sum()
            out["answered"][i] = ans_k.sum()
            out["answered_wait_s"][i] = (pbar * p_ans * wait).sum()
            out["p_wait"][i] = (pbar * waits).sum()
        fin = _trim_columns(fin / fin.sum())
        if fin[:, 1:].sum() < EMPTY:
            return t + 1, {f: v[: i + 1] for f, v in out.items()}
        end, before = fin, nt
    return m, out
