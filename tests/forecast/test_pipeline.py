import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from staffplan.errors import InputError
from staffplan.forecast import (
    FORECAST_COLUMNS,
    backtest,
    forecast_history,
    forecast_scenario,
    run_scenario,
)
from staffplan.io.history import read_history
from staffplan.scenario import load

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "scenarios" / "example" / "scenario.toml"
HISTORY = ROOT / "scenarios" / "example" / "data" / "history.csv"
BANK = ROOT / "tests" / "data" / "calls" / "bank_calls_30min.csv"


@pytest.fixture(scope="module")
def baseline() -> pd.DataFrame:
    return forecast_scenario(load(EXAMPLE, {"forecast": {"holidays": []}}), method="weekly_profile")


def daily(frame: pd.DataFrame) -> pd.DataFrame:
    f = frame.assign(day=frame["interval_start"].dt.tz_localize(None).dt.date)
    return f.pivot_table(index="day", columns="queue", values="volume", aggfunc="sum")


def test_one_row_per_interval_and_queue() -> None:
    s = load(EXAMPLE)
    f = forecast_scenario(s, method="weekly_profile")
    assert tuple(f.columns) == FORECAST_COLUMNS
    assert len(f) == s.grid.n * 3
    assert not f.duplicated(["interval_start", "queue"]).any()
    for q in ("voice", "chat", "email"):
        got = pd.DatetimeIndex(f.loc[f["queue"] == q, "interval_start"])
        assert got.equals(s.grid.starts)
    assert str(f["interval_start"].dt.tz) == "Europe/Madrid"
    assert (f["volume"] >= 0).all() and (f["aht_seconds"] > 0).all()
    assert set(f["method"]) == {"weekly_profile"}
    # voice and chat closed on Sunday and at night; email is not
    sunday = f["interval_start"].dt.day_of_week == 6
    assert f.loc[sunday & (f["queue"] == "voice"), "volume"].sum() == 0
    night = f["interval_start"].dt.hour < 7
    assert f.loc[night & (f["queue"] == "chat"), "volume"].sum() == 0
    assert f.loc[night & (f["queue"] == "email"), "volume"].sum() > 0
    # sized like the history: voice ~8,000 a week (less the holiday)
    weekly = f.groupby("queue")["volume"].sum()
    assert 6500 < weekly["voice"] < 9000 and 2300 < weekly["chat"] < 3400


def test_holiday_and_event_scale_their_day_only(baseline: pd.DataFrame) -> None:
    s = load(
        EXAMPLE,
        {
            "forecast": {
                "events": [{"date": dt.date(2026, 12, 10), "multiplier": 1.3, "name": "billing"}]
            }
        },
    )
    f = forecast_scenario(s, method="weekly_profile")
    ratio = daily(f) / daily(baseline)
    assert np.allclose(ratio.loc[dt.date(2026, 12, 8)], 0.35)  # holiday in example scenario.toml
    assert np.allclose(ratio.loc[dt.date(2026, 12, 10)], 1.3)
    other = [d for d in ratio.index if d not in (dt.date(2026, 12, 8), dt.date(2026, 12, 10))]
    assert np.allclose(ratio.loc[other].fillna(1.0), 1.0)  # NaN: closed Sunday, 0/0
    closed = load(
        EXAMPLE, {"forecast": {"holidays": [{"date": dt.date(2026, 12, 8), "scale": 0.0}]}}
    )
    assert (
        daily(forecast_scenario(closed, method="weekly_profile")).loc[dt.date(2026, 12, 8)].sum()
        == 0
    )


def test_multipliers_carry_what_if(baseline: pd.DataFrame) -> None:
    s = load(
        EXAMPLE,
        {
            "forecast": {"holidays": []},
            "volume_multiplier": 1.15,
            "queues": {"chat": {"aht_multiplier": 1.2}},
        },
    )
    f = forecast_scenario(s, method="weekly_profile")
    np.testing.assert_allclose(f["volume"], baseline["volume"] * 1.15)
    chat = (f["queue"] == "chat").to_numpy()
    np.testing.assert_allclose(f.loc[chat, "aht_seconds"], baseline.loc[chat, "aht_seconds"] * 1.2)
    np.testing.assert_allclose(f.loc[~chat, "aht_seconds"], baseline.loc[~chat, "aht_seconds"])


def test_aht_is_volume_weighted_by_interval_of_week() -> None:
    s = load(EXAMPLE)
    f = forecast_scenario(s, method="seasonal_naive")
    h = read_history(HISTORY, timezone="Europe/Madrid", interval_min=15).frame
    v = h[h["queue"] == "voice"].dropna(subset=["aht_seconds"])
    recent = v[v["interval_start"] >= pd.Timestamp("2026-10-12", tz="Europe/Madrid")]
    mean_aht = (recent["aht_seconds"] * recent["handled"]).sum() / recent["handled"].sum()
    fv = f[f["queue"] == "voice"]
    weighted = (fv["aht_seconds"] * fv["volume"]).sum() / fv["volume"].sum()
    assert weighted == pytest.approx(mean_aht, rel=0.02)
    # quiet intervals shrink to the queue mean
    assert fv.loc[fv["volume"] == 0, "aht_seconds"].sub(mean_aht).abs().max() < 1.0


def test_history_name_maps_queues(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "[queues.voice]", '[queues.phone]\nhistory_name = "voice"'
    )
    text = text.replace('history = "data/history.csv"', f'history = "{HISTORY.as_posix()}"')
    text = 'root = "/"  # the history stays in the repository\n' + text
    p = tmp_path / "scenario.toml"
    p.write_text(text, encoding="utf-8")
    f = forecast_scenario(load(p), method="weekly_profile")
    base = forecast_scenario(load(EXAMPLE), method="weekly_profile")
    assert set(f["queue"]) == {"phone", "chat", "email"}
    np.testing.assert_allclose(
        f.loc[f["queue"] == "phone", "volume"].to_numpy(),
        base.loc[base["queue"] == "voice", "volume"].to_numpy(),
    )


def test_grid_over_fall_back_week_matches_history() -> None:
    # plan the week of the DST change from the 13 weeks before it, and compare with what happened
    s = load(EXAMPLE, {"grid": {"start": dt.date(2026, 10, 19)}, "forecast": {"holidays": []}})
    hist, result = run_scenario(s, method="weekly_profile")
    f = result.frame
    assert result.cutoff == dt.date(2026, 10, 19)
    assert len(f) == 3 * (7 * 96 + 4)
    email = f[f["queue"] == "email"].set_index("interval_start")["volume"]
    assert (
        email[pd.Timestamp("2026-10-25 02:00+02:00")]
        == email[pd.Timestamp("2026-10-25 02:00+01:00")]
    )
    actual = hist.frame.set_index(["interval_start", "queue"])["offered"]
    got = f.set_index(["interval_start", "queue"])["volume"]
    joined = pd.concat([got, actual], axis=1, join="inner")
    assert len(joined) == len(f)
    wape = (joined["volume"] - joined["offered"]).abs().sum() / joined["offered"].sum()
    assert wape < 0.35
    assert abs(joined["volume"].sum() / joined["offered"].sum() - 1) < 0.05


def test_auto_picks_lowest_backtest_wape() -> None:
    s = load(EXAMPLE, {"grid": {"days": 1}})
    _, result = run_scenario(s, method="auto")
    for q, chosen in result.methods.items():
        sc = result.scores[result.scores["queue"] == q].set_index("method")
        assert chosen == sc["wape"].idxmin()
        assert sc.loc[chosen, "folds"] == 4
        assert sc.loc["seasonal_naive", "rel_mae"] == pytest.approx(1.0)


def test_errors(tmp_path: Path) -> None:
    no_aht = tmp_path / "h.csv"
    raw = pd.read_csv(HISTORY).drop(columns=["aht_seconds"])
    raw.to_csv(no_aht, index=False)
    s = load(EXAMPLE, {"data": {"history": str(no_aht)}})
    with pytest.raises(InputError, match="no handle time"):
        forecast_scenario(s, method="weekly_profile")
    short = tmp_path / "short.csv"
    raw[raw["interval_start"] >= "2026-12-02"].to_csv(short, index=False)
    with pytest.raises(InputError, match="too short") as e:
        forecast_scenario(load(EXAMPLE, {"data": {"history": str(short)}}), method="weekly_profile")
    assert "5 days" in str(e.value)
    with pytest.raises(InputError, match="too short"):
        forecast_scenario(
            load(
                EXAMPLE, {"data": {"history": str(HISTORY)}, "grid": {"start": dt.date(2026, 8, 3)}}
            ),
            method="exp_smoothing",
        )
    with pytest.raises(InputError, match="unknown forecast method"):
        forecast_scenario(load(EXAMPLE), method="prophet")


def test_bare_bank_history_starts_after_it_ends() -> None:
    h = read_history(BANK, timezone="America/New_York", interval_min=30)
    r = forecast_history(h, weeks_ahead=1, method="weekly_profile")
    f = r.frame
    assert f["interval_start"].iloc[0] == pd.Timestamp("2003-10-24 21:00", tz="America/New_York")
    assert f["interval_start"].iloc[-1] == pd.Timestamp("2003-10-31 20:30", tz="America/New_York")
    assert len(f) == 7 * 48 + 2  # 26 Oct 2003 had 25 hours in New York
    assert f["aht_seconds"].isna().all() and set(f["queue"]) == {"all"}
    local = f["interval_start"].dt.tz_localize(None)
    closed = (local.dt.day_of_week >= 5) | (local.dt.hour < 7) | (local.dt.hour >= 21)
    assert f.loc[closed, "volume"].sum() == 0  # never recorded or no calls: stays zero
    monday = f[local.dt.date == dt.date(2003, 10, 27)]["volume"].sum()
    raw = pd.read_csv(BANK, parse_dates=["interval_start"])
    mondays = (
        raw[raw["interval_start"].dt.day_of_week == 0]
        .groupby(raw["interval_start"].dt.date)["calls"]
        .sum()
    )
    assert monday == pytest.approx(mondays.iloc[-8:].mean(), rel=0.1)


def test_backtest_on_real_bank_data_beats_seasonal_naive() -> None:
    h = read_history(BANK, timezone="America/New_York", interval_min=30)
    table = backtest(h, weeks=4, methods=["seasonal_naive", "weekly_profile"])
    assert list(table.columns) == ["queue", "method", "folds", "wape", "mase", "rel_mae", "bias"]
    wp = table.set_index("method").loc["weekly_profile"]
    assert wp["folds"] == 4 and wp["rel_mae"] < 1 and wp["wape"] < 0.1 and abs(wp["bias"]) < 0.05


def test_deterministic_and_history_weeks_limits_the_window() -> None:
    s = load(EXAMPLE)
    a = forecast_scenario(s, method="auto")
    b = forecast_scenario(s, method="auto")
    pd.testing.assert_frame_equal(a, b)
    short = load(EXAMPLE, {"forecast": {"history_weeks": 1}})
    naive = forecast_scenario(s, method="seasonal_naive")
    one_week_profile = forecast_scenario(short, method="weekly_profile")
    np.testing.assert_allclose(
        one_week_profile["volume"], naive["volume"]
    )  # one week of profile = last week


def test_per_contact_history_forecast_on_bare_file(tmp_path: Path) -> None:
    # three weeks of per-contact arrivals with naive local times, across the fall-back night
    rng = np.random.default_rng(4)
    days = pd.date_range("2026-10-12", "2026-11-01", freq="D")
    rows = []
    for d in days:
        n = 40 if d.day_of_week < 5 else 10
        secs = np.sort(rng.uniform(9 * 3600, 17 * 3600, n))
        rows += [
            (
                (d + pd.Timedelta(seconds=float(x))).strftime("%Y-%m-%d %H:%M:%S"),
                "web",
                200 + int(x) % 100,
                "false",
            )
            for x in secs
        ]
    frame = pd.DataFrame(rows, columns=["arrived_at", "queue", "handle_seconds", "abandoned"])
    path = tmp_path / "contacts.csv"
    frame.to_csv(path, index=False)
    h = read_history(path, timezone="Europe/Madrid", interval_min=60)
    assert h.shape == "per_contact" and h.frame["offered"].sum() == len(frame)
    r = forecast_history(h, weeks_ahead=1, method="seasonal_naive")
    f = r.frame
    # the history ends on Sunday afternoon: the forecast starts at the next hour, Sunday is held out
    # of fitting
    assert f["interval_start"].iloc[0] == h.last_interval_start + pd.Timedelta(hours=1)
    assert r.cutoff == dt.date(2026, 11, 1)
    assert len(f) == 7 * 24
    ts, hs = f["interval_start"], h.frame["interval_start"]
    mon_sat = (ts >= pd.Timestamp("2026-11-02", tz="Europe/Madrid")) & (
        ts < pd.Timestamp("2026-11-08", tz="Europe/Madrid")
    )
    last = (hs >= pd.Timestamp("2026-10-26", tz="Europe/Madrid")) & (
        hs < pd.Timestamp("2026-11-01", tz="Europe/Madrid")
    )
    assert f.loc[mon_sat, "volume"].sum() == h.frame.loc[last, "offered"].sum() == 5 * 40 + 10
    assert f["aht_seconds"].between(200, 300).all()
