"""``staffplan erlang`` through the CLI: required and evaluate modes, JSON, bad input exit code
2.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from staffplan.cli import cli, main

BASE = [
    "erlang",
    "--volume",
    "100",
    "--interval-minutes",
    "30",
    "--aht",
    "180",
    "--service-level",
    "0.8",
    "--answer-within",
    "20",
]


def run_json(args: list[str]) -> dict[str, object]:
    res = CliRunner().invoke(cli, [*args, "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def test_required_erlang_c_published_example() -> None:
    # callcentrehelper.com's worked Erlang C example (100 calls / 30 min, AHT 180 s, 80 % in
    # 20 s): 14 agents, service level 88.83 %, P(wait) 17.41 %, ASA 7.8 s; 14 / 0.7 -> 20 paid
    out = run_json([*BASE, "--shrinkage", "0.3"])
    assert out["agents"] == 14 and out["scheduled_agents"] == 20
    assert out["offered_load"] == pytest.approx(10.0)
    assert out["service_level"] == pytest.approx(0.8883, abs=1e-4)
    assert out["p_wait"] == pytest.approx(0.1741, abs=1e-4)
    assert out["asa_seconds"] == pytest.approx(7.8, abs=0.05)
    assert "abandon_rate" not in out


def test_evaluate_and_erlang_a() -> None:
    out = run_json([*BASE, "--agents", "13"])
    assert out["mode"] == "evaluate" and out["agents"] == 13 and out["service_level"] < 0.8
    a = run_json([*BASE, "--patience", "120", "--asa-max", "30", "--max-occupancy", "0.85"])
    assert a["model"] == "erlang_a" and a["agents"] <= 14 and 0 < a["abandon_rate"] < 0.2
    assert a["occupancy"] <= 0.85 and a["asa_seconds"] <= 30
    few = run_json([*BASE, "--agents", "5"])
    assert few["asa_seconds"] is None and few["service_level"] == 0.0  # unstable Erlang C queue


def test_zero_volume_and_human_output() -> None:
    out = run_json(
        [
            "erlang",
            "--volume",
            "0",
            "--aht",
            "180",
            "--service-level",
            "0.8",
            "--answer-within",
            "20",
        ]
    )
    assert out["agents"] == 0 and out["service_level"] == 1.0
    res = CliRunner().invoke(cli, [*BASE, "--patience", "120"])
    assert res.exit_code == 0
    assert (
        "Agents required" in res.output and "Abandonment" in res.output and "Erlang A" in res.output
    )


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--volume", "-5"], "--volume"),
        (["--aht", "0"], "--aht"),
        (["--service-level", "1.5"], "--service-level"),
        (["--max-occupancy", "0"], "--max-occupancy"),
        (["--shrinkage", "1"], "--shrinkage"),
        (["--agents", "-1"], "--agents"),
        (["--abandon-max", "0.05"], "--abandon-max"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    extra: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main([*BASE, *extra])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err and err.startswith("error:")


def test_non_numeric_volume_exits_2_in_a_subprocess() -> None:
    res = subprocess.run(
        [sys.executable, "-m", "staffplan", "erlang", "--volume", "lots", "--aht", "180"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 2
    assert "--volume" in res.stderr and "Traceback" not in res.stderr
