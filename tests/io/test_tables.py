from pathlib import Path

import pytest

from staffplan.errors import InputError
from staffplan.io.atomic import write_csv, write_text
from staffplan.io.tables import Column, read_table

SPEC = [
    Column("agent_id"),
    Column("hours", "float", minimum=0),
    Column("days", "int", maximum=7),
    Column("remote", "bool", required=False, default=False),
    Column("start", "time", required=False, default="08:00"),
]


def test_reads_and_parses(tmp_path: Path) -> None:
    p = write_text(
        tmp_path / "a.csv",
        "agent_id,hours,days,remote,start\nA1,37.5,5,yes,08:30\nA2, 20,3,0,24:00\n",
    )
    df = read_table(p, SPEC)
    assert list(df["hours"]) == [37.5, 20.0]
    assert list(df["days"]) == [5, 3]
    assert list(df["remote"]) == [True, False]
    assert list(df["start"]) == [510, 1440]


@pytest.mark.parametrize(
    ("body", "row", "col", "expected"),
    [
        ("A1,-1,5\n", 2, "hours", ">= 0"),
        ("A1,1,5\nA2,x,5\n", 3, "hours", "a number"),
        ("A1,1,8\n", 2, "days", "<= 7"),
        ("A1,1,2.5\n", 2, "days", "whole number"),
        (",1,2\n", 2, "agent_id", "non-empty"),
    ],
)
def test_bad_cells_name_row_and_column(
    tmp_path: Path, body: str, row: int, col: str, expected: str
) -> None:
    p = write_text(tmp_path / "a.csv", "agent_id,hours,days\n" + body)
    with pytest.raises(InputError) as exc:
        read_table(p, SPEC)
    assert exc.value.row == row and exc.value.column == col
    assert expected in str(exc.value) and "a.csv" in str(exc.value)


def test_missing_column_and_file(tmp_path: Path) -> None:
    p = write_text(tmp_path / "a.csv", "agent_id,days\nA1,5\n")
    with pytest.raises(InputError, match="no column 'hours'"):
        read_table(p, SPEC)
    with pytest.raises(InputError, match="file not found"):
        read_table(tmp_path / "missing.csv", SPEC)


def test_atomic_write_replaces_whole_file_and_leaves_no_temp(tmp_path: Path) -> None:
    import pandas as pd

    target = tmp_path / "out" / "x.csv"
    write_csv(target, pd.DataFrame({"a": [1, 2]}))
    write_csv(target, pd.DataFrame({"a": [3]}))
    assert target.read_text() == "a\n3\n"
    assert [p.name for p in target.parent.iterdir()] == ["x.csv"]


def test_atomic_write_failure_keeps_old_file(tmp_path: Path) -> None:
    from staffplan.io.atomic import atomic_path

    target = write_text(tmp_path / "x.txt", "old")
    with pytest.raises(RuntimeError), atomic_path(target, "w") as fh:
        fh.write("new")
        raise RuntimeError("crash mid-write")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.txt"]


AGENT_ROWS = [
    ["A1", "Ana", "t", "C", "voice:1|chat:2", "19.07"],
    ["A2", "Bo", "t", "C", "chat", "16"],
]
AGENT_HEAD = ["agent_id", "name", "team", "contract", "skills", "hourly_cost"]


def _team_forms(tmp_path: Path) -> list[Path]:
    from openpyxl import Workbook

    comma = write_text(
        tmp_path / "comma.csv",
        "\n".join(",".join(r) for r in [AGENT_HEAD, *AGENT_ROWS]) + "\n",
    )
    # Excel in many locales: ';' between fields, a decimal comma, a BOM, CRLF line ends
    semi_rows = [[c.replace(".", ",") for c in r] for r in AGENT_ROWS]
    semi = tmp_path / "semi.csv"
    semi.write_bytes(
        b"\xef\xbb\xbf"
        + "\r\n".join(";".join(r) for r in [AGENT_HEAD, *semi_rows]).encode("utf-8")
        + b"\r\n"
    )
    tab = write_text(
        tmp_path / "tab.txt", "\n".join("\t".join(r) for r in [AGENT_HEAD, *AGENT_ROWS]) + "\n"
    )
    wb = Workbook()
    wb.active.append(AGENT_HEAD)
    for r in AGENT_ROWS:
        wb.active.append([*r[:5], float(r[5])])
    wb.save(tmp_path / "sheet.xlsx")
    return [comma, semi, tab, tmp_path / "sheet.xlsx"]


def test_team_files_read_the_same_from_comma_semicolon_tab_csv_and_xlsx(tmp_path: Path) -> None:
    from staffplan.io.team import read_agents

    forms = [read_agents(p) for p in _team_forms(tmp_path)]
    assert forms[0][0].hourly_cost == 19.07 and forms[0][0].skills == ("voice", "chat")
    assert all(f == forms[0] for f in forms[1:])


def test_a_workbook_saved_as_csv_name_is_still_read_as_a_workbook(tmp_path: Path) -> None:
    from staffplan.io.team import read_agents

    xlsx = _team_forms(tmp_path)[3]
    disguised = tmp_path / "agents.csv"
    disguised.write_bytes(xlsx.read_bytes())
    assert read_agents(disguised) == read_agents(xlsx)


def test_decimal_comma_only_in_semicolon_files(tmp_path: Path) -> None:
    p = write_text(tmp_path / "a.csv", 'agent_id,hours,days\nA1,"37,5",5\n')
    with pytest.raises(InputError, match="a number"):
        read_table(p, SPEC[:3])
