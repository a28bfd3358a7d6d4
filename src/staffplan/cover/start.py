"""Where a cover starts: a stored version's roster plus every absence the plan store has recorded.

A cover of version N repairs the absences given now and those recorded but not yet applied by N
or its ancestors (``staffplan absent``); the absences N's lineage already applied are context:
hard absences the repair may not schedule into, whose agents' contract minimums stay waived,
but they do not widen the repair window. Only absences that keep an agent off work
(``io.team.BLOCKING_KINDS``) take part; a recorded training or meeting does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from staffplan.cover.settings import NewAbsence
from staffplan.errors import InputError
from staffplan.io.team import BLOCKING_KINDS
from staffplan.store.records import AbsenceRecord, PlanBase, RecordedAbsence


@dataclass(frozen=True, eq=False)
class CoverStart:
    """A cover's inputs from the store: ``base`` (version, roster, recorded absences, the latest
    version when read), ``given`` (the new absences, less those already recorded), ``pending``
    (recorded, not applied in the lineage: repaired now) and ``applied`` (recorded and applied
    in the lineage: context).
    """

    base: PlanBase
    given: tuple[NewAbsence, ...]
    pending: tuple[NewAbsence, ...]
    applied: tuple[NewAbsence, ...]
    pending_ids: tuple[int, ...]

    @property
    def repaired(self) -> tuple[NewAbsence, ...]:
        """The absences this cover repairs: the given ones, then the pending recorded ones."""
        return (*self.given, *self.pending)

    def records(self, note: str = "") -> tuple[AbsenceRecord, ...]:
        """The given absences as facts to store with the new version."""
        return tuple(AbsenceRecord(a.agent_id, a.start, a.end, a.kind, note) for a in self.given)


def as_new(absence: RecordedAbsence, zone: Any) -> NewAbsence:
    """A recorded absence as the repair reads it (times in ``zone``; text ``#id A17 sick ...``)."""
    start, end = absence.span(zone)
    return NewAbsence(absence.agent_id, start, end, absence.kind, absence.text())


def cover_start(base: PlanBase, given: tuple[NewAbsence, ...], zone: Any) -> CoverStart:
    """Split ``base``'s recorded absences into pending and applied, and drop from ``given`` any
    absence recorded already (same agent, span and kind): it is repaired or kept as recorded,
    never stored twice. :class:`InputError` when nothing is left to repair.
    """
    pending_ids = {a.id for a in base.pending}
    key = {(a.agent_id, *(t.value for t in a.span(zone)), a.kind) for a in base.absences}
    new = tuple(a for a in given if (a.agent_id, a.start.value, a.end.value, a.kind) not in key)
    blocking = [a for a in base.absences if a.kind in BLOCKING_KINDS]
    pending = tuple(a for a in blocking if a.id in pending_ids)
    applied = tuple(a for a in blocking if a.id not in pending_ids)
    if not new and not pending:
        raise InputError(
            "nothing to cover",
            column="--absent",
            expected="a new absence AGENT:DATE or AGENT:FROM/TO, or one recorded with 'staffplan "
            f"absent' that version {base.version.number} has not applied",
            found="only absences the version already applied" if given else "no absence",
            hint="list recorded absences with 'staffplan versions SCENARIO'",
        )
    return CoverStart(
        base,
        new,
        tuple(as_new(a, zone) for a in pending),
        tuple(as_new(a, zone) for a in applied),
        tuple(a.id for a in pending),
    )
