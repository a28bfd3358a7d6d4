"""A greedy starting roster, given to CP-SAT as a solution hint.

Agents in id order each take, one at a time, the shift variant that covers
the most remaining demand on their queues, as long as the pick keeps the
contract's days, weekly maximum, rest, successions and consecutive-day rules;
covered demand is then taken off. The hint need not be optimal (nor even
feasible for every rule: CP-SAT repairs or drops it); it only gets the search
to a good first roster fast.
"""

from __future__ import annotations

import numpy as np

from staffplan.roster.cpmodel import RosterModel
from staffplan.roster.problem import Variant, weekend_keys
from staffplan.roster.rules import week_limits


def greedy_hint(rm: RosterModel) -> dict[tuple[str, int, str], int]:
    """Literal values (1 for picked variants, 0 otherwise) for every key of ``rm.x``.

    A pick's score is the interval demand it covers × ``under_coverage``
    (day-level shift cover and preferences are left to the search: scoring
    them greedily gave worse starts on the Curtois instances). Agents keep
    picking while a pick gains, or while a weekly or horizon minimum is not
    met, within max days, weekly/horizon maxima, rest, successions,
    consecutive days, weekends and per-template caps.
    """
    p = rm.problem
    dem = p.demand
    days = p.grid.days
    rem = dem.required.astype(float).copy()
    picked: dict[tuple[str, int, str], int] = {k: 0 for k in rm.x}
    tmpl = p.template_by_id
    w_under = p.weights.under_coverage
    weekend_of = {d: k for k, ds in weekend_keys(p).items() for d in ds}
    for a in p.agents:
        c = p.contracts[a.contract]
        qs = list(p.agent_queues(a))
        limits = week_limits(rm, a)
        caps = dict(c.max_shifts)
        week_of = {d: x for x in limits for d in x[0]}
        chosen: dict[int, Variant] = {}
        while True:
            need = rem[qs].clip(min=0).sum(axis=0) if qs else np.zeros(p.grid.n)
            csum = np.concatenate([[0.0], np.cumsum(need)])
            best: tuple[float, int, Variant] | None = None
            # the same for every day of this pick
            weekends = {weekend_of[k] for k in chosen if k in weekend_of}
            horizon_paid = sum(x.paid_minutes for x in chosen.values())
            per_template: dict[str, int] = {}
            for x in chosen.values():
                per_template[x.template] = per_template.get(x.template, 0) + 1
            for d in range(days):
                if d in chosen:
                    continue
                block, _lo, hi = week_of[d]
                if sum(1 for k in block if k in chosen) >= c.max_days_week:
                    continue
                paid = sum(chosen[k].paid_minutes for k in block if k in chosen)
                run = 1
                k = d - 1
                while k in chosen:
                    run, k = run + 1, k - 1
                k = d + 1
                while k in chosen:
                    run, k = run + 1, k + 1
                if run > c.max_consecutive_days:
                    continue
                if (
                    c.max_weekends is not None
                    and d in weekend_of
                    and weekend_of[d] not in weekends
                    and len(weekends) >= c.max_weekends
                ):
                    continue
                for v, _ in rm.shifts(a.id, d):
                    if paid + v.paid_minutes > hi:
                        continue
                    if (
                        c.max_minutes_horizon is not None
                        and horizon_paid + v.paid_minutes > c.max_minutes_horizon
                    ):
                        continue
                    if v.template in caps and per_template.get(v.template, 0) >= caps[v.template]:
                        continue
                    e0, e1 = rm.elapsed[(d, v.id)]
                    rest = c.min_rest_hours * 60
                    if d - 1 in chosen:
                        pv = chosen[d - 1]
                        if (
                            e0 - rm.elapsed[(d - 1, pv.id)][1] < rest
                            or v.template in tmpl[pv.template].not_followed_by
                        ):
                            continue
                    if d + 1 in chosen:
                        nv = chosen[d + 1]
                        if (
                            rm.elapsed[(d + 1, nv.id)][0] - e1 < rest
                            or nv.template in tmpl[v.template].not_followed_by
                        ):
                            continue
                    lo, hi_t, holes = rm.phone[(d, v.id)]
                    score = w_under * (
                        csum[hi_t] - csum[lo] - sum(csum[h1] - csum[h0] for h0, h1 in holes)
                    )
                    key = (score, -d, v)
                    if best is None or key[:2] > best[:2]:
                        best = key
            total = sum(x.paid_minutes for x in chosen.values())
            short = any(
                sum(chosen[k].paid_minutes for k in b if k in chosen) < lo for b, lo, _ in limits
            ) or total < (c.min_minutes_horizon or 0)
            if best is None or (best[0] <= 0 and not short):
                break
            _, negd, v = best
            d = -negd
            chosen[d] = v
            lo, hi_t, holes = rm.phone[(d, v.id)]
            off = {t for h0, h1 in holes for t in range(h0, h1)}
            for t in range(lo, hi_t):
                if t in off or not qs:
                    continue
                q = max(qs, key=lambda q: rem[q, t])
                rem[q, t] -= 1
        for d, v in chosen.items():
            picked[(a.id, d, v.id)] = 1
    return picked


def add_hint(rm: RosterModel) -> None:
    """Give CP-SAT the greedy roster as a hint."""
    for k, val in greedy_hint(rm).items():
        rm.model.AddHint(rm.x[k], val)
