"""Agents who change queue, against the simulator (contact by contact: a moved agent finishes
what it holds on its old queue first) and against closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from staffplan.evaluate.kpis import interval_kpis, week_kpis
from staffplan.evaluate.plan_promise import plan_kpis, plans_kpis, queue_movers
from staffplan.evaluate.simulate import QueueSim, simulate_week
from staffplan.queueing import Target
from staffplan.roster.extract import queue_counts, queue_moves, queue_stays

INTERVALS = 64
VOICE = Target(0.8, 20, patience_s=180)
EMAIL = Target(0.8, 3600)  # no patience: a backlog the whole day
SWING = 6  # agents who alternate between the queues every interval, half on each


def day(fixed: int) -> np.ndarray:
    """The queue each agent serves per interval (0 voice, 1 email): ``fixed`` always on voice,
    then the swing agents, half on voice and half on email, swapping at every boundary."""
    a = np.zeros((fixed + SWING, INTERVALS), dtype=np.int64)
    odd = np.arange(INTERVALS) % 2 == 1
    half = SWING // 2
    a[fixed : fixed + half] = np.where(odd, 1, 0)
    a[fixed + half :] = np.where(odd, 0, 1)
    return a


def test_queue_moves_counts_who_came_from_where() -> None:
    a = np.array([[0, 0, 1, -1, 1], [1, 0, 0, 0, 1], [-1, 1, 1, 0, 0]])
    moves = queue_moves(a, 2)
    # interval 1: agent 1 from email to voice; 2: agent 0 from voice to email; 3: agent 2 from
    # email to voice; 4: agent 1 from voice to email (agent 0 came back from off the phones)
    want = np.zeros((2, 2, 5), dtype=np.int64)
    want[0, 1, 1] = want[1, 0, 2] = want[0, 1, 3] = want[1, 0, 4] = 1
    np.testing.assert_array_equal(moves, want)
    stays = queue_stays(a, 2)
    heads = queue_counts(a, 2)
    # every head is a stayer, a mover or came from off the phones
    from_off = heads - stays - moves.sum(axis=1)
    assert from_off.min() >= 0
    np.testing.assert_array_equal(from_off[:, 1:], [[0, 0, 0, 0], [1, 0, 0, 1]])


def test_movers_from_a_queue_whose_agents_are_always_busy() -> None:
    # email's backlog keeps every available agent busy: a mover from it is busy with
    # probability 1 − r (lost agents hold nothing) for email's mean handle time (exponential)
    a = day(20)
    heads, moves = queue_counts(a, 2), queue_moves(a, 2)
    vol = np.vstack([np.full(INTERVALS, 60.0), np.full(INTERVALS, 40.0)])
    aht = np.vstack([np.full(INTERVALS, 280.0), np.full(INTERVALS, 367.0)])
    stays = queue_stays(a, 2)
    email = plan_kpis(vol[1], aht[1], 15, heads[1], EMAIL, 0.2, stays[1])
    got = queue_movers(moves, heads, [None, email], 0)
    assert got is not None
    later = np.arange(INTERVALS) >= 4
    assert np.all(got.count[1:] == SWING // 2)
    assert got.busy[later] == pytest.approx(0.8, abs=1e-6)
    assert got.hold_s[later] == pytest.approx(367.0, rel=1e-6)
    # nobody busy where nobody works: the same promise as without movers
    idle, alone = (
        plans_kpis(vol * [[1.0], [0.0]], aht, 15, heads, [VOICE, EMAIL], [0.2, 0.2], stays, m, [0])
        for m in (moves, None)
    )
    same = idle[0]["service_level"].to_numpy().tobytes()
    assert same == alone[0]["service_level"].to_numpy().tobytes()


def voice_week(fixed: int, email: float, with_moves: bool) -> tuple[float, float, float]:
    """(simulated, its 95 % half-width, promised) voice week service level of :func:`day` with
    ``email`` contacts per interval on the email queue."""
    a = day(fixed)
    n_agents = a.shape[0]
    vol = np.vstack([np.full(INTERVALS, 60.0), np.full(INTERVALS, email)])
    aht = np.vstack([np.full(INTERVALS, 280.0), np.full(INTERVALS, 367.0)])
    residual = 0.2
    skills = np.zeros((n_agents, 2), dtype=np.int64)
    skills[:, 0] = 1
    skills[fixed:, 1] = 2
    sim = simulate_week(
        vol,
        aht,
        15,
        np.ones(a.shape, dtype=bool),
        skills,
        [
            QueueSim("voice", answer_within_s=20.0, patience_s=180.0),
            QueueSim("email", channel="email", answer_within_s=3600.0),
        ],
        replications=100,
        seed=123,
        workers=1,
        loss=np.full(a.shape, residual),
        priority=a,
    ).week.set_index("queue")
    per = interval_kpis(
        np.arange(INTERVALS),
        ["voice", "email"],
        vol,
        aht,
        queue_counts(a, 2),
        15,
        [VOICE, EMAIL],
        [residual, residual],
        queue_stays(a, 2),
        queue_moves(a, 2) if with_moves else None,
    )
    promised = float(week_kpis(per, 15).set_index("queue").loc["voice", "service_level"])
    return sim.loc["voice", "service_level"], sim.loc["voice", "service_level_ci"], promised


@pytest.mark.parametrize("fixed", [20, 23])
def test_movers_against_the_simulator(fixed: int) -> None:
    # the swing agents come to voice from email, where a backlog keeps them busy: each finishes
    # its email first (for its remaining handle time). The promise within the simulation's
    # half-width; counting the movers idle (the promise before) is well above it.
    sim, ci, promised = voice_week(fixed, 12.0, True)
    assert abs(promised - sim) <= ci
    assert voice_week(fixed, 12.0, False)[2] - sim > 3 * ci
    # when email is empty the movers come idle and both promises are one
    assert voice_week(fixed, 0.0, True)[2] == voice_week(fixed, 0.0, False)[2]
