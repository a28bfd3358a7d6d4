"""The roster objective prices the promised measure: on a tiny instance, the CP-SAT optimum is the
roster (of all rosters, enumerated) whose promised contacts answered within target are the most."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rosterkit import START, contract, solve_tiny, template

from staffplan.evaluate.kpis import promised_curve, promised_kpis
from staffplan.io.team import Agent
from staffplan.queueing import Target, concave_majorant
from staffplan.roster.extract import on_phone_matrix
from staffplan.roster.load import demand_from_frame
from staffplan.roster.problem import RosterProblem
from staffplan.scenario import Weights, from_document
from staffplan.timegrid import TimeGrid

RESIDUAL = 0.25
TARGET = Target(0.8, 20, patience_s=120)
# contacts per hour, 06:00-18:00: a morning peak and a smaller afternoon one; every hour needs 3 or
# 4 heads (more than the 3 agents), so no head is ever beyond the coverage target
VOLUME = {6: 8, 7: 10, 8: 18, 9: 22, 10: 20, 11: 14, 12: 9, 13: 16, 14: 21, 15: 12, 16: 9, 17: 7}


def _problem() -> RosterProblem:
    grid = TimeGrid(START, 1, 60, "UTC")
    doc = {
        "name": "tiny",
        "shrinkage": RESIDUAL,
        "grid": {"start": START, "days": 1, "interval_minutes": 60, "timezone": "UTC"},
        "queues": {"voice": {"service_level": 0.8, "answer_within_s": 20, "patience_s": 120}},
    }
    scenario = from_document(doc, Path("tiny.toml"))
    frame = pd.DataFrame(
        {
            "interval_start": grid.starts,
            "queue": "voice",
            "required": 0.0,
            "volume": [float(VOLUME.get(h, 0)) for h in range(24)],
            "aht_seconds": 240.0,
            "minimum": 0,
        }
    )
    demand = demand_from_frame(frame, grid, ("voice",), ("voice",), RESIDUAL, scenario=scenario)
    agents = tuple(Agent(f"A{i}", f"A{i}", "t", "C", ("voice",)) for i in range(3))
    one_shift = contract(min_minutes_horizon=240, max_minutes_horizon=240)
    tpl = (template("D", "06:00", "14:00", length=240, step=120),)
    w = Weights(under_coverage=1, over_coverage=0, cost=0, preference=0, fairness=0)
    return RosterProblem(grid, agents, {"C": one_shift}, tpl, demand, w, residual_shrinkage=0.0)


def _promised_answered(problem: RosterProblem, starts: tuple[int, ...]) -> float:
    """Σ over hours of volume × promised service level for agents starting at ``starts`` [min]."""
    rows = pd.DataFrame(
        {
            "agent_id": [a.id for a in problem.agents],
            "start": [
                (pd.Timestamp(f"{START} 00:00", tz="UTC") + pd.Timedelta(minutes=s)).isoformat()
                for s in starts
            ],
            "end": [
                (
                    pd.Timestamp(f"{START} 00:00", tz="UTC") + pd.Timedelta(minutes=s + 240)
                ).isoformat()
                for s in starts
            ],
            "breaks": "",
            "activities": "",
        }
    )
    heads = on_phone_matrix(rows, problem.agents, problem.grid).sum(axis=0)
    vol = np.array([float(VOLUME.get(h, 0)) for h in range(24)])
    k = promised_kpis(vol, 240.0, 60, heads, TARGET, RESIDUAL)
    return float((vol * k["service_level"].to_numpy()).sum())


def test_the_objective_is_the_promised_curve_where_it_matters() -> None:
    # the precondition of the brute-force claim: on 0..4 heads the objective's concave curve is the
    # promised one itself (no chord replaces a convex start at these loads)
    vol = np.array([float(v) for v in VOLUME.values()])
    exact = promised_curve(vol, 240.0, 60, TARGET, RESIDUAL, 4)
    np.testing.assert_allclose(concave_majorant(exact), exact, rtol=1e-9)


def test_model_optimum_maximises_the_promised_measure() -> None:
    problem = _problem()
    assert problem.demand.sl_aware
    open_hours = list(VOLUME)
    assert (problem.demand.required[0, open_hours] >= 3).all()
    out = solve_tiny(problem)
    assert out.result.status == "OPTIMAL"
    chosen = tuple(
        sorted(
            int((pd.Timestamp(s) - pd.Timestamp(f"{START} 00:00", tz="UTC")).total_seconds() // 60)
            for s in out.roster.roster["start"]
        )
    )
    options = [t for t in problem.templates[0].starts()]
    values = {
        combo: _promised_answered(problem, combo)
        for combo in itertools.combinations_with_replacement(options, 3)
    }
    best = max(values.values())
    assert values[chosen] == pytest.approx(best, rel=1e-9)
    # the objective is that measure itself: contacts the target would answer minus those promised
    vol = np.array([float(VOLUME.get(h, 0)) for h in range(24)])
    full = promised_curve(vol, 240.0, 60, TARGET, RESIDUAL, int(problem.demand.required.max()))
    at_target = full[np.arange(24), problem.demand.required[0]].sum()
    assert out.result.objective == pytest.approx(at_target - best, abs=0.05)
    # and the optimum is not trivial: some rosters promise clearly less
    assert min(values.values()) < best - 1.0
    assert dt.date.fromisoformat(out.roster.roster["date"].iloc[0]) == START
