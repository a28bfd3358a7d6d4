"""Cover settings and inputs: the ``[cover]`` table, new absences and "now" from the command
line.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from staffplan.errors import InputError, ScenarioError
from staffplan.scenario import check_table
from staffplan.timegrid import TimeGrid

COVER_SPEC = {
    "max_overtime_min": (
        (int,),
        120,
        "the longest extension of one published shift [min], a whole number >= 0",
    ),
    "max_move_min": ((int,), 180, "how far a shift's start may move [min], a whole number >= 0"),
    "overtime_step_min": (
        (int,),
        60,
        "overtime comes in steps of this many minutes [min], a whole number >= 1",
    ),
    "max_changed_agents": ((int,), 0, "the most agents a repair may change (0 = no cap)"),
    "extra_days": (
        (int,),
        0,
        "days after the last absent day that the repair may also change [days]",
    ),
    "allow_callin": ((bool,), True, "true to allow calling in agents on their day off"),
    "allow_swap": ((bool,), True, "true to allow agents to take another agent's shift"),
    "changed_agent_weight": (
        (float, int),
        1000.0,
        "objective weight of one changed agent (tier 2, below service)",
    ),
    "move_cost": ((float, int), 20.0, "cost of moving one shift's start [currency]"),
    "overtime_cost_per_hour": ((float, int), 40.0, "cost of one hour of overtime [currency/h]"),
    "callin_cost": (
        (float, int),
        100.0,
        "premium for calling in one agent on a day off [currency]",
    ),
    "swap_cost": ((float, int), 30.0, "cost of giving an agent another shift template [currency]"),
    "cancel_cost": (
        (float, int),
        30.0,
        "cost of cancelling a published shift of an agent who is not absent [currency]",
    ),
    "break_move_cost": (
        (float, int),
        5.0,
        "cost of moving one published break inside its window [currency]",
    ),
    "max_break_moves": ((int,), 20, "the most break moves a repair may propose (0 = none)"),
    "reassign_cost": (
        (float, int),
        10.0,
        "cost of reassigning a multi-skilled agent to another queue for a span, per agent-day "
        "[currency]",
    ),
    "max_reassignments": (
        (int,),
        20,
        "the most agent-days a repair may reassign to another queue (0 = none)",
    ),
}


@dataclass(frozen=True)
class CoverSettings:
    """Costs [currency] and caps ([min], [agents]) of the repair actions, from ``[cover]``."""

    max_overtime_min: int = 120
    max_move_min: int = 180
    overtime_step_min: int = 60
    max_changed_agents: int = 0
    extra_days: int = 0
    allow_callin: bool = True
    allow_swap: bool = True
    changed_agent_weight: float = 1000.0
    move_cost: float = 20.0
    overtime_cost_per_hour: float = 40.0
    callin_cost: float = 100.0
    swap_cost: float = 30.0
    cancel_cost: float = 30.0
    break_move_cost: float = 5.0
    max_break_moves: int = 20
    reassign_cost: float = 10.0
    max_reassignments: int = 20


def cover_settings(table: Any, *, file: Path) -> CoverSettings:
    """Validate a scenario's ``[cover]`` table (unknown keys, types, ranges) into
    :class:`CoverSettings`.
    """
    t = check_table(table, COVER_SPEC, file=file, key="cover")
    for k, v in t.items():
        if not isinstance(v, bool) and v < 0:
            raise ScenarioError(
                "value out of range",
                file=file,
                key=f"cover.{k}",
                expected=COVER_SPEC[k][2],
                found=v,
            )
    if t["overtime_step_min"] < 1:
        raise ScenarioError(
            "value out of range",
            file=file,
            key="cover.overtime_step_min",
            expected=COVER_SPEC["overtime_step_min"][2],
            found=t["overtime_step_min"],
        )
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


_ABSENT_HINT = (
    "use AGENT:DATE (the whole day), or AGENT:FROM/TO with ISO dates or date-times, "
    "e.g. A03:2026-12-02T12:00/2026-12-03"
)


def _when(text: str, grid: TimeGrid, *, is_end: bool, option: str, found: str) -> pd.Timestamp:
    text = text.strip()
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return grid.local_midnight(day + dt.timedelta(days=1) if is_end else day)
        return grid.to_local(pd.Timestamp(dt.datetime.fromisoformat(text)))
    except ValueError:
        raise InputError(
            "bad date or time",
            column=option,
            expected="an ISO date (2026-12-02) or date-time (2026-12-02T12:00)",
            found=found,
            hint=_ABSENT_HINT,
        ) from None


def parse_absent(text: str, grid: TimeGrid, kind: str = "sick") -> NewAbsence:
    """Parse one ``--absent`` value: ``A17:2026-12-02`` or ``A03:2026-12-02T12:00/2026-12-03``.

    A date-only end is inclusive (the whole day). The agent id is everything
    before the first ``:``. Raises :class:`InputError` on a malformed value, an
    empty span or one that misses the planning horizon.
    """
    agent, sep, span = text.partition(":")
    if not sep or not agent.strip() or not span.strip():
        raise InputError(
            "bad absence",
            column="--absent",
            expected="AGENT:DATE or AGENT:FROM/TO",
            found=text,
            hint=_ABSENT_HINT,
        )
    first, slash, last = span.partition("/")
    start = _when(first, grid, is_end=False, option="--absent", found=text)
    if slash:
        end = _when(last, grid, is_end=True, option="--absent", found=text)
    elif len(first.strip()) == 10:
        end = _when(first, grid, is_end=True, option="--absent", found=text)
    else:
        raise InputError(
            "absence without an end",
            column="--absent",
            expected="AGENT:FROM/TO when FROM has a time",
            found=text,
            hint=_ABSENT_HINT,
        )
    if end <= start:
        raise InputError(
            "absence ends before it starts",
            column="--absent",
            expected="TO after FROM",
            found=text,
            hint=_ABSENT_HINT,
        )
    h0, h1 = grid.local_midnight(grid.start), grid.local_midnight(grid.end)
    if end <= h0 or start >= h1:
        raise InputError(
            "absence outside the planning horizon",
            column="--absent",
            expected=f"a time between {grid.start} and {grid.end - dt.timedelta(days=1)}",
            found=text,
        )
    return NewAbsence(agent.strip(), start, end, kind, text)


def parse_now(text: str, grid: TimeGrid) -> pd.Timestamp:
    """Parse ``--now`` (ISO date-time, local if no offset); it may not lie after the horizon."""
    try:
        now = grid.to_local(pd.Timestamp(dt.datetime.fromisoformat(text.strip())))
    except ValueError:
        raise InputError(
            "bad time",
            column="--now",
            expected="an ISO date-time like 2026-12-02T07:00",
            found=text,
        ) from None
    if now >= grid.local_midnight(grid.end):
        raise InputError(
            "now is after the planning horizon",
            column="--now",
            expected=f"a time before {grid.end} 00:00",
            found=text,
            hint="nothing is left to repair",
        )
    return now
