"""A corpus of malformed inputs: each gives exit code 2 and one clear line, never a traceback.

Table-driven: a case names what it breaks (the tiny scenario of
``tests/scenario_kit.py`` is written fresh into a temporary folder, then
changed), the command line, and the words the message must contain. The CLI's
real entry point (``staffplan.cli.main``) runs in-process, so exit codes and
stderr are exactly what a user sees.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.scenario_kit import tiny_scenario

from staffplan.cli import main

ROOT = Path(__file__).resolve().parents[1]
CURTOIS = ROOT / "tests" / "data" / "curtois" / "Instance1.txt"

Setup = Callable[[Path], list[str]]


@dataclass(frozen=True)
class Case:
    id: str
    setup: Setup  # writes files under the folder it gets, returns the command line
    words: tuple[str, ...]  # each must appear in stderr (case-insensitive)
    env: tuple[tuple[str, str], ...] = ()


def _scenario(tmp: Path, **kw: object) -> Path:
    return tiny_scenario(tmp / "sc", **kw)  # type: ignore[arg-type]


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (old, path)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def toml(old: str, new: str, cmd: tuple[str, ...] = ("run",)) -> Setup:
    """Replace text in scenario.toml, then run ``cmd`` on it."""

    def setup(tmp: Path) -> list[str]:
        sc = _scenario(tmp)
        _edit(sc, old, new)
        return [*cmd, str(sc), *_out(cmd, tmp)]

    return setup


def toml_add(text: str, cmd: tuple[str, ...] = ("run",)) -> Setup:
    def setup(tmp: Path) -> list[str]:
        sc = _scenario(tmp)
        _append(sc, text)
        return [*cmd, str(sc), *_out(cmd, tmp)]

    return setup


def toml_top(text: str, cmd: tuple[str, ...] = ("run",)) -> Setup:
    """Put top-level keys before the first table of scenario.toml."""

    def setup(tmp: Path) -> list[str]:
        sc = _scenario(tmp)
        sc.write_text(text + "\n" + sc.read_text(encoding="utf-8"), encoding="utf-8")
        return [*cmd, str(sc), *_out(cmd, tmp)]

    return setup


def simulate_toml(text: str) -> Setup:
    """Append to scenario.toml and simulate a valid roster of the horizon."""

    def setup(tmp: Path) -> list[str]:
        sc = _scenario(tmp)
        _append(sc, text)
        roster = _roster_csv(tmp, "2026-12-08T08:00:00+01:00", "2026-12-08T16:00:00+01:00")
        return ["simulate", str(sc), "--roster", str(roster)]

    return setup


def _out(cmd: tuple[str, ...], tmp: Path) -> list[str]:
    return ["--out", str(tmp / "out")] if cmd[0] in ("run", "roster") else []


def data_file(name: str, content: str | bytes, cmd: tuple[str, ...] = ("roster",)) -> Setup:
    """Overwrite a data file of the tiny scenario, then run ``cmd``."""

    def setup(tmp: Path) -> list[str]:
        sc = _scenario(tmp)
        target = sc.parent / "data" / name
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
        return [*cmd, str(sc), *_out(cmd, tmp)]

    return setup


def args(*argv: str) -> Setup:
    def setup(tmp: Path) -> list[str]:
        sc = _scenario(tmp)
        return [a.replace("SC", str(sc)).replace("TMP", str(tmp)) for a in argv]

    return setup


AGENTS_HEAD = "agent_id,name,team,contract,skills,hourly_cost\n"
ABS_HEAD = "agent_id,start,end,kind\n"


def _xlsx_agents(tmp: Path, rows: list[list[object]]) -> list[str]:
    from openpyxl import Workbook

    sc = _scenario(tmp)
    wb = Workbook()
    ws = wb.active
    ws.append(["agent_id", "name", "team", "contract", "skills", "hourly_cost"])
    for r in rows:
        ws.append(r)
    wb.save(sc.parent / "data" / "agents.xlsx")
    _edit(sc, 'agents = "data/agents.csv"', 'agents = "data/agents.xlsx"')
    return ["roster", str(sc), "--out", str(tmp / "out")]


def _corrupt_xlsx(tmp: Path) -> list[str]:
    sc = _scenario(tmp)
    with zipfile.ZipFile(sc.parent / "data" / "agents.xlsx", "w") as z:
        z.writestr("hello.txt", "not a workbook")
    _edit(sc, 'agents = "data/agents.csv"', 'agents = "data/agents.xlsx"')
    return ["roster", str(sc)]


def _foreign_out(tmp: Path) -> list[str]:
    sc = _scenario(tmp)
    out = tmp / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    return ["run", str(sc), "--out", str(out)]


def _out_holds_previous_roster(tmp: Path) -> list[str]:
    """A roster another scenario reads as its previous roster sits in the output folder."""
    out = tmp / "out"
    out.mkdir()
    (out / "roster.csv").write_text(
        "agent_id,date,shift,start,end\nA1,2026-12-06,D8,2026-12-06T08:00:00+01:00,"
        "2026-12-06T16:00:00+01:00\n",
        encoding="utf-8",
    )
    sc = _scenario(tmp, data_toml=f'previous_roster = "{(out / "roster.csv").as_posix()}"\n')
    sc.write_text('root = ".."\n' + sc.read_text(encoding="utf-8"), encoding="utf-8")
    return ["run", str(sc), "--out", str(out)]


def _compare_over_previous_roster(tmp: Path) -> list[str]:
    out = tmp / "cmp"
    (out / "tiny").mkdir(parents=True)
    (out / "tiny" / "roster.csv").write_text("agent_id,date,shift,start,end\n", encoding="utf-8")
    sc = tiny_scenario(
        tmp / "tiny", data_toml=f'previous_roster = "{(out / "tiny" / "roster.csv").as_posix()}"\n'
    )
    sc.write_text('root = ".."\n' + sc.read_text(encoding="utf-8"), encoding="utf-8")
    return ["compare", str(sc), "--out", str(out)]


def _history_volume(tmp: Path) -> list[str]:
    sc = _scenario(tmp)
    hist = sc.parent / "data" / "history.csv"
    lines = hist.read_text(encoding="utf-8").splitlines()
    for i in range(1, len(lines)):  # every day at 10:00, so no robust forecast drops it
        if "T10:00:00" in lines[i]:
            parts = lines[i].split(",")
            parts[2] = parts[3] = "100000000000000000000"
            lines[i] = ",".join(parts)
    hist.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ["requirements", str(sc)]


def _history_date(tmp: Path) -> list[str]:
    sc = _scenario(tmp)
    hist = sc.parent / "data" / "history.csv"
    lines = hist.read_text(encoding="utf-8").splitlines()
    lines[5] = "07/12/2026 05:00,voice,0,0,180,0"
    hist.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ["requirements", str(sc)]


def _roster_csv(tmp: Path, start: str, end: str, queues: str = "voice") -> Path:
    path = tmp / "roster.csv"
    day = start[:10] if start[:4].isdigit() else "2026-12-08"
    path.write_text(
        "agent_id,name,date,day,shift,start,end,paid_minutes,breaks,queues,activities\n"
        f"A1,Ana,{day},0,D8,{start},{end},480,,{queues},\n",
        encoding="utf-8",
    )
    return path


def _simulate(start: str, end: str, queues: str = "voice") -> Setup:
    def setup(tmp: Path) -> list[str]:
        sc = _scenario(tmp)
        return ["simulate", str(sc), "--roster", str(_roster_csv(tmp, start, end, queues))]

    return setup


def _latin1_toml(tmp: Path) -> list[str]:
    sc = _scenario(tmp)
    sc.write_bytes(sc.read_bytes() + '\ndescription = "Año"\n'.encode("latin-1"))
    return ["run", str(sc)]


def _dir_as_data(tmp: Path) -> list[str]:
    sc = _scenario(tmp)
    (sc.parent / "data" / "absences_dir").mkdir()
    _edit(sc, 'absences = "data/absences.csv"', 'absences = "data/absences_dir"')
    return ["roster", str(sc)]


def _hires(skills: str) -> Setup:
    return toml_add(
        f'\n[[hires]]\ncount = 2\nprefix = "N"\ncontract = "C"\nskills = "{skills}"\n',
        cmd=("roster",),
    )


def _same_names(tmp: Path) -> list[str]:
    a = tiny_scenario(tmp / "a", name="same")
    b = tiny_scenario(tmp / "b", name="same")
    return ["compare", str(a), str(b), "--out", str(tmp / "cmp")]


def _export(ext: str) -> Setup:
    def setup(tmp: Path) -> list[str]:
        sc = _scenario(tmp)
        return ["versions", str(sc), "--export", "1", "--out", str(tmp / f"v1.{ext}")]

    return setup


CASES = [
    # 1. every key of every table is checked: a typo'd [data] key drops nothing silently
    Case("data-key-typo", toml("absences =", "absenses ="), ("unknown key", "data.absenses")),
    Case("roster-table", toml_add("\n[roster]\nmax_days = 5\n"), ("unknown key", "roster")),
    Case("report-table", toml_add("\n[report]\ntitle = 'x'\n"), ("unknown key", "report")),
    Case("top-level-typo", toml("shrinkage = 0.2", "shrinkge = 0.2"), ("unknown key", "shrinkge")),
    Case("grid-typo", toml("days = 7", "day = 7"), ("unknown key", "grid.day")),
    Case("solver-typo", toml("seed = 0", "sed = 0"), ("unknown key", "solver.sed")),
    Case(
        "queue-typo",
        toml("service_level = 0.8", "servicelevel = 0.8"),
        ("unknown key", "queues.voice.servicelevel"),
    ),
    Case(
        "data-table-typo",
        toml(
            'absences = "data/absences.csv"',
            'absences = { path = "data/absences.csv", date_fmt = "%d/%m/%Y" }',
        ),
        ("unknown key", "data.absences.date_fmt"),
    ),
    Case(
        "data-list-for-one-file",
        toml('agents = "data/agents.csv"', 'agents = ["data/agents.csv"]'),
        ("wrong type", "data.agents"),
    ),
    Case(
        "bad-date-format",
        toml(
            'absences = "data/absences.csv"',
            'absences = { path = "data/absences.csv", date_format = "%H:%M" }',
        ),
        ("bad date_format", "data.absences.date_format"),
    ),
    Case(
        "simulate-typo",
        simulate_toml("\n[simulate]\nreplication = 3\n"),
        ("unknown key", "simulate.replication"),
    ),
    # 3. paths a scenario names stay inside out/
    Case(
        "name-traversal",
        toml_top('name = "../../escaped_run"'),
        ("bad scenario name", "out/<name>/"),
    ),
    Case("name-absolute", toml_top('name = "/tmp/escaped"'), ("bad scenario name",)),
    Case("name-hidden", toml_top('name = ".hidden"'), ("bad scenario name",)),
    Case("name-empty", toml_top('name = ""'), ("bad scenario name",)),
    Case("name-backslash", toml_top('name = "..\\\\x"'), ("bad scenario name",)),
    Case("name-not-string", toml_top("name = 3\n"), ("wrong type", "name")),
    # 3. every path a scenario names resolves inside its folder (or the root it declares)
    Case(
        "data-path-traversal",
        toml('agents = "data/agents.csv"', 'agents = "../../../etc/passwd"'),
        ("path outside the scenario folder", "data.agents", "root"),
    ),
    Case(
        "data-path-absolute",
        toml('agents = "data/agents.csv"', 'agents = "/etc/passwd"'),
        ("path outside the scenario folder", "data.agents"),
    ),
    Case("data-path-symlink", lambda tmp: _symlinked_data(tmp), ("outside", "data.agents")),
    Case(
        "store-path-traversal",
        toml_add('\n[store]\npath = "../../plans.sqlite"\n', cmd=("versions",)),
        ("path outside the scenario folder", "store.path"),
    ),
    Case(
        "store-path-home",
        toml_add('\n[store]\npath = "~/plans.sqlite"\n', cmd=("versions",)),
        ("outside", "store.path"),
    ),
    Case(
        "extends-outside",
        toml_top('extends = "../../elsewhere/scenario.toml"'),
        ("path outside the scenario folder", "extends"),
    ),
    Case("root-not-above", toml_top('root = "data"'), ("root does not hold", "root")),
    # 10. scenario files that cannot be read
    Case("toml-not-utf8", _latin1_toml, ("not utf-8", "save the file as utf-8")),
    Case("toml-invalid", toml_add("\n[grid\n"), ("not valid toml",)),
    Case("toml-missing", args("run", "TMP/nowhere.toml"), ("not found",)),
    Case("extends-cycle", toml_top('extends = "scenario.toml"'), ("circular",)),
    # 7. bounds checked before long computations
    Case("days-huge", toml("days = 7", "days = 100000"), ("above the limit", "STAFFPLAN_MAX_DAYS")),
    Case(
        "toml-time-limit-inf",
        toml("time_limit_s = 1.0", "time_limit_s = inf"),
        ("must be finite", "solver.time_limit_s"),
    ),
    Case(
        "toml-workers-huge",
        toml("workers = 1", "workers = 1000"),
        ("above the limit", "STAFFPLAN_MAX_WORKERS"),
    ),
    Case(
        "run-time-limit-inf", args("run", "SC", "--time-limit", "inf"), ("--time-limit", "finite")
    ),
    Case(
        "run-workers-huge",
        args("run", "SC", "--workers", "1000"),
        ("--workers", "above the limit", "STAFFPLAN_MAX_WORKERS"),
    ),
    Case("roster-time-limit-inf", args("roster", "SC", "--time-limit", "inf"), ("finite",)),
    Case("roster-workers-huge", args("roster", "SC", "--workers", "1000"), ("above the limit",)),
    Case(
        "compare-time-limit-inf",
        args("compare", "SC", "--time-limit", "inf", "--out", "TMP/cmp"),
        ("finite",),
    ),
    Case(
        "cover-time-limit-inf",
        args(
            "cover",
            "SC",
            "--absent",
            "A1:2026-12-08",
            "--now",
            "2026-12-08T07:00",
            "--time-limit",
            "inf",
        ),
        ("finite", "--time-limit"),
    ),
    Case(
        "erlang-huge-volume",
        args(
            "erlang",
            "--volume",
            "1e9",
            "--aht",
            "180",
            "--service-level",
            "0.8",
            "--answer-within",
            "20",
            "--patience",
            "120",
        ),
        ("--volume", "above the limit", "STAFFPLAN_MAX_OFFERED_LOAD"),
    ),
    Case(
        "erlang-huge-agents",
        args("erlang", "--volume", "100", "--aht", "180", "--agents", "1000000000000"),
        ("--agents", "above the limit"),
    ),
    Case("history-volume-1e20", _history_volume, ("queue 'voice'", "offered load", "limit")),
    Case(
        "simulate-replications",
        args("simulate", "SC", "--replications", "100000"),
        ("--replications", "above the limit"),
    ),
    Case(
        "simulate-toml-replications",
        simulate_toml("\n[simulate]\nreplications = 100000\n"),
        ("simulate.replications", "above the limit"),
    ),
    Case("forecast-weeks", args("forecast", "SC", "--weeks-ahead", "100000"), ("--weeks-ahead",)),
    Case(
        "import-time-limit-inf",
        args("import", "curtois", str(CURTOIS), "--out", "TMP/c1", "--time-limit", "inf"),
        ("finite",),
    ),
    Case(
        "bad-bound-env",
        toml("days = 7", "days = 8"),
        ("bad bound in the environment", "STAFFPLAN_MAX_DAYS"),
        env=(("STAFFPLAN_MAX_DAYS", "lots"),),
    ),
    # 4. unknown skills
    Case(
        "unknown-skill",
        data_file("agents.csv", AGENTS_HEAD + "A1,Ana,t,C,vioce:1,15\nA2,Bo,t,C,voice:1,15\n"),
        ("unknown skill", "vioce", "row 2", "skills"),
    ),
    Case(
        "unknown-second-skill",
        data_file("agents.csv", AGENTS_HEAD + "A1,Ana,t,C,voice:1|chta:2,15\n"),
        ("unknown skill", "chta"),
    ),
    Case("hires-unknown-skill", _hires("vioce:1"), ("unknown skill", "hires")),
    Case(
        "bad-skill-priority",
        data_file("agents.csv", AGENTS_HEAD + "A1,Ana,t,C,voice:first,15\n"),
        ("bad skill priority",),
    ),
    # 11. dates are ISO 8601 unless the file declares another format
    Case(
        "absence-ambiguous-date",
        data_file("absences.csv", ABS_HEAD + "A1,01/12/2026,01/12/2026,vacation\n"),
        ("01/12/2026 could be", "date_format", "row 2", "start"),
    ),
    Case(
        "absence-month-name",
        data_file("absences.csv", ABS_HEAD + "A1,Dec 8 2026,2026-12-08,vacation\n"),
        ("iso 8601", "row 2"),
    ),
    Case(
        "absence-declared-format-mismatch",
        lambda tmp: _declared_format_mismatch(tmp),
        ("declared format", "%d/%m/%Y"),
    ),
    Case(
        "absence-end-before-start",
        data_file("absences.csv", ABS_HEAD + "A1,2026-12-09,2026-12-08 10:00,vacation\n"),
        ("ends before it starts",),
    ),
    Case(
        "absence-kind",
        data_file("absences.csv", ABS_HEAD + "A1,2026-12-08,2026-12-08,holiday\n"),
        ("one of vacation",),
    ),
    Case(
        "absence-unknown-agent",
        data_file("absences.csv", ABS_HEAD + "Z9,2026-12-08,2026-12-08,vacation\n"),
        ("unknown agent", "Z9"),
    ),
    Case(
        "preference-ambiguous-date",
        lambda tmp: _preferences(tmp, "A1,12/07/2026,off,,5\n"),
        ("could be", "preferences"),
    ),
    Case(
        "availability-ambiguous-date",
        lambda tmp: _availability(tmp, "A1,,07/12/2026,08:00,16:00\n"),
        ("could be", "availability"),
    ),
    Case("history-ambiguous-date", _history_date, ("could be", "history.csv", "row 6")),
    # 12. team files as people keep them: the errors still name file, row and column
    Case(
        "agents-latin1",
        data_file("agents.csv", (AGENTS_HEAD + "A1,Begoña,t,C,voice:1,15\n").encode("latin-1")),
        ("not utf-8", "row 2", "csv utf-8"),
    ),
    Case(
        "agents-xlsx-bad-cost",
        lambda tmp: _xlsx_agents(tmp, [["A1", "Ana", "t", "C", "voice:1", "lots"]]),
        ("agents.xlsx", "row 2", "hourly_cost"),
    ),
    Case("agents-xlsx-corrupt", _corrupt_xlsx, ("cannot read workbook",)),
    Case(
        "agents-semicolon-bad-cost",
        data_file(
            "agents.csv",
            "agent_id;name;team;contract;skills;hourly_cost\nA1;Ana;t;C;voice:1;1,5\nA2;Bo;t;C;"
            "voice:1;x\n",
        ),
        ("row 3", "hourly_cost"),
    ),
    Case("agents-empty", data_file("agents.csv", ""), ("empty file",)),
    Case(
        "agents-missing-column",
        data_file("agents.csv", "agent_id,name,team,contract\nA1,Ana,t,C\n"),
        ("no column 'skills'",),
    ),
    Case(
        "agents-duplicate",
        data_file("agents.csv", AGENTS_HEAD + "A1,Ana,t,C,voice:1,15\nA1,Bo,t,C,voice:1,15\n"),
        ("duplicate agent_id", "row 3"),
    ),
    Case(
        "agents-unknown-contract",
        data_file("agents.csv", AGENTS_HEAD + "A1,Ana,t,PT,voice:1,15\n"),
        ("unknown contract", "PT"),
    ),
    Case(
        "contracts-min-above-max",
        data_file(
            "contracts.csv",
            "contract,min_minutes_week,max_minutes_week,max_days_week,max_consecutive_days\n"
            "C,3000,2400,5,6\n",
        ),
        ("minimum above maximum",),
    ),
    Case(
        "shifts-bad-break",
        data_file(
            "shifts.csv",
            "template,earliest_start,latest_start,start_step_min,length_min,breaks\n"
            "D8,08:00,11:00,60,480,lunch-60\n",
        ),
        ("bad break", "breaks"),
    ),
    Case("data-is-folder", _dir_as_data, ("data.absences", "not a file")),
    Case(
        "data-missing-file",
        toml('absences = "data/absences.csv"', 'absences = "data/absence.csv"'),
        ("data file not found", "data.absences", "absence.csv"),
    ),
    # 8 and 10. output folders: checked before any solve
    Case("out-foreign-files", _foreign_out, ("files a run does not write", "notes.txt")),
    Case(
        "out-holds-previous-roster",
        _out_holds_previous_roster,
        ("holds a file the scenario reads", "data.previous_roster"),
    ),
    Case(
        "compare-over-previous-roster",
        _compare_over_previous_roster,
        ("holds a file the scenario reads",),
    ),
    Case("out-read-only-fs", args("run", "SC", "--out", "/proc/staffplan-out"), ("not writable",)),
    Case("roster-out-read-only", args("roster", "SC", "--out", "/proc/x/y"), ("not writable",)),
    Case(
        "simulate-out-read-only",
        args("simulate", "SC", "--out", "/proc/staffplan-sim"),
        ("not writable",),
    ),
    Case("compare-same-names", _same_names, ("share a name",)),
    Case("export-format", _export("pdf"), ("unknown export format",)),
    # 14. simulate refuses roster rows outside the horizon
    Case(
        "simulate-outside-horizon",
        _simulate("2027-01-04T08:00:00+01:00", "2027-01-04T16:00:00+01:00"),
        ("outside the planning horizon", "row 2", "start"),
    ),
    Case(
        "simulate-unknown-queue",
        _simulate("2026-12-08T08:00:00+01:00", "2026-12-08T16:00:00+01:00", "vocie"),
        ("unknown queue in roster", "vocie"),
    ),
    Case(
        "simulate-bad-time",
        _simulate("08:00", "16:00"),
        ("bad shift time",),
    ),
    # 13. infeasibility names a rule and the agents it binds
    Case(
        "min-consecutive-vs-rest",
        data_file(
            "contracts.csv",
            "contract,min_minutes_week,max_minutes_week,max_days_week,max_consecutive_days,"
            "min_consecutive_days,min_rest_hours\nC,1800,2400,5,6,5,30\n",
        ),
        ("no roster satisfies", "min consecutive days", "minimum rest", "A1 (Ana Ruiz)"),
    ),
    Case(
        "everyone-absent",
        data_file(
            "absences.csv",
            ABS_HEAD + "".join(f"A{i},2026-12-07,2026-12-13,vacation\n" for i in range(1, 5)),
        ),
        ("nobody can work", "A1 vacation 2026-12-07 to 2026-12-13", "A4 vacation"),
    ),
    # command-line values
    Case("erlang-negative-volume", args("erlang", "--volume", "-1", "--aht", "180"), ("--volume",)),
    Case(
        "erlang-service-level",
        args(
            "erlang",
            "--volume",
            "10",
            "--aht",
            "180",
            "--service-level",
            "1.5",
            "--answer-within",
            "20",
        ),
        ("--service-level",),
    ),
    Case("import-missing", args("import", "curtois", "TMP/none.txt", "--out", "TMP/c"), ("none",)),
    Case(
        "forecast-history-date-format",
        args("forecast", "--history", "TMP/h.csv", "--out", "TMP/f", "--date-format", "%H"),
        ("bad date_format",),
    ),
]


def _declared_format_mismatch(tmp: Path) -> list[str]:
    sc = _scenario(tmp, absences=[("A1", "2026-12-08", "2026-12-08", "vacation")])
    _edit(
        sc,
        'absences = "data/absences.csv"',
        'absences = { path = "data/absences.csv", date_format = "%d/%m/%Y" }',
    )
    return ["roster", str(sc)]


def _symlinked_data(tmp: Path) -> list[str]:
    sc = _scenario(tmp)
    outside = tmp / "elsewhere.csv"
    outside.write_text(AGENTS_HEAD + "A1,Ana,t,C,voice:1,15\n", encoding="utf-8")
    (sc.parent / "data" / "agents.csv").unlink()
    (sc.parent / "data" / "agents.csv").symlink_to(outside)
    return ["roster", str(sc)]


def _preferences(tmp: Path, rows: str) -> list[str]:
    sc = _scenario(tmp, data_toml='preferences = "data/preferences.csv"\n')
    (sc.parent / "data" / "preferences.csv").write_text(
        "agent_id,date,kind,template,weight\n" + rows, encoding="utf-8"
    )
    return ["roster", str(sc)]


def _availability(tmp: Path, rows: str) -> list[str]:
    sc = _scenario(tmp, data_toml='availability = "data/availability.csv"\n')
    (sc.parent / "data" / "availability.csv").write_text(
        "agent_id,weekday,date,from,to\n" + rows, encoding="utf-8"
    )
    return ["roster", str(sc)]


def test_the_corpus_is_large_and_distinct() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) >= 60
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed_input_exits_2_with_a_clear_line(
    case: Case,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    for k, v in case.env:
        monkeypatch.setenv(k, v)
    argv = case.setup(tmp_path)
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2, err
    assert "Traceback" not in err and "internal error" not in err, err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 or "Error:" in err, err  # click's own usage errors say "Error:"
    for word in case.words:
        assert word.lower() in err.lower(), (word, err)
    leftovers = [p for p in tmp_path.parent.glob("escaped*")] + list(Path("/tmp").glob("escaped"))
    assert not leftovers


def test_a_subprocess_sees_one_line_and_exit_2(tmp_path: Path) -> None:
    """The installed entry point behaves the same outside the test process."""
    import subprocess
    import sys

    sc = tiny_scenario(tmp_path / "sc")
    _edit(sc, "absences =", "absenses =")
    proc = subprocess.run(
        [sys.executable, "-m", "staffplan", "run", str(sc), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "STAFFPLAN_DEBUG": ""},
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1, proc.stderr
    assert "data.absenses" in proc.stderr
    assert not (tmp_path / "o").exists()


def test_read_only_folder_is_found_before_the_solve(tmp_path: Path) -> None:
    """A folder without write permission (for a user who is not root) is exit 2 before solving."""
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders; /proc covers the case in the corpus")
    sc = tiny_scenario(tmp_path / "sc")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        with pytest.raises(SystemExit) as exit_info:
            main(["run", str(sc), "--out", str(ro / "out")])
        assert exit_info.value.code == 2
    finally:
        ro.chmod(0o755)
    shutil.rmtree(ro)
