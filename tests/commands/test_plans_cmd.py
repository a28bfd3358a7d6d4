"""``staffplan publish`` / ``versions`` / ``absent`` / ``validate`` through the CLI (CliRunner and
real processes): validated publishing, recorded absences, forks, exports and two leads racing.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from icalendar import Calendar

from staffplan.cli import cli
from staffplan.store import PlanStore

DAYS = [f"2026-12-{d:02d}" for d in range(7, 14)]  # Monday 7 .. Sunday 13 December 2026
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
# Who works which days (indices into DAYS) in the valid week: five days each, A5 around its
# vacation (Thursday and Friday).
WEEK = {
    "A1": (0, 1, 2, 3, 4),
    "A2": (0, 1, 2, 3, 4),
    "A3": (2, 3, 4, 5, 6),
    "A4": (2, 3, 4, 5, 6),
    "A5": (0, 1, 2, 5, 6),
    "A6": (0, 1, 2, 3, 4),
}


def team(folder: Path) -> Path:
    """Six agents over one week: E 07:00 and L 13:00 shifts (480 min, unpaid lunch 30 min at
    +180..+240), 4-5 shifts a week, 11 h rest; A6 also serves chat; A5 on vacation Thu-Fri.
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scenario.toml").write_text(
        textwrap.dedent(
            """
            name = "plans"
            [grid]
            start = 2026-12-07
            days = 7
            interval_minutes = 60
            timezone = "Europe/Madrid"
            [data]
            agents = "agents.csv"
            contracts = "contracts.csv"
            shifts = "shifts.csv"
            absences = "absences.csv"
            [queues.voice]
            service_level = 0.8
            answer_within_s = 20
            [queues.chat]
            channel = "chat"
            service_level = 0.8
            answer_within_s = 60
            """
        )
    )
    pd.DataFrame(
        [
            {
                "agent_id": f"A{i}",
                "name": f"Agent {i}",
                "team": "t",
                "contract": "FT",
                "skills": "voice:1|chat:2" if i == 6 else "voice",
            }
            for i in range(1, 7)
        ]
    ).to_csv(folder / "agents.csv", index=False)
    pd.DataFrame(
        [
            {
                "contract": "FT",
                "min_minutes_week": 1800,
                "max_minutes_week": 2250,
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
                "template": t,
                "earliest_start": s,
                "latest_start": s,
                "start_step_min": 60,
                "length_min": 480,
                "breaks": "lunch:30:unpaid:180-240",
            }
            for t, s in (("E", "07:00"), ("L", "13:00"))
        ]
    ).to_csv(folder / "shifts.csv", index=False)
    pd.DataFrame(
        [{"agent_id": "A5", "start": "2026-12-10", "end": "2026-12-11", "kind": "vacation"}]
    ).to_csv(folder / "absences.csv", index=False)
    return folder / "scenario.toml"


def shift(agent: str, day: int, template: str = "E", date: str | None = None) -> list[object]:
    d = date or DAYS[day]
    h = 7 if template == "E" else 13
    return [
        agent,
        f"Agent {agent[1:]}",
        d,
        day,
        template,
        f"{d}T{h:02d}:00:00+01:00",
        f"{d}T{h + 8:02d}:00:00+01:00",
        450,
        f"lunch {h + 3:02d}:00-{h + 3:02d}:30",
        "voice|chat" if agent == "A6" else "voice",
    ]


def week(
    extra: list[list[object]] | None = None, drop: set[tuple[str, int]] | None = None
) -> pd.DataFrame:
    """The valid week (:data:`WEEK`) less the agent-days in ``drop``, plus ``extra`` rows."""
    drop = drop or set()
    rows = [
        shift(a, d, "L" if a in ("A3", "A4") else "E")
        for a, days in WEEK.items()
        for d in days
        if (a, d) not in drop
    ]
    return pd.DataFrame([*rows, *(extra or [])], columns=COLS)


def write(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    return team(tmp_path / "scen")


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "staffplan", *args],
        capture_output=True,
        text=True,
        timeout=120,
        input=stdin,
    )


# ---- publish and versions --------------------------------------------------------------------


def test_publish_then_versions(scenario: Path, tmp_path: Path) -> None:
    r1 = write(week(), tmp_path / "r1.csv")
    moved = week(drop={("A1", 4)}, extra=[shift("A1", 4, "L")])
    moved.loc[moved.agent_id == "A2", "breaks"] = moved.loc[moved.agent_id == "A2", "breaks"].map(
        lambda b: b.replace("10:00-10:30", "10:30-11:00")
    )
    moved.loc[moved.agent_id == "A6", "queues"] = "chat"
    r2 = write(moved, tmp_path / "r2.csv")
    code, out = invoke(
        "publish", str(scenario), "--roster", str(r1), "--note", "week 50", "--author", "lead"
    )
    assert code == 0 and "published version 1: 30 agent-days" in out, out
    code, out = invoke("publish", str(scenario), "--roster", str(r2), "--note", "second", "--json")
    assert code == 0, out
    payload = json.loads(out)
    # A1 moved on Friday, A2's lunch moved on 5 days, A6's queues on 5 days
    assert payload["version"]["number"] == 2 and payload["version"]["changes"] == 11
    assert Path(payload["store"]) == scenario.parent / "plans.sqlite"

    code, out = invoke("versions", str(scenario))
    assert code == 0
    assert "week 50" in out and "second" in out and "lead" in out
    header, v1, v2 = out.splitlines()[:3]
    assert header.split()[:2] == ["number", "parent"]
    assert v1.split()[:2] == ["1", "-"] and v2.split()[:2] == ["2", "1"]  # parents as integers
    assert "A1       changed  E 07:00-15:00 -> L 13:00-21:00; breaks lunch 10:00-10:30 -> " in out
    assert "A2       changed  E 07:00-15:00; breaks lunch 10:00-10:30 -> 10:30-11:00" in out
    assert "A6       changed  E 07:00-15:00; queues voice|chat -> chat" in out
    assert "-> E 07:00-15:00  (" not in out  # no change shown as the same shift twice

    code, out = invoke("versions", str(scenario), "--json", "--version", "2")
    data = json.loads(out)
    assert [v["number"] for v in data["versions"]] == [1, 2]
    assert {c["agent_id"] for c in data["changes"]} == {"A1", "A2", "A6"}


def test_versions_export_file_and_folder(scenario: Path, tmp_path: Path) -> None:
    invoke(
        "publish", str(scenario), "--roster", str(write(week(), tmp_path / "r.csv")), "--note", "n"
    )
    out_file = tmp_path / "exp" / "v1.xlsx"
    code, out = invoke("versions", str(scenario), "--export", "1", "--out", str(out_file))
    assert code == 0 and out_file.exists() and "exported version 1" in out
    assert pd.read_excel(out_file, sheet_name="roster")["agent_id"].tolist()[:2] == ["A1", "A1"]
    code, out = invoke(
        "versions", str(scenario), "--export", "1", "--out", str(tmp_path / "v1.csv"), "--json"
    )
    assert json.loads(out)["exported"].endswith("v1.csv")
    folder = tmp_path / "v1"
    code, out = invoke("versions", str(scenario), "--export", "1", "--out", str(folder))
    assert code == 0, out
    assert sorted(p.name for p in folder.iterdir()) == ["calendars", "roster.csv", "roster.xlsx"]
    assert sorted(p.name for p in (folder / "calendars").iterdir()) == [
        f"A{i}.ics" for i in range(1, 7)
    ]
    grid = pd.read_excel(folder / "roster.xlsx", sheet_name="roster", dtype=str)
    a5 = grid[grid.agent_id == "A5"].iloc[0]
    assert a5["Thu 2026-12-10"] == "vacation"
    assert a5["Mon 2026-12-07"].splitlines()[0] == "E 07:00-15:00"  # then a line per break
    assert set(pd.read_excel(folder / "roster.xlsx", sheet_name=None)) == {
        "roster",
        "changes",
        "absences",
        "violations",
        "version",
    }


def test_versions_of_empty_store(scenario: Path) -> None:
    code, out = invoke("versions", str(scenario))
    assert code == 0 and "no versions yet" in out


def test_bad_input_exits_2_with_one_clear_line(scenario: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    pd.DataFrame([["A1", "x", "2026-12-07"]], columns=["agent_id", "name", "date"]).to_csv(
        bad, index=False
    )
    proc = run("publish", str(scenario), "--roster", str(bad), "--note", "x")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "bad.csv" in proc.stderr and "missing columns" in proc.stderr

    proc = run("versions", str(scenario), "--export", "4", "--out", str(tmp_path / "x.csv"))
    assert proc.returncode == 2 and "no such version" in proc.stderr
    assert "Traceback" not in proc.stderr

    proc = run("versions", str(scenario), "--export", "1")
    assert proc.returncode == 2 and "--export and --out go together" in proc.stderr

    dup = write(pd.concat([week(), week().iloc[:1]]), tmp_path / "dup.csv")
    proc = run("publish", str(scenario), "--roster", str(dup), "--note", "x")
    assert proc.returncode == 2 and "row 32" in proc.stderr and "two shifts" in proc.stderr

    proc = run("publish", str(scenario), "--roster", str(dup), "--note", "x", "--fork")
    assert proc.returncode == 2 and "--fork goes with --version" in proc.stderr


def test_publish_refuses_each_broken_rule_naming_it(scenario: Path, tmp_path: Path) -> None:
    cases = {
        "sixth working day": (
            week(extra=[shift("A1", 5)]),
            ["max days per week — A1 2026-12-07: found 6 days; allowed at most 5 days"],
        ),
        "shift during vacation": (
            week(extra=[shift("A5", 3)], drop={("A5", 0)}),
            ["absence — A5 2026-12-10: found shift 07:00-15:00 overlaps vacation"],
        ),
        "unknown agent": (
            week(extra=[["Z9", "Zed", DAYS[0], 0, "E", *shift("A1", 0)[5:]]]),
            ["unknown agent — Z9 2026-12-07: found Z9; allowed an agent_id from agents.csv"],
        ),
        "outside the horizon": (
            week(extra=[shift("A1", 0, date="2031-12-09")]),
            ["horizon — A1 2031-12-09: found 2031-12-09; allowed 2026-12-07 to 2026-12-13"],
        ),
        "unknown template": (
            week(drop={("A2", 0)}, extra=[[*shift("A2", 0)[:4], "X", *shift("A2", 0)[5:]]]),
            ["shift template — A2 2026-12-07: found X; allowed one of E, L"],
        ),
        "header only": (
            week().iloc[:0],
            [f"weekly paid minutes — A{i} 2026-12-07: found 0 min" for i in range(1, 7)],
        ),
    }
    for name, (frame, expected) in cases.items():
        path = write(frame, tmp_path / f"{name}.csv")
        proc = run("publish", str(scenario), "--roster", str(path), "--note", name)
        assert proc.returncode == 2, (name, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr
        assert "nothing was published" in proc.stderr.splitlines()[0], name
        for text in expected:
            assert text in proc.stderr, (name, text, proc.stderr)
    assert PlanStore(scenario.parent / "plans.sqlite").versions() == ()


def test_force_publishes_and_records_the_known_violations(scenario: Path, tmp_path: Path) -> None:
    path = write(week(extra=[shift("A1", 5)]), tmp_path / "six.csv")
    code, out = invoke(
        "publish",
        str(scenario),
        "--roster",
        str(path),
        "--force",
        "--note",
        "A1 agreed to a 6th day",
    )
    assert code == 0 and "published with 3 known violation(s)" in out, out
    code, out = invoke("versions", str(scenario), "--json")
    data = json.loads(out)
    assert data["versions"][0]["violations"] == 3
    assert {(v["agent_id"], v["rule"], v["found"]) for v in data["violations"]} == {
        ("A1", "max days per week", "6 days"),
        ("A1", "weekly paid minutes", "2700 min"),
        ("A1", "max consecutive days", "6 days in a row"),
    }
    code, out = invoke("versions", str(scenario))
    assert "known violations (published with --force):" in out and "max days per week" in out
    code, out = invoke("validate", str(scenario), "--version", "1")
    assert code == 2 and "3 hard-rule violation(s)" in out


def test_fork_from_an_old_version_only_when_asked(scenario: Path, tmp_path: Path) -> None:
    r1 = write(week(), tmp_path / "r1.csv")
    r2 = write(week(drop={("A1", 4)}, extra=[shift("A1", 4, "L")]), tmp_path / "r2.csv")
    assert invoke("publish", str(scenario), "--roster", str(r1), "--note", "one")[0] == 0
    assert invoke("publish", str(scenario), "--roster", str(r2), "--note", "two")[0] == 0
    proc = run("publish", str(scenario), "--roster", str(r1), "--note", "back", "--version", "1")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert "version 1 is not the latest: version 2 (publish" in proc.stderr
    assert "--fork" in proc.stderr
    code, out = invoke(
        "publish", str(scenario), "--roster", str(r1), "--note", "back", "--version", "1", "--fork"
    )
    assert code == 0 and "forked: version 3 is the new latest, based on version 1" in out, out
    store = PlanStore(scenario.parent / "plans.sqlite")
    v3 = store.version(3)
    assert (v3.parent, v3.forked, v3.n_changes) == (1, True, 0)  # identical to its parent


# ---- absences --------------------------------------------------------------------------------


def test_absent_records_a_fact_that_validation_and_publish_start_from(
    scenario: Path, tmp_path: Path
) -> None:
    assert (
        invoke(
            "publish",
            str(scenario),
            "--roster",
            str(write(week(), tmp_path / "r.csv")),
            "--note",
            "w",
        )[0]
        == 0
    )
    code, out = invoke(
        "absent",
        str(scenario),
        "--agent",
        "A2",
        "--from",
        "2026-12-09",
        "--kind",
        "sick",
        "--note",
        "flu, called 06:40",
        "--author",
        "ana",
    )
    assert code == 0, out
    assert "recorded absence #1 A2 sick 2026-12-09 00:00-2026-12-10 00:00 by ana" in out
    assert "version 1 still has A2 on 2026-12-09 E 07:00-15:00: not applied yet" in out
    code, out = invoke("validate", str(scenario))
    assert code == 2 and "absence" in out and "A2" in out and "sick 2026-12-09 00:00" in out
    code, out = invoke("validate", str(scenario), "--json")
    data = json.loads(out)
    assert data["ok"] is False and data["recorded_absences"] == 1
    assert [(v["agent_id"], v["date"], v["rule"]) for v in data["violations"]] == [
        ("A2", "2026-12-09", "absence")
    ]
    # the old roster cannot be published again, the one without A2 on Wednesday can, and
    # applies the absence; A2's weekly minimum (1800 min, now 1800 - 450) is waived, not asked
    # back
    proc = run("publish", str(scenario), "--roster", str(tmp_path / "r.csv"), "--note", "again")
    assert proc.returncode == 2 and "absence — A2 2026-12-09" in proc.stderr
    fixed = write(week(drop={("A2", 2)}), tmp_path / "fixed.csv")
    code, out = invoke("publish", str(scenario), "--roster", str(fixed), "--note", "A2 sick")
    assert code == 0 and "applies recorded absence #1 A2 sick" in out, out
    code, out = invoke("validate", str(scenario), "--version", "2")
    assert code == 0 and "no violation" in out
    code, out = invoke("versions", str(scenario), "--json")
    (absence,) = json.loads(out)["absences"]
    assert (absence["agent_id"], absence["versions"], absence["reason"]) == (
        "A2",
        "2",
        "flu, called 06:40",
    )
    code, out = invoke("versions", str(scenario))
    assert (
        '#1 A2 sick 2026-12-09 00:00-2026-12-10 00:00 "flu, called 06:40", recorded by ana' in out
    )
    assert "applied in version 2" in out


def test_a_partial_day_absence_allows_a_shift_cut_where_it_starts(
    scenario: Path, tmp_path: Path
) -> None:
    assert (
        invoke(
            "publish",
            str(scenario),
            "--roster",
            str(write(week(), tmp_path / "r.csv")),
            "--note",
            "w",
        )[0]
        == 0
    )
    code, out = invoke(
        "absent",
        str(scenario),
        "--agent",
        "A1",
        "--from",
        "2026-12-08T11:00",
        "--to",
        "2026-12-08T23:00",
    )
    assert code == 0, out
    cut = week()
    i = cut.index[(cut.agent_id == "A1") & (cut.date == DAYS[1])][0]
    cut.loc[i, "end"] = f"{DAYS[1]}T11:00:00+01:00"
    cut.loc[i, "paid_minutes"] = 210  # 07:00-11:00 less the unpaid lunch 10:00-10:30
    code, out = invoke("validate", str(scenario), "--roster", str(write(cut, tmp_path / "c.csv")))
    assert code == 0, out
    cut.loc[i, "paid_minutes"] = 240
    code, out = invoke("validate", str(scenario), "--roster", str(write(cut, tmp_path / "c.csv")))
    assert code == 2 and "paid minutes" in out and "240 min" in out and "210 min" in out
    cut.loc[i, ["end", "paid_minutes"]] = [f"{DAYS[1]}T12:00:00+01:00", 270]
    code, out = invoke("validate", str(scenario), "--roster", str(write(cut, tmp_path / "c.csv")))
    assert code == 2 and "shift length" in out and "absence" in out


def test_absent_bad_input_and_withdrawal(scenario: Path) -> None:
    for args, msg in (
        (["--agent", "A9", "--from", "2026-12-09"], "unknown agent"),
        (["--agent", "A1", "--from", "2031-12-09"], "outside the planning horizon"),
        (["--agent", "A1", "--from", "2026-12-09T11:00"], "absence without an end"),
        (["--agent", "A1", "--from", "2026-12-45"], "bad date or time"),
        (["--agent", "A1", "--from", "2026-12-09", "--kind", "flu"], "unknown absence kind"),
        (["--from", "2026-12-09"], "missing --agent"),
        (["--withdraw", "7", "--note", "typo"], "no such absence"),
    ):
        proc = run("absent", str(scenario), *args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert msg in proc.stderr and "Traceback" not in proc.stderr, (args, proc.stderr)
    args = ["absent", str(scenario), "--agent", "A1", "--from", "2026-12-09"]
    assert invoke(*args)[0] == 0
    proc = run(*args)
    assert proc.returncode == 2 and "absence already recorded" in proc.stderr
    code, out = invoke("absent", str(scenario), "--withdraw", "1", "--note", "wrong agent")
    assert code == 0 and "withdrew absence #1 A1" in out
    assert invoke(*args)[0] == 0  # recordable again once withdrawn
    store = PlanStore(scenario.parent / "plans.sqlite")
    assert [a.id for a in store.absences()] == [2]
    assert "wrong agent" in store.absences(withdrawn=True)[0].withdrawn


# ---- files after a change --------------------------------------------------------------------


def test_publish_out_writes_the_new_version_for_the_changed_agents(
    scenario: Path, tmp_path: Path
) -> None:
    assert (
        invoke(
            "publish",
            str(scenario),
            "--roster",
            str(write(week(), tmp_path / "r.csv")),
            "--note",
            "w",
        )[0]
        == 0
    )
    # A1 moves Friday to L; A2 loses Friday for Saturday (5 days still)
    new = week(drop={("A1", 4), ("A2", 4)}, extra=[shift("A1", 4, "L"), shift("A2", 5)])
    out = tmp_path / "out"
    code, text = invoke(
        "publish",
        str(scenario),
        "--roster",
        str(write(new, tmp_path / "n.csv")),
        "--note",
        "swap",
        "--out",
        str(out),
    )
    assert code == 0 and "2 calendar(s) of changed agents" in text, text
    assert sorted(p.name for p in (out / "calendars").iterdir()) == ["A1.ics", "A2.ics"]
    back = pd.read_csv(out / "roster.csv", dtype=str)
    assert len(back) == 30 and ((back.agent_id == "A2") & (back.date == DAYS[5])).any()
    events = list(Calendar.from_ical((out / "calendars" / "A2.ics").read_bytes()).walk("VEVENT"))
    friday = next(e for e in events if "2026-12-11" in str(e["uid"]))
    saturday = next(e for e in events if "2026-12-12" in str(e["uid"]))
    assert str(friday["status"]) == "CANCELLED" and "status" not in saturday
    assert {int(e["sequence"]) for e in events} == {2}  # the version number
    grid = pd.read_excel(out / "roster.xlsx", sheet_name="roster", dtype=str)
    assert grid.loc[grid.agent_id == "A1", "Fri 2026-12-11"].item().splitlines()[0] == (
        "L 13:00-21:00"
    )


# ---- two leads at once -----------------------------------------------------------------------

_GATED = textwrap.dedent(
    """
    import sys
    from staffplan.cli import main
    from staffplan.store import PlanStore

    original = PlanStore.publish

    def gated(self, *args, **kwargs):
        print("ready", flush=True)  # the base is read and the roster validated
        sys.stdin.readline()  # both leads are here: write now
        return original(self, *args, **kwargs)

    PlanStore.publish = gated
    main(sys.argv[1:])
    """
)


def test_two_leads_publishing_from_the_same_version_one_lands(
    scenario: Path, tmp_path: Path
) -> None:
    r = str(write(week(), tmp_path / "r.csv"))
    assert (
        invoke("publish", str(scenario), "--roster", r, "--note", "w", "--author", "lead")[0] == 0
    )
    store = PlanStore(scenario.parent / "plans.sqlite")
    v1 = store.roster(1)
    rosters = {
        "ana": write(week(drop={("A1", 4)}, extra=[shift("A1", 4, "L")]), tmp_path / "ana.csv"),
        "bob": write(week(drop={("A2", 4)}, extra=[shift("A2", 4, "L")]), tmp_path / "bob.csv"),
    }
    procs = {
        who: subprocess.Popen(
            [
                sys.executable,
                "-c",
                _GATED,
                "publish",
                str(scenario),
                "--roster",
                str(path),
                "--note",
                f"by {who}",
                "--author",
                who,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for who, path in rosters.items()
    }
    for p in procs.values():  # a barrier: both have read version 1 as their base
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    for p in procs.values():
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    outs = {who: p.communicate(timeout=120) for who, p in procs.items()}
    codes = {who: p.returncode for who, p in procs.items()}
    assert sorted(codes.values()) == [0, 2], outs
    winner = next(w for w, c in codes.items() if c == 0)
    loser = next(w for w, c in codes.items() if c == 2)
    err = outs[loser][1]
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert f"version 2 (publish, by {winner} at " in err and "after version 1" in err
    assert "re-run the publish" in err and "nothing was written" in err
    assert "published version 2" in outs[winner][0]
    assert [(v.number, v.parent, v.author) for v in store.versions()] == [
        (1, None, "lead"),
        (2, 1, winner),
    ]
    pd.testing.assert_frame_equal(store.roster(1), v1)
    assert store.integrity_ok()
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
