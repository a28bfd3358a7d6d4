from pathlib import Path

import pandas as pd
import pytest

from staffplan.errors import ScenarioError
from staffplan.pipeline import compare_table, fingerprint
from staffplan.roster.load import hires
from staffplan.scenario import load

ROOT = Path(__file__).resolve().parents[1]


def test_whatifs_inherit_and_override() -> None:
    base = load(ROOT / "scenarios/example/scenario.toml")
    peak = load(ROOT / "scenarios/peak-season/scenario.toml")
    tight = load(ROOT / "scenarios/tight-target/scenario.toml")
    flu = load(ROOT / "scenarios/flu-week/scenario.toml")
    hired = load(ROOT / "scenarios/peak-with-hires/scenario.toml")
    assert all(q.volume_multiplier == pytest.approx(1.2) for q in peak.queues)
    assert (tight.queue("voice").service_level, tight.queue("voice").answer_within_s) == (0.9, 15.0)
    assert tight.queue("chat") == base.queue("chat")
    assert flu.files("absences") == base.files("absences") and len(flu.files("absences_extra")) == 1
    assert all(q.volume_multiplier == pytest.approx(1.2) for q in hired.queues)
    new = hires(hired)
    assert [a.id for a in new] == [f"N{i:02d}" for i in range(1, 7)] and new[0].skills == ("voice",)
    assert hires(base) == ()


def test_fingerprint_changes_with_inputs(tmp_path: Path) -> None:
    base = load(ROOT / "scenarios/example/scenario.toml")
    assert fingerprint(base) == fingerprint(load(ROOT / "scenarios/example/scenario.toml"))
    assert fingerprint(base) != fingerprint(load(ROOT / "scenarios/peak-season/scenario.toml"))
    assert fingerprint(base, {"time_limit": 5}) != fingerprint(base, {"time_limit": 6})


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ('[[hires]]\ncount = 2\ncontract = "PT25"\n', "hires[0].skills"),
        (
            '[[hires]]\ncount = 2\ncontract = "PT25"\nskills = "voice"\ncolour = 1\n',
            "hires[0].colour",
        ),
        ('[[hires]]\ncount = "two"\ncontract = "PT25"\nskills = "voice"\n', "hires[0].count"),
    ],
)
def test_bad_hires_name_the_key(tmp_path: Path, table: str, key: str) -> None:
    p = tmp_path / "s.toml"
    example = ROOT / "scenarios/example/scenario.toml"
    p.write_text(f'root = "/"\nextends = "{example.as_posix()}"\n' + table)  # the repo's example
    with pytest.raises(ScenarioError) as exc:
        hires(load(p))
    assert exc.value.key == key


def test_compare_table_differences() -> None:
    a = {"scenario": "a", "paid_hours": 100.0, "service_level": 0.8}
    b = {"scenario": "b", "paid_hours": 120.0, "service_level": None}
    t = compare_table([a, b]).set_index("metric")
    assert t.loc["paid hours", "Δ b"] == pytest.approx(20.0)
    assert pd.isna(t.loc["service level (voice+chat, week)", "Δ b"])
    assert pd.isna(t.loc["cost", "a"])


def test_team_errors_name_file_row_and_column(tmp_path: Path) -> None:
    import shutil

    from staffplan.errors import InputError
    from staffplan.roster.load import load_problem

    folder = tmp_path / "ex"
    shutil.copytree(ROOT / "scenarios/example", folder)
    agents = folder / "data/agents.csv"
    lines = agents.read_text().splitlines()
    lines[6] = lines[6].replace(
        lines[6].split(",")[3], "FT99", 1
    )  # the 6th agent's contract (row 7)
    agents.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as exc:
        load_problem(
            load(folder / "scenario.toml"),
            pd.DataFrame(columns=["interval_start", "queue", "required"]),
        )
    assert (exc.value.row, exc.value.column, exc.value.found) == (7, "contract", "FT99")
    shutil.copy(ROOT / "scenarios/example/data/agents.csv", agents)
    (folder / "data/absences.csv").write_text(
        "agent_id,start,end,kind\nZ9,2026-12-08,2026-12-08,sick\n"
    )
    with pytest.raises(InputError, match="unknown agent in absences") as exc2:
        load_problem(
            load(folder / "scenario.toml"),
            pd.DataFrame(columns=["interval_start", "queue", "required"]),
        )
    assert exc2.value.found == "Z9" and "2026-12-08" in str(exc2.value)


def test_progress_lines_show_the_promised_service_level_of_the_summary(tmp_path: Path) -> None:
    """Each improving roster's line shows its promised week service level; the final roster's
    allocation, put through the same line, shows the summary's service level."""
    import re

    from tests.scenario_kit import tiny_scenario

    from staffplan.evaluate.kpis import week_promise
    from staffplan.pipeline import progress_line, run
    from staffplan.roster.solver import Incumbent

    lines: list[str] = []
    res = run(load(tiny_scenario(tmp_path / "sc")), deterministic=True, echo=lines.append)
    shown = [ln for ln in lines if ln.startswith("    roster ")]
    # during the solve the agents behind the heads are not known: an estimate, marked; shown
    # on the first line and on as many as 5 % of the solve's time allows
    assert shown and re.search(r"promised SL ≈ *\d+\.\d%", shown[0])
    assert all("promised SL ≈" in ln for ln in shown if "promised SL" in ln)
    meter = week_promise(res.problem, res.scenario)
    roster = res.outcome.roster
    line = progress_line(Incumbent(0.0, 0.0, 0.0, 0.0, 60, roster.allocation), meter)
    # the line shows the meter for the heads alone; with who stays and who moves the meter is
    # the summary's figure (one function)
    heads_only = meter.service_level(roster.allocation)
    assert heads_only is not None and f"promised SL ≈{heads_only:6.1%}" in line
    full = meter.service_level(roster.allocation, roster.stays, roster.moves)
    assert full == pytest.approx(res.summary["service_level"], abs=1e-6)  # 6 decimals
