"""Team file readers: parsing and errors that name file, row, column, expected and found."""

from __future__ import annotations

from pathlib import Path

import pytest

from staffplan.errors import InputError
from staffplan.io.team import (
    read_absences,
    read_agents,
    read_availability,
    read_contracts,
    read_shifts,
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_agents_skills_in_priority_order(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "agents.csv",
        "agent_id,name,team,contract,skills\nB,b,t,C,chat:2|voice:1\nA,a,t,C,email\n",
    )
    agents = read_agents(p)
    assert [a.id for a in agents] == ["A", "B"]
    assert agents[1].skills == ("voice", "chat") and agents[1].hourly_cost == 0


def test_duplicate_agent_is_an_error_with_row(tmp_path: Path) -> None:
    p = write(
        tmp_path, "agents.csv", "agent_id,name,team,contract,skills\nA,a,t,C,voice\nA,b,t,C,voice\n"
    )
    with pytest.raises(InputError) as exc:
        read_agents(p)
    assert exc.value.row == 3 and exc.value.column == "agent_id"


def test_contracts_optional_columns(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "contracts.csv",
        "contract,min_minutes_week,max_minutes_week,max_days_week,max_consecutive_days,max_weekends,templates,max_shifts\nC,0,2400,5,5,,E|L,E=3|L=2\n",
    )
    (c,) = read_contracts(p)
    assert (
        c.max_weekends is None
        and c.templates == ("E", "L")
        and dict(c.max_shifts) == {"E": 3, "L": 2}
    )
    assert c.min_consecutive_days == 1 and c.min_rest_hours == 0


def test_contract_minimum_above_maximum(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "contracts.csv",
        "contract,min_minutes_week,max_minutes_week,max_days_week,max_consecutive_days\nC,3000,2400,5,5\n",
    )
    with pytest.raises(InputError) as exc:
        read_contracts(p)
    assert exc.value.row == 2 and exc.value.column == "min_minutes_week"


def test_shift_breaks_and_paid_minutes(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "shifts.csv",
        "template,earliest_start,latest_start,start_step_min,length_min,breaks\nD,08:00,09:00,30,510,lunch:30:unpaid:180-300|coffee:15:paid:60-150\n",
    )
    (t,) = read_shifts(p)
    assert (
        t.starts() == (480, 510, 540)
        and t.paid_minutes == 480
        and [b.name for b in t.breaks] == ["coffee", "lunch"]
    )


@pytest.mark.parametrize(
    ("breaks", "column"),
    [
        ("lunch:30:free:180-300", "breaks"),
        ("lunch:30:unpaid:300-180", "breaks"),
        ("lunch:30:unpaid:180-500", "breaks"),
    ],
)
def test_bad_breaks(tmp_path: Path, breaks: str, column: str) -> None:
    p = write(
        tmp_path,
        "shifts.csv",
        f"template,earliest_start,latest_start,start_step_min,length_min,breaks\nD,08:00,09:00,30,510,{breaks}\n",
    )
    with pytest.raises(InputError) as exc:
        read_shifts(p)
    assert exc.value.row == 2 and exc.value.column == column


def test_shift_start_at_midnight_or_later_is_refused(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "shifts.csv",
        "template,earliest_start,latest_start,start_step_min,length_min\nN,22:00,24:00,60,480\n",
    )
    with pytest.raises(InputError) as exc:
        read_shifts(p)
    assert exc.value.column == "latest_start"


def test_absence_date_end_is_inclusive(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "absences.csv",
        "agent_id,start,end,kind\nA,2026-12-08,2026-12-09,vacation\nA,2026-12-10 "
        "10:00,2026-12-10 12:00,training\n",
    )
    a, b = read_absences((p,), "Europe/Madrid")
    assert str(a.end) == "2026-12-10 00:00:00+01:00" and b.kind == "training"


def test_absence_bad_kind(tmp_path: Path) -> None:
    p = write(
        tmp_path, "absences.csv", "agent_id,start,end,kind\nA,2026-12-08,2026-12-09,holiday\n"
    )
    with pytest.raises(InputError) as exc:
        read_absences((p,), "UTC")
    assert exc.value.column == "kind" and exc.value.found == "holiday"


def test_declared_date_format_reads_day_first_with_an_inclusive_end(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "absences.csv",
        "agent_id,start,end,kind\nA,01/12/2026,02/12/2026,vacation\nB,03/12/2026 09:00,"
        "03/12/2026 11:30,training\n",
    )
    a, b = read_absences((p,), "Europe/Madrid", {p: "%d/%m/%Y %H:%M"})
    assert (str(a.start), str(a.end)) == ("2026-12-01 00:00:00+01:00", "2026-12-03 00:00:00+01:00")
    assert (str(b.start), str(b.end)) == ("2026-12-03 09:00:00+01:00", "2026-12-03 11:30:00+01:00")
    with pytest.raises(InputError, match="could be 1 December or 12 January"):
        read_absences((p,), "Europe/Madrid")  # undeclared: never guessed month-first


def test_rows_outside_the_horizon_warn_instead_of_vanishing(tmp_path: Path) -> None:
    from tests.scenario_kit import tiny_scenario

    from staffplan.errors import StaffplanWarning
    from staffplan.pipeline import requirements_for
    from staffplan.roster.load import load_problem
    from staffplan.scenario import load

    sc = tiny_scenario(
        tmp_path / "sc",
        absences=[
            ("A1", "2026-01-12", "2026-01-12", "vacation"),  # 01/12 read month-first
            ("A2", "2026-12-08", "2026-12-08", "sick"),
        ],
        data_toml='preferences = "data/preferences.csv"\n',
    )
    write(
        sc.parent / "data",
        "preferences.csv",
        "agent_id,date,kind,template,weight\nA3,2026-12-20,off,,5\nA3,2026-12-09,off,,5\n",
    )
    scenario = load(sc)
    with pytest.warns(StaffplanWarning) as caught:
        problem = load_problem(scenario, requirements_for(scenario))
    texts = [str(w.message) for w in caught]
    assert any("absences.csv" in t and "A1 2026-01-12" in t for t in texts), texts
    assert any("preferences.csv" in t and "A3 2026-12-20" in t for t in texts), texts
    assert not any("A2" in t for t in texts)
    assert len(problem.absences) == 2 and len(problem.preferences) == 2  # nothing dropped silently


def test_team_files_in_semicolon_csv_and_xlsx_load_into_the_same_problem(tmp_path: Path) -> None:
    from openpyxl import Workbook
    from tests.scenario_kit import AGENTS, tiny_scenario

    from staffplan.pipeline import requirements_for
    from staffplan.roster.load import load_problem
    from staffplan.scenario import load

    plain = tiny_scenario(tmp_path / "plain")
    semi = tiny_scenario(tmp_path / "semi")
    head = "agent_id;name;team;contract;skills;hourly_cost"
    rows = [";".join(str(c) for c in a[:5]) + ";15,5" for a in AGENTS]
    (semi.parent / "data" / "agents.csv").write_text("\n".join([head, *rows]) + "\n")
    sheet = tiny_scenario(tmp_path / "sheet")
    wb = Workbook()
    wb.active.append(head.split(";"))
    for a in AGENTS:
        wb.active.append([*a[:5], 15.5])
    wb.save(sheet.parent / "data" / "agents.xlsx")
    text = sheet.read_text().replace("data/agents.csv", "data/agents.xlsx")
    sheet.write_text(text)
    (plain.parent / "data" / "agents.csv").write_text(
        "\n".join(
            [head.replace(";", ","), *(r.replace(";", ",").replace(",15,5", ",15.5") for r in rows)]
        )
        + "\n"
    )
    scenarios = [load(p) for p in (plain, semi, sheet)]
    agents = [load_problem(s, requirements_for(s)).agents for s in scenarios]
    assert agents[0][0].hourly_cost == 15.5
    assert agents[1] == agents[0] and agents[2] == agents[0]


def test_availability_blank_window_is_a_day_without_starts(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "availability.csv",
        "agent_id,weekday,date,from,to\nA,,2026-12-08,,\nA,Mon,,08:00,30:00\n",
    )
    tue, mon = read_availability(p)  # date rows sort first
    assert (mon.weekday, mon.from_min, mon.to_min, mon.day_off) == (0, 480, 1800, False)
    assert (str(tue.date), tue.day_off) == ("2026-12-08", True)


@pytest.mark.parametrize(
    ("row", "column", "found"),
    [("A,Mon,,08:00,", "to", ""), ("A,Mon,,,16:00", "from", ""), ("A,Mon,,8h,16:00", "from", "8h")],
)
def test_availability_half_blank_or_bad_window(
    tmp_path: Path, row: str, column: str, found: str
) -> None:
    p = write(tmp_path, "availability.csv", f"agent_id,weekday,date,from,to\n{row}\n")
    with pytest.raises(InputError) as exc:
        read_availability(p)
    assert (exc.value.row, exc.value.column, exc.value.found) == (2, column, found)
