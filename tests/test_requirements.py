"""compute_requirements: per-channel models, shrinkage, validation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from staffplan.errors import InputError, ScenarioError
from staffplan.evaluate.kpis import promised_kpis
from staffplan.queueing import Target, deferred_requirements, required_agents
from staffplan.requirements import OUTPUT_COLUMNS, compute_requirements, read_forecast
from staffplan.scenario import Scenario, load

SCENARIO = """
name = "req-test"
shrinkage = 0.30

[grid]
start = 2026-12-07
days = 1
interval_minutes = 60
timezone = "Europe/Madrid"

[queues.voice]
channel = "voice"
service_level = 0.8
answer_within_s = 20
patience_s = 120
shrinkage = 0.25

[queues.chat]
channel = "chat"
service_level = 0.8
answer_within_s = 60
concurrency = 2

[queues.email]
channel = "email"
deadline_hours = 4
open = "08:00-18:00"
"""


@pytest.fixture
def scenario(tmp_path: Path) -> Scenario:
    p = tmp_path / "scenario.toml"
    p.write_text(SCENARIO)
    return load(p)


def forecast_for(scenario: Scenario, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    starts = scenario.grid.starts
    rows = []
    for q, scale in (("voice", 120.0), ("chat", 40.0), ("email", 20.0)):
        vol = rng.uniform(0, scale, len(starts))
        vol[:6] = 0.0  # closed at night
        if q == "email":
            vol[14:] = 0.0  # later mail could not meet the 4 h deadline within opening hours
        rows.append(
            pd.DataFrame(
                {
                    "interval_start": starts,
                    "queue": q,
                    "volume": vol,
                    "aht_seconds": rng.uniform(150, 400, len(starts)),
                }
            )
        )
    return pd.concat(rows, ignore_index=True).sample(
        frac=1.0, random_state=seed
    )  # order must not matter


def test_columns_order_and_models(scenario: Scenario) -> None:
    f = forecast_for(scenario)
    r = compute_requirements(f, scenario)
    assert list(r.columns) == OUTPUT_COLUMNS
    assert r["queue"].unique().tolist() == ["voice", "chat", "email"]
    assert len(r) == 72 and not r.drop(columns="asa_seconds").isna().any().any()
    for name, target in (
        ("voice", Target(0.8, 20, patience_s=120)),
        ("chat", Target(0.8, 60, concurrency=2.0)),
    ):
        g = r[r["queue"] == name]
        src = f[f["queue"] == name].sort_values("interval_start")
        np.testing.assert_array_equal(
            g["required_agents"], required_agents(src["volume"], src["aht_seconds"], 60, target)
        )
        r_q = 0.25 if name == "voice" else 0.30  # no shift templates: the whole shrinkage
        heads = g["on_phone_agents"].to_numpy()
        k = promised_kpis(src["volume"], src["aht_seconds"], 60, heads, target, r_q)
        np.testing.assert_allclose(g["service_level"], k["service_level"])
        busy = g["volume"].to_numpy() > 0
        assert (g.loc[busy, "service_level"] >= 0.8 - 1e-12).all()
        # the fewest heads: one less misses the promised target
        fewer = promised_kpis(
            src["volume"], src["aht_seconds"], 60, np.maximum(heads - 1, 0), target, r_q
        )
        assert (fewer["service_level"].to_numpy()[busy] < 0.8).all()
        assert (g.loc[~busy, "required_agents"] == 0).all()
        assert (g.loc[~busy, "on_phone_agents"] == 0).all()
    e = r[r["queue"] == "email"]
    src = f[f["queue"] == "email"].sort_values("interval_start")
    hours = pd.DatetimeIndex(src["interval_start"]).hour
    expected, _ = deferred_requirements(
        src["volume"], src["aht_seconds"], 60, 4, (hours >= 8) & (hours < 18)
    )
    np.testing.assert_array_equal(e["required_agents"], expected)
    assert (
        e.loc[
            ~((e["interval_start"].dt.hour >= 8) & (e["interval_start"].dt.hour < 18)),
            "required_agents",
        ]
        == 0
    ).all()
    assert e["asa_seconds"].isna().all() and (e["service_level"] == 1.0).all()


def test_shrinkage_override_and_default(scenario: Scenario) -> None:
    r = compute_requirements(forecast_for(scenario), scenario)
    v = r[r["queue"] == "voice"]
    c = r[r["queue"] == "chat"]
    e = r[r["queue"] == "email"]
    # no shift templates: every bit of shrinkage is residual, and paid heads are on-phone heads
    assert (v["residual_shrinkage"] == 0.25).all() and (c["residual_shrinkage"] == 0.30).all()
    for g in (v, c, e):
        np.testing.assert_allclose(g["scheduled_agents"], g["on_phone_agents"])
    # workload queues keep ceil(required / (1 - r)); 7 agents at 30 % -> 10, not 11
    assert (e["on_phone_agents"] == np.ceil(e["required_agents"] / 0.70 - 1e-9).astype(int)).all()
    # at least the agents the queue needs when all are there
    assert (v["on_phone_agents"] >= v["required_agents"]).all()


def test_paid_heads_add_the_breaks_the_roster_places(scenario: Scenario) -> None:
    from staffplan.io.team import Break, ShiftTemplate

    # a 600-min shift with 60 min of breaks: b = 0.1, so 1 - r = 0.7 / 0.9 for 30 % shrinkage
    tpl = (ShiftTemplate("D", 480, 480, 60, 600, (Break("lunch", 60, False, 200, 300),)),)
    r = compute_requirements(forecast_for(scenario), scenario, tpl)
    c = r[r["queue"] == "chat"]
    assert c["residual_shrinkage"].iloc[0] == pytest.approx(1 - 0.7 / 0.9)
    np.testing.assert_allclose(c["scheduled_agents"], c["on_phone_agents"] / 0.9)


def test_bad_forecasts_are_clear_errors(scenario: Scenario) -> None:
    f = forecast_for(scenario).reset_index(drop=True)
    bad = f.copy()
    bad.loc[3, "queue"] = "fax"
    with pytest.raises(InputError, match="row 5.*queue.*fax"):
        compute_requirements(bad, scenario)
    bad = f.copy()
    bad.loc[0, "volume"] = -2.0
    with pytest.raises(InputError, match="volume"):
        compute_requirements(bad, scenario)
    bad = f.copy()
    bad.loc[bad["volume"] > 0, "aht_seconds"] = 0.0
    with pytest.raises(InputError, match="aht_seconds"):
        compute_requirements(bad, scenario)
    with pytest.raises(InputError, match="duplicate"):
        compute_requirements(pd.concat([f, f.iloc[:1]]), scenario)
    with pytest.raises(InputError, match="lacks"):
        compute_requirements(f.drop(columns="volume"), scenario)


def test_deadline_beyond_opening_hours_names_the_queue(scenario: Scenario) -> None:
    f = forecast_for(scenario)
    f.loc[(f["queue"] == "email") & (f["interval_start"].dt.hour == 20), "volume"] = 3.0
    with pytest.raises(ScenarioError, match="queue 'email': work arriving at 2026-12-07 20:00"):
        compute_requirements(f, scenario)


def test_read_forecast_roundtrip(scenario: Scenario, tmp_path: Path) -> None:
    f = forecast_for(scenario)
    out = f.copy()
    out["interval_start"] = out["interval_start"].map(lambda t: t.isoformat())
    path = tmp_path / "forecast.csv"
    out.to_csv(path, index=False)
    back = read_forecast(path, scenario.grid.timezone)
    a = compute_requirements(back, scenario)
    b = compute_requirements(f, scenario)
    np.testing.assert_array_equal(a["required_agents"], b["required_agents"])
    (tmp_path / "bad.csv").write_text(
        "interval_start,queue,volume,aht_seconds\n2026-12-07T08:00:00+01:00,voice,abc,180\n"
    )
    with pytest.raises(InputError, match="row 2"):
        read_forecast(tmp_path / "bad.csv", scenario.grid.timezone)
