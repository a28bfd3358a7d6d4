"""The roster.csv columns: the one definition the engine writes and the plan store checks."""

from __future__ import annotations

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
    "activities",
)
"""Every column the engine writes, in order (docs/formats.md)."""

REQUIRED_ROSTER_COLUMNS: tuple[str, ...] = ROSTER_COLUMNS[:-1]
"""Columns every roster read or stored must have (``activities`` may be left out: a roster
without trainings or meetings has none)."""
