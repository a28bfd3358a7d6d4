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
