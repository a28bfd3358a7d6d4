"""The only place stages are chained: forecast → requirements → roster → KPIs (→ simulation) →
outputs, and requirements → roster → cover.

:func:`run` returns a :class:`RunResult` (frames and a flat ``summary`` of
weekly KPIs); :func:`write_outputs` writes every file of a run into a folder;
:func:`compare_table` lays several runs' summaries side by side.
:func:`run_roster` / :func:`write_roster` are ``staffplan roster``, :func:`run_cover`
is ``staffplan cover``; :func:`requirements_for` is the one chain from a scenario to
its roster requirements. The CLI's commands are thin shells over these; every
solve's settings come from :func:`staffplan.scenario.solve_settings`.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from staffplan.i18n import N_
from staffplan.io.numbers import json_number
from staffplan.results import RunResult
from staffplan.scenario import Scenario
from staffplan.settings import SolveSettings, solve_settings

FTE_HOURS_PER_WEEK = 37.5
Echo = Callable[[str], None]

# summary keys laid side by side by ``compare`` (key, label, unit, better direction: +1 higher, -1
# lower, 0 neutral)
COMPARE_METRICS: tuple[tuple[str, str, str, int], ...] = (
    ("required_fte", N_("required FTE"), "FTE", 0),
    ("scheduled_fte", N_("scheduled FTE"), "FTE", 0),
    ("paid_hours", N_("paid hours"), "h", 0),
    ("required_paid_hours", N_("required paid hours"), "h", 0),
    ("cost", N_("cost"), "currency", -1),
    ("service_level", N_("service level (voice+chat, week)"), "fraction", 1),
    ("asa_seconds", N_("ASA (week)"), "s", -1),
    ("abandon_rate", N_("abandonment (week)"), "fraction", -1),
    ("occupancy", N_("occupancy of available agents"), "fraction", 0),
    ("under_covered_intervals", N_("intervals below target"), "intervals", -1),
    ("under_covered_agent_intervals", N_("missing agent-intervals"), "agent-intervals", -1),
    ("gap", N_("solver gap to bound"), "fraction", -1),
)


def summarize(
    scenario: Scenario,
    requirements: pd.DataFrame,
    outcome: Any,
    problem: Any,
    week: pd.DataFrame,
    per_interval: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """The flat weekly summary of a run (JSON-ready; None where undefined): the solve's status,
    objective, bound, gap and time, then :func:`roster_summary`, then the notes.
    """
    res = outcome.result
    return {
        "scenario": scenario.name,
        "status": res.status,
        "objective": json_number(res.objective),
        "bound": json_number(res.bound),
        "gap": json_number(res.gap),
        "solve_seconds": round(float(res.solve_seconds), 3),
        **roster_summary(
            scenario,
            problem,
            outcome.roster.roster,
            outcome.roster.coverage,
            week,
            per_interval,
            requirements=requirements,
            on_phone=outcome.roster.on_phone,
        ),
        "notes": list(outcome.notes),
    }


def roster_summary(
    scenario: Scenario,
    problem: Any,
    roster: pd.DataFrame,
    coverage: pd.DataFrame,
    week: pd.DataFrame,
    per_interval: pd.DataFrame | None = None,
    *,
    requirements: pd.DataFrame | None = None,
    on_phone: np.ndarray | None = None,
) -> dict[str, Any]:
    """A roster's weekly numbers (JSON-ready; None where undefined), for ``run``, ``compare``
    and the web workspace alike.

    Every KPI is the promised one (:mod:`staffplan.evaluate.kpis`): service
    level, ASA, abandonment over voice and chat; occupancy of the agents
    available after residual shrinkage. ``under_covered_intervals`` counts
    (interval, queue) pairs whose promised service level is below the queue's
    target; ``queues`` holds the same per queue, with its shortfall, and
    ``staffing`` the headcount to hire (+) or release (−) per queue
    (:mod:`staffplan.evaluate.headcount`). ``roster``: roster.csv rows
    (``paid_minutes`` numbers or their text); ``coverage``: coverage.csv;
    ``week``/``per_interval``: the KPI frames. Without ``requirements`` (the
    ``compute_requirements`` frame) the required paid hours, FTE, volume and
    staffing are None; staffing also needs ``on_phone`` (agents × intervals).
    """
    from staffplan.evaluate.headcount import ASSUMPTION, headcount
    from staffplan.evaluate.kpis import target_gaps
    from staffplan.roster.extract import assign_queues

    grid = scenario.grid
    weeks = grid.days / 7.0
    interval_h = grid.interval_min / 60.0
    paid_min = pd.to_numeric(roster["paid_minutes"]).astype(float)
    paid_h = float(paid_min.sum()) / 60.0
    cost_per_h = {a.id: a.hourly_cost for a in problem.agents}
    cost = float(
        sum(
            m / 60.0 * cost_per_h.get(a, 0.0)
            for a, m in zip(roster["agent_id"], paid_min, strict=True)
        )
    )
    required_h: float | None = None
    volume: object = None
    if requirements is not None:
        required_h = (
            float(requirements["scheduled_agents"].sum()) * interval_h if len(requirements) else 0.0
        )
        volume = json_number(float(requirements["volume"].sum())) if len(requirements) else 0.0
    short = coverage[coverage["difference"] < 0]
    by_queue = week.set_index("queue") if len(week) else pd.DataFrame()
    row = by_queue.loc["all"] if "all" in by_queue.index else None
    per = per_interval if per_interval is not None else pd.DataFrame()
    targets = {q.name: q.service_level for q in scenario.queues}
    gaps = (
        target_gaps(per, targets).set_index("queue")
        if len(per)
        else pd.DataFrame(columns=["below_target"])
    )
    queues: dict[str, Any] = {}
    for q in scenario.queues:
        if q.name not in by_queue.index:
            continue
        w = by_queue.loc[q.name]
        g = gaps.loc[q.name] if q.name in gaps.index else None
        queues[q.name] = {
            "target": q.service_level,
            "service_level": json_number(w["service_level"]),
            "asa_seconds": json_number(w["asa_s"]),
            "abandon_rate": json_number(w["abandon_rate"]),
            "occupancy": json_number(w["occupancy"]),
            "volume": json_number(w["volume"]),
            "agent_hours": json_number(w["agent_hours"]),
            "available_hours": json_number(w["available_hours"]),
            "intervals_below_target": None if g is None else int(g["below_target"]),
            "mean_shortfall": None if g is None else json_number(g["mean_shortfall"]),
            "max_shortfall": None if g is None else json_number(g["max_shortfall"]),
        }
    staffing: dict[str, Any] | None = None
    if requirements is not None and on_phone is not None:
        assigned = assign_queues(
            on_phone,
            [problem.agent_queues(a) for a in problem.agents],
            problem.demand.required,
        )
        worked = paid_min.groupby(roster["agent_id"]).sum().to_dict()
        staff = (
            headcount(problem, requirements, assigned, worked)
            if len(requirements)
            else pd.DataFrame(columns=["queue"])
        )
        staffing = {
            "assumption": ASSUMPTION,
            **{
                r["queue"]: {k: json_number(v) for k, v in r.items() if k != "queue"}
                for r in staff.to_dict("records")
            },
        }
    return {
        "agents": len(problem.agents),
        "agents_rostered": int(roster["agent_id"].nunique()),
        "shifts": len(roster),
        "paid_hours": round(paid_h, 2),
        "required_paid_hours": None if required_h is None else round(required_h, 2),
        "cost": round(cost, 2),
        "required_fte": None
        if required_h is None
        else round(required_h / FTE_HOURS_PER_WEEK / weeks, 2),
        "scheduled_fte": round(paid_h / FTE_HOURS_PER_WEEK / weeks, 2),
        "volume": volume,
        "service_level": json_number(row["service_level"]) if row is not None else None,
        "asa_seconds": json_number(row["asa_s"]) if row is not None else None,
        "abandon_rate": json_number(row["abandon_rate"]) if row is not None else None,
        "occupancy": json_number(row["occupancy"]) if row is not None else None,
        "under_covered_intervals": int(gaps["below_target"].sum()) if len(gaps) else 0,
        "under_covered_agent_intervals": json_number(float(-short["difference"].sum())),
        "residual_shrinkage": {
            q: round(float(r), 6)
            for q, r in zip(
                problem.demand.queues,
                problem.demand.residual
                if problem.demand.residual is not None
                else np.zeros(len(problem.demand.queues)),
                strict=True,
            )
        },
        "queues": queues,
        "staffing": staffing,
    }


def staffing(scenario: Scenario, forecast_file: Path | None = None) -> pd.DataFrame:
    """Forecast → requirements: agents needed per interval and queue for ``forecast_file`` (a
    forecast table), else the scenario's own forecast (``compute_requirements``' frame)."""
    from staffplan.requirements import compute_requirements, read_forecast

    if forecast_file is not None:
        forecast = read_forecast(forecast_file, scenario.grid.timezone)
    else:
        from staffplan.forecast import forecast_scenario

        forecast = forecast_scenario(scenario)
    return compute_requirements(forecast, scenario)


def requirements_for(scenario: Scenario, csv: Path | None = None) -> pd.DataFrame:
    """The roster's requirements frame (``staffplan.roster.load.REQUIREMENT_COLUMNS``): ``csv``
    (e.g. ``--requirements``), else the scenario's requirements CSV, else from its forecast
    (forecast → requirements), else none (a pure shift-cover scenario)."""
    from staffplan.roster.load import no_requirements, read_requirements, roster_requirements

    path = csv if csv is not None else scenario.file("requirements", required=False)
    if path is not None:
        return read_requirements(path, scenario.grid)
    if scenario.file("history", required=False) is None:
        return no_requirements()
    return roster_requirements(staffing(scenario))


def progress_line(inc: Any, promise: Any = None) -> str:
    """One solver progress line: elapsed [s], objective, bound, gap, the roster's paid hours and,
    with ``promise`` (a :class:`~staffplan.evaluate.kpis.WeekPromise`) and the incumbent's
    allocation, an estimate of its promised week service level (voice and chat together, "≈"):
    the solver counts heads, not who they are, so the line promises them as if the same agents
    stayed on each queue as far as the heads allow and nobody moved between queues; the final
    KPIs count who changes shift (which helps) and who changes queue (which can cost;
    docs/queueing.md). Shown on the lines whose cost keeps it within ``PROGRESS_SHARE`` of the
    solve's time (the first line always)."""
    paid = "" if inc.paid_minutes is None else f"  paid {inc.paid_minutes / 60:9,.1f} h"
    sl = None
    if (
        promise is not None
        and getattr(inc, "on_phone", None) is not None
        and promise.affordable(inc.elapsed_s)
    ):
        sl = promise.service_level(inc.on_phone)
    shown = "" if sl is None else f"  promised SL ≈{sl:6.1%}"
    return (
        f"{inc.elapsed_s:7.2f} s  objective {inc.objective:14.2f}  bound {inc.bound:14.2f}  "
        f"gap {inc.gap:7.2%}{paid}{shown}"
    )


def _kpis(problem: Any, outcome: Any, scenario: Scenario) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-interval and week KPIs of a solved roster (empty frames without volumes)."""
    from staffplan.evaluate.kpis import INTERVAL_COLUMNS, roster_kpis, week_kpis

    roster = outcome.roster
    kp = roster_kpis(problem, roster.allocation, scenario, roster.stays, roster.moves)
    if kp is not None:
        return kp
    per = pd.DataFrame(columns=list(INTERVAL_COLUMNS))
    return per, week_kpis(per, scenario.grid.interval_min)


@dataclass(frozen=True, eq=False)
class RosterRun:
    """A roster for a scenario: the problem, the engine's outcome and its KPIs (``kpis`` per
    interval, ``week``; empty without volumes)."""

    scenario: Scenario
    settings: SolveSettings
    problem: Any  # staffplan.roster.problem.RosterProblem
    outcome: Any  # staffplan.roster.engine.Outcome
    kpis: pd.DataFrame
    week: pd.DataFrame


def run_roster(
    scenario: Scenario,
    *,
    requirements: pd.DataFrame | None = None,
    time_limit_s: float | None = None,
    workers: int | None = None,
    seed: int | None = None,
    deterministic: bool = False,
    progress: Any = None,
    echo: Echo | None = None,
) -> RosterRun:
    """Requirements → roster → KPIs: ``staffplan roster``.

    ``requirements``: a requirements frame (default :func:`requirements_for`);
    the solve's settings come from :func:`staffplan.scenario.solve_settings` with
    the given overrides; ``progress`` hears of every improving roster, ``echo``
    gets its :func:`progress_line` (with the promised service level).
    """
    from staffplan.evaluate.kpis import week_promise
    from staffplan.roster.engine import plan
    from staffplan.roster.load import load_problem

    settings = solve_settings(
        scenario,
        {
            "time_limit_s": time_limit_s,
            "workers": workers,
            "seed": seed,
            "deterministic": deterministic,
        },
    )
    req = requirements if requirements is not None else requirements_for(scenario)
    problem = load_problem(scenario, req)
    report = progress
    if echo is not None:
        meter = week_promise(problem, scenario)

        def report(inc: Any) -> None:
            if progress is not None:
                progress(inc)
            echo(progress_line(inc, meter))

    outcome = plan(problem, settings, report)
    per, week = _kpis(problem, outcome, scenario)
    return RosterRun(scenario, settings, problem, outcome, per, week)


def roster_doc(run: RosterRun, out: Path) -> dict[str, Any]:
    """The ``staffplan roster`` result (result.json): status, objective, bound (and which stage
    proved it), gap, times, shifts, paid hours, under-covered agent-intervals, week KPIs, notes
    and warnings."""
    res, ro = run.outcome.result, run.outcome.roster
    short = ro.coverage[ro.coverage["difference"] < 0]
    return {
        "status": res.status,
        "objective": json_number(res.objective, None),
        "bound": json_number(res.bound, None),
        "bound_source": res.bound_source,
        "gap": json_number(res.gap, None),
        "solve_seconds": round(res.solve_seconds, 3),
        "first_solution_seconds": json_number(res.first_solution_seconds, None),
        "agents_rostered": int(ro.roster["agent_id"].nunique()),
        "shifts": len(ro.roster),
        "paid_hours": round(float(ro.roster["paid_minutes"].sum()) / 60.0, 2),
        "under_covered_agent_intervals": int(-short["difference"].sum()),
        "week_kpis": [
            {k: json_number(v, None) for k, v in r.items()} for r in run.week.to_dict("records")
        ]
        if len(run.kpis)
        else [],
        "notes": list(run.outcome.notes),
        "warnings": list(run.outcome.warnings),
        "out": str(out),
    }


def write_roster(run: RosterRun, out: Path) -> list[Path]:
    """Write a roster's tables as folder ``out`` (staged and swapped in at once,
    :func:`staffplan.io.atomic.staged_folder`): roster.csv, coverage.csv, agents.csv, kpis.csv and
    kpis_week.csv (with volumes), roster.xlsx and result.json (:func:`roster_doc`)."""
    from staffplan.io.atomic import staged_folder, write_csv, write_json
    from staffplan.report.xlsx import absence_days, grid_frame, write_roster_xlsx

    ro = run.outcome.roster
    with staged_folder(out) as tmp:
        paths = [
            write_csv(tmp / "roster.csv", ro.roster),
            write_csv(tmp / "coverage.csv", ro.coverage),
            write_csv(tmp / "agents.csv", ro.agents),
        ]
        if len(run.kpis):
            paths.append(write_csv(tmp / "kpis.csv", run.kpis))
            paths.append(write_csv(tmp / "kpis_week.csv", run.week))
        grid = run.problem.grid
        cells = grid_frame(
            ro.roster, ro.agents, grid.dates(), absence_days(run.problem.absences, run.problem.grid)
        )
        week = run.week if len(run.kpis) else None
        paths.append(write_roster_xlsx(tmp / "roster.xlsx", cells, ro.coverage, week))
        paths.append(write_json(tmp / "result.json", roster_doc(run, out)))
        names = [Path(p).relative_to(tmp) for p in paths]
    return [out / n for n in names]


def run_cover(
    scenario: Scenario,
    published: pd.DataFrame,
    absences: Sequence[Any],
    now: pd.Timestamp,
    *,
    time_limit_s: float = 10.0,
    workers: int | None = None,
    seed: int | None = None,
    deterministic: bool = False,
    recorded: Sequence[Any] = (),
) -> Any:
    """Requirements → problem → cover repair of ``published`` after ``absences`` from ``now``:
    ``staffplan cover`` (returns a :class:`staffplan.cover.repair.CoverResult`). ``recorded``:
    the absences ``published`` already applied (:class:`staffplan.cover.start.CoverStart`).

    The repair is one quick solve: at most 2 workers and no LP bound beside it.
    """
    from staffplan.cover.repair import repair
    from staffplan.cover.settings import cover_settings
    from staffplan.roster.load import load_problem

    settings = solve_settings(
        scenario,
        {
            "time_limit_s": time_limit_s,
            "workers": workers,
            "seed": seed,
            "deterministic": deterministic,
        },
    )
    settings = replace(settings, workers=min(settings.workers, 2), lp_bound=False)
    return repair(
        load_problem(scenario, requirements_for(scenario)),
        published,
        tuple(absences),
        now,
        settings=cover_settings(scenario.section("cover"), file=scenario.path),
        solve_settings=settings,
        scenario=scenario,
        recorded=tuple(recorded),
    )


def check_scenario_roster(
    scenario: Scenario, roster: pd.DataFrame, recorded: Sequence[Any] = ()
) -> tuple[Any, list[Any]]:
    """Scenario → rules problem → check: the scenario's rules problem and every violation
    (``staffplan.roster.validate.Violation``) of ``roster`` against it, with the plan store's
    ``recorded`` absences (``staffplan.io.team.Absence``) and the overtime extensions the
    scenario's ``[cover]`` allows.
    """
    from staffplan.cover.settings import cover_settings
    from staffplan.roster.validate import Overtime, check_roster, rules_problem

    problem = rules_problem(scenario)
    settings = cover_settings(scenario.section("cover"), file=scenario.path)
    overtime = Overtime(settings.overtime_step_min, settings.max_overtime_min)
    zone = problem.grid.zone
    local = tuple(
        replace(a, start=a.start.tz_convert(zone), end=a.end.tz_convert(zone)) for a in recorded
    )
    return problem, check_roster(problem, roster, recorded=local, overtime=overtime)


def run(
    scenario: Scenario,
    *,
    time_limit_s: float | None = None,
    workers: int | None = None,
    seed: int | None = None,
    deterministic: bool = False,
    simulate: bool = False,
    replications: int | None = None,
    echo: Echo | None = None,
) -> RunResult:
    """Run a scenario end to end; ``echo`` receives one progress line per stage and solver
    progress (with each improving roster's paid hours). ``deterministic``: the roster's time limit
    is deterministic time, so the roster does not depend on machine load.
    """
    from staffplan.evaluate.kpis import week_promise
    from staffplan.forecast.pipeline import run_scenario as forecast_run
    from staffplan.requirements import compute_requirements
    from staffplan.roster.engine import plan
    from staffplan.roster.load import load_problem, roster_requirements

    say = echo or (lambda _s: None)
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    settings = solve_settings(
        scenario,
        {
            "time_limit_s": time_limit_s,
            "workers": workers,
            "seed": seed,
            "deterministic": deterministic,
        },
    )

    def stage(name: str, start: float, detail: str) -> None:
        times[name] = round(time.perf_counter() - start, 3)
        say(f"[{len(times)}/{5 if simulate else 4}] {name:<12} {times[name]:6.1f} s  {detail}")

    s = time.perf_counter()
    _, fres = forecast_run(scenario)
    forecast = fres.frame
    stage(
        "forecast",
        s,
        ", ".join(f"{q}: {m}" for q, m in sorted(fres.methods.items()))
        + f"; {forecast['volume'].sum():,.0f} contacts",
    )

    s = time.perf_counter()
    req = compute_requirements(forecast, scenario)
    stage(
        "requirements",
        s,
        f"peak {int(req.groupby('interval_start')['on_phone_agents'].sum().max())} on-phone "
        "heads in one interval",
    )

    s = time.perf_counter()
    problem = load_problem(scenario, roster_requirements(req))

    meter = week_promise(problem, scenario) if scenario.solver.log_progress else None

    def progress(inc: Any) -> None:
        say(f"    roster {progress_line(inc, meter)}")

    outcome = plan(problem, settings, progress if scenario.solver.log_progress else None)
    res = outcome.result
    gap = "unknown" if res.gap is None else f"{res.gap:.1%}"
    stage(
        "roster",
        s,
        f"{res.status}, {len(outcome.roster.roster)} shifts, objective {res.objective:,.1f}, "
        f"gap {gap}",
    )
    for w in outcome.warnings:
        say(f"    warning: {w}")

    s = time.perf_counter()
    per, week = _kpis(problem, outcome, scenario)
    summary = summarize(scenario, req, outcome, problem, week, per)
    sl = summary["service_level"]
    sl_text = "n/a" if sl is None else f"{sl:.1%}"
    stage("kpis", s, f"service level {sl_text}, paid hours {summary['paid_hours']:,.0f}")

    sim = None
    if simulate:
        from staffplan.evaluate.sim_scenario import simulate_scenario

        s = time.perf_counter()
        sim = simulate_scenario(
            scenario, outcome.roster.roster, forecast=forecast, replications=replications, seed=seed
        )
        stage(
            "simulation",
            s,
            f"{sim.replications} replications, {len(sim.flagged)} interval(s) flagged",
        )
    times["total"] = round(time.perf_counter() - t0, 3)
    return RunResult(scenario, forecast, req, outcome, problem, per, week, summary, times, sim)


#: every name :func:`write_outputs` (and ``staffplan roster``) may put in a run folder
RUN_FILES = frozenset(
    {
        "forecast.csv",
        "requirements.csv",
        "roster.csv",
        "coverage.csv",
        "agents.csv",
        "kpis.csv",
        "kpis_week.csv",
        "roster.xlsx",
        "calendars",
        "simulation_intervals.csv",
        "simulation_week.csv",
        "summary.json",
        "report.html",
        "result.json",
    }
)


def check_out_folder(out: Path, scenarios: Sequence[Scenario] = ()) -> Path:
    """Refuse, before any work, an output folder a run could not or must not replace.

    A run replaces the whole folder, so it must be writable, hold only files a
    run writes (:data:`RUN_FILES`) and hold none of the scenarios' data files
    (e.g. a roster another scenario reads as its previous roster).
    """
    from staffplan.errors import OutputError
    from staffplan.io.atomic import check_writable, foreign_files

    check_writable(out)
    foreign = foreign_files(out, RUN_FILES)
    if foreign:
        shown = ", ".join(foreign[:5]) + (" ..." if len(foreign) > 5 else "")
        raise OutputError(
            "output folder holds files a run does not write",
            file=out,
            expected="a new folder, or one holding only an earlier run's outputs",
            found=shown,
            hint="a run replaces the whole folder: move those files or choose another --out",
        )
    root = out.resolve()
    for sc in scenarios:
        for key in sorted(sc.data):
            for f in sc.files(key):
                if f.resolve().is_relative_to(root):
                    raise OutputError(
                        "output folder holds a file the scenario reads",
                        file=out,
                        key=f"data.{key}",
                        found=str(f),
                        hint="a run replaces the whole folder: copy the file elsewhere and point "
                        f"{sc.path.name} at the copy, or choose another --out",
                    )
    return out


def write_outputs(
    result: RunResult,
    out: Path,
    summary_extra: Mapping[str, Any] | None = None,
    lang: Any = None,
) -> list[Path]:
    """Write every table, the workbook, calendars, summary.json and report.html (in ``lang``, a
    ``staffplan.i18n.Lang``; default English) as folder ``out``.

    The files are written into a temporary folder beside ``out`` and swapped in
    at once (:func:`staffplan.io.atomic.staged_folder`): ``out`` holds either
    the previous run or this one, never a mix. ``summary_extra`` is merged into
    summary.json. Returns the paths as they are after the swap.
    """
    from staffplan.i18n import ENGLISH
    from staffplan.io.atomic import staged_folder

    with staged_folder(out) as tmp:
        files = _write_run_files(result, tmp, summary_extra or {}, lang or ENGLISH)
        names = [p.relative_to(tmp) for p in files]
    return [out / n for n in names]


def _write_run_files(
    result: RunResult, out: Path, summary_extra: Mapping[str, Any], lang: Any
) -> list[Path]:
    from staffplan.io.atomic import write_csv, write_json, write_text
    from staffplan.io.ics import write_calendars
    from staffplan.report.html import render_run_report
    from staffplan.report.run_report import report_data
    from staffplan.report.xlsx import absence_days, grid_frame, write_roster_xlsx

    ro = result.outcome.roster
    paths = [
        write_csv(
            out / "forecast.csv",
            result.forecast.assign(
                interval_start=result.forecast["interval_start"].map(lambda t: t.isoformat())
            ),
        ),
        write_csv(
            out / "requirements.csv",
            result.requirements.assign(
                interval_start=result.requirements["interval_start"].map(
                    lambda t: pd.Timestamp(t).isoformat()
                )
            ),
        ),
        write_csv(out / "roster.csv", ro.roster),
        write_csv(out / "coverage.csv", ro.coverage),
        write_csv(out / "agents.csv", ro.agents),
        write_csv(out / "kpis.csv", result.kpis),
        write_csv(out / "kpis_week.csv", result.week),
    ]
    grid = result.scenario.grid
    absent = absence_days(result.problem.absences, result.problem.grid)
    paths.append(
        write_roster_xlsx(
            out / "roster.xlsx",
            grid_frame(ro.roster, ro.agents, grid.dates(), absent),
            ro.coverage,
            result.week,
        )
    )
    paths.extend(
        write_calendars(
            ro.roster, out / "calendars", scenario=result.scenario.name, first_day=grid.start
        )
    )
    if result.simulation is not None:
        paths.append(write_csv(out / "simulation_intervals.csv", result.simulation.intervals))
        paths.append(write_csv(out / "simulation_week.csv", result.simulation.week))
    paths.append(
        write_json(
            out / "summary.json",
            {
                **result.summary,
                "stage_seconds": dict(result.stage_seconds),
                "fingerprint": fingerprint(result.scenario),
                **summary_extra,
            },
        )
    )
    paths.append(
        write_text(
            out / "report.html",
            render_run_report(report_data(result, lang), lang),
        )
    )
    return [Path(p) for p in paths]


def fingerprint(scenario: Scenario, extra: Mapping[str, Any] | None = None) -> str:
    """A hash of the merged scenario document and the bytes of every data file it names.

    Two runs with the same fingerprint (and solver settings in ``extra``) have
    the same inputs, so ``compare`` may reuse the cached outputs.
    """
    h = hashlib.sha256()
    h.update(json.dumps(scenario.raw, sort_keys=True, default=str).encode())
    h.update(json.dumps(dict(extra or {}), sort_keys=True, default=str).encode())
    for key in sorted(scenario.data):
        for p in scenario.files(key):
            h.update(key.encode())
            h.update(p.read_bytes() if p.exists() else b"<missing>")
    return h.hexdigest()[:16]


def cached_summary(folder: Path, key: str) -> dict[str, Any] | None:
    """The summary.json of a complete earlier run in ``folder`` whose cache_key is ``key``, or
    None.
    """
    try:
        cached = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    complete = (folder / "coverage.csv").exists() and (folder / "kpis.csv").exists()
    return (
        cached if isinstance(cached, dict) and cached.get("cache_key") == key and complete else None
    )


def compare_table(summaries: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per metric, one column per scenario, plus the difference of each to the first."""
    names = [str(s["scenario"]) for s in summaries]
    rows = []
    for key, label, unit, _ in COMPARE_METRICS:
        row: dict[str, Any] = {"metric": label, "unit": unit}
        base = summaries[0].get(key)
        for name, s in zip(names, summaries, strict=True):
            row[name] = s.get(key)
        for name, s in list(zip(names, summaries, strict=True))[1:]:
            v = s.get(key)
            row[f"Δ {name}"] = (
                None if v is None or base is None else round(float(v) - float(base), 6)
            )
        rows.append(row)
    return pd.DataFrame(rows)
