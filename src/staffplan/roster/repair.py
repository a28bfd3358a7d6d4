"""Minimal-change repair of a published roster after new absences (sick-leave cover).

Inputs: the scenario's roster problem, the published roster (text rows from the
plan store), the new absences and "now". The past is pinned (every agent-day
whose published shift starts before now, and every earlier day, keeps its
published shift); the new absences are added as hard absences; on the built
CP-SAT model the repair adds one "changed" indicator per agent-day and per
agent, with costs and caps from the scenario's ``[cover]`` table, and the
objective becomes: service first (the engine's coverage terms), then fewest
changed agents, then the cost of the actions. The published roster is the
solver's hint.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from staffplan.errors import InputError, ScenarioError
from staffplan.timegrid import TimeGrid

COVER_SPEC = {
    "max_overtime_min": ((int,), 120, "the longest extension of one published shift [min], a whole number >= 0"),
    "max_move_min": ((int,), 180, "how far a shift's start may move [min], a whole number >= 0"),
    "max_changed_agents": ((int,), 0, "the most agents a repair may change (0 = no cap)"),
    "allow_callin": ((bool,), True, "true to allow calling in agents on their day off"),
    "allow_swap": ((bool,), True, "true to allow agents to take another agent's shift"),
    "allow_queue_change": ((bool,), True, "true to allow reassigning multi-skilled agents to another queue"),
    "changed_agent_weight": ((float, int), 1000.0, "objective weight of one changed agent (tier 2, below service)"),
    "move_cost": ((float, int), 20.0, "cost of moving one shift's start [currency]"),
    "overtime_cost_per_hour": ((float, int), 40.0, "cost of one hour of overtime [currency/h]"),
    "callin_cost": ((float, int), 100.0, "premium for calling in one agent on a day off [currency]"),
    "swap_cost": ((float, int), 30.0, "cost of giving an agent another shift template [currency]"),
    "queue_change_cost": ((float, int), 5.0, "cost of reassigning one agent-day to other queues [currency]"),
}


@dataclass(frozen=True)
class CoverSettings:
    """Costs [currency] and caps ([min], [agents]) of the repair actions, from ``[cover]``."""

    max_overtime_min: int = 120
    max_move_min: int = 180
    max_changed_agents: int = 0
    allow_callin: bool = True
    allow_swap: bool = True
    allow_queue_change: bool = True
    changed_agent_weight: float = 1000.0
    move_cost: float = 20.0
    overtime_cost_per_hour: float = 40.0
    callin_cost: float = 100.0
    swap_cost: float = 30.0
    queue_change_cost: float = 5.0


def cover_settings(table: Any, *, file: Path) -> CoverSettings:
    """Validate a scenario's ``[cover]`` table (unknown keys, types, ranges) into :class:`CoverSettings`."""
    from staffplan.scenario import check_table

    t = check_table(table, COVER_SPEC, file=file, key="cover")
    for k, v in t.items():
        if not isinstance(v, bool) and v < 0:
            raise ScenarioError("value out of range", file=file, key=f"cover.{k}", expected=COVER_SPEC[k][2], found=v)
    return CoverSettings(**t)


@dataclass(frozen=True)
class NewAbsence:
    """An agent absent over local times [start, end) (tz-aware), as given on the command line."""

    agent_id: str
    start: pd.Timestamp
    end: pd.Timestamp
    kind: str = "sick"
    text: str = ""

    def overlaps(self, start: pd.Timestamp, end: pd.Timestamp) -> bool:
        """True if [start, end) meets the absence."""
        return bool(start < self.end and self.start < end)


_ABSENT_HINT = "use AGENT:DATE (the whole day), or AGENT:FROM/TO with ISO dates or date-times, e.g. A03:2026-12-02T12:00/2026-12-03"


def _when(text: str, grid: TimeGrid, *, is_end: bool, option: str, found: str) -> pd.Timestamp:
    text = text.strip()
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return grid.local_midnight(day + dt.timedelta(days=1) if is_end else day)
        return grid.to_local(pd.Timestamp(dt.datetime.fromisoformat(text)))
    except ValueError:
        raise InputError("bad date or time", column=option, expected="an ISO date (2026-12-02) or date-time (2026-12-02T12:00)", found=found, hint=_ABSENT_HINT) from None


def parse_absent(text: str, grid: TimeGrid, kind: str = "sick") -> NewAbsence:
    """Parse one ``--absent`` value: ``A17:2026-12-02`` or ``A03:2026-12-02T12:00/2026-12-03``.

    A date-only end is inclusive (the whole day). The agent id is everything
    before the first ``:``. Raises :class:`InputError` on a malformed value, an
    empty span or one that misses the planning horizon.
    """
    agent, sep, span = text.partition(":")
    if not sep or not agent.strip() or not span.strip():
        raise InputError("bad absence", column="--absent", expected="AGENT:DATE or AGENT:FROM/TO", found=text, hint=_ABSENT_HINT)
    first, slash, last = span.partition("/")
    start = _when(first, grid, is_end=False, option="--absent", found=text)
    if slash:
        end = _when(last, grid, is_end=True, option="--absent", found=text)
    elif len(first.strip()) == 10:
        end = _when(first, grid, is_end=True, option="--absent", found=text)
    else:
        raise InputError("absence without an end", column="--absent", expected="AGENT:FROM/TO when FROM has a time", found=text, hint=_ABSENT_HINT)
    if end <= start:
        raise InputError("absence ends before it starts", column="--absent", expected="TO after FROM", found=text, hint=_ABSENT_HINT)
    h0, h1 = grid.local_midnight(grid.start), grid.local_midnight(grid.end)
    if end <= h0 or start >= h1:
        raise InputError("absence outside the planning horizon", column="--absent", expected=f"a time between {grid.start} and {grid.end - dt.timedelta(days=1)}", found=text)
    return NewAbsence(agent.strip(), start, end, kind, text)


def parse_now(text: str, grid: TimeGrid) -> pd.Timestamp:
    """Parse ``--now`` (ISO date-time, local if no offset); it may not lie after the horizon."""
    try:
        now = grid.to_local(pd.Timestamp(dt.datetime.fromisoformat(text.strip())))
    except ValueError:
        raise InputError("bad time", column="--now", expected="an ISO date-time like 2026-12-02T07:00", found=text) from None
    if now >= grid.local_midnight(grid.end):
        raise InputError("now is after the planning horizon", column="--now", expected=f"a time before {grid.end} 00:00", found=text, hint="nothing is left to repair")
    return now


PHONE_COLUMNS: tuple[str, ...] = ("first_time", "agent_id", "date", "action", "old", "new", "minutes", "reason")


def _minutes(a: str, b: str) -> int:
    """Whole minutes from ISO time ``a`` to ``b``."""
    return int(round((dt.datetime.fromisoformat(b) - dt.datetime.fromisoformat(a)).total_seconds() / 60))


def classify(old: Any, new: Any) -> tuple[str, int]:
    """The lead's name for one agent-day change and its size [min], from change-log fields.

    ``call in`` (a shift on a day off; minutes = its length), ``cancel`` (no
    shift any more), ``extend`` / ``shorten`` (same start, end moved; minutes =
    the difference), ``move start`` (same template, start moved; minutes = the
    signed shift), ``swap shift`` (another template), ``reassign queue`` (same
    times, other queues).
    """
    if not old.old_shift and not old.old_start:
        return "call in", _minutes(new.new_start, new.new_end)
    if not new.new_shift and not new.new_start:
        return "cancel", _minutes(old.old_start, old.old_end)
    if old.old_start == new.new_start and old.old_end != new.new_end:
        d = _minutes(old.old_end, new.new_end)
        return ("extend" if d > 0 else "shorten"), abs(d)
    if old.old_shift == new.new_shift and old.old_start != new.new_start:
        return "move start", _minutes(old.old_start, new.new_start)
    if old.old_shift != new.new_shift or old.old_start != new.new_start or old.old_end != new.new_end:
        return "swap shift", _minutes(old.old_start, new.new_start)
    return "reassign queue", 0


def phone_list(change_log: pd.DataFrame, absent_agents: frozenset[str] = frozenset()) -> pd.DataFrame:
    """The changes a lead phones through, earliest affected time first (:data:`PHONE_COLUMNS`).

    ``change_log`` has the store's change columns (see :func:`staffplan.store.diff_rosters`).
    Removals of absent agents' own shifts need no call and are left out.
    """
    from staffplan.store import describe

    rows = []
    for r in change_log.itertuples(index=False):
        action, minutes = classify(r, r)
        if action == "cancel" and r.agent_id in absent_agents:
            continue
        first = min((t for t in (r.old_start, r.new_start) if t), key=lambda t: dt.datetime.fromisoformat(t))
        old = describe(r.old_shift, r.old_start, r.old_end) + (f" [{r.old_queues}]" if action == "reassign queue" else "")
        new = describe(r.new_shift, r.new_start, r.new_end) + (f" [{r.new_queues}]" if action == "reassign queue" else "")
        rows.append((first, r.agent_id, r.date, action, old, new, minutes, r.reason, dt.datetime.fromisoformat(first)))
    frame = pd.DataFrame(rows, columns=[*PHONE_COLUMNS, "_t"])
    frame = frame.sort_values(["_t", "agent_id"], kind="stable").drop(columns="_t").reset_index(drop=True)
    return frame.astype({"minutes": "int64"})
