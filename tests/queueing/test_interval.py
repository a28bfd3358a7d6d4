"""One interval with k agents after losses: exact against a brute-force CTMC, the stationary Erlang
models at r = 0, and invariants (finite, monotone in agents)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import linalg

from staffplan.queueing import erlang_a_metrics, erlang_c_metrics, state_kpis


def brute_force(
    load: float, s: int, aht: float, t: float, interval: float, r: float, patience: float | None
) -> tuple[float, float, float]:
    """(SL, answered, mean wait of answered) of the documented model by dense linear algebra.

    Generator of the number in system on 0..nmax; the start is the stationary law (null space of
    the generator; without patience, that of a patience of one interval); thinning by
    explicit sums; the time average by the block-matrix exponential ∫_0^T e^{Qu} du; a contact at
    position i by an absorbing chain (answered / abandoned) and its fundamental matrix.
    """
    nmax = 60
    lam, mu = load / aht, 1.0 / aht
    theta = 0.0 if patience is None else 1.0 / patience

    def generator(th: float) -> np.ndarray:
        q = np.zeros((nmax + 1, nmax + 1))
        for n in range(nmax + 1):
            if n < nmax:
                q[n, n + 1] = lam
            if n > 0:
                q[n, n - 1] = mu * min(n, s) + th * max(n - s, 0)
            q[n, n] = -q[n].sum()
        return q

    q = generator(theta)
    # the start: stationary with the queue's patience, or with a mean patience of one interval
    ns = linalg.null_space(generator(theta if patience is not None else 1.0 / interval).T)[:, 0]
    start = ns / ns.sum()
    thinned = np.zeros(nmax + 1)
    for n in range(nmax + 1):
        b, w = min(n, s), max(n - s, 0)
        for k in range(b + 1):
            thinned[k + w] += start[n] * math.comb(b, k) * (1 - r) ** k * r ** (b - k)
    big = np.zeros((2 * (nmax + 1), 2 * (nmax + 1)))
    big[: nmax + 1, : nmax + 1] = q
    big[: nmax + 1, nmax + 1 :] = np.eye(nmax + 1)
    integral = linalg.expm(big * interval)[: nmax + 1, nmax + 1 :]
    pbar = thinned @ integral / interval
    sl = ans = wait_ans = 0.0
    for n in range(nmax + 1):
        if n < s:
            sl += pbar[n]
            ans += pbar[n]
            continue
        i = n - s + 1  # transient states: positions i..1 (index m-1), then answered, abandoned
        g = np.zeros((i + 2, i + 2))
        for m in range(1, i + 1):
            fwd = s * mu + theta * (m - 1)
            g[m - 1, m - 2 if m > 1 else i] = fwd
            g[m - 1, i + 1] = theta
            g[m - 1, m - 1] = -(fwd + theta)
        by_t = linalg.expm(g * t)[i - 1, i]
        fund = np.linalg.inv(-g[:i, :i])
        h = fund @ g[:i, i]  # P(answered) from each position
        sl += pbar[n] * by_t
        ans += pbar[n] * h[i - 1]
        wait_ans += pbar[n] * float(fund[i - 1] @ h)
    return sl, ans, wait_ans / ans


@pytest.mark.parametrize(
    ("load", "s", "aht", "t", "r", "patience"),
    [
        (2.5, 3, 240.0, 20.0, 0.25, 90.0),
        (4.0, 3, 300.0, 30.0, 0.2, 200.0),  # more load than agents: abandonment holds it
        (2.0, 3, 200.0, 20.0, 0.3, None),
        (3.5, 3, 200.0, 60.0, 0.1, None),  # unstable Erlang C state: finite anyway
    ],
)
def test_matches_brute_force_ctmc(
    load: float, s: int, aht: float, t: float, r: float, patience: float | None
) -> None:
    got = state_kpis(np.array([load]), np.array([s]), aht, t, 600.0, r, patience)
    sl, ans, wait = brute_force(load, s, aht, t, 600.0, r, patience)
    assert got.service_level[0] == pytest.approx(sl, abs=1e-8)
    assert got.answered[0] == pytest.approx(ans, abs=1e-8)
    assert got.wait_s[0] == pytest.approx(wait, rel=1e-6)


def test_no_losses_is_stationary_erlang_a() -> None:
    load = np.full(6, 20.0)
    k = np.array([1.0, 15.0, 18.0, 20.0, 24.0, 40.0])
    got = state_kpis(load, k, 280.0, 20.0, 900.0, 0.0, 180.0)
    sl, asa, pw, occ, ab = erlang_a_metrics(load, k, np.full(6, 280.0), np.full(6, 180.0), 20.0)
    np.testing.assert_allclose(got.service_level, sl, atol=1e-10)
    np.testing.assert_allclose(got.answered, 1.0 - ab, atol=1e-10)
    np.testing.assert_allclose(got.wait_s, asa, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(got.p_wait, pw, atol=1e-10)
    np.testing.assert_allclose(got.carried / got.slots, occ, atol=1e-10)


def test_erlang_c_without_losses_is_near_stationary_when_well_staffed() -> None:
    # a backlog with one interval of memory instead of an infinite one: 1.5 points at 85/20,
    # less and less as staffing grows; never worse than the stationary queue
    load = np.full(3, 20.0)
    k = np.array([25.0, 28.0, 32.0])
    got = state_kpis(load, k, 280.0, 20.0, 900.0, 0.0, None)
    sl, asa, _, _ = erlang_c_metrics(load, k, np.full(3, 280.0), np.full(3, 20.0))
    gap = got.service_level - sl
    assert np.all(gap >= 0) and gap[0] < 0.015 and gap[2] < 0.001 and np.all(np.diff(gap) < 0)
    assert np.all(got.wait_s <= asa)


@settings(deadline=None, max_examples=40)
@given(
    load=st.floats(0.2, 25.0),
    aht=st.floats(30.0, 600.0),
    t=st.floats(0.0, 120.0),
    r=st.floats(0.0, 0.5),
    patience=st.one_of(st.none(), st.floats(20.0, 900.0)),
)
def test_finite_and_monotone_in_agents(
    load: float, aht: float, t: float, r: float, patience: float | None
) -> None:
    k = np.arange(0, int(load * 1.5) + 6, dtype=float)
    got = state_kpis(np.full(k.size, load), k, aht, t, 900.0, r, patience)
    for v in (got.service_level, got.answered, got.wait_s, got.p_wait, got.carried):
        assert np.all(np.isfinite(v))
    assert np.all((got.service_level >= 0) & (got.service_level <= got.answered + 1e-12))
    assert np.all(np.diff(got.service_level) >= -1e-9)
    assert np.all(np.diff(got.answered) >= -1e-9)
    if patience is None:
        assert np.all(np.diff(got.wait_s) <= 1e-6 * np.maximum(got.wait_s[:-1], 1.0))
    assert got.service_level[0] == 0.0 and got.carried[0] == 0.0


@pytest.mark.parametrize("keep", [0.6, 0.93, 1.0])
def test_thinning_is_what_enumerating_the_busy_slots_gives(keep: float) -> None:
    # N -> Binomial(min(N, s), keep) + (N − s)+, summed term by term over a small random law
    from staffplan.queueing.interval import _thin

    rng = np.random.default_rng(7)
    p = rng.random((3, 9))
    p[:, 6:] = 0.0  # the top states empty, as the room above a start law is
    s = np.array([0.0, 3.0, 5.0])
    want = np.zeros_like(p)
    for r in range(3):
        for n in range(9):
            busy, waiting = min(n, int(s[r])), max(n - int(s[r]), 0)
            for b in range(busy + 1):
                w = math.comb(busy, b) * keep**b * (1.0 - keep) ** (busy - b)
                want[r, b + waiting] += p[r, n] * w
    np.testing.assert_allclose(_thin(p, s, keep), want, rtol=1e-13, atol=1e-15)
