"""One planning interval with k agents available, after agents were lost at its start.

The promised KPIs (docs/queueing.md, "Promised KPIs") are expectations over
the agents actually available. This module gives the KPIs of one *state*: an
interval of length T [s] in which exactly k agents (``floor(concurrency k)``
slots) answer, when each agent was lost to residual shrinkage with
probability r independently in every interval. The model:

* **Start.** The queue enters the interval in the state its k agents would
  be in had they been there all along — the stationary state of M/M/s+M
  (Erlang A). Without patience (Erlang C) a queue at or above the offered
  load has no stationary state, so its backlog gets a memory of one
  interval: the stationary state of M/M/s+M with a mean patience of T (the
  contacts an interval inherits are those of about the last interval). Then
  each busy slot's agent was, with probability r, not among this interval's
  agents: it finishes its contact off the queue, so the interval starts
  with Binomial(busy, 1 − r) busy slots and every waiting contact. With
  r = 0 the Erlang A state is exactly the stationary Erlang A queue.
* **During.** Poisson arrivals at rate λ = volume / T, exponential handling
  (mean AHT) and patience (mean ``patience_s``; none = Erlang C), first come
  first served; the number in system is a birth–death chain, solved exactly
  over [0, T] by uniformization. Arrivals see its time average (PASTA).
* **A contact.** One that finds i − 1 contacts waiting ahead (position i)
  advances at rate sμ + θ(i − 1) and abandons at rate θ (x = sμ/θ), so
  P(answered) = x/(x + i), P(answered within t) = x/(x + i) · I_q(i, x + 1)
  with q = 1 − e^{−θt} (regularised incomplete beta), and its mean wait if
  answered is (ψ(x + i + 1) − ψ(x + 1))/θ. Without patience the wait is
  Gamma(i, sμ). The k agents keep serving it after the interval ends.
* **No agent (k = 0).** Nobody is answered within the threshold. With
  patience every contact abandons (the stationary limit); without it a
  contact is answered later, and is counted with the mean wait one agent
  would give it — finite, and never less than with more agents.

Every result is finite. Chat: slots are servers and a busy slot's agent is
lost with probability r per slot (an approximation for agents holding
several sessions).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
from scipy import special as sc
from scipy import stats

from staffplan.errors import InputError
from staffplan.queueing.erlang import FArray

_TAIL = 1e-12  # probability mass left out of Poisson sums and state spaces
_CHUNK = 200  # rows per uniformization batch: its arrays stay in the processor's cache


@dataclass(frozen=True)
class StateKpis:
    """KPIs of one interval per state (arrays of one shape).

    ``service_level`` [0-1] answered within the threshold; ``answered``
    [0-1] (1 − abandonment); ``wait_s`` [s] mean wait of answered contacts;
    ``p_wait`` [0-1] probability of waiting; ``carried`` [slots] busy slots
    carrying the interval's own contacts, min(load · answered, slots);
    ``slots`` [servers].
    """

    service_level: FArray
    answered: FArray
    wait_s: FArray
    p_wait: FArray
    carried: FArray
    slots: FArray


def state_kpis(
    load: FArray,
    slots: FArray,
    aht_s: FArray,
    answer_within_s: FArray,
    interval_s: float,
    residual: float,
    patience_s: float | None,
) -> StateKpis:
    """KPIs of intervals with ``slots`` servers available (see the module docstring), vectorised.

    ``load`` [Erlangs] > 0, ``slots`` whole servers >= 0, ``aht_s`` [s] > 0,
    ``answer_within_s`` [s] >= 0 broadcast to one shape; ``interval_s`` [s];
    ``residual`` [0-1) the probability that an agent was lost;
    ``patience_s`` [s] or None (Erlang C).
    """
    arrays = np.broadcast_arrays(
        np.asarray(load, dtype=float),
        np.asarray(slots, dtype=float),
        np.asarray(aht_s, dtype=float),
        np.asarray(answer_within_s, dtype=float),
    )
    shape = arrays[0].shape
    a, s, h, t = (x.ravel() for x in arrays)
    if not (0.0 <= residual < 1.0):
        raise InputError("bad residual shrinkage", expected="a fraction in [0, 1)", found=residual)
    if not (np.all(a > 0) and np.all(h > 0) and np.all(s >= 0) and np.all(s == np.floor(s))):
        raise InputError(
            "bad interval state",
            expected="load > 0, AHT > 0 and a whole number of servers >= 0",
            found=f"load {a.min() if a.size else 0}, slots {s.min() if s.size else 0}",
        )
    theta = 0.0 if patience_s is None else 1.0 / float(patience_s)
    out = {f: np.zeros(a.shape) for f in StateKpis.__dataclass_fields__}
    out["slots"] = s.copy()
    none = s == 0
    if none.any():
        for k, v in _no_agent(int(none.sum())).items():
            out[k][none] = v
        if theta == 0:  # answered later, after at least the wait one agent would give
            one = _busy_rows(
                a[none], np.ones(int(none.sum())), h[none], t[none], interval_s, residual, theta
            )
            out["answered"][none] = 1.0
            out["wait_s"][none] = one["wait_s"]
    rows = np.flatnonzero(~none)
    if rows.size:
        size = _size(a[rows], h[rows], s[rows], interval_s, theta)
        order = rows[np.argsort(size, kind="stable")]
        for lo in range(0, order.size, _CHUNK):
            idx = order[lo : lo + _CHUNK]
            got = _busy_rows(
                a[idx],
                s[idx],
                h[idx],
                t[idx],
                interval_s,
                residual,
                theta,
            )
            for k, v in got.items():
                out[k][idx] = v
    return StateKpis(**{k: v.reshape(shape) for k, v in out.items()})


def _no_agent(rows: int) -> dict[str, FArray]:
    """k = 0: nobody answers; with patience everyone abandons, without it they wait (see
    :func:`state_kpis` for the wait).
    """
    return {
        "service_level": np.zeros(rows),
        "answered": np.zeros(rows),
        "wait_s": np.zeros(rows),
        "p_wait": np.ones(rows),
        "carried": np.zeros(rows),
    }


def _arrivals_hi(lam: FArray, interval_s: float) -> FArray:
    """More arrivals than one interval brings with probability below the tail bound [contacts]."""
    return np.asarray(stats.poisson.isf(_TAIL, lam * interval_s), dtype=float)


def _size(load: FArray, aht: FArray, s: FArray, interval_s: float, theta: float) -> FArray:
    """A rough per-row state count, to batch rows of similar size."""
    lam = load / aht
    extra = (1.0 if theta > 0 else 2.0) * _arrivals_hi(lam, interval_s)
    return s + extra


def _upper(p: FArray) -> FArray:
    """Per row, the first state above which the mass is below the tail bound."""
    tail = np.cumsum(p[:, ::-1], axis=1)[:, ::-1]
    return (
        np.argmax(tail < _TAIL, axis=1).astype(float) + np.all(tail >= _TAIL, axis=1) * p.shape[1]
    )


def _rates(
    lam: FArray, mu: FArray, theta: float, s: FArray, n_states: int
) -> tuple[FArray, FArray]:
    """Birth and death rates [1/s] of the number in system, (rows, n_states); no births at the
    top.
    """
    j = np.arange(n_states, dtype=float)
    death = mu[:, None] * np.minimum(j[None, :], s[:, None]) + theta * np.maximum(
        j[None, :] - s[:, None], 0.0
    )
    birth = np.repeat(lam[:, None], n_states, axis=1)
    birth[:, -1] = 0.0
    return birth, death


def _stationary(birth: FArray, death: FArray) -> FArray:
    """Stationary distribution of a birth–death chain, rows; log space (no overflow)."""
    with np.errstate(divide="ignore"):
        step = np.log(birth[:, :-1]) - np.log(np.where(death[:, 1:] > 0, death[:, 1:], np.inf))
    logp = np.concatenate([np.zeros((birth.shape[0], 1)), np.cumsum(step, axis=1)], axis=1)
    logp -= logp.max(axis=1, keepdims=True)
    p = np.exp(logp)
    return p / p.sum(axis=1, keepdims=True)


def uniformize(
    p0: FArray,
    birth: FArray,
    death: FArray,
    interval_s: float,
    move: FArray | None = None,
    into: np.ndarray | None = None,
) -> tuple[FArray, FArray]:
    """(time average over [0, T], law at T) of a birth–death chain started in ``p0``, rows
    (unnormalised rows keep their mass), by uniformization:
    p(T) = Σ_m P(Poisson(ΛT) = m) p0 P^m and (1/T)∫ p(u) du = Σ_m P(Poisson(ΛT) > m) p0 P^m / (ΛT).

    With ``move`` [1/s] and ``into`` (rows,): each state of row r also moves to the same number
    in system in row ``into[r]`` at rate ``move[r]`` (``into[r]`` < 0: none; at most one row
    moves into each row) — one rate Λ for all rows then.
    """
    if move is not None and into is not None and np.any(move > 0):
        return _uniformize_moving(p0, birth, death, interval_s, move, np.asarray(into))
    lam_max = np.max(birth + death, axis=1)
    lam_max = np.where(lam_max > 0, lam_max, 1.0)
    lt = lam_max * interval_s
    steps = int(np.max(stats.poisson.isf(_TAIL, lt))) + 2
    up = birth / lam_max[:, None]
    down = death / lam_max[:, None]
    sf, pmf = _poisson_weights(steps, lt)
    acc = np.empty_like(p0)
    end = np.empty_like(p0)
    _steps(
        np.ascontiguousarray(p0, dtype=float),
        np.ascontiguousarray(up),
        np.ascontiguousarray(down),
        np.ascontiguousarray((sf / lt[None, :]).T),
        np.ascontiguousarray(pmf.T),
        acc,
        end,
    )
    return acc, end


@numba.njit(cache=True, nogil=True)
def _steps(
    p0: FArray, up: FArray, down: FArray, avg_w: FArray, end_w: FArray, acc: FArray, end: FArray
) -> None:  # pragma: no cover - compiled
    """The uniformized chain's steps, row by row (a tridiagonal step per power of P):
    q[j] = p[j] (1 − up[j] − down[j]) + p[j − 1] up[j − 1] + p[j + 1] down[j + 1], each term
    added in that order; the row's coefficients are read once per row, not once per step."""
    rows, n = p0.shape
    steps = avg_w.shape[1]
    p = np.empty(n)
    q = np.empty(n)
    stay = np.empty(n)
    rise = np.zeros(n)  # rise[j] = up[j − 1]
    fall = np.zeros(n)  # fall[j] = down[j + 1]
    row_acc = np.empty(n)
    row_end = np.empty(n)
    for r in range(rows):
        for j in range(n):
            stay[j] = 1.0 - up[r, j] - down[r, j]
            if j > 0:
                rise[j] = up[r, j - 1]
            if j < n - 1:
                fall[j] = down[r, j + 1]
            p[j] = p0[r, j]
            row_acc[j] = avg_w[r, 0] * p[j]
            row_end[j] = end_w[r, 0] * p[j]
        for i in range(1, steps):
            _step(p, q, stay, rise, fall)
            _add(row_acc, row_end, q, avg_w[r, i], end_w[r, i])
            p, q = q, p
        acc[r, :] = row_acc
        end[r, :] = row_end


@numba.njit(cache=True, nogil=True)
def _step(
    p: FArray, q: FArray, stay: FArray, rise: FArray, fall: FArray
) -> None:  # pragma: no cover - compiled
    """q = p P for one tridiagonal row (:func:`_steps`), the ends apart so the middle is one
    branch-free loop."""
    n = p.size
    if n == 1:
        q[0] = p[0] * stay[0]
        return
    q[0] = p[0] * stay[0] + p[1] * fall[0]
    for j in range(1, n - 1):
        q[j] = p[j] * stay[j] + p[j - 1] * rise[j] + p[j + 1] * fall[j]
    q[n - 1] = p[n - 1] * stay[n - 1] + p[n - 2] * rise[n - 1]


@numba.njit(cache=True, nogil=True)
def _add(acc: FArray, end: FArray, q: FArray, a: float, e: float) -> None:  # pragma: no cover
    """acc += a q and end += e q."""
    for j in range(q.size):
        acc[j] += a * q[j]
        end[j] += e * q[j]


def _uniformize_moving(
    p0: FArray, birth: FArray, death: FArray, interval_s: float, move: FArray, into: np.ndarray
) -> tuple[FArray, FArray]:
    """:func:`uniformize` with rows coupled by ``move`` / ``into``."""
    out = birth + death + np.asarray(move, dtype=float)[:, None]
    lam = max(float(out.max()), 1e-300)
    lt = np.array([lam * interval_s])
    steps = int(stats.poisson.isf(_TAIL, lt[0])) + 2
    sf, pmf = _poisson_weights(steps, lt)
    source = np.full(p0.shape[0], -1, dtype=np.int64)
    for r, to in enumerate(np.asarray(into, dtype=np.int64)):
        if to >= 0 and move[r] > 0:
            if source[to] >= 0:
                raise ValueError("at most one row may move into each row")
            source[to] = r
    acc = np.empty_like(p0)
    end = np.empty_like(p0)
    _moving_steps(
        np.ascontiguousarray(p0, dtype=float),
        np.ascontiguousarray(birth / lam),
        np.ascontiguousarray(death / lam),
        np.ascontiguousarray(np.asarray(move, dtype=float) / lam),
        source,
        np.ascontiguousarray(sf[:, 0] / lt[0]),
        np.ascontiguousarray(pmf[:, 0]),
        acc,
        end,
    )
    return acc, end


@numba.njit(cache=True, nogil=True)
def _moving_steps(
    p0: FArray,
    up: FArray,
    down: FArray,
    move: FArray,
    source: np.ndarray,
    avg_w: FArray,
    end_w: FArray,
    acc: FArray,
    end: FArray,
) -> None:  # pragma: no cover - compiled
    """The uniformized chain's steps over all rows at once (rows exchange mass by ``move``)."""
    rows, n = p0.shape
    p = p0.copy()
    q = np.empty_like(p0)
    for r in range(rows):
        for j in range(n):
            acc[r, j] = avg_w[0] * p[r, j]
            end[r, j] = end_w[0] * p[r, j]
    for i in range(1, avg_w.shape[0]):
        for r in range(rows):
            src = source[r]
            for j in range(n):
                v = p[r, j] * (1.0 - up[r, j] - down[r, j] - move[r])
                if j > 0:
                    v += p[r, j - 1] * up[r, j - 1]
                if j < n - 1:
                    v += p[r, j + 1] * down[r, j + 1]
                if src >= 0:
                    v += p[src, j] * move[src]
                q[r, j] = v
        a, e = avg_w[i], end_w[i]
        for r in range(rows):
            for j in range(n):
                p[r, j] = q[r, j]
                acc[r, j] += a * q[r, j]
                end[r, j] += e * q[r, j]


def _poisson_weights(steps: int, mean: FArray) -> tuple[FArray, FArray]:
    """(P(Poisson(mean) > m), P(Poisson(mean) = m)) for m = 0..steps − 1, each (steps, rows):
    the survival summed from the top onto P(> steps) (one incomplete-gamma value per row instead
    of one per entry).
    """
    m = np.arange(0, steps + 1, dtype=float)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        logpmf = m * np.log(mean)[None, :] - mean[None, :] - sc.gammaln(m + 1.0)
    logpmf[0] = -mean  # m = 0 (also for a zero mean)
    pmf = np.exp(logpmf)
    tail = pmf[1:].copy()
    tail[-1] += sc.pdtrc(steps, mean)
    return np.cumsum(tail[::-1], axis=0)[::-1], pmf[:-1]


def _thin(p: FArray, s: FArray, keep: float) -> FArray:
    """The distribution after each busy slot stays busy with probability ``keep`` (its agent is
    still here) and waiting contacts stay: N -> Binomial(min(N, s), keep) + (N − s)+.
    """
    if keep >= 1.0:
        return p
    rows, n_states = p.shape
    j = np.arange(n_states)
    top = int(s.max())
    si = s.astype(np.int64)
    # N = b < s: b busy, nobody waiting -> Binomial(b, keep); one matrix product over b
    below = np.where(j[None, :top] < si[:, None], p[:, :top], 0.0)
    out = below @ stats.binom.pmf(j[None, :], j[:top, None], keep)
    # N = s + q, q >= 0: s busy, q waiting -> Binomial(s, keep) + q
    w = stats.binom.pmf(j[None, : top + 1], si[:, None], keep)  # (rows, top + 1)
    _thin_waiting(np.ascontiguousarray(p, dtype=float), si, np.ascontiguousarray(w), out)
    return out


@numba.njit(cache=True, nogil=True)
def _thin_waiting(
    p: FArray, si: np.ndarray, w: FArray, out: FArray
) -> None:  # pragma: no cover - compiled
    """out[r, b + q] += w[r, b] p[r, s_r + q]: the states with every slot busy, s_r = si[r], b of
    them kept. Each cell adds its terms in the order of b, and leaves out the terms that are 0
    (w or p), which change no sum of non-negative terms."""
    rows, n_states = p.shape
    for r in range(rows):
        s = si[r]
        for b in range(w.shape[1]):
            wb = w[r, b]
            if wb == 0.0:
                continue
            for q in range(n_states - max(s, b)):
                out[r, b + q] += wb * p[r, s + q]


def arrival_values(
    n_states: int, s: FArray, mu: FArray, theta: float, t: FArray, extra: FArray | None = None
) -> tuple[FArray, FArray, FArray, FArray]:
    """Per row (``s`` slots, rate ``mu`` [1/s], threshold ``t`` [s]) and number in system
    N = 0..n_states − 1 found by an arrival: (answered within t, answered, mean wait if answered
    [s], waits), each (rows, n_states) — the module docstring's formulas, the slots kept while it
    waits. ``extra`` [1/s] per row: agents who become free for the queue at that rate besides the
    slots' completions (movers finishing elsewhere), a constant rate added to sμ. No slot and no
    extra rate: never within t; with patience it abandons, without it waits for one agent
    behind N contacts.
    """
    j = np.arange(n_states, dtype=float)
    add = np.zeros(s.size) if extra is None else np.asarray(extra, dtype=float)
    none = ((s == 0) & (add <= 0))[:, None]
    s1 = np.where(add > 0, s, np.maximum(s, 1.0))
    pos = j[None, :] - s1[:, None] + 1.0  # position in the queue of an arrival that waits
    waits = (pos >= 1.0) | none
    i = np.maximum(pos, 1.0)
    rate = (s1 * mu + add)[:, None]
    if theta > 0:
        x = rate / theta
        p_ans = np.where(waits, x / (x + i), 1.0)
        q = -np.expm1(-theta * t)[:, None]
        within = np.where(waits, p_ans * sc.betainc(i, x + 1.0, q), 1.0)
        wait = np.where(waits, (sc.digamma(x + i + 1.0) - sc.digamma(x + 1.0)) / theta, 0.0)
        p_ans = np.where(none, 0.0, p_ans)
        wait = np.where(none, 0.0, wait)
    else:
        p_ans = np.ones((s.size, n_states))
        within = np.where(waits, sc.gammainc(i, rate * t[:, None]), 1.0)
        wait = np.where(waits, i / rate, 0.0)
    within = np.where(none, 0.0, within)
    return within, p_ans, wait, waits


def _busy_rows(
    load: FArray,
    s: FArray,
    aht: FArray,
    t: FArray,
    interval_s: float,
    residual: float,
    theta: float,
) -> dict[str, FArray]:
    """KPIs of rows with at least one slot."""
    mu = 1.0 / aht
    lam = load * mu
    arrivals = _arrivals_hi(lam, interval_s)
    # the start: the stationary state with the queue's patience, or (Erlang C) with a mean
    # patience of one interval, the backlog a queue without abandonment carries into an interval
    memory = theta if theta > 0 else 1.0 / interval_s
    held = lam / memory
    room = np.minimum(np.ceil(held + 10.0 * np.sqrt(held) + 20.0), np.ceil(50.0 * (arrivals + 1)))
    n0 = int(np.max(s + room)) + 1
    start = _stationary(*_rates(lam, mu, memory, s, n0))
    # started below that state, an Erlang A queue stays below it (coupling); without abandonment
    # it can grow by the interval's arrivals
    hi = _upper(start) + (0.0 if theta > 0 else arrivals)
    start = _thin(start, s, 1.0 - residual)
    n_states = int(np.max(hi)) + 1
    if n_states > start.shape[1]:
        start = np.pad(start, ((0, 0), (0, n_states - start.shape[1])))
    start = start[:, :n_states]
    birth, death = _rates(lam, mu, theta, s, n_states)
    pbar = uniformize(start, birth, death, interval_s)[0]
    pbar /= pbar.sum(axis=1, keepdims=True)
    within, p_ans, wait, waits = arrival_values(n_states, s, mu, theta, t)
    answered = (pbar * p_ans).sum(axis=1)
    return {
        "service_level": np.clip((pbar * within).sum(axis=1), 0.0, 1.0),
        "answered": np.clip(answered, 0.0, 1.0),
        "wait_s": (pbar * p_ans * wait).sum(axis=1) / np.maximum(answered, 1e-300),
        "p_wait": np.clip((pbar * waits).sum(axis=1), 0.0, 1.0),
        "carried": np.minimum(load * np.clip(answered, 0.0, 1.0), s),
    }
