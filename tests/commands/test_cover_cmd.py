"""``staffplan cover`` through the CLI (CliRunner and the exit-code path); the plan store's own
commands are tested in ``test_plans_cmd.py``.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from staffplan.cli import cli, main
from staffplan.evaluate.plan_promise import plan_kpis
from staffplan.queueing import target_for_queue
from staffplan.scenario import load
from staffplan.store import PlanStore

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
    call = data["changes"][0]
    assert call["name"] == f"Agent {call['agent_id'][1:]}" and call["new"] == "E 07:00-15:00"
    assert call["tell"] == "Please come in on Tue 1 Dec: E 07:00-15:00."
    # the service level it restores, by hand: the call-in is on the phones 07-15; without it 1
    # agent works 07-13 and 3 work 13-15 (A2 until 15, A3 and A4 from 13), with it 2 and 4; the
    # other days and hours as published (2 agents 07-13, 4 13-15, 2 15-21); 12 calls of 300 s an
    # hour 07-21 (equal weights); the promise of that plan from the one KPI definition, the queue
    # carried through the night before (nobody abandons: last night's backlog waits)
    target = target_for_queue(load(scen).queue("voice"))
    day = [0] * 7 + [2] * 6 + [4] * 2 + [2] * 6 + [0] * 3
    short = [0] * 7 + [1] * 6 + [3] * 2 + [2] * 6 + [0] * 3
    vol = np.tile([0.0] * 7 + [12.0] * 14 + [0.0] * 3, 3)
    for heads, key in ((day + short + day, "sl_without"), (day * 3, "sl_with")):
        sl = plan_kpis(vol, np.full(72, 300.0), 60, np.array(heads), target, 0.0)
        want = sl["service_level"].to_numpy()[24 + 7 : 24 + 15].mean()
        assert call[key] == pytest.approx(want, abs=1e-4)
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


# ---- a week of sick calls on the bundled example -----------------------------------------------

EXAMPLE = Path(__file__).resolve().parents[2] / "scenarios" / "example"


def _span(row: pd.Series) -> tuple[pd.Timestamp, pd.Timestamp]:
    return pd.Timestamp(row["start"]), pd.Timestamp(row["end"])


def _begun(row: dict[str, str], column: str, now: pd.Timestamp) -> list[str]:
    """The items ``name HH:MM-HH:MM`` of a row's cell that began before ``now``."""
    start = pd.Timestamp(row["start"])
    out = []
    for item in filter(None, (row.get(column) or "").split(";")):
        h, m = map(int, item.rpartition(" ")[2][:5].split(":"))
        t = start.normalize() + pd.Timedelta(hours=h, minutes=m)
        if t < now:
            out.append(item)
    return out


def _lunch_before(row: pd.Series, cut: pd.Timestamp) -> int:
    """Minutes of the row's lunch (``lunch HH:MM-HH:MM`` in ``breaks``) before ``cut``."""
    for item in row["breaks"].split(";"):
        if item.startswith("lunch "):
            a, b = (
                pd.Timestamp(f"{row['date']}T{t}").tz_localize(cut.tz)
                for t in item.split(" ")[1].split("-")
            )
            return max(0, _minutes(a, min(b, cut)))
    return 0


def _no_nan(constant: str) -> None:
    raise AssertionError(f"{constant} is not JSON")


def _minutes(a: pd.Timestamp, b: pd.Timestamp) -> int:
    return int((b - a).total_seconds() // 60)


@pytest.mark.slow
def test_three_sick_calls_applied_in_turn_keep_every_recorded_absence(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLE, tmp_path / "ex", ignore=shutil.ignore_patterns("plans.sqlite*"))
    scen = str(tmp_path / "ex" / "scenario.toml")
    code, out = _invoke(
        "roster", scen, "--time-limit", "2", "--deterministic", "--quiet", "--out",
        str(tmp_path / "r"),
    )  # fmt: skip
    assert code == 0, out
    assert (
        _invoke("publish", scen, "--roster", str(tmp_path / "r" / "roster.csv"), "--note", "w")[0]
        == 0
    )
    store = PlanStore(tmp_path / "ex" / "plans.sqlite")
    v1 = store.roster(1)
    day2, day3 = "2026-12-08", "2026-12-09"  # the example's week starts Monday 7 December
    tz = pd.Timestamp(v1["start"].iloc[0]).tz
    at = {t: pd.Timestamp(f"{day2}T{t}").tz_localize(tz) for t in ("07:00", "10:50", "11:00")}
    on2 = v1[v1.date == day2]
    # A works day 2 from 07:00 or later; B's shift runs at 10:50 and past 11:00 with only paid
    # coffee breaks before 11:00 (the unpaid lunch after the cut); C works day 3
    a = next(r.agent_id for _, r in on2.iterrows() if _span(r)[0] >= at["07:00"])
    running = [
        r
        for _, r in on2.iterrows()
        if r.agent_id != a and _span(r)[0] < at["10:50"] and _span(r)[1] > at["11:00"]
    ]
    b_row = next((r for r in running if _lunch_before(r, at["11:00"]) == 0), running[0])
    b = b_row.agent_id
    c = next(x for x in v1[v1.date == day3].agent_id if x not in (a, b))
    calls = [
        (f"{a}:{day2}T07:00/{day2}", f"{day2}T07:00"),
        (f"{b}:{day2}T11:00/{day2}T23:00", f"{day2}T10:50"),
        (f"{c}:{day3}", f"{day2}T18:00"),
    ]
    for absent, now in calls:
        code, out = _invoke(
            "cover", scen, "--absent", absent, "--now", now, "--deterministic",
            "--time-limit", "2", "--apply", "--author", "lead", "--json",
        )  # fmt: skip
        assert code == 0, out
        json.loads(out, parse_constant=_no_nan)  # strict JSON: unknown service levels are null
    assert [(v.number, v.parent, v.kind) for v in store.versions()] == [
        (1, None, "publish"),
        (2, 1, "cover"),
        (3, 2, "cover"),
        (4, 3, "cover"),
    ]
    recorded = store.absences()
    assert [(r.agent_id, r.versions) for r in recorded] == [(a, (2,)), (b, (3,)), (c, (4,))]
    final = store.roster(4)
    for r in recorded:  # nobody works during their absence, in any version after it
        s, e = r.span(tz)
        for n in range(r.versions[0], 5):
            rows = store.roster(n)
            mine = rows[rows.agent_id == r.agent_id]
            assert not any(x < e and s < y for x, y in map(_span, (m for _, m in mine.iterrows())))
    for k, (absent, now) in enumerate(calls):  # nothing that started before --now changed
        t_now = pd.Timestamp(now).tz_localize(tz)
        old, new = store.roster(k + 1), store.roster(k + 2)
        started = {
            (r.agent_id, r.date): r.to_dict() for _, r in old.iterrows() if _span(r)[0] < t_now
        }
        after = {
            (r.agent_id, r.date): r.to_dict() for _, r in new.iterrows() if _span(r)[0] < t_now
        }
        assert set(after) <= set(started)
        sick = absent.split(":")[0]
        for key, row in started.items():
            if key[0] == sick:  # went home sick: the shift may only end where the absence starts
                continue
            got = after[key]
            base = [x["shift"].split("+")[0] for x in (got, row)]  # an extension T+m is T's
            assert base[0] == base[1] and got["start"] == row["start"], key
            if _span(row)[1] <= t_now:  # over before now: kept as it was
                assert got["end"] == row["end"] and got["breaks"] == row["breaks"], key
            for col in ("breaks", "assignments"):  # what began before now stays
                if col == "assignments" and not row.get(col):
                    continue  # the published plan's queues, spelled out by a repair
                assert _begun(got, col, t_now) == _begun(row, col, t_now), (key, col)
    cut = final[(final.agent_id == b) & (final.date == day2)].iloc[0]
    assert pd.Timestamp(cut["end"]) == at["11:00"]
    # by hand: from the shift's start to 11:00, the paid coffees count, the unpaid lunch (the
    # example's only unpaid break) only as far as it was taken before 11:00
    assert int(cut["paid_minutes"]) == _minutes(_span(b_row)[0], at["11:00"]) - _lunch_before(
        b_row, at["11:00"]
    )
    code, out = _invoke("validate", scen, "--version", "4", "--json")
    check = json.loads(out)
    assert code == 0 and check["ok"] and check["recorded_absences"] == 3, out


# ---- two leads covering at once ----------------------------------------------------------------

_GATED = textwrap.dedent(
    """
    import sys
    import staffplan.pipeline
    from staffplan.cli import main

    original = staffplan.pipeline.run_cover

    def gated(*args, **kwargs):
        print("ready", flush=True)  # the base version is read, the repair not started
        sys.stdin.readline()  # both leads are here: repair and write now
        return original(*args, **kwargs)

    staffplan.pipeline.run_cover = gated
    main(sys.argv[1:])
    """
)


def test_two_leads_applying_covers_from_the_same_version_one_lands(tmp_path: Path) -> None:
    scen, roster = _team(tmp_path / "team")
    assert _invoke("publish", str(scen), "--roster", str(roster), "--note", "w")[0] == 0
    store = PlanStore(scen.parent / "plans.sqlite")
    v1 = store.roster(1)
    sick = {"ana": "A1:2026-12-01", "bob": "A3:2026-12-01"}
    procs = {
        who: subprocess.Popen(
            [
                sys.executable,
                "-c",
                _GATED,
                "cover",
                str(scen),
                "--absent",
                absent,
                "--now",
                "2026-12-01T06:00",
                "--time-limit",
                "5",
                "--deterministic",
                "--apply",
                "--author",
                who,
            ],  # fmt: skip
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for who, absent in sick.items()
    }
    for p in procs.values():  # a barrier: both have read version 1 as their base
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    outs = {}
    for who in ("ana", "bob"):  # ana repairs and writes first; bob's repair is then out of date
        stdin = procs[who].stdin
        assert stdin is not None
        stdin.write("go\n")
        stdin.flush()
        outs[who] = procs[who].communicate(timeout=120)
    codes = {who: p.returncode for who, p in procs.items()}
    assert codes == {"ana": 0, "bob": 2}, outs
    winner = "ana"
    err = outs["bob"][1]
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "version 2 (cover, by ana at " in err and "after version 1" in err
    assert "re-run the cover" in err and "nothing was written" in err
    assert "applied as version 2" in outs["ana"][0]
    assert [(v.number, v.parent, v.author) for v in store.versions()] == [
        (1, None, store.version(1).author),
        (2, 1, winner),
    ]
    assert [(a.agent_id, a.versions) for a in store.absences()] == [
        (sick[winner].split(":")[0], (2,))
    ]  # the loser's absence was not recorded either
    pd.testing.assert_frame_equal(store.roster(1), v1)
    assert store.integrity_ok()
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_cover_repairs_recorded_absences_and_writes_the_new_versions_files(tmp_path: Path) -> None:
    scen, roster = _team(tmp_path / "team")
    assert _invoke("publish", str(scen), "--roster", str(roster), "--note", "w")[0] == 0
    code, out = _invoke("absent", str(scen), "--agent", "A1", "--from", "2026-12-01")
    assert code == 0, out
    now = ["--now", "2026-12-01T06:00", "--time-limit", "5", "--deterministic"]
    out_dir = tmp_path / "out"
    # no --absent: the recorded, not yet applied absence is what the cover repairs
    code, out = _invoke("cover", str(scen), *now, "--apply", "--out", str(out_dir), "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["covered"] == ["#1 A1 sick 2026-12-01 00:00-2026-12-02 00:00"]
    called = data["changes"][0]["agent_id"]
    assert data["applied"]["number"] == 2 and data["applied"]["absences"] == 1
    (absence,) = PlanStore(scen.parent / "plans.sqlite").absences()
    assert (absence.id, absence.versions) == (1, (2,))  # linked, not recorded twice
    assert sorted(p.name for p in (out_dir / "calendars").iterdir()) == sorted(
        [f"{called}.ics", "A1.ics"]
    )
    stored = PlanStore(scen.parent / "plans.sqlite").roster(2)
    written = pd.read_csv(out_dir / "roster.csv", dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(written, stored, check_dtype=False)
    assert "roster" in pd.ExcelFile(out_dir / "roster.xlsx").sheet_names
    # everything recorded is applied now: a cover without a new absence has nothing to do
    proc = _main("cover", str(scen), *now)
    assert proc.returncode == 2 and "nothing to cover" in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    # the same absence given again is applied already: still nothing to cover
    proc = _main("cover", str(scen), "--absent", "A1:2026-12-01", *now)
    assert proc.returncode == 2 and "nothing to cover" in proc.stderr, proc.stderr


def test_cover_of_an_old_version_applies_only_with_fork(tmp_path: Path) -> None:
    scen, roster = _team(tmp_path / "team")
    for note in ("w", "again"):
        assert _invoke("publish", str(scen), "--roster", str(roster), "--note", note)[0] == 0
    args = ["cover", str(scen), "--absent", "A1:2026-12-01", "--now", "2026-12-01T06:00"]
    args += ["--deterministic", "--time-limit", "5"]
    proc = _main(*args, "--version", "1", "--apply")
    assert proc.returncode == 2 and "version 1 is not the latest" in proc.stderr, proc.stderr
    assert "--fork" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert [v.number for v in PlanStore(scen.parent / "plans.sqlite").versions()] == [1, 2]
    assert _main(*args, "--version", "1").returncode == 0  # a proposal needs no fork
    code, out = _invoke(*args, "--version", "1", "--apply", "--fork")
    assert code == 0 and "forked: version 3 is the new latest, based on version 1" in out, out
    assert [(v.number, v.parent) for v in PlanStore(scen.parent / "plans.sqlite").versions()] == [
        (1, None),
        (2, 1),
        (3, 1),
    ]
    proc = _main(*args, "--fork")
    assert proc.returncode == 2 and "--fork goes with --apply --version" in proc.stderr


def test_a_later_cover_never_calls_in_an_agent_recorded_absent(tmp_path: Path) -> None:
    # A1 (working) and the free A5, A6 are sick on 1 December: nobody is left to call in, so
    # when A2 falls sick too, the only agents without a shift that day are the absent ones
    scen, roster = _team(tmp_path / "team")
    assert _invoke("publish", str(scen), "--roster", str(roster), "--note", "w")[0] == 0
    now = ["--now", "2026-12-01T06:00", "--time-limit", "5", "--deterministic", "--apply", "--json"]
    first = [x for a in ("A1", "A5", "A6") for x in ("--absent", f"{a}:2026-12-01")]
    code, out = _invoke("cover", str(scen), *first, *now)
    assert code == 0 and json.loads(out)["applied"]["number"] == 2, out
    code, out = _invoke("cover", str(scen), "--absent", "A2:2026-12-01", *now)
    assert code == 0, out
    data = json.loads(out)
    assert data["recorded_absences"] == 3
    assert {c["agent_id"] for c in data["changes"]}.isdisjoint({"A1", "A5", "A6"}), data
    day = PlanStore(scen.parent / "plans.sqlite").roster(3)
    assert set(day[day.date == "2026-12-01"].agent_id) <= {"A3", "A4"}
    code, out = _invoke("validate", str(scen), "--version", "3")
    assert code == 0, out
