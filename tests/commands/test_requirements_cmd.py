"""``staffplan requirements`` through the CLI: forecast file, atomic CSV, JSON, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from staffplan.cli import cli, main
from staffplan.requirements import OUTPUT_COLUMNS

SCENARIO = """name = "req-cmd"
shrinkage = 0.3
[grid]
start = 2026-12-07
days = 1
interval_minutes = 30
timezone = "Europe/Madrid"
[queues.voice]
service_level = 0.8
answer_within_s = 20
[queues.email]
channel = "email"
deadline_hours = 8
"""


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    sc = tmp_path / "scenario.toml"
    sc.write_text(SCENARIO)
    starts = pd.date_range("2026-12-07", periods=48, freq="30min", tz="Europe/Madrid")
    vol = np.where((starts.hour >= 8) & (starts.hour < 20), 60.0, 0.0)
    f = pd.concat(
        [
            pd.DataFrame(
                {
                    "interval_start": [t.isoformat() for t in starts],
                    "queue": q,
                    "volume": vol / k,
                    "aht_seconds": 240.0,
                }
            )
            for q, k in (("voice", 1), ("email", 4))
        ]
    )
    fc = tmp_path / "forecast.csv"
    f.to_csv(fc, index=False)
    return sc, fc


def test_writes_requirements_csv_and_json(files: tuple[Path, Path], tmp_path: Path) -> None:
    sc, fc = files
    out = tmp_path / "out"
    res = CliRunner().invoke(
        cli, ["requirements", str(sc), "--forecast", str(fc), "--out", str(out), "--json"]
    )
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    frame = pd.read_csv(out / "requirements.csv")
    assert list(frame.columns) == OUTPUT_COLUMNS and len(frame) == 96
    assert summary["queues"]["voice"]["peak_required_agents"] == int(
        frame.loc[frame["queue"] == "voice", "required_agents"].max()
    )
    assert summary["queues"]["voice"]["min_service_level"] >= 0.8
    assert summary["files"]["requirements"].endswith("requirements.csv")
    assert not list(out.glob(".*tmp"))  # atomic writer left no temporary file
    # email: 15 items of 240 s per half hour for 12 h = 24 agent-hours of work, planned once (+
    # rounding up)
    email = frame[frame["queue"] == "email"]
    assert 24.0 <= email["required_agents"].sum() * 0.5 < 24.0 + 48 * 0.5
    res = CliRunner().invoke(cli, ["requirements", str(sc), "--forecast", str(fc)])
    assert res.exit_code == 0 and "voice" in res.output and "email" in res.output


def test_bad_forecast_exits_2(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sc, fc = files
    bad = tmp_path / "bad.csv"
    bad.write_text(fc.read_text().replace(",voice,60.0,", ",phone,60.0,", 1))
    with pytest.raises(SystemExit) as exc:
        main(["requirements", str(sc), "--forecast", str(bad)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "phone" in err and "queue" in err and len(err.strip().splitlines()) == 1


def test_example_scenario_uses_the_forecast_stage(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "scenarios" / "example" / "scenario.toml"
    res = CliRunner().invoke(cli, ["requirements", str(example), "--json", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    assert set(summary["queues"]) == {"voice", "chat", "email"}
    assert summary["queues"]["voice"]["min_service_level"] >= 0.8
