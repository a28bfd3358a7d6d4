"""What the plan store holds, as frozen records: versions, absences (as recorded and as
applied), the base a change starts from, and the conflict a late writer meets.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from staffplan.errors import InputError, StoreError
from staffplan.io.roster_csv import VIOLATION_COLUMNS  # noqa: F401  (re-exported)

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


def utc_text(now: dt.datetime | None) -> str:
    return (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).isoformat(timespec="seconds")


def absence_row(a: AbsenceRecord) -> tuple[str, str, str, str, str]:
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
