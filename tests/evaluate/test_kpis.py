"""Roster KPIs: per-interval values from the queueing core (checked against Erlang C in mpmath),
week aggregation.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np
import pandas as pd
import pytest

from staffplan.evaluate.kpis import interval_kpis, week_kpis
from staffplan.queueing import kpis


def erlang_c_sl(volume: float, aht_s: float, interval_min: int, agents: int, t_s: float) -> float:
    """Service level by the closed form, in mpmath."""
    a = mp.mpf(volume) * aht_s / (interval_min * 60)
    n = agents
    if n <= a:
        return 0.0
    top = a**n / mp.factorial(n) * n / (n - a)
    pw = top / (mp.fsum(a**k / mp.factorial(k) for k in range(n)) + top)
    return float(1 - pw * mp.e ** (-(n - a) * t_s / aht_s))


def test_interval_kpis_match_erlang_c() -> None:
    kfn = kpis
    from staffplan.queueing import Target

    target = Target(service_level=0.8, answer_within_s=20)
    vol = np.array([[100.0, 0.0, 60.0]])
    aht = np.array([[240.0, 240.0, 300.0]])
    agents = np.array([[30, 5, 25]])
    per = interval_kpis(["t0", "t1", "t2"], ["voice"], vol, aht, agents, 15, [target], kfn)
    assert per["interval_start"].tolist() == ["t0", "t2"]  # no volume, no row
    assert per["service_level"].iloc[0] == pytest.approx(
        erlang_c_sl(100, 240, 15, 30, 20), abs=1e-9
    )
    assert per["service_level"].iloc[1] == pytest.approx(erlang_c_sl(60, 300, 15, 25, 20), abs=1e-9)


def test_week_kpis_are_volume_weighted() -> None:
    per = pd.DataFrame(
        {
            "interval_start": ["a", "b", "c"],
            "queue": ["voice", "voice", "chat"],
            "volume": [100.0, 300.0, 50.0],
            "aht_seconds": [200.0] * 3,
            "agents": [10, 30, 5],
            "service_level": [0.5, 0.9, 1.0],
            "asa_s": [20.0, 4.0, 0.0],
            "p_wait": [0.5, 0.1, 0.0],
            "occupancy": [0.6, 0.8, 0.4],
            "abandon_rate": [0.0] * 3,
        }
    )
    wk = week_kpis(per, 15).set_index("queue")
    assert wk.loc["voice", "service_level"] == pytest.approx((0.5 * 100 + 0.9 * 300) / 400)
    assert wk.loc["all", "service_level"] == pytest.approx((50 + 270 + 50) / 450)
    assert wk.loc["voice", "occupancy"] == pytest.approx((0.6 * 10 + 0.8 * 30) / 40)
    assert wk.loc["all", "agent_hours"] == pytest.approx(45 * 0.25)
