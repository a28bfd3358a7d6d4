"""``staffplan run`` / ``compare`` outputs: one run per folder, shareable, never clobbering."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from tests.scenario_kit import AGENTS, tiny_scenario

from staffplan.cli import cli

EVIL = '=HYPERLINK("http://example.com","click")'


def invoke(*argv: str) -> dict:
    """``staffplan`` with JSON output; rosters within deterministic limits (the same on a busy
    machine)."""
    result = CliRunner().invoke(cli, [*argv, "--deterministic", "--quiet", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_rerun_replaces_the_folder_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fewer agents the second time: their calendars go; no temp files; the umask is followed."""
    monkeypatch.chdir(tmp_path)
    old = os.umask(0o022)
    try:
        big = tiny_scenario(tmp_path / "big", name="week")
        invoke("run", str(big), "--out", "out/week")
        assert sorted(p.name for p in (tmp_path / "out" / "week" / "calendars").iterdir()) == [
            "A1.ics",
            "A2.ics",
            "A3.ics",
            "A4.ics",
        ]
        small = tiny_scenario(tmp_path / "small", name="week", agents=AGENTS[:2])
        invoke("run", str(small), "--out", "out/week")
    finally:
        os.umask(old)
    out = tmp_path / "out" / "week"
    assert sorted(p.name for p in (out / "calendars").iterdir()) == ["A1.ics", "A2.ics"]
    assert set(pd.read_csv(out / "roster.csv")["agent_id"]) <= {"A1", "A2"}
    assert json.loads((out / "summary.json").read_text())["agents"] == 2
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["week"]  # nothing hidden
    hidden = [p for p in out.rglob(".*")]
    assert hidden == []
    for p in out.rglob("*"):
        want = 0o755 if p.is_dir() else 0o644
        assert stat.S_IMODE(p.stat().st_mode) == want, p


def test_compare_leaves_an_earlier_run_that_another_scenario_reads_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    base = tiny_scenario(tmp_path / "base", name="base")
    invoke("run", str(base))  # out/base/, the published week
    earlier = (tmp_path / "out" / "base" / "roster.csv").read_bytes()
    nxt = tiny_scenario(
        tmp_path / "next",
        name="next",
        data_toml=f'previous_roster = "{(tmp_path / "out" / "base" / "roster.csv").as_posix()}"\n',
    )
    (nxt.parent / "scenario.toml").write_text(
        'root = ".."\n' + nxt.read_text().replace("start = 2026-12-07", "start = 2026-12-14")
    )  # root: the previous roster lies in out/, beside the scenario's folder
    doc = invoke(
        "compare", str(base), str(nxt), "--seed", "1", "--time-limit", "1", "--deterministic"
    )
    assert (tmp_path / "out" / "base" / "roster.csv").read_bytes() == earlier
    outs = sorted(Path(s["out"]).as_posix() for s in doc["scenarios"])
    assert outs == ["out/compare/base", "out/compare/next"]
    for s in doc["scenarios"]:
        assert (tmp_path / s["out"] / "report.html").exists()


def test_agent_names_never_become_formulas_in_roster_xlsx(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    agents = [(AGENTS[0][0], EVIL, "+team", *AGENTS[0][3:]), *AGENTS[1:]]
    sc = tiny_scenario(tmp_path / "sc", agents=agents)
    invoke("run", str(sc), "--out", "out")
    book = load_workbook(tmp_path / "out" / "roster.xlsx")
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
    assert not [c for c in cells if c.data_type == "f"]
    names = [c for c in cells if c.value == EVIL]
    assert names and all(c.data_type == "s" and c.quotePrefix for c in names)


def test_csv_outputs_quote_formulas_keep_numbers_and_read_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OWASP CSV injection: names are quoted text in roster.csv; negative differences in
    coverage.csv stay numbers; read_roster_csv gives the names back as they were."""
    import csv

    from staffplan.io.roster_csv import read_roster_csv

    monkeypatch.chdir(tmp_path)
    agents = [(a[0], f"{EVIL} {a[0]}", "@team", *a[3:]) for a in AGENTS]
    sc = tiny_scenario(tmp_path / "sc", agents=agents)
    invoke("run", str(sc), "--out", "out")
    with open(tmp_path / "out" / "roster.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and all(r["name"] == f"'{EVIL} {r['agent_id']}" for r in rows)
    assert all(r["paid_minutes"].isdigit() for r in rows)
    back = read_roster_csv(tmp_path / "out" / "roster.csv")
    assert set(back["name"]) <= {f"{EVIL} {a[0]}" for a in AGENTS}
    with open(tmp_path / "out" / "coverage.csv", newline="") as fh:
        diffs = [r["difference"] for r in csv.DictReader(fh)]
    assert any(d.startswith("-") for d in diffs)  # under-covered intervals
    assert all(float(d) == float(d.lstrip("'")) and not d.startswith("'") for d in diffs)
    with open(tmp_path / "out" / "agents.csv", newline="") as fh:
        assert {r["team"] for r in csv.DictReader(fh)} == {"'@team"}
