"""``staffplan simulate`` end to end on the example scenario with a small hand-made roster."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from staffplan.cli import cli, main

EXAMPLE = Path(__file__).resolve().parents[2] / "scenarios" / "example" / "scenario.toml"


@pytest.fixture(scope="module")
def roster_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rows = ["agent_id,name,date,day,shift,start,end,paid_minutes,breaks,queues"]
    for a in range(24):
        for d in range(7):
            if (a + d) % 7 in (5, 6):
                continue
            day = dt.date(2026, 12, 7) + dt.timedelta(days=d)
            h = 8 + (a % 3) * 3
            q = ("voice|chat", "chat|email", "voice|email")[a % 3]
            rows.append(
                f"A{a:02d},Agent {a},{day},{d},D,"
                f"{day}T{h:02d}:00:00+01:00,{day}T{h + 8:02d}:00:00+01:00,450,"
                f"lunch {h + 4:02d}:00-{h + 4:02d}:30,{q}"
            )
    path = tmp_path_factory.mktemp("sim") / "roster.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_simulate_json_and_files(roster_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = CliRunner().invoke(
        cli,
        [
            "simulate",
            str(EXAMPLE),
            "--roster",
            str(roster_file),
            "--replications",
            "3",
            "--seed",
            "4",
            "--threshold",
            "0.15",
            "--out",
            str(out),
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    payload = json.loads(res.output)
    assert payload["agents"] == 24 and payload["replications"] == 3 and payload["note"] is None
    assert set(payload["queues"]) == {"voice", "chat", "email"}
    v = payload["queues"]["voice"]
    assert v["answered"] + v["abandoned"] + v["waiting_end"] == pytest.approx(
        v["offered"], abs=1e-3
    )
    intervals = pd.read_csv(out / "simulation_intervals.csv")
    week = pd.read_csv(out / "simulation_week.csv")
    assert len(intervals) == 3 * 672 and list(week["queue"]) == ["voice", "chat", "email"]
    # the week's promise is the contact-weighted mean of the intervals' promises (weights: the
    # forecast volume, here its simulated mean over 3 replications: within 0.005 of it), and an
    # interval with contacts but no agent on the queue promises nothing
    for q in ("voice", "chat", "email"):
        x = intervals[(intervals["queue"] == q) & (intervals["offered"] > 0)]
        weighted = (x["offered"] * x["promised_service_level"]).sum() / x["offered"].sum()
        assert payload["queues"][q]["promised_service_level"] == pytest.approx(weighted, abs=0.005)
        nobody = x.loc[x["agents"] == 0, "promised_service_level"]
        assert len(nobody) > 0 and (nobody == 0).all()
        assert weighted < 0.7  # 24 agents on 8 hours a day: far below the 80 % target
    # the promise carries the backlog from interval to interval as the simulation does: on this
    # under-staffed week voice (0.21 simulated when written) and chat, whose backlog with no
    # abandonment grows all week (ASA about 60,000 s), agree within the half-width
    for q in ("voice", "chat"):
        got = payload["queues"][q]
        slack = got["service_level_ci"] + 0.02
        assert abs(got["service_level"] - got["promised_service_level"]) <= slack
    chat = payload["queues"]["chat"]
    assert abs(chat["asa_s"] - chat["promised_asa_s"]) <= chat["asa_s_ci"] + 0.1 * chat["asa_s"]
    # the flags are exactly the cells with contacts whose simulated SL or abandonment is off the
    # promise by > 0.15 beyond the confidence half-width
    sl_off = (intervals["service_level"] - intervals["promised_service_level"]).abs() - intervals[
        "service_level_ci"
    ].fillna(0) > 0.15
    ab_off = (intervals["abandon_rate"] - intervals["promised_abandon_rate"]).abs() - intervals[
        "abandon_rate_ci"
    ].fillna(0) > 0.15
    expect = (intervals["offered"] > 0) & (sl_off | ab_off)
    assert intervals["flagged"].tolist() == expect.tolist()
    assert payload["flagged_count"] == int(expect.sum()) > 0
    # agents on the phone: 8 shift hours minus a 30-minute lunch, 5 days, 24 agents
    assert intervals.groupby("interval")["agents"].sum().sum() * 0.25 == pytest.approx(24 * 5 * 7.5)
    # deterministic for a seed
    again = CliRunner().invoke(
        cli,
        [
            "simulate",
            str(EXAMPLE),
            "--roster",
            str(roster_file),
            "--replications",
            "3",
            "--seed",
            "4",
            "--threshold",
            "0.15",
            "--json",
        ],
    )
    assert json.loads(again.output)["queues"] == payload["queues"]


def test_simulate_text_default_roster(roster_file: Path, tmp_path: Path) -> None:
    what_if = tmp_path / "what-if"
    (what_if / "out" / "roster").mkdir(parents=True)
    (what_if / "scenario.toml").write_text(
        f'name = "what-if"\nroot = "/"\nextends = "{EXAMPLE.as_posix()}"\n'
        "[simulate]\nreplications = 2\nseed = 7\n"
    )
    (what_if / "out" / "roster" / "roster.csv").write_text(roster_file.read_text())
    res = CliRunner().invoke(cli, ["simulate", str(what_if / "scenario.toml")])
    assert res.exit_code == 0, res.output
    assert "what-if: 24 agents, 2 replications, seed 7" in res.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--roster", "missing.csv"], "roster file not found"),
        (["--replications", "0"], "--replications"),
        (["--threshold", "2"], "--threshold"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    args: list[str], message: str, roster_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if "--roster" not in args:
        args = [*args, "--roster", str(roster_file)]
    with pytest.raises(SystemExit) as e:
        main(["simulate", str(EXAMPLE), *args])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and message in err and "Traceback" not in err


def test_roster_with_unknown_queue_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "roster.csv"
    bad.write_text(
        "agent_id,name,date,day,shift,start,end,paid_minutes,breaks,queues\nA,A,2026-12-07,0,D,2026-12-07T08:00:00+01:00,2026-12-07T16:00:00+01:00,480,,fax\n"
    )
    with pytest.raises(SystemExit) as e:
        main(["simulate", str(EXAMPLE), "--roster", str(bad)])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "row 2" in err and "column 'queues'" in err and "fax" in err
