"""Interval coverage: on-phone agents per (queue, interval) and what missing or surplus agents
cost.

Agents with identical queue sets form a *skill group*; per interval the
group's on-phone count is split across its queues by integer allocation
variables, and per (group, day, shift) integer counts say how many of its
agents take each staggered break plan (exact: the group's agents are
interchangeable for coverage). The coverage of each (queue, interval) is
recorded in ``rm.coverage`` (a linear expression) and, for reading a solution
without CP-SAT, in ``rm.cover_rows`` (variable indices and coefficients).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np
from ortools.sat.python import cp_model

from staffplan.io.team import Agent
from staffplan.roster.cpmodel import RosterModel, Term, scaled


def plans_in_order(working: Sequence[str], counts: Sequence[int]) -> dict[str, int]:
    """The break plan of each working agent of a ``rm.breaks`` entry: the counted plans taken in the
    given (id) order.

    Agents beyond the counts (counts that do not add up) keep the midpoint plan 0.
    """
    left = list(counts)
    out = {}
    for aid in working:
        j = next((j for j, c in enumerate(left) if c > 0), 0)
        if left[j] > 0:
            left[j] -= 1
        out[aid] = j
    return out


#: under-coverage steps per (interval, queue) are merged into at most this many segments
UNDER_SEGMENTS = 4


def under_segments(
    costs: np.ndarray, weight: float, max_segments: int = UNDER_SEGMENTS
) -> list[tuple[int, int]]:
    """(size [agents], integer cost per missing agent) per segment of the step costs.

    Steps are cut into at most ``max_segments`` runs of near-equal length;
    a run costs the mean of its steps, so the costs stay non-decreasing
    (convex) and equal steps give one segment (exact for plain coverage).
    """
    coefs = [scaled(weight * float(c)) for c in costs]
    if not coefs:
        return []
    if len(set(coefs)) == 1:
        return [(len(coefs), coefs[0])]
    bounds = np.linspace(0, len(coefs), min(max_segments, len(coefs)) + 1).round().astype(int)
    out = []
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        if b > a:
            out.append((int(b - a), int(round(float(np.mean(coefs[a:b]))))))
    return out


def coverage(rm: RosterModel) -> list[Term]:
    """Interval coverage by skill group: hard minimum floors, soft under- and over-coverage.

    Agents with identical queue sets form a group; per interval the group's
    on-phone count is split across its queues by integer allocation variables.
    Per (group, day, shift) integer counts say how many of its agents take
    each break plan (``rm.breaks``; exact, as the group's agents are
    interchangeable for coverage), so breaks stagger.
    Under-coverage of the target costs ``under_coverage × step cost`` per
    missing agent (convex: the j-th missing agent costs at least the
    (j−1)-th; steps merged into UNDER_SEGMENTS runs); over-coverage costs ``over_coverage`` per
    agent-interval.
    Intervals no agent with the skill can cover at all carry no term (their
    gap is constant; :func:`staffplan.roster.explain.gap_notes` reports it).
    """
    p = rm.problem
    dem = p.demand
    n, nq = p.grid.n, len(dem.queues)
    groups: dict[tuple[int, ...], list[Agent]] = defaultdict(list)
    for a in p.agents:
        qs = tuple(sorted(p.agent_queues(a)))
        if qs:
            groups[qs].append(a)
    contrib: list[dict[int, list[tuple[cp_model.IntVar, int]]]] = [
        defaultdict(list) for _ in range(nq)
    ]
    for g in sorted(groups):
        members = groups[g]
        on: dict[int, list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
        keys = sorted(
            {(d, v.id) for a in members for d in range(p.grid.days) for v, _ in rm.shifts(a.id, d)}
        )
        gname = "+".join(dem.queues[q] for q in g)
        for d, vid in keys:
            e0, e1 = rm.elapsed[(d, vid)]
            plain: list[tuple[str, cp_model.IntVar]] = []
            busy: list[tuple[cp_model.IntVar, list[tuple[int, int]]]] = []
            for a in members:
                lit = rm.x.get((a.id, d, vid))
                if lit is None:
                    continue
                inside = [(s, e) for s, e in rm.activities.get(a.id, []) if e0 <= s and e <= e1]
                if inside:
                    busy.append((lit, inside))
                else:
                    plain.append((a.id, lit))
            lo, hi, _holes = rm.phone[(d, vid)]
            offs = [
                {t for h0, h1 in plan for t in range(h0, h1)} for plan in rm.plan_holes[(d, vid)]
            ]
            if plain:
                lits = [x for _, x in plain]
                if len(lits) == 1:
                    count = lits[0]
                else:
                    count = rm.model.NewIntVar(0, len(lits), f"count[{gname},{d},{vid}]")
                    rm.model.Add(count == sum(lits))
                if len(offs) == 1:
                    for t in range(lo, hi):
                        if t not in offs[0]:
                            on[t].append((1, count))
                else:  # how many take each break plan
                    ys = [
                        rm.model.NewIntVar(0, len(lits), f"breaks[{gname},{d},{vid},{j}]")
                        for j in range(len(offs))
                    ]
                    rm.model.Add(sum(ys) == count)
                    rm.breaks[(g, d, vid)] = ([a for a, _ in plain], ys)
                    any_off = set().union(*offs)
                    for t in range(lo, hi):
                        if t not in any_off:
                            on[t].append((1, count))
                        else:
                            on[t].extend((1, y) for j, y in enumerate(ys) if t not in offs[j])
            for (
                lit,
                inside,
                # a training or meeting inside the shift: midpoint breaks, off the phones for the
                # activity too
            ) in busy:
                off = set(offs[0])
                for s, e in inside:
                    off.update(range(s // p.grid.interval_min, -(-e // p.grid.interval_min)))
                for t in range(lo, hi):
                    if t not in off:
                        on[t].append((1, lit))
        for t in sorted(on):
            if len(g) == 1:
                contrib[g[0]][t].extend((v, c) for c, v in on[t])
                continue
            expr = cp_model.LinearExpr.WeightedSum([v for _, v in on[t]], [c for c, _ in on[t]])
            allocs = [
                rm.model.NewIntVar(
                    0,
                    len(members),
                    f"alloc[{dem.queues[q]},{t},{'+'.join(dem.queues[k] for k in g)}]",
                )
                for q in g
            ]
            rm.model.Add(sum(allocs) == expr)
            for q, al in zip(g, allocs, strict=True):
                contrib[q][t].append((al, 1))
    terms: list[Term] = []
    w_under, w_over = p.weights.under_coverage, p.weights.over_coverage
    for q in range(nq):
        qname = dem.queues[q]
        for t in range(n):
            parts = contrib[q].get(t, [])
            cov = weighted(parts)
            rm.coverage[(q, t)] = cov
            rm.cover_parts[(q, t)] = [(v.Index(), c) for v, c in parts]
            r = int(dem.required[q, t])
            if dem.minimum[q, t] > 0:
                g = rm.guard("minimum cover", qname, str(p.grid.starts[t].date()))
                if parts:
                    rm.model.Add(cov >= int(dem.minimum[q, t])).OnlyEnforceIf(g)
                else:
                    rm.model.AddBoolOr([rm.model.NewConstant(0)]).OnlyEnforceIf(g)
            if r > 0 and w_under > 0 and parts:
                # intervals nobody can cover are reported as notes, not costed
                segs = under_segments(dem.step_costs[q, t, :r], w_under)
                names = [f"under[{qname},{t},{k + 1}]" for k in range(len(segs))]
                terms += shortfall(rm, "under_coverage", names, cov, r, segs)
            if parts and w_over > 0:
                ub = sum(len(groups[g]) for g in groups if q in g)
                o = rm.model.NewIntVar(0, ub, f"over[{qname},{t}]")
                rm.model.Add(o >= cov - r)
                terms.append(rm.add_term("over_coverage", o.Name(), o, scaled(w_over)))
    return terms


def weighted(pairs: Sequence[tuple[cp_model.IntVar, int]]) -> cp_model.LinearExprT:
    """``Σ coef × var`` of (var, coef) pairs (0 when empty)."""
    if not pairs:
        return 0
    return cp_model.LinearExpr.WeightedSum([v for v, _ in pairs], [c for _, c in pairs])


def shortfall(
    rm: RosterModel,
    rule: str,
    names: Sequence[str],
    covered: cp_model.LinearExprT,
    target: int,
    segments: Sequence[tuple[int, int]],
) -> list[Term]:
    """One coverage row: ``covered + Σ_k u_k ≥ target`` [agents], with a shortfall variable
    ``u_k ∈ [0, size_k]`` per segment (size [agents], coefficient [objective units × SCALE] per
    missing agent), named ``names[k]``; returns the terms (also on ``rm.terms``).

    The one place a coverage shortfall is modelled: the roster's coverage rule and cover's
    repair window price their rows with it.
    """
    us = [
        rm.model.NewIntVar(0, size, name) for (size, _), name in zip(segments, names, strict=True)
    ]
    rm.model.Add(covered + sum(us) >= int(target))
    return [rm.add_term(rule, u.Name(), u, coef) for u, (_, coef) in zip(us, segments, strict=True)]


def allocation_of(rm: RosterModel, values: Sequence[int]) -> np.ndarray:
    """On-phone agents the model allocates per queue and interval, (n_queues, n) [agents], for a
    full assignment ``values`` (by variable index), from ``rm.cover_parts``."""
    dem = rm.problem.demand
    nq, n = len(dem.queues), rm.problem.grid.n
    key = "cover_matrix"
    if key not in rm.cache:
        rows, cols, coefs = [], [], []
        for (q, t), parts in rm.cover_parts.items():
            for v, c in parts:
                rows.append(q * n + t)
                cols.append(v)
                coefs.append(c)
        rm.cache[key] = (np.asarray(rows, np.int64), np.asarray(cols, np.int64), np.asarray(coefs))
    rows, cols, coefs = rm.cache[key]  # type: ignore[misc]
    out = np.zeros(nq * n, dtype=np.int64)
    if len(rows):
        np.add.at(out, rows, (np.asarray(values, dtype=np.int64)[cols] * coefs).astype(np.int64))
    return out.reshape(nq, n)
