"""The plan store's SQLite schema: tables per schema version and the triggers that make stored
facts immutable (see :mod:`staffplan.store.plan_store` for migrations).
"""

from __future__ import annotations

from collections.abc import Sequence

SCHEMA_VERSION = 3


#: Change-log columns added by schema version 2 (break moves and queue reassignments).
V2_COLUMNS: tuple[str, ...] = ("old_breaks", "new_breaks", "old_assignments", "new_assignments")


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


DDL_V2 = [*_TABLES_V2, *_immutable(("versions", "roster_rows", "changes"))]


DDL_V3 = [
    *_TABLES_V3,
    *_immutable(
        ("absences", "absence_versions", "absence_withdrawals", "violations"), "recorded facts"
    ),
]
