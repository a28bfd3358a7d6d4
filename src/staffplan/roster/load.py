"""Turn a scenario's team files and a requirements frame into a :class:`RosterProblem`.

Pure with respect to the pipeline: the requirements come in as a frame (this
module runs no forecast; :func:`staffplan.pipeline.requirements_for` chains
forecast → requirements), and each queue's target and whether it is deferred
work are read from :func:`staffplan.queueing.target_for_queue` or the frame's
``deferred`` column.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from staffplan.errors import InputError, ScenarioError, warn
from staffplan.io.tables import Column, read_raw, read_table
from staffplan.io.team import (
    Absence,
    Agent,
    Availability,
    Preference,
    ShiftCover,
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
from staffplan.queueing import Target, concave_majorant, target_for_queue
from staffplan.roster.problem import (
    Demand,
    RosterProblem,
    coverage_target,
    step_costs,
)
from staffplan.scenario import Scenario
from staffplan.shrinkage import residual_shrinkage
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


def _realtime_target(scenario: Scenario | None, queue: str, deferred: bool) -> Target | None:
    """The queue's queueing target when it is a real-time queue with a service threshold."""
    if scenario is None or deferred:
        return None
    q = scenario.queue(queue)
    return None if q.answer_within_s is None else target_for_queue(q)


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
    """Arrays (queue × interval) from a requirements frame.

    The coverage target of a real-time queue with volume and AHT in every
    interval is the fewest heads whose promised KPIs meet its targets
    (:func:`staffplan.evaluate.kpis.promised_heads`), and its steps cost the
    promised contacts answered late
    (:func:`~staffplan.evaluate.kpis.promised_curve`, made concave);
    otherwise ``ceil(required / (1 − r))`` with plain steps. A queue's own
    ``shrinkage`` (scenario) replaces the global one in its residual ``r``.
    """
    from staffplan.evaluate.kpis import promised_curve, promised_heads

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
    res = np.full(nq, float(residual))
    target = np.zeros((nq, n), dtype=np.int64)
    targets: list[Target | None] = [None] * nq
    deferred = deferred_queues(frame, queues, scenario)
    for q in range(nq):
        own = scenario.queue(queues[q]).shrinkage if scenario is not None else None
        if own is not None:
            res[q] = residual_shrinkage(own, templates)
        plain = coverage_target(raw[q], res[q])
        tq = _realtime_target(scenario, queues[q], deferred[q])
        known = np.isfinite(volume[q]) & np.isfinite(aht[q]) & ((volume[q] == 0) | (aht[q] > 0))
        if tq is not None and known.all():
            heads = promised_heads(
                volume[q],
                np.where(volume[q] > 0, aht[q], 1.0),
                grid.interval_min,
                tq,
                res[q],
                start=plain,
            )
            target[q] = heads
            targets[q] = tq
        else:
            target[q] = plain
        target[q] = np.maximum(target[q], minimum[q])
    m = int(target.max()) if target.size else 0
    costs = np.zeros((nq, n, m))
    for q in range(nq):
        curve = None
        tq, mq = targets[q], int(target[q].max())
        if tq is not None and mq > 0:  # steps up to this queue's own largest target are priced
            curve = concave_majorant(
                promised_curve(
                    volume[q],
                    np.where(volume[q] > 0, aht[q], 1.0),
                    grid.interval_min,
                    tq,
                    res[q],
                    mq + 1,
                )
            )
        c = step_costs(target[q], curve)
        costs[q, :, : c.shape[1]] = c
    has_vol = np.isfinite(volume).any()
    return Demand(
        queues,
        skills,
        target,
        minimum,
        costs,
        volume if has_vol else None,
        aht if has_vol else None,
        any(t is not None for t in targets),
        res,
        deferred,
    )


def scenario_demand(
    scenario: Scenario,
    requirements: pd.DataFrame | None = None,
    templates: tuple[ShiftTemplate, ...] | None = None,
) -> Demand:
    """The roster's demand for a scenario: ``requirements`` (default: its CSV; a scenario whose
    requirements come from its forecast must pass them) on its grid, with its shift templates'
    residual shrinkage (default: its shifts file).
    """
    from staffplan.shrinkage import scenario_templates

    tpl = scenario_templates(scenario) if templates is None else templates
    queues = tuple(q.name for q in scenario.queues)
    skills = tuple(q.skill or q.name for q in scenario.queues)
    frame = requirements if requirements is not None else _scenario_requirements(scenario)
    if len(frame) == 0:
        return Demand.empty(queues, skills, scenario.grid.n)
    return demand_from_frame(
        frame,
        scenario.grid,
        queues,
        skills,
        residual_shrinkage(scenario.shrinkage, tpl),
        scenario=scenario,
        file=scenario.file("requirements", required=False),
        templates=tpl,
    )


HIRE_SPEC = {
    "count": ((int,), None, "how many agents to add (whole number >= 0; 0 adds none)"),
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
        for k in ("count", "hourly_cost"):
            if t[k] < 0:
                raise ScenarioError(
                    "value out of range",
                    file=scenario.path,
                    key=f"{key}.{k}",
                    expected="a number >= 0",
                    found=t[k],
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
    raw = read_raw(path)
    column = next((c for c in raw.columns if str(c).strip().lower() == "agent_id"), None)
    if column is None:
        return None
    ids = raw[column].astype(str).str.strip().tolist()
    return ids.index(agent_id) + 2 if agent_id in ids else None


def check_skills(scenario: Scenario, agents: tuple[Agent, ...], n_file_agents: int) -> None:
    """Every agent skill must be a queue name or a queue's skill (``vioce`` is an error)."""
    known = sorted({q.name for q in scenario.queues} | {q.skill or q.name for q in scenario.queues})
    for i, a in enumerate(agents):
        for skill in a.skills:
            if skill not in known:
                from_file = i < n_file_agents
                raise InputError(
                    "unknown skill",
                    file=scenario.file("agents") if from_file else scenario.path,
                    row=_file_row(scenario.file("agents"), a.id) if from_file else None,
                    column="skills" if from_file else None,
                    key=None if from_file else "hires.skills",
                    expected="queue names or [queues.NAME] skills: " + ", ".join(known),
                    found=skill,
                    hint=f"agent {a.id}: check the spelling (an unknown skill serves no queue)",
                )


def warn_outside_horizon(
    grid: TimeGrid,
    absences: tuple[Absence, ...],
    availability: tuple[Availability, ...],
    preferences: tuple[Preference, ...],
    shift_cover: tuple[ShiftCover, ...],
    scenario: Scenario,
) -> None:
    """One warning per kind of row that lies wholly outside the horizon (it has no effect)."""
    first, end = grid.local_midnight(grid.start), grid.local_midnight(grid.end)
    span = f"{grid.start} to {grid.end - dt.timedelta(days=1)}"
    groups = (
        (
            "absences",
            [
                f"{a.agent_id} {a.start:%Y-%m-%d}"
                for a in absences
                if a.end <= first or a.start >= end
            ],
        ),
        (
            "availability",
            [
                f"{a.agent_id} {a.date}"
                for a in availability
                if a.date is not None and not grid.start <= a.date < grid.end
            ],
        ),
        (
            "preferences",
            [f"{p.agent_id} {p.date}" for p in preferences if not grid.start <= p.date < grid.end],
        ),
        (
            "shift_cover",
            [f"{c.template} {c.date}" for c in shift_cover if not grid.start <= c.date < grid.end],
        ),
    )
    for key, rows in groups:
        if rows:
            files = scenario.files(key) + (
                scenario.files("absences_extra") if key == "absences" else ()
            )
            shown = ", ".join(rows[:3]) + (f" and {len(rows) - 3} more" if len(rows) > 3 else "")
            warn(
                f"{len(rows)} row(s) outside the planning horizon {span} are ignored: {shown}",
                file=", ".join(str(f) for f in files),
                hint="check the dates (ISO 8601: YYYY-MM-DD) and [grid] start and days",
            )


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
    check_skills(scenario, agents, n_file_agents)
    abs_files = (*scenario.files("absences"), *scenario.files("absences_extra"))
    absences = read_absences(abs_files, grid.timezone, scenario.date_formats)
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
    availability = read_availability(av_file, scenario.date_format(av_file)) if av_file else ()
    pref_file = scenario.file("preferences", required=False)
    preferences = read_preferences(pref_file, scenario.date_format(pref_file)) if pref_file else ()
    cover_file = scenario.file("shift_cover", required=False)
    shift_cover = (
        read_shift_cover(cover_file, scenario.date_format(cover_file)) if cover_file else ()
    )
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
    previous = (
        read_previous_roster(prev_file, grid.timezone, scenario.date_format(prev_file))
        if prev_file
        else ()
    )
    warn_outside_horizon(grid, absences, availability, preferences, shift_cover, scenario)
    residual = residual_shrinkage(scenario.shrinkage, templates)
    demand = scenario_demand(scenario, requirements, templates)
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
