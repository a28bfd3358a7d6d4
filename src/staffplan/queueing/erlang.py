"""Erlang B and Erlang C (M/M/n): stable, vectorised kernels.

Erlang B is computed from the scaled incomplete gamma function in log space,
``1/B(n, A) = e^A A^-n Γ(n+1, A)``, with an exact finite series where the
regularised gamma would underflow, so loads from 0 to well beyond 10,000
Erlangs give correct values without factorials or overflow. The staffing scans
use the classic stable recursion ``B(k) = A B(k-1) / (k + A B(k-1))``.

Conventions for degenerate cases (all values finite except ``asa_s``):

* zero load: nobody waits, service level 1, ASA 0, occupancy 0;
* zero agents or ``agents <= load`` (Erlang C is unstable): ``p_wait`` 1,
  service level 0, ASA ``inf`` (the queue grows without bound), occupancy 1
  (0 with zero agents).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import special as sc

ArrayLike = npt.ArrayLike
FArray = npt.NDArray[np.float64]

_TINY = 1e-250  # below this a regularised gamma value is replaced by a series


def offered_load(volume: ArrayLike, interval_min: ArrayLike, aht_s: ArrayLike) -> FArray:
    """Offered load [Erlangs] = volume [contacts] * AHT [s] / interval length [s]."""
    v = np.asarray(volume, dtype=float)
    m = np.asarray(interval_min, dtype=float)
    h = np.asarray(aht_s, dtype=float)
    return np.asarray(v * h / (m * 60.0), dtype=float)


def _series_log_inv_b(n: FArray, a: FArray) -> FArray:
    """log(1/B(n, A)) by the exact finite sum Σ_i Π_{l<i} (n-l)/A, used when n << A."""
    total = np.ones_like(a)
    term = np.ones_like(a)
    active = np.ones(a.shape, dtype=bool)
    i = 0
    while active.any():
        term = np.where(active, term * np.maximum(n - i, 0.0) / a, 0.0)
        total = total + term
        i += 1
        active &= (term > 1e-18 * total) & (i <= n)
    return np.log(total)


def log_erlang_b(load: ArrayLike, agents: ArrayLike) -> FArray:
    """Natural log of the Erlang B blocking probability [log of a fraction], <= 0."""
    a_in, n_in = np.broadcast_arrays(np.asarray(load, dtype=float), np.asarray(agents, dtype=float))
    a = a_in.ravel()
    n = n_in.ravel()
    out = np.zeros(a.shape)
    pos = (n > 0) & (a > 0)
    out[(n > 0) & (a <= 0)] = -np.inf
    if pos.any():
        ap, np_ = a[pos], n[pos]
        q = sc.gammaincc(np_ + 1.0, ap)
        res = np.empty(ap.shape)
        good = q > _TINY
        with np.errstate(divide="ignore"):
            res[good] = (
                ap[good]
                - np_[good] * np.log(ap[good])
                + sc.gammaln(np_[good] + 1.0)
                + np.log(q[good])
            )
        if (~good).any():
            res[~good] = _series_log_inv_b(np_[~good], ap[~good])
        out[pos] = -np.maximum(res, 0.0)
    return out.reshape(a_in.shape)


def erlang_b(load_erl: ArrayLike, agents: ArrayLike) -> FArray:
    """Erlang B: probability that an arrival finds all ``agents`` busy in M/M/n/n [0-1]."""
    return np.exp(log_erlang_b(load_erl, agents))


def c_from_b(b: FArray, load: FArray, agents: FArray) -> FArray:
    """Erlang C from Erlang B: C = B / (1 - (A/n)(1 - B)) for n > A, else 1 (0 for zero load)."""
    stable = agents > load
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(
            stable,
            b / (1.0 - np.where(stable, load / np.where(agents > 0, agents, 1.0), 0.0) * (1.0 - b)),
            1.0,
        )
    c = np.where(load <= 0, 0.0, c)
    return np.clip(c, 0.0, 1.0)


def erlang_c(load_erl: ArrayLike, agents: ArrayLike) -> FArray:
    """Erlang C: probability that an arrival waits in M/M/n [0-1]; 1 when agents <= load > 0."""
    a, n = np.broadcast_arrays(np.asarray(load_erl, dtype=float), np.asarray(agents, dtype=float))
    return c_from_b(erlang_b(a, n), a, n)


def erlang_c_metrics(
    load: FArray, agents: FArray, aht_s: FArray, answer_within_s: FArray, b: FArray | None = None
) -> tuple[FArray, FArray, FArray, FArray]:
    """(service_level [0-1], asa_s [s], p_wait [0-1], occupancy [0-1]) of M/M/n.

    SL = 1 - C exp(-(n - A) t / AHT); ASA = C AHT / (n - A); occupancy = A / n.
    ``b`` may pass precomputed Erlang B values for (load, agents).
    """
    if b is None:
        b = erlang_b(load, agents)
    c = c_from_b(b, load, agents)
    stable = agents > load
    gap = np.where(stable, agents - load, 1.0)
    with np.errstate(over="ignore"):
        sl = np.where(stable, 1.0 - c * np.exp(-gap * answer_within_s / aht_s), 0.0)
        asa = np.where(stable, c * aht_s / gap, np.inf)
    idle = load <= 0
    sl = np.where(idle, 1.0, np.clip(sl, 0.0, 1.0))
    asa = np.where(idle, 0.0, asa)
    with np.errstate(divide="ignore", invalid="ignore"):
        occ = np.where(agents > 0, np.minimum(load / np.where(agents > 0, agents, 1.0), 1.0), 0.0)
    occ = np.where(idle, 0.0, occ)
    return sl, asa, c, occ
