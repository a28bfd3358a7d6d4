"""The roster problem: team, templates, demand and weights as frozen data.

Time inside the engine is *elapsed minutes since the horizon's first local
midnight* (``grid.starts[0]``), so DST days are exact. An agent counts on the
phones in an interval only if on the phones for the whole interval; a break or
activity takes the agent off every interval it overlaps.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import pandas as pd

from staffplan.io.team import (
    Absence,
    Agent,
    Availability,
    Contract,
    Preference,
    PreviousShift,
    ShiftCover,
    ShiftTemplate,
)
from staffplan.scenario import Weights
from staffplan.shrinkage import residual_shrinkage as residual_shrinkage  # defined there
from staffplan.timegrid import TimeGrid

#: objective coefficients are weights × SCALE, rounded to integers
SCALE = 100


@dataclass(frozen=True, eq=False)
class Demand:
    """Interval demand per queue, arrays of shape (n_queues, grid.n).

    ``required``: coverage target [on-phone heads, before residual
    shrinkage]; ``minimum``: hard floor [agents]; ``step_costs``:
    (n_queues, n, max_required) cost of the j-th missing head [promised
    contacts answered late, or 1 per agent-interval when plain]; ``volume``
    [contacts/interval] and ``aht_s`` [s] when known; ``residual``
    (n_queues,) the probability that a head is lost (residual shrinkage).
    """

    queues: tuple[str, ...]
    skills: tuple[str, ...]
    required: np.ndarray
    minimum: np.ndarray
    step_costs: np.ndarray
    volume: np.ndarray | None = None
    aht_s: np.ndarray | None = None
    sl_aware: bool = False
    residual: np.ndarray | None = None
    deferred: tuple[bool, ...] = ()
    """Per queue: deferred work (email, back-office: staffed by workload, no per-interval service
    level), as the requirements frame carries it."""

    def is_deferred(self, q: int) -> bool:
        """Queue ``q`` is deferred work (no per-interval service level)."""
        return bool(self.deferred[q]) if self.deferred else False

    def available(self, heads: np.ndarray) -> np.ndarray:
        """Expected agents after residual shrinkage for heads per (queue, interval) [agents]."""
        r = np.zeros(len(self.queues)) if self.residual is None else np.asarray(self.residual)
        return np.asarray(heads, dtype=float) * (1.0 - r)[:, None]

    @staticmethod
    def empty(queues: tuple[str, ...], skills: tuple[str, ...], n: int) -> Demand:
        """No interval demand (e.g. a pure shift-cover problem)."""
        z = np.zeros((len(queues), n), dtype=np.int64)
        return Demand(queues, skills, z, z.copy(), np.zeros((len(queues), n, 0)))


@dataclass(frozen=True)
class Variant:
    """A shift variant: template at a start [min after local midnight]."""

    id: str
    template: str
    start_min: int
    length_min: int
    paid_minutes: int


@dataclass(frozen=True, eq=False)
class RosterProblem:
    """Everything the engine needs, sorted by id (deterministic model building)."""

    grid: TimeGrid
    agents: tuple[Agent, ...]
    contracts: Mapping[str, Contract]
    templates: tuple[ShiftTemplate, ...]
    demand: Demand
    weights: Weights = field(default_factory=Weights)
    absences: tuple[Absence, ...] = ()
    availability: tuple[Availability, ...] = ()
    preferences: tuple[Preference, ...] = ()
    shift_cover: tuple[ShiftCover, ...] = ()
    previous: tuple[PreviousShift, ...] = ()
    residual_shrinkage: float = 0.0
    source: str = ""
    break_plans: int = 5
    """Staggered break plans the main model chooses from per shift (1 = every break at its window's
    midpoint).
    """

    @cached_property
    def template_by_id(self) -> dict[str, ShiftTemplate]:
        return {t.id: t for t in self.templates}

    @cached_property
    def variants(self) -> tuple[Variant, ...]:
        """Every template × start, ordered by template then start."""
        return tuple(
            Variant(f"{t.id}@{s // 60:02d}{s % 60:02d}", t.id, s, t.length_min, t.paid_minutes)
            for t in self.templates
            for s in t.starts()
        )

    @cached_property
    def origin(self) -> pd.Timestamp:
        """The horizon's first local midnight (elapsed minute 0)."""
        return self.grid.starts[0]

    def elapsed(self, ts: pd.Timestamp) -> int:
        """Elapsed minutes from the horizon origin to ``ts`` (rounded)."""
        return int(round((self.grid.to_local(ts) - self.origin).total_seconds() / 60))

    @cached_property
    def _day_start_cache(self) -> dict[tuple[int, int], int]:
        return {}

    def start_elapsed(self, day: int, clock_min: int) -> int:
        """Elapsed minutes of local clock time ``clock_min`` on horizon day ``day``."""
        key = (day, clock_min)
        c = self._day_start_cache
        if key not in c:
            c[key] = self.elapsed(self.grid.at(day, clock_min))
        return c[key]

    def agent_queues(self, agent: Agent) -> tuple[int, ...]:
        """Queue indices the agent serves, in the agent's priority order."""
        out = []
        for s in agent.skills:
            for qi, (qn, qs) in enumerate(zip(self.demand.queues, self.demand.skills, strict=True)):
                if s in (qn, qs) and qi not in out:
                    out.append(qi)
        return tuple(out)

    def date(self, day: int) -> dt.date:
        return self.grid.start + dt.timedelta(days=day)


def full_intervals(e0: int, e1: int, interval_min: int, n: int) -> tuple[int, int]:
    """Grid index range [lo, hi) of intervals lying wholly inside elapsed [e0, e1) [min]."""
    lo = -(-e0 // interval_min)
    hi = e1 // interval_min
    return max(lo, 0), min(max(hi, 0), n)


def touched_intervals(e0: int, e1: int, interval_min: int, n: int) -> tuple[int, int]:
    """Grid index range [lo, hi) of intervals overlapping elapsed [e0, e1) [min]."""
    lo = e0 // interval_min
    hi = -(-e1 // interval_min)
    return max(lo, 0), min(max(hi, 0), n)


def planned_break_offsets(t: ShiftTemplate, step: int) -> tuple[int, ...]:
    """Main-model break starts [min after shift start]: each window's midpoint, snapped down to
    ``step``.
    """
    out = []
    for b in t.breaks:
        mid = (b.earliest + b.latest) // 2
        snapped = b.earliest + ((mid - b.earliest) // step) * step
        out.append(snapped)
    return tuple(out)


def break_plans(t: ShiftTemplate, step: int, k: int) -> tuple[tuple[int, ...], ...]:
    """Up to ``k`` break plans of a shift [min after its start], the first
    :func:`planned_break_offsets`.

    Plan ``j`` puts every break at the same relative place in its window —
    evenly from the earliest to the latest start (the midpoint plan first),
    snapped to ``step`` — so that agents on the same shift can take their
    breaks at different times. Plans whose breaks would overlap, and
    duplicates, are left out.
    """
    mid = planned_break_offsets(t, step)
    out = [mid]
    if k <= 1 or not t.breaks:
        return tuple(out)
    for j in range(k):
        frac = j / (k - 1)
        offs = []
        for b in t.breaks:
            n_pos = (b.latest - b.earliest) // step
            offs.append(b.earliest + int(round(frac * n_pos)) * step)
        spans = sorted((o, o + b.minutes) for o, b in zip(offs, t.breaks, strict=True))
        if (
            all(spans[i][1] <= spans[i + 1][0] for i in range(len(spans) - 1))
            and tuple(offs) not in out
        ):
            out.append(tuple(offs))
            if len(out) == k:
                break
    return tuple(out)


def coverage_target(required: np.ndarray, residual: float) -> np.ndarray:
    """On-phone agents to schedule per interval: ``ceil(required / (1 − residual))`` [agents]."""
    req = np.asarray(required, dtype=float)
    return np.ceil(req / (1.0 - residual) - 1e-9).clip(min=0).astype(np.int64)


def step_costs(target: np.ndarray, answered: np.ndarray | None) -> np.ndarray:
    """Cost of the j-th missing head per interval, shape (n, max(target)).

    ``answered`` (n, K+1): promised contacts answered within target with
    n = 0..K heads (``staffplan.evaluate.kpis.promised_curve`` made concave),
    or None for plain coverage (every step costs 1 agent-interval). Step j
    costs the j-th head's marginal contacts. Gains are made non-increasing
    in n (each replaced by the largest later gain) and never below a small
    floor, so every missing head of the target costs something.
    """
    tgt = np.asarray(target, dtype=np.int64)
    n = tgt.shape[0]
    m = int(tgt.max()) if n else 0
    out = np.zeros((n, m))
    if m == 0:
        return out
    if answered is None:
        for i in range(n):
            out[i, : tgt[i]] = 1.0
        return out
    ans = np.asarray(answered, dtype=float)
    gains = np.diff(ans, axis=1).clip(min=0.0)  # gains[:, k-1] = worth of the k-th head
    mono = np.maximum.accumulate(gains[:, ::-1], axis=1)[:, ::-1]
    for i in range(n):
        if tgt[i] == 0:
            continue
        ks = np.minimum(np.arange(1, tgt[i] + 1), mono.shape[1])
        g = mono[i, ks - 1]
        floor = max(1e-3, 0.01 * float(g.max()) if g.size else 1e-3)
        # the j-th missing head counted from the top of the target: cost increasing in j
        out[i, : tgt[i]] = np.maximum(g[::-1], floor)
    return out


def is_weekend(d: dt.date) -> bool:
    return d.weekday() >= 5


def weekend_keys(problem: RosterProblem) -> dict[int, list[int]]:
    """Weekend number -> horizon days (Sat/Sun) in it."""
    out: dict[int, list[int]] = {}
    for day in range(problem.grid.days):
        d = problem.date(day)
        if is_weekend(d):
            key = (d - dt.timedelta(days=d.weekday() - 5)).toordinal()
            out.setdefault(key, []).append(day)
    return out


def week_blocks(days: int) -> list[range]:
    """Planning weeks: 7-day blocks from the horizon's first day (the last may be partial)."""
    return [range(s, min(s + 7, days)) for s in range(0, days, 7)]


def ceil_int(x: float) -> int:
    return int(math.ceil(x - 1e-9))


@functools.lru_cache(maxsize=256)
def week_bounds(
    contract: Contract, templates: tuple[ShiftTemplate, ...], days: int
) -> tuple[int, int]:
    """(min, max) paid minutes [min] of a planning week of ``days`` days, before absences.

    A whole week gets the contract's limits. A partial week (``days`` < 7) gets
    ``limit × days/7``, rounded inwards (min up, max down) when some paid total
    of at most ``min(days, max_days_week)`` shifts of the contract's templates
    lies between the two; otherwise, if such totals lie on both sides, outwards
    to the nearest ones (min down, max up), so that an exact contract (min =
    max) stays feasible. A minimum no total reaches stays (an infeasible
    contract, which the pre-checks report).
    """
    c = contract
    if days >= 7:
        return c.min_minutes_week, c.max_minutes_week
    lo_f = c.min_minutes_week * days / 7
    hi_f = c.max_minutes_week * days / 7
    lo, hi = ceil_int(lo_f), int(math.floor(hi_f + 1e-9))
    paid = sorted(
        {t.paid_minutes for t in templates if c.allows(t.id) and not split_overtime(t.id)[1]}
    )
    top = ceil_int(hi_f) + max(paid, default=0)
    totals = {0}
    for _ in range(min(days, c.max_days_week)):
        totals |= {s + m for s in totals for m in paid if s + m <= top}
    above = [s for s in totals if s >= hi_f - 1e-9]
    if any(lo <= s <= hi for s in totals) or not above:
        return lo, max(hi, lo)
    return max(s for s in totals if s <= lo_f + 1e-9), min(above)


def plain_demand(
    queues: tuple[str, ...],
    required: np.ndarray,
    minimum: np.ndarray | None = None,
    skills: tuple[str, ...] | None = None,
) -> Demand:
    """A :class:`Demand` with plain (one cost per missing agent-interval) under-coverage."""
    req = np.asarray(required, dtype=np.int64)
    mn = np.zeros_like(req) if minimum is None else np.asarray(minimum, dtype=np.int64)
    req = np.maximum(req, mn)
    m = int(req.max()) if req.size else 0
    costs = np.zeros((*req.shape, m))
    for q in range(req.shape[0]):
        c = step_costs(req[q], None)
        costs[q, :, : c.shape[1]] = c
    return Demand(queues, skills or queues, req, mn, costs)


def overtime_id(template: str, minutes: int) -> str:
    """The id of template ``template`` lengthened by ``minutes`` [min] of overtime: ``T+m``."""
    return f"{template}+{minutes}"


def split_overtime(tid: str) -> tuple[str, int]:
    """``T+m`` -> (``T``, m [min]); any other id -> (id, 0): the one parser of overtime ids."""
    base, plus, extra = tid.rpartition("+")
    if plus and base and extra.isdigit():
        return base, int(extra)
    return tid, 0


def base_template(tid: str, known: Mapping[str, object] | set[str]) -> str:
    """The template an overtime extension ``T+m`` extends, if ``T`` is in ``known``; else
    ``tid``."""
    base, minutes = split_overtime(tid)
    return base if minutes and base in known else tid


def single_agent_problem(p: RosterProblem, agent: Agent) -> RosterProblem:
    """``p`` reduced to one agent's hard rules: no demand, shift cover, preferences or soft
    weights.
    """
    return replace(
        p,
        agents=(agent,),
        demand=Demand.empty(p.demand.queues, p.demand.skills, p.grid.n),
        shift_cover=(),
        preferences=(),
        weights=replace(
            p.weights, under_coverage=0, over_coverage=0, cost=0, preference=0, fairness=0
        ),
    )
