"""From a solved repair to roster rows: pruning puts back changes that restore nothing."""

from __future__ import annotations

import numpy as np
import pandas as pd
from coverkit import GRID, NOW, lunch_case, sick

from staffplan.cover.extract import prune
from staffplan.cover.published import (
    coverage_counts,
    no_action_roster,
    parse_rows,
    published_assignment,
)


def test_prune_undoes_changes_that_restore_nothing() -> None:
    # A3 sick; a "repair" that moves A2's lunch to 13:00 (needed) and A1's lunch from 13:00 to 12:00
    # (useless: it opens 12-13)
    # keeps the first and undoes the second; a change that only hurts is undone

    problem, pub = lunch_case(required_13=0)
    absences = sick("A3")
    na = no_action_roster(problem, pub, absences, NOW)
    assert set(na["agent_id"]) == {"A1", "A2"}
    rows = parse_rows(problem, pub)
    assign = published_assignment(problem, rows)
    target = np.minimum(problem.demand.required, coverage_counts(problem, pub, (), assign))
    tried = na.copy()
    tried.loc[tried.agent_id == "A2", "breaks"] = "lunch 13:00-14:00"
    tried.loc[tried.agent_id == "A1", "breaks"] = "lunch 12:00-13:00"
    out = prune(problem, tried, na, absences, assign, target, 0, GRID.n)
    assert dict(zip(out["agent_id"], out["breaks"], strict=True)) == {
        "A1": "lunch 13:00-14:00",
        "A2": "lunch 13:00-14:00",
    }
    useless = na.copy()
    useless.loc[useless.agent_id == "A1", "breaks"] = (
        "lunch 11:15-12:15"  # opens 11-12 and 12-13 further, restores nothing
    )
    out = prune(problem, useless, na, absences, assign, target, 0, GRID.n)
    pd.testing.assert_frame_equal(
        out.reset_index(drop=True),
        na.sort_values("agent_id").reset_index(drop=True),
        check_dtype=False,
    )
