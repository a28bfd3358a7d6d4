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

from staffplan.store.plan_store import DEFAULT_FILE, STORE_SPEC, PlanStore, store_path
from staffplan.store.records import (
    ABSENCE_COLUMNS,
    KINDS,
    VERSION_COLUMNS,
    VIOLATION_COLUMNS,
    AbsenceRecord,
    ConflictError,
    PlanBase,
    RecordedAbsence,
    Version,
    absences_frame,
    team_absences,
    versions_frame,
)
from staffplan.store.schema import SCHEMA_VERSION

__all__ = [
    "ABSENCE_COLUMNS",
    "DEFAULT_FILE",
    "KINDS",
    "SCHEMA_VERSION",
    "STORE_SPEC",
    "VERSION_COLUMNS",
    "VIOLATION_COLUMNS",
    "AbsenceRecord",
    "ConflictError",
    "PlanBase",
    "PlanStore",
    "RecordedAbsence",
    "Version",
    "absences_frame",
    "store_path",
    "team_absences",
    "versions_frame",
]
