"""The cover window model is built by the roster's own ``build_model`` and rules: an overtime
extension counts towards its template's cap there, once."""

from __future__ import annotations

import numpy as np
import pandas as pd
from coverkit import DAY, row

from staffplan.cover.published import parse_rows, published_assignment, with_overtime
from staffplan.cover.settings import CoverSettings
from staffplan.io.roster_csv import roster_as_text
from staffplan.io.team import Agent, Contract, ShiftTemplate
from staffplan.roster.problem import RosterProblem, plain_demand
from staffplan.timegrid import TimeGrid


def test_overtime_counts_towards_the_template_cap() -> None:
    """An extended E (``E+60``) is still an E shift for the contract's ``max_shifts``: E+60 on day 0
    and E on day 1 break a cap of one E.
    """
    from ortools.sat.python import cp_model

    from staffplan.cover.window import build_window

    grid = TimeGrid(DAY, 2, 60, "Europe/Madrid")
    contract = {"FT": Contract("FT", 0, 7 * 600, 5, 6, min_rest_hours=11, max_shifts=(("E", 1),))}
    req = np.zeros((1, grid.n), dtype=np.int64)
    problem = RosterProblem(
        grid,
        (Agent("A1", "A1", "t", "FT", ("voice",)),),
        contract,
        (ShiftTemplate("E", 480, 480, 60, 480),),
        plain_demand(("voice",), req),
    )
    prob = with_overtime(problem, CoverSettings(), {"E"})
    pub = roster_as_text(pd.DataFrame([row("A1", "E", "voice")]))
    rows = parse_rows(prob, pub)
    assign = published_assignment(prob, rows)
    target = np.zeros_like(req)

    def feasible(force: list[str]) -> bool:
        b = build_window(
            prob, rows, (0, 1), grid.local_midnight(DAY), (), CoverSettings(), assign, target
        )
        for key in force:
            d, vid = key.split(":")
            b.rm.model.Add(b.rm.x[("A1", int(d), vid)] == 1)
        return cp_model.CpSolver().Solve(b.rm.model) in (cp_model.OPTIMAL, cp_model.FEASIBLE)

    assert feasible(["0:E+60@0800"]) and feasible(["0:E@0800"])
    assert not feasible(["0:E+60@0800", "1:E@0800"])
    assert not feasible(["0:E@0800", "1:E@0800"])
