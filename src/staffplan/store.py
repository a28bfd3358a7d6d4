"""The plan store: published rosters as numbered, immutable versions (SQLite).

One SQLite file per scenario (default ``<scenario folder>/plans.sqlite``; set
``[store] path = "..."`` in the scenario, relative to the scenario file). Each
version keeps who published it, when (UTC), why (a note), its parent version,
its roster rows and a change log against the parent (agent, date, old shift and
time, new shift and time, reason).

Durability: every write is one ``BEGIN IMMEDIATE`` transaction on a WAL
journal with ``synchronous=FULL``, so a crash, a ``kill -9`` or a Ctrl-C in the
middle of a write leaves the store exactly as it was before the write (the
uncommitted WAL frames are discarded when the file is next opened). Triggers
refuse any UPDATE or DELETE of a stored version: a new plan is always a new
version. Each version stores a SHA-256 of its rows, checked on every read.

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
from staffplan.io.atomic import write_csv, write_with
from staffplan.io.roster_csv import REQUIRED_ROSTER_COLUMNS

SCHEMA_VERSION = 2
DEFAULT_FILE = "plans.sqlite"
STORE_SPEC = {
    "path": ((str,), DEFAULT_FILE, "a file path for the plan store, relative to the scenario file")
}

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
# : Roster columns compared by :func:`diff_rosters` (``assignments`` is optional: blank when a
# roster lacks it).
DIFF_FIELDS: tuple[str, ...] = ("shift", "start", "end", "queues", "breaks", "assignments")
# : Change-log columns added by schema version 2 (break moves and queue reassignments of the cover
# repair).
_V2_COLUMNS: tuple[str, ...] = ("old_breaks", "new_breaks", "old_assignments", "new_assignments")
# : Change actions: ``added`` (a shift where there was none), ``removed``, ``changed`` (time, shift
# or queues).
ACTIONS: tuple[str, ...] = ("added", "removed", "changed")
KINDS: tuple[str, ...] = ("publish", "cover")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS versions (
    number INTEGER PRIMARY KEY,
    parent INTEGER REFERENCES versions(number),
    kind TEXT NOT NULL,
    author TEXT NOT NULL,
    created_utc TEXT NOT NULL,
    note TEXT NOT NULL,
    columns TEXT NOT NULL,
    n_rows INTEGER NOT NULL,
    sha256 TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS roster_rows (
    version INTEGER NOT NULL REFERENCES versions(number),
    row INTEGER NOT NULL,
    agent_id TEXT NOT NULL,
    date TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (version, row)
);
CREATE INDEX IF NOT EXISTS roster_rows_agent ON roster_rows (version, agent_id, date);
CREATE TABLE IF NOT EXISTS changes (
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
    PRIMARY KEY (version, seq)
);
"""
_IMMUTABLE = [
    f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
    f"BEGIN SELECT RAISE(ABORT, 'published versions are immutable'); END;"
    for table in ("versions", "roster_rows", "changes")
    for op in ("UPDATE", "DELETE")
]


@dataclass(frozen=True)
class Version:
    """One published roster version: who, when [UTC, ISO 8601], why, and its size [rows]."""

    number: int
    parent: int | None
    kind: str
    author: str
    created_utc: str
    note: str
    n_rows: int
    n_changes: int

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
        }


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
    missing = [c for c in REQUIRED_ROSTER_COLUMNS if c not in roster.columns]
    if missing:
        raise InputError(
            "roster has missing columns",
            file=file,
            row=1,
            column=missing[0],
            expected="the roster.csv columns " + ", ".join(REQUIRED_ROSTER_COLUMNS),
            found=", ".join(map(str, roster.columns)),
            hint="publish a roster.csv written by 'staffplan roster'",
        )
    extra = [str(c) for c in roster.columns if c not in REQUIRED_ROSTER_COLUMNS]
    cols = [*REQUIRED_ROSTER_COLUMNS, *extra]
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
    def _migrate(conn: sqlite3.Connection) -> None:
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone() is None:
            try:
                conn.executescript(
                    "BEGIN IMMEDIATE;"
                    + _SCHEMA
                    + "".join(_IMMUTABLE)
                    + "INSERT OR IGNORE INTO meta VALUES ('schema_version', "
                    f"'{SCHEMA_VERSION}'); COMMIT;"
                )
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if (
            row is not None and int(row[0]) == 1
        ):  # version 1 -> 2: the change log gains break and queue-assignment columns
            try:
                conn.execute("BEGIN IMMEDIATE")
                have = {r[1] for r in conn.execute("PRAGMA table_info(changes)")}
                for col in _V2_COLUMNS:
                    if col not in have:
                        conn.execute(
                            f"ALTER TABLE changes ADD COLUMN {col} TEXT NOT NULL DEFAULT ''"
                        )
                conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', '2')")
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            row = ("2",)
        if row is None or int(row[0]) > SCHEMA_VERSION:
            raise StoreError(
                "not a plan store this staffplan can read",
                expected=f"schema version {SCHEMA_VERSION}",
                found=None if row is None else row[0],
                hint="upgrade staffplan, or point [store] path at another file",
            )

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
        changes: pd.DataFrame | None = None,
        progress: Callable[[int], None] | None = None,
        now: dt.datetime | None = None,
    ) -> Version:
        """Store ``roster`` as a new version and return it; never touches an existing version.

        ``parent`` defaults to the latest version (none for the first). The change
        log is ``changes`` if given (columns :data:`CHANGE_COLUMNS`), else the diff
        against the parent with ``note`` as reason. ``expect_latest`` guards
        against a lost update: if the latest version is not that number, nothing
        is written and :class:`StoreError` is raised. ``progress(rows_written)``
        is called every 1000 rows inside the transaction; an exception from it
        (e.g. Ctrl-C) rolls the whole write back.
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
        created = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).isoformat(timespec="seconds")
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                latest = conn.execute("SELECT MAX(number) FROM versions").fetchone()[0]
                if expect_latest is not None and latest != expect_latest:
                    raise StoreError(
                        "the plan changed meanwhile",
                        file=self.path,
                        expected=f"latest version {expect_latest}",
                        found=latest,
                        hint="re-run against the new latest version",
                    )
                base = latest if parent is None else parent
                if (
                    base is not None
                    and conn.execute("SELECT 1 FROM versions WHERE number = ?", (base,)).fetchone()
                    is None
                ):
                    raise StoreError(
                        "no such version",
                        file=self.path,
                        expected="an existing parent version",
                        found=base,
                    )
                if changes is None:
                    changes = (
                        diff_rosters(self._rows(conn, base), text, reason=note)
                        if base is not None
                        else pd.DataFrame(columns=list(CHANGE_COLUMNS))
                    )
                log = _check_changes(changes)
                number = (latest or 0) + 1
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
                    [
                        (number, s, *row)
                        for s, row in enumerate(log.itertuples(index=False, name=None))
                    ],
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return self.version(number)

    # ---- reading -------------------------------------------------------------------------
    def versions(self) -> tuple[Version, ...]:
        """Every version, oldest first."""
        if not self.path.exists():
            return ()
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT v.number, v.parent, v.kind, v.author, v.created_utc, v.note, v.n_rows, "
                "(SELECT COUNT(*) FROM changes c WHERE c.version = v.number) FROM versions v "
                "ORDER BY v.number"
            ).fetchall()
        return tuple(Version(*r) for r in rows)

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
                raise StoreError(
                    "the plan store is empty",
                    file=self.path,
                    hint="publish a roster first: staffplan publish SCENARIO --roster "
                    "roster.csv --note '...'",
                )
            return latest.number
        return self.version(number).number

    def roster(self, number: int | None = None) -> pd.DataFrame:
        """The roster of version ``number`` (default latest) as text columns, checksum-verified."""
        n = self.resolve(number)
        with self._connect() as conn:
            return self._rows(conn, n)

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
        log = self.changes(number)
        meta = pd.DataFrame([self.version(number).as_dict()])

        def _xlsx(tmp: str) -> None:
            with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
                frame.to_excel(xw, sheet_name="roster", index=False)
                log.to_excel(xw, sheet_name="changes", index=False)
                meta.to_excel(xw, sheet_name="version", index=False)

        return write_with(target, _xlsx)

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


def versions_frame(versions: Sequence[Version]) -> pd.DataFrame:
    """Versions as a table (``number, parent, kind, author, created_utc, note, rows, changes``)."""
    return pd.DataFrame(
        [v.as_dict() for v in versions],
        columns=["number", "parent", "kind", "author", "created_utc", "note", "rows", "changes"],
    )


def reasons_frame(changes: pd.DataFrame, reasons: Mapping[tuple[str, str], str]) -> pd.DataFrame:
    """``changes`` with ``reason`` replaced per (agent_id, date) where ``reasons`` has one."""
    out = changes.copy()
    out["reason"] = [
        reasons.get((a, d), r)
        for a, d, r in zip(out["agent_id"], out["date"], out["reason"], strict=True)
    ]
    return out
