"""Erlang A (M/M/n+M): Poisson arrivals, exponential handling and patience.

Notation: λ arrival rate [1/s], μ = 1/AHT [1/s], θ = 1/patience [1/s],
A = λ/μ [Erlangs], n agents, x = nμ/θ, y = λ/θ.

Definitions (all over *offered* contacts, by PASTA):

* ``p_wait`` — probability that an arrival finds every agent busy, P(V > 0),
  where V is the offered wait (the wait of an infinitely patient contact);
* ``abandon_rate`` — probability that a contact abandons, P(τ < V) with τ its
  patience;
* ``service_level`` — probability that a contact is **answered** within t
  seconds, P(V <= t, τ > V). Abandoned contacts count as not answered, even
  when they hang up before t (the strict convention);
* ``asa_s`` — average wait of the **answered** contacts, E[V | τ > V] [s];
* ``occupancy`` — carried load per agent, A (1 - abandon_rate) / n.

Method: the offered wait has density f(s) = λ π_{n-1} exp(y(1 - e^{-θs}) - nμs)
for s > 0 (the M/M/n+G result of Baccelli and Hebuterne), and
P(V = 0) = π_{n-1} / B(n-1, A). With Q(a, z) = e^z z^-a γ(a, z) these integrate
in closed form:

* 1/π_{n-1} = D = 1/B(n-1, A) + y Q(x, y)
* p_wait = y Q(x, y) / D; abandon = ((y - x) Q(x, y) + 1) / D
* SL(t) = [1/B(n-1, A) - 1 + x Q(x, y) - y e^{y-z} (z/y)^{x+1} Q(x+1, z)] / D,
  z = y e^{-θt}; since x Q(x, y) = 1 + y Q(x+1, y) the last three terms are
  e^y y^-x Γ(x+1) (P(x+1, y) - P(x+1, z)), evaluated without cancellation

All terms are combined in log space. ASA uses the exact queue-position series:
an arrival that finds k contacts waiting is answered with probability
x/(x+k+1) and then waits on average (1/θ) Σ_{i=1}^{k+1} 1/(x+i).
"""

from __future__ import annotations

import numpy as np
from scipy import special as sc

from staffplan.queueing.erlang import _TINY, FArray, log_erlang_b


def _series_log_q(a: FArray, z: FArray) -> FArray:
    """log Q(a, z) by Σ_m z^m / (a (a+1) ... (a+m)); converges fast where γ underflows (z < a)."""
    term = 1.0 / a
    total = term.copy()
    active = np.ones(a.shape, dtype=bool)
    m = 1
    while active.any():
        term = np.where(active, term * z / (a + m), 0.0)
        total = total + term
        active &= term > 1e-18 * total
        m += 1
    return np.log(total)


def log_q(a: FArray, z: FArray) -> FArray:
    """log(e^z z^-a γ(a, z)) for a > 0, z >= 0 (γ the lower incomplete gamma); -log a at z = 0."""
    a, z = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(z, dtype=float))
    out = np.empty(a.shape)
    zero = z <= 0
    out[zero] = -np.log(a[zero])
    rest = ~zero
    if rest.any():
        ar, zr = a[rest], z[rest]
        p = sc.gammainc(ar, zr)
        res = np.empty(ar.shape)
        good = p > _TINY
        res[good] = zr[good] - ar[good] * np.log(zr[good]) + sc.gammaln(ar[good]) + np.log(p[good])
        if (~good).any():
            res[~good] = _series_log_q(ar[~good], zr[~good])
        out[rest] = res
    return out


def erlang_a_metrics(
    load: FArray,
    agents: FArray,
    aht_s: FArray,
    patience_s: FArray,
    answer_within_s: FArray,
    *,
    with_asa: bool = True,
) -> tuple[FArray, FArray, FArray, FArray, FArray]:
    """(service_level, asa_s [s], p_wait, occupancy, abandon_rate) of M/M/n+M, vectorised.

    Zero load: SL 1, everything else 0. Zero agents: SL 0, p_wait 1,
    abandonment 1, occupancy 0, ASA ``inf`` (nobody is answered).
    ``with_asa=False`` skips the ASA series (returns zeros) for speed.
    """
    load, agents, aht_s, patience_s, answer_within_s = (
        np.asarray(v, dtype=float)
        for v in np.broadcast_arrays(load, agents, aht_s, patience_s, answer_within_s)
    )
    shape = load.shape
    sl = np.where(load > 0, 0.0, 1.0).ravel()
    asa = np.where(load > 0, np.inf, 0.0).ravel()
    pw = np.where(load > 0, 1.0, 0.0).ravel()
    ab = pw.copy()
    occ = np.zeros(sl.shape)
    live = ((load > 0) & (agents > 0)).ravel()
    if live.any():
        a = load.ravel()[live]
        n = agents.ravel()[live]
        ratio = patience_s.ravel()[live] / aht_s.ravel()[live]
        x, y = n * ratio, a * ratio
        t_over_p = answer_within_s.ravel()[live] / patience_s.ravel()[live]
        l0 = -log_erlang_b(a, n - 1.0)
        lq = log_q(x, y)
        ly = np.log(y)
        l1 = ly + lq
        log_d = np.logaddexp(l0, l1)
        p_wait = np.exp(l1 - log_d)
        p_ab = np.clip((y - x) * np.exp(lq - log_d) + np.exp(-log_d), 0.0, 1.0)
        s = np.exp(l0 - log_d) + _answered_within(x, y, y * np.exp(-t_over_p), log_d)
        sl[live] = np.clip(s, 0.0, 1.0 - p_ab)
        pw[live] = p_wait
        ab[live] = p_ab
        occ[live] = np.clip(a * (1.0 - p_ab) / n, 0.0, 1.0)
        if with_asa:
            log_pn = np.log(y / x) - log_d  # log π_n
            asa[live] = _asa_series(x, y, log_pn, 1.0 - p_ab) * patience_s.ravel()[live]
        else:
            asa[live] = 0.0
    return (
        sl.reshape(shape),
        asa.reshape(shape),
        pw.reshape(shape),
        occ.reshape(shape),
        ab.reshape(shape),
    )


def _answered_within(x: FArray, y: FArray, z: FArray, log_d: FArray) -> FArray:
    """P(0 < V <= t, τ > V) = e^y y^-x Γ(x+1) (P(x+1, y) - P(x+1, z)) / D, z = y e^{-θt}.

    The difference of regularised gammas is taken where it is well
    conditioned: upper tails above the mean (y > x + 1), else the ratio of the
    two lower terms in log space. Relative error stays ~1e-10 even when both
    terms are near 1 and the answer is 1e-50.
    """
    a = x + 1.0
    out = np.zeros(x.shape)
    upper = y > a
    if upper.any():
        au, yu, zu = a[upper], y[upper], z[upper]
        log_scale = (
            yu - x[upper] * np.log(yu) + sc.gammaln(au) - log_d[upper]
        )  # e^y y^-x Γ(x+1) / D
        out[upper] = np.exp(log_scale) * (sc.gammaincc(au, zu) - sc.gammaincc(au, yu))
    low = ~upper
    if low.any():
        al, yl, zl = a[low], y[low], z[low]
        log_main = np.log(yl) + log_q(al, yl) - log_d[low]  # y Q(x+1, y) / D
        with np.errstate(divide="ignore"):
            lz = np.log(zl)
            tail = np.where(
                zl > 0,
                np.log(yl) + (yl - zl) + al * (lz - np.log(yl)) + log_q(al, zl) - log_d[low],
                -np.inf,
            )
        out[low] = np.exp(log_main) * -np.expm1(np.minimum(tail - log_main, 0.0))
    return np.maximum(out, 0.0)


def _asa_series(x: FArray, y: FArray, log_pn: FArray, p_served: FArray) -> FArray:
    """E[wait | answered] in units of patience: Σ_k π_{n+k} x/(x+k+1) H_k / P(answered)."""
    n_el = x.shape[0]
    acc = np.zeros(n_el)
    idx = np.arange(n_el)
    lw, h, xa, ya = log_pn.copy(), 1.0 / (x + 1.0), x.copy(), y.copy()
    k = 0
    limit = np.ceil(np.maximum(y - x, 0.0) + 60.0 * np.sqrt(y + 1.0) + 200.0)
    while idx.size:
        term = np.exp(lw) * xa / (xa + k + 1.0) * h
        acc[idx] += term
        k += 1
        lw = lw + np.log(ya / (xa + k))
        h = h + 1.0 / (xa + k + 1.0)
        keep = ((k <= ya - xa) | (np.exp(lw) > 1e-17)) & (k < limit[idx])
        if not keep.all():
            idx, lw, h, xa, ya = idx[keep], lw[keep], h[keep], xa[keep], ya[keep]
    return acc / np.maximum(p_served, 1e-300)
