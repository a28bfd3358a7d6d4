"""Brute force vs CP-SAT on small random instances; solver settings; determinism; shift-cover
objective.
"""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pandas as pd
import pytest
from rosterkit import START, contract, make, solve_tiny, template

from staffplan.io.team import Agent, Break, Preference, ShiftCover
from staffplan.roster.budget import DET_PER_CORE_S, safety_net_s
from staffplan.roster.build import build_model
from staffplan.roster.cpmodel import objective_expr
from staffplan.roster.engine import plan
from staffplan.roster.extract import allocate, coverage_cost, extract, on_phone_matrix
from staffplan.roster.problem import break_plans
from staffplan.roster.solver import make_solver, relative_gap, solve
from staffplan.roster.validate import check_roster
from staffplan.scenario import Weights
from staffplan.settings import SolveSettings


def _rows(problem, assignment) -> pd.DataFrame:
    """roster.csv rows for {(agent, day): template-start or None}, built from text (not the
    model).
    """
    tm = {t.id: t for t in problem.templates}
    rows = []
    for (a, d), choice in sorted(assignment.items()):
        if choice is None:
            continue
        tid, start = choice
        day = START + dt.timedelta(days=d)
        s = pd.Timestamp(f"{day} 00:00", tz="UTC") + pd.Timedelta(minutes=start)
        e = s + pd.Timedelta(minutes=tm[tid].length_min)
        rows.append(
            {
                "agent_id": a,
                "name": a,
                "date": day.isoformat(),
                "day": d,
                "shift": tid,
                "start": s.isoformat(),
                "end": e.isoformat(),
                "paid_minutes": tm[tid].paid_minutes,
                "breaks": "",
                "queues": "voice",
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
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
        ],
    )


def _brute_force(problem) -> float:
    """Minimum of under×w_u + over×w_o + cost + preferences over every assignment the validator
    accepts.
    """
    w = problem.weights
    choices = [None] + [(t.id, s) for t in problem.templates for s in t.starts()]
    keys = [(a.id, d) for a in problem.agents for d in range(problem.grid.days)]
    req = problem.demand.required
    # intervals no shift can reach carry a constant gap and are left out of the objective
    # (documented)
    reach = np.zeros(problem.grid.n, dtype=bool)
    for d in range(problem.grid.days):
        for t in problem.templates:
            for s in t.starts():
                lo = d * 24 + -(-s // 60)
                reach[lo : min(d * 24 + (s + t.length_min) // 60, problem.grid.n)] = True
    best = np.inf
    for combo in itertools.product(choices, repeat=len(keys)):
        assignment = dict(zip(keys, combo, strict=True))
        rows = _rows(problem, assignment)
        if check_roster(problem, rows):
            continue
        on = on_phone_matrix(rows, problem.agents, problem.grid)
        alloc = allocate(on, [(0,)] * len(problem.agents), req)
        diff = alloc - req
        cost = (
            w.under_coverage * (-diff.clip(max=0))[:, reach].sum()
            + w.over_coverage * diff.clip(min=0).sum()
        )
        for a in problem.agents:
            cost += (
                w.cost
                * a.hourly_cost
                * rows.loc[rows["agent_id"] == a.id, "paid_minutes"].sum()
                / 60
            )
        for p in problem.preferences:
            d = (p.date - START).days
            worked = assignment[(p.agent_id, d)]
            broken = (
                worked is not None
                if p.kind == "off"
                else (worked is None or (p.template is not None and worked[0] != p.template))
            )
            cost += w.preference * p.weight * broken
        best = min(best, cost)
    return float(best)


@pytest.mark.parametrize("seed", range(8))
def test_cp_sat_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    days = 2
    req = np.zeros((1, days * 24), dtype=np.int64)
    for d in range(days):
        a = int(rng.integers(5, 12))
        req[0, d * 24 + a : d * 24 + a + int(rng.integers(4, 10))] = int(rng.integers(1, 3))
    agents = [
        Agent("A0", "a", "t", "C", ("voice",), float(rng.integers(0, 3))),
        Agent("A1", "b", "t", "C", ("voice",), float(rng.integers(0, 3))),
    ]
    templates = (
        template("E", "06:00", "08:00", length=360, step=120),
        template("L", "12:00", length=480),
    )
    con = contract(
        max_days_week=int(rng.integers(1, 3)),
        min_rest_hours=float(rng.integers(8, 14)),
        max_consecutive_days=2,
    )
    prefs = (
        Preference(
            "A0",
            START + dt.timedelta(days=int(rng.integers(0, days))),
            "off",
            None,
            int(rng.integers(1, 30)),
        ),
    )
    w = Weights(
        under_coverage=float(rng.integers(5, 20)),
        over_coverage=float(rng.integers(0, 3)),
        cost=1,
        preference=1,
        fairness=0,
    )
    p = make(
        agents=agents,
        days=days,
        templates=templates,
        contracts={"C": con},
        required=req,
        weights=w,
        preferences=prefs,
    )
    out = solve_tiny(p)
    assert out.result.status == "OPTIMAL"
    assert out.result.objective == pytest.approx(_brute_force(p))


def test_solver_parameters_take_effect() -> None:
    s = make_solver(SolveSettings(time_limit_s=7.5, workers=2, seed=42, deterministic=True))
    assert s.parameters.num_workers == 2
    assert s.parameters.random_seed == 42
    # the limit in deterministic seconds becomes CP-SAT's deterministic time, per worker
    assert s.parameters.max_deterministic_time == pytest.approx(7.5 * DET_PER_CORE_S * 2)
    # the wall clock is only a safety net, far enough out that reaching it is a reported failure
    assert s.parameters.max_time_in_seconds == safety_net_s(7.5) >= 10 * 7.5
    assert s.parameters.interleave_search is True
    s3 = make_solver(SolveSettings(time_limit_s=7.5, workers=2, seed=42), 4.0)
    assert s3.parameters.max_time_in_seconds == 4.0
    assert s3.parameters.interleave_search is False
    s2 = make_solver(
        SolveSettings(time_limit_s=3, workers=1, seed=0), stop_after_first_solution=True
    )
    assert s2.parameters.num_workers == 1 and s2.parameters.stop_after_first_solution


def test_solver_parameters_are_obeyed_by_cp_sat() -> None:
    """The parameters reach the solve: CP-SAT's own log lists them, and a deterministic solve too
    large to finish stops at its deterministic limit, not before."""
    rng = np.random.default_rng(0)
    req = rng.integers(0, 6, size=(1, 7 * 24))
    p = make(agents=30, days=7, required=req, templates=(template("E", "00:00", "16:00", step=60),))
    rm = build_model(p)
    rm.model.Minimize(objective_expr(rm))
    settings = SolveSettings(0.1, 1, 5, deterministic=True)
    s = make_solver(settings, log_search_progress=True, log_to_stdout=False, log_to_response=True)
    code = s.Solve(rm.model)
    r = s.ResponseProto()
    limit = s.parameters.max_deterministic_time
    for text in ("num_workers: 1", "random_seed: 5", f"max_deterministic_time: {limit:g}"):
        assert text in r.solve_log
    assert s.StatusName(code) in ("FEASIBLE", "UNKNOWN")  # stopped by the limit, not a proof
    assert limit <= r.deterministic_time <= limit * 1.5  # CP-SAT checks the limit between steps


def test_relative_gap_definition() -> None:
    assert relative_gap(100.0, 95.0) == pytest.approx(0.05)
    assert relative_gap(0.5, 0.0) == pytest.approx(0.5)  # denominator at least 1
    assert relative_gap(10.0, 10.0) == 0.0


def test_progress_lines_and_result_fields() -> None:
    req = np.zeros((1, 72), dtype=np.int64)
    req[0, 8:16] = 2
    p = make(required=req)
    seen = []
    rm = build_model(p)
    res = solve(rm, SolveSettings(5, 1, 0, deterministic=True), progress=seen.append)
    assert res.status == "OPTIMAL" and res.gap == 0 and seen
    last = seen[-1]
    assert last.objective == res.objective and last.elapsed_s >= 0 and 0 <= last.gap <= 1
    assert last.bound <= last.objective
    # the incumbent's paid minutes and on-phone agents are those of the returned roster
    shifts = [v for v in p.variants for (a, d, vid), x in res.values.items() if x and vid == v.id]
    assert last.paid_minutes == sum(v.paid_minutes for v in shifts)
    # one queue, no breaks: the model's on-phone agents are the written roster's
    assert last.on_phone is not None
    assert (last.on_phone == extract(p, rm, res).allocation).all()


def test_same_seed_same_roster() -> None:
    rng = np.random.default_rng(3)
    req = rng.integers(0, 3, size=(2, 4 * 24))
    agents = [
        Agent(f"A{i}", f"a{i}", "t", "C", (("voice",), ("chat",), ("voice", "chat"))[i % 3])
        for i in range(6)
    ]
    p = make(
        agents=agents,
        days=4,
        queues=("voice", "chat"),
        required=req,
        templates=(
            template("E", "06:00", "10:00", step=60),
            template("L", "12:00", "14:00", step=60),
        ),
        contracts={"C": contract(max_days_week=3, min_rest_hours=11)},
    )
    settings = SolveSettings(1.5, 2, 7, deterministic=True)
    a = plan(p, settings).roster.roster
    b = plan(p, settings).roster.roster
    pd.testing.assert_frame_equal(a, b)


def test_shift_cover_only_objective_is_weighted_deviation_plus_preferences() -> None:
    cover = (
        ShiftCover(START, "D", 2, 100, 1),
        ShiftCover(START + dt.timedelta(days=1), "D", 0, 100, 7),
        ShiftCover(START + dt.timedelta(days=2), "N", 1, 50, 1),
    )
    prefs = (
        Preference("A0", START, "not", "D", 30),
        Preference("A1", START + dt.timedelta(days=2), "on", "N", 20),
    )
    templates = (template("D", "08:00"), template("N", "22:00", not_followed_by=("D",)))
    w = Weights(under_coverage=0, over_coverage=0, cost=0, preference=1, fairness=0)
    p = make(
        days=3,
        templates=templates,
        shift_cover=cover,
        preferences=prefs,
        weights=w,
        contracts={"C": contract(max_days_week=2)},
    )
    out = solve_tiny(p)
    r = out.roster.roster
    # recompute from roster rows alone
    total = 0
    for c in cover:
        n = int(((r["date"] == c.date.isoformat()) & (r["shift"] == c.template)).sum())
        total += c.under_weight * max(c.required - n, 0) + c.over_weight * max(n - c.required, 0)
    for pr in prefs:
        mine = r[(r["agent_id"] == pr.agent_id) & (r["date"] == pr.date.isoformat())]
        works_t = bool((mine["shift"] == pr.template).any())
        total += pr.weight * (works_t if pr.kind == "not" else not works_t)
    assert out.result.objective == total
    assert out.result.status == "OPTIMAL"
    assert total == 30  # covering day 0 needs both agents, so A0's "not D" is broken (30 < 100)


def _brute_force_breaks(problem, plans_per_template, every_interval: bool = False) -> float:
    """Minimum of under×w_u + over×w_o over every (shift, break plan) per agent, scored from roster
    text.

    Under-coverage counts where some (shift, plan) could cover, as the model does;
    ``every_interval``: everywhere.
    """
    w = problem.weights
    tm = {t.id: t for t in problem.templates}
    choices = [None] + [
        (t.id, s, offs)
        for t in problem.templates
        for s in t.starts()
        for offs in plans_per_template[t.id]
    ]
    keys = [(a.id, d) for a in problem.agents for d in range(problem.grid.days)]
    req = problem.demand.required
    best = np.inf
    reach = np.zeros(
        problem.grid.n, dtype=bool
    )  # intervals no (shift, plan) covers carry a constant gap, left out (documented)
    scored = []
    for combo in itertools.product(choices, repeat=len(keys)):
        rows = []
        for (a, d), choice in zip(keys, combo, strict=True):
            if choice is None:
                continue
            tid, start, offs = choice
            s = pd.Timestamp(f"{START + dt.timedelta(days=d)} 00:00", tz="UTC") + pd.Timedelta(
                minutes=start
            )
            brk = ";".join(
                f"{b.name} {(s + pd.Timedelta(minutes=o)):%H:%M}-"
                f"{(s + pd.Timedelta(minutes=o + b.minutes)):%H:%M}"
                for o, b in zip(offs, tm[tid].breaks, strict=True)
            )
            rows.append(
                {
                    "agent_id": a,
                    "name": a,
                    "date": str(START + dt.timedelta(days=d)),
                    "day": d,
                    "shift": tid,
                    "start": s.isoformat(),
                    "end": (s + pd.Timedelta(minutes=tm[tid].length_min)).isoformat(),
                    "paid_minutes": tm[tid].paid_minutes,
                    "breaks": brk,
                    "queues": "voice",
                }
            )
        frame = pd.DataFrame(
            rows,
            columns=[
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
            ],
        )
        if check_roster(problem, frame):
            continue
        on = on_phone_matrix(frame, problem.agents, problem.grid)
        reach |= on.any(axis=0)
        scored.append((on, frame))
    if every_interval:
        reach[:] = True
    for on, _frame in scored:
        diff = allocate(on, [(0,)] * len(problem.agents), req) - req
        best = min(
            best,
            w.under_coverage * (-diff.clip(max=0))[:, reach].sum()
            + w.over_coverage * diff.clip(min=0).sum(),
        )
    return float(best)


@pytest.mark.parametrize("plans", [1, 5])
def test_break_plans_match_brute_force(plans: int) -> None:
    """Three agents on one day: CP-SAT's optimum over shifts and break plans equals brute force over
    the same plans, written as roster text.

    Two agents needed all day while three work: only staggered lunches keep
    two on the phones every hour, so five plans must beat the midpoint alone.
    """
    lunch = (Break("lunch", 30, False, 120, 240),)
    templates = (template("E", "08:00", length=360, breaks=lunch),)
    req = np.zeros((1, 24), dtype=np.int64)
    req[0, 9:14] = 2
    agents = [Agent(f"A{i}", f"a{i}", "t", "C", ("voice",)) for i in range(3)]
    p = make(
        agents=agents,
        days=1,
        templates=templates,
        required=req,
        weights=Weights(under_coverage=10, over_coverage=1, cost=0, preference=0, fairness=0),
        break_plans=plans,
    )
    offsets = {"E": break_plans(templates[0], 15, plans)}
    assert len(offsets["E"]) == plans and offsets["E"][0] == (180,)  # the midpoint plan first
    out = solve_tiny(p)
    assert out.result.status == "OPTIMAL"
    assert out.result.objective == pytest.approx(_brute_force_breaks(p, offsets))
    if (
        plans > 1
        # every interval needing agents is coverable here, so the midpoint plan alone scored the
        # same
        # way costs more
    ):
        assert out.result.objective < _brute_force_breaks(
            p, {"E": offsets["E"][:1]}, every_interval=True
        )
        # the written roster (breaks after the second stage) covers as well as the model's plans
        assert coverage_cost(p, out.roster.allocation) <= out.result.objective + 1e-9


def test_break_plans_stay_inside_windows() -> None:
    """Every plan keeps each break inside its window, on the step grid, without overlaps; 1 plan =
    the midpoints.
    """
    brk = (
        Break("coffee1", 15, True, 60, 150),
        Break("lunch", 30, False, 180, 300),
        Break("coffee2", 15, True, 330, 420),
    )
    t = template("F", "08:00", length=510, breaks=brk)
    assert break_plans(t, 15, 1) == ((105, 240, 375),)
    for k in (2, 3, 5, 9):
        plans = break_plans(t, 15, k)
        assert plans[0] == (105, 240, 375) and len(set(plans)) == len(plans) == k
        for offs in plans:
            for o, b in zip(offs, brk, strict=True):
                assert b.earliest <= o <= b.latest and (o - b.earliest) % 15 == 0
            spans = sorted((o, o + b.minutes) for o, b in zip(offs, brk, strict=True))
            assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))
    # overlapping windows: extra plans whose breaks would overlap are left out
    tight = template(
        "G",
        "08:00",
        length=240,
        breaks=(Break("a", 30, False, 60, 90), Break("b", 30, False, 60, 120)),
    )
    for offs in break_plans(tight, 15, 5)[1:]:  # (the midpoint plan is the planned one, as before)
        assert offs[0] + 30 <= offs[1] or offs[1] + 30 <= offs[0]
