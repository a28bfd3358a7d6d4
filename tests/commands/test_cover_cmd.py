"""``staffplan cover`` through the CLI (CliRunner and the exit-code path); the plan store's own
commands are tested in ``test_plans_cmd.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from staffplan.cli import cli, main

COLS = [
    "agent_id",
    "name",
    "date",
    "day",
    "shift",
    "start",
    "end",
    "paid_minutes",
    "breaks",
    "queues",
]


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def _main(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "staffplan", *args], capture_output=True, text=True, timeout=600
    )


# ---- staffplan cover ---------------------------------------------------------------------------


def _team(folder: Path) -> tuple[Path, Path]:
    """A 6-agent voice team over 3 days (E 07-15, L 13-21; 2 agents 07-21) and its published
    roster.
    """
    folder.mkdir(parents=True, exist_ok=True)
    scen = folder / "scenario.toml"
    scen.write_text(
        'name = "team"\n[grid]\nstart = 2026-11-30\ndays = 3\ninterval_minutes = 60\ntimezone '
        '= "Europe/Madrid"\n'
        '[data]\nagents = "agents.csv"\ncontracts = "contracts.csv"\nshifts = '
        '"shifts.csv"\nabsences = "absences.csv"\nrequirements = '
        '"requirements.csv"\n'
        "[queues.voice]\nservice_level = 0.8\nanswer_within_s = 20\n[cover]\ncallin_cost = 150\n"
    )
    pd.DataFrame(
        [
            {
                "agent_id": f"A{i}",
                "name": f"Agent {i}",
                "team": "t",
                "contract": "FT",
                "skills": "voice",
                "hourly_cost": 20,
            }
            for i in range(1, 7)
        ]
    ).to_csv(folder / "agents.csv", index=False)
    pd.DataFrame(
        [
            {
                "contract": "FT",
                "min_minutes_week": 0,
                "max_minutes_week": 3360,
                "max_days_week": 5,
                "max_consecutive_days": 5,
                "min_rest_hours": 11,
                "templates": "*",
            }
        ]
    ).to_csv(folder / "contracts.csv", index=False)
    pd.DataFrame(
        [
            {
                "template": "E",
                "earliest_start": "07:00",
                "latest_start": "07:00",
                "start_step_min": 60,
                "length_min": 480,
            },
            {
                "template": "L",
                "earliest_start": "13:00",
                "latest_start": "13:00",
                "start_step_min": 60,
                "length_min": 480,
            },
        ]
    ).to_csv(folder / "shifts.csv", index=False)
    pd.DataFrame(columns=["agent_id", "start", "end", "kind"]).to_csv(
        folder / "absences.csv", index=False
    )
    days = ["2026-11-30", "2026-12-01", "2026-12-02"]
    pd.DataFrame(
        [
            {
                "interval_start": f"{d}T{h:02d}:00",
                "queue": "voice",
                "required": 2,
                "volume": 12,
                "aht_seconds": 300,
            }
            for d in days
            for h in range(7, 21)
        ]
    ).to_csv(folder / "requirements.csv", index=False)
    rows = []
    for i, d in enumerate(days):
        for a, (t, s, e) in {
            "A1": ("E", "07", "15"),
            "A2": ("E", "07", "15"),
            "A3": ("L", "13", "21"),
            "A4": ("L", "13", "21"),
        }.items():
            rows.append(
                [a, a, d, i, t, f"{d}T{s}:00:00+01:00", f"{d}T{e}:00:00+01:00", 480, "", "voice"]
            )
    roster = folder / "roster.csv"
    pd.DataFrame(rows, columns=COLS).to_csv(roster, index=False)
    return scen, roster


def test_cover_proposes_then_applies_a_new_version(tmp_path: Path) -> None:
    scen, roster = _team(tmp_path / "team")
    assert _invoke("publish", str(scen), "--roster", str(roster), "--note", "week 49")[0] == 0
    args = [
        "cover",
        str(scen),
        "--absent",
        "A1:2026-12-01",
        "--now",
        "2026-12-01T06:00",
        "--time-limit",
        "5",
        "--deterministic",
    ]
    code, out = _invoke(*args)
    assert code == 0, out
    assert "phone, in this order:" in out and "call in" in out and "proposal only" in out
    assert "short agent-intervals: before absence 0, no action 6, after repair 0" in out
    code, out = _invoke(*args, "--json", "--out", str(tmp_path / "out"))
    data = json.loads(out)
    assert data["agents_changed"] == 1 and data["applied"] is None and data["base_version"] == 1
    assert data["sl_no_action"] < data["sl_after"]
    assert data["changes"][0]["action"] == "call in"
    assert (
        data["unrestored_agent_intervals_no_action"],
        data["unrestored_agent_intervals_after"],
        data["notes"],
    ) == (6, 0, [])
    assert (
        data["build_seconds"] + data["solver_seconds"] <= data["solve_seconds"]
    )  # building and the solve are parts of the whole repair
    assert pd.read_csv(tmp_path / "out" / "service.csv").columns.tolist()[:3] == [
        "interval_start",
        "queue",
        "required",
    ]
    code, out = _invoke(*args, "--apply", "--author", "lead", "--json")
    applied = json.loads(out)["applied"]
    assert (applied["number"], applied["parent"], applied["kind"], applied["author"]) == (
        2,
        1,
        "cover",
        "lead",
    )
    code, out = _invoke("versions", str(scen), "--json", "--version", "2")
    log = json.loads(out)["changes"]
    assert {(c["agent_id"], c["action"]) for c in log} == {
        ("A1", "removed"),
        (data["changes"][0]["agent_id"], "added"),
    }
    assert next(c["reason"] for c in log if c["agent_id"] == "A1") == "absent (sick)"


def test_cover_bad_absent_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scen, roster = _team(tmp_path / "team")
    _invoke("publish", str(scen), "--roster", str(roster), "--note", "week 49")
    # the console entry point in this process (no interpreter start per case); the last case runs
    # as a real process
    for bad, msg in (
        ("A1", "bad absence"),
        ("A1:2026-12-45", "bad date or time"),
        ("A99:2026-12-01", "unknown agent"),
        ("A1:2027-03-01", "outside the planning horizon"),
    ):
        with pytest.raises(SystemExit) as exc:
            main(["cover", str(scen), "--absent", bad, "--now", "2026-12-01T06:00"])
        err = capsys.readouterr().err
        assert exc.value.code == 2, err
        assert msg in err and "--absent" in err and len(err.strip().splitlines()) == 1
    proc = _main("cover", str(scen), "--absent", "A1:2026-12-01", "--now", "yesterday")
    assert proc.returncode == 2 and "--now" in proc.stderr and "Traceback" not in proc.stderr


def test_cover_deterministic_gives_the_same_repair_twice(tmp_path: Path) -> None:
    scen, roster = _team(tmp_path / "team")
    assert _invoke("publish", str(scen), "--roster", str(roster), "--note", "week 49")[0] == 0
    args = [
        "cover",
        str(scen),
        "--absent",
        "A1:2026-12-01",
        "--absent",
        "A3:2026-12-02",
        "--now",
        "2026-12-01T06:00",
        "--time-limit",
        "3",
        "--deterministic",
        "--workers",
        "2",
        "--json",
    ]
    runs = [json.loads(_invoke(*args)[1]) for _ in range(2)]
    assert runs[0]["changes"] == runs[1]["changes"]
    assert runs[0]["changes"], "the absences leave gaps a call-in can fill"
