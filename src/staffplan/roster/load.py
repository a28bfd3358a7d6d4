"""Turn a scenario's team files and a requirements frame into a :class:`RosterProblem`.

Pure with respect to the pipeline: the requirements come in as a frame (this
module runs no forecast; :func:`staffplan.pipeline.requirements_for` chains
forecast → requirements), and each queue's target and whether it is deferred
work are read from :func:`staffplan.queueing.target_for_queue` or the frame's
``deferred`` column.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from staffplan.errors import InputError, ScenarioError
from staffplan.io.tables import Column, read_table
from staffplan.io.team import (
    Agent,
    ShiftTemplate,
    parse_skills,
    read_absences,
    read_agents,
    read_availability,
    read_contracts,
    read_preferences,
    read_previous_roster,
    read_shift_cover,
    read_shifts,
)
from staffplan.queueing import Target, answered_within_curve, target_for_queue
from staffplan.roster.problem import (
    Demand,
    RosterProblem,
    coverage_target,
    residual_shrinkage,
    step_costs,
)
from staffplan.scenario import Scenario
from staffplan.timegrid import TimeGrid

REQUIREMENT_COLUMNS = [
    Column("interval_start", "timestamp"),
    Column("queue"),
    Column("required", "float", minimum=0, aliases=("required_agents",)),
    Column("volume", "float", required=False, default=np.nan, minimum=0),
    Column("aht_seconds", "float", required=False, default=np.nan, minimum=0),
    Column("minimum", "int", required=False, default=0, minimum=0),
    Column("deferred", "bool", required=False, default=None),
]
"""Columns of a requirements frame; a ``deferred`` cell left out means "as the queue's target
says" (:func:`staffplan.queueing.target_for_queue`)."""


def read_requirements(path: Path, grid: TimeGrid) -> pd.DataFrame:
    """Read requirements.csv (interval_start, queue, required, optional volume, aht_seconds,
    minimum, deferred).
    """
    f = read_table(path, REQUIREMENT_COLUMNS, tz=grid.timezone, what="requirements table")
    for c in ("volume", "aht_seconds"):
        f[c] = pd.to_numeric(f[c], errors="coerce").astype(float)
    f["minimum"] = pd.to_numeric(f["minimum"], errors="coerce").fillna(0).astype(np.int64)
    return f


def no_requirements() -> pd.DataFrame:
    """An empty requirements frame (a pure shift-cover scenario)."""
    return pd.DataFrame({c.name: pd.Series(dtype=object) for c in REQUIREMENT_COLUMNS})


def roster_requirements(frame: pd.DataFrame) -> pd.DataFrame:
    """The roster's requirement columns from a ``compute_requirements`` frame (on-phone agents;
    ``deferred`` carried as computed there)."""
    return pd.DataFrame(
        {
            "interval_start": frame["interval_start"],
            "queue": frame["queue"].astype(str),
            "required": frame["required_agents"].astype(float),
            "volume": frame["volume"].astype(float) if "volume" in frame else np.nan,
            "aht_seconds": frame["aht_seconds"].astype(float) if "aht_seconds" in frame else np.nan,
            "minimum": 0,
            "deferred": frame["deferred"].astype(bool),
        }
    )


def answered_curves(
    volume: np.ndarray, aht_s: np.ndarray, interval_min: int, target: Target, max_agents: int
) -> np.ndarray | None:
    """Contacts answered within target with k agents, (n, max_agents+1), from the queueing core;
    None for a queue without a service-level threshold or for deferred work.
    """
    if max_agents <= 0 or target.answer_within_s is None or target.deferred:
        return None
    return np.asarray(
        answered_within_curve(volume, aht_s, interval_min, target, max_agents), dtype=float
    )


def deferred_queues(
    frame: pd.DataFrame, queues: tuple[str, ...], scenario: Scenario | None
) -> tuple[bool, ...]:
    """Per queue: deferred work (staffed by workload, no service level per interval)? From the
    frame's ``deferred`` column where it has one, else the queue's target."""
    out = []
    for q in queues:
        rows = frame.loc[frame["queue"] == q, "deferred"] if "deferred" in frame else None
        if rows is not None and len(rows) and rows.notna().all():
            out.append(bool(rows.astype(bool).any()))
        elif scenario is not None:
            out.append(target_for_queue(scenario.queue(q)).deferred)
        else:
            out.append(False)
    return tuple(out)


def demand_from_frame(
    frame: pd.DataFrame,
    grid: TimeGrid,
    queues: tuple[str, ...],
    skills: tuple[str, ...],
    residual: float,
    *,
    scenario: Scenario | None = None,
    file: Path | None = None,
    templates: tuple[ShiftTemplate, ...] = (),
) -> Demand:
    """Arrays (queue × interval) from a requirements frame; SL-aware step costs when volume and AHT
    are given.

    A queue's own ``shrinkage`` (scenario) replaces the global one in its residual.
    """
    nq, n = len(queues), grid.n
    raw = np.zeros((nq, n))
    minimum = np.zeros((nq, n), dtype=np.int64)
    volume = np.full((nq, n), np.nan)
    aht = np.full((nq, n), np.nan)
    for i, r in enumerate(frame.itertuples(index=False)):
        if r.queue not in queues:
            raise InputError(
                "unknown queue",
                file=file,
                row=i + 2,
                column="queue",
                expected="one of " + ", ".join(queues),
                found=r.queue,
                hint="add a [queues.NAME] table to the scenario",
            )
        t0 = pd.Timestamp(r.interval_start)
        t = grid.boundary_index(t0)
        if t >= n or grid.starts[t] != grid.to_local(t0):
            if t0 < grid.starts[0] or t0 >= grid.starts[-1] + pd.Timedelta(
                minutes=grid.interval_min
            ):
                continue  # outside the horizon: ignored
            raise InputError(
                "interval start not on the grid",
                file=file,
                row=i + 2,
                column="interval_start",
                expected=f"a multiple of {grid.interval_min} minutes from local midnight",
                found=str(r.interval_start),
            )
        q = queues.index(r.queue)
        raw[q, t] = float(r.required)
        minimum[q, t] = int(r.minimum)
        volume[q, t] = float(r.volume)
        aht[q, t] = float(r.aht_seconds)
    target = coverage_target(raw, residual)
    target = np.maximum(target, minimum)
    sl_aware = False
    for q in range(nq):
        if scenario is not None:
            own = scenario.queue(queues[q]).shrinkage
            if own is not None:
                rq = residual_shrinkage(own, templates)
                target[q] = np.maximum(coverage_target(raw[q], rq), minimum[q])
    m = int(target.max()) if target.size else 0
    costs = np.zeros((nq, n, m))
    deferred = deferred_queues(frame, queues, scenario)
    for q in range(nq):
        known = np.isfinite(volume[q]) & np.isfinite(aht[q])
        curve = None
        if known.all() and m > 0 and scenario is not None and not deferred[q]:
            tq = target_for_queue(scenario.queue(queues[q]))
            curve = answered_curves(volume[q], aht[q], grid.interval_min, tq, m + 1)
        own = scenario.queue(queues[q]).shrinkage if scenario is not None else None
        c = step_costs(
            target[q], curve, residual if own is None else residual_shrinkage(own, templates)
        )
        costs[q, :, : c.shape[1]] = c
        sl_aware = sl_aware or curve is not None
    has_vol = np.isfinite(volume).any()
    return Demand(
        queues,
        skills,
        target,
        minimum,
        costs,
        volume if has_vol else None,
        aht if has_vol else None,
        sl_aware,
        deferred,
    )


def _scenario_requirements(scenario: Scenario) -> pd.DataFrame:
    """The scenario's requirements CSV, or none; a ScenarioError when they come from a forecast."""
    req = scenario.file("requirements", required=False)
    if req is not None:
        return read_requirements(req, scenario.grid)
    if scenario.file("history", required=False) is not None:
        raise ScenarioError(
            "requirements not given",
            file=scenario.path,
            key="data.requirements",
            expected="a requirements frame from the forecast",
            hint="this scenario's requirements come from its forecast: use "
            "staffplan.pipeline.requirements_for(scenario)",
        )
    return no_requirements()


HIRE_SPEC = {
    "count": ((int,), None, "how many agents to add (whole number >= 1)"),
    "prefix": ((str,), "H", "agent_id prefix; ids are prefix + number"),
    "team": ((str,), "new hires", "team name"),
    "contract": ((str,), None, "a contract id from contracts.csv"),
    "skills": ((str,), None, "skills like voice:1|chat:2"),
    "hourly_cost": ((float, int), 0.0, "currency per paid hour (>= 0)"),
}


def hires(scenario: Scenario) -> tuple[Agent, ...]:
    """Agents added by the scenario's ``[[hires]]`` tables (a new hire class in a what-if)."""
    from staffplan.scenario import check_table

    items = scenario.raw.get("hires", [])
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        raise ScenarioError(
            "wrong type", file=scenario.path, key="hires", expected="a list of [[hires]] tables"
        )
    out: list[Agent] = []
    for i, item in enumerate(items):
        key = f"hires[{i}]"
        t = check_table(item, HIRE_SPEC, file=scenario.path, key=key)
        for k in ("count", "contract", "skills"):
            if t[k] is None:
                raise ScenarioError(
                    "missing key", file=scenario.path, key=f"{key}.{k}", expected=HIRE_SPEC[k][2]
                )
        if t["count"] < 1 or t["hourly_cost"] < 0:
            raise ScenarioError(
                "value out of range",
                file=scenario.path,
                key=f"{key}.count",
                expected="count >= 1 and hourly_cost >= 0",
                found=(t["count"], t["hourly_cost"]),
            )
        skills = parse_skills(t["skills"], file=scenario.path, row=0)
        out.extend(
            Agent(
                f"{t['prefix']}{n:02d}",
                f"New hire {t['prefix']}{n:02d}",
                t["team"],
                t["contract"],
                skills,
                float(t["hourly_cost"]),
            )
            for n in range(1, t["count"] + 1)
        )
    return tuple(out)


def _file_row(path: Path | None, agent_id: str) -> int | None:
    """Spreadsheet row (header = 1) of ``agent_id`` in a team CSV, for error messages."""
    if path is None:
        return None
    ids = pd.read_csv(path, dtype=str, usecols=["agent_id"])["agent_id"].str.strip().tolist()
    return ids.index(agent_id) + 2 if agent_id in ids else None


def load_problem(scenario: Scenario, requirements: pd.DataFrame | None = None) -> RosterProblem:
    """Read the scenario's team files into a :class:`RosterProblem` for ``requirements`` (a
    requirements frame, :data:`REQUIREMENT_COLUMNS`).

    ``requirements`` None: the scenario's requirements CSV, or none when it names
    neither a CSV nor a history. A scenario whose requirements come from its
    forecast must pass them (:func:`staffplan.pipeline.requirements_for`).
    """
    grid = scenario.grid
    file_agents = read_agents(scenario.file("agents"))
    n_file_agents = len(file_agents)
    agents = file_agents + hires(scenario)
    seen: set[str] = set()
    for a in agents:
        if a.id in seen:
            raise ScenarioError(
                "duplicate agent id from [[hires]]",
                file=scenario.path,
                key="hires",
                found=a.id,
                hint="choose a prefix no agent_id in agents.csv starts with",
            )
        seen.add(a.id)
    contracts = {c.id: c for c in read_contracts(scenario.file("contracts"))}
    templates = read_shifts(scenario.file("shifts"))
    known_t = {t.id for t in templates}
    for i, a in enumerate(agents):
        if a.contract not in contracts:
            raise InputError(
                "unknown contract",
                file=scenario.file("agents"),
                row=_file_row(scenario.file("agents"), a.id) if i < n_file_agents else None,
                column="contract",
                expected="one of " + ", ".join(contracts),
                found=a.contract,
                hint=f"agent {a.id}: add the contract to contracts.csv",
            )
    for c in contracts.values():
        for t in (c.templates or ()) + tuple(k for k, _ in c.max_shifts):
            if t not in known_t:
                raise InputError(
                    "unknown shift template",
                    file=scenario.file("contracts"),
                    column="templates",
                    expected="one of " + ", ".join(sorted(known_t)),
                    found=t,
                    hint=f"contract {c.id}",
                )
    abs_files = (*scenario.files("absences"), *scenario.files("absences_extra"))
    absences = read_absences(abs_files, grid.timezone)
    ids = {a.id for a in agents}
    for a in absences:
        if a.agent_id not in ids:
            raise InputError(
                "unknown agent in absences",
                file=", ".join(str(f) for f in abs_files),
                column="agent_id",
                expected="an agent_id from agents.csv",
                found=a.agent_id,
                hint=f"absence {a.start:%Y-%m-%d %H:%M}–{a.end:%Y-%m-%d %H:%M} ({a.kind}): fix "
                "the id or add the agent",
            )
    av_file = scenario.file("availability", required=False)
    availability = read_availability(av_file) if av_file else ()
    pref_file = scenario.file("preferences", required=False)
    preferences = read_preferences(pref_file) if pref_file else ()
    cover_file = scenario.file("shift_cover", required=False)
    shift_cover = read_shift_cover(cover_file) if cover_file else ()
    for c in shift_cover:
        if c.template not in known_t:
            raise InputError(
                "unknown shift template",
                file=cover_file,
                column="template",
                expected="one of " + ", ".join(sorted(known_t)),
                found=c.template,
            )
    prev_file = scenario.file("previous_roster", required=False)
    previous = read_previous_roster(prev_file, grid.timezone) if prev_file else ()
    queues = tuple(q.name for q in scenario.queues)
    skills = tuple(q.skill or q.name for q in scenario.queues)
    residual = residual_shrinkage(scenario.shrinkage, templates)
    frame = requirements if requirements is not None else _scenario_requirements(scenario)
    if len(frame) == 0:
        demand = Demand.empty(queues, skills, grid.n)
    else:
        demand = demand_from_frame(
            frame,
            grid,
            queues,
            skills,
            residual,
            scenario=scenario,
            file=scenario.file("requirements", required=False),
            templates=templates,
        )
    if not shift_cover and not demand.required.any():
        raise ScenarioError(
            "nothing to roster",
            file=scenario.path,
            key="data.requirements",
            expected="interval requirements (a requirements CSV or a history to forecast) or a "
            "shift_cover file",
        )
    return RosterProblem(
        grid,
        agents,
        contracts,
        templates,
        demand,
        scenario.weights,
        absences,
        availability,
        preferences,
        shift_cover,
        previous,
        residual,
        str(scenario.path),
        scenario.solver.break_plans,
    )
