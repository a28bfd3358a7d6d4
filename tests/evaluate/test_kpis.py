"""Promised KPIs: the binomial expectation against mpmath, the Erlang models at r = 0, thinning
keeps concave curves concave, the fewest heads meeting a target, week weights."""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from staffplan.evaluate.kpis import (
    WeekPromise,
    interval_kpis,
    promised_curve,
    promised_heads,
    promised_kpis,
    target_gaps,
    thin,
    week_kpis,
)
from staffplan.evaluate.plan_promise import plan_kpis
from staffplan.queueing import Target, kpis, offered_load, state_kpis

VOICE = Target(0.8, 20, patience_s=180)
CHAT = Target(0.8, 60, concurrency=2)


def test_expectation_over_binomial_losses_matches_mpmath() -> None:
    vol, aht, heads, r = 60.0, 280.0, 26, 0.22
    got = promised_kpis(np.array([vol]), aht, 15, np.array([heads]), VOICE, r).iloc[0]
    k = np.arange(heads + 1)
    load = float(offered_load(vol, 15, aht))
    s = state_kpis(np.full(k.size, load), k.astype(float), aht, 20.0, 900.0, r, 180.0)
    mp.mp.dps = 40
    w = [mp.binomial(heads, j) * mp.mpf(1 - r) ** j * mp.mpf(r) ** (heads - j) for j in k]
    sl = mp.fsum(wj * float(v) for wj, v in zip(w, s.service_level, strict=True))
    ans = mp.fsum(wj * float(v) for wj, v in zip(w, s.answered, strict=True))
    waited = mp.fsum(
        wj * float(a) * float(x) for wj, a, x in zip(w, s.answered, s.wait_s, strict=True)
    )
    carried = mp.fsum(wj * float(v) for wj, v in zip(w, s.carried, strict=True))
    assert got["service_level"] == pytest.approx(float(sl), abs=1e-12)
    assert got["abandon_rate"] == pytest.approx(float(1 - ans), abs=1e-12)
    assert got["asa_s"] == pytest.approx(float(waited / ans), rel=1e-10)
    assert got["occupancy"] == pytest.approx(float(carried / (heads * (1 - r))), rel=1e-10)
    assert got["available"] == pytest.approx(heads * (1 - r))


def test_promise_is_below_counting_every_head_as_there() -> None:
    # the old reading: all 26 heads answer; with r = 0.22 about 5.7 of them are not there
    got = promised_kpis(np.array([60.0]), 280.0, 15, np.array([26]), VOICE, 0.22)
    everyone = kpis(60.0, 280.0, 15, 26, VOICE)
    assert got["service_level"].iloc[0] < everyone["service_level"].iloc[0] - 0.1


@pytest.mark.parametrize("target", [VOICE, Target(0.8, 20, asa_max_s=30, abandon_max=0.05)])
def test_no_shrinkage_is_the_stationary_model(target: Target) -> None:
    vol = np.array([40.0, 90.0, 0.0])
    heads = np.array([12, 28, 3]) if target.patience_s else np.array([15, 30, 3])
    got = promised_kpis(vol, 240.0, 15, heads, target, 0.0)
    ref = kpis(vol, 240.0, 15, heads, target)
    if target.patience_s is None:
        # Erlang C keeps one interval of history, not an infinite one: close when well staffed
        np.testing.assert_allclose(got["service_level"], ref["service_level"], atol=0.01)
    else:
        for c in ("service_level", "asa_s", "p_wait", "occupancy", "abandon_rate"):
            np.testing.assert_allclose(got[c], ref[c], rtol=1e-7, atol=1e-10)


def test_chat_counts_slots_and_stays_finite() -> None:
    got = promised_kpis(np.array([25.0, 25.0]), 420.0, 15, np.array([4, 10]), CHAT, 0.22)
    assert np.isfinite(got[["service_level", "asa_s", "occupancy"]].to_numpy()).all()
    assert got["service_level"].iloc[0] < got["service_level"].iloc[1]
    assert got["abandon_rate"].eq(0.0).all()


@settings(deadline=None, max_examples=60)
@given(
    gains=st.lists(st.floats(0.0, 50.0), min_size=2, max_size=30),
    keep=st.floats(0.05, 1.0),
    base=st.floats(0.0, 10.0),
)
def test_thinning_keeps_a_concave_curve_concave(
    gains: list[float], keep: float, base: float
) -> None:
    # f(0) = base, gains non-increasing: f is concave and non-decreasing
    g = np.sort(np.asarray(gains))[::-1]
    f = np.concatenate([[base], base + np.cumsum(g)])
    tf = thin(f, keep)[0]
    d = np.diff(tf)
    assert np.all(d >= -1e-9 * max(1.0, f[-1]))  # non-decreasing
    assert np.all(np.diff(d) <= 1e-9 * max(1.0, f[-1]))  # gains non-increasing: concave
    assert tf[0] == pytest.approx(base)


def test_thinning_by_hand() -> None:
    f = np.array([0.0, 1.0, 1.5, 1.75])
    p = 0.6
    want = [0.0, p * 1.0, 2 * p * (1 - p) * 1.0 + p * p * 1.5]
    want.append(3 * p * (1 - p) ** 2 * 1.0 + 3 * p * p * (1 - p) * 1.5 + p**3 * 1.75)
    np.testing.assert_allclose(thin(f, p)[0], want, rtol=1e-12)


def test_promised_curve_is_volume_times_promised_service_level() -> None:
    vol = np.array([60.0, 15.0, 0.0])
    curve = promised_curve(vol, 280.0, 15, VOICE, 0.2, 30)
    for n in (0, 5, 18, 30):
        k = promised_kpis(vol, 280.0, 15, np.full(3, n), VOICE, 0.2)
        np.testing.assert_allclose(curve[:, n], vol * k["service_level"], rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(
    "target",
    [VOICE, CHAT, Target(0.8, 20, asa_max_s=25), Target(0.9, 15, patience_s=120, abandon_max=0.03)],
)
def test_promised_heads_are_the_fewest_meeting_every_target(target: Target) -> None:
    rng = np.random.default_rng(3)
    vol = np.concatenate([rng.uniform(1, 120, 12), [0.0]])
    aht = rng.uniform(150, 420, vol.size)
    heads = promised_heads(vol, aht, 15, target, 0.25)
    assert heads[-1] == 0

    def meets(n: np.ndarray) -> np.ndarray:
        k = promised_kpis(vol, aht, 15, n, target, 0.25)
        ok = k["service_level"].to_numpy() >= target.service_level - 1e-12
        if target.asa_max_s is not None:
            ok &= k["asa_s"].to_numpy() <= target.asa_max_s + 1e-9
        if target.abandon_max is not None:
            ok &= k["abandon_rate"].to_numpy() <= target.abandon_max + 1e-12
        return ok

    assert meets(heads).all()
    busy = vol > 0
    assert not meets(np.maximum(heads - 1, 0))[busy].any()
    # the search's bracket moves up and down from any first guess to the same fewest heads
    for start in (heads, 3 * heads + 5, heads // 2, np.ones_like(heads)):
        assert (promised_heads(vol, aht, 15, target, 0.25, start=start) == heads).all()


def test_promised_heads_unchanged_on_the_example() -> None:
    """Regression: the example's requirements as the implementation before the bracket search
    computed them (tests/data/requirements/example_week50.csv: the forecast of week 50 with the
    heads and promised KPIs of that implementation)."""
    from pathlib import Path

    from staffplan.requirements import compute_requirements
    from staffplan.scenario import load

    root = Path(__file__).resolve().parents[2]
    want = pd.read_csv(root / "tests/data/requirements/example_week50.csv")
    sc = load(root / "scenarios/example/scenario.toml")
    forecast = want[["interval_start", "queue", "volume", "aht_seconds"]].copy()
    forecast["interval_start"] = pd.to_datetime(forecast["interval_start"], utc=True).dt.tz_convert(
        sc.grid.timezone
    )
    got = compute_requirements(forecast, sc)
    assert got["on_phone_agents"].tolist() == want["on_phone_agents"].tolist()
    for col in ("service_level", "asa_seconds", "occupancy", "abandon_rate"):
        np.testing.assert_allclose(got[col], want[col], rtol=1e-9, atol=1e-12)


def test_interval_and_week_weights() -> None:
    per = pd.DataFrame(
        {
            "interval_start": ["a", "b", "c"],
            "queue": ["voice", "voice", "chat"],
            "volume": [100.0, 300.0, 50.0],
            "aht_seconds": [200.0] * 3,
            "agents": [10, 30, 5],
            "available": [8.0, 24.0, 4.0],
            "service_level": [0.5, 0.9, 1.0],
            "asa_s": [20.0, 4.0, 0.0],
            "p_wait": [0.5, 0.1, 0.0],
            "occupancy": [0.6, 0.8, 0.4],
            "abandon_rate": [0.2, 0.0, 0.0],
        }
    )
    wk = week_kpis(per, 15).set_index("queue")
    assert wk.loc["voice", "service_level"] == pytest.approx((0.5 * 100 + 0.9 * 300) / 400)
    assert wk.loc["all", "service_level"] == pytest.approx((50 + 270 + 50) / 450)
    # ASA over the contacts answered: 80 answered at 20 s, 300 at 4 s
    assert wk.loc["voice", "asa_s"] == pytest.approx((80 * 20 + 300 * 4) / 380)
    assert wk.loc["voice", "occupancy"] == pytest.approx((0.6 * 8 + 0.8 * 24) / 32)
    assert wk.loc["all", "agent_hours"] == pytest.approx(45 * 0.25)
    assert wk.loc["all", "available_hours"] == pytest.approx(36 * 0.25)


def test_interval_kpis_leave_out_intervals_without_contacts() -> None:
    vol = np.array([[100.0, 0.0, 60.0]])
    aht = np.array([[240.0, 240.0, 300.0]])
    agents = np.array([[30, 5, 25]])
    per = interval_kpis(["t0", "t1", "t2"], ["voice"], vol, aht, agents, 15, [VOICE], [0.2])
    assert per["interval_start"].tolist() == ["t0", "t2"]
    # the rows of the plan's KPIs (the queue carried through the empty interval t1)
    own = plan_kpis(vol[0], aht[0], 15, agents[0], VOICE, 0.2)
    np.testing.assert_allclose(per["service_level"], own["service_level"].to_numpy()[[0, 2]])
    np.testing.assert_allclose(per["available"], [24.0, 20.0])


def test_target_gaps_count_promised_shortfalls_per_queue() -> None:
    per = pd.DataFrame(
        {
            "queue": ["voice"] * 3 + ["chat"] * 2 + ["email"],
            "volume": [10.0, 20.0, 30.0, 5.0, 5.0, 1.0],
            "service_level": [0.9, 0.7, 0.75, 0.8, 0.5, 0.0],
        }
    )
    got = target_gaps(per, {"voice": 0.8, "chat": 0.8, "email": None}).set_index("queue")
    assert list(got.index) == ["voice", "chat"]
    assert got.loc["voice", "below_target"] == 2
    # by hand: voice misses 0.8 by 0.1 (0.7) and by 0.05 (0.75); their mean 0.075
    assert got.loc["voice", "mean_shortfall"] == pytest.approx(0.075)
    assert got.loc["voice", "max_shortfall"] == pytest.approx(0.1)
    assert got.loc["voice", "contacts_below"] == pytest.approx(50.0)
    assert got.loc["chat", "below_target"] == 1


def test_week_promise_is_the_week_kpis_service_level_of_any_allocation() -> None:
    """The progress line's figure: the ``all`` row of week_kpis over voice and chat, email (a
    deadline queue) and intervals without contacts left out, however the cache was widened."""
    rng = np.random.default_rng(5)
    n = 12
    vol = np.stack([rng.uniform(0, 80, n), rng.uniform(0, 30, n), rng.uniform(5, 40, n)])
    vol[0, 3] = 0.0
    aht = np.stack([np.full(n, 280.0), np.full(n, 420.0), np.full(n, 600.0)])
    targets = [VOICE, CHAT, Target(deadline_hours=24)]
    residuals = [0.22, 0.15, 0.2]
    meter = WeekPromise(vol, aht, 15, targets, residuals)
    assert meter.queues == (0, 1)
    for width in (3, 12, 40):  # grows the cached curves twice
        alloc = rng.integers(0, width + 1, size=(3, n))
        per = interval_kpis(
            list(range(n)),
            ["voice", "chat"],
            vol[:2],
            aht[:2],
            alloc[:2],
            15,
            targets[:2],
            residuals[:2],
        )
        want = week_kpis(per, 15).set_index("queue").loc["all", "service_level"]
        assert meter.service_level(alloc) == pytest.approx(want, abs=1e-9)
    fresh = WeekPromise(vol, aht, 15, targets, residuals)
    small = np.minimum(alloc, 2)
    assert fresh.service_level(small) == pytest.approx(meter.service_level(small), abs=1e-12)
    assert (
        WeekPromise(np.zeros((1, 3)), np.zeros((1, 3)), 15, [VOICE], [0.2]).service_level(
            np.ones((1, 3))
        )
        is None
    )


def test_week_promise_keeps_progress_lines_within_their_share_of_the_solve() -> None:
    from staffplan.evaluate.kpis import PROGRESS_SHARE, WeekPromise

    meter = WeekPromise(np.array([[10.0, 20.0]]), np.array([[240.0, 240.0]]), 15, [VOICE], [0.2])
    assert meter.affordable(0.0)  # the first line always
    assert meter.service_level(np.array([[3, 4]])) is not None and meter.calls == 1
    meter.spent_s = 1.0  # one second of CPU spent on lines so far
    assert not meter.affordable(0.9 / PROGRESS_SHARE)
    assert meter.affordable(1.0 / PROGRESS_SHARE)
