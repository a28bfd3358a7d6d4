"""Read CSV/Parquet tables against a column spec, with errors that say where.

A ``Column`` names a column, its kind and its limits. ``read_table`` checks the
header, parses every cell and raises :class:`~staffplan.errors.InputError` on
the first bad cell with the file, the spreadsheet row number (header = row 1),
the column, what was expected, what was found and a hint.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from staffplan.errors import InputError

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


def read_raw(path: str | Path) -> pd.DataFrame:
    """Read a CSV or Parquet file as strings (CSV) without guessing types."""
    p = Path(path)
    if not p.exists():
        raise InputError(
            "file not found",
            file=p,
            hint="check the path (relative paths are resolved from the scenario file's folder)",
        )
    try:
        if p.suffix.lower() in {".parquet", ".pq"}:
            return pd.read_parquet(p)
        return pd.read_csv(p, dtype=str, keep_default_na=False, skipinitialspace=True, comment=None)
    except (ValueError, OSError, pd.errors.ParserError, ImportError) as exc:
        raise InputError(
            f"cannot read table: {exc}", file=p, hint="save it as UTF-8 CSV with a header row"
        ) from None


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


def parse_column(values: pd.Series, col: Column, path: Path, tz: str | None = None) -> pd.Series:
    """Parse one column of raw strings into the column's kind, or raise."""
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
        num = pd.to_numeric(
            s.astype(str).str.strip() if s.dtype == object or str(s.dtype).startswith("str") else s,
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
                s.iloc[i],
                col.hint,
            )
        if col.kind == "int":
            frac = (num.astype(float) % 1) != 0
            if frac.any():
                i = int(np.flatnonzero(frac.to_numpy())[0])
                raise _bad(path, i, col.name, "a whole number", s.iloc[i], col.hint)
            num = num.astype(np.int64)
        else:
            num = num.astype(float)
        if col.minimum is not None:
            low = num < col.minimum
            if low.any():
                i = int(np.flatnonzero(low.to_numpy())[0])
                raise _bad(path, i, col.name, f"a value >= {col.minimum:g}", s.iloc[i], col.hint)
        if col.maximum is not None:
            high = num > col.maximum
            if high.any():
                i = int(np.flatnonzero(high.to_numpy())[0])
                raise _bad(path, i, col.name, f"a value <= {col.maximum:g}", s.iloc[i], col.hint)
        return num
    if col.kind == "bool":
        low = s.astype(str).str.strip().str.lower()
        ok = low.isin(_TRUE | _FALSE)
        if not ok.all():
            i = int(np.flatnonzero((~ok).to_numpy())[0])
            raise _bad(path, i, col.name, "true/false (or 1/0, yes/no)", s.iloc[i], col.hint)
        return low.isin(_TRUE)
    if col.kind in ("timestamp", "date"):
        from staffplan.timegrid import TimestampParseError, parse_timestamps

        try:
            ts = parse_timestamps(s, tz)
        except TimestampParseError as exc:
            raise _bad(
                path,
                exc.index,
                col.name,
                "a date-time like 2026-12-07 08:30 (optionally with an offset)",
                s.iloc[exc.index],
                col.hint,
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
) -> pd.DataFrame:
    """Read ``path`` and return a frame with exactly the spec's columns, parsed.

    ``rename`` maps the file's header names to the spec's names (a scenario's
    column mapping). Extra columns are kept as strings after the spec's.
    Missing optional columns are filled with their default.
    """
    p = Path(path)
    raw = read_raw(p)
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
        out[col.name] = parse_column(series, col, p, tz)
    known = {lower.get(n.lower()) for c in columns for n in (c.name, *c.aliases)}
    for c in raw.columns:
        if c not in known:
            out[str(c)] = raw[c]
    return pd.DataFrame(out, index=raw.index).reset_index(drop=True)
