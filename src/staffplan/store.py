"""The plan store: published rosters as numbered, immutable versions, and the absences recorded
against them (SQLite).

One SQLite file per scenario (default ``<scenario folder>/plans.sqlite``; set
``[store] path = "..."`` in the scenario, relative to the scenario file). Each
version keeps who published it, when (UTC), why (a note), its parent version,
its roster rows, a change log against the parent (agent, date, old and new
shift, times, breaks, queues, reason) and the hard-rule violations it was
knowingly published with. Absences are facts of their own: who is away, when,
why, who recorded it and when, linked to the versions that applied them (none
yet for one recorded before anyone decided how to cover it).

Durability: every write is one ``BEGIN IMMEDIATE`` transaction on a WAL
journal with ``synchronous=FULL``, so a crash, a ``kill -9`` or a Ctrl-C in the
middle of a write leaves the store exactly as it was before the write (the
uncommitted WAL frames are discarded when the file is next opened). Triggers
refuse any UPDATE or DELETE of a stored fact: a new plan is always a new
version, and withdrawing an absence is a new fact too. Each version stores a
SHA-256 of its rows, checked on every read.

Optimistic concurrency: a write names the latest version it started from
(``expect_latest``) and is refused, inside its write transaction, when another
writer got in first. A write based on an older version than the latest makes a
new latest only when asked to (``fork``).

Roster rows are stored generically (column order + one JSON object of strings
per row), so rosters with new columns need no schema change.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import hashlib
import json
import math
import os
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from staffplan.errors import InputError, StoreError
from staffplan.io.atomic import write_csv

SCHEMA_VERSION = 3
DEFAULT_FILE = "plans.sqlite"
STORE_SPEC = {
    "path": ((str,), DEFAULT_FILE, "a file path for the plan store, relative to the scenario file")
}

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
#: Change-log columns added by schema version 2 (break moves and queue reassignments).
_V2_COLUMNS: tuple[str, ...] = ("old_breaks", "new_breaks", "old_assignments", "new_assignments")
#: Change actions: ``added`` (a shift where there was none), ``removed``, ``changed`` (time,
#: shift, breaks or queues).
ACTIONS: tuple[str, ...] = ("added", "removed", "changed")
KINDS: tuple[str, ...] = ("publish", "cover")
#: Columns of :func:`absences_frame` (times ISO 8601 local with offset; ``versions``: the versions
#: that applied the absence, ``|``-separated; ``withdrawn``: by whom, when and why, or blank).
ABSENCE_COLUMNS: tuple[str, ...] = (
    "id",
    "agent_id",
    "start",
    "end",
    "kind",
    "reason",
    "recorded_by",
    "recorded_utc",
    "versions",
    "withdrawn",
)
#: Columns of a hard-rule violation (``staffplan.roster.validate``), as stored with a version.
VIOLATION_COLUMNS: tuple[str, ...] = ("agent_id", "date", "rule", "found", "allowed")

#: Schema 2: versions, their rows and change logs.
_TABLES_V2: tuple[str, ...] = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS versions (
        number INTEGER PRIMARY KEY,
        parent INTEGER REFERENCES versions(number),
        kind TEXT NOT NULL,
        author TEXT NOT NULL,
        created_utc TEXT NOT NULL,
        note TEXT NOT NULL,
        columns TEXT NOT NULL,
        n_rows INTEGER NOT NULL,
        sha256 TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS roster_rows (
        version INTEGER NOT NULL REFERENCES versions(number),
        row INTEGER NOT NULL,
        agent_id TEXT NOT NULL,
        date TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (version, row))""",
    "CREATE INDEX IF NOT EXISTS roster_rows_agent ON roster_rows (version, agent_id, date)",
    """CREATE TABLE IF NOT EXISTS changes (
        version INTEGER NOT NULL REFERENCES versions(number),
        seq INTEGER NOT NULL,
        agent_id TEXT NOT NULL,
        date TEXT NOT NULL,
        action TEXT NOT NULL,
        old_shift TEXT NOT NULL, old_start TEXT NOT NULL, old_end TEXT NOT NULL,
        new_shift TEXT NOT NULL, new_start TEXT NOT NULL, new_end TEXT NOT NULL,
        old_queues TEXT NOT NULL, new_queues TEXT NOT NULL,
        reason TEXT NOT NULL,
        old_breaks TEXT NOT NULL DEFAULT '', new_breaks TEXT NOT NULL DEFAULT '',
        old_assignments TEXT NOT NULL DEFAULT '', new_assignments TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (version, seq))""",
)
#: Schema 3 adds absences (facts with who/when/why), their links to the versions that applied
#: them, withdrawals, and the violations a version was knowingly published with.
_TABLES_V3: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS absences (
        id INTEGER PRIMARY KEY,
        agent_id TEXT NOT NULL,
        start_local TEXT NOT NULL,
        end_local TEXT NOT NULL,
        kind TEXT NOT NULL,
        reason TEXT NOT NULL,
        recorded_by TEXT NOT NULL,
        recorded_utc TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS absence_versions (
        absence INTEGER NOT NULL REFERENCES absences(id),
        version INTEGER NOT NULL REFERENCES versions(number),
        PRIMARY KEY (absence, version))""",
    """CREATE TABLE IF NOT EXISTS absence_withdrawals (
        absence INTEGER PRIMARY KEY REFERENCES absences(id),
        withdrawn_by TEXT NOT NULL,
        withdrawn_utc TEXT NOT NULL,
        reason TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS violations (
        version INTEGER NOT NULL REFERENCES versions(number),
        seq INTEGER NOT NULL,
        agent_id TEXT NOT NULL,
        date TEXT NOT NULL,
        rule TEXT NOT NULL,
        found TEXT NOT NULL,
        allowed TEXT NOT NULL,
        PRIMARY KEY (version, seq))""",
)


def _immutable(tables: Sequence[str], what: str = "published versions") -> list[str]:
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{what} are immutable'); END"
        for table in tables
        for op in ("UPDATE", "DELETE")
    ]


_DDL_V2 = [*_TABLES_V2, *_immutable(("versions", "roster_rows", "changes"))]
_DDL_V3 = [
    *_TABLES_V3,
    *_immutable(
        ("absences", "absence_versions", "absence_withdrawals", "violations"), "recorded facts"
    ),
]


@dataclass(frozen=True)
class Version:
    """One published roster version: who, when [UTC, ISO 8601], why, and its size [rows].

    ``n_absences``: absences this version applied; ``n_violations``: hard-rule violations it was
    knowingly published with (``--force``).
    """

    number: int
    parent: int | None
    kind: str
    author: str
    created_utc: str
    note: str
    n_rows: int
    n_changes: int
    n_absences: int = 0
    n_violations: int = 0

    @property
    def forked(self) -> bool:
        """True when the version was made from an older version than the latest of its time."""
        return self.parent is not None and self.parent != self.number - 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "parent": self.parent,
            "kind": self.kind,
            "author": self.author,
            "created_utc": self.created_utc,
            "note": self.note,
            "rows": self.n_rows,
            "changes": self.n_changes,
            "absences": self.n_absences,
            "violations": self.n_violations,
        }

    def who(self) -> str:
        """``version 3 (cover, by ana at 2026-12-08T09:51:02+00:00: "B03 sick")``."""
        return (
            f"version {self.number} ({self.kind}, by {self.author} at {self.created_utc}: "
            f'"{self.note}")'
        )


@dataclass(frozen=True)
class AbsenceRecord:
    """An absence as a lead reports it: ``agent_id`` away over local [start, end) (tz-aware),
    of ``kind`` (see ``io.team.ABSENCE_KINDS``), with a free-text ``reason``.
    """

    agent_id: str
    start: pd.Timestamp
    end: pd.Timestamp
    kind: str = "sick"
    reason: str = ""


@dataclass(frozen=True)
class RecordedAbsence:
    """An absence stored in the plan store: the fact, who recorded it and when [UTC], the versions
    that applied it (oldest first), and its withdrawal (``by at: why``), if any.
    """

    id: int
    agent_id: str
    start: str
    end: str
    kind: str
    reason: str
    recorded_by: str
    recorded_utc: str
    versions: tuple[int, ...] = ()
    withdrawn: str = ""

    def span(self, tz: Any = None) -> tuple[pd.Timestamp, pd.Timestamp]:
        """[start, end) as timestamps (converted to ``tz`` when given)."""
        s, e = pd.Timestamp(self.start), pd.Timestamp(self.end)
        return (s, e) if tz is None else (s.tz_convert(tz), e.tz_convert(tz))

    def text(self) -> str:
        """``#4 A17 sick 2026-12-09 07:00-2026-12-10 00:00``."""
        s, e = self.span()
        return f"#{self.id} {self.agent_id} {self.kind} {s:%Y-%m-%d %H:%M}-{e:%Y-%m-%d %H:%M}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "agent_id": self.agent_id,
            "start": self.start,
            "end": self.end,
            "kind": self.kind,
            "reason": self.reason,
            "recorded_by": self.recorded_by,
            "recorded_utc": self.recorded_utc,
            "versions": list(self.versions),
            "withdrawn": self.withdrawn,
        }


@dataclass(frozen=True, eq=False)
class PlanBase:
    """What every cover, validation and KPI of a version starts from: the version, its roster
    (text columns, checksum-verified), every absence recorded so far (withdrawn ones left out),
    and the store's latest version number when it was read (the guard of a write based on it).

    Absences are facts about people, so a version sees every absence recorded up to now, also
    those recorded after it was published; :attr:`pending` are those no version in its
    lineage (itself and its ancestors) has applied yet.
    """

    version: Version
    roster: pd.DataFrame
    absences: tuple[RecordedAbsence, ...]
    lineage: tuple[int, ...]
    latest: int

    @property
    def is_latest(self) -> bool:
        return self.version.number == self.latest

    def applied_in(self, absence: RecordedAbsence) -> int | None:
        """The version in this base's lineage that applied ``absence`` (None: not applied)."""
        mine = [v for v in absence.versions if v in self.lineage]
        return min(mine) if mine else None

    @property
    def pending(self) -> tuple[RecordedAbsence, ...]:
        """Recorded absences no version in the lineage has applied (oldest record first)."""
        return tuple(a for a in self.absences if self.applied_in(a) is None)

    def team_absences(self, tz: Any = None) -> tuple[Any, ...]:
        """Every absence as ``io.team.Absence`` (times in ``tz``), for a roster problem."""
        return team_absences(self.absences, tz)


def team_absences(absences: Sequence[RecordedAbsence], tz: Any = None) -> tuple[Any, ...]:
    """Recorded absences as ``io.team.Absence`` (times in ``tz``), for a roster problem."""
    from staffplan.io.team import Absence

    return tuple(Absence(a.agent_id, *a.span(tz), a.kind) for a in absences)


class ConflictError(StoreError):
    """A write was refused because another writer published after the version it started from."""

    def __init__(self, message: str, *, latest: int, started_from: int, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.latest = latest
        self.started_from = started_from


def store_path(scenario: Any) -> Path:
    """The plan store file of a loaded :class:`~staffplan.scenario.Scenario` (``[store] path``)."""
    from staffplan.scenario import check_table

    table = check_table(scenario.section("store"), STORE_SPEC, file=scenario.path, key="store")
    text = table["path"].strip()
    if not text:
        from staffplan.errors import ScenarioError

        raise ScenarioError(
            "empty path",
            file=scenario.path,
            key="store.path",
            expected='a file path like "plans.sqlite"',
        )
    p = Path(text).expanduser()
    return p if p.is_absolute() else (scenario.folder / p).resolve()


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


def _sha256(columns: Sequence[str], rows: Sequence[str]) -> str:
    h = hashlib.sha256(json.dumps(list(columns)).encode())
    for r in rows:
        h.update(b"\n" + r.encode())
    return h.hexdigest()


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


class PlanStore:
    """A plan store file. Methods open a short-lived connection each; instances hold only the
    path.
    """

    def __init__(self, path: str | Path, *, busy_timeout_s: float = 10.0) -> None:
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout_s, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(
                f"cannot open the plan store: {exc}",
                file=self.path,
                hint="check the [store] path and its folder's permissions",
            ) from None
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._migrate(conn)
            yield conn
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"plan store error: {exc}",
                file=self.path,
                hint="is this a staffplan plan store? (run 'staffplan versions' to check it)",
            ) from None
        finally:
            conn.close()

    @staticmethod
    def _schema_version(conn: sqlite3.Connection) -> int | None:
        """The stored schema version; None for a file without a ``meta`` table (a new store)."""
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone() is None:
            return None
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        try:
            return int(row[0]) if row is not None else -1
        except ValueError:
            return -1

    def _migrate(self, conn: sqlite3.Connection) -> None:
        """Create a new store, or bring an older schema up to :data:`SCHEMA_VERSION`.

        Schema 1 -> 2: the change log gains break and queue-assignment columns (blank for old
        rows). 2 -> 3: absences, their links to versions, withdrawals and stored violations
        (empty for old versions). Each step runs in the same write transaction, re-checked under
        the lock, so two processes opening an old store migrate it once.
        """
        found = self._schema_version(conn)
        if found == SCHEMA_VERSION:
            return
        if found is not None and not 1 <= found <= SCHEMA_VERSION:
            raise StoreError(
                "not a plan store this staffplan can read",
                file=self.path,
                expected=f"schema version {SCHEMA_VERSION} or older",
                found=found if found >= 0 else None,
                hint="upgrade staffplan, or point [store] path at another file",
            )
        conn.execute("BEGIN IMMEDIATE")
        try:
            found = self._schema_version(conn)
            if found is None:
                for ddl in (*_DDL_V2, *_DDL_V3):
                    conn.execute(ddl)
            if found == 1:
                have = {r[1] for r in conn.execute("PRAGMA table_info(changes)")}
                for col in _V2_COLUMNS:
                    if col not in have:
                        conn.execute(
                            f"ALTER TABLE changes ADD COLUMN {col} TEXT NOT NULL DEFAULT ''"
                        )
                found = 2
            if found == 2:
                for ddl in _DDL_V3:
                    conn.execute(ddl)
            conn.execute(
                "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction: committed on success, rolled back on any error."""
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """One read transaction: every query in it sees the same snapshot."""
        with self._connect() as conn:
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")

    # ---- writing -------------------------------------------------------------------------
    def publish(
        self,
        roster: pd.DataFrame,
        *,
        note: str,
        author: str | None = None,
        kind: str = "publish",
        parent: int | None = None,
        expect_latest: int | None = None,
        fork: bool = False,
        changes: pd.DataFrame | None = None,
        absences: Sequence[AbsenceRecord] = (),
        link: Sequence[int] = (),
        violations: Sequence[Mapping[str, Any]] = (),
        progress: Callable[[int], None] | None = None,
        now: dt.datetime | None = None,
    ) -> Version:
        """Store ``roster`` as a new version and return it; never touches an existing version.

        ``parent`` defaults to the latest version (none for the first). ``expect_latest`` is the
        latest version number the caller started from (0: an empty store); if another writer
        published since, nothing is written and :class:`ConflictError` names who published which
        version. The check runs inside the write transaction. A ``parent`` older than the latest
        is refused unless ``fork``. The change log is ``changes`` if given (columns
        :data:`CHANGE_COLUMNS`), else the diff against the parent with ``note`` as reason.
        ``absences`` are recorded and linked to the new version, ``link`` links absences recorded
        before (ids), ``violations`` (mappings with :data:`VIOLATION_COLUMNS`) are stored as the
        known violations it is published with. ``progress(rows_written)`` is called every 1000
        rows inside the transaction; an exception from it (e.g. Ctrl-C) rolls the whole write
        back.
        """
        if not note.strip():
            raise InputError(
                "empty note",
                column="--note",
                expected="why this version is published, e.g. 'week 49'",
            )
        if kind not in KINDS:
            raise StoreError(
                "unknown version kind", expected="one of " + ", ".join(KINDS), found=kind
            )
        author = (author or _default_author()).strip() or "unknown"
        text = roster_as_text(roster)
        columns = list(text.columns)
        payload = [
            json.dumps(dict(zip(columns, r, strict=True)), ensure_ascii=False)
            for r in text.itertuples(index=False, name=None)
        ]
        digest = _sha256(columns, payload)
        created = _utc(now)
        facts = [_absence_row(a) for a in absences]
        bad = [v for v in violations if set(VIOLATION_COLUMNS) - set(v)]
        if bad:
            raise StoreError(
                "violation without its columns",
                expected=", ".join(VIOLATION_COLUMNS),
                found=", ".join(map(str, bad[0])),
            )
        with self._write() as conn:
            latest = conn.execute("SELECT COALESCE(MAX(number), 0) FROM versions").fetchone()[0]
            if expect_latest is not None and latest != expect_latest:
                raise self._conflict(conn, expect_latest, latest, kind)
            base = (latest or None) if parent is None else parent
            if base is not None and self._version(conn, base) is None:
                raise StoreError(
                    "no such version",
                    file=self.path,
                    expected="an existing parent version",
                    found=base,
                )
            if base is not None and base != latest and not fork:
                raise self._not_latest(self._version(conn, latest), base, latest)
            if changes is None:
                changes = (
                    diff_rosters(self._rows(conn, base), text, reason=note)
                    if base is not None
                    else pd.DataFrame(columns=list(CHANGE_COLUMNS))
                )
            log = _check_changes(changes)
            number = latest + 1
            conn.execute(
                "INSERT INTO versions (number, parent, kind, author, created_utc, note, "
                "columns, n_rows, sha256) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    number,
                    base,
                    kind,
                    author,
                    created,
                    note,
                    json.dumps(columns),
                    len(payload),
                    digest,
                ),
            )
            for i, (data, agent, date) in enumerate(
                zip(payload, text["agent_id"], text["date"], strict=True)
            ):
                conn.execute(
                    "INSERT INTO roster_rows (version, row, agent_id, date, data) VALUES "
                    "(?,?,?,?,?)",
                    (number, i, agent, date, data),
                )
                if progress is not None and (i + 1) % 1000 == 0:
                    progress(i + 1)
            conn.executemany(
                f"INSERT INTO changes (version, seq, {', '.join(CHANGE_COLUMNS)}) VALUES "
                f"({', '.join('?' * (len(CHANGE_COLUMNS) + 2))})",
                [(number, s, *row) for s, row in enumerate(log.itertuples(index=False, name=None))],
            )
            ids = [self._insert_absence(conn, f, author, created) for f in facts]
            for absence_id in sorted(set(link)):
                if not conn.execute(
                    "SELECT 1 FROM absences WHERE id = ?", (absence_id,)
                ).fetchone():
                    raise StoreError(
                        "no such absence",
                        file=self.path,
                        expected="the id of a recorded absence",
                        found=absence_id,
                    )
                ids.append(absence_id)
            conn.executemany(
                "INSERT OR IGNORE INTO absence_versions (absence, version) VALUES (?, ?)",
                [(a, number) for a in ids],
            )
            conn.executemany(
                "INSERT INTO violations (version, seq, agent_id, date, rule, found, allowed) "
                "VALUES (?,?,?,?,?,?,?)",
                [
                    (number, s, *(cell_text(v[c]) for c in VIOLATION_COLUMNS))
                    for s, v in enumerate(violations)
                ],
            )
        return self.version(number)

    def _conflict(
        self, conn: sqlite3.Connection, started: int, latest: int, kind: str
    ) -> ConflictError:
        after = self._versions(conn, "WHERE v.number > ?", (started,))
        if not after:  # the store lost versions: not something a re-run fixes
            return ConflictError(
                "the plan store changed meanwhile",
                latest=latest,
                started_from=started,
                file=self.path,
                expected=f"latest version {started}",
                found=latest,
                hint="check the [store] path: this is not the store the command started with",
            )
        newest = after[-1]
        what = (
            newest.who()
            if len(after) == 1
            else f"versions {after[0].number}-{newest.number} (the latest: {newest.who()})"
        )
        since = f"after version {started}" if started else "into the empty store"
        return ConflictError(
            f"the plan changed meanwhile: {what} was published {since}, which this {kind} "
            "started from; nothing was written",
            latest=latest,
            started_from=started,
            file=self.path,
            hint=f"look at it ('staffplan versions SCENARIO --version {newest.number}'), then "
            f"re-run the {kind}: it will start from version {newest.number}",
        )

    def check_fork(self, base: PlanBase, *, fork: bool) -> None:
        """Refuse (:class:`StoreError`) a write based on ``base`` when a later version exists and
        ``fork`` was not asked for.
        """
        if not base.is_latest and not fork:
            latest = self.version(base.latest)
            raise self._not_latest(latest, base.version.number, latest.number)

    def _not_latest(self, newest: Version | None, base: int, latest: int) -> StoreError:
        return StoreError(
            f"version {base} is not the latest: {newest.who() if newest else latest} is; a new "
            f"version based on {base} would set aside what came after it",
            file=self.path,
            hint=f"add --fork to make a new latest from version {base} anyway, or leave out "
            f"--version to start from version {latest}",
        )

    def record_absence(
        self, absence: AbsenceRecord, *, author: str | None = None, now: dt.datetime | None = None
    ) -> RecordedAbsence:
        """Record ``absence`` as a fact no version has applied yet; return it with its id.

        The same agent, span and kind recorded before (and not withdrawn) is refused.
        """
        fact = _absence_row(absence)
        author = (author or _default_author()).strip() or "unknown"
        created = _utc(now)
        with self._write() as conn:
            dup = conn.execute(
                "SELECT a.id FROM absences a WHERE a.agent_id = ? AND a.start_local = ? AND "
                "a.end_local = ? AND a.kind = ? AND a.id NOT IN "
                "(SELECT absence FROM absence_withdrawals)",
                fact[:4],
            ).fetchone()
            if dup is not None:
                raise StoreError(
                    "absence already recorded",
                    file=self.path,
                    found=f"#{dup[0]} {fact[0]} {fact[3]} {fact[1]} - {fact[2]}",
                    hint="list absences with 'staffplan versions SCENARIO'",
                )
            number = self._insert_absence(conn, fact, author, created)
        return next(a for a in self.absences(withdrawn=True) if a.id == number)

    def withdraw_absence(
        self,
        absence_id: int,
        *,
        reason: str,
        author: str | None = None,
        now: dt.datetime | None = None,
    ) -> RecordedAbsence:
        """Record that absence ``absence_id`` no longer holds (entered by mistake, agent back).

        The absence stays in the store (and in the versions that applied it); later covers and
        validations leave it out.
        """
        if not reason.strip():
            raise InputError("empty note", column="--note", expected="why the absence is withdrawn")
        author = (author or _default_author()).strip() or "unknown"
        with self._write() as conn:
            if not conn.execute("SELECT 1 FROM absences WHERE id = ?", (absence_id,)).fetchone():
                raise StoreError(
                    "no such absence",
                    file=self.path,
                    expected="the id of a recorded absence (see 'staffplan versions')",
                    found=absence_id,
                )
            if conn.execute(
                "SELECT 1 FROM absence_withdrawals WHERE absence = ?", (absence_id,)
            ).fetchone():
                raise StoreError("absence already withdrawn", file=self.path, found=absence_id)
            conn.execute(
                "INSERT INTO absence_withdrawals (absence, withdrawn_by, withdrawn_utc, reason) "
                "VALUES (?,?,?,?)",
                (absence_id, author, _utc(now), reason),
            )
        return next(a for a in self.absences(withdrawn=True) if a.id == absence_id)

    @staticmethod
    def _insert_absence(
        conn: sqlite3.Connection, fact: tuple[str, ...], author: str, created: str
    ) -> int:
        cur = conn.execute(
            "INSERT INTO absences (agent_id, start_local, end_local, kind, reason, recorded_by, "
            "recorded_utc) VALUES (?,?,?,?,?,?,?)",
            (*fact, author, created),
        )
        return int(cur.lastrowid or 0)

    # ---- reading -------------------------------------------------------------------------
    @staticmethod
    def _versions(
        conn: sqlite3.Connection, where: str = "", args: tuple[Any, ...] = ()
    ) -> tuple[Version, ...]:
        rows = conn.execute(
            "SELECT v.number, v.parent, v.kind, v.author, v.created_utc, v.note, v.n_rows, "
            "(SELECT COUNT(*) FROM changes c WHERE c.version = v.number), "
            "(SELECT COUNT(*) FROM absence_versions a WHERE a.version = v.number), "
            "(SELECT COUNT(*) FROM violations x WHERE x.version = v.number) "
            f"FROM versions v {where} ORDER BY v.number",
            args,
        ).fetchall()
        return tuple(Version(*r) for r in rows)

    def _version(self, conn: sqlite3.Connection, number: int) -> Version | None:
        found = self._versions(conn, "WHERE v.number = ?", (number,))
        return found[0] if found else None

    def versions(self) -> tuple[Version, ...]:
        """Every version, oldest first."""
        if not self.path.exists():
            return ()
        with self._connect() as conn:
            return self._versions(conn)

    def latest(self) -> Version | None:
        """The newest version, or None for an empty store."""
        vs = self.versions()
        return vs[-1] if vs else None

    def version(self, number: int) -> Version:
        """Version ``number``; :class:`StoreError` if it does not exist."""
        for v in self.versions():
            if v.number == number:
                return v
        raise StoreError(
            "no such version",
            file=self.path,
            expected="one of "
            + (
                ", ".join(str(v.number) for v in self.versions())
                or "(none: publish a roster first)"
            ),
            found=number,
            hint="list them with 'staffplan versions SCENARIO'",
        )

    def resolve(self, number: int | None) -> int:
        """``number`` if it exists, else the latest version's number when ``number`` is None."""
        if number is None:
            latest = self.latest()
            if latest is None:
                raise self._empty()
            return latest.number
        return self.version(number).number

    def _empty(self) -> StoreError:
        return StoreError(
            "the plan store is empty",
            file=self.path,
            hint="publish a roster first: staffplan publish SCENARIO --roster "
            "roster.csv --note '...'",
        )

    def roster(self, number: int | None = None) -> pd.DataFrame:
        """The roster of version ``number`` (default latest) as text columns, checksum-verified."""
        n = self.resolve(number)
        with self._connect() as conn:
            return self._rows(conn, n)

    def base(self, number: int | None = None) -> PlanBase:
        """Version ``number`` (default the latest) with its roster and every recorded absence, read
        in one snapshot: the input every cover, validation and KPI of a version starts from.
        """
        if number is not None:
            self.version(number)  # a clear error for a missing version
        if not self.path.exists():
            raise self._empty()
        with self._read() as conn:
            latest = conn.execute("SELECT COALESCE(MAX(number), 0) FROM versions").fetchone()[0]
            if not latest:
                raise self._empty()
            n = latest if number is None else number
            version = self._version(conn, n)
            assert version is not None  # versions are never deleted
            roster = self._rows(conn, n)
            lineage = [n]
            while (
                p := conn.execute(
                    "SELECT parent FROM versions WHERE number = ?", (lineage[-1],)
                ).fetchone()[0]
            ) is not None:
                lineage.append(p)
            absences = tuple(a for a in self._absences(conn) if not a.withdrawn)
        return PlanBase(version, roster, absences, tuple(lineage), latest)

    def _rows(self, conn: sqlite3.Connection, number: int) -> pd.DataFrame:
        cols_json, n_rows, digest = conn.execute(
            "SELECT columns, n_rows, sha256 FROM versions WHERE number = ?", (number,)
        ).fetchone()
        columns = json.loads(cols_json)
        payload = [
            r[0]
            for r in conn.execute(
                "SELECT data FROM roster_rows WHERE version = ? ORDER BY row", (number,)
            )
        ]
        if len(payload) != n_rows or _sha256(columns, payload) != digest:
            raise StoreError(
                "stored roster does not match its checksum",
                file=self.path,
                key=f"version {number}",
                expected=f"{n_rows} rows with sha256 {digest[:12]}…",
                found=f"{len(payload)} rows",
                hint="restore the plan store from a backup",
            )
        records = [json.loads(p) for p in payload]
        return pd.DataFrame(
            [[r.get(c, "") for c in columns] for r in records], columns=columns, dtype=object
        )

    def changes(self, number: int | None = None) -> pd.DataFrame:
        """The change log (``version`` plus :data:`CHANGE_COLUMNS`) of one version, or of all when
        None.
        """
        if not self.path.exists():
            return pd.DataFrame(columns=["version", *CHANGE_COLUMNS], dtype=object)
        if number is not None:
            self.version(number)
        with self._connect() as conn:
            sql = f"SELECT version, {', '.join(CHANGE_COLUMNS)} FROM changes"
            args: tuple[int, ...] = ()
            if number is not None:
                sql += " WHERE version = ?"
                args = (number,)
            rows = conn.execute(sql + " ORDER BY version, seq", args).fetchall()
        return pd.DataFrame(rows, columns=["version", *CHANGE_COLUMNS], dtype=object)

    @staticmethod
    def _absences(conn: sqlite3.Connection) -> tuple[RecordedAbsence, ...]:
        rows = conn.execute(
            "SELECT a.id, a.agent_id, a.start_local, a.end_local, a.kind, a.reason, "
            "a.recorded_by, a.recorded_utc, "
            "(SELECT group_concat(version, '|') FROM (SELECT version FROM absence_versions l "
            "WHERE l.absence = a.id ORDER BY version)), "
            "(SELECT w.withdrawn_by || ' at ' || w.withdrawn_utc || ': ' || w.reason "
            "FROM absence_withdrawals w WHERE w.absence = a.id) "
            "FROM absences a ORDER BY a.id"
        ).fetchall()
        return tuple(
            RecordedAbsence(
                *r[:8],
                versions=tuple(int(v) for v in (r[8] or "").split("|") if v),
                withdrawn=r[9] or "",
            )
            for r in rows
        )

    def absences(self, *, withdrawn: bool = False) -> tuple[RecordedAbsence, ...]:
        """Every recorded absence, oldest record first (withdrawn ones too when ``withdrawn``)."""
        if not self.path.exists():
            return ()
        with self._connect() as conn:
            return tuple(a for a in self._absences(conn) if withdrawn or not a.withdrawn)

    def violations(self, number: int | None = None) -> pd.DataFrame:
        """The known violations (``version`` plus :data:`VIOLATION_COLUMNS`) a version was
        published with, or of all versions when None.
        """
        if not self.path.exists():
            return pd.DataFrame(columns=["version", *VIOLATION_COLUMNS], dtype=object)
        if number is not None:
            self.version(number)
        with self._connect() as conn:
            sql = f"SELECT version, {', '.join(VIOLATION_COLUMNS)} FROM violations"
            args: tuple[int, ...] = ()
            if number is not None:
                sql += " WHERE version = ?"
                args = (number,)
            rows = conn.execute(sql + " ORDER BY version, seq", args).fetchall()
        return pd.DataFrame(rows, columns=["version", *VIOLATION_COLUMNS], dtype=object)

    def export(self, number: int, path: str | Path) -> Path:
        """Write version ``number``'s roster to ``path`` atomically: ``.csv`` or ``.xlsx`` (with a
        change-log sheet).
        """
        target = Path(path)
        suffix = target.suffix.lower()
        if suffix not in (".csv", ".xlsx"):
            raise InputError(
                "unknown export format",
                column="--out",
                expected="a file name ending in .csv or .xlsx",
                found=str(path),
            )
        frame = self.roster(number)
        if suffix == ".csv":
            return write_csv(target, frame)
        from staffplan.io.spreadsheet import write_frames  # text cells never become formulas

        log = self.changes(number)
        meta = pd.DataFrame([self.version(number).as_dict()])
        return write_frames(target, {"roster": frame, "changes": log, "version": meta})

    def integrity_ok(self) -> bool:
        """SQLite's own ``PRAGMA integrity_check`` plus every version's row checksum."""
        with self._connect() as conn:
            if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                return False
            try:
                for (n,) in conn.execute("SELECT number FROM versions").fetchall():
                    self._rows(conn, n)
            except StoreError:
                return False
        return True


def _utc(now: dt.datetime | None) -> str:
    return (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).isoformat(timespec="seconds")


def _absence_row(a: AbsenceRecord) -> tuple[str, str, str, str, str]:
    """(agent_id, start, end, kind, reason) as stored text; tz-aware times, start before end."""
    start, end = pd.Timestamp(a.start), pd.Timestamp(a.end)
    if start.tzinfo is None or end.tzinfo is None or not start < end:
        raise InputError(
            "bad absence span",
            expected="local times with their zone, start before end",
            found=f"{a.start} - {a.end}",
        )
    if not a.agent_id.strip():
        raise InputError("blank agent", column="--agent", expected="an agent id")
    return (a.agent_id.strip(), start.isoformat(), end.isoformat(), a.kind, a.reason)


def _default_author() -> str:
    for var in ("STAFFPLAN_AUTHOR", "USER", "USERNAME"):
        if os.environ.get(var):
            return os.environ[var]
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _check_changes(changes: pd.DataFrame) -> pd.DataFrame:
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


VERSION_COLUMNS: tuple[str, ...] = (
    "number",
    "parent",
    "kind",
    "author",
    "created_utc",
    "note",
    "rows",
    "changes",
    "absences",
    "violations",
)


def versions_frame(versions: Sequence[Version]) -> pd.DataFrame:
    """Versions as a table (:data:`VERSION_COLUMNS`; ``parent`` a nullable integer)."""
    frame = pd.DataFrame([v.as_dict() for v in versions], columns=list(VERSION_COLUMNS))
    return frame.astype({"parent": "Int64"})


def absences_frame(absences: Sequence[RecordedAbsence]) -> pd.DataFrame:
    """Recorded absences as a table (:data:`ABSENCE_COLUMNS`)."""
    rows = [{**a.as_dict(), "versions": "|".join(str(v) for v in a.versions)} for a in absences]
    return pd.DataFrame(rows, columns=list(ABSENCE_COLUMNS))


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
    if oa != na:
        parts.append(
            f"queue spans {oa.replace(';', ', ') or 'as planned'} -> "
            f"{na.replace(';', ', ') or 'as planned'}"
        )
    return "; ".join(parts)


def reasons_frame(changes: pd.DataFrame, reasons: Mapping[tuple[str, str], str]) -> pd.DataFrame:
    """``changes`` with ``reason`` replaced per (agent_id, date) where ``reasons`` has one."""
    out = changes.copy()
    out["reason"] = [
        reasons.get((a, d), r)
        for a, d, r in zip(out["agent_id"], out["date"], out["reason"], strict=True)
    ]
    return out
