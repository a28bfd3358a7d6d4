"""Read CSV/Parquet tables against a column spec, with errors that say where.

A ``Column`` names a column, its kind and its limits. ``read_table`` checks the
header, parses every cell and raises :class:`~staffplan.errors.InputError` on
the first bad cell with the file, the spreadsheet row number (header = row 1),
the column, what was expected, what was found and a hint.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from staffplan.errors import InputError
from staffplan.io.csv_cells import csv_unquote

Kind = Literal["str", "int", "float", "bool", "timestamp", "date", "time", "minutes_of_day"]

_TRUE = {"1", "true", "t", "yes", "y"}
_FALSE = {"0", "false", "f", "no", "n", ""}


@dataclass(frozen=True)
class Column:
    """One expected column.

    ``minimum``/``maximum`` bound numeric kinds (inclusive); ``choices`` limits
    strings; ``aliases`` are other accepted header names (case-insensitive).
    """

    name: str
    kind: Kind = "str"
    required: bool = True
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None
    aliases: tuple[str, ...] = field(default_factory=tuple)
    hint: str | None = None


SEPARATORS = (",", ";", "\t")


def sniff_separator(header: str) -> str:
    """The field separator of a CSV header line: the most frequent of ``,`` ``;`` and tab outside
    quotes (``,`` when none occurs).
    """
    counts = dict.fromkeys(SEPARATORS, 0)
    quoted = False
    for ch in header:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(SEPARATORS, key=lambda c: counts[c])
    return best if counts[best] else ","


def read_raw(path: str | Path) -> pd.DataFrame:
    """Read a table as strings without guessing types: CSV, Parquet or the first sheet of .xlsx.

    CSV may be separated by ``,``, ``;`` or tabs (found from the header line);
    in a ``;`` file a decimal comma (``19,07``) is read as a decimal point
    (``attrs["decimal_comma"]``). The text must be UTF-8 (a BOM is allowed).
    """
    from staffplan.io.spreadsheet import SPREADSHEET_SUFFIXES, read_sheet

    p = Path(path)
    if not p.exists():
        raise InputError(
            "file not found",
            file=p,
            hint="check the path (relative paths are resolved from the scenario file's folder)",
        )
    if p.is_dir():
        raise InputError("a folder, not a file", file=p, expected="a CSV, Parquet or .xlsx file")
    try:
        with open(p, "rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror or exc})", file=p) from None
    if p.suffix.lower() in SPREADSHEET_SUFFIXES or head == b"PK\x03\x04":
        return read_sheet(p)
    if p.suffix.lower() in {".parquet", ".pq"}:
        try:
            return pd.read_parquet(p)
        except (ValueError, OSError, ImportError) as exc:
            raise InputError(f"cannot read Parquet file: {exc}", file=p) from None
    data = p.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            "not UTF-8 text",
            file=p,
            row=line,
            expected="a UTF-8 CSV file (or an .xlsx workbook)",
            found=f"byte 0x{data[exc.start]:02x}",
            hint="save it as 'CSV UTF-8' (Excel: Save As > CSV UTF-8), or as .xlsx",
        ) from None
    if not text.strip():
        raise InputError("empty file", file=p, expected="a header row and data rows")
    sep = sniff_separator(text.splitlines()[0])
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            dtype=str,
            keep_default_na=False,
            skipinitialspace=True,
            comment=None,
        )
    except (ValueError, pd.errors.ParserError) as exc:
        raise InputError(
            f"cannot read table: {exc}",
            file=p,
            hint="save it as UTF-8 CSV with a header row (fields separated by , or ;)",
        ) from None
    for c in frame.columns:  # what csv_safe quoted on the way out
        if frame[c].str.startswith("'").any():
            frame[c] = frame[c].map(csv_unquote)
    frame.columns = [csv_unquote(c) for c in frame.columns]
    frame.attrs["decimal_comma"] = sep == ";"
    return frame


def _bad(
    path: Path, idx: int, col: str, expected: str, found: object, hint: str | None
) -> InputError:
    return InputError(
        "bad value",
        file=path,
        row=int(idx) + 2,
        column=col,
        expected=expected,
        found=found,
        hint=hint,
    )


def decimal_points(values: pd.Series) -> pd.Series:
    """``19,07`` -> ``19.07`` (a decimal comma, as ``;``-separated CSV from Excel writes it)."""
    text = values.astype(str).str.strip()
    comma = text.str.fullmatch(r"[+-]?\d*,\d+")
    return text.where(~comma, text.str.replace(",", ".", regex=False))


def parse_column(
    values: pd.Series,
    col: Column,
    path: Path,
    tz: str | None = None,
    *,
    decimal_comma: bool = False,
    date_format: str | None = None,
) -> pd.Series:
    """Parse one column of raw strings into the column's kind, or raise.

    ``decimal_comma`` reads ``19,07`` as 19.07; ``date_format`` (strptime)
    replaces ISO 8601 for dates and date-times.
    """
    s = values
    if col.kind == "str":
        out = s.astype(str).str.strip()
        if col.required:
            empty = out == ""
            if empty.any():
                i = int(np.flatnonzero(empty.to_numpy())[0])
                raise _bad(path, i, col.name, "a non-empty value", "", col.hint)
        if col.choices is not None:
            bad = ~out.isin(col.choices) & (out != "")
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                raise _bad(
                    path, i, col.name, "one of " + ", ".join(col.choices), out.iloc[i], col.hint
                )
        return out
    if col.kind in ("int", "float"):
        textual = s.dtype == object or str(s.dtype).startswith("str")
        if textual and decimal_comma:
            s = decimal_points(s)
        num = pd.to_numeric(
            s.astype(str).str.strip() if textual else s,
            errors="coerce",
        )
        bad = num.isna() | ~np.isfinite(num.astype(float))
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise _bad(
                path,
                i,
                col.name,
                "a number" if col.kind == "float" else "a whole number",
                values.iloc[i],
                col.hint,
            )
        if col.kind == "int":
            frac = (num.astype(float) % 1) != 0
            if frac.any():
                i = int(np.flatnonzero(frac.to_numpy())[0])
                raise _bad(path, i, col.name, "a whole number", values.iloc[i], col.hint)
            num = num.astype(np.int64)
        else:
            num = num.astype(float)
        if col.minimum is not None:
            low = num < col.minimum
            if low.any():
                i = int(np.flatnonzero(low.to_numpy())[0])
                raise _bad(
                    path, i, col.name, f"a value >= {col.minimum:g}", values.iloc[i], col.hint
                )
        if col.maximum is not None:
            high = num > col.maximum
            if high.any():
                i = int(np.flatnonzero(high.to_numpy())[0])
                raise _bad(
                    path, i, col.name, f"a value <= {col.maximum:g}", values.iloc[i], col.hint
                )
        return num
    if col.kind == "bool":
        low = s.astype(str).str.strip().str.lower()
        ok = low.isin(_TRUE | _FALSE)
        if not ok.all():
            i = int(np.flatnonzero((~ok).to_numpy())[0])
            raise _bad(path, i, col.name, "true/false (or 1/0, yes/no)", values.iloc[i], col.hint)
        return low.isin(_TRUE)
    if col.kind in ("timestamp", "date"):
        from staffplan.timegrid import TimestampParseError, parse_timestamps

        try:
            ts = parse_timestamps(s, tz, date_format)
        except TimestampParseError as exc:
            raise _bad(
                path,
                exc.index,
                col.name,
                exc.expected,
                values.iloc[exc.index],
                exc.hint or col.hint,
            ) from None
        if col.kind == "date":
            return ts.dt.normalize()
        return ts
    if col.kind in ("time", "minutes_of_day"):
        out = []
        for i, v in enumerate(s.astype(str).str.strip()):
            m = parse_clock(v)
            if m is None:
                raise _bad(path, i, col.name, "a clock time HH:MM (00:00-48:00)", v, col.hint)
            out.append(m)
        return pd.Series(out, index=s.index, dtype=np.int64)
    raise AssertionError(col.kind)


def parse_clock(text: str) -> int | None:
    """Minutes after midnight for ``HH:MM`` (24:00-48:00 allowed for the next day), else None."""
    parts = text.split(":")
    if len(parts) not in (2, 3) or not all(p.strip().isdigit() for p in parts):
        return None
    h, m = int(parts[0]), int(parts[1])
    if m >= 60 or h > 48 or (h == 48 and m > 0):
        return None
    return h * 60 + m


def read_table(
    path: str | Path,
    columns: Sequence[Column],
    *,
    tz: str | None = None,
    rename: dict[str, str] | None = None,
    what: str = "table",
    date_format: str | None = None,
) -> pd.DataFrame:
    """Read ``path`` and return a frame with exactly the spec's columns, parsed.

    ``rename`` maps the file's header names to the spec's names (a scenario's
    column mapping). Extra columns are kept as strings after the spec's.
    Missing optional columns are filled with their default. ``date_format``
    (strptime, e.g. ``%d/%m/%Y``) replaces ISO 8601 for date and timestamp
    columns.
    """
    p = Path(path)
    raw = read_raw(p)
    decimal_comma = bool(raw.attrs.get("decimal_comma", False))
    if rename:
        raw = raw.rename(columns=rename)
    lower = {str(c).strip().lower(): c for c in raw.columns}
    out: dict[str, pd.Series] = {}
    for col in columns:
        names = (col.name, *col.aliases)
        src = next((lower[n.lower()] for n in names if n.lower() in lower), None)
        if src is None:
            if col.required:
                raise InputError(
                    f"{what} has no column '{col.name}'",
                    file=p,
                    row=1,
                    expected="a header with " + ", ".join(c.name for c in columns if c.required),
                    found=", ".join(map(str, raw.columns)),
                    hint=col.hint or "check the header row's spelling",
                )
            out[col.name] = pd.Series([col.default] * len(raw), index=raw.index, dtype=object)
            continue
        series = raw[src]
        if not col.required and col.default is not None and col.kind != "str":
            series = series.where(series.astype(str).str.strip() != "", str(col.default))
        out[col.name] = parse_column(
            series, col, p, tz, decimal_comma=decimal_comma, date_format=date_format
        )
    known = {lower.get(n.lower()) for c in columns for n in (c.name, *c.aliases)}
    for c in raw.columns:
        if c not in known:
            out[str(c)] = raw[c]
    return pd.DataFrame(out, index=raw.index).reset_index(drop=True)
