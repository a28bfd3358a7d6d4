"""Infeasible inputs are explained (pre-checks and assumption cores); unavoidable gaps are named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from rosterkit import contract, day_hours, make, solve_tiny, template

from staffplan.errors import InfeasibleError
from staffplan.io.team import Absence, Agent, Availability
from staffplan.roster.engine import plan
from staffplan.settings import SolveSettings


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_localize("UTC")


def test_precheck_names_the_agent_whose_minimum_cannot_be_reached() -> None:
    # available 4 h a day only, but needs 3 × 480 paid minutes in 3 days
    av = tuple(Availability("A1", wd, None, 8 * 60, 12 * 60) for wd in range(7))
    p = make(
        templates=(template("D", "08:00"), template("S", "08:00", length=240)),
        contracts={"C": contract(min_minutes_week=480 * 7)},
        availability=av,
        required=day_hours(3, {0: [(8, 16, 1)]}),
    )
    with pytest.raises(InfeasibleError) as exc:
        plan(p, SolveSettings(5, 1, 0, deterministic=True))
    text = str(exc.value)
    assert "weekly paid minutes" in text and "A1" in text and "A0" not in text
    assert "720 min" in text  # 3 × 240 reachable


def test_precheck_names_a_hard_minimum_nobody_can_staff() -> None:
    agents = [Agent("A0", "a", "t", "C", ("voice",)), Agent("A1", "b", "t", "C", ("billing",))]
    req = np.zeros((2, 72), dtype=np.int64)
    minimum = np.zeros_like(req)
    minimum[1, 32:34] = 1  # Tuesday 08:00-10:00 billing
    from staffplan.roster.problem import plain_demand

    p = make(agents=agents, queues=("voice", "billing"), required=req)
    p = type(p)(
        p.grid,
        p.agents,
        p.contracts,
        p.templates,
        plain_demand(("voice", "billing"), req, minimum),
        p.weights,
        absences=(Absence("A1", ts("2026-12-08"), ts("2026-12-09"), "vacation"),),
    )
    with pytest.raises(InfeasibleError) as exc:
        plan(p, SolveSettings(5, 1, 0, deterministic=True))
    text = str(exc.value)
    assert "minimum cover" in text and "billing" in text and "Tue 2026-12-08 08:00–10:00" in text


def test_core_names_the_conflicting_rule_and_agent() -> None:
    # A0 must work every day (minimum) but may not work more than 2 days in a row: only the solver
    # can see it
    cons = {"C": contract(min_minutes_week=480 * 7, max_consecutive_days=2), "F": contract()}
    agents = [Agent("A0", "a", "t", "C", ("voice",)), Agent("A1", "b", "t", "F", ("voice",))]
    p = make(agents=agents, contracts=cons, required=day_hours(3, {0: [(8, 16, 1)]}))
    with pytest.raises(InfeasibleError) as exc:
        plan(p, SolveSettings(5, 1, 0, deterministic=True))
    rules = {r.constraint for r in exc.value.reasons}
    where = " ".join(r.where for r in exc.value.reasons)
    assert {"weekly paid minutes", "max consecutive days"} <= rules
    assert "A0" in where and "A1" not in where
    assert "INFEASIBLE" not in str(exc.value).split("\n")[0]


def test_gap_note_when_the_only_skilled_agents_are_on_vacation() -> None:
    agents = [
        Agent("A0", "a", "t", "C", ("voice",)),
        Agent("A1", "b", "t", "C", ("billing",)),
        Agent("A2", "c", "t", "C", ("billing",)),
    ]
    req = np.zeros((2, 72), dtype=np.int64)
    req[1, 32:34] = 1
    vac = tuple(Absence(a, ts("2026-12-08"), ts("2026-12-09"), "vacation") for a in ("A1", "A2"))
    p = make(agents=agents, queues=("voice", "billing"), required=req, absences=vac)
    out = solve_tiny(p)
    assert len(out.notes) == 1
    note = out.notes[0]
    assert (
        note.startswith("Tue 2026-12-08 08:00–10:00 billing")
        and "only 0 agent(s)" in note
        and "A1, A2" in note
    )


def test_gap_note_when_no_template_reaches_the_hours() -> None:
    out = solve_tiny(make(required=day_hours(3, {0: [(2, 4, 1), (8, 16, 1)]})))
    assert out.notes == (
        "Mon 2026-12-07 02:00–04:00 voice: target 1 agents but only 0 agent(s) with skill "
        "voice can be on shift (no shift template their contracts allow "
        "covers these hours)",
    )
    assert out.result.objective == 0  # unreachable intervals carry no objective term
