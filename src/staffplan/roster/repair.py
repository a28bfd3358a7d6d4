"""Minimal-change repair of a published roster after new absences (sick-leave cover).

Inputs: the scenario's roster problem, the published roster (text rows from the
plan store), the new absences and "now". The past is pinned (every agent-day
whose published shift starts before now, and every earlier day, keeps its
published shift); the new absences are added as hard absences; on the built
CP-SAT model the repair adds one "changed" indicator per agent-day and per
agent, with costs and caps from the scenario's ``[cover]`` table, and the
objective becomes: service first (the engine's coverage terms), then fewest
changed agents, then the cost of the actions. The published roster is the
solver's hint.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from ortools.sat.python import cp_model

from staffplan.errors import InfeasibleError, InputError, Reason, ScenarioError
from staffplan.roster.build import RosterModel, Term, scaled
from staffplan.roster.model import RosterProblem
from staffplan.roster.solve import SolveSettings
from staffplan.scenario import Scenario
from staffplan.store import diff_rosters, roster_as_text
from staffplan.timegrid import TimeGrid

COVER_SPEC = {
    "max_overtime_min": ((int,), 120, "the longest extension of one published shift [min], a whole number >= 0"),
    "max_move_min": ((int,), 180, "how far a shift's start may move [min], a whole number >= 0"),
    "overtime_step_min": ((int,), 60, "overtime comes in steps of this many minutes [min], a whole number >= 1"),
    "max_changed_agents": ((int,), 0, "the most agents a repair may change (0 = no cap)"),
    "extra_days": ((int,), 0, "days after the last absent day that the repair may also change [days]"),
    "allow_callin": ((bool,), True, "true to allow calling in agents on their day off"),
    "allow_swap": ((bool,), True, "true to allow agents to take another agent's shift"),
    "changed_agent_weight": ((float, int), 1000.0, "objective weight of one changed agent (tier 2, below service)"),
    "move_cost": ((float, int), 20.0, "cost of moving one shift's start [currency]"),
    "overtime_cost_per_hour": ((float, int), 40.0, "cost of one hour of overtime [currency/h]"),
    "callin_cost": ((float, int), 100.0, "premium for calling in one agent on a day off [currency]"),
    "swap_cost": ((float, int), 30.0, "cost of giving an agent another shift template [currency]"),
    "cancel_cost": ((float, int), 30.0, "cost of cancelling a published shift of an agent who is not absent [currency]"),
}


@dataclass(frozen=True)
class CoverSettings:
    """Costs [currency] and caps ([min], [agents]) of the repair actions, from ``[cover]``."""

    max_overtime_min: int = 120
    max_move_min: int = 180
    overtime_step_min: int = 60
    max_changed_agents: int = 0
    extra_days: int = 0
    allow_callin: bool = True
    allow_swap: bool = True
    changed_agent_weight: float = 1000.0
    move_cost: float = 20.0
    overtime_cost_per_hour: float = 40.0
    callin_cost: float = 100.0
    swap_cost: float = 30.0
    cancel_cost: float = 30.0


def cover_settings(table: Any, *, file: Path) -> CoverSettings:
    """Validate a scenario's ``[cover]`` table (unknown keys, types, ranges) into :class:`CoverSettings`."""
    from staffplan.scenario import check_table

    t = check_table(table, COVER_SPEC, file=file, key="cover")
    for k, v in t.items():
        if not isinstance(v, bool) and v < 0:
            raise ScenarioError("value out of range", file=file, key=f"cover.{k}", expected=COVER_SPEC[k][2], found=v)
    if t["overtime_step_min"] < 1:
        raise ScenarioError("value out of range", file=file, key="cover.overtime_step_min", expected=COVER_SPEC["overtime_step_min"][2], found=t["overtime_step_min"])
    return CoverSettings(**t)


@dataclass(frozen=True)
class NewAbsence:
    """An agent absent over local times [start, end) (tz-aware), as given on the command line."""

    agent_id: str
    start: pd.Timestamp
    end: pd.Timestamp
    kind: str = "sick"
    text: str = ""

    def overlaps(self, start: pd.Timestamp, end: pd.Timestamp) -> bool:
        """True if [start, end) meets the absence."""
        return bool(start < self.end and self.start < end)


_ABSENT_HINT = "use AGENT:DATE (the whole day), or AGENT:FROM/TO with ISO dates or date-times, e.g. A03:2026-12-02T12:00/2026-12-03"


def _when(text: str, grid: TimeGrid, *, is_end: bool, option: str, found: str) -> pd.Timestamp:
    text = text.strip()
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return grid.local_midnight(day + dt.timedelta(days=1) if is_end else day)
        return grid.to_local(pd.Timestamp(dt.datetime.fromisoformat(text)))
    except ValueError:
        raise InputError("bad date or time", column=option, expected="an ISO date (2026-12-02) or date-time (2026-12-02T12:00)", found=found, hint=_ABSENT_HINT) from None


def parse_absent(text: str, grid: TimeGrid, kind: str = "sick") -> NewAbsence:
    """Parse one ``--absent`` value: ``A17:2026-12-02`` or ``A03:2026-12-02T12:00/2026-12-03``.

    A date-only end is inclusive (the whole day). The agent id is everything
    before the first ``:``. Raises :class:`InputError` on a malformed value, an
    empty span or one that misses the planning horizon.
    """
    agent, sep, span = text.partition(":")
    if not sep or not agent.strip() or not span.strip():
        raise InputError("bad absence", column="--absent", expected="AGENT:DATE or AGENT:FROM/TO", found=text, hint=_ABSENT_HINT)
    first, slash, last = span.partition("/")
    start = _when(first, grid, is_end=False, option="--absent", found=text)
    if slash:
        end = _when(last, grid, is_end=True, option="--absent", found=text)
    elif len(first.strip()) == 10:
        end = _when(first, grid, is_end=True, option="--absent", found=text)
    else:
        raise InputError("absence without an end", column="--absent", expected="AGENT:FROM/TO when FROM has a time", found=text, hint=_ABSENT_HINT)
    if end <= start:
        raise InputError("absence ends before it starts", column="--absent", expected="TO after FROM", found=text, hint=_ABSENT_HINT)
    h0, h1 = grid.local_midnight(grid.start), grid.local_midnight(grid.end)
    if end <= h0 or start >= h1:
        raise InputError("absence outside the planning horizon", column="--absent", expected=f"a time between {grid.start} and {grid.end - dt.timedelta(days=1)}", found=text)
    return NewAbsence(agent.strip(), start, end, kind, text)


def parse_now(text: str, grid: TimeGrid) -> pd.Timestamp:
    """Parse ``--now`` (ISO date-time, local if no offset); it may not lie after the horizon."""
    try:
        now = grid.to_local(pd.Timestamp(dt.datetime.fromisoformat(text.strip())))
    except ValueError:
        raise InputError("bad time", column="--now", expected="an ISO date-time like 2026-12-02T07:00", found=text) from None
    if now >= grid.local_midnight(grid.end):
        raise InputError("now is after the planning horizon", column="--now", expected=f"a time before {grid.end} 00:00", found=text, hint="nothing is left to repair")
    return now


PHONE_COLUMNS: tuple[str, ...] = ("first_time", "agent_id", "date", "action", "old", "new", "minutes", "reason")


def _minutes(a: str, b: str) -> int:
    """Whole minutes from ISO time ``a`` to ``b``."""
    return int(round((dt.datetime.fromisoformat(b) - dt.datetime.fromisoformat(a)).total_seconds() / 60))


def classify(old: Any, new: Any) -> tuple[str, int]:
    """The lead's name for one agent-day change and its size [min], from change-log fields.

    ``call in`` (a shift on a day off; minutes = its length), ``cancel`` (no
    shift any more), ``extend`` / ``shorten`` (same start, end moved; minutes =
    the difference), ``move start`` (same template, start moved; minutes = the
    signed shift), ``swap shift`` (another template), ``reassign queue`` (same
    times, other queues).
    """
    if not old.old_shift and not old.old_start:
        return "call in", _minutes(new.new_start, new.new_end)
    if not new.new_shift and not new.new_start:
        return "cancel", _minutes(old.old_start, old.old_end)
    if old.old_start == new.new_start and old.old_end != new.new_end:
        d = _minutes(old.old_end, new.new_end)
        return ("extend" if d > 0 else "shorten"), abs(d)
    if old.old_shift == new.new_shift and old.old_start != new.new_start:
        return "move start", _minutes(old.old_start, new.new_start)
    if old.old_shift != new.new_shift or old.old_start != new.new_start or old.old_end != new.new_end:
        return "swap shift", _minutes(old.old_start, new.new_start)
    return "reassign queue", 0


def phone_list(change_log: pd.DataFrame, absent_agents: frozenset[str] = frozenset()) -> pd.DataFrame:
    """The changes a lead phones through, earliest affected time first (:data:`PHONE_COLUMNS`).

    ``change_log`` has the store's change columns (see :func:`staffplan.store.diff_rosters`).
    Removals of absent agents' own shifts need no call and are left out.
    """
    from staffplan.store import describe

    rows = []
    for r in change_log.itertuples(index=False):
        action, minutes = classify(r, r)
        if action == "cancel" and r.agent_id in absent_agents:
            continue
        first = min((t for t in (r.old_start, r.new_start) if t), key=lambda t: dt.datetime.fromisoformat(t))
        old = describe(r.old_shift, r.old_start, r.old_end) + (f" [{r.old_queues}]" if action == "reassign queue" else "")
        new = describe(r.new_shift, r.new_start, r.new_end) + (f" [{r.new_queues}]" if action == "reassign queue" else "")
        rows.append((first, r.agent_id, r.date, action, old, new, minutes, r.reason, dt.datetime.fromisoformat(first)))
    frame = pd.DataFrame(rows, columns=[*PHONE_COLUMNS, "_t"])
    frame = frame.sort_values(["_t", "agent_id"], kind="stable").drop(columns="_t").reset_index(drop=True)
    return frame.astype({"minutes": "int64"})


# ---- the repair model -------------------------------------------------------------------------

DEFAULT_SOLVE = SolveSettings(time_limit_s=10.0, workers=2)
SERVICE_RULES = frozenset({"under_coverage", "shift_cover"})


def _ext_id(template: str, minutes: int) -> str:
    return f"{template}+{minutes}"


def _split_ext(template: str) -> tuple[str, int]:
    """``E+60`` -> (``E``, 60); a plain id -> (id, 0)."""
    base, plus, extra = template.rpartition("+")
    if plus and base and extra.isdigit():
        return base, int(extra)
    return template, 0


def with_overtime(problem: RosterProblem, settings: CoverSettings, used: set[str]) -> RosterProblem:
    """The problem with overtime templates ``T+m`` (``T`` lengthened by m [min], same starts and breaks).

    ``m`` runs over the steps up to ``max_overtime_min``, plus any ``T+m``
    already in the published roster (``used``). A contract allowing ``T``
    allows its extensions; successions forbidden after/before ``T`` also apply
    to ``T+m``.
    """
    from dataclasses import replace

    tmpl = {t.id: t for t in problem.templates}
    steps = list(range(settings.overtime_step_min, settings.max_overtime_min + 1, settings.overtime_step_min))
    wanted = {(t, m) for t in tmpl for m in steps}
    for u in used:
        base, m = _split_ext(u)
        if m and base in tmpl:
            wanted.add((base, m))
    wanted = {(t, m) for t, m in wanted if _ext_id(t, m) not in tmpl}
    if not wanted:
        return problem
    ext_of: dict[str, list[str]] = {}
    for t, m in sorted(wanted):
        ext_of.setdefault(t, []).append(_ext_id(t, m))
    new = []
    for t in problem.templates:
        nfb = tuple(dict.fromkeys([*t.not_followed_by, *(e for u in t.not_followed_by for e in ext_of.get(u, []))]))
        new.append(replace(t, not_followed_by=nfb))
    for t, m in sorted(wanted):
        base = tmpl[t]
        new.append(replace(base, id=_ext_id(t, m), length_min=base.length_min + m, not_followed_by=new[[x.id for x in problem.templates].index(t)].not_followed_by))
    contracts = {}
    for cid, c in problem.contracts.items():
        if c.templates is None:
            contracts[cid] = c
        else:
            contracts[cid] = replace(c, templates=tuple(dict.fromkeys([*c.templates, *(e for u in c.templates for e in ext_of.get(u, []))])))
    return replace(problem, templates=tuple(new), contracts=contracts)


@dataclass(frozen=True)
class Plan:
    """What the repair may touch: the published variant per agent-day and the days open to change."""

    published: dict[tuple[str, int], str]
    window: tuple[int, ...]
    now_elapsed: int


def published_variants(problem: RosterProblem, roster: pd.DataFrame, *, source: str = "published roster") -> dict[tuple[str, int], str]:
    """(agent_id, day) -> variant id (``template@HHMM``) of the published roster's rows."""
    agents = {a.id for a in problem.agents}
    tmpl = {t.id for t in problem.templates}
    out: dict[tuple[str, int], str] = {}
    for i, r in enumerate(roster.itertuples(index=False)):
        aid = str(r.agent_id)
        if aid not in agents:
            raise InputError("agent of the published roster is not in agents.csv", file=source, row=i + 2, column="agent_id", found=aid, hint="repair the roster against the scenario it was planned for")
        if str(r.shift) not in tmpl:
            raise InputError("shift template of the published roster is unknown", file=source, row=i + 2, column="shift", expected="a template from shifts.csv", found=str(r.shift))
        d = (dt.date.fromisoformat(str(r.date)[:10]) - problem.grid.start).days
        if not 0 <= d < problem.grid.days:
            raise InputError("published roster row outside the planning horizon", file=source, row=i + 2, column="date", found=str(r.date), expected=f"{problem.grid.start} to {problem.grid.end - dt.timedelta(days=1)}")
        start = problem.grid.to_local(pd.Timestamp(str(r.start)))
        out[(aid, d)] = f"{r.shift}@{start.hour:02d}{start.minute:02d}"
    return out


def _window(problem: RosterProblem, absences: tuple[NewAbsence, ...], now: pd.Timestamp, extra_days: int) -> tuple[int, ...]:
    grid = problem.grid
    first = max(0, (now.tz_convert(grid.zone).date() - grid.start).days)
    last = max((((a.end - pd.Timedelta(minutes=1)).tz_convert(grid.zone).date() - grid.start).days for a in absences), default=first)
    # the day before a day's absence may hold a night shift that reaches into it
    return tuple(range(first, min(grid.days, last + 1 + extra_days)))


def pin_and_price(rm: RosterModel, plan: Plan, absent: frozenset[str], settings: CoverSettings, *, price: bool = True) -> tuple[dict[str, cp_model.IntVar], list[Term]]:
    """Pin the past and the days outside the window; add change indicators and action costs.

    Returns the changed-agent literals (agent -> bool var) and the action cost
    terms. With ``price=False`` only the pinning is added (a full re-solve).
    An agent-day is *changed* when its published shift is not worked as
    published (moved, extended, swapped, cancelled) or a day off becomes a
    shift; an absent agent's shift cancelled by the absence is not a change.
    """
    p = rm.problem
    m = rm.model
    window = set(plan.window)
    day_changes: dict[str, list[cp_model.IntVar]] = {}
    costs: list[Term] = []
    for a in p.agents:
        for d in range(p.grid.days):
            opts = rm.shifts(a.id, d)
            pub = plan.published.get((a.id, d))
            ids = {v.id for v, _ in opts}
            pinned = d not in window
            if pub is not None and pub not in ids:
                if a.id not in absent:
                    raise InputError("the published roster breaks a hard rule", column="roster", found=f"{a.id} {p.date(d)} {pub}", hint="this shift is not allowed by the scenario (absence, availability or contract); publish a valid roster")
                # cancelled by the new absence: no change to phone; a started day stays closed
                pinned = pinned or rm.elapsed[(d, pub)][0] < plan.now_elapsed
                pub = None
            pub_start = rm.elapsed[(d, pub)][0] if pub is not None else None
            pub_base = _split_ext(pub.split("@")[0])[0] if pub is not None else None
            pinned = pinned or (pub_start is not None and pub_start < plan.now_elapsed)
            keep_lit = None
            for v, x in opts:
                e0 = rm.elapsed[(d, v.id)][0]
                base, _ = _split_ext(v.template)
                if v.id == pub:
                    keep_lit = x
                    continue
                same_start_ext = pub is not None and e0 == pub_start and base == pub_base and v.length_min > p.template_by_id[pub.split("@")[0]].length_min
                if pinned:
                    ok = d in window and same_start_ext and price
                elif e0 < plan.now_elapsed:
                    ok = False
                elif pub is None:
                    ok = _split_ext(v.template)[1] == 0 and (settings.allow_callin or not price)
                elif same_start_ext:
                    ok = True
                elif _split_ext(v.template)[1] != 0:
                    ok = False
                elif base == pub_base:
                    ok = abs(e0 - pub_start) <= settings.max_move_min if price else True  # type: ignore[operator]
                else:
                    ok = settings.allow_swap or not price
                if not ok:
                    m.Add(x == 0)
                    continue
                if not price:
                    continue
                if pub is None:
                    cost = settings.callin_cost
                elif same_start_ext:
                    cost = settings.overtime_cost_per_hour * (v.length_min - p.template_by_id[pub.split("@")[0]].length_min) / 60.0
                elif base == pub_base:
                    cost = settings.move_cost
                else:
                    cost = settings.swap_cost
                costs.append(rm.add_term("cover_action", f"action[{a.id},{d},{v.id}]", x, scaled(cost)))
            if pinned and keep_lit is None:
                if (a.id, d) in rm.work:
                    m.Add(rm.work[(a.id, d)] == 0)
                continue
            if pinned and keep_lit is not None and not price:
                m.Add(keep_lit == 1)
                continue
            if pub is None:
                if (a.id, d) in rm.work:
                    day_changes.setdefault(a.id, []).append(rm.work[(a.id, d)])
                continue
            if keep_lit is None:
                continue
            if pinned:
                m.Add(rm.work[(a.id, d)] == 1)  # the started shift goes on (perhaps extended)
            changed = m.NewBoolVar(f"changed[{a.id},{d}]")
            m.Add(changed + keep_lit == 1)
            day_changes.setdefault(a.id, []).append(changed)
            if price:
                cancel = m.NewBoolVar(f"cancel[{a.id},{d}]")
                m.Add(cancel + rm.work[(a.id, d)] == 1)
                costs.append(rm.add_term("cover_action", cancel.Name(), cancel, scaled(settings.cancel_cost)))
    agents: dict[str, cp_model.IntVar] = {}
    for aid in sorted(day_changes):
        lits = day_changes[aid]
        c = m.NewBoolVar(f"changed_agent[{aid}]")
        m.AddMaxEquality(c, lits)
        agents[aid] = c
    if price and settings.max_changed_agents > 0 and agents:
        m.Add(sum(agents.values()) <= settings.max_changed_agents)
    return agents, costs


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

    def sl(self, column: str) -> float:
        """Volume-weighted service level of ``column`` over the window [fraction] (NaN without volume)."""
        f = self.service.dropna(subset=[column])
        vol = f["volume"].to_numpy(dtype=float)
        if vol.sum() <= 0:
            return float("nan")
        return float((f[column].to_numpy(dtype=float) * vol).sum() / vol.sum())

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary: status, agents changed, SL before / no action / after [fraction], changes, gaps."""
        def num(x: float) -> float | None:
            return None if x != x else round(x, 4)

        return {
            "status": self.status,
            "agents_changed": len(self.agents_changed),
            "changed_agents": list(self.agents_changed),
            "sl_before": num(self.sl("sl_before")),
            "sl_no_action": num(self.sl("sl_no_action")),
            "sl_after": num(self.sl("sl_after")),
            "short_agent_intervals_no_action": int((self.service["required"] - self.service["scheduled_no_action"]).clip(lower=0).sum()),
            "short_agent_intervals_after": int((self.service["required"] - self.service["scheduled_after"]).clip(lower=0).sum()),
            "solve_seconds": round(self.solve_seconds, 3),
            "changes": self.changes.to_dict(orient="records"),
            "gaps": self.gaps.to_dict(orient="records"),
        }

    def gaps_text(self) -> list[str]:
        """One line per remaining gap: where coverage stays short and by how much."""
        return [f"{g.queue} {g['from'][:16].replace('T', ' ')}-{g['to'][11:16]}: up to {g.short_max} agent(s) short ({g.agent_intervals} agent-intervals)" for _, g in self.gaps.iterrows()]


def _coverage(problem: RosterProblem, roster: pd.DataFrame, absences: tuple[NewAbsence, ...]) -> np.ndarray:
    """On-phone agents per queue and interval (n_queues, n) of roster rows, absent agents off during their absence."""
    from staffplan.roster.extract import allocate, on_phone_matrix

    on = on_phone_matrix(roster, problem.agents, problem.grid)
    index = {a.id: i for i, a in enumerate(problem.agents)}
    for a in absences:
        t0, t1 = problem.grid.boundary_index(a.start), problem.grid.boundary_index(a.end)
        on[index[a.agent_id], t0:t1] = False
    return allocate(on, [problem.agent_queues(a) for a in problem.agents], problem.demand.required)


def _service_levels(problem: RosterProblem, scenario: Scenario | None, scheduled: np.ndarray) -> np.ndarray:
    """Service level per queue and interval [fraction] via the queueing core (NaN where unknown)."""
    out = np.full(scheduled.shape, np.nan)
    dem = problem.demand
    if scenario is None or dem.volume is None or dem.aht_s is None:
        return out
    from staffplan.queueing import kpis, target_for_queue

    for q, name in enumerate(dem.queues):
        queue = scenario.queue(name)
        if queue.answer_within_s is None or queue.channel in ("email", "backoffice"):
            continue
        vol, aht = dem.volume[q], dem.aht_s[q]
        ok = np.isfinite(vol) & np.isfinite(aht)
        if not ok.any():
            continue
        agents = np.floor(scheduled[q, ok] * (1.0 - problem.residual_shrinkage) + 1e-9)
        k = kpis(vol[ok], aht[ok], problem.grid.interval_min, agents, target_for_queue(queue))
        out[q, ok] = k["service_level"].to_numpy(dtype=float)
    return out


def _gaps(problem: RosterProblem, required: np.ndarray, after: np.ndarray, lo: int, hi: int) -> pd.DataFrame:
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
            rows.append((name, starts[t].isoformat(), (starts[u - 1] + step).isoformat(), int(short[t:u].max()), int(short[t:u].sum())))
            t = u
    return pd.DataFrame(rows, columns=["queue", "from", "to", "short_max", "agent_intervals"])


def _compose(problem: RosterProblem, published: pd.DataFrame, new_rows: pd.DataFrame, values: dict[tuple[str, int, str], int], plan: Plan, absences: tuple[NewAbsence, ...]) -> pd.DataFrame:
    """The repaired roster: published rows where the agent-day is unchanged, new rows elsewhere.

    A started shift of an agent who falls sick during it ends at the absence's
    start, or is kept whole if the agent is back before its end (the agent is
    then off the phones only while absent; the model counts no coverage from
    that shift after now, a conservative view).
    """
    chosen = {(a, d): v for (a, d, v), val in values.items() if val}
    keep = [plan.published.get((str(r.agent_id), int((dt.date.fromisoformat(str(r.date)[:10]) - problem.grid.start).days))) for r in published.itertuples(index=False)]
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
        if hit and key not in chosen and problem.elapsed(start) < plan.now_elapsed and all(start < a.start for a in hit) and all(a.end < end for a in hit):
            rows.append({k: str(v) for k, v in r.items()})  # back before the shift ends: off the phones only while absent
            continue
        cut = [a for a in hit if start < a.start and problem.elapsed(start) < plan.now_elapsed]
        if cut and key not in chosen:
            stop = min(a.start for a in cut)
            lost = int(round((end - stop).total_seconds() / 60))
            row = {k: str(v) for k, v in r.items()}
            row["end"] = stop.isoformat()
            row["paid_minutes"] = str(max(int(float(r["paid_minutes"] or 0)) - lost, 0))
            rows.append(row)
    new_keys = {(str(a), int(d)) for a, d in zip(new_rows["agent_id"], new_rows["day"], strict=True)}
    for r in new_rows.to_dict(orient="records"):
        key = (str(r["agent_id"]), int(r["day"]))
        if key in new_keys and chosen.get(key) != plan.published.get(key):
            rows.append({k: ("" if v is None else str(v)) for k, v in r.items()})
    cols = list(dict.fromkeys([*published.columns, *new_rows.columns]))
    out = pd.DataFrame(rows, columns=cols, dtype=object).fillna("")
    out["_d"] = out["date"]
    return out.sort_values(["agent_id", "_d"], kind="stable").drop(columns="_d").reset_index(drop=True)


def repair(
    problem: RosterProblem,
    published: pd.DataFrame,
    absences: tuple[NewAbsence, ...],
    now: pd.Timestamp,
    *,
    settings: CoverSettings = CoverSettings(),
    solve_settings: SolveSettings = DEFAULT_SOLVE,
    scenario: Scenario | None = None,
    full: bool = False,
) -> CoverResult:
    """Repair ``published`` (roster.csv text rows) after ``absences`` from ``now``, changing little.

    Two solves on the engine's model: (1) service only — the engine's
    under-coverage terms — with the published roster as hint; (2) with that
    service level held, fewest changed agents (``changed_agent_weight`` each)
    plus the action costs. ``full=True`` is the comparison: a re-solve of
    every day from ``now`` with the engine's own objective and no change costs
    (the past still pinned). Raises :class:`InfeasibleError` if even the
    pinned past cannot be kept.
    """
    from dataclasses import replace

    from staffplan.io.team import Absence
    from staffplan.roster.build import build_model
    from staffplan.roster.extract import extract
    from staffplan.roster.solve import solve

    agents = {a.id for a in problem.agents}
    for a in absences:
        if a.agent_id not in agents:
            raise InputError("unknown agent", column="--absent", expected="an agent_id from agents.csv", found=a.text or a.agent_id)
    base = with_overtime(problem, settings, {str(s) for s in published["shift"]}) if not full else with_overtime(problem, replace(settings, max_overtime_min=0), {str(s) for s in published["shift"]})
    prob = replace(base, absences=base.absences + tuple(Absence(a.agent_id, a.start, a.end, a.kind) for a in absences))
    pub = published_variants(prob, published)
    now_e = prob.elapsed(now)
    window = _window(prob, absences, now, settings.extra_days)
    if full:
        window = tuple(range(max(0, (now.tz_convert(prob.grid.zone).date() - prob.grid.start).days), prob.grid.days))
    plan = Plan(pub, window, now_e)
    rm = build_model(prob)
    changed, costs = pin_and_price(rm, plan, frozenset(a.agent_id for a in absences), settings, price=not full)
    hint = {(a, d, v): 1 for (a, d), v in pub.items() if (a, d, v) in rm.x}
    t0 = time.perf_counter()
    penalty: float | None = None
    if full:
        rm.terms[:] = [t for t in rm.terms if t.rule != "cover_action"]
        result = solve(rm, solve_settings, hint=hint)
    else:
        service = [t for t in rm.terms if t.rule in SERVICE_RULES]
        rm.terms[:] = service
        first = solve(rm, replace(solve_settings, time_limit_s=solve_settings.time_limit_s / 2), hint=hint)
        if not first.feasible:
            raise _infeasible(first.status, absences)
        penalty = first.objective
        total = sum(first.term_values.get(t.name, 0) * t.coef for t in service)
        if service:
            rm.model.Add(cp_model.LinearExpr.WeightedSum([t.var for t in service], [t.coef for t in service]) <= total)
        rm.terms[:] = [*costs]
        for lit in changed.values():
            rm.add_term("changed_agent", lit.Name(), lit, scaled(settings.changed_agent_weight))
        rest = max(solve_settings.time_limit_s - first.solve_seconds, solve_settings.time_limit_s / 4)
        second = solve(rm, replace(solve_settings, time_limit_s=rest), hint=first.values)
        result = second if second.feasible else first
    seconds = time.perf_counter() - t0
    if not result.feasible:
        raise _infeasible(result.status, absences)
    new = extract(prob, rm, result).roster
    roster = _compose(prob, roster_as_text_safe(published), new, result.values, plan, absences)
    log = diff_rosters(roster_as_text_safe(published), roster, reason="")
    absent = frozenset(a.agent_id for a in absences)
    why = "cover " + ", ".join(sorted({f"{a.agent_id} ({a.kind})" for a in absences}))
    log["reason"] = [("absent (" + next(a.kind for a in absences if a.agent_id == aid) + ")") if aid in absent else why for aid in log["agent_id"]]
    phone = phone_list(log, absent)
    who = tuple(sorted(set(phone["agent_id"])))
    # service per interval in the window from now on
    lo = prob.grid.boundary_index(now)
    hi = int(prob.grid.day_offsets[window[-1] + 1]) if window else lo
    before = _coverage(prob, published, ())
    no_action = _coverage(prob, published, absences)
    after = _coverage(prob, roster, absences)
    req = prob.demand.required
    sl = [_service_levels(prob, scenario, x) for x in (before, no_action, after)]
    frames = []
    for q, name in enumerate(prob.demand.queues):
        vol = prob.demand.volume[q] if prob.demand.volume is not None else np.full(prob.grid.n, np.nan)
        frames.append(pd.DataFrame({
            "interval_start": [t.isoformat() for t in prob.grid.starts[lo:hi]], "queue": name,
            "required": req[q, lo:hi], "scheduled_before": before[q, lo:hi], "scheduled_no_action": no_action[q, lo:hi],
            "scheduled_after": after[q, lo:hi], "sl_before": sl[0][q, lo:hi], "sl_no_action": sl[1][q, lo:hi],
            "sl_after": sl[2][q, lo:hi], "volume": np.nan_to_num(vol[lo:hi], nan=0.0),
        }))  # fmt: skip
    service_frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    gaps = _gaps(prob, req, after, lo, hi)
    return CoverResult(result.status, roster, log, phone, service_frame, gaps, who, seconds, penalty)


def roster_as_text_safe(roster: pd.DataFrame) -> pd.DataFrame:
    """A roster frame as text cells (see :func:`staffplan.store.roster_as_text`)."""
    return roster_as_text(roster)


def _infeasible(status: str, absences: tuple[NewAbsence, ...]) -> InfeasibleError:
    return InfeasibleError(
        f"no repair keeps the hard rules (solver status {status})",
        reasons=[Reason("pinned past and contracts", ", ".join(a.text or a.agent_id for a in absences), "the shifts already started and the contract rules leave no roster", "give a later --now, a longer --time-limit, or relax [cover] caps")],
    )


def repair_scenario(scenario: Scenario, published: pd.DataFrame, absences: tuple[NewAbsence, ...], now: pd.Timestamp, *, time_limit_s: float = 10.0, workers: int | None = None, seed: int | None = None) -> CoverResult:
    """Load the scenario's problem and ``[cover]`` settings and :func:`repair` ``published``."""
    from staffplan.roster.load import load_problem

    settings = cover_settings(scenario.section("cover"), file=scenario.path)
    solve_settings = SolveSettings(time_limit_s=time_limit_s, workers=min(workers or scenario.solver.workers, 2), seed=scenario.solver.seed if seed is None else seed)
    return repair(load_problem(scenario), published, absences, now, settings=settings, solve_settings=solve_settings, scenario=scenario)
