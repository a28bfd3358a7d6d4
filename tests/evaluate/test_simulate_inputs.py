"""Roster/forecast to simulation arrays, scenario settings, and the promise comparison."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from staffplan.errors import InputError, ScenarioError
from staffplan.evaluate.sim_compare import compare, promise
from staffplan.evaluate.sim_inputs import (
    forecast_arrays,
    queue_settings,
    roster_arrays,
    simulate_settings,
)
from staffplan.scenario import Queue, from_document
from staffplan.timegrid import TimeGrid

GRID = TimeGrid(dt.date(2026, 12, 7), days=2, interval_min=15, timezone="Europe/Madrid")
QUEUES = (
    Queue("voice", skill="phone"),
    Queue("chat", channel="chat", skill="chat", concurrency=2.5),
    Queue("email", channel="email", skill="email", deadline_hours=24),
)


def roster(*rows: tuple[str, str, str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "agent_id": a,
                "name": a,
                "date": s[:10],
                "day": "0",
                "shift": "X",
                "start": s,
                "end": e,
                "paid_minutes": "0",
                "breaks": b,
                "queues": q,
            }
            for a, s, e, b, q in rows
        ]
    )


def test_day_shift_with_break_and_priorities() -> None:
    r = roster(
        (
            "B",
            "2026-12-07T08:00:00+01:00",
            "2026-12-07T16:00:00+01:00",
            "lunch 12:00-12:30;coffee 10:00-10:15",
            "chat|voice",
        )
    )
    got = roster_arrays(r, GRID, QUEUES)
    expected = np.zeros(GRID.n, dtype=bool)
    expected[8 * 4 : 16 * 4] = True
    expected[12 * 4 : 12 * 4 + 2] = False
    expected[10 * 4] = False
    assert got.agent_ids == ("B",)
    np.testing.assert_array_equal(got.on_phone[0], expected)
    assert got.skills.tolist() == [[2, 1, 0]]


def test_night_shift_break_after_midnight_and_skill_names() -> None:
    r = roster(
        (
            "N",
            "2026-12-07T22:00:00+01:00",
            "2026-12-08T06:00:00+01:00",
            "meal 02:00-02:30",
            "phone|email",
        ),
        ("A", "2026-12-08T09:00:00+01:00", "2026-12-08T10:00:00+01:00", "", "email|voice"),
        ("N", "2026-12-08T22:00:00+01:00", "2026-12-09T06:00:00+01:00", "", "email|phone"),
    )
    got = roster_arrays(r, GRID, QUEUES)
    assert got.agent_ids == ("A", "N")
    n = got.on_phone[1]
    assert (
        n[22 * 4 : 26 * 4].all()
        and not n[26 * 4 : 26 * 4 + 2].any()
        and n[26 * 4 + 2 : 30 * 4].all()
    )
    assert (
        n[96 + 22 * 4 :].all() and n.sum() == 8 * 4 - 2 + 2 * 4
    )  # the second night is cut by the horizon
    assert got.skills[1].tolist() == [1, 0, 1]  # best position of each queue over the days
    assert got.skills[0].tolist() == [2, 0, 1]


def test_activities_take_the_agent_off_the_phone() -> None:
    r = roster(("B", "2026-12-07T08:00:00+01:00", "2026-12-07T12:00:00+01:00", "", "voice")).assign(
        activities="training 09:00-10:00"
    )
    on = roster_arrays(r, GRID, QUEUES).on_phone[0]
    assert on[32:36].all() and not on[36:40].any() and on[40:48].all() and on.sum() == 12


def test_roster_errors_name_row_and_column() -> None:
    r = roster(("A", "2026-12-07T08:00:00+01:00", "2026-12-07T16:00:00+01:00", "", "voice|sms"))
    with pytest.raises(InputError) as e:
        roster_arrays(r, GRID, QUEUES, file="roster.csv")
    assert "roster.csv, row 2, column 'queues'" in str(e.value) and "sms" in str(e.value)
    r = roster(
        ("A", "2026-12-07T08:00:00+01:00", "2026-12-07T16:00:00+01:00", "lunch at noon", "voice")
    )
    with pytest.raises(InputError, match="breaks"):
        roster_arrays(r, GRID, QUEUES)
    r = roster(("A", "2026-12-07 eight", "2026-12-07T16:00:00+01:00", "", "voice"))
    with pytest.raises(InputError, match="ISO 8601"):
        roster_arrays(r, GRID, QUEUES)


def test_forecast_arrays_place_rows_on_the_grid() -> None:
    f = pd.DataFrame(
        {
            "interval_start": [GRID.starts[3], GRID.starts[100], GRID.starts[5]],
            "queue": ["chat", "voice", "other"],
            "volume": [4.0, 2.5, 9.0],
            "aht_seconds": [300.0, 200.0, 1.0],
        }
    )
    arr, aht = forecast_arrays(f, GRID, ["voice", "chat"])
    assert arr.shape == (2, GRID.n) and arr.sum() == 6.5
    assert arr[1, 3] == 4.0 and aht[1, 3] == 300.0 and arr[0, 100] == 2.5 and aht[0, 100] == 200.0


def test_queue_settings_from_scenario_queues() -> None:
    v = queue_settings(Queue("voice", answer_within_s=15, patience_s=90))
    assert (v.answer_within_s, v.patience_s, v.concurrency) == (15.0, 90, 1)
    c = queue_settings(QUEUES[1], "lognormal", 0.5)
    assert (c.concurrency, c.handle, c.handle_cv) == (2, "lognormal", 0.5)
    assert queue_settings(QUEUES[2]).answer_within_s == 24 * 3600


def test_simulate_section_is_validated() -> None:
    doc = {
        "grid": {"start": "2026-12-07"},
        "queues": {"voice": {}},
        "simulate": {"replications": 3, "handle": "lognormal", "handle_cv": 0.7},
    }
    t = simulate_settings(from_document(doc, Path("s.toml")))
    assert (t["replications"], t["handle"], t["handle_cv"], t["threshold"]) == (
        3,
        "lognormal",
        0.7,
        0.1,
    )
    for bad in ({"replications": 0}, {"handle": "weibull"}, {"dispersion": -1}, {"speed": 1}):
        with pytest.raises(ScenarioError):
            simulate_settings(from_document({**doc, "simulate": bad}, Path("s.toml")))


def test_compare_flags_only_big_differences_with_contacts() -> None:
    sim = pd.DataFrame(
        {
            "interval": [0, 1, 2, 3],
            "queue": "v",
            "offered": [10.0, 10.0, 0.0, 10.0],
            "service_level": [0.5, 0.85, np.nan, 0.9],
            "abandon_rate": [0.0, 0.0, np.nan, 0.3],
        }
    )
    promise = pd.DataFrame(
        {
            "interval": [0, 1, 2, 3],
            "queue": "v",
            "promised_service_level": [0.8, 0.8, 0.8, 0.85],
            "promised_abandon_rate": [0.0, 0.0, 0.0, 0.05],
        }
    )
    got = compare(sim, promise, 0.1)
    assert got["flagged"].tolist() == [True, False, False, True]
    np.testing.assert_allclose(got["service_level_diff"], [-0.3, 0.05, np.nan, 0.05])
    # a difference within the replication noise is not flagged: 0.3 - 0.25 < 0.1, 0.25 - 0.1 > 0.1
    noisy = sim.assign(
        service_level_ci=[0.25, 0.0, np.nan, 0.0], abandon_rate_ci=[0.0, 0.0, np.nan, 0.1]
    )
    assert compare(noisy, promise, 0.1)["flagged"].tolist() == [False, False, False, True]


def test_promise_is_the_plan_kpis_of_the_allocated_heads() -> None:
    from staffplan.evaluate.plan_promise import plan_kpis
    from staffplan.queueing import Target

    arrivals = np.array([[30.0, 60.0, 0.0], [10.0, 0.0, 5.0]])
    aht = np.full((2, 3), 240.0)
    heads = np.array([[10, 20, 3], [4, 2, 2]])
    queues = [
        Queue("v", service_level=0.8, answer_within_s=20, patience_s=120),
        Queue("c", service_level=0.8, answer_within_s=60, concurrency=2),
    ]
    per, week = promise(arrivals, aht, 15, heads, queues, [0.2, 0.1])
    v = per[per["queue"] == "v"].set_index("interval")
    own = plan_kpis(arrivals[0], aht[0], 15, heads[0], Target(0.8, 20, patience_s=120), 0.2)[:2]
    np.testing.assert_allclose(v.loc[[0, 1], "promised_service_level"], own["service_level"])
    assert 2 not in v.index  # no contacts, no promise
    w = week.set_index("queue")
    want = (30 * own["service_level"].iloc[0] + 60 * own["service_level"].iloc[1]) / 90
    assert w.loc["v", "promised_service_level"] == pytest.approx(want)
    assert list(week["queue"]) == ["v", "c"]
