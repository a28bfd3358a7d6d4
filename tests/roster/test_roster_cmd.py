"""`staffplan roster` end to end on a small scenario folder (CliRunner), and its exit-code-2
errors.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from rosterkit import write_scenario

from staffplan.cli import cli, main
from staffplan.roster.load import load_problem
from staffplan.roster.validate import check_roster
from staffplan.scenario import load


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    return write_scenario(tmp_path)


def test_roster_command_json_and_files(scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = CliRunner().invoke(
        cli,
        [
            "roster",
            str(scenario),
            "--json",
            "--out",
            str(out),
            "--time-limit",
            "5",
            "--deterministic",
            "--workers",
            "1",
        ],
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["status"] in ("OPTIMAL", "FEASIBLE")
    # the bound never exceeds the roster's cost, and the gap is the distance between them
    assert doc["bound"] <= doc["objective"] + 1e-6
    assert doc["gap"] == pytest.approx(
        (doc["objective"] - doc["bound"]) / doc["objective"], abs=1e-6
    )
    assert doc["solve_seconds"] > 0
    assert json.loads((out / "result.json").read_text())["objective"] == doc["objective"]
    for name in ("roster.csv", "coverage.csv", "agents.csv", "roster.xlsx", "result.json"):
        assert (out / name).exists()
    roster = pd.read_csv(out / "roster.csv", dtype={"breaks": str})
    assert check_roster(load_problem(load(scenario)), roster) == []
    assert "A4" not in set(roster.loc[roster["date"] == "2026-12-08", "agent_id"])
    cov = pd.read_csv(out / "coverage.csv")
    assert list(cov.columns) == [
        "interval_start",
        "queue",
        "required",
        "scheduled",
        "difference",
        "available",
        "stayed",
    ]
    assert (cov["difference"] == cov["scheduled"] - cov["required"]).all()
    # who stays: never more than the heads now or in the interval before (same queue)
    for _, g in cov.groupby("queue", sort=False):
        before = np.r_[0, g["scheduled"].to_numpy()[:-1]]
        assert (g["stayed"] <= np.minimum(before, g["scheduled"])).all() and (
            g["stayed"] >= 0
        ).all()
    # expected heads after residual shrinkage: scheduled × (1 − r) of the queue
    p = load_problem(load(scenario))
    keep = dict(zip(p.demand.queues, 1.0 - p.demand.residual, strict=True))
    np.testing.assert_allclose(cov["available"], cov["scheduled"] * cov["queue"].map(keep))
    wb = openpyxl.load_workbook(out / "roster.xlsx")
    ws = wb["roster"]
    assert ws.cell(1, 5).value == "Mon 2026-12-07"
    assert [ws.cell(r, 1).value for r in range(2, 6)] == ["A1", "A2", "A3", "A4"]
    assert ws.cell(7, 1).value == "headcount"  # after a blank row
    cells = [ws.cell(r, 6).value for r in range(2, 6)]
    assert "vacation" in cells  # A4 on Tuesday
    # every open hour has contacts (voice 30, chat 20 an hour, 09-17 on 3 days): 48 KPI rows
    kp = pd.read_csv(out / "kpis.csv")
    assert len(kp) == 3 * 8 * 2 and (kp["volume"] > 0).all()
    # the heads each row is priced with are the roster's scheduled heads in coverage.csv
    heads = cov.set_index(["interval_start", "queue"])["scheduled"]
    assert (
        kp["agents"].tolist()
        == heads.loc[list(zip(kp["interval_start"], kp["queue"], strict=True))].tolist()
    )
    # the week's service level is the contact-weighted mean of the intervals' (by hand)
    week = {r["queue"]: r for r in doc["week_kpis"]}
    assert week["all"]["volume"] == 3 * 8 * (30 + 20)
    for q, rows in (("voice", kp[kp["queue"] == "voice"]), ("all", kp)):
        by_hand = (rows["volume"] * rows["service_level"]).sum() / rows["volume"].sum()
        assert week[q]["service_level"] == pytest.approx(by_hand, abs=1e-9)


def test_roster_command_deterministic_gives_the_same_roster_twice(
    scenario: Path, tmp_path: Path
) -> None:
    """Best responses, CP-SAT and the neighbourhood search all run on deterministic budgets with
    --deterministic.
    """
    outs = []
    for k in range(2):
        out = tmp_path / f"d{k}"
        res = CliRunner().invoke(
            cli,
            [
                "roster",
                str(scenario),
                "--json",
                "--out",
                str(out),
                "--time-limit",
                "2",
                "--workers",
                "2",
                "--deterministic",
                "--seed",
                "3",
            ],
        )
        assert res.exit_code == 0, res.output
        outs.append(((out / "roster.csv").read_text(), json.loads(res.stdout)["objective"]))
    assert outs[0] == outs[1]


def test_roster_command_text_output(scenario: Path, tmp_path: Path) -> None:
    """The text summary shows the numbers of the same (deterministic) run's JSON."""
    args = ["roster", str(scenario), "--deterministic", "--time-limit", "2", "--workers", "1"]
    doc = json.loads(
        CliRunner().invoke(cli, [*args, "--json", "--out", str(tmp_path / "j")]).stdout
    )
    res = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "o"), "--quiet"])
    assert res.exit_code == 0, res.output
    assert f"status {doc['status']}: objective {doc['objective']:.2f}" in res.output
    assert f"{doc['shifts']} shifts for {doc['agents_rostered']} agents" in res.output
    assert f"{doc['paid_hours']:.1f} paid hours" in res.output
    week = {r["queue"]: r for r in doc["week_kpis"]}
    for q in ("voice", "chat", "all"):
        line = next(x for x in res.output.splitlines() if x.split()[:1] == [q])
        assert f"service level {100 * week[q]['service_level']:5.1f}%" in line, line
    assert (tmp_path / "o" / "roster.csv").read_bytes() == (
        tmp_path / "j" / "roster.csv"
    ).read_bytes()


def test_bad_agents_file_exits_2_with_location(
    scenario: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    agents = scenario.parent / "agents.csv"
    agents.write_text(
        agents.read_text(encoding="utf-8").replace("voice:1|chat:2", "voice:x|chat:2"),
        encoding="utf-8",
    )
    with pytest.raises(SystemExit) as exc:
        main(["roster", str(scenario), "--quiet"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "agents.csv" in err and "row 3" in err and "skills" in err and "Traceback" not in err


def test_infeasible_scenario_exits_2_with_reasons(
    scenario: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    c = scenario.parent / "contracts.csv"
    c.write_text(
        c.read_text(encoding="utf-8").replace("FT,0,2400,5,5", "FT,7000,7000,5,5"), encoding="utf-8"
    )
    with pytest.raises(SystemExit) as exc:
        main(["roster", str(scenario), "--quiet"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    # 3 of 7 days: 7000 × 3/7 = 3000 paid minutes, but three shifts give at most 1440
    assert "weekly paid minutes" in err and "agent A1" in err and "at least 3000" in err


def test_bad_time_limit_exits_2(scenario: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["roster", str(scenario), "--time-limit", "0"])
    assert exc.value.code == 2


def test_sl_aware_costs_come_from_the_queueing_curve(scenario: Path) -> None:
    p = load_problem(load(scenario))
    assert p.demand.sl_aware
    t = 9  # Monday 09:00
    steps = p.demand.step_costs[0, t, : p.demand.required[0, t]]
    assert (
        np.all(np.diff(steps) >= -1e-12) and steps[0] > 0
    )  # the j-th missing agent costs at least the (j-1)-th


def test_a_ten_day_horizon_with_an_exact_contract_is_rostered(tmp_path: Path) -> None:
    """Issue 18: 40 h exactly a week over 10 days was refused ("needs at least 1029 and at most
    1028 paid min in this 3-day week"); the partial week now allows 2 or 3 shifts of 480 min."""
    from tests.scenario_kit import tiny_scenario

    sc = tiny_scenario(tmp_path / "sc")
    text = sc.read_text(encoding="utf-8").replace("days = 7", "days = 10")
    sc.write_text(text, encoding="utf-8")
    (sc.parent / "data" / "contracts.csv").write_text(
        "contract,min_minutes_week,max_minutes_week,max_days_week,max_consecutive_days\n"
        "C,2400,2400,5,6\n",
        encoding="utf-8",
    )
    (sc.parent / "data" / "shifts.csv").write_text(
        "template,earliest_start,latest_start,start_step_min,length_min,breaks\n"
        "D8,08:00,11:00,60,480,\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    res = CliRunner().invoke(
        cli, ["roster", str(sc), "--out", str(out), "--deterministic", "--time-limit", "2"]
    )
    assert res.exit_code == 0, res.output
    roster = pd.read_csv(out / "roster.csv")
    week = pd.to_datetime(roster["date"]) < pd.Timestamp("2026-12-14")
    per_agent = roster.groupby([roster["agent_id"], week])["paid_minutes"].sum().unstack()
    assert (per_agent[True] == 2400).all()
    assert per_agent[False].isin([960, 1440]).all()
    from staffplan.io.roster_csv import read_roster_csv
    from staffplan.roster.validate import rules_problem

    assert check_roster(rules_problem(load(sc)), read_roster_csv(out / "roster.csv")) == []
