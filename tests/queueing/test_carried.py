"""The queue carried from interval to interval, against closed forms, brute force and itself."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from staffplan.queueing import carried
from staffplan.queueing.carried import QueueModel, carried_kpis, segment
from staffplan.queueing.erlang import erlang_c_metrics
from staffplan.queueing.erlang_a import erlang_a_metrics

VOICE = QueueModel(900.0, 0.0, 1.0, 20.0, 180.0)


def _forget() -> None:
    with carried._LOCK:
        carried._SEGMENTS.clear()


def test_without_losses_it_settles_in_the_stationary_erlang_a_queue() -> None:
    # r = 0 and the same heads all day: from an empty queue the chain reaches M/M/s+M's
    # stationary law, whatever the intervals (closed form, staffplan.queueing.erlang_a)
    n = 30
    got = carried_kpis(np.full(n, 60.0), np.full(n, 280.0), np.full(n, 20), VOICE)
    load = 60.0 * 280.0 / 900.0
    sl, asa, pw, occ, ab = erlang_a_metrics(load, 20.0, 280.0, 180.0, 20.0)
    assert got["service_level"][-1] == pytest.approx(float(sl), abs=1e-9)
    assert got["answered"][-1] == pytest.approx(1.0 - float(ab), abs=1e-9)
    assert got["answered_wait_s"][-1] / got["answered"][-1] == pytest.approx(float(asa), rel=1e-7)
    assert got["p_wait"][-1] == pytest.approx(float(pw), abs=1e-9)
    assert got["carried"][-1] / got["slots"][-1] == pytest.approx(float(occ), abs=1e-9)
    # the first interval starts empty: better than the stationary queue
    assert got["service_level"][0] > float(sl) + 0.01


def test_erlang_c_without_losses_settles_in_the_stationary_erlang_c_queue() -> None:
    model = QueueModel(900.0, 0.0, 1.0, 20.0, None)
    got = carried_kpis(np.full(40, 60.0), np.full(40, 280.0), np.full(40, 22), model)
    sl, asa, _, _ = erlang_c_metrics(60.0 * 280.0 / 900.0, 22.0, 280.0, 20.0)
    assert got["service_level"][-1] == pytest.approx(float(sl), abs=1e-7)
    assert got["answered_wait_s"][-1] == pytest.approx(float(asa), rel=1e-5)


def brute_boundary(
    law: dict[tuple[int, int], float], before: int, now: int, stay: int, keep: float
) -> dict[tuple[int, int], float]:
    """(K, N) after the boundary by enumerating agents (one slot each): which ``stay`` of the
    ``before`` agents stay on the queue (every subset alike), ``now − stay`` newcomers, and which
    of them are available."""
    out: dict[tuple[int, int], float] = {}
    for (k_prev, n_prev), p in law.items():
        busy = min(n_prev, k_prev)
        waiting = n_prev - busy
        agents = list(range(before))  # agents 0..busy-1 are the busy ones
        stays = list(itertools.combinations(agents, stay))
        newcomers = now - stay
        for kept_agents in stays:
            for pattern in itertools.product((0, 1), repeat=stay + newcomers):
                w = p / len(stays)
                for up in pattern:
                    w *= keep if up else 1.0 - keep
                kept = sum(up for a, up in zip(kept_agents, pattern, strict=False) if a < busy)
                key = (sum(pattern), kept + waiting)
                out[key] = out.get(key, 0.0) + w
    return out


@pytest.mark.parametrize(
    ("before", "now", "stay"),
    [(3, 3, 3), (4, 2, 2), (2, 4, 2), (3, 1, 1), (1, 3, 1), (3, 3, 1), (3, 2, 0), (2, 3, 1)],
)
def test_the_boundary_is_what_enumerating_the_agents_gives(
    before: int, now: int, stay: int
) -> None:
    keep = 0.7
    rng = np.random.default_rng(before * 100 + now * 10 + stay)
    end = rng.random((before + 1, 6))
    end /= end.sum()
    law = {(k, n): float(end[k, n]) for k in range(before + 1) for n in range(6)}
    busy = carried._scheduled(carried._busy_waiting(end, 0, 1.0), before, stay, 1.0)
    got = carried._admit(busy, now, keep, 1.0)
    want = brute_boundary(law, before, now, stay, keep)
    for (k, n), p in want.items():
        assert got[k, n] == pytest.approx(p, abs=1e-12)
    assert got.sum() == pytest.approx(1.0, abs=1e-12)


def test_agents_who_swap_at_a_boundary_help_the_queue() -> None:
    # the same heads all day; two of them replaced at every boundary (they take their calls with
    # them, the newcomers start idle): never worse, better when the queue is busy
    n = 24
    vol, aht, heads = np.full(n, 60.0), np.full(n, 280.0), np.full(n, 22)
    model = QueueModel(900.0, 0.2, 1.0, 20.0, 180.0)
    same = carried_kpis(vol, aht, heads, model)
    swap = carried_kpis(vol, aht, heads, model, stay=heads - 2)
    # (the first interval too: its last arrivals still waiting at the boundary meet idle agents)
    assert np.all(swap["service_level"] > same["service_level"])
    assert np.all(swap["answered"][1:] >= same["answered"][1:])
    # the default is the most that can stay
    np.testing.assert_array_equal(carried.stays(heads), np.r_[0, heads[1:]])
    again = carried_kpis(vol, aht, heads, model, stay=np.full(n, 99))
    assert again["service_level"].tobytes() == same["service_level"].tobytes()


def test_segments_are_remembered_without_changing_a_number() -> None:
    # two days with a quiet night between them (no contact, nobody on): the second day is its own
    # segment, so changing the first day recomputes only the first
    day = np.r_[np.zeros(8), np.full(16, 40.0), np.zeros(8)]
    vol = np.r_[day, day]
    heads = np.r_[np.zeros(8), np.full(16, 16), np.zeros(8)].astype(int)
    heads = np.r_[heads, heads]
    model = QueueModel(900.0, 0.2, 1.0, 20.0, 180.0)
    aht = np.full(vol.size, 240.0)
    _forget()
    first = carried_kpis(vol, aht, heads, model)
    lo = 0
    bounds = []
    while lo < vol.size:
        hi, _ = segment(vol, aht, heads, model, lo)
        bounds.append(hi)
        lo = hi
    assert 32 in bounds and max(b for b in bounds if b <= 32) == 32  # the night empties it
    assert not any(9 <= b < 24 for b in bounds)  # a busy day is one segment
    _forget()
    again = carried_kpis(vol, aht, heads, model)
    for f in carried.KPI_FIELDS:
        assert first[f].tobytes() == again[f].tobytes()
    changed = heads.copy()
    changed[10] += 3
    _forget()
    fresh = carried_kpis(vol, aht, changed, model)
    carried_kpis(vol, aht, heads, model)  # the memo now holds the other plan's segments too
    mixed = carried_kpis(vol, aht, changed, model)
    for f in carried.KPI_FIELDS:
        assert fresh[f].tobytes() == mixed[f].tobytes()
        assert fresh[f][32:].tobytes() == first[f][32:].tobytes()  # the second day untouched
    assert fresh["service_level"][10] > first["service_level"][10]


@settings(deadline=None, max_examples=25)
@given(
    heads=st.lists(st.integers(0, 8), min_size=3, max_size=6),
    where=st.integers(0, 5),
    extra=st.integers(1, 3),
    residual=st.floats(0.0, 0.4),
    patience=st.one_of(st.none(), st.floats(60.0, 600.0)),
)
def test_more_heads_never_lower_that_intervals_promise(
    heads: list[int], where: int, extra: int, residual: float, patience: float | None
) -> None:
    n = np.array(heads)
    t = where % n.size
    more = n.copy()
    more[t] += extra
    vol = np.full(n.size, 20.0)
    aht = np.full(n.size, 300.0)
    model = QueueModel(900.0, residual, 1.0, 30.0, patience)
    a = carried_kpis(vol, aht, n, model)
    b = carried_kpis(vol, aht, more, model)
    assert b["service_level"][t] >= a["service_level"][t] - 1e-9
    assert b["answered"][t] >= a["answered"][t] - 1e-9
    # the probability mass is kept: expectations stay in range
    for k in (a, b):
        assert np.all((k["service_level"] >= -1e-12) & (k["service_level"] <= 1 + 1e-12))
        assert np.all(k["slots"] <= n.max() + extra + 1e-9)


def test_expected_slots_are_the_binomial_mean() -> None:
    model = QueueModel(900.0, 0.25, 2.0, 60.0, None)
    heads = np.array([4, 7, 7, 3, 0, 5])
    got = carried_kpis(np.full(6, 30.0), np.full(6, 400.0), heads, model)
    # K ~ Binomial(n, 0.75) in every interval, whatever came before; two slots each
    np.testing.assert_allclose(got["slots"], 2.0 * 0.75 * heads, atol=1e-9)
    assert math.isfinite(got["answered_wait_s"][4]) and got["service_level"][4] == 0.0


def brute_movers(
    idle: int,
    movers: int,
    keep: float,
    busy: float,
    lam: float,
    mu: float,
    nu: float,
    theta: float,
    t_s: float,
    top: int = 60,
) -> tuple[float, float]:
    """(time-average P(an arrival finds no idle agent), E[agents busy or blocked at T]) of one
    interval started empty, by enumerating each agent's start (lost, idle, or a mover still
    busy elsewhere) and solving the agents' chain (idle, busy, blocked, waiting) by expm."""
    from scipy.linalg import expm

    n = idle + movers
    states = [
        (i, b, m, w)
        for i in range(n + 1)
        for b in range(n + 1 - i)
        for m in range(n + 1 - i - b)
        for w in range(top + 1)
        if w == 0 or i == 0
    ]
    index = {s: j for j, s in enumerate(states)}
    q = np.zeros((len(states), len(states)))

    def go(src: tuple[int, int, int, int], dst: tuple[int, int, int, int], rate: float) -> None:
        if rate > 0 and dst in index:
            q[index[src], index[dst]] += rate
            q[index[src], index[src]] -= rate

    for s in states:
        i, b, m, w = s
        go(s, (i - 1, b + 1, m, w) if i > 0 else (i, b, m, w + 1), lam)
        go(s, (i, b, m, w - 1) if w > 0 else (i + 1, b - 1, m, w), b * mu)
        go(s, (i, b + 1, m - 1, w - 1) if w > 0 else (i + 1, b, m - 1, w), m * nu)
        go(s, (i, b, m, w - 1), w * theta)
    p0 = np.zeros(len(states))
    for up in range(idle + 1):  # the idle heads: available or lost
        w_up = math.comb(idle, up) * keep**up * (1 - keep) ** (idle - up)
        for free in range(movers + 1):
            for blocked in range(movers + 1 - free):
                w = (
                    math.comb(movers, free)
                    * math.comb(movers - free, blocked)
                    * (keep * (1 - busy)) ** free
                    * (keep * busy) ** blocked
                    * (1 - keep) ** (movers - free - blocked)
                )
                p0[index[(up + free, 0, blocked, 0)]] += w_up * w
    size = len(states)
    big = np.zeros((2 * size, 2 * size))
    big[:size, :size] = q.T
    big[:size, size:] = np.eye(size)
    e = expm(big * t_s)
    end = e[:size, :size] @ p0
    average = (e[:size, size:] @ p0) / t_s
    no_idle = sum(average[j] for j, s in enumerate(states) if s[0] == 0)
    busy_end = sum(end[j] * (s[1] + s[2]) for j, s in enumerate(states))
    return no_idle, busy_end


@pytest.mark.parametrize(("idle", "movers", "busy"), [(1, 2, 0.6), (2, 1, 1.0), (0, 3, 0.3)])
def test_movers_are_what_the_agents_chain_gives(idle: int, movers: int, busy: float) -> None:
    # one interval, heavy load: movers still busy on their old queue are free only after an
    # exponential time; P(wait) and the busy agents at the end against the agents' own chain
    aht, hold, patience, vol = 280.0, 400.0, 180.0, 25.0
    model = QueueModel(900.0, 0.2, 1.0, 20.0, patience)
    got = carried_kpis(
        np.array([vol]),
        np.array([aht]),
        np.array([idle + movers]),
        model,
        movers=carried.Movers(np.array([movers]), np.array([busy]), np.array([hold])),
    )
    p_wait, busy_end = brute_movers(
        idle, movers, 0.8, busy, vol / 900.0, 1 / aht, 1 / hold, 1 / patience, 900.0
    )
    assert got["p_wait"][0] == pytest.approx(p_wait, abs=1e-9)
    assert got["busy_end"][0] == pytest.approx(busy_end, abs=1e-9)
    # without movers busy elsewhere it is the chain without movers, to the last bit
    none = carried_kpis(np.array([vol]), np.array([aht]), np.array([idle + movers]), model)
    free = carried_kpis(
        np.array([vol]),
        np.array([aht]),
        np.array([idle + movers]),
        model,
        movers=carried.Movers(np.array([movers]), np.array([0.0]), np.array([hold])),
    )
    assert free["service_level"].tobytes() == none["service_level"].tobytes()
    assert got["p_wait"][0] > none["p_wait"][0]


def test_busier_movers_never_help() -> None:
    # a day: more of the newcomers still busy elsewhere, or busy longer, never raises the day's
    # promise nor that of the first interval they come in (a later interval may gain a little:
    # those still busy at its end count as free, docs/queueing.md)
    n = 16
    rng = np.random.default_rng(3)
    vol = rng.uniform(20.0, 70.0, n)
    heads = rng.integers(8, 24, n)
    model = QueueModel(900.0, 0.2, 1.0, 20.0, 180.0)
    count = np.minimum(rng.integers(0, 4, n), heads)
    last = None
    for busy, hold in ((0.0, 300.0), (0.4, 300.0), (0.8, 300.0), (0.8, 600.0)):
        mv = carried.Movers(count, np.full(n, busy), np.full(n, hold))
        got = carried_kpis(vol, np.full(n, 280.0), heads, model, movers=mv)
        sl = got["service_level"]
        if last is not None:
            first = int(np.flatnonzero(np.minimum(count, heads - carried.stays(heads)))[0])
            assert sl[first] < last[first]
            assert np.all(sl[: first + 1] <= last[: first + 1] + 1e-12)
            assert (vol * sl).sum() < (vol * last).sum()
        last = sl


def test_idle_slots_at_a_boundary_one_slot_an_agent() -> None:
    # the idle slots the next interval starts with, from s busy slots and no one waiting, against
    # the boundary's own law (``_scheduled`` and ``_admit``, the movers added by hand), on
    # random boundaries
    rng = np.random.default_rng(7)
    for _ in range(60):
        now = int(rng.integers(1, 30))
        s = int(rng.integers(1, now + 1))
        stay = int(rng.integers(0, now + 1))
        moving = int(rng.integers(0, 4))
        after = stay + moving + int(rng.integers(0, 6))
        nxt = carried._Next(now, after, stay, moving, float(rng.random()), 300.0, 1 / 280)
        keep = float(rng.uniform(0.6, 1.0))
        point = np.zeros((s + 1, 1))
        point[s, 0] = 1.0
        law = carried._admit(carried._scheduled(point, now, stay, 1.0), after - moving, keep, 1.0)
        want = np.zeros(after + 1)
        free = [
            math.comb(moving, f)
            * (keep * (1 - nxt.busy)) ** f
            * (1 - keep * (1 - nxt.busy)) ** (moving - f)
            for f in range(moving + 1)
        ]
        for k, kept in zip(*np.nonzero(law), strict=True):
            for f, pf in enumerate(free):
                want[k - kept + f] += law[k, kept] * pf
        got = carried._idle_law(s, nxt, keep, 1.0)
        got = np.pad(got, (0, max(0, want.size - got.size)))[: want.size]
        np.testing.assert_allclose(got, want, atol=1e-13)


def test_many_movers_are_counted_by_their_mean(monkeypatch: pytest.MonkeyPatch) -> None:
    # above _ROWS (free, blocked) rows a blocked mover counts as absent for the whole interval
    # with its mean blocked share: close to tracking each one, and still a cost
    n = 24
    rng = np.random.default_rng(5)
    vol = rng.uniform(40.0, 70.0, n)
    heads = rng.integers(18, 26, n)
    count = np.minimum(rng.integers(0, 5, n), heads)
    model = QueueModel(900.0, 0.2, 1.0, 20.0, 180.0)
    mv = carried.Movers(count, np.full(n, 0.8), np.full(n, 367.0))
    none = carried_kpis(vol, np.full(n, 280.0), heads, model)
    exact = carried_kpis(vol, np.full(n, 280.0), heads, model, movers=mv)
    _forget()
    monkeypatch.setattr(carried, "_ROWS", 0)
    mean = carried_kpis(vol, np.full(n, 280.0), heads, model, movers=mv)
    week = [float((vol * k["service_level"]).sum() / vol.sum()) for k in (none, exact, mean)]
    assert week[0] > week[1] and week[0] > week[2]
    assert abs(week[1] - week[2]) < 0.25 * (week[0] - week[1])


@settings(deadline=None, max_examples=200)
@given(
    total=st.integers(0, 400),
    marked=st.integers(0, 402),
    drawn=st.integers(0, 401),
)
def test_the_hypergeometric_law_is_scipys_bit_for_bit(total: int, marked: int, drawn: int) -> None:
    # the boundary's shortcut past scipy's generic wrapper gives its very numbers: the support,
    # zeros outside it, NaN for impossible parameters (the promise's bytes rest on it)
    from scipy import stats

    k = np.arange(min(marked, drawn) + 3)
    want = stats.hypergeom.pmf(k, total, marked, drawn)
    got = carried.hypergeom_pmf(k, total, marked, drawn)
    assert got.tobytes() == np.asarray(want, dtype=float).tobytes()
    kept = np.array(carried._hypergeom(total, marked, drawn))
    assert kept.tobytes() == want[: min(marked, drawn) + 1].tobytes()
