"""A direct CP-SAT model of a Curtois instance (test oracle, independent of staffplan).

Built from the checker's plain parse (:func:`read_bench`) with the README's
rules, so that a published optimum reached by it and confirmed by the checker
validates the checker, and its rosters give the importer tests real solutions.
"""

from __future__ import annotations

from ortools.sat.python import cp_model
from tests.importers.curtois_checker import Bench


def solve(b: Bench, time_limit_s: float = 10.0) -> tuple[str, int, list[tuple[str, int, str]]]:
    """(status name, objective, rows (staff, day, shift)) of the best roster found within
    ``time_limit_s`` deterministic seconds of CP-SAT."""
    m = cp_model.CpModel()
    h, shifts = b.horizon, list(b.length)
    x = {
        (e, d, s): m.new_bool_var(f"x[{e},{d},{s}]")
        for e in b.staff
        for d in range(h)
        for s in shifts
    }
    w = {(e, d): sum(x[e, d, s] for s in shifts) for e in b.staff for d in range(h)}
    for (e, d), lin in w.items():
        m.add(lin <= (0 if d in b.days_off.get(e, ()) else 1))
    for e, (maxs, max_min, min_min, max_cons, min_cons, min_off, max_we) in b.staff.items():
        for d in range(h - 1):
            for a in shifts:
                for c in b.forbidden[a]:
                    m.add_bool_or([x[e, d, a].Not(), x[e, d + 1, c].Not()])
        for s, n in maxs.items():
            m.add(sum(x[e, d, s] for d in range(h)) <= n)
        minutes = sum(b.length[s] * x[e, d, s] for d in range(h) for s in shifts)
        m.add(minutes <= max_min)
        m.add(minutes >= min_min)
        for d in range(h - max_cons):
            m.add(sum(w[e, d + i] for i in range(max_cons + 1)) <= max_cons)
        work = [m.new_bool_var(f"w[{e},{d}]") for d in range(h)]
        for d in range(h):
            m.add(work[d] == w[e, d])
        for k, worked in ((min_cons, True), (min_off, False)):
            lit = work if worked else [v.Not() for v in work]
            for length in range(1, k):
                for d in range(1, h - length):
                    # forbid an inner block of `length` days: days d..d+length-1 in it, d-1 and
                    # d+length not
                    m.add_bool_or(
                        [lit[d - 1], *[lit[d + i].Not() for i in range(length)], lit[d + length]]
                    )
        weekends = []
        for sat in range(5, h, 7):
            we = m.new_bool_var(f"we[{e},{sat}]")
            days = [work[sat]] + ([work[sat + 1]] if sat + 1 < h else [])
            m.add_max_equality(we, days)
            weekends.append(we)
        m.add(sum(weekends) <= max_we)
    terms = [wt * (1 - x[e, d, s]) for e, d, s, wt in b.on] + [
        wt * x[e, d, s] for e, d, s, wt in b.off
    ]
    for d, s, need, uw, ow in b.cover:
        under, over = (
            m.new_int_var(0, need, f"under[{d},{s}]"),
            m.new_int_var(0, len(b.staff), f"over[{d},{s}]"),
        )
        m.add(sum(x[e, d, s] for e in b.staff) - need == over - under)
        terms += [uw * under, ow * over]
    m.minimize(sum(terms))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 2
    solver.parameters.random_seed = 0
    # a deterministic limit: the same answer on any machine (the wall clock only a far net)
    solver.parameters.interleave_search = True
    solver.parameters.max_deterministic_time = time_limit_s
    solver.parameters.max_time_in_seconds = 20 * time_limit_s
    status = solver.solve(m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return solver.status_name(status), -1, []
    rows = [(e, d, s) for (e, d, s), v in x.items() if solver.boolean_value(v)]
    return solver.status_name(status), round(solver.objective_value), rows
