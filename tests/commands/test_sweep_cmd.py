"""``staffplan sweep`` end to end: a 6-point sweep of the example (hourly, short deterministic
limits) on the local pool and on a real local Ray cluster through ``--address``, with a Ray worker
killed mid-sweep; ``compare --backend ray``; bad input.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from tests.html_tags import Tags

from staffplan.cli import cli, main

ROOT = Path(__file__).resolve().parents[2]
QUICK = ROOT / "tests" / "data" / "sweep" / "scenario.toml"
VARY = ["--vary", "hires.count=0,3,6", "--vary", "queues.voice.service_level=0.8,0.9"]
LIMITS = ["--time-limit", "1", "--deterministic", "--workers", "1"]
STARTED = re.compile(r"started (?P<label>.+) on \S+, pid (?P<pid>\d+)")


def _sweep(out: Path, *extra: str) -> tuple[int, str]:
    res = CliRunner().invoke(
        cli, ["sweep", str(QUICK), *VARY, *LIMITS, "--out", str(out), "--json", "--quiet", *extra]
    )
    return res.exit_code, res.output


@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("sweep") / "local"
    code, text = _sweep(out)
    assert code == 0, text
    return out, json.loads(text)


def test_every_point_has_a_row_a_folder_and_its_values(local_sweep: tuple[Path, dict]) -> None:
    out, doc = local_sweep
    table = pd.read_csv(out / "sweep.csv")
    assert len(doc["points"]) == len(table) == 6
    assert table["hires.count"].tolist() == [0, 0, 3, 3, 6, 6]
    assert table["queues.voice.service_level"].tolist() == [0.8, 0.9] * 3
    assert [p["values"] for p in doc["points"]][3] == {
        "hires.count": 3,
        "queues.voice.service_level": 0.9,
    }
    for rec in table.to_dict("records"):
        folder = out / rec["folder"]
        assert (folder / "roster.csv").stat().st_size > 0 and (folder / "report.html").exists()
        agents = pd.read_csv(folder / "agents.csv")["agent_id"]
        hired = sorted(a for a in agents if a.startswith("N"))
        assert hired == [f"N{i:02d}" for i in range(1, rec["hires.count"] + 1)]
    assert all(p["attempts"] == 1 and not p["reused"] for p in doc["points"])


def test_row_kpis_are_the_point_runs_own(local_sweep: tuple[Path, dict]) -> None:
    out, _ = local_sweep
    for rec in pd.read_csv(out / "sweep.csv").to_dict("records"):
        folder = out / rec["folder"]
        roster = pd.read_csv(folder / "roster.csv")
        agents = pd.read_csv(folder / "agents.csv")
        assert rec["paid_hours"] == pytest.approx(roster["paid_minutes"].sum() / 60, abs=0.01)
        week = pd.read_csv(folder / "kpis_week.csv").set_index("queue")
        assert rec["service_level_voice"] == pytest.approx(
            week.loc["voice", "service_level"], abs=1e-6
        )
        assert rec["service_level_chat"] == pytest.approx(
            week.loc["chat", "service_level"], abs=1e-6
        )
        assert rec["service_level"] == pytest.approx(week.loc["all", "service_level"], abs=1e-6)
        assert agents["paid_hours"].sum() == pytest.approx(rec["paid_hours"], abs=0.05)
        summary = json.loads((folder / "summary.json").read_text())
        assert (rec["cost"], rec["occupancy"]) == (summary["cost"], summary["occupancy"])
        assert summary["scenario"].startswith("hiring-quick (hires.count=")


def test_frontier_marks_hold(local_sweep: tuple[Path, dict]) -> None:
    out, doc = local_sweep
    t = pd.read_csv(out / "sweep.csv")
    cost, sl = t["cost"].to_numpy(), t["service_level"].to_numpy()
    for i in range(len(t)):
        beaten = (cost <= cost[i]) & (sl >= sl[i]) & ((cost < cost[i]) | (sl > sl[i]))
        assert t["pareto"][i] == (not beaten.any())
    meets = (t["service_level_voice"] >= t["queues.voice.service_level"] - 1e-9) & (
        t["service_level_chat"] >= 0.8 - 1e-9
    )
    assert t["meets_targets"].tolist() == meets.tolist()
    if meets.any():
        best = int(np.argmin(np.where(meets, cost, np.inf)))
        assert t["cheapest"].tolist() == [i == best for i in range(len(t))]
        assert doc["cheapest"] == int(t["point"][best])
    else:
        assert not t["cheapest"].any() and doc["cheapest"] is None
    assert doc["pareto"] == t.loc[t["pareto"], "point"].tolist()
    png = (out / "frontier.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    page = Tags()
    page.feed((out / "sweep.html").read_text(encoding="utf-8"))
    links = [a.get("href") for tag, a in page.tags if tag == "a"]
    assert links == [f"{f}/report.html" for f in t["folder"]]
    assert [a.get("src", "")[:22] for tag, a in page.tags if tag == "img"] == [
        "data:image/png;base64,"
    ]


def test_an_unchanged_sweep_reuses_every_point(local_sweep: tuple[Path, dict]) -> None:
    out, _ = local_sweep
    before = (out / "sweep.csv").read_bytes()
    code, text = _sweep(out)
    assert code == 0, text
    doc = json.loads(text)
    assert all(p["reused"] and p["attempts"] == 0 for p in doc["points"])
    assert (out / "sweep.csv").read_bytes() == before


def test_ray_sweep_equals_local_and_survives_a_killed_worker(
    local_sweep: tuple[Path, dict], ray_address: str, tmp_path: Path
) -> None:
    local, _ = local_sweep
    out = tmp_path / "ray"
    args = [sys.executable, "-m", "staffplan", "sweep", str(QUICK), *VARY, *LIMITS]
    args += ["--backend", "ray", "--address", ray_address, "--out", str(out), "--json"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    killed = None
    seen = []
    for line in proc.stderr:  # the sweep's own progress says where each point started
        seen.append(line)
        m = STARTED.search(line)
        if m:
            os.kill(int(m.group("pid")), signal.SIGKILL)  # a point takes seconds: still running
            killed = m.group("label")
            break
    stdout, stderr = proc.communicate()
    assert proc.returncode == 0, "".join(seen) + stderr
    assert killed is not None
    doc = json.loads(stdout)
    attempts = {
        ", ".join(f"{k}={v}" for k, v in p["values"].items()): p["attempts"] for p in doc["points"]
    }
    assert attempts.pop(killed) == 2 and set(attempts.values()) == {1}
    assert f"failed  {killed} (attempt 1)" in stderr and "retrying" in stderr
    table = pd.read_csv(out / "sweep.csv")
    assert len(table) == 6 and table["error"].isna().all()
    for folder in table["folder"]:  # deterministic mode: the same rosters on either backend
        assert (out / folder / "roster.csv").read_bytes() == (
            local / folder / "roster.csv"
        ).read_bytes(), folder
    assert (out / "sweep.csv").read_bytes() == (local / "sweep.csv").read_bytes()


def test_compare_on_ray_matches_the_local_run(
    local_sweep: tuple[Path, dict],
    ray_address: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    local, _ = local_sweep
    monkeypatch.chdir(tmp_path)
    base = [str(QUICK), *LIMITS, "--json", "--quiet"]
    res = CliRunner().invoke(cli, ["compare", *base, "--backend", "ray", "--address", ray_address])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert [s["reused"] for s in doc["scenarios"]] == [False]
    folder = tmp_path / "out" / "compare" / "hiring-quick"
    point = local / "points" / "hires.count=0__queues.voice.service_level=0.8"
    assert (folder / "roster.csv").read_bytes() == (point / "roster.csv").read_bytes()
    assert (tmp_path / "out" / "compare" / "comparison.csv").exists()
    again = CliRunner().invoke(cli, ["compare", *base])  # the local backend: same cache key
    assert again.exit_code == 0, again.output
    assert [s["reused"] for s in json.loads(again.output)["scenarios"]] == [True]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--vary", "shrinkage=0.3,1.5"], "key 'shrinkage'"),
        (["--vary", "queues.phone.service_level=0.8"], "unknown queue"),
        (["--vary", "forecast.holidays=1"], "not a scalar key"),
        (["--vary", "hires.count=0..3", "--vary", "hires.count=4"], "varied twice"),
        (["--vary", "solver.seed=1,2", "--seed", "3"], "--seed"),
        (["--vary", "shrinkage=0.3", "--address", "127.0.0.1:6379"], "--backend ray"),
        (["--vary", "shrinkage=0.3", "--time-limit", "0"], "--time-limit"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    args: list[str], needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["sweep", str(QUICK), *args, "--out", str(tmp_path)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in err
    assert not (tmp_path / "sweep.csv").exists()


def test_a_point_the_inputs_make_impossible_is_reported(tmp_path: Path) -> None:
    vary = ["--vary", "hires.contract=NOPE", "--vary", "hires.count=1"]
    proc = subprocess.run(
        [sys.executable, "-m", "staffplan", "sweep", str(QUICK), *vary, *LIMITS]
        + ["--out", str(tmp_path), "--quiet"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2, proc.stderr  # bad input found by the runs: reported, no retry
    assert "1 of 1 runs failed" in proc.stderr and "Traceback" not in proc.stderr
    table = pd.read_csv(tmp_path / "sweep.csv")
    assert len(table) == 1 and table["status"].isna().all()
    assert "unknown contract" in table["error"][0]
