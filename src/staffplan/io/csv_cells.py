"""CSV cells that a spreadsheet program opens as data, never as a formula (CSV injection).

Every CSV staffplan writes goes through :func:`csv_safe`. A column of numbers
is left alone (a difference of ``-2`` stays the number -2). In a text column a
cell that a spreadsheet would read as a formula — it starts with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return and is not a plain number — gets a
leading single quote, as OWASP recommends: an agent named ``=HYPERLINK(...)``
is written ``'=HYPERLINK(...)``. A cell that already starts with quotes before
such a character gets one more, so :func:`csv_unquote` (which every CSV reader
applies, :func:`staffplan.io.tables.read_raw`) gives back exactly what was
written: roster.csv round-trips.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

#: first characters that make a spreadsheet program read a cell as a formula (OWASP)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def needs_quote(text: str) -> bool:
    """True if ``text`` (after any leading quotes) could start a formula and is not a number."""
    bare = text.lstrip("'")
    return bare.startswith(FORMULA_STARTS) and _NUMBER.fullmatch(bare) is None


def _quote(value: Any) -> Any:
    return "'" + value if isinstance(value, str) and needs_quote(value) else value


def csv_unquote(value: Any) -> Any:
    """The cell as it was before :func:`csv_safe` (a no-op on any other cell)."""
    if isinstance(value, str) and value.startswith("'") and needs_quote(value[1:]):
        return value[1:]
    return value


def _is_text(s: pd.Series) -> bool:
    return not (
        pd.api.types.is_numeric_dtype(s.dtype)
        or pd.api.types.is_datetime64_any_dtype(s.dtype)
        or isinstance(s.dtype, pd.CategoricalDtype | pd.PeriodDtype | pd.IntervalDtype)
    )


def has_carriage_return(frame: pd.DataFrame) -> bool:
    """True if a text cell holds a CR (the csv module writes it unquoted, splitting the row)."""
    for k in range(frame.shape[1]):
        s = frame.iloc[:, k]
        if _is_text(s) and s.map(lambda v: isinstance(v, str) and "\r" in v).any():
            return True
    return False


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with formula-like text cells quoted; numeric columns untouched (a copy when
    something changed).
    """
    out = frame
    for k in range(frame.shape[1]):
        s = frame.iloc[:, k]
        if not _is_text(s):
            continue
        safe = s.map(_quote)
        if not safe.equals(s):
            if out is frame:
                out = frame.copy()
            out.iloc[:, k] = safe
    if isinstance(frame.columns, pd.Index) and frame.columns.dtype == object:
        header = [_quote(c) for c in frame.columns]
        if header != list(frame.columns):
            out = out.copy() if out is frame else out
            out.columns = header
    return out
