"""Large-neighbourhood search: never worse, reaches a brute-forced optimum, keeps every hard rule,
deterministic mode repeats.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from rosterkit import contract, day_hours, make, template

from staffplan.roster.budget import Budget
from staffplan.roster.build import build_model
from staffplan.roster.engine import plan
from staffplan.roster.extract import extract
from staffplan.roster.heuristics.lns import improve, term_agents
from staffplan.roster.solver import Incumbent, complete_hint, objective_of, solve
from staffplan.roster.validate import check_roster
from staffplan.settings import SolveSettings

TINY_CURTOIS = """SECTION_HORIZON
2

SECTION_SHIFTS
D,480,
L,480,D

SECTION_STAFF
A,D=2|L=0,1440,0,2,1,1,1
B,D=2|L=2,1440,0,2,1,1,1

SECTION_DAYS_OFF

SECTION_SHIFT_ON_REQUESTS

SECTION_SHIFT_OFF_REQUESTS

SECTION_COVER
0,D,1,100,1
0,L,1,100,1
1,D,1,100,1
1,L,1,100,1
"""


def _problem():
    req = day_hours(
        4,
        {
            0: [(6, 14, 2), (14, 22, 1)],
            1: [(6, 14, 1), (14, 22, 2)],
            2: [(6, 22, 1)],
            3: [(14, 22, 2)],
        },
    )
    templates = (template("E", "06:00", length=480), template("L", "14:00", length=480))
    c = contract(max_days_week=3, min_rest_hours=11, max_consecutive_days=2)
    return make(agents=2, days=4, templates=templates, required=req, contracts={"C": c})


_OPTIMUM: list[float] = []


def _brute_force_optimum(rm) -> float:
    """The optimum of ``_problem()`` (computed once)."""
    if not _OPTIMUM:
        _OPTIMUM.append(_brute_force(rm))
    return _OPTIMUM[0]


def _brute_force(rm) -> float:
    """Every pair of feasible weeks (each agent's week checked alone, then the pair completed and
    costed by CP-SAT).
    """
    days = rm.problem.grid.days
    weeks: dict[str, list[dict]] = {}
    for a in rm.problem.agents:
        choices = [[None] + [v.id for v in rm.options.get((a.id, d), [])] for d in range(days)]
        weeks[a.id] = []
        for combo in itertools.product(*choices):
            shifts = {k: 0 for k in rm.x}
            shifts.update({(a.id, d, vid): 1 for d, vid in enumerate(combo) if vid is not None})
            if complete_hint(rm, shifts, SolveSettings(5, 1, 0)) is not None:
                weeks[a.id].append({k: v for k, v in shifts.items() if k[0] == a.id})
    best = None
    for pair in itertools.product(*weeks.values()):
        shifts = {k: v for w in pair for k, v in w.items()}
        values = complete_hint(rm, shifts, SolveSettings(5, 1, 0))
        assert values is not None
        obj = objective_of(rm, values)
        best = obj if best is None else min(best, obj)
    assert best is not None
    return best


def _det(limit_s: float, seed: int = 0) -> Budget:
    """A deterministic neighbourhood-search budget [deterministic s]: the same search on any
    machine, so quality assertions do not depend on its speed."""
    return Budget.single(SolveSettings(limit_s, 1, seed, deterministic=True), "lns")


def test_lns_from_an_empty_roster_reaches_the_brute_force_optimum_and_never_worsens(
    monkeypatch,
) -> None:
    import staffplan.roster.heuristics.lns as lns

    monkeypatch.setattr(
        lns, "WINDOW0", 1
    )  # start from one-day windows and one agent: the search must grow them
    monkeypatch.setattr(lns, "AGENTS0", 1)
    p = _problem()
    rm = build_model(p)
    start = complete_hint(
        rm, {k: 0 for k in rm.x}, SolveSettings(5, 1, 0)
    )  # nobody works: feasible, poor
    assert start is not None
    seen: list[float] = []
    out = improve(rm, start, _det(3.0, seed=1), on_improve=lambda obj, _values: seen.append(obj))
    assert seen == sorted(seen, reverse=True) and len(set(seen)) == len(seen)
    assert out.objective == objective_of(rm, out.values) < objective_of(rm, start)
    assert abs(out.objective - _brute_force_optimum(rm)) < 1e-9
    assert out.iterations >= out.improvements >= 1


def test_lns_result_keeps_every_hard_rule_of_the_validator() -> None:
    p = _problem()
    rm = build_model(p)
    res = solve(rm, SolveSettings(1.0, 1, 0, deterministic=True), hint={k: 0 for k in rm.x})
    start = complete_hint(rm, res.values, SolveSettings(5, 1, 0))
    out = improve(rm, start, _det(1.0))
    values = {k: int(out.values[v.Index()]) for k, v in rm.x.items()}
    terms = {t.name: int(out.values[t.var.Index()]) for t in rm.terms}
    roster = extract(
        p, rm, type(res)("FEASIBLE", out.objective, None, None, 1.0, None, values, terms)
    ).roster
    assert check_roster(p, roster) == []


def test_deterministic_lns_repeats_for_a_seed() -> None:
    p = _problem()
    rm = build_model(p)
    start = complete_hint(rm, {k: 0 for k in rm.x}, SolveSettings(5, 1, 0))
    a = improve(rm, start, _det(0.5, seed=3))
    b = improve(rm, start, _det(0.5, seed=3))
    assert a.values == b.values and a.iterations == b.iterations


def test_term_agents_link_a_cover_term_to_the_agents_who_can_work_it(tmp_path: Path) -> None:
    from staffplan.importers.curtois import parse_text, to_scenario
    from staffplan.roster.load import load_problem
    from staffplan.scenario import load

    toml = to_scenario(parse_text(TINY_CURTOIS), tmp_path / "tiny")
    rm = build_model(load_problem(load(toml)))
    links = term_agents(rm)
    by_name = {t.name: links[t.var.Index()] for t in rm.terms}
    # day 0: shift D can be worked by A and B; shift L only by B (A's contract caps L at 0)
    assert by_name["cover_under[2024-01-01,D]"] == ("A", "B")
    assert by_name["cover_under[2024-01-01,L]"] == ("B",)


def _poor_cp_sat(monkeypatch) -> None:
    """Make plan()'s CP-SAT stage return the empty roster (feasible, poor, bound 0), so that LNS has
    work to do.
    """
    import staffplan.roster.engine as roster_pkg
    from staffplan.roster.solver import SolveResult

    def poor(rm, settings, progress=None, **_: object) -> SolveResult:
        values = complete_hint(rm, {k: 0 for k in rm.x}, settings)
        obj = objective_of(rm, values)
        shifts = {k: int(values[v.Index()]) for k, v in rm.x.items()}
        terms = {t.name: int(values[t.var.Index()]) for t in rm.terms}
        return SolveResult("FEASIBLE", obj, 0.0, 1.0, 0.1, 0.1, shifts, terms)

    monkeypatch.setattr(roster_pkg, "solve", poor)


def test_plan_with_lns_improves_cp_sats_roster_and_reports_it_consistently(monkeypatch) -> None:
    _poor_cp_sat(monkeypatch)
    p = _problem()
    rm = build_model(p)
    empty = objective_of(rm, complete_hint(rm, {k: 0 for k in rm.x}, SolveSettings(5, 1, 0)))
    lines: list[Incumbent] = []
    det = SolveSettings(2.0, 2, 0, True, lp_bound=True, lns_share=0.5)
    out = plan(p, det, lines.append)
    res = out.result
    assert res.objective < empty
    assert abs(res.objective - _brute_force_optimum(rm)) < 1e-9
    assert abs(res.objective - sum(t.coef * res.term_values[t.name] for t in rm.terms) / 100) < 1e-9
    assert (
        res.bound == res.objective and res.gap == 0 and res.status == "OPTIMAL"
    )  # the LP bound (320) or the LNS proof
    assert lines and lines[-1].objective == res.objective  # progress reported the improvements
    assert check_roster(p, out.roster.roster) == []


def test_plan_with_lns_reports_the_lp_bound_of_the_full_objective(monkeypatch) -> None:
    """The LP job runs beside CP-SAT and LNS on the model *with* its objective (tight here: the
    brute-forced optimum).
    """
    import staffplan.roster.engine as roster_pkg
    from staffplan.roster.heuristics.lns import LnsResult

    _poor_cp_sat(monkeypatch)
    monkeypatch.setattr(
        roster_pkg,
        "improve",
        lambda rm, start, *a, **k: LnsResult(list(start), objective_of(rm, start), 0, 0),
    )
    # wall-clock mode (the LP job runs only there), with a limit far beyond the LP's milliseconds:
    # CP-SAT and LNS are stubbed, so the plan returns as soon as the LP does, on any machine load
    out = plan(_problem(), SolveSettings(60.0, 2, 0, lp_bound=True, lns_share=0.5))
    # the LP relaxation is tight here: its bound is the brute-forced optimum (320)
    optimum = _brute_force_optimum(build_model(_problem()))
    assert out.result.objective > optimum and abs(out.result.bound - optimum) < 1e-6
    assert out.result.gap == (out.result.objective - out.result.bound) / out.result.objective


def test_plan_with_lns_is_deterministic_in_deterministic_mode(monkeypatch) -> None:
    _poor_cp_sat(monkeypatch)
    p = _problem()
    s = SolveSettings(1.0, 2, 5, deterministic=True, lns_share=0.5)
    a, b = plan(p, s).result, plan(p, s).result
    assert a.values == b.values and a.objective == b.objective


def test_sub_solve_limit_doubles_while_the_search_stalls_and_resets_on_improvement() -> None:
    import staffplan.roster.heuristics.lns as lns

    rm = build_model(_problem())
    search = lns._Search(
        rm, complete_hint(rm, {k: 0 for k in rm.x}, SolveSettings(5, 1, 0)), 0, False
    )
    assert search.sub_limit() == lns.SUB_LIMIT_S
    search.stall = lns.STALL_STEPS
    assert search.sub_limit() == 2 * lns.SUB_LIMIT_S
    search.stall = 100 * lns.STALL_STEPS
    assert search.sub_limit() == lns.MAX_SUB_LIMIT_S
    import random

    search.stall = 5 * lns.STALL_STEPS
    search.step(random.Random(0), 0, 5.0)  # from the empty roster any neighbourhood improves
    assert search.stall == 0 and search.sub_limit() == lns.SUB_LIMIT_S


def test_terms_whose_neighbourhoods_failed_are_drawn_less() -> None:
    import random

    import staffplan.roster.heuristics.lns as lns

    rm = build_model(_problem())
    search = lns._Search(
        rm, complete_hint(rm, {k: 0 for k in rm.x}, SolveSettings(5, 1, 0)), 0, False
    )
    costly = [t.var.Index() for t in rm.terms if t.coef > 0 and search.values[t.var.Index()] > 0]
    assert len(costly) > 1
    for idx in costly[1:]:
        search.luck[idx] = 0.0  # every term but the first failed
    rng = random.Random(0)
    assert {search._costly(rng, search.values) for _ in range(20)} == {costly[0]}
    days = search.links.days(costly[0])
    free_a, free_d, aim = search.neighbourhood(random.Random(1), "window", search.values)
    assert free_a == set(search.agents) and len(free_d) == search.size["window"]
    if aim is not None:  # a window aimed at the term covers one of its days
        assert free_d & set(days)


def test_long_horizons_draw_the_weekday_kind_same_days_of_the_week_across_weeks() -> None:
    import random

    import staffplan.roster.heuristics.lns as lns

    days = 7 * lns.WEEKDAY_MIN_WEEKS
    req = day_hours(days, {d: [(6, 14, 1 + d % 2)] for d in range(days)})
    c = contract(max_days_week=5, min_rest_hours=11, max_consecutive_days=5)
    p = make(
        agents=3,
        days=days,
        templates=(template("E", "06:00", length=480),),
        required=req,
        contracts={"C": c},
    )
    rm = build_model(p)
    start = complete_hint(rm, {k: 0 for k in rm.x}, SolveSettings(5, 1, 0))
    search = lns._Search(rm, start, 0, False)
    assert "weekday" in search.kinds
    short = build_model(_problem())
    short_start = complete_hint(short, {k: 0 for k in short.x}, SolveSettings(5, 1, 0))
    assert "weekday" not in lns._Search(short, short_start, 0, False).kinds
    for seed in range(20):
        free_a, free_d, aim = search.neighbourhood(random.Random(seed), "weekday", search.values)
        assert free_a == set(search.agents)
        # runs of at most three consecutive days (clipped at the horizon ends), one per week drawn,
        # all on the same three days of the week
        firsts = sorted(d for d in free_d if d - 1 not in free_d)
        assert len(firsts) == search.size["weekday"] == lns.WEEKS0
        assert all(len({f, f + 1, f + 2, f + 3} & free_d) <= 3 for f in firsts)
        assert any({d % 7 for d in free_d} <= {r % 7, (r + 1) % 7, (r + 2) % 7} for r in range(7))
        if aim is not None:  # aimed at a term: one run holds a day of it
            assert free_d & set(search.links.days(aim))
