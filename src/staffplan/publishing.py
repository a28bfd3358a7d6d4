"""Publishing a checked roster: the independent validator with the recorded absences, then one
write that links the absences the new version applies (``staffplan publish`` and the web
workspace's Edit page).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from staffplan.errors import RuleViolationError
from staffplan.store.plan_store import PlanStore
from staffplan.store.records import RecordedAbsence, Version, team_absences


@dataclass(frozen=True, eq=False)
class Published:
    """A new version, the recorded absences it applied, the violations it was published with
    (``--force``) and the scenario's rules problem it was checked against.
    """

    version: Version
    applied: tuple[RecordedAbsence, ...]
    violations: tuple[Any, ...]  # staffplan.roster.validate.Violation
    problem: Any  # staffplan.roster.problem.RosterProblem


def publish_checked(
    scenario: Any,
    store: PlanStore,
    roster: pd.DataFrame,
    *,
    note: str,
    author: str | None = None,
    number: int | None = None,
    fork: bool = False,
    force: bool = False,
    expect_latest: int | None = None,
    source: str = "roster",
) -> Published:
    """Check ``roster`` against every hard rule and the store's recorded absences, then store it.

    ``number``: the parent version (default the latest; an older one needs ``fork``).
    ``expect_latest``: the latest version the caller started from (default: the latest read
    here); the store refuses the write (``ConflictError``) if another writer published since.
    A roster with violations raises :class:`RuleViolationError` (nothing written) unless
    ``force``, which stores them with the version. The new version applies the pending recorded
    absences of every agent without an ``absence`` violation. ``source`` names the roster in
    messages (a file name).
    """
    from staffplan.pipeline import check_scenario_roster

    if number is not None or store.latest() is not None:
        base = store.base(number)
        store.check_fork(base, fork=fork)
        latest, recorded, pending = base.latest, base.absences, base.pending
    else:  # the first version
        latest, recorded = 0, store.absences()
        pending = recorded
    problem, violations = check_scenario_roster(
        scenario, roster, team_absences(recorded, scenario.grid.zone)
    )
    if violations and not force:
        raise RuleViolationError(
            f"{source}: {len(violations)} hard-rule violation(s); nothing was published",
            [str(v) for v in violations],
            hint="fix the roster (list the violations with 'staffplan validate SCENARIO --roster "
            "FILE'), or publish it anyway with --force --note 'why'",
        )
    blocked = {v.agent_id for v in violations if v.rule == "absence"}
    applied = tuple(a for a in pending if a.agent_id not in blocked)
    version = store.publish(
        roster,
        note=note,
        author=author,
        parent=number,
        expect_latest=latest if expect_latest is None else expect_latest,
        fork=fork,
        link=[a.id for a in applied],
        violations=[v.as_dict() for v in violations],
    )
    return Published(version, applied, tuple(violations), problem)
