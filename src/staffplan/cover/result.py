"""A cover repair's result: change log, phone list, service before / no action / after (one
coverage definition), remaining gaps and notes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from staffplan.cover.phone import phone_list
from staffplan.cover.published import (
    NewAbsence,
    Row,
    assign_text,
    coverage_assigned,
    no_action_roster,
)
from staffplan.errors import InfeasibleError, Reason
from staffplan.evaluate.plan_promise import plans_kpis
from staffplan.io.numbers import json_number
from staffplan.io.roster_csv import diff_rosters
from staffplan.queueing import target_for_queue
from staffplan.roster.extract import queue_counts, queue_moves, queue_stays
from staffplan.roster.problem import RosterProblem, split_overtime, week_blocks, week_bounds
from staffplan.scenario import Scenario


@dataclass(frozen=True, eq=False)
class CoverResult:
    """A proposed repair: new roster, change log and phone list, service per interval, gaps.

    ``service`` columns: interval_start, queue, required [agents],
    scheduled_before / scheduled_no_action / scheduled_after [on-phone agents],
    sl_before / sl_no_action / sl_after [fraction, NaN without volume], volume
    [contacts]; rows for the repaired window from now on. ``gaps``: queue,
    from, to, short_max [agents], agent_intervals [agent-intervals] still short
    after the repair (and short because of the absences).
    """

    status: str
    roster: pd.DataFrame
    change_log: pd.DataFrame
    changes: pd.DataFrame
    service: pd.DataFrame
    gaps: pd.DataFrame
    agents_changed: tuple[str, ...]
    solve_seconds: float
    service_penalty: float | None
    build_seconds: float = 0.0
    solver_seconds: float = 0.0
    model_short: int | None = None
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    """Deterministic mode: the solve reached its wall-clock safety net."""

    def sl(self, column: str) -> float:
        """Volume-weighted service level of ``column`` over the window [fraction] (NaN without
        volume).
        """
        f = self.service.dropna(subset=[column])
        vol = f["volume"].to_numpy(dtype=float)
        if vol.sum() <= 0:
            return float("nan")
        return float((f[column].to_numpy(dtype=float) * vol).sum() / vol.sum())

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary: status, agents changed, SL before / no action / after [fraction],
        changes, gaps.
        """

        return {
            "status": self.status,
            "agents_changed": len(self.agents_changed),
            "changed_agents": list(self.agents_changed),
            "sl_before": json_number(self.sl("sl_before"), 4),
            "sl_no_action": json_number(self.sl("sl_no_action"), 4),
            "sl_after": json_number(self.sl("sl_after"), 4),
            "short_agent_intervals_no_action": int(
                (self.service["required"] - self.service["scheduled_no_action"]).clip(lower=0).sum()
            ),
            "short_agent_intervals_after": int(
                (self.service["required"] - self.service["scheduled_after"]).clip(lower=0).sum()
            ),
            "short_agent_intervals_before": int(
                (self.service["required"] - self.service["scheduled_before"]).clip(lower=0).sum()
            ),
            "unrestored_agent_intervals_no_action": self.unrestored("scheduled_no_action"),
            "unrestored_agent_intervals_after": self.unrestored("scheduled_after"),
            "solve_seconds": round(self.solve_seconds, 3),
            "build_seconds": round(self.build_seconds, 3),
            "solver_seconds": round(self.solver_seconds, 3),
            "changes": self.changes.to_dict(orient="records"),
            "gaps": self.gaps.to_dict(orient="records"),
            "notes": list(self.notes),
            "warnings": list(self.warnings),
        }

    def unrestored(self, column: str) -> int:
        """Agent-intervals of ``column`` below the published coverage capped at the requirement,
        ``min(required, scheduled_before)`` [agent-intervals].
        """
        f = self.service
        if f.empty:
            return 0
        target = np.minimum(
            f["required"].to_numpy(dtype=np.int64), f["scheduled_before"].to_numpy(dtype=np.int64)
        )
        return int((target - f[column].to_numpy(dtype=np.int64)).clip(min=0).sum())

    def gaps_text(self) -> list[str]:
        """One line per remaining gap: where coverage stays short and by how much."""
        return [
            f"{g.queue} {g['from'][:16].replace('T', ' ')}-{g['to'][11:16]}: up to "
            f"{g.short_max} agent(s) short ({g.agent_intervals} agent-intervals)"
            for _, g in self.gaps.iterrows()
        ]


def _service_levels(
    problem: RosterProblem,
    scenario: Scenario | None,
    assigned: np.ndarray,
    only: np.ndarray | None = None,
) -> np.ndarray:
    """Promised service level per queue and interval [fraction] of agents serving queues
    ``assigned`` ((n_agents, n), -1 off the phones: :func:`coverage_assigned`) — the heads per
    queue, those who stay on it and those who come from another queue
    (:func:`staffplan.evaluate.plan_promise.plans_kpis`, the KPIs' definition: the week's plan,
    each queue carried across intervals); NaN where unknown (and outside the intervals
    ``only``, a (n,) bool mask, when given).
    """
    dem = problem.demand
    nq = dem.required.shape[0]
    scheduled = queue_counts(assigned, nq)
    out = np.full(scheduled.shape, np.nan)
    if scenario is None or dem.volume is None or dem.aht_s is None:
        return out
    residual = dem.residual if dem.residual is not None else np.zeros(len(dem.queues))
    known = np.isfinite(dem.volume) & np.isfinite(dem.aht_s) & (np.nan_to_num(dem.aht_s) > 0)
    shown = np.isfinite(dem.volume) & np.isfinite(dem.aht_s)
    if only is not None:
        shown &= only
    queues = [scenario.queue(name) for name in dem.queues]
    report = [
        q
        for q, queue in enumerate(queues)
        if queue.answer_within_s is not None and not dem.is_deferred(q) and shown[q].any()
    ]
    plans = plans_kpis(
        np.where(known, dem.volume, 0.0),
        np.where(known, dem.aht_s, np.nan),
        problem.grid.interval_min,
        scheduled,
        [target_for_queue(queue) for queue in queues],
        [float(r) for r in residual],
        queue_stays(assigned, nq),
        queue_moves(assigned, nq),
        report,
    )
    for q in report:
        out[q, shown[q]] = plans[q]["service_level"].to_numpy(dtype=float)[shown[q]]
    return out


def restored_service(
    problem: RosterProblem,
    scenario: Scenario | None,
    roster: pd.DataFrame,
    no_action: pd.DataFrame,
    absences: tuple[NewAbsence, ...],
    assignment: np.ndarray,
    after: np.ndarray,
    sl_after: np.ndarray,
    span: tuple[int, int],
    agents: tuple[str, ...],
) -> dict[str, tuple[float | None, float | None]]:
    """Per changed agent, the service level their changes restore: the volume-weighted promised
    service level [fraction] over the queues and intervals of ``span`` where their changes move
    coverage, without them (their rows as if nobody acted, ``no_action``) and with them (the
    repaired ``roster`` — queues per agent ``after`` (:func:`coverage_assigned`), service levels
    ``sl_after``). None where none of those intervals has a service-level target (e.g. only a
    deferred queue).
    """
    lo, hi = span
    shape = problem.demand.required.shape
    vol = (
        np.nan_to_num(problem.demand.volume, nan=0.0)
        if problem.demand.volume is not None
        else np.zeros(shape)
    )
    index = {a.id: i for i, a in enumerate(problem.agents)}
    out: dict[str, tuple[float | None, float | None]] = {}
    for agent in agents:
        mine = coverage_assigned(
            problem, roster[roster["agent_id"].astype(str) == agent], absences, assignment
        )[index[agent]]
        idle = coverage_assigned(
            problem, no_action[no_action["agent_id"].astype(str) == agent], absences, assignment
        )[index[agent]]
        moved = np.zeros(shape, dtype=bool)
        for q in range(shape[0]):
            moved[q] = (mine == q) != (idle == q)
        moved[:, :lo] = False
        moved[:, hi:] = False
        asg = after.copy()
        asg[index[agent]] = idle
        without = _service_levels(problem, scenario, asg, moved.any(axis=0))
        cells = moved & np.isfinite(sl_after) & np.isfinite(without) & (vol > 0)
        weight = vol[cells].sum()
        if weight <= 0:
            out[agent] = (None, None)
            continue
        out[agent] = (
            round(float((without[cells] * vol[cells]).sum() / weight), 4),
            round(float((sl_after[cells] * vol[cells]).sum() / weight), 4),
        )
    return out


def _gaps(
    problem: RosterProblem, required: np.ndarray, after: np.ndarray, lo: int, hi: int
) -> pd.DataFrame:
    rows = []
    starts = problem.grid.starts
    step = pd.Timedelta(minutes=problem.grid.interval_min)
    for q, name in enumerate(problem.demand.queues):
        short = (required[q] - after[q]).clip(min=0)
        t = lo
        while t < hi:
            if short[t] <= 0:
                t += 1
                continue
            u = t
            while u < hi and short[u] > 0:
                u += 1
            rows.append(
                (
                    name,
                    starts[t].isoformat(),
                    (starts[u - 1] + step).isoformat(),
                    int(short[t:u].max()),
                    int(short[t:u].sum()),
                )
            )
            t = u
    return pd.DataFrame(rows, columns=["queue", "from", "to", "short_max", "agent_intervals"])


def headroom(
    problem: RosterProblem,
    rows: dict[tuple[str, int], Row],
    day: int,
    absent: frozenset[str],
    step_min: int,
) -> dict[str, int]:
    """Agents the weekly contract limits leave free on ``day``: ``call_in`` (off that day, a shift
    of an allowed template still fits the week's paid-minute and day limits) and ``extend``
    (working, ``step_min`` more minutes fit) [agents].
    """
    block = next(b for b in week_blocks(problem.grid.days) if day in b)
    free_call, free_ext = 0, 0
    for a in problem.agents:
        if a.id in absent:
            continue
        c = problem.contracts[a.contract]
        paid = sum(
            int(float(rows[(a.id, d)].record.get("paid_minutes") or 0))
            for d in block
            if (a.id, d) in rows
        )
        days = sum(1 for d in block if (a.id, d) in rows)
        hi = week_bounds(c, problem.templates, len(block))[1]
        if (a.id, day) in rows:
            free_ext += int(paid + step_min <= hi)
        else:
            shortest = min(
                (
                    t.paid_minutes
                    for t in problem.templates
                    if c.allows(t.id) and not split_overtime(t.id)[1]
                ),
                default=None,
            )
            free_call += int(
                shortest is not None and days < c.max_days_week and paid + shortest <= hi
            )
    return {"call_in": free_call, "extend": free_ext}


def cover_result(
    prob: RosterProblem,
    scenario: Scenario | None,
    published: pd.DataFrame,
    roster: pd.DataFrame,
    absences: tuple[NewAbsence, ...],
    now: pd.Timestamp,
    window: tuple[int, ...],
    assignment: np.ndarray,
    lo: int,
    hi: int,
    status: str,
    t_start: float,
    build_s: float,
    solve_s: float,
    model_short: int | None,
    rows: dict[tuple[str, int], Row],
    after_assignment: np.ndarray | None = None,
    warnings: tuple[str, ...] = (),
    recorded: tuple[NewAbsence, ...] = (),
) -> CoverResult:
    """Change log, phone list, service per interval (one coverage definition for before / no action
    / after), gaps and notes. ``absences`` is every absence the repair saw, the ones it repaired
    first and then the ``recorded`` ones it started from (the change reasons name the former).
    """
    log = diff_rosters(published, roster, reason="")
    absent = frozenset(a.agent_id for a in absences)
    new = absences[: len(absences) - len(recorded)]
    why = "cover " + ", ".join(sorted({f"{a.agent_id} ({a.kind})" for a in new}))
    log["reason"] = [
        ("absent (" + next(a.kind for a in absences if a.agent_id == aid) + ")")
        if aid in absent
        else why
        for aid in log["agent_id"]
    ]
    index = {a.id: i for i, a in enumerate(prob.agents)}
    aq = {a.id: prob.agent_queues(a) for a in prob.agents}
    by_date = {(x.agent, x.record["date"]): x for x in rows.values()}
    for k, r in log.iterrows():  # spell out the published queue spans a reassignment replaces
        row = by_date.get((r["agent_id"], r["date"]))
        if r["new_assignments"] and not r["old_assignments"] and row is not None:
            i = index[r["agent_id"]]
            q = np.where(
                row.on, np.where(assignment[i] >= 0, assignment[i], aq[r["agent_id"]][0]), -1
            )
            log.at[k, "old_assignments"] = assign_text(prob, q)
    phone = phone_list(log, absent, {a.id: a.name for a in prob.agents})
    who = tuple(sorted(set(phone["agent_id"])))
    idle = no_action_roster(prob, published, absences, now)
    asg_after = assignment if after_assignment is None else after_assignment
    queues = (
        coverage_assigned(prob, published, (), assignment),
        coverage_assigned(prob, idle, absences, assignment),
        coverage_assigned(prob, roster, absences, asg_after),
    )
    before, no_action, after = (queue_counts(x, len(prob.demand.queues)) for x in queues)
    req = prob.demand.required
    sl = [_service_levels(prob, scenario, x) for x in queues]
    restored = restored_service(
        prob, scenario, roster, idle, absences, asg_after, queues[2], sl[2], (lo, hi), who
    )
    for k, col in enumerate(("sl_without", "sl_with")):  # None (blank, JSON null) if unknown
        phone[col] = pd.Series([restored[a][k] for a in phone["agent_id"]], dtype=object)
    frames = []
    for q, name in enumerate(prob.demand.queues):
        vol = (
            prob.demand.volume[q]
            if prob.demand.volume is not None
            else np.full(prob.grid.n, np.nan)
        )
        frames.append(
            pd.DataFrame(
                {
                    "interval_start": [t.isoformat() for t in prob.grid.starts[lo:hi]],
                    "queue": name,
                    "required": req[q, lo:hi],
                    "scheduled_before": before[q, lo:hi],
                    "scheduled_no_action": no_action[q, lo:hi],
                    "scheduled_after": after[q, lo:hi],
                    "sl_before": sl[0][q, lo:hi],
                    "sl_no_action": sl[1][q, lo:hi],
                    "sl_after": sl[2][q, lo:hi],
                    "volume": np.nan_to_num(vol[lo:hi], nan=0.0),
                }
            )
        )
    service_frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    gaps = _gaps(prob, req, after, lo, hi)
    notes: list[str] = []
    target = np.minimum(req, before)
    for d in window:
        a0, a1 = max(int(prob.grid.day_offsets[d]), lo), min(int(prob.grid.day_offsets[d + 1]), hi)
        lost = (target[:, a0:a1] - after[:, a0:a1]).clip(min=0)
        if a1 <= a0 or lost.sum() <= 0:
            continue
        step = 60
        h = headroom(prob, rows, d, absent, step)
        notes.append(
            f"coverage stays below the published plan on {prob.date(d)} by up to "
            f"{int(lost.max())} agent(s) ({int(lost.sum())} agent-intervals): "
            "the weekly contract limits leave only "
            f"{h['call_in']} agent(s) free to be called in and {h['extend']} to work {step} "
            "min more that week (an extension only adds time at a shift's end; "
            "rest, successions, "
            "availability and the [cover] caps rule out more), and the moves, swaps, break "
            "moves and reassignments left cannot fill the rest"
        )
    total = time.perf_counter() - t_start
    return CoverResult(
        status,
        roster,
        log,
        phone,
        service_frame,
        gaps,
        who,
        total,
        None,
        build_s,
        solve_s,
        model_short,
        tuple(notes),
        warnings,
    )


def infeasible(status: str, absences: tuple[NewAbsence, ...]) -> InfeasibleError:
    if status == "UNKNOWN":
        return InfeasibleError(
            "no repair found within the time limit (solver status UNKNOWN)",
            reasons=[
                Reason(
                    "time limit",
                    ", ".join(a.text or a.agent_id for a in absences),
                    "the solver had no time left after building the model",
                    "give a longer --time-limit",
                )
            ],
        )
    return InfeasibleError(
        f"no repair keeps the hard rules (solver status {status})",
        reasons=[
            Reason(
                "pinned past and contracts",
                ", ".join(a.text or a.agent_id for a in absences),
                "the shifts already started and the contract rules leave no roster",
                "give a later --now, a longer --time-limit, or relax [cover] caps",
            )
        ],
    )
