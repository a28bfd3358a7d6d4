"""Erlang B / C against mpmath, published values and invariants."""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from staffplan.queueing import erlang_b, erlang_c, erlang_c_metrics, offered_load


def mp_erlang_b(load: float, n: int) -> mp.mpf:
    """Definition: (A^n/n!) / Σ_{j<=n} A^j/j!, with 60 digits."""
    with mp.workdps(60):
        a = mp.mpf(load)
        term = mp.mpf(1)
        total = mp.mpf(1)
        for j in range(1, n + 1):
            term = term * a / j
            total += term
        return term / total


def mp_erlang_c(load: float, n: int) -> mp.mpf:
    with mp.workdps(60):
        if n <= load:
            return mp.mpf(1)
        b = mp_erlang_b(load, n)
        return n * b / (n - mp.mpf(load) * (1 - b))


def test_offered_load_units() -> None:
    assert offered_load(100, 30, 180) == pytest.approx(10.0)
    np.testing.assert_allclose(
        offered_load(np.array([0.0, 60.0]), 15, np.array([300.0, 60.0])), [0.0, 4.0]
    )


def test_published_erlang_c_example() -> None:
    # callcentrehelper.com's worked Erlang C example: 100 calls / 30 min, AHT 180 s,
    # 14 agents: P(wait) 17.41 %, service level 88.83 % in 20 s, ASA 7.8 s, occupancy 71.43 %.
    sl, asa, pw, occ = erlang_c_metrics(
        np.array([10.0]), np.array([14.0]), np.array([180.0]), np.array([20.0])
    )
    assert round(float(pw[0]), 4) == 0.1741
    assert float(sl[0]) == pytest.approx(0.8883, abs=1e-4)
    assert round(float(asa[0]), 1) == 7.8
    assert round(float(occ[0]), 4) == 0.7143


def test_published_erlang_b_table() -> None:
    # classic Erlang B table: 10 Erlangs on 10 trunks block 21.46 %; 4.46 Erlangs on 10 trunks block
    # 1 %
    assert float(erlang_b(10.0, 10)) == pytest.approx(0.21458, abs=5e-6)
    assert float(erlang_b(4.46, 10)) == pytest.approx(0.01, abs=2e-4)


@settings(max_examples=150, deadline=None)
@given(load=st.floats(1e-6, 400.0), n=st.integers(0, 500))
def test_erlang_b_matches_mpmath(load: float, n: int) -> None:
    expected = float(mp_erlang_b(load, n))
    got = float(erlang_b(load, n))
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-300)


@settings(max_examples=150, deadline=None)
@given(load=st.floats(1e-4, 300.0), extra=st.integers(-20, 60))
def test_erlang_c_matches_mpmath(load: float, extra: int) -> None:
    n = max(int(math.floor(load)) + extra, 0)
    expected = float(mp_erlang_c(load, n))
    assert float(erlang_c(load, n)) == pytest.approx(expected, rel=1e-9, abs=1e-300)


@pytest.mark.parametrize(
    ("load", "n"), [(10_000.0, 10_050), (10_000.0, 10_200), (9_999.5, 9_990), (25_000.0, 25_300)]
)
def test_large_loads_match_mpmath(load: float, n: int) -> None:
    assert float(erlang_b(load, n)) == pytest.approx(float(mp_erlang_b(load, n)), rel=1e-8)
    assert float(erlang_c(load, n)) == pytest.approx(float(mp_erlang_c(load, n)), rel=1e-8)


def test_vectorised_equals_scalar_and_no_nan() -> None:
    loads = np.array([0.0, 1e-12, 0.5, 10.0, 1667.3, 10_000.0, 50_000.0])
    agents = np.array([0, 1, 1, 14, 1700, 10_100, 49_000])
    b = erlang_b(loads, agents)
    c = erlang_c(loads, agents)
    assert np.all(np.isfinite(b)) and np.all(np.isfinite(c))
    for i in range(len(loads)):
        assert b[i] == pytest.approx(float(erlang_b(loads[i], agents[i])))
    assert b[0] == 1.0 and c[0] == 0.0  # no load, no agent: nothing to block, nobody waits
    assert c[-1] == 1.0  # fewer agents than load: everyone waits


def test_degenerate_metrics() -> None:
    sl, asa, pw, occ = erlang_c_metrics(
        np.array([0.0, 5.0, 5.0]), np.array([0.0, 0.0, 5.0]), np.full(3, 180.0), np.full(3, 20.0)
    )
    assert sl.tolist() == [1.0, 0.0, 0.0]
    assert asa[0] == 0.0 and np.isinf(asa[1]) and np.isinf(asa[2])
    assert pw.tolist() == [0.0, 1.0, 1.0]
    assert occ.tolist() == [0.0, 0.0, 1.0]


@settings(max_examples=80, deadline=None)
@given(load=st.floats(0.01, 500.0), aht=st.floats(10.0, 1200.0), t=st.floats(0.0, 300.0))
def test_service_level_rises_and_asa_falls_with_agents(load: float, aht: float, t: float) -> None:
    n = np.arange(0, int(load) + 60, dtype=float)
    sl, asa, pw, occ = erlang_c_metrics(
        np.full(n.shape, load), n, np.full(n.shape, aht), np.full(n.shape, t)
    )
    assert np.all(np.diff(sl) >= -1e-12)
    assert np.all(np.diff(pw) <= 1e-12)
    finite = np.isfinite(asa)
    assert np.all(np.diff(asa[finite]) <= 1e-9)
    assert np.all((sl >= 0) & (sl <= 1))
