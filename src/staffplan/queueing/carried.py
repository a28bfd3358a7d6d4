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
* **Movers.** A newcomer who served another queue in the interval before finishes what it
  holds there first (the simulator's rule): each of the m movers is available with probability
  1 − r and then still busy elsewhere with probability ``busy`` (from the other queue's end law,
  :class:`Movers`), free after an exponential time of mean ``hold_s``. The chain then counts
  (free agents, blocked movers) and a blocked mover turns free at rate 1 / ``hold_s``; at the
  interval's end the still blocked count as free (a small optimism, docs/queueing.md).
* **A contact** is valued per state as in :func:`~staffplan.queueing.interval.arrival_values`,
  the blocked movers turning free adding their rate to the free slots' completions.

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
from scipy import special as sc
from scipy import stats

from staffplan.queueing.erlang import FArray
from staffplan.queueing.interval import _TAIL, _rates, arrival_values, uniformize
from staffplan.queueing.staffing import _slots

try:  # the ufunc behind scipy.stats.hypergeom.pmf (k, marked, drawn, total)
    from scipy.special._ufuncs import _hypergeom_pmf as _HYPERGEOM_PMF
except ImportError:  # pragma: no cover - another SciPy: the public (slower) route
    _HYPERGEOM_PMF = None

EMPTY = 1e-13  # probability of a contact in the system below which the queue counts as empty
_MASS = 1e-15  # probability mass dropped from the tails of the state law
KPI_FIELDS = ("service_level", "answered", "answered_wait_s", "p_wait", "carried", "slots")
END_FIELDS = ("busy_end", "hold_end")  # the queue as movers leave it: see :func:`carried_kpis`
FIELDS = KPI_FIELDS + END_FIELDS


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


@dataclass(frozen=True, eq=False)
class Movers:
    """Newcomers to a queue who served another queue in the interval before, per interval:
    ``count`` [agents, whole], ``busy`` [0-1] the probability that one still holds contacts
    there (before it is lost or not to this queue's residual) and ``hold_s`` [s] > 0 the mean
    time it then needs to finish them (exponential)."""

    count: np.ndarray
    busy: np.ndarray
    hold_s: np.ndarray

    def at(self, t: int) -> tuple[int, float, float]:
        """(count, busy, hold_s) of interval ``t``; no mover when busy or count is 0."""
        m, b = int(self.count[t]), float(self.busy[t])
        if m <= 0 or not b > 0:
            return 0, 0.0, 1.0
        return m, min(b, 1.0), float(self.hold_s[t])


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


def _scheduled(busy: FArray, before: int, stay: int, c: float) -> FArray:
    """The busy slots whose agents stay on the queue when ``stay`` of the ``before`` heads do:
    rows B -> the sessions of A_s ~ Hypergeometric(before, a(B), stay) busy agents who stay (any
    of the agents may be the ones who leave; :func:`_scheduled_kernel`)."""
    if stay >= before:
        return busy
    held = np.minimum(_agents(np.arange(busy.shape[0]), c), before)
    hyper = np.zeros((held.size, min(int(held.max()), stay) + 1))
    for a in np.unique(held):  # each count of busy agents once (remembered across intervals)
        w = _hypergeom(before, int(a), stay)
        hyper[held == a, : len(w)] = w
    out = np.zeros_like(busy)
    _scheduled_kernel(np.ascontiguousarray(busy), held, hyper, stay, c, out)
    return out


@numba.njit(cache=True, nogil=True)
def _scheduled_kernel(
    busy: FArray, held: np.ndarray, hyper: FArray, stay: int, c: float, out: FArray
) -> None:  # pragma: no cover - compiled
    """out[slots] += P(kept | held[B]) P(slots | kept) F[B] for every row B with mass
    (hyper[B, kept]: the hypergeometric law of the busy agents who stay; the sessions they keep:
    :func:`_kept_sessions`)."""
    n_b, n_q = busy.shape
    cols = np.empty(n_q, dtype=np.int64)
    for b in range(n_b):
        n_nz = _nonzero(busy, b, cols)
        if n_nz == 0:
            continue
        agents = held[b]
        for kept in range(min(agents, stay) + 1):
            w = hyper[b, kept]
            if not w > 0:
                continue
            for branch in range(2):
                slots, p = _kept_sessions(b, agents, kept, c, branch)
                if p > 0:
                    f = w * p
                    for i in range(n_nz):
                        q = cols[i]
                        out[slots, q] += f * busy[b, q]


@numba.njit(cache=True, nogil=True)
def _nonzero(busy: FArray, b: int, cols: np.ndarray) -> int:  # pragma: no cover - compiled
    """The columns q where busy[b, q] != 0, into ``cols``; their count. The kernels add only
    those: adding f · 0 to a sum of non-negative terms leaves it as it is, bit for bit."""
    n = 0
    for q in range(busy.shape[1]):
        if busy[b, q] != 0.0:
            cols[n] = q
            n += 1
    return n


@numba.njit(cache=True, nogil=True)
def _kept_sessions(
    b: int, agents: int, kept: int, c: float, branch: int
) -> tuple[int, float]:  # pragma: no cover - compiled
    """(sessions kept, probability) of ``branch`` 0 or 1 when ``kept`` of the ``agents`` holding
    ``b`` packed sessions keep theirs, any of them alike: with a whole concurrency c the one
    partly busy agent is among them with probability kept / agents (branch 0) or not (branch 1);
    otherwise min(b, floor(c kept)) (branch 0; branch 1 has probability 0)."""
    ci = int(c)
    rem = b - ci * (agents - 1) if agents > 0 else 0
    if ci == c and agents > 0 and rem != ci:
        p = kept / agents
        if branch == 0:
            return ci * (kept - 1) + rem, p
        return ci * kept, 1.0 - p
    if branch == 0:
        return min(b, int(math.floor(c * kept + 1e-9))), 1.0
    return 0, 0.0


@functools.lru_cache(maxsize=65536)
def _hypergeom(before: int, agents: int, stay: int) -> tuple[float, ...]:
    """P(kept = 0..min(agents, stay)) busy agents among ``stay`` of ``before`` heads."""
    kept = np.arange(min(agents, stay) + 1)
    return tuple(hypergeom_pmf(kept, before, agents, stay).tolist())


def hypergeom_pmf(k: np.ndarray, total: int, marked: int, drawn: int) -> FArray:
    """``scipy.stats.hypergeom.pmf(k, total, marked, drawn)`` for whole k >= 0, the same numbers
    (the same ufunc, clipped to [0, 1], 0 outside the support, NaN for bad parameters) without
    the generic wrapper's checks, which cost 20 times the value itself on short ``k``."""
    if _HYPERGEOM_PMF is None:
        return np.asarray(stats.hypergeom.pmf(k, total, marked, drawn), dtype=float)
    k = np.asarray(k)
    out = np.zeros(k.shape)
    if not (total > 0 and 0 <= marked <= total and 0 <= drawn <= total):
        out[:] = np.nan
        return out
    on = (k >= max(drawn - (total - marked), 0)) & (k <= min(marked, drawn))
    if on.any():
        args = (float(marked), float(drawn), float(total))
        out[on] = np.clip(_HYPERGEOM_PMF(k[on].astype(float), *args), 0, 1)
    return out


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
    the a(B_s) busy agents are available again and keep their sessions (as in
    :func:`_kept_sessions`), j of the others are available (module docstring)."""
    n_b, n_q = busy.shape
    cols = np.empty(n_q, dtype=np.int64)
    for bs in range(n_b):
        mass = 0.0
        for q in range(n_q):
            mass += busy[bs, q]
        if mass <= tiny:
            continue
        n_nz = _nonzero(busy, bs, cols)
        held = min(int(math.ceil(bs / c - 1e-9)), heads)
        rest = heads - held
        for x in range(held + 1):
            u = table[held, x]
            if u <= tiny:
                continue
            for branch in range(2):
                b, pb = _kept_sessions(bs, held, x, c, branch)
                if pb <= 0.0:
                    continue
                for j in range(rest + 1):
                    w = u * pb * table[rest, j]
                    if w == 0.0:
                        continue
                    for i in range(n_nz):
                        q = cols[i]
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
    movers: Movers | None = None,
) -> dict[str, FArray]:
    """Expected KPIs per interval of one queue staffed with ``heads`` [agents, whole] in
    contiguous intervals, the queue carried across them (module docstring).

    ``volume`` [contacts] >= 0 and ``aht_s`` [s] > 0 per interval. Returns
    arrays of :data:`FIELDS`: service_level, answered, answered_wait_s
    [s] (answered × mean wait of the answered, so ASA = answered_wait_s /
    answered) and p_wait are shares of the interval's arrivals (0 without
    arrivals); carried [slots] the interval's own answered work,
    E[min(load · answered(K), s(K))] (its occupancy's numerator, as in
    :mod:`staffplan.queueing.interval`); slots [slots] the expected slots
    available; busy_end [agents] the expected agents still holding contacts
    at the interval's end and hold_end [agent·s] the expected sum of the
    times they need to finish them all (a chat agent: its last session). ``stay``
    [agents] per interval: the heads who were also on the queue in the
    interval before (the others arrive idle; those who left take their
    contacts); default min(heads before, heads now), the same agents staying
    as far as the heads allow. ``movers``: which of the others come busy from
    another queue (:class:`Movers`; default none).
    """
    vol = np.ascontiguousarray(volume, dtype=float)
    aht = np.ascontiguousarray(aht_s, dtype=float)
    n = np.ascontiguousarray(heads, dtype=np.int64)
    st = stays(n, stay)
    mv = _movers(movers, n, st)
    out = {f: np.zeros(vol.size) for f in FIELDS}
    lo = 0
    while lo < vol.size:
        hi, part = _cached_segment(vol, aht, n, st, mv, model, lo)
        for f in FIELDS:
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


def _movers(movers: Movers | None, heads: np.ndarray, stay: np.ndarray) -> Movers | None:
    """``movers`` with counts clipped to the newcomers, busy to [0, 1], zero where none is busy;
    None when no mover is busy anywhere."""
    if movers is None:
        return None
    count = np.clip(np.asarray(movers.count, dtype=np.int64), 0, heads - stay)
    busy = np.clip(np.nan_to_num(np.asarray(movers.busy, dtype=float)), 0.0, 1.0)
    hold = np.asarray(movers.hold_s, dtype=float)
    live = (count > 0) & (busy > 0) & np.isfinite(hold) & (hold > 0)
    if not live.any():
        return None
    return Movers(
        np.ascontiguousarray(np.where(live, count, 0)),
        np.ascontiguousarray(np.where(live, busy, 0.0)),
        np.ascontiguousarray(np.where(live, hold, 1.0)),
    )


_SEGMENTS: dict[tuple[QueueModel, int], dict[int, dict[bytes, dict[str, FArray]]]] = {}
_SEGMENTS_MAX = 4_000_000  # stored results [floats], about 32 MB
_STORED = 0
_LOCK = threading.Lock()  # the web server evaluates plans from several threads


def _digest(
    vol: FArray,
    aht: FArray,
    heads: np.ndarray,
    stay: np.ndarray,
    movers: Movers | None,
    lo: int,
    hi: int,
    last: bool,
) -> bytes:
    """Key of intervals lo..hi − 1's inputs; ``last``: the segment ran to its plan's end (not to an
    empty queue), so it fits only a plan that ends there too."""
    h = hashlib.blake2b(digest_size=16)
    h.update(b"last" if last else b"empty")
    for x in (vol[lo:hi], aht[lo:hi], heads[lo:hi], stay[lo + 1 : hi]):
        h.update(x.tobytes())
    if movers is not None and movers.count[lo:hi].any():
        for x in (movers.count, movers.busy, movers.hold_s):
            h.update(x[lo:hi].tobytes())
    return h.digest()


def _cached_segment(
    vol: FArray,
    aht: FArray,
    heads: np.ndarray,
    stay: np.ndarray,
    movers: Movers | None,
    model: QueueModel,
    lo: int,
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
        part = by_key.get(_digest(vol, aht, heads, stay, movers, lo, hi, hi == vol.size))
        if part is not None:
            return hi, part
    hi, got = segment(vol, aht, heads, model, lo, stay, movers)
    part = {f: np.array(v, copy=True) for f, v in got.items()}
    key = _digest(vol, aht, heads, stay, movers, lo, hi, hi == vol.size)
    with _LOCK:
        if _STORED >= _SEGMENTS_MAX:
            _SEGMENTS.clear()
            _STORED = 0
        _SEGMENTS.setdefault((model, lo), {}).setdefault(hi, {})[key] = part
        _STORED += len(FIELDS) * (hi - lo)
    return hi, part


def _with_movers(
    start: FArray, movers: int, keep: float, busy: float
) -> tuple[FArray, np.ndarray, np.ndarray]:
    """The start law over (free agents k, blocked movers b, contacts N) when ``movers`` more heads
    come from another queue: each free with probability keep (1 − busy), blocked with keep · busy,
    lost otherwise. Returns (law, k, b), one row per (k, b), the rows closed under a blocked mover
    turning free ((k, b) -> (k + 1, b − 1))."""
    k_in = start.shape[0]
    p_free, p_blk = keep * (1.0 - busy), keep * busy
    law = np.zeros((k_in + movers, movers + 1, start.shape[1]))
    for f in range(movers + 1):
        for b in range(movers + 1 - f):
            lost = movers - f - b
            w = (
                math.comb(movers, f)
                * math.comb(movers - f, b)
                * p_free**f
                * p_blk**b
                * (1.0 - keep) ** lost
            )
            if w > 0:
                law[f : f + k_in, b] += w * start
    mass = law.sum(axis=2) > _MASS
    live = np.zeros_like(mass)
    for i in range(movers + 1):  # (k, b) with mass reaches (k + i, b − i)
        live[i:, : movers + 1 - i] |= mass[: mass.shape[0] - i, i:]
    k, b = np.nonzero(live)
    return law[k, b], k, b


_ROWS = 400  # (free agents, blocked movers) rows above which movers are counted by their mean


def _too_many(start: FArray, movers: int) -> bool:
    """Whether tracking each blocked mover would take more than :data:`_ROWS` rows."""
    rows = int((start.sum(axis=1) > _MASS).sum())
    return (rows + movers) * (movers + 1) > _ROWS


def _free_movers(start: FArray, movers: int, p_free: float) -> FArray:
    """The start law (agents k, N) with ``movers`` more heads, each available and free with
    probability ``p_free``."""
    w = stats.binom.pmf(np.arange(movers + 1), movers, p_free)
    out = np.zeros((start.shape[0] + movers, start.shape[1]))
    for f, pf in enumerate(w):
        out[f : f + start.shape[0]] += pf * start
    return out


def _busy_hold(law: FArray, k: np.ndarray, c: float, aht_s: float) -> tuple[float, float]:
    """(expected agents holding contacts [agents], expected Σ of their times to finish all
    [agent·s]) of a law over (rows with k free agents, N): sessions packed, a chat agent waits
    for its last session (H_j · AHT for j sessions)."""
    ci = max(int(math.floor(c + 1e-9)), 1)
    harmonic = np.cumsum(1.0 / np.arange(1, ci + 1))
    b = np.minimum(np.arange(law.shape[1])[None, :], _slots(k.astype(float), c)[:, None])
    agents = _agents(b, c)
    rem = np.clip(b - ci * (agents - 1), 1, ci).astype(np.int64)
    h = np.where(agents > 0, (agents - 1) * harmonic[-1] + harmonic[rem - 1], 0.0)
    busy = float((law * agents).sum())
    hold = float((law * h).sum()) * aht_s
    return busy, hold


def segment(
    volume: FArray,
    aht_s: FArray,
    heads: np.ndarray,
    model: QueueModel,
    lo: int,
    stay: np.ndarray | None = None,
    movers: Movers | None = None,
) -> tuple[int, dict[str, FArray]]:
    """(hi, :data:`FIELDS` of intervals lo..hi − 1): the chain started empty at ``lo`` and run
    until an interval ends empty to within :data:`EMPTY` (then hi is the next one) or the plan
    ends. The result depends only on the inputs of intervals lo..hi − 1 (``stay`` of lo + 1..hi
    − 1), so callers may cache it.
    """
    vol = np.asarray(volume, dtype=float)
    aht = np.asarray(aht_s, dtype=float)
    n = np.asarray(heads, dtype=np.int64)
    st = stays(n, stay)
    mv = _movers(movers, n, st)
    keep = 1.0 - float(model.residual)
    c = float(model.concurrency)
    theta = 0.0 if model.patience_s is None else 1.0 / float(model.patience_s)
    t_s = float(model.interval_s)
    m = vol.size
    out = {f: np.zeros(m - lo) for f in FIELDS}
    end = np.ones((1, 1))  # empty, nobody there
    k0, before = 0, 0
    for t in range(lo, m):
        i = t - lo
        nt = int(n[t])
        moving, busy_p, hold_s = mv.at(t) if mv is not None else (0, 0.0, 1.0)
        busy = _scheduled(_busy_waiting(end, k0, c), before, int(st[t]) if t > lo else 0, c)
        start = _admit(busy, nt - moving, keep, c)
        if moving and _too_many(start, moving):
            # a large centre: each mover busy elsewhere counts as absent for the whole interval
            # with the chance of being blocked at a random moment of it (same mean capacity)
            absent = busy_p * -math.expm1(-t_s / hold_s) * hold_s / t_s
            start = _free_movers(start, moving, keep * (1.0 - absent))
            moving = 0
        if moving:
            start, ks, blocked = _with_movers(start, moving, keep, busy_p)
        else:
            ks, blocked = np.arange(start.shape[0]), np.zeros(start.shape[0], dtype=np.int64)
            rows = np.flatnonzero(start.sum(axis=1) > _MASS)
            sl = slice(int(rows[0]), int(rows[-1]) + 1) if rows.size else slice(0, 1)
            start, ks, blocked = start[sl], ks[sl], blocked[sl]
        start = _trim_columns(start / start.sum())
        s = _slots(ks.astype(float), c)
        mu = np.full(ks.size, 1.0 / float(aht[t]))
        lam = np.full(ks.size, float(vol[t]) / t_s)
        n_states = _room(start, float(vol[t]) / t_s, float(mu[0]), theta, t_s)
        p0 = np.pad(start, ((0, 0), (0, n_states - start.shape[1])))
        freed = blocked / hold_s  # a blocked mover turns free at rate 1 / hold_s
        if vol[t] > 0 or p0[:, 1:].sum() > 0 or moving:
            birth, death = _rates(lam, mu, theta, s, n_states)
            into = _row_index(ks + 1, blocked - 1, ks, blocked) if moving else None
            pbar, fin = uniformize(p0, birth, death, t_s, freed if moving else None, into)
            pbar /= pbar.sum()
        else:
            pbar, fin = p0, p0
        out["slots"][i] = float((start.sum(axis=1) * _slots((ks + blocked).astype(float), c)).sum())
        if vol[t] > 0:
            within, p_ans, wait, waits = arrival_values(
                n_states,
                s,
                mu,
                theta,
                np.full(ks.size, float(model.answer_within_s)),
                freed if moving else None,
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
        fin = fin / fin.sum()
        busy_end, hold_end = _busy_hold(fin, ks, c, float(aht[t]))
        still = float((fin.sum(axis=1) * blocked).sum())  # blocked movers still busy elsewhere
        out["busy_end"][i] = busy_end + still
        out["hold_end"][i] = hold_end + still * hold_s
        if moving:  # the still blocked count as free from here on (module docstring)
            ks = ks + blocked
            folded = np.zeros((int(ks.max()) + 1, fin.shape[1]))
            np.add.at(folded, ks, fin)
            k_lo = int(ks.min())
            fin = folded[k_lo:]
        else:
            k_lo = int(ks[0])
        fin = _trim_columns(fin)
        if fin[:, 1:].sum() < EMPTY:
            return t + 1, {f: v[: i + 1] for f, v in out.items()}
        tau = float(model.answer_within_s)
        if vol[t] > 0 and t + 1 < m and 0 < tau <= t_s:
            nxt = mv.at(t + 1) if mv is not None else (0, 0.0, 1.0)
            out["service_level"][i] += _crossing_gain(
                fin,
                k_lo,
                _Next(nt, int(n[t + 1]), int(st[t + 1]), *nxt, 1.0 / float(aht[t + 1])),
                c,
                keep,
                1.0 / float(aht[t]),
                theta,
                tau,
                t_s,
            )
        end, before, k0 = fin, nt, k_lo
    return m, out


@dataclass(frozen=True)
class _Next:
    """The boundary after an interval: heads ``now`` and ``after``, stayers, the next interval's
    movers (count, busy, hold [s]) and its service rate ``mu`` [1/s]."""

    now: int
    after: int
    stay: int
    moving: int
    busy: float
    hold_s: float
    mu: float


_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(6)
_SMALL = 1e-10  # a boundary's gain below this share of an interval's arrivals is left out


def _reach_log(pos: np.ndarray, d: np.ndarray, e: np.ndarray, sm: float, theta: float) -> FArray:
    """log P(a contact waiting at position i is at position i − d, still waiting, ``e`` [s]
    later), (positions, d, times): contacts ahead leave at sμ + θ each, it abandons at θ — a
    pure-death chain with rates spaced θ apart, P = Γ(x + i) / Γ(x + i − d) · e^{−(sμ + θ(i −
    d)) e} · (1 − e^{−θe})^d / d! with x = sμ / θ (Poisson(sμe) at d without patience); −inf
    past the head of the queue."""
    i = pos[:, None, None].astype(float)
    dd = d[None, :, None].astype(float)
    t = np.asarray(e, dtype=float)[None, None, :]
    j = np.maximum(i - dd, 1.0)
    if theta > 0:
        x = sm / theta
        out = (
            sc.gammaln(x + i)
            - sc.gammaln(x + j)
            - (sm + theta * j) * t
            + dd * np.log(-np.expm1(-theta * t))
            - sc.gammaln(dd + 1.0)
        )
    else:
        out = dd * np.log(sm * t) - sm * t - sc.gammaln(dd + 1.0) + 0.0 * i
    return np.where(i - dd >= 1, out, -np.inf)


def _within(m: np.ndarray, w: np.ndarray, rate: float, theta: float) -> np.ndarray:
    """P(answered within ``w`` [s]) of a contact at position ``m`` >= 1 when contacts ahead leave
    at ``rate`` [1/s] plus θ each (as :func:`~staffplan.queueing.interval.arrival_values`)."""
    m, w = np.broadcast_arrays(np.asarray(m, dtype=float), np.asarray(w, dtype=float))
    if theta > 0:
        x = rate / theta
        return x / (x + m) * sc.betainc(m, x + 1.0, -np.expm1(-theta * w))
    return sc.gammainc(m, rate * w)


@functools.lru_cache(maxsize=1024)
def _others_available(stay: int, heads: int, keep: float) -> FArray:
    """B[a, j] = P(Binomial(heads − a, keep) = j) for a = 0..stay busy stayers among ``heads``:
    the heads who start idle and are available (read-only)."""
    a = np.arange(stay + 1)[:, None]
    j = np.arange(heads + 1)[None, :]
    out = np.where(j <= heads - a, stats.binom.pmf(j, np.maximum(heads - a, 0), keep), 0.0)
    out.setflags(write=False)
    return out


@functools.lru_cache(maxsize=1024)
def _binomial(trials: int, p: float) -> FArray:
    """P(Binomial(trials, p) = 0..trials), read-only (the same for every row of a boundary)."""
    out = np.asarray(stats.binom.pmf(np.arange(trials + 1), trials, p), dtype=float)
    out.setflags(write=False)
    return out


def _idle_law(s: int, nxt: _Next, keep: float, c: float) -> FArray:
    """P(idle slots = ι) when the next interval starts from ``s`` busy slots: the busy agents
    who stay and are available keep their sessions; the other heads start idle, each available
    with probability ``keep``, and so do the free movers (those still busy elsewhere add no
    slot). An idle agent brings floor(c) slots; for c > 1 the spare slots of a partly busy
    agent are left out (a little conservative)."""
    stay, heads = min(nxt.stay, nxt.now), nxt.after - nxt.moving
    busy = _hypergeom(nxt.now, min(int(_agents(np.array(s), c)), nxt.now), stay)
    agents = np.asarray(busy) @ _others_available(stay, heads, keep)[: len(busy)]
    if nxt.moving:
        agents = np.convolve(agents, _binomial(nxt.moving, keep * (1 - nxt.busy)))
    per = max(int(math.floor(c + 1e-9)), 1)
    if per == 1:
        return agents
    out = np.zeros((agents.size - 1) * per + 1)
    out[::per] = agents
    return out


def _crossing_gain(
    fin: FArray,
    k_lo: int,
    nxt: _Next,
    c: float,
    keep: float,
    mu: float,
    theta: float,
    tau: float,
    t_s: float,
) -> float:
    """What the boundary adds to an interval's service level [share of its arrivals]: a contact
    arriving in its last ``tau`` seconds and still waiting at the boundary is answered at once
    when the next interval starts with at least as many idle slots as its position (agents who
    arrive or are available again), else it waits on from its new position. The interval's
    valuation kept this interval's slots throughout. The law at the end (``fin``, rows k =
    k_lo..) stands for the state such an arrival finds; before the boundary it advances as
    :func:`_reach_log` says and after it at the same rate as before (the next interval's slots
    count only through the idle ones), so with the same agents all available on both sides it is
    the interval's own valuation exactly."""
    e = (_NODES + 1.0) * tau / 2.0  # from the arrival to the boundary [s]
    we = _WEIGHTS * tau / 2.0 / t_s
    gain = 0.0
    slots = _slots(k_lo + np.arange(fin.shape[0], dtype=float), c).astype(np.int64)
    for row, s in zip(fin, slots, strict=True):
        waiting = row[s:]
        if s == 0 or waiting.sum() * tau < _SMALL * t_s:  # adds below _SMALL to the level
            continue
        tail = np.cumsum(waiting[::-1])[::-1]
        waiting = waiting[: int(np.flatnonzero(tail >= EMPTY)[-1]) + 1]
        size = waiting.size
        pos = np.arange(1, size + 1)
        idle = _idle_law(int(s), nxt, keep, c)[: size + 1]
        idle = np.pad(idle, (0, size + 1 - idle.size))
        at_once = np.cumsum(idle[::-1])[::-1][1:]  # P(idle >= j), j = 1..size
        sm = s * mu
        # one call for the three: (position, node) left after the boundary, (position,) the
        # interval's own valuation, (position, node) answered before the boundary
        times = np.concatenate([tau - e, [tau], e])
        both = _within(pos[:, None], times[None, :], sm, theta)
        left, old, served = both[:, : e.size].T.copy(), both[:, e.size], both[:, e.size + 1 :]
        # advances beyond every contact leaving at the largest rate are left out
        most = (sm + theta * size) * tau
        d = np.arange(min(size, int(most + 12.0 * math.sqrt(most) + 12.0)))
        i_d = pos[:, None] - d[None, :]  # the position j = i − d reached at the boundary
        reach = np.exp(_reach_log(pos, d, e, sm, theta))  # (position, d, node)
        reached = np.maximum(i_d, 0)
        for n_i in range(e.size):
            # from position j after the boundary: at once when idle >= j, else from j − idle
            later = idle[0] * left[n_i]
            later[1:] += np.convolve(idle[1:size], left[n_i])[: size - 1]
            value = np.concatenate(([0.0], at_once + later))  # by position, 1-based
            on = (reach[:, :, n_i] * value[reached]).sum(axis=1)
            gain += we[n_i] * float((waiting * (served[:, n_i] + on - old)).sum())
    return gain


def _row_index(k: np.ndarray, b: np.ndarray, ks: np.ndarray, bs: np.ndarray) -> np.ndarray:
    """Index of row (k[i], b[i]) among the rows (ks, bs), −1 where there is none."""
    where = {(int(x), int(y)): r for r, (x, y) in enumerate(zip(ks, bs, strict=True))}
    return np.array(
        [where.get((int(x), int(y)), -1) if y >= 0 else -1 for x, y in zip(k, b, strict=True)],
        dtype=np.int64,
    )
