"""The published roster as cover reads it: the queue each multi-skilled agent serves follows the
engine's allocation, and its coverage is the engine's; a shift cut by a sick call is paid for
what was worked."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from coverkit import DAY, GRID, lunch_case, queue_case

from staffplan.cover.published import (
    coverage_counts,
    no_action_roster,
    parse_rows,
    published_assignment,
)
from staffplan.cover.settings import NewAbsence
from staffplan.io.team import Absence
from staffplan.roster.extract import allocate
from staffplan.roster.validate import check_roster


def test_published_assignment_follows_the_engine_allocation() -> None:
    problem, pub = queue_case()
    rows = parse_rows(problem, pub)
    assign = published_assignment(problem, rows)
    # every queue is fully covered by its single-skilled agents, so M1 takes its first-priority
    # queue (voice) 08-16
    assert assign[2, 8:16].tolist() == [0] * 8 and assign[2, :8].tolist() == [-1] * 8
    before = coverage_counts(problem, pub, (), assign)
    on = np.zeros((4, GRID.n), dtype=bool)
    on[:, 8:16] = True
    assert (
        before
        == allocate(on, [problem.agent_queues(a) for a in problem.agents], problem.demand.required)
    ).all()


def test_a_shift_cut_by_a_sick_call_is_paid_for_the_lunch_only_if_it_was_taken() -> None:
    # A1-A3 on E 08:00-16:00 (paid 420: 480 less an unpaid 60-min lunch), lunches 13-14, 11-12
    # and 12-13; all three go home sick at 12:30, after their shifts started.
    problem, pub = lunch_case(required_13=0)
    cut = GRID.local_midnight(DAY) + pd.Timedelta(hours=12, minutes=30)
    end = GRID.local_midnight(DAY + dt.timedelta(days=1))
    absences = tuple(NewAbsence(a, cut, end, "sick", a) for a in ("A1", "A2", "A3"))
    na = no_action_roster(problem, pub, absences, cut)
    got = {r.agent_id: (r.end[11:16], int(r.paid_minutes)) for r in na.itertuples()}
    # by hand: 08:00-12:30 is 270 min worked; A1 never reached its lunch (nothing deducted), A2
    # took all of it (60 unpaid), A3 half of it (30 unpaid)
    assert got == {"A1": ("12:30", 270), "A2": ("12:30", 210), "A3": ("12:30", 240)}
    # the independent validator agrees (a shift may end where a recorded absence starts)
    recorded = tuple(Absence(a.agent_id, a.start, a.end, a.kind) for a in absences)
    assert check_roster(problem, na, recorded=recorded) == []
