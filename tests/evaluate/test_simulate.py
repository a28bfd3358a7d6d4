"""Simulation tests against independent oracles (Erlang C closed form, Erlang A CTMC), plus
invariants.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import expm

from staffplan.errors import InputError
from staffplan.evaluate.sim_kernel import ABANDONED, WAITING_AT_END, run_replication
from staffplan.evaluate.simulate import (
    METRICS,
    QueueSim,
    _Inputs,
    agents_per_queue,
    draw_contacts,
    simulate_week,
)

# ---------------------------------------------------------------- oracles


def erlang_c(s: int, a: float) -> float:
    """Probability of waiting, M/M/s with offered load a [Erlangs] (Erlang B recursion)."""
    b = 1.0
    for k in range(1, s + 1):
        b = a * b / (k + a * b)
    return s * b / (s - a * (1 - b))


def erlang_a(
    s: int, lam: float, mu: float, theta: float, t_sl: float, n_max: int = 400
) -> dict[str, float]:
    """M/M/s+M by its CTMC: abandonment, service level (answered within t_sl / offered), ASA of
    answered.
    """
    n = np.arange(n_max + 1)
    death = np.minimum(n, s) * mu + np.maximum(n - s, 0) * theta
    logp = np.concatenate(([0.0], np.cumsum(np.log(lam) - np.log(death[1:]))))
    pi = np.exp(logp - logp.max())
    pi /= pi.sum()
    p_abandon = theta * float((np.maximum(n - s, 0) * pi).sum()) / lam
    # a tagged arrival finding j waiting ahead: phases j..0, then served at rate s*mu; own
    # abandonment theta
    j_max = n_max - s
    k = j_max + 1
    sub = np.zeros((k, k))
    for i in range(k):
        sub[i, i] = -(s * mu + i * theta + theta)
        if i > 0:
            sub[i, i - 1] = s * mu + i * theta
    r = np.zeros(k)
    r[0] = s * mu
    gen = np.zeros((k + 2, k + 2))
    gen[:k, :k] = sub
    gen[:k, k] = r
    gen[:k, k + 1] = theta
    served_by_t = expm(gen * t_sl)[:k, k]
    inv = np.linalg.inv(-sub)
    p_served = inv @ r
    wait_served = inv @ (inv @ r)
    pw = pi[s:]
    sl = float(pi[:s].sum() + (pw * served_by_t).sum())
    served = float(pi[:s].sum() + (pw * p_served).sum())
    asa = float((pw * wait_served).sum()) / served
    return {"abandon": p_abandon, "service_level": sl, "asa_s": asa, "served": served}


def constant_week(
    s: int, load: float, aht: float, interval_min: int = 60, days: int = 7
) -> tuple[np.ndarray, ...]:
    nt = days * 24 * 60 // interval_min
    lam = load / aht
    arrivals = np.full((1, nt), lam * interval_min * 60)
    return (
        arrivals,
        np.full((1, nt), aht),
        np.ones((s, nt), dtype=bool),
        np.ones((s, 1), dtype=np.int64),
    )


def close(sim: float, ci: float, oracle: float, slack: float) -> bool:
    return abs(sim - oracle) <= 3 * ci + slack


# ---------------------------------------------------------------- the oracles themselves


def test_erlang_a_oracle_reduces_to_erlang_c_without_abandonment() -> None:
    s, aht, load = 10, 300.0, 8.5
    lam, mu = load / aht, 1 / aht
    c = erlang_c(s, load)
    got = erlang_a(s, lam, mu, 1e-12, 20.0, n_max=600)
    assert got["service_level"] == pytest.approx(1 - c * math.exp(-(s * mu - lam) * 20), abs=1e-6)
    assert got["asa_s"] == pytest.approx(c / (s * mu - lam), rel=1e-4)
    assert got["abandon"] == pytest.approx(0.0, abs=1e-6)


# ---------------------------------------------------------------- simulation vs oracles


def test_single_queue_matches_erlang_c() -> None:
    s, aht, load, t_sl = 10, 300.0, 8.5, 20.0
    arrivals, aht_s, on, skills = constant_week(s, load, aht)
    res = simulate_week(
        arrivals,
        aht_s,
        60,
        on,
        skills,
        [QueueSim("v", answer_within_s=t_sl)],
        replications=10,
        seed=3,
        workers=2,
    )
    w = res.week.iloc[0]
    lam, mu = load / aht, 1 / aht
    c = erlang_c(s, load)
    sl = 1 - c * math.exp(-(s * mu - lam) * t_sl)
    asa_all = c / (s * mu - lam)
    assert w["service_level_ci"] < 0.03  # the check below has teeth
    assert close(w["service_level"], w["service_level_ci"], sl, 0.005)
    # no abandonment: ASA of answered ~ mean wait of all (a handful wait at the end)
    assert close(w["asa_s"], w["asa_s_ci"], asa_all, 2.0)
    assert close(w["occupancy"], w["occupancy_ci"], load / s, 0.005)
    assert w["abandoned"] == 0
    # far from the right answer: the simulation would notice a wrong staffing of one agent
    assert not close(
        w["service_level"],
        w["service_level_ci"],
        1 - erlang_c(s + 1, load) * math.exp(-((s + 1) * mu - lam) * t_sl),
        0.0,
    )


def test_single_queue_with_patience_matches_erlang_a() -> None:
    s, aht, load, patience, t_sl = 10, 300.0, 10.0, 200.0, 20.0
    arrivals, aht_s, on, skills = constant_week(s, load, aht)
    q = QueueSim("v", answer_within_s=t_sl, patience_s=patience)
    res = simulate_week(arrivals, aht_s, 60, on, skills, [q], replications=10, seed=5, workers=2)
    w = res.week.iloc[0]
    oracle = erlang_a(s, load / aht, 1 / aht, 1 / patience, t_sl)
    assert w["abandon_rate_ci"] < 0.02
    assert close(w["abandon_rate"], w["abandon_rate_ci"], oracle["abandon"], 0.005)
    assert close(w["service_level"], w["service_level_ci"], oracle["service_level"], 0.005)
    assert close(w["asa_s"], w["asa_s_ci"], oracle["asa_s"], 1.0)
    assert close(w["occupancy"], w["occupancy_ci"], load * oracle["served"] / s, 0.005)


def test_lognormal_handle_times_keep_mean_and_cv() -> None:
    rng = np.random.default_rng(1)
    q = QueueSim("c", handle="lognormal", handle_cv=0.6, patience_s=50.0)
    inp = _Inputs(
        np.full((1, 500), 100.0),
        np.full((1, 500), 240.0),
        15,
        np.ones((1, 500), bool),
        np.ones((1, 1), np.int64),
        (q,),
        0.0,
        np.zeros((1, 500)),
    )
    arr, qq, t, handle, abandon_at = draw_contacts(rng, inp)
    assert np.all(np.diff(arr) >= 0)
    assert np.all(arr // 900 == t)
    assert handle.mean() == pytest.approx(240.0, rel=0.01)
    assert handle.std() / handle.mean() == pytest.approx(0.6, rel=0.03)
    assert (abandon_at - arr).mean() == pytest.approx(50.0, rel=0.02)


def test_over_dispersion_gives_gamma_poisson_variance() -> None:
    rng = np.random.default_rng(2)
    m, d, nt = 10.0, 0.5, 20000
    inp = _Inputs(
        np.full((1, nt), m),
        np.full((1, nt), 60.0),
        15,
        np.ones((1, nt), bool),
        np.ones((1, 1), np.int64),
        (QueueSim("v"),),
        d,
        np.zeros((1, nt)),
    )
    _, _, t, _, _ = draw_contacts(rng, inp)
    counts = np.bincount(t, minlength=nt)
    assert counts.mean() == pytest.approx(m, rel=0.02)
    assert counts.var() == pytest.approx(m + d * m * m, rel=0.06)
    inp0 = _Inputs(
        inp.arrivals, inp.aht_s, 15, inp.on_phone, inp.skills, inp.queues, 0.0, inp.agents_q
    )
    counts0 = np.bincount(draw_contacts(rng, inp0)[2], minlength=nt)
    assert counts0.var() == pytest.approx(m, rel=0.06)


# ---------------------------------------------------------------- invariants


def small_case(draw: st.DrawFn) -> tuple:
    nq = draw(st.integers(1, 3))
    na = draw(st.integers(0, 5))
    nt = draw(st.integers(1, 12))
    arrivals = np.array(
        draw(st.lists(st.floats(0, 8), min_size=nq * nt, max_size=nq * nt))
    ).reshape(nq, nt)
    aht = np.array(draw(st.lists(st.floats(30, 900), min_size=nq * nt, max_size=nq * nt))).reshape(
        nq, nt
    )
    on = np.array(
        draw(st.lists(st.booleans(), min_size=na * nt, max_size=na * nt)), dtype=bool
    ).reshape(na, nt)
    skills = np.array(
        draw(st.lists(st.integers(0, 2), min_size=na * nq, max_size=na * nq)), dtype=np.int64
    ).reshape(na, nq)
    queues = [
        QueueSim(
            f"q{k}",
            answer_within_s=draw(st.sampled_from([0.0, 20.0, 300.0])),
            patience_s=draw(st.sampled_from([None, 60.0])),
            concurrency=draw(st.integers(1, 3)),
        )
        for k in range(nq)
    ]
    return arrivals, aht, on, skills, queues


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_conservation_and_bounds(data: st.DataObject) -> None:
    arrivals, aht, on, skills, queues = small_case(data.draw)
    res = simulate_week(
        arrivals,
        aht,
        15,
        on,
        skills,
        queues,
        dispersion=data.draw(st.sampled_from([0.0, 0.3])),
        replications=3,
        seed=data.draw(st.integers(0, 99)),
    )
    for frame in (res.intervals, res.week, res.replications):
        total = frame["answered"] + frame["abandoned"] + frame["waiting_end"]
        np.testing.assert_allclose(total, frame["offered"], atol=1e-9)
        for m in ("service_level", "abandon_rate"):
            v = frame[m].dropna()
            assert ((v >= 0) & (v <= 1)).all()
        assert (frame["asa_s"].dropna() >= 0).all()
    # nobody can serve a queue nobody is skilled for
    for k in range(len(queues)):
        if not (skills[:, k] > 0).any() or not on.any():
            assert res.week.loc[k, "answered"] == 0
    # allocated agents add up to the agents on the phone who can serve something
    serving = on[(skills > 0).any(axis=1)].sum(axis=0)
    np.testing.assert_allclose(
        res.intervals.groupby("interval", sort=True)["agents"].sum().to_numpy(), serving, atol=1e-9
    )


def test_deterministic_for_a_seed_and_independent_of_workers() -> None:
    arrivals, aht, on, skills = constant_week(4, 3.0, 240.0, interval_min=15, days=1)
    qs = [QueueSim("v", patience_s=120.0)]
    a = simulate_week(arrivals, aht, 15, on, skills, qs, replications=4, seed=11, workers=1)
    b = simulate_week(arrivals, aht, 15, on, skills, qs, replications=4, seed=11, workers=2)
    c = simulate_week(arrivals, aht, 15, on, skills, qs, replications=4, seed=12, workers=1)
    for f in ("intervals", "week", "replications"):
        assert getattr(a, f).equals(getattr(b, f))
    assert not a.week.equals(c.week)


def test_zero_arrivals() -> None:
    arrivals, aht, on, skills = constant_week(3, 0.0, 240.0, interval_min=30, days=1)
    res = simulate_week(arrivals, aht, 30, on, skills, [QueueSim("v")], replications=3)
    w = res.week.iloc[0]
    assert w["offered"] == 0 and w["answered"] == 0
    assert math.isnan(w["service_level"]) and math.isnan(w["asa_s"])
    assert w["occupancy"] == 0.0
    assert res.intervals["occupancy"].eq(0).all()


def test_all_agents_on_break() -> None:
    arrivals, aht, on, skills = constant_week(3, 2.0, 240.0, interval_min=30, days=1)
    off = np.zeros_like(on)
    res = simulate_week(arrivals, aht, 30, off, skills, [QueueSim("v")], replications=3)
    w = res.week.iloc[0]
    assert w["offered"] > 0 and w["answered"] == 0 and w["abandoned"] == 0
    assert w["waiting_end"] == w["offered"] and w["service_level"] == 0.0
    res2 = simulate_week(
        arrivals, aht, 30, off, skills, [QueueSim("v", patience_s=60.0)], replications=3
    )
    w2 = res2.week.iloc[0]
    # all patience runs out within the day except for contacts in the last minutes
    assert w2["answered"] == 0
    assert w2["abandoned"] + w2["waiting_end"] == pytest.approx(w2["offered"])
    assert w2["abandon_rate"] > 0.95


# ---------------------------------------------------------------- routing rules on hand-made event
# streams


def kernel(arr_t, arr_q, handle, abandon, on_events, skills, conc, horizon=10_000.0):
    skills = np.asarray(skills)
    groups = [
        [[q for q, p in enumerate(row) if p == pr] for pr in sorted({p for p in row if p > 0})]
        for row in skills.tolist()
    ]
    flat = [[q for q, p in enumerate(row) if p > 0] for row in skills.tolist()]
    tt = np.array([e[0] for e in on_events], dtype=float)
    ta = np.array([e[1] for e in on_events], dtype=np.int64)
    ton = np.array([e[2] for e in on_events], dtype=bool)
    return run_replication(
        np.array(arr_t, float),
        np.array(arr_q),
        np.array(handle, float),
        np.array(abandon, float),
        tt,
        ta,
        ton,
        groups,
        flat,
        conc,
        horizon,
    )


def test_priority_beats_waiting_time_and_ties_go_to_longest_waiting() -> None:
    inf = math.inf
    # agent 0: voice priority 1, chat and email priority 2; comes on at t=100
    start, by = kernel(
        [0, 10, 50], [1, 2, 0], [30, 30, 30], [inf] * 3, [(100, 0, True)], [[1, 2, 2]], [1, 1, 1]
    )
    assert start.tolist() == [
        130,
        160,
        100,
    ]  # voice first, then the longest-waiting of chat/email (chat, t=0)
    assert by.tolist() == [0, 0, 0]


def test_planned_queue_first_then_skill_priority() -> None:
    inf = math.inf
    groups = [[[0], [1, 2]]]  # voice first by skill, then chat and email
    flat = [[0, 1, 2]]
    args = (
        np.array([0.0, 10.0, 50.0]),
        np.array([1, 2, 0]),
        np.array([30.0, 30.0, 30.0]),
        np.array([inf] * 3),
        np.array([100.0]),
        np.array([0]),
        np.array([True]),
        groups,
        flat,
        [1, 1, 1],
        10_000.0,
    )
    start, _ = run_replication(*args)
    assert start.tolist() == [130, 160, 100]  # by skill: voice, then the longest-waiting
    # the plan puts the agent on email from t=0 and on chat from t=150: email, voice, then chat
    # would be next by skill, but from 150 chat comes first
    start, _ = run_replication(
        *args,
        np.array([0.0, 150.0]),
        np.array([0, 0]),
        [[[2], [0], [1]], [[1], [0], [2]]],
    )
    assert start.tolist() == [160, 100, 130]


def test_arrival_goes_to_longest_idle_agent() -> None:
    inf = math.inf
    # agents 0 and 1 on at t=0; contact A (t=1) -> agent 0 (idle since 0, first by id), ends t=11;
    # agent 1 idle since 0 -> longest idle at t=20, then agent 0 (idle since 11) at t=21
    start, by = kernel(
        [1, 20, 21],
        [0, 0, 0],
        [10, 100, 100],
        [inf] * 3,
        [(0, 0, True), (0, 1, True)],
        [[1], [1]],
        [1],
    )
    assert by.tolist() == [0, 1, 0]
    assert start.tolist() == [1, 20, 21]


def test_contact_in_progress_is_finished_at_break_and_queue_waits() -> None:
    inf = math.inf
    events = [(0, 0, True), (900, 0, False), (1800, 0, True)]
    start, by = kernel(
        [800, 850, 1000], [0, 0, 0], [500, 10, 10], [inf, inf, 1500], events, [[1]], [1]
    )
    assert start[0] == 800  # runs past the break start at 900
    assert start[1] == 1800  # waits for the end of the break
    assert start[2] == ABANDONED  # its patience ended at 1500
    start2, _ = kernel(
        [800, 850], [0, 0], [500, 10], [inf, inf], events[:2], [[1]], [1], horizon=1700
    )
    assert start2[1] == WAITING_AT_END


def test_chat_concurrency_and_fewest_sessions_first() -> None:
    inf = math.inf
    # one agent, concurrency 2: the third chat waits for the first to end
    start, _ = kernel([0, 1, 2], [0, 0, 0], [100, 100, 100], [inf] * 3, [(0, 0, True)], [[1]], [2])
    assert start.tolist() == [0, 1, 100]
    # two agents: the second chat goes to the agent with no session, not the half-busy one
    start, by = kernel(
        [0, 1, 2],
        [0, 0, 0],
        [100, 100, 100],
        [inf] * 3,
        [(0, 0, True), (0, 1, True)],
        [[1], [1]],
        [2],
    )
    assert by.tolist() == [0, 1, 0]
    # an agent with a chat in progress does not take voice
    start, by = kernel([0, 1], [0, 1], [100, 10], [inf] * 2, [(0, 0, True)], [[1, 1]], [2, 1])
    assert start.tolist() == [0, 100]


def test_agents_per_queue_split_by_load() -> None:
    on = np.array([[1, 1], [1, 0], [1, 1]], dtype=bool)
    skills = np.array([[1, 2], [1, 0], [0, 1]])
    load = np.array([[3.0, 0.0], [1.0, 0.0]])
    got = agents_per_queue(on, skills, load)
    # interval 0: agent 0 splits 3:1, agent 1 all voice, agent 2 all chat; interval 1: no load ->
    # equal split
    np.testing.assert_allclose(got, [[0.75 + 1, 0.5], [0.25 + 1, 1.5]])


def test_bad_inputs_raise_clear_errors() -> None:
    arrivals, aht, on, skills = constant_week(2, 1.0, 240.0, interval_min=60, days=1)
    with pytest.raises(InputError, match="shape"):
        simulate_week(arrivals, aht[:, :3], 60, on, skills, [QueueSim("v")])
    with pytest.raises(InputError, match="handle time"):
        simulate_week(arrivals, aht * 0, 60, on, skills, [QueueSim("v")])
    with pytest.raises(InputError, match="concurrency"):
        QueueSim("c", concurrency=0)
    with pytest.raises(InputError, match="distribution"):
        QueueSim("c", handle="gamma")
    with pytest.raises(InputError, match="replications"):
        simulate_week(arrivals, aht, 60, on, skills, [QueueSim("v")], replications=0)
    assert set(METRICS) <= set(
        simulate_week(arrivals, aht, 60, on, skills, [QueueSim("v")], replications=2).week.columns
    )


def test_pooled_skills_behave_as_one_erlang_c_queue_and_priority_conserves_mean_wait() -> None:
    """Two queues served by one pool with the same handle time: FIFO across queues is one M/M/s
    queue;
    with priorities the mean wait over all contacts is unchanged (Kleinrock's conservation law)."""
    s, aht, load, t_sl = 10, 300.0, 8.5, 20.0
    arrivals, aht_s, on, _ = constant_week(s, load, aht)
    two = np.vstack([arrivals * 0.6, arrivals * 0.4])
    aht2 = np.vstack([aht_s, aht_s])
    qs = [QueueSim("a", answer_within_s=t_sl), QueueSim("b", answer_within_s=t_sl)]
    lam, mu = load / aht, 1 / aht
    c = erlang_c(s, load)
    sl = 1 - c * math.exp(-(s * mu - lam) * t_sl)
    fifo = simulate_week(
        two, aht2, 60, on, np.ones((s, 2), dtype=np.int64), qs, replications=10, seed=8, workers=2
    )
    for _, w in fifo.week.iterrows():
        assert close(w["service_level"], w["service_level_ci"], sl, 0.01)
    prio = simulate_week(
        two, aht2, 60, on, np.tile([1, 2], (s, 1)), qs, replications=10, seed=8, workers=2
    )
    wa, wb = prio.week.iloc[0], prio.week.iloc[1]
    assert wa["asa_s"] + 3 * wa["asa_s_ci"] < wb["asa_s"] - 3 * wb["asa_s_ci"]  # priority shows
    per_rep = prio.replications.pivot(index="replication", columns="queue", values="asa_s")
    mixed = 0.6 * per_rep["a"] + 0.4 * per_rep["b"]
    half = 2.262 * mixed.std(ddof=1) / math.sqrt(len(mixed))
    assert abs(mixed.mean() - c / (s * mu - lam)) <= 3 * half + 2.0


def test_allocated_routing_serves_only_the_planned_queue_pooled_helps() -> None:
    """12 agents skilled in both queues, 10 planned on a (8.5 Erlangs) and 2 on b (0.5): routed
    as allocated, queue a is the M/M/10 queue of Erlang C; pooled, b's idle agents help a."""
    s, aht, load, t_sl = 10, 300.0, 8.5, 20.0
    arrivals, aht_s, _, _ = constant_week(s, load, aht)
    two = np.vstack([arrivals, arrivals * 0.5 / load])
    aht2 = np.vstack([aht_s, aht_s])
    nt = two.shape[1]
    on = np.ones((12, nt), dtype=bool)
    plan = np.repeat(np.array([0] * 10 + [1] * 2)[:, None], nt, axis=1)
    qs = [QueueSim("a", answer_within_s=t_sl), QueueSim("b", answer_within_s=t_sl)]
    both = np.ones((12, 2), dtype=np.int64)
    lam, mu = load / aht, 1 / aht
    sl = 1 - erlang_c(s, load) * math.exp(-(s * mu - lam) * t_sl)
    kw = {"replications": 10, "seed": 8, "workers": 2, "priority": plan}
    own = simulate_week(two, aht2, 60, on, both, qs, **kw).week.iloc[0]
    assert close(own["service_level"], own["service_level_ci"], sl, 0.01)
    assert own["agent_hours"] == pytest.approx(10 * nt)
    pooled = simulate_week(two, aht2, 60, on, both, qs, routing="pooled", **kw).week.iloc[0]
    assert pooled["service_level"] - 3 * pooled["service_level_ci"] > sl + 0.03


def test_exclusive_move_finishes_the_old_contact_first_and_leaves_the_old_queue() -> None:
    """One agent on queue 0 busy until t=100, moved to queue 1 alone at t=50: the queue-1
    contact of t=60 starts at 100, the queue-0 contact of t=70 is never answered; pooled
    (not exclusive) it would be answered after the queue-1 one."""
    inf = math.inf
    args = (
        np.array([0.0, 60.0, 70.0]),
        np.array([0, 1, 0]),
        np.array([100.0, 30.0, 30.0]),
        np.array([inf] * 3),
        np.array([0.0]),
        np.array([0]),
        np.array([True]),
        [[[0, 1]]],
        [[0, 1]],
        [1, 1],
        10_000.0,
        np.array([50.0]),
        np.array([0]),
        [[[1]]],
    )
    start, _ = run_replication(*args, True)
    assert start.tolist() == [0.0, 100.0, WAITING_AT_END]
    pooled = (*args[:-1], [[[1], [0]]])
    start, _ = run_replication(*pooled)
    assert start.tolist() == [0.0, 100.0, 130.0]
    with pytest.raises(InputError, match="routing"):
        simulate_week(
            np.ones((2, 4)),
            np.ones((2, 4)),
            15,
            np.ones((1, 4), dtype=bool),
            np.ones((1, 2), dtype=np.int64),
            [QueueSim("a"), QueueSim("b")],
            routing="skills",
        )
