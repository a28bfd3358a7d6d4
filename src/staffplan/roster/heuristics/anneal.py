"""Local search over whole shifts: simulated annealing with exact incremental costs.

CP-SAT sub-solves cost 0.2 s or more each on a week of 15-minute intervals,
whatever their size; this search makes tens of thousands of small moves a
second instead. A move changes one agent's shift on one day (another start,
template or break plan), moves a working day to a day off, adds or drops a day, or
swaps two agents' shifts on a day; half the moves are aimed at the (queue,
interval) pairs whose next agent is worth most. Each move is checked against the moving
agents' own hard rules (:class:`AgentRules`, the same rules as
:mod:`staffplan.roster.rules`) and priced exactly, in the objective's integer
units (coefficients × SCALE):

* interval coverage per queue from a cost table per (queue, interval) — the
  under-coverage segments, over-coverage and minimum floors of
  :func:`staffplan.roster.rules.coverage` — with multi-skilled agents
  allocated to queues optimally: adding or removing one on-phone agent moves
  allocations along the cheapest augmenting path (the costs are convex, so
  the allocation stays optimal after every step, as CP-SAT's would be);
* break plans (``rm.breaks``): each agent's option is a shift *and* a break
  plan, so the counts per (group, shift, plan) the model has follow from the
  schedule, and :meth:`Search.hint` returns them with the literals;
* labour cost and preferences, linear in the shifts;
* fairness spreads (weekends, late shifts per contract) and day-level shift
  cover, from counts.

Only the rules and terms that :func:`staffplan.roster.build.build_model`
creates are known here: a model with other terms (e.g. cover repair's) is
not searched (:func:`searchable`). The result is a literal hint; callers
complete it with CP-SAT (:func:`staffplan.roster.solver.complete_hint`),
which re-checks every rule.

Deterministic: with ``max_moves`` the run depends only on the start and
the seed. :func:`search_chains` runs one chain per core (forked) and keeps the best.
"""

from __future__ import annotations

import contextlib
import gc
import math
import multiprocessing
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection

import numpy as np

from staffplan.roster.cpmodel import RosterModel
from staffplan.roster.heuristics.agent_rules import OFF, Key, Option
from staffplan.roster.heuristics.search_state import Search
from staffplan.roster.problem import SCALE

KNOWN_RULES = frozenset(
    {"under_coverage", "over_coverage", "cost", "preference", "fairness", "shift_cover"}
)
#: share of moves aimed at an under-covered (queue, interval)
TARGETED = 0.5
# : a run makes at most this many moves per (agent, day, shift option): small models stop long
# before their budget
PASSES = 300


def searchable(rm: RosterModel) -> bool:
    """True if every objective term comes from the standard soft rules (so the search prices the
    objective exactly)
    and some of them price interval coverage (what the targeted moves aim at; models of day-level
    cover alone, like
    the Curtois instances, are better served by column generation and best responses)."""
    return all(t.rule in KNOWN_RULES for t in rm.terms) and any(
        t.rule in ("under_coverage", "over_coverage") for t in rm.terms
    )


def _targeted(st: Search, rng: random.Random) -> list[tuple[int, int, int]] | None:
    """A move that puts an agent on the phones in an under-covered (queue, interval), picked by its
    cost.
    """
    if not st.deficits:
        return None
    q, t = rng.choices(st.deficits, cum_weights=st.deficit_weights)[0]
    servers = st.servers[q]
    cands = st.covering.get(t)
    if not servers or not cands:
        return None
    i = rng.choice(servers)
    if st.fixed[i]:
        return None
    d, vid = rng.choice(cands)
    k = st.index[i][d].get(vid)
    if k is None:
        return None
    opts = st.options[i][d]
    plans = [j for j in range(k, _plans_end(opts, k)) if t in opts[j].on]
    if not plans:
        return None
    k = rng.choice(plans)
    s = st.sched[i]
    if s[d] != OFF:
        if s[d] == k:
            return None
        move = [(i, d, k)]
    else:
        working = [e for e in range(st.days) if s[e] != OFF]
        move = (
            [(i, rng.choice(working), OFF), (i, d, k)]
            if working and rng.random() < 0.8
            else [(i, d, k)]
        )
    return move


def _plans_end(opts: list[Option], k: int) -> int:
    """End (exclusive) of the run of options with the same shift as ``opts[k]``, which starts at its
    first plan.
    """
    e = k + 1
    while e < len(opts) and opts[e].key == opts[k].key:
        e += 1
    return e


def _same_shift(opts: list[Option], vid: str, plan: int) -> int | None:
    """The option of shift ``vid`` with break plan ``plan`` (else its first plan), or None."""
    first = None
    for x, o in enumerate(opts):
        if o.key[2] == vid:
            if o.plan == plan:
                return x
            if first is None:
                first = x
    return first


def _propose(st: Search, rng: random.Random) -> list[tuple[int, int, int]] | None:
    """A random move as (agent, day, new option) changes, or None if the draw gives nothing to
    try.
    """
    u = rng.random()
    if u < TARGETED:
        return _targeted(st, rng)
    n_agents = len(st.agents)
    i = rng.randrange(n_agents)
    if st.fixed[i]:
        return None
    s = st.sched[i]
    opts = st.options[i]
    days = st.days
    r = rng.random()
    working = [d for d in range(days) if s[d] != OFF]
    if r < 0.45 and working:  # another shift on a working day, mostly a nearby start
        d = rng.choice(working)
        m = len(opts[d])
        if m < 2:
            return None
        k = s[d]
        k0 = st.index[i][d][opts[d][k].key[2]]
        n_plans = _plans_end(opts[d], k0) - k0
        u2 = rng.random()
        if u2 < 0.25 and n_plans > 1:  # another break plan
            k2 = rng.randrange(k0, k0 + n_plans)
            if k2 == k:
                return None
        elif u2 < 0.75:  # a nearby start, same break plan
            k2 = k + n_plans * rng.choice((-4, -3, -2, -1, 1, 2, 3, 4))
            if not 0 <= k2 < m or opts[d][k2].template != opts[d][k].template:
                return None
        else:
            k2 = rng.randrange(m)
            if k2 == k:
                return None
        return [(i, d, k2)]
    if r < 0.75 and working:  # move a working day to a day off
        d = rng.choice(working)
        free = [e for e in range(days) if s[e] == OFF and opts[e]]
        if not free:
            return None
        e = rng.choice(free)
        o = opts[d][s[d]]
        same = _same_shift(opts[e], o.key[2], o.plan)
        k2 = same if same is not None and rng.random() < 0.7 else rng.randrange(len(opts[e]))
        return [(i, d, OFF), (i, e, k2)]
    if r < 0.85:  # add or drop a day
        d = rng.randrange(days)
        if s[d] != OFF:
            return [(i, d, OFF)]
        if not opts[d]:
            return None
        return [(i, d, rng.randrange(len(opts[d])))]
    # swap the shifts of two agents on a day
    j = rng.randrange(n_agents)
    if j == i or st.fixed[j]:
        return None
    d = rng.randrange(days)
    ki, kj = s[d], st.sched[j][d]
    if ki == kj == OFF:
        return None
    oi = opts[d][ki] if ki != OFF else None
    oj = st.options[j][d][kj] if kj != OFF else None
    if (oi and oi.key[2]) == (oj and oj.key[2]):
        return None
    ni = OFF if oj is None else _same_shift(opts[d], oj.key[2], oj.plan)
    nj = OFF if oi is None else _same_shift(st.options[j][d], oi.key[2], oi.plan)
    if ni is None or nj is None:
        return None
    return [(i, d, ni), (j, d, nj)]


def _feasible(st: Search, changes: list[tuple[int, int, int]]) -> bool:
    agents: dict[int, list[int]] = {}
    for i, d, k in changes:
        s = agents.setdefault(i, list(st.sched[i]))
        s[d] = k
    return all(st.rules[i].ok(s) for i, s in agents.items())


@dataclass(frozen=True)
class SearchResult:
    """The best schedule found, as literal values, its objective [objective units] and the moves
    tried/accepted.
    """

    hint: dict[Key, int]
    objective: float
    start_objective: float
    moves: int
    accepted: int
    seconds: float
    lost_chains: int = 0
    """Chains that sent no result (died): a deterministic run then depends on that failure."""


Improve = Callable[[float, int, np.ndarray], None]
"""Called with a new best schedule's objective [objective units], paid minutes [min] and on-phone
agents allocated per queue and interval, (n_queues, n) [agents]."""


def local_search(
    rm: RosterModel,
    start: Mapping[Key, int],
    budget_s: float,
    seed: int = 0,
    *,
    max_moves: int | None = None,
    on_improve: Improve | None = None,
) -> SearchResult:
    """Simulated annealing from ``start`` for ``budget_s`` [s] (or exactly ``max_moves`` moves,
    deterministic).

    A run also ends after :data:`PASSES` moves per (agent, day, shift option),
    so small models hand back their time. The temperature falls geometrically
    from the size of a typical worsening move to a thousandth of it over the
    run (by time or by moves, whichever is further along); the best schedule
    seen is returned.
    ``on_improve`` hears of new best schedules at most every 0.5 s (reports only: the run does
    not depend on the clock when ``max_moves`` is given).
    """
    was_enabled = gc.isenabled()
    # the moves make no reference cycles; collections would walk the whole model's objects again and
    # again
    gc.disable()
    try:
        return _anneal(rm, start, budget_s, seed, max_moves, on_improve)
    finally:
        if was_enabled:
            gc.enable()


def _anneal(
    rm: RosterModel,
    start: Mapping[Key, int],
    budget_s: float,
    seed: int,
    max_moves: int | None,
    on_improve: Improve | None,
) -> SearchResult:

    t0 = time.perf_counter()
    st = Search(rm, start)
    rng = random.Random(seed)
    start_obj = st.objective
    best_obj = st.objective
    best = [list(s) for s in st.sched]
    # temperature from a sample of worsening moves
    ups: list[int] = []
    for _ in range(400):
        mv = _propose(st, rng)
        if mv is None or not _feasible(st, mv):
            continue
        undo = [(i, d, st.sched[i][d]) for i, d, _ in mv]
        delta = st.apply(mv)
        st.apply(undo[::-1])
        if delta > 0:
            ups.append(delta)
    ups.sort()
    t_hi = float(ups[len(ups) // 4]) if ups else 1.0
    t_lo = t_hi / 1000
    size = sum(len(day) for per_agent in st.options for day in per_agent)
    cap = PASSES * max(size, 1)
    limit = cap if max_moves is None else min(max_moves, cap)
    moves = accepted = 0
    temp = t_hi
    last_report = t0
    while True:
        if moves % 1024 == 0:
            st.refresh_deficits()
        if moves % 256 == 0:
            frac = moves / limit if limit else 1.0
            if max_moves is None:
                frac = max(frac, (time.perf_counter() - t0) / max(budget_s, 1e-9))
            if frac >= 1:
                break
            temp = t_hi * (t_lo / t_hi) ** frac
        moves += 1
        mv = _propose(st, rng)
        if mv is None or not _feasible(st, mv):
            continue
        delta = st.peek(mv)
        if delta is not None:
            if delta <= 0 or rng.random() < math.exp(-delta / temp):
                st.apply(mv)
                accepted += 1
                if st.objective < best_obj:
                    best_obj = st.objective
                    best = [list(s) for s in st.sched]
                    if on_improve is not None and time.perf_counter() - last_report > 0.5:
                        last_report = time.perf_counter()
                        on_improve(best_obj / SCALE, st.paid(), st.on_phone())
            continue
        undo = [(i, d, st.sched[i][d]) for i, d, _ in mv]
        delta = st.apply(mv)
        if delta <= 0 or rng.random() < math.exp(-delta / temp):
            accepted += 1
            if st.objective < best_obj:
                best_obj = st.objective
                best = [list(s) for s in st.sched]
                if on_improve is not None and time.perf_counter() - last_report > 0.5:
                    last_report = time.perf_counter()
                    on_improve(best_obj / SCALE, st.paid(), st.on_phone())
        else:
            st.apply(undo[::-1])
    st.sched = best
    return SearchResult(
        st.hint(), best_obj / SCALE, start_obj / SCALE, moves, accepted, time.perf_counter() - t0
    )


def _chain(
    conn: Connection,
    rm: RosterModel,
    start: Mapping[Key, int],
    budget_s: float,
    seed: int,
    max_moves: int | None,
) -> None:
    """A forked search: sends back the non-zero hint values (literals, break-plan counts), the
    objectives, moves and time.
    """
    try:
        res = local_search(rm, start, budget_s, seed, max_moves=max_moves)
        conn.send(
            (
                [(k, v) for k, v in res.hint.items() if v],
                res.objective,
                res.start_objective,
                res.moves,
                res.accepted,
                res.seconds,
            )
        )
    finally:  # a chain that fails sends nothing: the parent keeps its own result
        conn.close()


def search_chains(
    rm: RosterModel,
    start: Mapping[Key, int],
    budget_s: float,
    seed: int = 0,
    *,
    chains: int = 1,
    max_moves: int | None = None,
    on_improve: Improve | None = None,
    after_fork: Callable[[], None] | None = None,
) -> SearchResult:
    """``chains`` independent searches with seeds ``seed``, ``seed + 1``, ...; the best wins (ties:
    the lowest seed).

    The extra chains run in forked processes (one core each) where the
    platform can fork, else only the first runs. ``after_fork`` is called once
    the children exist, before this process's own chain (start threads there,
    not before: a fork copies no running thread). With ``max_moves``
    (deterministic) every chain is waited for, however long it takes; a chain
    that dies is counted in ``lost_chains``.
    """
    children = []
    if chains > 1 and "fork" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("fork")
        for c in range(1, chains):
            recv, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(
                target=_chain, args=(send, rm, start, budget_s, seed + c, max_moves), daemon=True
            )
            proc.start()
            send.close()
            children.append((recv, proc))
    if after_fork is not None:
        after_fork()
    best = local_search(rm, start, budget_s, seed, max_moves=max_moves, on_improve=on_improve)
    lost = 0
    for recv, proc in children:
        try:
            got = None
            with contextlib.suppress(EOFError, OSError):  # a chain that died sent nothing
                # deterministic runs must hear from every chain: no timeout (a dead chain's pipe
                # closes, which ends the wait)
                if max_moves is not None or recv.poll(budget_s + 5.0):
                    got = recv.recv()
            if got is None:
                lost += 1
                continue
            nonzero, obj, start_obj, moves, accepted, seconds = got
            if obj < best.objective:
                hint = dict.fromkeys(rm.x, 0)
                hint.update(nonzero)
                best = SearchResult(hint, obj, start_obj, moves, accepted, seconds)
        finally:
            recv.close()
            proc.join(1.0)
            if proc.is_alive():
                proc.terminate()
    return replace(best, lost_chains=lost)
