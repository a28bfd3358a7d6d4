"""End to end: the example scenario through ``staffplan run`` and ``staffplan compare``."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from tests.html_tags import Tags

from staffplan.cli import cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "scenarios" / "example" / "scenario.toml"
#: a limit in CP-SAT deterministic time: the same roster on a quiet or a loaded machine (a wall
#: limit of a few seconds finds no roster at all when the machine is busy)
DETERMINISTIC = ("--time-limit", "2", "--deterministic")
FILES = (
    "forecast.csv",
    "requirements.csv",
    "roster.csv",
    "coverage.csv",
    "agents.csv",
    "kpis.csv",
    "kpis_week.csv",
    "roster.xlsx",
    "summary.json",
    "report.html",
)


@pytest.fixture(scope="module")
def example_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("run") / "example"
    result = CliRunner().invoke(
        cli,
        ["run", str(EXAMPLE), "--out", str(out), *DETERMINISTIC, "--simulate", "--quiet", "--json"],
    )
    assert result.exit_code == 0, result.output
    return out, json.loads(result.output)


def test_run_writes_every_file(example_run: tuple[Path, dict]) -> None:
    out, summary = example_run
    for name in FILES:
        assert (out / name).stat().st_size > 0, name
    roster = pd.read_csv(out / "roster.csv")
    assert set(roster["agent_id"]) <= set(
        pd.read_csv(ROOT / "scenarios/example/data/agents.csv")["agent_id"]
    )
    calendars = sorted((out / "calendars").glob("*.ics"))
    assert len(calendars) == roster["agent_id"].nunique()
    assert summary["status"] in ("OPTIMAL", "FEASIBLE")
    assert summary["shifts"] == len(roster)
    assert summary["paid_hours"] == pytest.approx(roster["paid_minutes"].sum() / 60, abs=0.01)
    assert summary["required_fte"] > 0 and summary["scheduled_fte"] > 0
    # the summary's contacts are the forecast's, queue by queue
    forecast = pd.read_csv(out / "forecast.csv")
    assert summary["volume"] == pytest.approx(forecast["volume"].sum(), abs=1e-5)
    per_queue = forecast.groupby("queue")["volume"].sum()
    for q in ("voice", "chat"):
        assert summary["queues"][q]["volume"] == pytest.approx(per_queue[q], abs=1e-5)
    # one definition: the summary's week KPIs are kpis_week.csv's, and the week's service level
    # is the contact-weighted mean of the intervals' in kpis.csv (weighted here by hand)
    week = pd.read_csv(out / "kpis_week.csv").set_index("queue")
    for key, col in (("service_level", "service_level"), ("occupancy", "occupancy")):
        assert summary[key] == pytest.approx(week.loc["all", col], abs=1e-6)
    per = pd.read_csv(out / "kpis.csv")
    by_hand = (per["volume"] * per["service_level"]).sum() / per["volume"].sum()
    assert week.loc["all", "service_level"] == pytest.approx(by_hand, abs=1e-9)
    # a queue's agent hours are the roster's scheduled heads (coverage.csv) where contacts arrive
    cov = pd.read_csv(out / "coverage.csv").merge(forecast, on=["interval_start", "queue"])
    busy = cov[cov["volume"] > 0].groupby("queue")["scheduled"].sum() * 0.25
    for q in ("voice", "chat"):
        assert summary["queues"][q]["agent_hours"] == pytest.approx(busy[q])


def test_forecast_and_requirements_cover_the_grid(example_run: tuple[Path, dict]) -> None:
    out, _ = example_run
    f = pd.read_csv(out / "forecast.csv")
    r = pd.read_csv(out / "requirements.csv")
    assert len(f) == len(r) == 672 * 3
    assert (r["scheduled_agents"] >= r["required_agents"]).all()


def test_report_html_has_every_part(example_run: tuple[Path, dict]) -> None:
    out, _ = example_run
    page = (out / "report.html").read_text(encoding="utf-8")
    p = Tags()
    p.feed(page)
    imgs = [a.get("src") or "" for t, a in p.tags if t == "img"]
    assert len(imgs) >= 2 and all(s.startswith("data:image/png;base64,") for s in imgs)
    assert not [a for t, a in p.tags if t in ("script", "link")]
    text = " ".join(p.text)
    for part in (
        "Week at a glance",
        "Required vs scheduled agents per queue",
        "Service level per interval against target",
        "Roster (agent × day)",
        "paid hours",
        "occupancy",
    ):
        assert part in text, part
    roster = pd.read_csv(out / "roster.csv")
    first = roster.iloc[0]
    assert f"({first['agent_id']})" in text


def test_compare_table_and_cache(
    tmp_path: Path, example_run: tuple[Path, dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    peak = ROOT / "scenarios" / "peak-season" / "scenario.toml"
    args = [
        "compare",
        str(EXAMPLE),
        str(peak),
        *DETERMINISTIC,
        "--quiet",
        "--json",
        "--workers",
        "2",
    ]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    doc = json.loads(first.output)
    assert [s["scenario"] for s in doc["scenarios"]] == ["example", "peak-season"]
    table = {r["metric"]: r for r in doc["table"]}
    assert table["required FTE"]["peak-season"] > table["required FTE"]["example"]
    assert table["required FTE"]["Δ peak-season"] == pytest.approx(
        table["required FTE"]["peak-season"] - table["required FTE"]["example"], abs=1e-6
    )
    assert (tmp_path / "out" / "compare" / "comparison.html").exists()
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 0
    assert all(s["reused"] for s in json.loads(again.output)["scenarios"])


def test_bad_time_limit_and_missing_scenario_exit_2(tmp_path: Path) -> None:
    for args in (["run", str(EXAMPLE), "--time-limit", "0"], ["run", str(tmp_path / "nope.toml")]):
        proc = subprocess.run(
            [sys.executable, "-m", "staffplan", *args], capture_output=True, text=True
        )
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr and proc.stderr.startswith("error:")


def test_run_with_simulation_adds_files_and_report_section(example_run: tuple[Path, dict]) -> None:
    out, summary = example_run
    week = pd.read_csv(out / "simulation_week.csv").set_index("queue")
    assert set(week.index) >= {"voice", "chat"}
    # every simulated contact is answered, abandoned or still waiting at the end
    np.testing.assert_allclose(
        week["answered"] + week["abandoned"] + week["waiting_end"], week["offered"], atol=1e-6
    )
    # Poisson arrivals at the forecast's rates: the mean offered is the forecast volume, within
    # three confidence half-widths (a fixed seed: the same draw on every run)
    volume = pd.read_csv(out / "forecast.csv").groupby("queue")["volume"].sum()
    for q in ("voice", "chat"):
        assert abs(week.loc[q, "offered"] - volume[q]) <= 3 * week.loc[q, "offered_ci"], q
    # the promise the simulation is compared with is the run's own week KPI (one definition)
    kpis = pd.read_csv(out / "kpis_week.csv").set_index("queue")
    for q in ("voice", "chat"):
        assert week.loc[q, "promised_service_level"] == pytest.approx(kpis.loc[q, "service_level"])
    assert "Simulation (discrete-event, same losses) vs promise" in (out / "report.html").read_text(
        encoding="utf-8"
    )
    assert "simulation" in summary["stage_seconds"]


def test_unknown_report_language_exits_2() -> None:
    for command in ("run", "compare"):
        proc = subprocess.run(
            [sys.executable, "-m", "staffplan", command, str(EXAMPLE), "--lang", "xx"],
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 2, proc.stderr
        assert "unknown language" in proc.stderr and "en, es" in proc.stderr
