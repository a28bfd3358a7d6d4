"""From solved literals to the output frames: roster, coverage, agent summary.

``roster.csv`` columns (docs/formats.md): agent_id, name, date, day, shift,
start, end, paid_minutes, breaks, queues, activities. Coverage is recomputed
from the roster rows (breaks placed by the second stage), not from the model:
per interval, on-phone agents are allocated to queues by
:func:`allocate` (single-skilled agents first, then each multi-skilled agent
to its queue with the largest remaining shortfall, ties by the agent's
priority).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from staffplan.io.roster_csv import WRITTEN_COLUMNS
from staffplan.io.team import Agent
from staffplan.roster.breaks import Worked, place_breaks
from staffplan.roster.coverage import plans_in_order
from staffplan.roster.cpmodel import RosterModel
from staffplan.roster.problem import (
    RosterProblem,
    break_plans,
    full_intervals,
    touched_intervals,
    weekend_keys,
)
from staffplan.roster.solver import SolveResult
from staffplan.timegrid import TimeGrid

COVERAGE_COLUMNS = (
    "interval_start",
    "queue",
    "required",
    "scheduled",
    "difference",
    "available",
    "stayed",
)
AGENT_COLUMNS = (
    "agent_id",
    "name",
    "team",
    "contract",
    "paid_hours",
    "days",
    "weekends",
    "late_shifts",
)


@dataclass(frozen=True, eq=False)
class Roster:
    """The solved roster: ``roster`` (WRITTEN_COLUMNS), ``coverage`` (COVERAGE_COLUMNS), ``agents``
    (AGENT_COLUMNS), ``on_phone`` (agents × intervals), ``allocation`` (n_queues, n) on-phone
    agents per queue, ``stays`` (n_queues, n) those of them also on the queue in the interval
    before (:func:`queue_stays`) and ``moves`` (n_queues, n_queues, n) those who came from
    another queue (:func:`queue_moves`).
    """

    roster: pd.DataFrame
    coverage: pd.DataFrame
    agents: pd.DataFrame
    on_phone: np.ndarray
    allocation: np.ndarray
    stays: np.ndarray | None = None
    moves: np.ndarray | None = None


def _hhmm(ts: pd.Timestamp) -> str:
    return f"{ts.hour:02d}:{ts.minute:02d}"


def _clock(problem: RosterProblem, elapsed_min: int) -> str:
    """Local wall-clock time HH:MM of ``elapsed_min`` [min from the horizon origin]."""
    return _hhmm((problem.origin + pd.Timedelta(minutes=elapsed_min)).tz_convert(problem.grid.zone))


def roster_frame(
    problem: RosterProblem,
    worked: list[Worked],
    breaks: dict[tuple[str, int], list],
    activities: dict[str, list[tuple[int, int]]],
) -> pd.DataFrame:
    """One row per worked agent-day (sorted by agent, day)."""
    agents = {a.id: a for a in problem.agents}
    o = problem.origin
    rows = []
    clocks: dict[int, str] = {}  # a break's clock time, once per elapsed minute

    def clock(minute: int) -> str:
        if minute not in clocks:
            clocks[minute] = _clock(problem, minute)
        return clocks[minute]

    for w in sorted(worked, key=lambda w: (w.agent_id, w.day)):
        a = agents[w.agent_id]
        start = (o + pd.Timedelta(minutes=w.start)).tz_convert(problem.grid.zone)
        end = (o + pd.Timedelta(minutes=w.end)).tz_convert(problem.grid.zone)
        brk = ";".join(
            f"{b.name} {clock(b.start)}-{clock(b.end)}"
            for b in sorted(breaks.get((w.agent_id, w.day), []), key=lambda b: b.start)
        )
        acts = [(s, e) for s, e in activities.get(w.agent_id, []) if w.start <= s and e <= w.end]
        act = ";".join(f"activity {clock(s)}-{clock(e)}" for s, e in acts)
        queues = "|".join(problem.demand.queues[q] for q in problem.agent_queues(a))
        rows.append(
            (
                a.id,
                a.name,
                problem.date(w.day).isoformat(),
                w.day,
                w.variant.template,
                start.isoformat(),
                end.isoformat(),
                w.variant.paid_minutes,
                brk,
                queues,
                act,
            )
        )
    frame = pd.DataFrame(rows, columns=list(WRITTEN_COLUMNS))
    return frame.astype({"day": "int64", "paid_minutes": "int64"})


def _spans(text: object) -> list[tuple[int, int]]:
    """``name HH:MM-HH:MM;...`` -> clock minutes (start, end)."""
    out = []
    if not isinstance(text, str) or not text.strip():
        return out
    for item in text.split(";"):
        item = item.strip()
        if not item:
            continue
        times = item.rsplit(" ", 1)[-1]
        a, _, b = times.partition("-")
        ha, ma = a.split(":")
        hb, mb = b.split(":")
        out.append((int(ha) * 60 + int(ma), int(hb) * 60 + int(mb)))
    return out


def on_phone_matrix(
    roster: pd.DataFrame, agents: Sequence[str] | Sequence[Agent], grid: TimeGrid
) -> np.ndarray:
    """Who can take contacts per interval, (n_agents, grid.n) bool, from roster.csv rows.

    An agent is on the phones in an interval lying wholly inside a shift and
    not touched by one of its breaks or activities (``breaks``/``activities``
    columns, clock times resolved forward from the shift's start).
    """
    ids = [a.id if isinstance(a, Agent) else str(a) for a in agents]
    index = {a: i for i, a in enumerate(ids)}
    out = np.zeros((len(ids), grid.n), dtype=bool)
    for r in roster.itertuples(index=False):
        i = index.get(str(r.agent_id))
        if i is None:
            continue
        out[i] |= row_on_phone(
            grid, r.start, r.end, getattr(r, "breaks", ""), getattr(r, "activities", "")
        )
    return out


def _local(grid: TimeGrid, text: object) -> dt.datetime:
    """A roster time as an aware datetime in the grid's zone (ISO with offset parsed directly;
    anything else via pandas).
    """
    try:
        t = dt.datetime.fromisoformat(str(text))
    except ValueError:
        t = None
    if t is None or t.tzinfo is None:
        return grid.to_local(pd.Timestamp(str(text))).to_pydatetime()
    return t.astimezone(grid.zone)


def row_elapsed(grid: TimeGrid, start: object, end: object) -> tuple[int, int, int]:
    """Elapsed minutes [min] of a roster row's ``start`` and ``end`` from the horizon origin, and
    the start's clock minute.
    """
    utc = dt.UTC
    origin = grid.starts[0].to_pydatetime().astimezone(utc)
    s = _local(grid, start)
    e = _local(grid, end)
    # aware datetimes in one zone subtract as wall-clock times in Python: take differences in UTC
    # (exact across DST)
    return (
        int(round((s.astimezone(utc) - origin).total_seconds() / 60)),
        int(round((e.astimezone(utc) - origin).total_seconds() / 60)),
        s.hour * 60 + s.minute,
    )


def row_spans(text: object, e0: int, clock0: int) -> list[tuple[int, int]]:
    """Elapsed [start, end) [min] of a ``breaks``/``activities`` cell of a row starting at elapsed
    ``e0``, clock minute ``clock0``.
    """
    out = []
    for s, e in _spans(text):
        bs = e0 + (s - clock0) % 1440
        out.append((bs, bs + (e - s) % 1440))
    return out


def row_on_phone(
    grid: TimeGrid, start: object, end: object, breaks: object = "", activities: object = ""
) -> np.ndarray:
    """One roster row's on-phone intervals, (grid.n,) bool: wholly inside the shift, not touched by
    a break or activity.
    """
    e0, e1, clock0 = row_elapsed(grid, start, end)
    out = np.zeros(grid.n, dtype=bool)
    lo, hi = full_intervals(e0, e1, grid.interval_min, grid.n)
    out[lo:hi] = True
    for text in (breaks, activities):
        for bs, be in row_spans(text, e0, clock0):
            t0, t1 = touched_intervals(bs, be, grid.interval_min, grid.n)
            out[t0:t1] = False
    return out


def allocate(
    on_phone: np.ndarray, agent_queues: Sequence[Sequence[int]], required: np.ndarray
) -> np.ndarray:
    """On-phone agents per queue and interval (n_queues, n) [agents], one queue per agent at a time.

    Single-skilled agents serve their queue; each multi-skilled agent (in
    the given order) goes to its queue with the largest shortfall
    ``required − allocated`` (ties: the agent's first-priority queue), then
    chains of moves feed short queues from queues with surplus (see
    :func:`assign_queues`): the fewest missing agents any allocation gives.
    """
    assigned = assign_queues(np.asarray(on_phone, dtype=bool), agent_queues, required)
    return queue_counts(assigned, required.shape[0]).reshape(required.shape)


def queue_counts(assigned: np.ndarray, n_queues: int) -> np.ndarray:
    """Agents per queue and interval, (n_queues, n) [agents], of :func:`assign_queues`' matrix."""
    a = np.asarray(assigned)
    return np.stack([(a == q).sum(axis=0) for q in range(n_queues)]).astype(np.int64)


def queue_stays(assigned: np.ndarray, n_queues: int) -> np.ndarray:
    """Agents on each queue in an interval who were on it in the interval before, (n_queues, n)
    [agents] (0 in the first interval), from :func:`assign_queues`' matrix: who stays matters to
    the promise (those who leave take their contacts, newcomers start idle)."""
    a = np.asarray(assigned)
    out = np.zeros((n_queues, a.shape[1]), dtype=np.int64)
    if a.shape[1] > 1:
        same = (a[:, 1:] == a[:, :-1]) & (a[:, 1:] >= 0)
        for q in range(n_queues):
            out[q, 1:] = (same & (a[:, 1:] == q)).sum(axis=0)
    return out


def queue_moves(assigned: np.ndarray, n_queues: int) -> np.ndarray:
    """Agents on queue q in an interval who were on another queue s in the interval before,
    (n_queues, n_queues, n) [agents] indexed [q, s, t] (0 for s = q and in the first interval),
    from :func:`assign_queues`' matrix: a mover finishes what it holds on s first."""
    a = np.asarray(assigned)
    out = np.zeros((n_queues, n_queues, a.shape[1]), dtype=np.int64)
    if a.shape[1] > 1:
        now, before = a[:, 1:], a[:, :-1]
        moved = (now != before) & (now >= 0) & (before >= 0)
        for q in range(n_queues):
            for s in range(n_queues):
                if s != q:
                    out[q, s, 1:] = (moved & (now == q) & (before == s)).sum(axis=0)
    return out


def assign_queues(
    on_phone: np.ndarray, agent_queues: Sequence[Sequence[int]], required: np.ndarray
) -> np.ndarray:
    """The queue each agent serves per interval, (n_agents, n) int, -1 when off the phones.

    The rule :func:`allocate` counts: single-skilled
    agents serve their queue; each multi-skilled agent, in the given order, the
    queue with the largest shortfall left (ties: its first-priority queue);
    then, per interval, multi-skilled agents move along chains from queues
    with surplus to short ones until no such chain is left, so no allocation
    leaves fewer agents missing (as the model's own allocation).
    """
    nq, n = required.shape
    out = np.full(on_phone.shape, -1, dtype=np.int64)
    alloc = np.zeros((nq, n), dtype=np.int64)
    multi = []
    for i, qs in enumerate(agent_queues):
        if len(qs) == 1:
            out[i, on_phone[i]] = qs[0]
            alloc[qs[0]] += on_phone[i]
        elif len(qs) > 1:
            multi.append(i)
    for i in multi:
        qs = list(agent_queues[i])
        ts = np.flatnonzero(on_phone[i])
        if ts.size == 0:
            continue
        short = required[qs][:, ts] - alloc[qs][:, ts]
        pick = np.asarray(qs)[np.argmax(short, axis=0)]
        out[i, ts] = pick
        alloc[pick, ts] += 1
    if multi:
        short_any = (alloc < required).any(axis=0) & (alloc > required).any(axis=0)
        for t in np.flatnonzero(short_any):
            _rebalance(
                out[:, t],
                [(i, agent_queues[i]) for i in multi if out[i, t] >= 0],
                alloc[:, t],
                required[:, t],
            )
    return out


def _rebalance(
    assigned: np.ndarray,
    movable: list[tuple[int, Sequence[int]]],
    alloc: np.ndarray,
    required: np.ndarray,
) -> None:
    """Move multi-skilled agents along chains (queue ← agent ← queue ...) while a short queue can be
    fed from one with surplus.

    Each chain lowers the interval's missing agents by one, so at the end the
    count of missing agents is the least any one-queue-per-agent allocation
    gives (augmenting paths of a bipartite flow). In place; deterministic
    (queues and agents in index order).
    """
    nq = len(alloc)
    for q in range(nq):
        while alloc[q] < required[q]:
            parent: dict[int, tuple[int, int] | None] = {
                q: None
            }  # queue -> (agent moved into the child queue, child queue)
            frontier, found = [q], None
            while frontier and found is None:
                nxt = []
                for cur in frontier:
                    for i, qs in movable:
                        p = int(assigned[i])
                        if p in parent or cur not in qs:
                            continue
                        parent[p] = (i, cur)
                        if alloc[p] > required[p]:
                            found = p
                            break
                        nxt.append(p)
                    if found is not None:
                        break
                frontier = nxt
            if found is None:
                break
            alloc[found] -= 1
            alloc[q] += 1
            p = found
            while parent[p] is not None:
                i, child = parent[p]
                assigned[i] = child
                p = child


def agent_break_plans(rm: RosterModel, result: SolveResult) -> dict[tuple[str, int], int]:
    """The break plan of each (agent, day) on a shift with break-plan counts in ``result``.

    The model counts per skill group and shift how many take each plan; the
    agents working it take them in id order.
    """
    out: dict[tuple[str, int], int] = {}
    if not result.solution:
        return out
    for (_g, d, vid), (members, ys) in rm.breaks.items():
        working = [aid for aid in members if result.values.get((aid, d, vid), 0)]
        for aid, j in plans_in_order(
            working, [int(result.solution[y.Index()]) for y in ys]
        ).items():
            out[(aid, d)] = j
    return out


def worked_shifts(rm: RosterModel, result: SolveResult) -> list[Worked]:
    """The (agent, day, variant) triples set to 1 in ``result``, with the break plan the model
    chose.
    """
    p = rm.problem
    var = {v.id: v for v in p.variants}
    plans = agent_break_plans(rm, result)
    step = min(15, p.grid.interval_min)
    out = []
    for (a, d, vid), val in sorted(result.values.items()):
        if val:
            e0, e1 = rm.elapsed[(d, vid)]
            v = var[vid]
            offsets = break_plans(p.template_by_id[v.template], step, p.break_plans)[
                plans.get((a, d), 0)
            ]
            out.append(Worked(a, d, v, e0, e1, offsets))
    return out


def summarize(
    problem: RosterProblem, roster: pd.DataFrame, on_phone: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Coverage frame, agent summary, allocation, stays (:func:`queue_stays`) and moves
    (:func:`queue_moves`) from roster rows."""
    dem = problem.demand
    agent_q = [problem.agent_queues(a) for a in problem.agents]
    assigned = assign_queues(np.asarray(on_phone, dtype=bool), agent_q, dem.required)
    alloc = queue_counts(assigned, dem.required.shape[0]).reshape(dem.required.shape)
    nq, n = dem.required.shape
    cov = pd.DataFrame(
        {
            "interval_start": np.tile(
                np.array([t.isoformat() for t in problem.grid.starts], dtype=object), nq
            ),
            "queue": np.repeat(np.array(dem.queues, dtype=object), n),
            "required": dem.required.ravel(),
            "scheduled": alloc.ravel(),
        }
    )
    cov["difference"] = cov["scheduled"] - cov["required"]
    cov["available"] = dem.available(alloc).ravel()  # expected heads after residual shrinkage
    stays = queue_stays(assigned, nq)
    cov["stayed"] = stays.ravel()  # of them, on the queue in the interval before too
    late = {t.id for t in problem.templates if t.late}
    wk_days = {d: k for k, ds in weekend_keys(problem).items() for d in ds}
    rows_of = roster.groupby("agent_id", sort=False).indices  # agent -> its row positions
    days = roster["day"].to_numpy()
    paid = roster["paid_minutes"].to_numpy(dtype=np.int64)
    is_late = roster["shift"].isin(late).to_numpy()
    none = np.zeros(0, dtype=np.int64)
    rows = []
    for a in problem.agents:
        mine = rows_of.get(a.id, none)
        weekends = len({wk_days[d] for d in days[mine].tolist() if d in wk_days})
        rows.append(
            (
                a.id,
                a.name,
                a.team,
                a.contract,
                round(float(paid[mine].sum()) / 60.0, 2),
                len(mine),
                weekends,
                int(is_late[mine].sum()),
            )
        )
    agents = pd.DataFrame(rows, columns=list(AGENT_COLUMNS))
    return cov, agents, alloc, stays, queue_moves(assigned, nq)


def coverage_cost(problem: RosterProblem, alloc: np.ndarray) -> float:
    """The model's coverage terms for an allocation [objective units]: weighted step costs of
    missing agents plus over-coverage.
    """
    dem, w = problem.demand, problem.weights
    missing = np.clip(dem.required - alloc, 0, None)
    under = 0.0
    if dem.step_costs.shape[2]:
        steps = np.arange(dem.step_costs.shape[2])
        first = np.minimum(
            alloc, dem.required
        )  # steps alloc .. required − 1 are the missing agents
        mask = (steps[None, None, :] >= first[:, :, None]) & (
            steps[None, None, :] < dem.required[:, :, None]
        )
        under = float((dem.step_costs * mask).sum())
    elif missing.any():
        under = float(missing.sum())
    return w.under_coverage * under + w.over_coverage * float(
        np.clip(alloc - dem.required, 0, None).sum()
    )


def extract(problem: RosterProblem, rm: RosterModel, result: SolveResult) -> Roster:
    """Roster, coverage and agent summary of a feasible ``result``.

    Breaks: the second stage (:func:`place_breaks`) from the model's break
    plans, kept only if its coverage is no worse than the plans' own
    (:func:`coverage_cost`), so it never undoes what the model found.
    """
    worked = worked_shifts(rm, result)
    best: tuple[float, pd.DataFrame, np.ndarray] | None = None
    for passes in (0, 2):
        roster = roster_frame(
            problem,
            worked,
            place_breaks(problem, worked, rm.activities, passes=passes),
            rm.activities,
        )
        on = on_phone_matrix(roster, problem.agents, problem.grid)
        c = coverage_cost(
            problem,
            allocate(
                on, [problem.agent_queues(a) for a in problem.agents], problem.demand.required
            ),
        )
        if best is None or c < best[0]:
            best = (c, roster, on)
    assert best is not None
    _, roster, on = best
    cov, agents, alloc, stays, moves = summarize(problem, roster, on)
    return Roster(roster, cov, agents, on, alloc, stays, moves)
