"""Erlang A against a brute-force truncated CTMC, mpmath quadrature and limits."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.linalg import expm

from staffplan.queueing import erlang_a_metrics, erlang_c_metrics


def ctmc_oracle(
    load: float, n: int, aht: float, patience: float, t: float, cap: int = 160
) -> dict[str, float]:
    """Solve the truncated M/M/n+M chain with a dense generator, then the tagged-customer chain."""
    lam, mu, th = load / aht, 1.0 / aht, 1.0 / patience
    size = n + cap + 1
    q = np.zeros((size, size))
    for j in range(size):
        if j + 1 < size:
            q[j, j + 1] = lam
        if j > 0:
            q[j, j - 1] = min(j, n) * mu + max(j - n, 0) * th
        q[j, j] = -q[j].sum()
    a = np.vstack([q.T, np.ones(size)])
    rhs = np.zeros(size + 1)
    rhs[-1] = 1.0
    pi = np.linalg.lstsq(a, rhs, rcond=None)[0]
    p_wait = pi[n:].sum()
    queue_len = np.sum(np.maximum(np.arange(size) - n, 0) * pi)
    p_ab = th * queue_len / lam
    # tagged contact at queue position m = 1..cap: moves up at n mu + (m-1) theta, abandons at theta
    m_max = cap
    tq = np.zeros((m_max, m_max))
    served = np.zeros(m_max)
    for i in range(m_max):
        m = i + 1
        up = n * mu + (m - 1) * th
        if m == 1:
            served[i] = up
        else:
            tq[i, i - 1] = up
        tq[i, i] = -(up + th)
    inv = np.linalg.inv(-tq)
    p_served_by_t = (inv @ (np.eye(m_max) - expm(tq * t))) @ served
    wait_served = inv @ (inv @ served)
    arrivals = pi[n : n + m_max]  # an arrival seeing k waiting takes position k + 1
    answered = pi[:n].sum() + arrivals @ (inv @ served)
    sl = pi[:n].sum() + arrivals @ p_served_by_t
    asa = (arrivals @ wait_served) / answered
    return {"p_wait": p_wait, "abandon": p_ab, "sl": sl, "asa": asa, "answered": answered}


def metrics(load: float, n: int, aht: float, patience: float, t: float) -> tuple[float, ...]:
    out = erlang_a_metrics(
        np.array([load]), np.array([float(n)]), np.array([aht]), np.array([patience]), np.array([t])
    )
    return tuple(float(v[0]) for v in out)


@pytest.mark.parametrize(
    ("load", "n", "aht", "patience", "t"),
    [
        (2.0, 2, 180.0, 120.0, 20.0),
        (4.5, 3, 300.0, 60.0, 30.0),
        (1.0, 4, 60.0, 600.0, 10.0),
        (6.0, 7, 200.0, 200.0, 0.0),
        (3.0, 1, 100.0, 30.0, 60.0),
    ],
)
def test_matches_brute_force_ctmc(
    load: float, n: int, aht: float, patience: float, t: float
) -> None:
    sl, asa, pw, occ, ab = metrics(load, n, aht, patience, t)
    o = ctmc_oracle(load, n, aht, patience, t)
    assert pw == pytest.approx(o["p_wait"], abs=1e-9)
    assert ab == pytest.approx(o["abandon"], abs=1e-9)
    assert sl == pytest.approx(o["sl"], abs=1e-9)
    assert asa == pytest.approx(o["asa"], rel=1e-7)
    assert 1 - ab == pytest.approx(o["answered"], abs=1e-9)  # both routes to "answered" agree
    assert occ == pytest.approx(load * (1 - ab) / n, rel=1e-12)


@settings(max_examples=25, deadline=None)
@given(
    load=st.floats(0.05, 8.0),
    n=st.integers(1, 10),
    aht=st.floats(30.0, 600.0),
    ratio=st.floats(0.1, 10.0),
    t=st.floats(0.0, 120.0),
)
def test_random_small_cases_match_ctmc(
    load: float, n: int, aht: float, ratio: float, t: float
) -> None:
    patience = aht * ratio
    sl, asa, pw, occ, ab = metrics(load, n, aht, patience, t)
    o = ctmc_oracle(load, n, aht, patience, t, cap=int(80 + 3 * load * ratio))
    assert pw == pytest.approx(o["p_wait"], abs=1e-8)
    assert ab == pytest.approx(o["abandon"], abs=1e-8)
    assert sl == pytest.approx(o["sl"], abs=1e-8)
    assert asa == pytest.approx(
        o["asa"], rel=1e-6, abs=1e-6
    )  # lstsq loses relative precision on tiny queue probabilities


def mp_sl(load: float, n: int, aht: float, patience: float, t: float) -> float:
    """SL from the offered-wait density f(s) = λ π_{n-1} exp(y(1 - e^{-θs}) - nμs), by mpmath
    quadrature.
    """
    with mp.workdps(40):
        lam, mu, th = mp.mpf(load) / aht, 1 / mp.mpf(aht), 1 / mp.mpf(patience)
        y = lam / th
        terms = [mp.mpf(load) ** j / mp.factorial(j) for j in range(n)]
        base = terms[-1]
        p0 = sum(terms) / base  # P(V = 0) / π_{n-1}

        def f(s: mp.mpf) -> mp.mpf:
            return lam * mp.exp(y * (1 - mp.exp(-th * s)) - n * mu * s)

        total = p0 + mp.quad(f, [0, mp.inf])
        within = p0 + mp.quad(lambda s: f(s) * mp.exp(-th * s), [0, t]) if t > 0 else p0
        return float(within / total)


@pytest.mark.parametrize(
    ("load", "n", "t"), [(40.0, 38, 20.0), (80.0, 90, 15.0), (150.0, 140, 30.0)]
)
def test_medium_loads_match_mpmath_quadrature(load: float, n: int, t: float) -> None:
    sl = metrics(load, n, 240.0, 180.0, t)[0]
    assert sl == pytest.approx(mp_sl(load, n, 240.0, 180.0, t), abs=1e-9)


@pytest.mark.parametrize("n", [327, 328, 340, 350, 360, 380])
def test_tiny_service_levels_keep_relative_precision(n: int) -> None:
    """358 Erlangs, patience 95 AHT, t = 1 s: SL falls to 1e-59, where a difference of two ~0.9
    terms would leave 1e-10 noise.
    """
    sl = metrics(358.0, n, 30.0, 2857.0, 1.0)[0]
    assert sl == pytest.approx(mp_sl(358.0, n, 30.0, 2857.0, 1.0), rel=1e-8)


@settings(max_examples=12, deadline=None)
@given(
    load=st.floats(0.1, 60.0),
    aht=st.floats(30.0, 900.0),
    t=st.floats(0.0, 120.0),
    extra=st.integers(2, 30),
)
def test_tends_to_erlang_c_as_patience_grows(load: float, aht: float, t: float, extra: int) -> None:
    n = float(int(load) + extra)
    c = np.array(
        [
            float(v[0])
            for v in erlang_c_metrics(
                np.array([load]), np.array([n]), np.array([aht]), np.array([t])
            )
        ]
    )
    gaps = []
    for ratio in (1e2, 1e3, 1e4):
        a = metrics(load, int(n), aht, aht * ratio, t)
        gaps.append(max(abs(a[0] - c[0]), abs(a[2] - c[2]), abs(a[1] - c[1]) / (1 + c[1]), a[4]))
    assert gaps[2] <= gaps[1] + 1e-12 <= gaps[0] + 2e-12  # closer and closer
    assert gaps[2] <= 0.5 * gaps[0] + 1e-12


@settings(max_examples=40, deadline=None)
@given(
    load=st.floats(0.1, 400.0),
    aht=st.floats(30.0, 900.0),
    patience=st.floats(5.0, 3000.0),
    t=st.floats(0.0, 120.0),
)
@example(
    load=358.0, aht=30.0, patience=2857.0, t=1.0
)  # once failed: SL noise of 1e-10 at 328 agents, where SL is 2e-55
def test_monotone_in_agents(load: float, aht: float, patience: float, t: float) -> None:
    n = np.arange(0, int(1.3 * load) + 30, dtype=float)
    k = n.size
    sl, asa, pw, occ, ab = erlang_a_metrics(
        np.full(k, load), n, np.full(k, aht), np.full(k, patience), np.full(k, t)
    )
    assert np.all(np.diff(sl) >= -1e-10)
    assert np.all(np.diff(ab) <= 1e-10)
    assert np.all(np.diff(pw) <= 1e-10)
    assert np.all(np.diff(asa[1:]) <= 1e-7 * (1 + asa[1:-1]))
    for v in (sl, pw, occ, ab):
        assert np.all(np.isfinite(v)) and np.all((v >= 0) & (v <= 1))


def test_degenerate_and_huge() -> None:
    sl, asa, pw, occ, ab = erlang_a_metrics(
        np.array([0.0, 5.0, 10_000.0, 1e-9]),
        np.array([3.0, 0.0, 9_500.0, 1.0]),
        np.full(4, 180.0),
        np.full(4, 120.0),
        np.full(4, 20.0),
    )
    assert (sl[0], asa[0], pw[0], occ[0], ab[0]) == (1.0, 0.0, 0.0, 0.0, 0.0)
    assert (sl[1], pw[1], occ[1], ab[1]) == (0.0, 1.0, 0.0, 1.0) and np.isinf(asa[1])
    assert np.all(np.isfinite([sl[2], asa[2], pw[2], occ[2], ab[2]]))
    assert ab[2] == pytest.approx(1 - 9_500 / 10_000 * occ[2], rel=1e-9)  # carried load balance
    assert ab[2] > 0.05 - 1e-3  # 500 Erlangs too few: at least 5 % must abandon
    assert sl[3] == pytest.approx(1.0, abs=1e-8) and ab[3] < 1e-8
