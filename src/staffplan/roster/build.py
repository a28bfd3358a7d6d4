"""Build the CP-SAT roster model: decision literals, hard rules, named penalty terms.

``build_model(problem)`` returns a :class:`RosterModel`. The objective is not
set here: :func:`staffplan.roster.solve.solve` minimises ``Σ coef × var`` over
``RosterModel.terms`` at solve time, so other stages (cover repair, the Curtois
importer's checks) may add constraints with ``rm.model.Add(...)`` and
objective terms with ``rm.add_term(...)``, and pass hints with
``rm.model.AddHint(rm.x[key], value)`` before solving.

Literals: ``rm.x[(agent_id, day, variant_id)]`` = the agent works that shift
variant on horizon day ``day``; ``rm.work[(agent_id, day)]`` = works any
shift that day. With ``explain=True`` every hard rule is enforced by a named
literal per (rule, agent) — the assumptions used to explain infeasibility.

Breaks: ``rm.phone[(day, variant_id)]`` is a shift's on-phone span with its
breaks at their windows' midpoints; ``rm.plan_holes[(day, variant_id)]`` the
break holes of each staggered break plan (the midpoint plan first, see
:func:`~staffplan.roster.model.break_plans`). Where a plan can differ,
``rm.breaks[(queues, day, variant_id)] = (agent_ids, counts)``: how many of
the skill group's agents working that shift take each plan (integer
variables summing to the group's count; agents with a training or meeting
inside the shift keep the midpoint plan and are not among ``agent_ids``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from staffplan.io.team import ACTIVITY_KINDS, BLOCKING_KINDS, Agent
from staffplan.roster.model import (
    SCALE,
    RosterProblem,
    Variant,
    break_plans,
    full_intervals,
    touched_intervals,
)


@dataclass(frozen=True)
class Term:
    """One objective term: ``coef × var`` [objective units × SCALE], with a readable name."""

    rule: str
    name: str
    var: cp_model.IntVar
    coef: int


@dataclass(frozen=True)
class Guard:
    """What an enforcement literal stands for, for infeasibility explanations."""

    rule: str
    agent: str
    detail: str


@dataclass(eq=False)
class RosterModel:
    """A built CP-SAT model with its literals, penalty terms and lookup tables."""

    problem: RosterProblem
    model: cp_model.CpModel
    x: dict[tuple[str, int, str], cp_model.IntVar] = field(default_factory=dict)
    options: dict[tuple[str, int], list[Variant]] = field(default_factory=dict)
    work: dict[tuple[str, int], cp_model.IntVar] = field(default_factory=dict)
    terms: list[Term] = field(default_factory=list)
    guards: dict[int, Guard] = field(default_factory=dict)
    explain: bool = False
    phone: dict[tuple[int, str], tuple[int, int, tuple[tuple[int, int], ...]]] = field(
        default_factory=dict
    )
    plan_holes: dict[tuple[int, str], tuple[tuple[tuple[int, int], ...], ...]] = field(
        default_factory=dict
    )
    breaks: dict[tuple[tuple[int, ...], int, str], tuple[list[str], list[cp_model.IntVar]]] = field(
        default_factory=dict
    )
    elapsed: dict[tuple[int, str], tuple[int, int]] = field(default_factory=dict)
    coverage: dict[tuple[int, int], cp_model.LinearExprT] = field(default_factory=dict)
    activities: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    guard_vars: dict[tuple[str, str, str], cp_model.IntVar] = field(default_factory=dict)
    cache: dict[str, object] = field(default_factory=dict)

    def add_term(self, rule: str, name: str, var: cp_model.IntVar, coef: int) -> Term:
        """Add an objective term ``coef × var`` (coef already scaled by SCALE) and return it."""
        term = Term(rule, name, var, int(coef))
        if term.coef != 0:
            self.terms.append(term)
        return term

    def guard(self, rule: str, agent: str, detail: str = "") -> list[cp_model.IntVar]:
        """Enforcement literals for a hard rule: [] normally, one named literal in explain mode."""
        if not self.explain:
            return []
        key = (rule, agent, detail)
        if key not in self.guard_vars:
            lit = self.model.NewBoolVar(f"enforce[{rule}|{agent}|{detail}]")
            self.guard_vars[key] = lit
            self.guards[lit.Index()] = Guard(rule, agent, detail)
        return [self.guard_vars[key]]

    def guard_literals(self) -> list[cp_model.IntVar]:
        """All enforcement literals (explain mode), in creation order."""
        return list(self.guard_vars.values())

    def shifts(self, agent: str, day: int) -> list[tuple[Variant, cp_model.IntVar]]:
        """The agent's (variant, literal) options on ``day``."""
        return [(v, self.x[(agent, day, v.id)]) for v in self.options.get((agent, day), [])]

    def worked(self, agent: str, day: int) -> cp_model.IntVar | int:
        """The works-that-day literal, or 0 if the agent cannot work that day."""
        return self.work.get((agent, day), 0)


def _agent_blocks(
    problem: RosterProblem,
) -> tuple[dict[str, list[tuple[int, int]]], dict[str, list[tuple[int, int]]]]:
    blocking: dict[str, list[tuple[int, int]]] = defaultdict(list)
    activity: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for a in problem.absences:
        span = (problem.elapsed(a.start), problem.elapsed(a.end))
        if a.kind in BLOCKING_KINDS:
            blocking[a.agent_id].append(span)
        elif a.kind in ACTIVITY_KINDS:
            activity[a.agent_id].append(span)
    return blocking, activity


def _available(problem: RosterProblem, agent: Agent, day: int, v: Variant) -> bool:
    d = problem.date(day)
    rows = [r for r in problem.availability if r.agent_id == agent.id and r.date == d]
    if not rows:
        rows = [
            r
            for r in problem.availability
            if r.agent_id == agent.id and r.date is None and r.weekday == d.weekday()
        ]
    if not rows:
        return True
    return any(r.from_min <= v.start_min and v.start_min + v.length_min <= r.to_min for r in rows)


def allowed_variants(
    problem: RosterProblem,
    agent: Agent,
    day: int,
    blocking: list[tuple[int, int]],
    activity: list[tuple[int, int]],
) -> list[Variant]:
    """Variants the agent may work on ``day``: contract templates, availability, absences,
    activities.
    """
    contract = problem.contracts[agent.contract]
    out = []
    for v in problem.variants:
        if not contract.allows(v.template):
            continue
        e0 = problem.start_elapsed(day, v.start_min)
        e1 = e0 + v.length_min
        if any(s < e1 and e0 < e for s, e in blocking):
            continue
        if any(s < e1 and e0 < e and not (e0 <= s and e <= e1) for s, e in activity):
            continue
        if not _available(problem, agent, day, v):
            continue
        out.append(v)
    return out


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


def build_model(problem: RosterProblem, *, explain: bool = False) -> RosterModel:
    """Create variables, hard rules and penalty terms for ``problem`` (the objective is set by
    ``solve``).
    """
    from staffplan.roster import rules

    rm = RosterModel(problem, cp_model.CpModel(), explain=explain)
    blocking, activity = _agent_blocks(problem)
    grid = problem.grid
    step = min(15, grid.interval_min)
    tmpl = problem.template_by_id
    for day in range(grid.days):
        for v in problem.variants:
            e0 = problem.start_elapsed(day, v.start_min)
            rm.elapsed[(day, v.id)] = (e0, e0 + v.length_min)
            lo, hi = full_intervals(e0, e0 + v.length_min, grid.interval_min, grid.n)
            t = tmpl[v.template]
            plans = break_plans(t, step, problem.break_plans)
            rm.plan_holes[(day, v.id)] = tuple(
                tuple(
                    touched_intervals(e0 + o, e0 + o + b.minutes, grid.interval_min, grid.n)
                    for o, b in zip(offs, t.breaks, strict=True)
                )
                for offs in plans
            )
            rm.phone[(day, v.id)] = (lo, hi, rm.plan_holes[(day, v.id)][0])
    for a in problem.agents:
        acts = activity.get(a.id, [])
        for day in range(grid.days):
            opts = allowed_variants(problem, a, day, blocking.get(a.id, []), acts)
            if not opts:
                continue
            rm.options[(a.id, day)] = opts
            lits = []
            for v in opts:
                lit = rm.model.NewBoolVar(f"x[{a.id},{day},{v.id}]")
                rm.x[(a.id, day, v.id)] = lit
                lits.append(lit)
            w = rm.model.NewBoolVar(f"work[{a.id},{day}]")
            rm.model.Add(sum(lits) == w)  # at most one shift a day
            rm.work[(a.id, day)] = w
        if acts:
            rm.activities[a.id] = sorted(acts)
    for rule in rules.HARD_RULES:
        rule(rm)
    for soft in rules.SOFT_RULES:
        soft(rm)
    return rm


def objective_expr(rm: RosterModel) -> cp_model.LinearExprT:
    """``Σ coef × var`` over the model's terms [objective units × SCALE]."""
    return (
        cp_model.LinearExpr.WeightedSum([t.var for t in rm.terms], [t.coef for t in rm.terms])
        if rm.terms
        else 0
    )


def scaled(weight: float) -> int:
    """An objective weight as an integer coefficient (× SCALE)."""
    return int(round(weight * SCALE))
