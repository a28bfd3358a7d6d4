"""One exception family for everything a user can get wrong.

Every error carries where it happened (file, row, column or key path), what was
expected, what was found and a hint. The CLI prints ``str(error)`` as one clear
line and exits with code 2; a traceback reaching a user is a bug.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


class StaffplanError(Exception):
    """Base class: a problem with the user's input, explained.

    ``row`` is the 1-based line number in the file as a spreadsheet shows it
    (the header is line 1, so the first data row is line 2).
    """

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
        key: str | None = None,
        expected: str | None = None,
        found: object = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = str(file) if file is not None else None
        self.row = row
        self.column = column
        self.key = key
        self.expected = expected
        self.found = found
        self.hint = hint

    def location(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column '{self.column}'")
        if self.key is not None:
            parts.append(f"key '{self.key}'")
        return ", ".join(parts)

    def __str__(self) -> str:
        text = self.message
        loc = self.location()
        if loc:
            text = f"{loc}: {text}"
        if self.expected is not None:
            text += f"; expected {self.expected}"
        if self.found is not None:
            text += f", found {self.found!r}"
        if self.hint:
            text += f". Hint: {self.hint}"
        return text


class InputError(StaffplanError):
    """A data file (CSV/Parquet) or a CLI option holds a bad value."""


class LimitError(StaffplanError):
    """A run would exceed a resource bound (``staffplan.limits``); the hint says how to lift it."""


class OutputError(StaffplanError):
    """An output cannot be written where asked (read-only folder, foreign files, a data file)."""


class ScenarioError(StaffplanError):
    """A scenario file is malformed: unknown key, wrong type, missing file."""


@dataclass(frozen=True)
class Reason:
    """One reason why a model cannot be satisfied, in planner's words."""

    constraint: str
    where: str
    detail: str
    suggestion: str = ""

    def __str__(self) -> str:
        text = f"{self.constraint} — {self.where}: {self.detail}"
        if self.suggestion:
            text += f" (suggestion: {self.suggestion})"
        return text


class InfeasibleError(StaffplanError):
    """No plan satisfies the hard rules; ``reasons`` says which and where."""

    def __init__(self, message: str, reasons: Sequence[Reason] = (), **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.reasons = tuple(reasons)

    def __str__(self) -> str:
        text = super().__str__()
        if self.reasons:
            text += "\n" + "\n".join(f"  - {r}" for r in self.reasons)
        return text


class StoreError(StaffplanError):
    """The plan store refused an operation (missing version, conflict)."""


class RuleViolationError(StaffplanError):
    """A roster breaks hard rules; ``violations`` names each one (printed one per line)."""

    def __init__(self, message: str, violations: Sequence[object] = (), **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.violations = tuple(violations)

    def __str__(self) -> str:
        text = super().__str__()
        if self.violations:
            text += "\n" + "\n".join(f"  - {v}" for v in self.violations)
        return text


class StaffplanWarning(UserWarning):
    """Input that is used but probably not as meant (e.g. an absence outside the horizon).

    The CLI prints each one as a ``warning:`` line on stderr; the run goes on.
    """


def warn(message: str, **where: object) -> None:
    """Issue a :class:`StaffplanWarning` located like a :class:`StaffplanError`.

    ``where`` takes the error's keywords (file, row, column, key, expected,
    found, hint).
    """
    text = str(StaffplanError(message, **where))  # type: ignore[arg-type]
    warnings.warn(text, StaffplanWarning, stacklevel=2)
