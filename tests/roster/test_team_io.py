"""Team file readers: parsing and errors that name file, row, column, expected and found."""

from __future__ import annotations

from pathlib import Path

import pytest

from staffplan.errors import InputError
from staffplan.io.team import read_absences, read_agents, read_contracts, read_shifts


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
