import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from staffplan.cli import cli, main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "scenarios" / "example" / "scenario.toml"
BANK = ROOT / "tests" / "data" / "calls" / "bank_calls_30min.csv"


def test_scenario_forecast_with_backtest_writes_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = CliRunner().invoke(
        cli,
        [
            "forecast",
            str(EXAMPLE),
            "--backtest",
            "--backtest-weeks",
            "2",
            "--out",
            str(out),
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert set(doc["queues"]) == {"voice", "chat", "email"}
    assert doc["cutoff"] == "2026-12-07" and doc["intervals"] == 672
    f = pd.read_csv(out / "forecast.csv")
    assert list(f.columns) == ["interval_start", "queue", "volume", "aht_seconds", "method"]
    assert len(f) == 3 * 672
    assert f["interval_start"].iloc[0] == "2026-12-07T00:00:00+01:00"
    assert sum(doc["queues"][q]["volume"] for q in doc["queues"]) == pytest.approx(
        f["volume"].sum(), rel=1e-4
    )
    bt = pd.read_csv(out / "backtest.csv")
    assert (
        set(bt["method"]) == {"seasonal_naive", "weekly_profile", "exp_smoothing"}
        and (bt["folds"] == 2).all()
    )
    assert (out / "forecast.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(doc["backtest"]) == 9


def test_scenario_text_output_and_weeks_ahead(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        cli,
        [
            "forecast",
            str(EXAMPLE),
            "--method",
            "seasonal_naive",
            "--weeks-ahead",
            "2",
            "--out",
            str(tmp_path),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "voice" in r.output and "seasonal_naive" in r.output and "forecast.csv" in r.output
    assert len(pd.read_csv(tmp_path / "forecast.csv")) == 3 * 14 * 96


def test_bare_history(tmp_path: Path) -> None:
    args = [
        "forecast",
        "--history",
        str(BANK),
        "--interval-minutes",
        "30",
        "--timezone",
        "America/New_York",
        "--method",
        "weekly_profile",
        "--out",
        str(tmp_path),
        "--json",
    ]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["first_interval"] == "2003-10-24T21:00:00-04:00"
    assert doc["queues"]["all"]["aht_seconds"] is None
    assert doc["history"]["missing_days"][0] == "2003-04-04"
    f = pd.read_csv(tmp_path / "forecast.csv")
    # the week after the last recorded half hour (Fri 2003-10-24 20:30-21:00 New York), by hand:
    # 7 × 48 half hours, plus 2 for the hour New York repeats when it leaves summer time on Sun
    # 2003-10-26
    assert len(f) == 7 * 48 + 2 and f["aht_seconds"].isna().all()
    # seven local days, to Fri 2003-10-31 21:00 (EST): one hour more than 7 × 24 h of absolute time
    first = pd.Timestamp("2003-10-24 21:00", tz="America/New_York")
    last = pd.Timestamp("2003-10-31 21:00", tz="America/New_York")
    assert pd.to_datetime(f["interval_start"], utc=True).tolist() == list(
        pd.date_range(first, last, freq="30min", inclusive="left")
    )


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["forecast"], "either a SCENARIO"),
        (["forecast", str(EXAMPLE), "--history", str(BANK)], "either a SCENARIO"),
        (["forecast", "--history", str(BANK)], "--out is required"),
        (
            ["forecast", "--history", str(BANK), "--interval-minutes", "15", "--out", "x"],
            "coarser than the planning grid",
        ),
        (["forecast", str(EXAMPLE), "--weeks-ahead", "0"], "bad horizon"),
        (["forecast", str(EXAMPLE), "--timezone", "UTC"], "only apply with --history"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    args: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as e:
        main(args)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err and err.count("\n") == 1


def test_unknown_queue_in_history_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "h.csv"
    bad.write_text(
        "interval_start,queue,offered,handled,aht_seconds\n2026-12-01 08:00,sales,1,1,100\n",
        encoding="utf-8",
    )
    scen = tmp_path / "scenario.toml"
    scen.write_text(
        EXAMPLE.read_text(encoding="utf-8").replace(
            'history = "data/history.csv"', f'history = "{bad.as_posix()}"'
        ),
        encoding="utf-8",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "staffplan", "forecast", str(scen)], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert (
        "row 2" in proc.stderr and "unknown queue" in proc.stderr and "Traceback" not in proc.stderr
    )
