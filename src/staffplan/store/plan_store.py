"""PlanStore: the SQLite file behind the plan store (connections, migrations, reads and the
write transactions that publish versions and record absences).
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from staffplan.errors import InputError, StoreError
from staffplan.io.atomic import write_csv
from staffplan.io.roster_csv import (
    CHANGE_COLUMNS,
    cell_text,
    check_changes,
    diff_rosters,
    roster_as_text,
)
from staffplan.store.records import (
    KINDS,
    VIOLATION_COLUMNS,
    AbsenceRecord,
    ConflictError,
    PlanBase,
    RecordedAbsence,
    Version,
    absence_row,
    utc_text,
)
from staffplan.store.schema import DDL_V2, DDL_V3, SCHEMA_VERSION, V2_COLUMNS

DEFAULT_FILE = "plans.sqlite"
STORE_SPEC = {
    "path": ((str,), DEFAULT_FILE, "a file path for the plan store, relative to the scenario file")
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


def _sha256(columns: Sequence[str], rows: Sequence[str]) -> str:
    h = hashlib.sha256(json.dumps(list(columns)).encode())
    for r in rows:
        h.update(b"\n" + r.encode())
    return h.hexdigest()


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
                for ddl in (*DDL_V2, *DDL_V3):
                    conn.execute(ddl)
            if found == 1:
                have = {r[1] for r in conn.execute("PRAGMA table_info(changes)")}
                for col in V2_COLUMNS:
                    if col not in have:
                        conn.execute(
                            f"ALTER TABLE changes ADD COLUMN {col} TEXT NOT NULL DEFAULT ''"
                        )
                found = 2
            if found == 2:
                for ddl in DDL_V3:
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
        created = utc_text(now)
        facts = [absence_row(a) for a in absences]
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
            log = check_changes(changes)
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
        fact = absence_row(absence)
        author = (author or _default_author()).strip() or "unknown"
        created = utc_text(now)
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
                (absence_id, author, utc_text(now), reason),
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


def _default_author() -> str:
    for var in ("STAFFPLAN_AUTHOR", "USER", "USERNAME"):
        if os.environ.get(var):
            return os.environ[var]
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
