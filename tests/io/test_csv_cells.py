"""CSV injection: formula-like text is quoted on the way out and read back unchanged; numbers
(negative ones too) stay numbers.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from staffplan.io.atomic import write_csv
from staffplan.io.tables import read_raw

EVIL = '=HYPERLINK("http://example.com","click")'
# OWASP's trigger characters (https://owasp.org/www-community/attacks/CSV_Injection)
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def cells(path: Path) -> list[list[str]]:
    """The raw cells a spreadsheet program sees."""
    return list(csv.reader(io.StringIO(path.read_text(), newline="")))


def test_text_that_starts_a_formula_is_quoted_and_numbers_are_not(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "name": [EVIL, "+34 600 000 000", "@SUM(A1)", "-2+3", "Ana", "\tx", "-2"],
            "difference": [-2, 3, -1, 0, 1, 2, -7],
            "note": ["-1.5", "+3", "1e3", "-", "'=x", "", "=1+1"],
        }
    )
    path = write_csv(tmp_path / "out.csv", frame)
    rows = cells(path)
    assert rows[0] == ["name", "difference", "note"]
    assert [r[0] for r in rows[1:]] == [
        "'" + EVIL,
        "'+34 600 000 000",
        "'@SUM(A1)",
        "'-2+3",
        "Ana",
        "'\tx",
        "-2",  # a number written as text stays a number
    ]
    assert [r[1] for r in rows[1:]] == ["-2", "3", "-1", "0", "1", "2", "-7"]
    assert [r[2] for r in rows[1:]] == ["-1.5", "+3", "1e3", "'-", "''=x", "", "'=1+1"]
    for r in rows[1:]:
        assert not any(c.startswith(TRIGGERS) and not _number(c) for c in r)
    assert frame["name"].iloc[0] == EVIL  # the caller's frame is left alone


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip() == text and text.lower().lstrip("+-") not in ("inf", "nan", "infinity")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="=+-@'\t\rab1.", max_size=6), min_size=1, max_size=8))
def test_every_text_cell_reads_back_as_written(
    tmp_path_factory: pytest.TempPathFactory, values: list[str]
) -> None:
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(len(values))], "text": values})
    path = write_csv(tmp_path_factory.mktemp("csv") / "t.csv", frame)
    assert read_raw(path)["text"].tolist() == values
    assert not any(c.startswith(TRIGGERS) and not _number(c) for r in cells(path) for c in r)
