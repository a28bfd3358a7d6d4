"""Large-neighbourhood search over a solved roster: free part of it, fix the rest, re-solve, keep
the better.

CP-SAT's own LNS picks random variables or constraint-graph neighbours;
rosters improve by moves along the roster's own axes, which it rarely draws.
Three neighbourhoods, each freeing the shift literals of some agent-days and
fixing every other shift literal at the incumbent (by domain, so presolve
removes them):

- **window**: every agent over ``w`` consecutive days — moves work between
  days and agents where day-level cover couples them; half the windows
  contain a day of a penalised term (drawn as for **term**);
- **agents**: ``k`` random agents over the whole horizon — rebuilds their
  work/off patterns under the sequence rules;
- **term**: ``k`` of the agents linked (within two constraint hops) to a
  penalised objective term, drawn with probability ∝ its cost × its luck
  (halved each time a neighbourhood aimed at it fails to improve, reset when
  one does: forced shortfalls stop drawing the search), plus one random
  agent — aims the search at a shortfall or a broken request;
- **weekday** (horizons of :data:`WEEKDAY_MIN_WEEKS` weeks or more): every
  agent on the same three days of the week (a day and its neighbours) in
  ``n`` of the horizon's weeks, half the time around a penalised term's day —
  horizon-wide rules (weekends worked, shifts per type, horizon minutes)
  couple an agent's far-apart days, which windows never free together and
  the agents kind frees for a few agents only.

Each sub-model is hinted with the complete incumbent, its objective capped
at the incumbent's cost, and solved by one
CP-SAT worker for at most :data:`SUB_LIMIT_S`; a solution of equal or lower
cost becomes the incumbent (equal cost: a sideways move). Sizes adapt:
a neighbourhood solved to optimality grows the next one of its kind, an
unfinished one shrinks it. When :data:`STALL_STEPS` steps in a row bring no
strict improvement, the sub-solve limit doubles (up to
:data:`MAX_SUB_LIMIT_S`), so that larger neighbourhoods become solvable
(a local optimum of the small ones); an improvement resets it. With several workers, that many
threads search
in parallel (CP-SAT frees the GIL); with ``deterministic`` one thread runs
and both the sub-solves and the whole budget are in *deterministic time*,
so the same inputs and seed give the same roster.
"""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

from staffplan.roster.budget import SUBMODEL_CHARGE_S, Budget
from staffplan.roster.cpmodel import RosterModel, objective_expr
from staffplan.roster.problem import SCALE
from staffplan.roster.solver import make_solver, objective_of, reached_net, work_s
from staffplan.settings import SolveSettings

SUB_LIMIT_S = 1.0
"""Limit of one neighbourhood's sub-solve [s, or deterministic s]."""

HOP_CAP = 200
"""Constraints with more variables than this are not followed when linking terms to agents."""

KINDS = ("window", "agents", "term")
"""Neighbourhood kinds drawn on every horizon (uniformly, with ``weekday`` on long ones)."""

WEEKDAY_MIN_WEEKS = 6
"""Horizons of at least this many weeks also draw the ``weekday`` kind (shorter ones: a window
already spans much of the horizon) [weeks]."""

STALL_STEPS = 40
"""Steps without a strict improvement after which the sub-solve limit doubles (the search is stuck
at neighbourhoods it can solve in time).
"""

MAX_SUB_LIMIT_S = 4.0
"""Most a sub-solve's limit grows to by doubling [s, or deterministic s]."""

STEP_OVERHEAD_S = 0.2
"""Wall time [s] kept free per step for building the sub-model and reading its solution."""

MIN_CHARGE = 0.005
"""Deterministic time [s] charged at least per sub-solve, so that tiny models stop after a bounded
number of draws.
"""

MIN_SUB_S = 0.05
"""Least limit of one sub-solve [s, or deterministic s]."""

WINDOW0, AGENTS0, WEEKS0 = 7, 3, 4
"""Initial sizes: days of a window [days], agents of an agents/term neighbourhood [agents], weeks of
a weekday neighbourhood [weeks]."""


@dataclass(frozen=True)
class LnsResult:
    """Best full assignment (by variable index), its objective [objective units], iterations and
    improvements run.

    ``optimal``: a neighbourhood that freed every shift literal was solved to optimality.
    """

    values: list[int]
    objective: float
    iterations: int
    improvements: int
    optimal: bool = False


class _Links:
    """Agents (and their days) whose shift literals lie within two constraint hops of a variable
    (computed on demand, cached).
    """

    def __init__(self, rm: RosterModel) -> None:
        proto = rm.model.Proto()
        self.x_key = {lit.Index(): (key[0], key[1]) for key, lit in rm.x.items()}
        self.var_cts: dict[int, list[int]] = defaultdict(list)
        self.ct_vars: list[list[int]] = []
        for i, ct in enumerate(proto.constraints):
            if ct.has_linear():
                vs = [v if v >= 0 else -v - 1 for v in ct.linear.vars]
            elif ct.has_bool_or():
                vs = [v if v >= 0 else -v - 1 for v in ct.bool_or.literals]
            else:
                vs = []
            self.ct_vars.append(vs)
            if len(vs) <= HOP_CAP:
                for v in vs:
                    self.var_cts[v].append(i)
        self.cache: dict[int, tuple[tuple[str, ...], tuple[int, ...]]] = {}

    def _walk(self, root: int) -> tuple[tuple[str, ...], tuple[int, ...]]:
        if root not in self.cache:
            seen, frontier, agents, days = {root}, [root], set(), set()
            for _ in range(2):
                nxt = []
                for v in frontier:
                    for c in self.var_cts.get(v, ()):
                        for w in self.ct_vars[c]:
                            if w in seen:
                                continue
                            seen.add(w)
                            if w in self.x_key:
                                agents.add(self.x_key[w][0])
                                days.add(self.x_key[w][1])
                            else:
                                nxt.append(w)
                frontier = nxt
            self.cache[root] = (tuple(sorted(agents)), tuple(sorted(days)))
        return self.cache[root]

    def __call__(self, root: int) -> tuple[str, ...]:
        return self._walk(root)[0]

    def days(self, root: int) -> tuple[int, ...]:
        """Horizon days of the shift literals within two hops of ``root``."""
        return self._walk(root)[1]


def term_agents(rm: RosterModel) -> dict[int, tuple[str, ...]]:
    """Objective-term variable index → agents whose shift literals lie within two constraint hops of
    it.
    """
    links = _Links(rm)
    return {t.var.Index(): links(t.var.Index()) for t in rm.terms}


class _Search:
    """Shared incumbent, adaptive sizes and the neighbourhood sub-solves."""

    def __init__(
        self, rm: RosterModel, start: Sequence[int], seed: int, deterministic: bool
    ) -> None:
        self.rm = rm
        self.deterministic = deterministic
        self.seed = seed
        self.settings = SolveSettings(SUB_LIMIT_S, 1, seed, deterministic=deterministic)
        self.net_reached = False
        base = rm.model.Clone()
        base.ClearHints()
        base.ClearAssumptions()
        base.Minimize(objective_expr(rm))
        self.base = base
        self.values = list(start)
        self.cost = round(
            objective_of(rm, self.values) * SCALE
        )  # [objective units × SCALE], like the sub-solves' objective
        self.lock = threading.Lock()
        problem = rm.problem
        self.agents = [a.id for a in problem.agents]
        self.days = problem.grid.days
        self.keys = [(k, lit.Index()) for k, lit in rm.x.items()]
        self.links = _Links(rm)
        weeks = -(-self.days // 7)  # [weeks, the last may be short]
        self.kinds = KINDS + (("weekday",) if weeks >= WEEKDAY_MIN_WEEKS else ())
        self.size = {
            "window": min(WINDOW0, self.days),
            "agents": min(AGENTS0, len(self.agents)),
            "weekday": min(WEEKS0, weeks),
        }
        self.most = {"window": self.days, "agents": len(self.agents), "weekday": weeks}
        self.iterations = 0
        self.stall = 0
        self.improvements = 0
        self.spent_dt = 0.0
        self.proven = False
        self.luck: dict[int, float] = {}
        self.target = -float("inf")

    def done(self) -> bool:
        """The incumbent is proven optimal (a free sub-solve, or it meets the target bound)."""
        return self.proven or self.cost <= self.target

    def sub_limit(self) -> float:
        """This step's sub-solve limit [s]: doubled for every :data:`STALL_STEPS` steps without a
        strict improvement, at most :data:`MAX_SUB_LIMIT_S`.
        """
        return min(SUB_LIMIT_S * 2 ** (self.stall // STALL_STEPS), MAX_SUB_LIMIT_S)

    def _costly(self, rng: random.Random, values: Sequence[int]) -> int | None:
        """A penalised term's variable, drawn ∝ cost × its luck (halved by each failed neighbourhood
        aimed at it).
        """
        costly = [
            (t.var.Index(), t.coef * values[t.var.Index()] * self.luck.get(t.var.Index(), 1.0))
            for t in self.rm.terms
            if t.coef > 0 and values[t.var.Index()] > 0
        ]
        if not costly:
            return None
        return rng.choices([i for i, _ in costly], weights=[c for _, c in costly])[0]

    def neighbourhood(
        self, rng: random.Random, kind: str, values: Sequence[int]
    ) -> tuple[set[str], set[int], int | None]:
        """(free agents, free days, the term aimed at or None) for one draw of ``kind``."""
        k = self.size["agents"]
        if kind in ("window", "weekday"):
            idx = self._costly(rng, values) if rng.random() < 0.5 else None
            days = self.links.days(idx) if idx is not None else ()
            centre = rng.choice(days) if days else None
            if not days:
                idx = None
            if kind == "weekday":
                centre = rng.randrange(self.days) if centre is None else centre
                return set(self.agents), self._weekdays(rng, centre), idx
            w = self.size["window"]
            if centre is not None:
                s0 = min(max(centre - rng.randrange(w), 0), max(self.days - w, 0))
            else:
                s0 = rng.randrange(0, max(self.days - w + 1, 1))
            return set(self.agents), set(range(s0, s0 + w)), idx
        if kind == "term":
            idx = self._costly(rng, values)
            if idx is not None:
                linked = list(self.links(idx))
                free = set(rng.sample(linked, min(len(linked), max(k - 1, 1))))
                rest = [a for a in self.agents if a not in free]
                free |= set(rng.sample(rest, min(len(rest), 1)))
                return free, set(range(self.days)), idx
        return set(rng.sample(self.agents, min(k, len(self.agents)))), set(range(self.days)), None

    def _weekdays(self, rng: random.Random, centre: int) -> set[int]:
        """The days ``centre − 1 … centre + 1`` [horizon days] and the same days of the week in
        ``size["weekday"] − 1`` other weeks, drawn at random."""
        lo, hi = -((centre + 1) // 7), (self.days - centre) // 7  # triples inside the horizon
        offsets = [j for j in range(lo, hi + 1) if j]
        weeks = [0] + rng.sample(offsets, min(len(offsets), self.size["weekday"] - 1))
        return {
            d
            for j in weeks
            for d in range(centre + 7 * j - 1, centre + 7 * j + 2)
            if 0 <= d < self.days
        }

    def step(self, rng: random.Random, it: int, left: float) -> float:
        """Draw one neighbourhood, re-solve it from the incumbent and record the outcome; returns
        the work charged [deterministic s].

        ``left`` [s, or deterministic s]: the time the search has left (a sub-solve never
        runs past it, nor past :meth:`sub_limit`).
        """
        with self.lock:
            values, cost = list(self.values), self.cost
        kind = rng.choice(self.kinds)
        free_a, free_d, aim = self.neighbourhood(rng, kind, values)
        m = self.base.Clone()
        proto = m.Proto()
        fixed = 0
        for (agent, day, _), idx in self.keys:
            if agent in free_a and day in free_d:
                continue
            dom = proto.variables[idx].domain
            dom[0] = dom[1] = values[idx]
            fixed += 1
        proto.objective.domain.extend(
            [-(2**62), int(cost)]
        )  # nothing worse than the incumbent: prunes the sub-search
        proto.solution_hint.vars.extend(range(len(values)))
        proto.solution_hint.values.extend(values)
        with self.lock:
            limit = min(self.sub_limit(), left)
        if not self.deterministic:
            limit = min(limit, left - STEP_OVERHEAD_S)
        limit = max(limit, MIN_SUB_S)
        solver = make_solver(
            self.settings, limit, workers=1, seed=int(self.seed * 100_003 + it) % (2**31)
        )
        code = solver.Solve(m)
        charge = max(work_s(solver, m), MIN_CHARGE) + SUBMODEL_CHARGE_S
        with self.lock:
            self.iterations += 1
            self.stall += 1
            self.spent_dt += charge
            self.net_reached = self.net_reached or reached_net(solver, self.settings, code)
            if code == cp_model.OPTIMAL and fixed == 0:
                self.proven = True  # the whole roster was free: the incumbent is optimal
            size_kind = kind if kind in ("window", "weekday") else "agents"
            if code == cp_model.OPTIMAL:
                self.size[size_kind] = min(self.size[size_kind] + 1, self.most[size_kind])
            elif code in (cp_model.FEASIBLE, cp_model.UNKNOWN):
                self.size[size_kind] = max(self.size[size_kind] - 1, 1)
            if aim is not None:
                better = (
                    code in (cp_model.OPTIMAL, cp_model.FEASIBLE)
                    and round(solver.ObjectiveValue()) < cost
                )
                self.luck[aim] = 1.0 if better else self.luck.get(aim, 1.0) * 0.5
            if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                new_cost = round(solver.ObjectiveValue())
                if new_cost <= self.cost:
                    if new_cost < self.cost:
                        self.improvements += 1
                        self.stall = 0
                    self.values = list(solver.ResponseProto().solution)
                    self.cost = new_cost
        return charge


def improve(
    rm: RosterModel,
    start: Sequence[int],
    budget: Budget,
    stage: str = "lns",
    *,
    on_improve: Callable[[float, list[int]], None] | None = None,
    hold: Callable[[], bool] | None = None,
    target: float | None = None,
) -> LnsResult:
    """Improve the full assignment ``start`` (by variable index) by LNS until ``stage``'s deadline
    of ``budget``.

    Deterministic budgets run one thread and charge each step's work
    (:func:`~staffplan.roster.solver.work_s`, at least :data:`MIN_CHARGE`) plus
    :data:`~staffplan.roster.budget.SUBMODEL_CHARGE_S`; otherwise as many threads
    as the settings' workers search until the wall-clock deadline.
    ``on_improve(objective, values)`` [objective units] is called on every
    strictly better incumbent. While ``hold()`` is true, only one thread
    searches (the caller runs something else on a core, e.g. the LP bound). The
    search stops once the incumbent costs ``target`` [objective units] or less
    (a known lower bound: it is optimal).
    """
    settings = budget.settings
    search = _Search(rm, start, settings.seed, settings.deterministic)
    if target is not None:
        search.target = target * SCALE + 1e-6
    best = [search.cost]

    def report() -> None:
        if on_improve is not None and search.cost < best[0]:
            best[0] = search.cost
            on_improve(search.cost / SCALE, list(search.values))

    if settings.deterministic:
        rng = random.Random(settings.seed)
        it = 0
        while (left := budget.left(stage)) > 0 and not search.done():
            budget.charge(search.step(rng, it, left))
            report()
            it += 1
        if search.net_reached:
            budget.warn("neighbourhood search", "a sub-solve's safety net")
    else:
        errors: list[BaseException] = []
        workers = max(settings.workers, 1)

        def run(wid: int) -> None:
            rng = random.Random(settings.seed * 1_000 + wid)
            it = wid
            try:
                while (
                    (left := budget.left(stage)) > STEP_OVERHEAD_S + 0.05
                    and not search.done()
                    and not errors
                ):
                    if wid > 0 and hold is not None and hold():
                        time.sleep(min(0.1, left))
                        continue
                    search.step(rng, it, left)
                    with search.lock:
                        report()
                    it += workers
            except BaseException as exc:  # re-raised in the caller's thread below
                errors.append(exc)

        threads = [
            threading.Thread(target=run, args=(w,), name=f"staffplan-lns-{w}", daemon=True)
            for w in range(workers)
        ]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        if errors:
            raise errors[0]
    return LnsResult(
        search.values, search.cost / SCALE, search.iterations, search.improvements, search.done()
    )
