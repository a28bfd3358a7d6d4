"""The engine: the reported objective is the roster's own cost, not a stopped solver's loose slack;
every reported bound is valid (brute force) and names the stage that proved it; a wall-clock solve
returns within its limit, finishing included."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from rosterkit import contract, day_hours, make, solve_tiny, template
from test_optimum import _brute_force

from staffplan.io.team import Agent
from staffplan.roster.engine import plan, tightened
from staffplan.roster.solver import BOUND_SOURCES, best_bound, objective_of, result_of
from staffplan.scenario import Weights
from staffplan.settings import SolveSettings


def test_loose_slack_is_tightened_to_the_rosters_own_cost() -> None:
    out = solve_tiny(make(required=day_hours(3, {d: [(8, 16, 1)] for d in range(3)})))
    rm, res = out.model, out.result
    values = list(res.solution)
    domains = rm.model.Proto().variables
    over = next(  # an over-cover count with room to loosen: still a feasible assignment
        t
        for t in rm.terms
        if t.name.startswith("over[") and values[t.var.Index()] < max(domains[t.var.Index()].domain)
    )
    values[over.var.Index()] += 1
    loose = result_of(rm, "FEASIBLE", values, res.bound, 1.0, 0.5)
    assert loose.objective > res.objective
    tight = tightened(rm, loose, SolveSettings(1, 1, 0, deterministic=True))
    assert tight.objective == res.objective == objective_of(rm, list(tight.solution))
    assert tight.values == loose.values  # the same shifts
    assert tightened(rm, res, SolveSettings(1, 1, 0, deterministic=True)) is res


def test_best_bound_keeps_the_highest_known_bound_and_names_it() -> None:
    assert best_bound(("a", None), ("b", float("-inf"))) == (None, None)
    assert best_bound(("a", 3.0), ("b", 5.0), ("c", 5.0), ("d", None)) == (5.0, "b")
    assert best_bound(("a", -2.0)) == (-2.0, "a")


def _random_problem(seed: int):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    days = 2
    req = np.zeros((1, days * 24), dtype=np.int64)
    for d in range(days):
        a = int(rng.integers(5, 12))
        req[0, d * 24 + a : d * 24 + a + int(rng.integers(4, 10))] = int(rng.integers(1, 3))
    agents = [
        Agent(f"A{i}", "a", "t", "C", ("voice",), float(rng.integers(0, 3))) for i in range(2)
    ]
    templates = (
        template("E", "06:00", "08:00", length=360, step=120),
        template("L", "12:00", length=480),
    )
    con = contract(max_days_week=int(rng.integers(1, 3)), min_rest_hours=float(rng.integers(8, 14)))
    w = Weights(float(rng.integers(5, 20)), float(rng.integers(0, 3)), 1, 1, 0)
    return make(
        agents=agents, days=days, templates=templates, contracts={"C": con}, required=req, weights=w
    )


@pytest.mark.parametrize("seed", range(3))
def test_every_reported_bound_is_at_most_the_brute_force_optimum_and_names_its_stage(
    seed: int,
) -> None:
    """Whichever stage proves it (CP-SAT, the LP relaxation, column generation, neighbourhood
    search), the reported bound never exceeds the optimum found by enumerating every roster with the
    independent validator, and a proof of optimality is one."""
    p = _random_problem(seed)
    optimum = _brute_force(p)
    full = SolveSettings(5.0, 1, seed, deterministic=True, improve_share=0.5, colgen_share=0.4,
                         lns_share=0.8)  # fmt: skip
    with_lp = SolveSettings(5.0, 2, seed, lp_bound=True)
    for settings in (full, with_lp):
        res = plan(p, settings).result
        assert res.status == "OPTIMAL" and res.objective == pytest.approx(optimum)
        assert res.bound is not None and res.bound <= optimum + 1e-9
        assert res.bound == pytest.approx(optimum) and res.bound_source in BOUND_SOURCES


def test_a_wall_clock_solve_obeys_its_limit_on_a_model_that_cannot_finish_early(
    tmp_path: Path,
) -> None:
    """Curtois Instance7 (tests/data/curtois: 20 staff × 28 days, 1,056 best known, never proven
    optimal in a minute) with the importer's stages, LP bound included, for 5 s of wall time:
    the solve cannot end early, so it runs to its limit; building, finishing and extracting
    included, it returns within twice the limit (the slack covers machine load), and its steps'
    times add up to the call's. A process starved by other load may find no roster in 5 s: it
    must still return (with the one-line error) within the same bound."""
    from staffplan.errors import InfeasibleError
    from staffplan.importers.curtois import parse_instance, to_scenario
    from staffplan.roster.load import load_problem
    from staffplan.scenario import load
    from staffplan.settings import solve_settings

    root = Path(__file__).resolve().parents[2]
    sc = load(to_scenario(parse_instance(root / "tests/data/curtois/Instance7.txt"), tmp_path))
    problem = load_problem(sc)
    settings = solve_settings(sc, {"time_limit_s": 5.0, "workers": 2})
    t0 = time.perf_counter()
    try:
        out = plan(problem, settings)
    except InfeasibleError as err:  # no roster in time: it too ran to its limit
        assert "within the time limit" in str(err)
        out = None
    wall = time.perf_counter() - t0
    assert wall <= 2 * settings.time_limit_s
    if out is not None:
        assert out.result.status == "FEASIBLE"  # not proven optimal: it used its whole limit
        steps = list(out.stage_seconds)
        assert steps[0] == "build" and steps[-2:] == ["tighten", "extract"]
        assert sum(out.stage_seconds.values()) == pytest.approx(wall, abs=0.2)
