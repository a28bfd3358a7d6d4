"""Local search: its rules equal CP-SAT's, its objective equals CP-SAT's, its allocation is optimal,
it never gets worse.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random

import numpy as np
import pandas as pd
import pytest
from ortools.sat.python import cp_model
from rosterkit import START, contract, make, template

from staffplan.io.team import Absence, Agent, Break, Preference, PreviousShift, ShiftCover
from staffplan.roster.budget import Budget
from staffplan.roster.build import build_model
from staffplan.roster.engine import plan
from staffplan.roster.heuristics.agent_rules import OFF, AgentRules
from staffplan.roster.heuristics.allocation import Coverage
from staffplan.roster.heuristics.anneal import local_search, search_chains, searchable
from staffplan.roster.heuristics.best_response import best_response_hint
from staffplan.roster.heuristics.greedy import greedy_hint
from staffplan.roster.heuristics.search_state import Search
from staffplan.roster.problem import SCALE, Demand
from staffplan.roster.solver import complete_hint, objective_of
from staffplan.roster.validate import check_roster
from staffplan.scenario import Weights
from staffplan.settings import SolveSettings

QUEUES = ("voice", "chat", "email")


def _ts(day: int, hour: int) -> pd.Timestamp:
    return pd.Timestamp(
        dt.datetime.combine(START + dt.timedelta(days=day), dt.time(0)) + dt.timedelta(hours=hour),
        tz="UTC",
    )


def _demand(n: int, seed: int) -> Demand:
    """Random hourly requirements on three queues with increasing (convex) step costs."""
    rng = np.random.default_rng(seed)
    hour = np.arange(n) % 24
    req = np.where((hour >= 7) & (hour < 22), rng.integers(0, 4, size=(3, n)), 0).astype(np.int64)
    m = int(req.max())
    costs = np.zeros((3, n, m))
    for q in range(3):
        for t in range(n):
            r = req[q, t]
            costs[q, t, :r] = np.sort(rng.uniform(0.5, 3.0, size=r))
    minimum = np.zeros_like(req)
    minimum[0, 10] = 1  # one hard floor
    return Demand(QUEUES, QUEUES, req, minimum, costs)


def _rich(seed: int = 0):
    """7 days, 8 agents over three queues (two multi-skilled), every rule and soft term the search
    prices.
    """
    brk = (Break("lunch", 30, False, 180, 300),)
    templates = (
        template("E", "06:00", "08:00", 480, 60, breaks=brk),
        template("L", "13:00", "14:00", 480, 60, breaks=brk, not_followed_by=("E",), late=True),
        template("P", "09:00", "17:00", 240, 120),
    )
    contracts = {
        "FT": contract(
            id="FT",
            min_minutes_week=1800,
            max_minutes_week=2400,
            max_days_week=5,
            max_consecutive_days=4,
            min_consecutive_days=2,
            min_days_off_in_row=2,
            min_rest_hours=11,
            max_weekends=1,
            templates=("E", "L"),
            max_shifts=(("L", 3),),
        ),
        "PT": contract(
            id="PT",
            min_minutes_week=480,
            max_minutes_week=1200,
            max_days_week=4,
            max_consecutive_days=3,
            templates=("P",),
        ),
    }
    skills = [
        ("voice",),
        ("voice",),
        ("chat",),
        ("email",),
        ("voice", "chat"),
        ("voice", "email"),
        ("chat",),
        ("voice",),
    ]
    kinds = ["FT", "FT", "FT", "FT", "FT", "FT", "PT", "PT"]
    agents = [Agent(f"A{i}", f"Agent {i}", "t", kinds[i], skills[i], 15.0 + i) for i in range(8)]
    absences = (
        Absence("A1", _ts(2, 0), _ts(4, 0), "vacation"),
        Absence("A4", _ts(1, 9), _ts(1, 10), "training"),
    )
    prefs = (
        Preference("A0", START, "off", None, 3),
        Preference("A2", START + dt.timedelta(days=1), "on", "L", 2),
        Preference("A6", START + dt.timedelta(days=3), "on", None, 1),
    )
    cover = (
        ShiftCover(START + dt.timedelta(days=5), "E", 2, 5, 1),
        ShiftCover(START + dt.timedelta(days=6), "L", 1, 4, 0, "voice"),
    )
    previous = (
        PreviousShift("A0", START - dt.timedelta(days=1), "L", _ts(-1, 14), _ts(-1, 22)),
        PreviousShift("A3", START - dt.timedelta(days=1), "E", _ts(-1, 6), _ts(-1, 14)),
    )
    base = make(
        agents=agents,
        days=7,
        templates=templates,
        contracts=contracts,
        queues=QUEUES,
        weights=Weights(under_coverage=10, over_coverage=1, cost=0.01, preference=2, fairness=3),
    )
    return type(base)(
        base.grid,
        base.agents,
        base.contracts,
        base.templates,
        _demand(base.grid.n, seed),
        base.weights,
        absences,
        (),
        prefs,
        cover,
        previous,
    )


def _start(rm) -> dict:
    """A roster keeping every rule (the greedy start, each agent's week repaired by one
    best-response pass).
    """
    budget = Budget.single(SolveSettings(10.0, 1, 0, deterministic=True), "improve")
    return best_response_hint(rm, budget, start=greedy_hint(rm), max_passes=1)


def _schedules(rm, agent: str) -> set[tuple[str | None, ...]]:
    """Every schedule (variant id or None per day) CP-SAT accepts for ``agent`` under the hard rules
    alone.
    """
    model = rm.model.Clone()
    model.ClearObjective()
    keys = [k for k in rm.x if k[0] == agent]
    lits = [model.GetBoolVarFromProtoIndex(rm.x[k].Index()) for k in keys]
    out: set[tuple[str | None, ...]] = set()

    class Collect(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self) -> None:
            s: list[str | None] = [None] * rm.problem.grid.days
            for k, lit in zip(keys, lits, strict=True):
                if self.Value(lit):
                    s[k[1]] = k[2]
            out.add(tuple(s))

    solver = cp_model.CpSolver()
    solver.parameters.enumerate_all_solutions = True
    solver.parameters.num_workers = 1
    solver.Solve(model, Collect())
    return out


def test_agent_rules_accept_exactly_what_cp_sat_accepts():
    """Brute force over every schedule of each full-time agent: AgentRules.ok == the CP-SAT model's
    hard rules.
    """
    p = _rich()
    checked = 0
    for a in p.agents:
        if a.contract != "FT":
            continue  # the part-time week has 5^7 schedules: the full-time ones cover every rule
        solo = Agent(
            a.id, a.name, a.team, a.contract, ("voice",)
        )  # one skill: no free allocation variables to enumerate
        one = type(p)(
            p.grid,
            (solo,),
            p.contracts,
            p.templates,
            Demand.empty(QUEUES, QUEUES, p.grid.n),
            Weights(0, 0, 0, 0, 0),
            p.absences,
            (),
            (),
            (),
            p.previous,
            break_plans=1,
        )  # rules do not see break plans
        rm = build_model(one)
        st = Search(rm, {})
        i = 0
        rules: AgentRules = st.rules[i]
        accepted = set()
        choices = [[OFF, *range(len(day))] for day in st.options[i]]
        for s in itertools.product(*choices):
            if rules.ok(list(s)):
                accepted.add(
                    tuple(None if k == OFF else st.options[i][d][k].key[2] for d, k in enumerate(s))
                )
        # options banned by the previous roster are dropped from the search: CP-SAT must never use
        # them either
        assert accepted == _schedules(rm, a.id), a.id
        assert accepted, a.id
        checked += 1
    assert checked == 6


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_objective_equals_cp_sat(seed):
    """At random states of a search, its running objective equals the objective CP-SAT gives those
    shifts.
    """
    p = _rich(seed)
    rm = build_model(p)
    start = _start(rm)
    assert not any(Search(rm, start).fixed)
    for moves in (0, 50, 400):
        res = local_search(rm, start, 10.0, seed, max_moves=moves)
        values = complete_hint(rm, res.hint, SolveSettings(10, 1, 0))
        assert values is not None
        assert res.objective == pytest.approx(objective_of(rm, values), abs=1e-6)
        st = Search(rm, res.hint)
        assert st.objective == st.total() == round(res.objective * SCALE)


def _brute_cost(tables, groups, counts, t):
    """Cheapest allocation of each multi-skill group's ``counts`` over its queues at interval ``t``
    (brute force).
    """
    nq = len(tables)
    base = [0] * nq
    multi = []
    for g, c in zip(groups, counts, strict=True):
        if len(g) == 1:
            base[g[0]] += c
        else:
            multi.append((g, c))
    best = None
    splits = [
        [s for s in itertools.product(range(c + 1), repeat=len(g)) if sum(s) == c] for g, c in multi
    ]
    for combo in itertools.product(*splits):
        cov = list(base)
        for (g, _), s in zip(multi, combo, strict=True):
            for q, k in zip(g, s, strict=True):
                cov[q] += k
        cost = sum(tables[q][t][cov[q]] for q in range(nq))
        best = cost if best is None else min(best, cost)
    return best


def test_allocation_stays_optimal():
    """Random adds and removes over five skill groups: the incremental cost equals the brute-forced
    best allocation.
    """
    rng = random.Random(7)
    groups = [(0,), (1,), (2,), (0, 1), (0, 2), (1, 2)]
    cap = 12
    tables = []
    for _ in range(3):
        rows = []
        for _t in range(4):
            r = rng.randrange(0, 6)
            steps = sorted(rng.randrange(1, 50) for _ in range(r))[
                ::-1
            ]  # the last missing agent is the cheapest
            row = []
            for c in range(cap + 2):
                missing = max(r - c, 0)
                row.append(sum(steps[len(steps) - missing :]) if missing else 3 * (c - r))
            rows.append(row)
        tables.append(rows)
    cov = Coverage(tables, groups, 4)
    counts = [[0] * len(groups) for _ in range(4)]
    total = cov.cost()
    for _ in range(600):
        t = rng.randrange(4)
        g = rng.randrange(len(groups))
        if sum(counts[t]) >= 6:  # keep the brute force small: take someone off
            g = rng.choice([h for h in range(len(groups)) if counts[t][h] > 0])
        if counts[t][g] > 0 and (rng.random() < 0.45 or sum(counts[t]) >= 6):
            counts[t][g] -= 1
            total += cov.remove(g, t)
        else:
            counts[t][g] += 1
            total += cov.add(g, t)
        assert total == cov.cost()
        assert cov.cost() == sum(_brute_cost(tables, groups, counts[u], u) for u in range(4))


def test_search_improves_and_repeats():
    p = _rich(3)
    rm = build_model(p)
    start = _start(rm)
    a = local_search(rm, start, 10.0, 5, max_moves=3000)
    b = local_search(rm, start, 10.0, 5, max_moves=3000)
    assert a.hint == b.hint and a.objective == b.objective
    assert a.objective <= a.start_objective
    assert a.objective < a.start_objective  # one best-response pass leaves room
    values = complete_hint(rm, a.hint, SolveSettings(10, 1, 0))
    assert values is not None


def test_plan_with_search_keeps_every_rule():
    p = _rich(4)
    # deterministic limits: a wall limit of a few seconds found no roster on a loaded machine
    runs = [plan(p, SolveSettings(2.0, 1, 0, deterministic=True, search_share=0.5)) for _ in "ab"]
    assert not runs[0].roster.roster.empty
    assert check_roster(p, runs[0].roster.roster) == []
    assert runs[0].result.objective == runs[1].result.objective
    pd.testing.assert_frame_equal(runs[0].roster.roster, runs[1].roster.roster)


def test_models_with_other_terms_are_not_searched():
    rm = build_model(_rich())
    assert searchable(rm)
    v = rm.model.NewBoolVar("changed")
    rm.add_term("change", "changed", v, 100)
    assert not searchable(rm)


def test_chains_keep_the_best_and_repeat():
    """A second chain (forked) never makes the result worse than the first alone, and fixed move
    budgets repeat.
    """
    rm = build_model(_rich(5))
    start = _start(rm)
    one = local_search(rm, start, 10.0, 0, max_moves=1500)
    two = search_chains(rm, start, 10.0, 0, chains=2, max_moves=1500)
    assert two.objective <= one.objective
    again = search_chains(rm, start, 10.0, 0, chains=2, max_moves=1500)
    assert again.hint == two.hint and again.objective == two.objective
    values = complete_hint(rm, two.hint, SolveSettings(10, 1, 0))
    assert values is not None and objective_of(rm, values) == pytest.approx(two.objective, abs=1e-6)
