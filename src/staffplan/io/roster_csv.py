"""The roster.csv contract: its columns, cells as text, reading it, and change logs between two
rosters (one row per changed agent-day, in words for people).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from staffplan.errors import InputError, StoreError

#: Columns every stored roster must have (the roster.csv contract).
ROSTER_COLUMNS: tuple[str, ...] = (
    "agent_id",
    "name",
    "date",
    "day",
    "shift",
    "start",
    "end",
    "paid_minutes",
    "breaks",
    "queues",
)
#: Every column the engine writes, in order: the contract's and ``activities`` (trainings and
#: meetings; optional when a roster is read).
WRITTEN_COLUMNS: tuple[str, ...] = (*ROSTER_COLUMNS, "activities")


#: Columns of a hard-rule violation (``staffplan.roster.validate``), as stored with a version.
VIOLATION_COLUMNS: tuple[str, ...] = ("agent_id", "date", "rule", "found", "allowed")


#: Columns of a change log frame, in order.
CHANGE_COLUMNS: tuple[str, ...] = (
    "agent_id",
    "date",
    "action",
    "old_shift",
    "old_start",
    "old_end",
    "new_shift",
    "new_start",
    "new_end",
    "old_queues",
    "new_queues",
    "reason",
    "old_breaks",
    "new_breaks",
    "old_assignments",
    "new_assignments",
)


#: Roster columns compared by :func:`diff_rosters` (``assignments`` is optional: blank when a
#: roster lacks it).
DIFF_FIELDS: tuple[str, ...] = ("shift", "start", "end", "queues", "breaks", "assignments")


#: Change actions: ``added`` (a shift where there was none), ``removed``, ``changed`` (time,
#: shift, breaks or queues).
ACTIONS: tuple[str, ...] = ("added", "removed", "changed")


def cell_text(value: Any) -> str:
    """A roster cell as stored text: timestamps ISO 8601, whole floats without ``.0``, blanks for
    NA.
    """
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    with contextlib.suppress(TypeError, ValueError):
        if pd.isna(value):
            return ""
    if hasattr(value, "item"):  # numpy scalars
        return cell_text(value.item())
    return str(value)


def roster_as_text(roster: pd.DataFrame, *, file: str | Path | None = None) -> pd.DataFrame:
    """Check a roster frame against the roster.csv contract and turn every cell into text.

    Raises :class:`InputError` for a missing column, a blank agent or date, an
    unparseable date, or an agent with two rows on one date.
    """
    missing = [c for c in ROSTER_COLUMNS if c not in roster.columns]
    if missing:
        raise InputError(
            "roster has missing columns",
            file=file,
            row=1,
            column=missing[0],
            expected="the roster.csv columns " + ", ".join(ROSTER_COLUMNS),
            found=", ".join(map(str, roster.columns)),
            hint="publish a roster.csv written by 'staffplan roster'",
        )
    cols = [*ROSTER_COLUMNS, *(str(c) for c in roster.columns if c not in ROSTER_COLUMNS)]
    text = pd.DataFrame({c: [cell_text(v) for v in roster[c].tolist()] for c in cols}, dtype=object)
    blank = text["agent_id"].map(lambda a: not a.strip())
    if blank.any():
        i = int(blank.to_numpy().nonzero()[0][0])
        raise InputError(
            "blank agent",
            file=file,
            row=i + 2,
            column="agent_id",
            expected="an agent id",
            found=text.loc[i, "agent_id"],
        )
    dates = text["date"].map(lambda d: d[:10])
    bad = pd.to_datetime(dates, format="%Y-%m-%d", errors="coerce").isna()
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        raise InputError(
            "bad date",
            file=file,
            row=i + 2,
            column="date",
            expected="a date YYYY-MM-DD",
            found=text.loc[i, "date"],
        )
    text["date"] = dates.astype(object)
    dup = text.duplicated(["agent_id", "date"], keep="first")
    if dup.any():
        i = int(dup.to_numpy().nonzero()[0][0])
        raise InputError(
            "two shifts for one agent on one day",
            file=file,
            row=i + 2,
            column="date",
            expected="one row per agent and date",
            found=f"{text.loc[i, 'agent_id']} {text.loc[i, 'date']}",
        )
    return text


def read_roster_csv(path: str | Path) -> pd.DataFrame:
    """Read a roster.csv as text (no type guessing), validated against the contract."""
    from staffplan.io.tables import read_raw

    raw = read_raw(path)
    return roster_as_text(raw.astype(object).where(raw.notna(), ""), file=path)


def _clock(iso: str) -> str:
    """``HH:MM`` of an ISO 8601 time (or the text unchanged if it is not one)."""
    try:
        return dt.datetime.fromisoformat(iso).strftime("%H:%M")
    except ValueError:
        return iso


def describe(shift: str, start: str, end: str) -> str:
    """A change log side in words, e.g. ``E 07:00-15:00`` (``off`` for no shift)."""
    return f"{shift} {_clock(start)}-{_clock(end)}" if shift or start else "off"


def diff_rosters(old: pd.DataFrame, new: pd.DataFrame, reason: str = "") -> pd.DataFrame:
    """The change log from roster ``old`` to ``new`` (text frames), one row per changed agent-day.

    An agent-day is changed when its shift, start, end, queues, breaks or
    queue assignments (optional ``assignments`` column, blank when missing)
    differ. Rows are sorted by the earliest affected time, then agent.
    """
    key = ["agent_id", "date"]
    fields = list(DIFF_FIELDS)

    def side(frame: pd.DataFrame, prefix: str) -> pd.DataFrame:
        f = frame.assign(**{c: "" for c in fields if c not in frame.columns})
        return f[[*key, *fields]].rename(columns={c: f"{prefix}_{c}" for c in fields})

    m = side(old, "old").merge(side(new, "new"), on=key, how="outer", indicator="side")
    m["side"] = m["side"].astype(str)
    m = m.astype(object).fillna("")
    rows = []
    for r in m.to_dict(orient="records"):
        if r["side"] == "left_only":
            action = "removed"
        elif r["side"] == "right_only":
            action = "added"
        elif any(r[f"old_{c}"] != r[f"new_{c}"] for c in fields):
            action = "changed"
        else:
            continue
        first = min((t for t in (r["old_start"], r["new_start"]) if t), default=r["date"])
        rows.append(
            {
                **{c: r[c] for c in CHANGE_COLUMNS if c in r},
                "action": action,
                "reason": reason,
                "_first": _utc_key(first),
            }
        )
    out = pd.DataFrame(rows, columns=[*CHANGE_COLUMNS, "_first"])
    out = (
        out.sort_values(["_first", "agent_id"], kind="stable")
        .drop(columns="_first")
        .reset_index(drop=True)
    )
    return out.astype(object)


def _utc_key(text: str) -> str:
    try:
        t = dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    if t.tzinfo is not None:
        t = t.astimezone(dt.UTC).replace(tzinfo=None)
    return t.isoformat()


def check_changes(changes: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in CHANGE_COLUMNS if c not in changes.columns]
    if missing:
        raise StoreError(
            "change log has missing columns",
            expected=", ".join(CHANGE_COLUMNS),
            found=", ".join(map(str, changes.columns)),
        )
    log = pd.DataFrame(
        {c: [cell_text(v) for v in changes[c].tolist()] for c in CHANGE_COLUMNS}, dtype=object
    )
    bad = ~log["action"].isin(ACTIONS)
    if bad.any():
        raise StoreError(
            "unknown change action",
            expected="one of " + ", ".join(ACTIONS),
            found=log["action"][bad].iloc[0],
        )
    return log


def _spans(text: str) -> dict[str, str]:
    """``name HH:MM-HH:MM;...`` -> {name: HH:MM-HH:MM} (a repeated name gets ``#2``)."""
    out: dict[str, str] = {}
    for item in (x.strip() for x in text.split(";")):
        if not item:
            continue
        name, _, span = item.rpartition(" ")
        key, k = name or span, 2
        while key in out:
            key, k = f"{name} #{k}", k + 1
        out[key] = span
    return out


def _moves(old: str, new: str) -> list[str]:
    """Per name, ``lunch 11:00-11:30 -> 11:30-12:00`` for every span that differs."""
    a, b = _spans(old), _spans(new)
    return [
        f"{name} {a.get(name, '-')} -> {b.get(name, '-')}"
        for name in dict.fromkeys([*a, *b])
        if a.get(name) != b.get(name)
    ]


def change_text(change: Mapping[str, Any]) -> str:
    """One change-log row in words: the shift before and after, then any break moved (old -> new
    times), queues changed and queue spans reassigned, e.g. ``E8 07:00-15:30; breaks lunch
    11:00-11:30 -> 11:30-12:00``.
    """
    old = describe(change["old_shift"], change["old_start"], change["old_end"])
    new = describe(change["new_shift"], change["new_start"], change["new_end"])
    if change["action"] != "changed":
        return f"{old} -> {new}"
    parts = [f"{old} -> {new}" if old != new else old]
    moves = _moves(str(change.get("old_breaks", "")), str(change.get("new_breaks", "")))
    if moves:
        parts.append("breaks " + ", ".join(moves))
    if change["old_queues"] != change["new_queues"]:
        parts.append(f"queues {change['old_queues'] or '-'} -> {change['new_queues'] or '-'}")
    oa, na = str(change.get("old_assignments", "")), str(change.get("new_assignments", ""))
    if oa != na and oa and na and old == new:
        moved = _reassigned(oa, na)
        if moved:
            parts.append("queue spans " + ", ".join(moved))
    elif oa != na:
        parts.append(
            f"queue spans {oa.replace(';', ', ') or 'as planned'} -> "
            f"{na.replace(';', ', ') or 'as planned'}"
        )
    return "; ".join(parts)


def _reassigned(old: str, new: str) -> list[str]:
    """``voice -> chat 10:00-10:30`` for every run of minutes both ``queue HH:MM-HH:MM;...`` cells
    of one shift assign, to different queues (spans that only follow a moved break are left to
    the break)."""

    def minutes(text: str) -> dict[int, str]:
        items = [(n, _minute(a), _minute(b)) for n, a, b in _named_spans(text)]
        first = items[0][1] if items else 0
        out: dict[int, str] = {}
        for name, a, b in items:
            start = (a - first) % 1440
            out.update({start + k: name for k in range((b - a) % 1440)})
        return out

    a, b = minutes(old), minutes(new)
    base = _minute(_named_spans(old)[0][1]) if a else 0
    keys = sorted(k for k in a if k in b and a[k] != b[k])
    out: list[str] = []
    i = 0
    while i < len(keys):
        j = i
        while (
            j + 1 < len(keys)
            and keys[j + 1] == keys[j] + 1
            and (
                a[keys[j + 1]],
                b[keys[j + 1]],
            )
            == (a[keys[i]], b[keys[i]])
        ):
            j += 1
        t0, t1 = (_clock_of(base + k) for k in (keys[i], keys[j] + 1))
        out.append(f"{a[keys[i]]} -> {b[keys[i]]} {t0}-{t1}")
        i = j + 1
    return out


def _clock_of(minute: int) -> str:
    """Minutes after midnight (any day) -> ``HH:MM``."""
    m = minute % 1440
    return f"{m // 60:02d}:{m % 60:02d}"


def _minute(clock: str) -> int:
    """``HH:MM`` -> minutes after midnight."""
    return int(clock[:2]) * 60 + int(clock[3:5])


def _named_spans(text: str) -> list[tuple[str, str, str]]:
    """``name HH:MM-HH:MM;...`` -> [(name, from, to)] in their order."""
    out = []
    for item in (x.strip() for x in text.split(";")):
        if item:
            name, _, span = item.rpartition(" ")
            a, _, b = span.partition("-")
            out.append((name, a, b))
    return out


def reasons_frame(changes: pd.DataFrame, reasons: Mapping[tuple[str, str], str]) -> pd.DataFrame:
    """``changes`` with ``reason`` replaced per (agent_id, date) where ``reasons`` has one."""
    out = changes.copy()
    out["reason"] = [
        reasons.get((a, d), r)
        for a, d, r in zip(out["agent_id"], out["date"], out["reason"], strict=True)
    ]
    return out
