"""Customer patience estimated from per-contact history, wired through ``[simulate] patience``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import staffplan.evaluate.sim_scenario as sc
from staffplan.errors import InputError, ScenarioError
from staffplan.evaluate.sim_inputs import history_patience, simulate_settings
from staffplan.io.history import PatienceSummary
from staffplan.scenario import Queue, from_document, load

# voice: T = 10 + 20 + 30 + 40 = 100 s, 2 abandonments -> 50 s; vip configured 30 s
# (its history would say 9 s); calm: no abandonment -> infinite patience
HISTORY = """arrived_at,queue,handle_seconds,abandoned,wait_seconds
2026-11-30 08:00,voice,,true,10
2026-11-30 08:01,voice,200,false,20
2026-11-30 08:02,voice,,true,30
2026-11-30 08:03,voice,200,false,40
2026-11-30 08:04,vip,,true,9
2026-11-30 08:05,calm,200,false,5
"""


def scenario_file(tmp_path: Path, patience: str, history: str = HISTORY) -> Path:
    (tmp_path / "history.csv").write_text(history)
    toml = f"""
name = "p"
[grid]
start = 2026-12-07
days = 1
interval_minutes = 15
timezone = "Europe/Madrid"
[data]
history = "history.csv"
[queues.voice]
answer_within_s = 20
[queues.vip]
answer_within_s = 20
patience_s = 30
[queues.calm]
answer_within_s = 20
[simulate]
replications = 2
workers = 1
patience = "{patience}"
"""
    p = tmp_path / "scenario.toml"
    p.write_text(toml)
    return p


def forecast_and_roster(grid_starts: pd.DatetimeIndex) -> tuple[pd.DataFrame, pd.DataFrame]:
    busy = (grid_starts.hour >= 8) & (grid_starts.hour < 16)
    parts = [
        pd.DataFrame(
            {
                "interval_start": grid_starts,
                "queue": q,
                "volume": np.where(busy, v, 0.0),
                "aht_seconds": 300.0,
            }
        )
        for q, v in (("voice", 20.0), ("vip", 20.0), ("calm", 20.0))
    ]
    roster = pd.DataFrame(
        [
            {
                "agent_id": f"A{i}",
                "name": "x",
                "date": "2026-12-07",
                "day": "0",
                "shift": "D",
                "start": "2026-12-07T08:00:00+01:00",
                "end": "2026-12-07T16:00:00+01:00",
                "paid_minutes": "480",
                "breaks": "",
                "queues": q,
            }
            for i, q in enumerate(["voice", "vip", "calm"] * 4)
        ]
    )
    return pd.concat(parts, ignore_index=True), roster


def test_history_patience_fills_only_unconfigured_queues(tmp_path: Path) -> None:
    s = load(scenario_file(tmp_path, "history"))
    forecast, roster = forecast_and_roster(s.grid.starts)
    sim = sc.simulate_scenario(s, roster, forecast=forecast)
    assert sim.patience_s == {"voice": 50.0, "vip": 30.0, "calm": None}
    assert "calm" in sim.note and "infinite patience" in sim.note
    week = sim.week.set_index("queue")
    # 20 contacts / 15 min at 300 s on 4 agents is overloaded (load 6.7 Erlangs): impatient queues
    # abandon
    assert week.loc["voice", "abandoned"] > 0 and week.loc["vip", "abandoned"] > 0
    assert week.loc["calm", "abandoned"] == 0
    configured = sc.simulate_scenario(
        load(scenario_file(tmp_path, "configured")), roster, forecast=forecast
    )
    assert configured.patience_s == {"voice": None, "vip": 30.0, "calm": None}
    assert configured.week.set_index("queue").loc["voice", "abandoned"] == 0


def test_history_without_patience_columns_is_a_clear_error(tmp_path: Path) -> None:
    s = load(
        scenario_file(
            tmp_path,
            "history",
            "interval_start,queue,offered\n2026-11-30 08:00,voice,3\n2026-11-30 "
            "08:00,calm,3\n2026-11-30 08:00,vip,1\n",
        )
    )
    forecast, roster = forecast_and_roster(s.grid.starts)
    with pytest.raises(InputError, match="history has no patience data"):
        sc.simulate_scenario(s, roster, forecast=forecast)


def test_history_patience_unit() -> None:
    summary = {"v": PatienceSummary(100.0, 4, 10), "c": PatienceSummary(10.0, 0, 2)}
    got, notes = history_patience(
        [
            Queue("voice", history_name="v"),
            Queue("chat", history_name="c"),
            Queue("x", patience_s=5),
        ],
        summary,
    )
    assert got == {"voice": 25.0, "chat": None}
    assert len(notes) == 1 and "chat" in notes[0]
    assert history_patience([Queue("x", patience_s=5)], None) == ({}, ())
    with pytest.raises(InputError, match="no history for queue"):
        history_patience([Queue("y")], summary)


def test_bad_patience_source_is_a_scenario_error() -> None:
    doc = {"grid": {"start": "2026-12-07"}, "queues": {"voice": {}}}
    assert simulate_settings(from_document(doc, Path("s.toml")))["patience"] == "configured"
    assert (
        simulate_settings(
            from_document({**doc, "simulate": {"patience": "history"}}, Path("s.toml"))
        )["patience"]
        == "history"
    )
    for bad in ("exponential", 120):
        with pytest.raises(ScenarioError, match="simulate.patience"):
            simulate_settings(from_document({**doc, "simulate": {"patience": bad}}, Path("s.toml")))
