"""The cover repair's comparison: every day from now re-solved on the engine's own model and
objective, with no change costs (the past pinned).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, replace

import pandas as pd

from staffplan.cover.published import (
    NewAbsence,
    absent_masks,
    cut_paid_minutes,
    parse_rows,
    published_assignment,
    published_variants,
    repair_problem,
)
from staffplan.cover.result import CoverResult, cover_result, infeasible
from staffplan.cover.settings import CoverSettings
from staffplan.errors import InputError
from staffplan.io.roster_csv import roster_as_text
from staffplan.io.team import Agent
from staffplan.roster.budget import full_resolve_limit
from staffplan.roster.build import Allowed, build_model
from staffplan.roster.extract import assign_queues, extract, on_phone_matrix, row_elapsed
from staffplan.roster.problem import RosterProblem, Variant, split_overtime
from staffplan.roster.solver import solve
from staffplan.scenario import Scenario
from staffplan.settings import SolveSettings


@dataclass(frozen=True)
class Plan:
    """What a re-solve may touch: the published variant per agent-day, the days open to change
    and now [elapsed min]."""

    published: dict[tuple[str, int], str]
    window: tuple[int, ...]
    now_elapsed: int


class Pins:
    """``build_model``'s ``choose`` for a re-solve from now: days outside the window and shifts
    started before now keep their published shift (``fixed``: forced after building); no other
    shift starts before now; an overtime extension only extends its published shift (same
    start)."""

    def __init__(self, problem: RosterProblem, plan: Plan, absent: frozenset[str]) -> None:
        self.problem = problem
        self.plan = plan
        self.absent = absent
        self.by_id = {v.id: v for v in problem.variants}
        self.window = set(plan.window)
        self.fixed: list[tuple[str, int, str]] = []

    def start(self, d: int, v: Variant) -> int:
        return self.problem.start_elapsed(d, v.start_min)

    def choose(self, agent: Agent, d: int, allowed: Allowed) -> list[Variant]:
        variants = allowed()
        ids = {v.id: v for v in variants}
        now = self.plan.now_elapsed
        pub = self.plan.published.get((agent.id, d))
        fixed = d not in self.window
        if pub is not None and pub not in ids:
            if agent.id not in self.absent:
                raise InputError(
                    "the published roster breaks a hard rule",
                    column="roster",
                    found=f"{agent.id} {self.problem.date(d)} {pub}",
                    hint="this shift is not allowed by the scenario (absence, availability or "
                    "contract); publish a valid roster",
                )
            # cancelled by the new absence: no change to phone; a started day stays closed
            fixed = fixed or self.start(d, self.by_id[pub]) < now
            pub = None
        if pub is not None and self.start(d, ids[pub]) < now:
            fixed = True
        if fixed:
            if pub is None:
                return []
            self.fixed.append((agent.id, d, pub))
            return [ids[pub]]
        p = ids[pub] if pub is not None else None
        out = []
        for v in variants:
            base, ext = split_overtime(v.template)
            if v.id == pub:
                out.append(v)
            elif self.start(d, v) < now:
                continue
            elif ext == 0 or (
                p is not None
                and self.start(d, v) == self.start(d, p)
                and base == split_overtime(p.template)[0]
                and v.length_min > p.length_min
            ):
                out.append(v)
        return out


def compose(
    problem: RosterProblem,
    published: pd.DataFrame,
    new_rows: pd.DataFrame,
    values: dict[tuple[str, int, str], int],
    plan: Plan,
    absences: tuple[NewAbsence, ...],
) -> pd.DataFrame:
    """The repaired roster: published rows where the agent-day is unchanged, new rows elsewhere.

    A started shift of an agent who falls sick during it ends at the absence's
    start, or is kept whole if the agent is back before its end (the agent is
    then off the phones only while absent; the model counts no coverage from
    that shift after now, a conservative view).
    """
    chosen = {(a, d): v for (a, d, v), val in values.items() if val}
    keep = [
        plan.published.get(
            (
                str(r.agent_id),
                int((dt.date.fromisoformat(str(r.date)[:10]) - problem.grid.start).days),
            )
        )
        for r in published.itertuples(index=False)
    ]
    rows = []
    for r, pub in zip(published.to_dict(orient="records"), keep, strict=True):
        d = (dt.date.fromisoformat(str(r["date"])[:10]) - problem.grid.start).days
        key = (str(r["agent_id"]), d)
        if chosen.get(key) == pub:
            rows.append({k: str(v) for k, v in r.items()})
            continue
        start = problem.grid.to_local(pd.Timestamp(str(r["start"])))
        end = problem.grid.to_local(pd.Timestamp(str(r["end"])))
        hit = [a for a in absences if a.agent_id == key[0] and a.overlaps(start, end)]
        if (
            hit
            and key not in chosen
            and problem.elapsed(start) < plan.now_elapsed
            and all(start < a.start for a in hit)
            and all(a.end < end for a in hit)
        ):
            rows.append(
                {k: str(v) for k, v in r.items()}
            )  # back before the shift ends: off the phones only while absent
            continue
        cut = [a for a in hit if start < a.start and problem.elapsed(start) < plan.now_elapsed]
        if cut and key not in chosen:
            stop = min(a.start for a in cut)
            row = {k: str(v) for k, v in r.items()}
            row["end"] = stop.isoformat()
            e0, _, clock0 = row_elapsed(problem.grid, r["start"], r["end"])
            row["paid_minutes"] = str(
                cut_paid_minutes(problem, row, e0, clock0, problem.elapsed(stop))
            )
            rows.append(row)
    new_keys = {
        (str(a), int(d)) for a, d in zip(new_rows["agent_id"], new_rows["day"], strict=True)
    }
    for r in new_rows.to_dict(orient="records"):
        key = (str(r["agent_id"]), int(r["day"]))
        if key in new_keys and chosen.get(key) != plan.published.get(key):
            rows.append({k: ("" if v is None else str(v)) for k, v in r.items()})
    cols = list(dict.fromkeys([*published.columns, *new_rows.columns]))
    out = pd.DataFrame(rows, columns=cols, dtype=object).fillna("")
    out["_d"] = out["date"]
    return (
        out.sort_values(["agent_id", "_d"], kind="stable").drop(columns="_d").reset_index(drop=True)
    )


def full_resolve(
    problem: RosterProblem,
    published: pd.DataFrame,
    absences: tuple[NewAbsence, ...],
    now: pd.Timestamp,
    settings: CoverSettings,
    solve_settings: SolveSettings,
    scenario: Scenario | None,
    t_start: float,
) -> CoverResult:
    """The comparison: every day from now re-solved on the engine's model with its own objective
    (no change costs, the past pinned, no new overtime)."""
    prob = repair_problem(problem, published, absences, replace(settings, max_overtime_min=0))
    text = roster_as_text(published)
    pub = published_variants(prob, text)
    first = max(0, (now.tz_convert(prob.grid.zone).date() - prob.grid.start).days)
    window = tuple(range(first, prob.grid.days))
    plan = Plan(pub, window, prob.elapsed(now))
    absent = frozenset(a.agent_id for a in absences)
    pins = Pins(prob, plan, absent)
    rm = build_model(prob, choose=pins.choose)
    for key in pins.fixed:
        rm.model.Add(rm.x[key] == 1)
    hint = {(a, d, v): 1 for (a, d), v in pub.items() if (a, d, v) in rm.x}
    build_s = time.perf_counter() - t_start
    limit = full_resolve_limit(solve_settings, build_s)
    result = solve(rm, replace(solve_settings, time_limit_s=limit), hint=hint)
    if not result.feasible:
        raise infeasible(result.status, absences)
    new = extract(prob, rm, result).roster
    roster = compose(prob, text, new, result.values, plan, absences)
    rows = parse_rows(prob, text)
    assignment = published_assignment(prob, rows)
    # the re-solve's own allocation: every multi-skilled agent re-assigned by the engine's rule
    on = on_phone_matrix(roster, prob.agents, prob.grid)
    gone = absent_masks(prob, absences)
    for i, a in enumerate(prob.agents):
        if a.id in gone:
            on[i] &= ~gone[a.id]
    fresh = assign_queues(on, [prob.agent_queues(a) for a in prob.agents], prob.demand.required)
    return cover_result(
        prob,
        scenario,
        text,
        roster,
        absences,
        now,
        window,
        assignment,
        prob.grid.boundary_index(now),
        prob.grid.n,
        result.status,
        t_start,
        build_s,
        result.solve_seconds,
        None,
        rows,
        fresh,
    )
