"""One scenario end to end: forecast → requirements → roster → KPIs (→ simulation) → outputs.

:func:`run` returns a :class:`RunResult` (frames and a flat ``summary`` of
weekly KPIs); :func:`write_outputs` writes every file of a run into a folder;
:func:`compare_table` lays several runs' summaries side by side. The CLI's
``run`` and ``compare`` commands are thin shells over these.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from staffplan.i18n import N_
from staffplan.scenario import Scenario

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


@dataclass(frozen=True, eq=False)
class RunResult:
    """Everything one scenario run produced.

    ``forecast``: interval_start, queue, volume [contacts], aht_seconds [s], method.
    ``requirements``: the ``compute_requirements`` frame (agents on queue and scheduled heads).
    ``kpis``: per interval and real-time queue (voice/chat): volume, agents, service_level, asa_s,
    occupancy, abandon_rate.
    ``week``: one row per real-time queue plus ``all``.
    ``summary``: flat JSON-ready weekly numbers (see :data:`COMPARE_METRICS`).
    """

    scenario: Scenario
    forecast: pd.DataFrame
    requirements: pd.DataFrame
    outcome: Any  # staffplan.roster.Outcome
    problem: Any  # staffplan.roster.RosterProblem
    kpis: pd.DataFrame
    week: pd.DataFrame
    summary: Mapping[str, Any]
    stage_seconds: Mapping[str, float]
    simulation: Any = None  # staffplan.evaluate.sim_scenario.ScenarioSimulation | None


def _num(x: object) -> object:
    if isinstance(x, float | np.floating):
        return None if not math.isfinite(float(x)) else round(float(x), 6)
    if isinstance(x, np.integer):
        return int(x)
    return x


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
        "objective": _num(res.objective),
        "bound": _num(res.bound),
        "gap": _num(res.gap),
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
        volume = _num(float(requirements["volume"].sum())) if len(requirements) else 0.0
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
            "service_level": _num(w["service_level"]),
            "asa_seconds": _num(w["asa_s"]),
            "abandon_rate": _num(w["abandon_rate"]),
            "occupancy": _num(w["occupancy"]),
            "volume": _num(w["volume"]),
            "agent_hours": _num(w["agent_hours"]),
            "available_hours": _num(w["available_hours"]),
            "intervals_below_target": None if g is None else int(g["below_target"]),
            "mean_shortfall": None if g is None else _num(g["mean_shortfall"]),
            "max_shortfall": None if g is None else _num(g["max_shortfall"]),
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
                r["queue"]: {k: _num(v) for k, v in r.items() if k != "queue"}
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
        "service_level": _num(row["service_level"]) if row is not None else None,
        "asa_seconds": _num(row["asa_s"]) if row is not None else None,
        "abandon_rate": _num(row["abandon_rate"]) if row is not None else None,
        "occupancy": _num(row["occupancy"]) if row is not None else None,
        "under_covered_intervals": int(gaps["below_target"].sum()) if len(gaps) else 0,
        "under_covered_agent_intervals": _num(float(-short["difference"].sum())),
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


def run(
    scenario: Scenario,
    *,
    time_limit_s: float | None = None,
    workers: int | None = None,
    seed: int | None = None,
    simulate: bool = False,
    replications: int | None = None,
    echo: Echo | None = None,
    deterministic: bool = False,
) -> RunResult:
    """Run a scenario end to end; ``echo`` receives one progress line per stage and solver
    progress. ``deterministic``: the roster's time limit is CP-SAT deterministic time, so the
    roster does not depend on machine load.
    """
    from staffplan.evaluate.kpis import INTERVAL_COLUMNS, roster_kpis, week_kpis
    from staffplan.forecast.pipeline import run_scenario as forecast_run
    from staffplan.requirements import compute_requirements
    from staffplan.roster import plan
    from staffplan.roster.load import load_problem, roster_requirements
    from staffplan.roster.solve import SolveSettings

    say = echo or (lambda _s: None)
    times: dict[str, float] = {}
    t0 = time.perf_counter()

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
    settings = SolveSettings(
        float(time_limit_s if time_limit_s is not None else scenario.solver.time_limit_s),
        int(workers if workers is not None else scenario.solver.workers),
        int(seed if seed is not None else scenario.solver.seed),
        lp_bound=scenario.solver.lp_bound,
        improve_share=float(scenario.solver.improve_share),
        search_share=float(scenario.solver.search_share),
        lns_share=float(scenario.solver.lns_share),
        colgen_share=float(scenario.solver.colgen_share),
        deterministic=deterministic,
    )

    def progress(elapsed: float, obj: float, bound: float, gap: float) -> None:
        say(
            f"    roster {elapsed:6.1f} s  objective {obj:14.1f}  bound {bound:14.1f}  gap "
            f"{gap:7.2%}"
        )

    outcome = plan(problem, settings, progress if scenario.solver.log_progress else None)
    res = outcome.result
    gap = "unknown" if res.gap is None else f"{res.gap:.1%}"
    stage(
        "roster",
        s,
        f"{res.status}, {len(outcome.roster.roster)} shifts, objective {res.objective:,.1f}, "
        f"gap {gap}",
    )

    s = time.perf_counter()
    kp = roster_kpis(problem, outcome.roster.allocation, scenario)
    if kp is None:
        per = pd.DataFrame(columns=list(INTERVAL_COLUMNS))
        week = week_kpis(per, scenario.grid.interval_min)
    else:
        per, week = kp
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


def _absence_days(problem: Any) -> pd.DataFrame:
    from staffplan.report.xlsx import absence_days

    return absence_days(problem.absences, problem.grid)


def _definition_html(sm: Mapping[str, Any], lang: Any) -> str:
    """One paragraph: what the promised KPIs are and the residual shrinkage of each queue."""
    import html

    rs = ", ".join(f"{q} {lang.percent(r)}" for q, r in sm.get("residual_shrinkage", {}).items())
    text = lang.gettext(
        "Service level, ASA, abandonment and occupancy are promised values: the expectation "
        "over the agents actually there. Each agent the roster puts on a queue's phones in an "
        "interval is lost to residual shrinkage (absenteeism, coaching, offline work: the "
        "shrinkage the roster's breaks do not already take) with probability r (%(rs)s), "
        "independently, so a simulation of the week with those losses finds the same figures. "
        "Occupancy is over the agents available after those losses. An interval is below "
        "target when its promised service level is.",
        rs=rs,
    )
    return f'<p class="note">{html.escape(text)}</p>'


def _target_sections(result: RunResult, lang: Any) -> list[tuple[str, str]]:
    """Per queue: intervals whose promised service level is below target, and the worst of them."""
    from staffplan.evaluate.kpis import target_gaps
    from staffplan.report.html import table_html

    _ = lang.gettext
    sc = result.scenario
    kp = result.kpis
    if not len(kp):
        return []
    targets = {q.name: q.service_level for q in sc.queues}
    gaps = target_gaps(kp, targets)
    queue = _("queue")
    table = pd.DataFrame(
        {
            queue: gaps["queue"],
            _("target"): [lang.percent(v) for v in gaps["target"]],
            _("intervals with contacts"): [lang.number(v) for v in gaps["intervals"]],
            _("below target"): [lang.number(v) for v in gaps["below_target"]],
            _("mean shortfall [points]"): [lang.number(v * 100, 1) for v in gaps["mean_shortfall"]],
            _("largest shortfall [points]"): [
                lang.number(v * 100, 1) for v in gaps["max_shortfall"]
            ],
            _("contacts in them"): [lang.number(v) for v in gaps["contacts_below"]],
        }
    )
    out = [
        (
            _("Intervals below target (promised service level)"),
            table_html(table, left=(queue,), lang=lang),
        )
    ]
    k = kp.assign(target=kp["queue"].map(targets).astype(float))
    k = k[k["service_level"] < k["target"] - 1e-12].copy()
    if len(k):
        k["shortfall"] = k["target"] - k["service_level"]
        k = k.sort_values(["shortfall", "interval_start"], ascending=[False, True]).head(25)
        when = pd.to_datetime(k["interval_start"], utc=True).dt.tz_convert(sc.grid.zone)
        start = _("interval start")
        worst = pd.DataFrame(
            {
                start: [f"{lang.day(w.date())} {lang.clock(w.to_pydatetime())}" for w in when],
                queue: k["queue"],
                _("contacts"): [lang.number(v, 1) for v in k["volume"]],
                _("on-phone heads"): [lang.number(v) for v in k["agents"]],
                _("available (expected)"): [lang.number(v, 1) for v in k["available"]],
                _("promised SL"): [lang.percent(v) for v in k["service_level"]],
                _("target"): [lang.percent(v) for v in k["target"]],
            }
        )
        out.append(
            (
                _("Intervals furthest below target"),
                table_html(worst, left=(start, queue), lang=lang),
            )
        )
    return out


def _staffing_html(sm: Mapping[str, Any], lang: Any) -> str:
    """Required vs available FTE per queue and the headcount to hire or release."""
    import html

    from staffplan.report.html import table_html

    _ = lang.gettext
    st = dict(sm.get("staffing") or {})
    assumption = str(st.pop("assumption", ""))
    if not st:
        none = html.escape(_("No requirements."))
        return f'<p class="note">{none}</p>'
    rows = []
    queue, head = _("queue"), _("headcount")
    for q, v in st.items():
        change = float(v.get("headcount_change") or 0.0)
        if change > 0.05:
            verdict = _("hire %(n)s", n=lang.number(abs(change), 1))
        elif change < -0.05:
            verdict = _("release %(n)s", n=lang.number(abs(change), 1))
        else:
            verdict = _("keep")
        rows.append(
            {
                queue: q,
                _("required FTE"): lang.number(v.get("required_fte"), 2),
                _("available FTE"): lang.number(v.get("available_fte"), 2),
                _("rostered FTE"): lang.number(v.get("rostered_fte"), 2),
                _("mean contract [h/week]"): lang.number(v.get("mean_contract_hours"), 2),
                head: verdict,
            }
        )
    from staffplan.evaluate.headcount import ASSUMPTION, ASSUMPTION_TEXT, FTE_HOURS

    # the summary carries the English sentence; the report writes it in its language
    said = _(ASSUMPTION_TEXT, hours=lang.number(FTE_HOURS, 1)) if assumption == ASSUMPTION else ""
    note = html.escape(said or assumption)
    return table_html(pd.DataFrame(rows), left=(queue, head), lang=lang) + (
        f'<p class="note">{note}.</p>'
    )


def report_data(result: RunResult, lang: Any = None) -> Any:
    """The HTML report's inputs from a run, written in ``lang`` (a ``staffplan.i18n.Lang``;
    default English).
    """
    from staffplan.i18n import ENGLISH
    from staffplan.report.html import ReportData, table_html

    lang = lang or ENGLISH
    _ = lang.gettext
    sc, sm = result.scenario, result.summary
    cov = result.outcome.roster.coverage.copy()
    cov["interval_start"] = pd.to_datetime(cov["interval_start"], utc=True).dt.tz_convert(
        sc.grid.zone
    )
    kp = result.kpis.copy()
    targets = {q.name: q.service_level for q in sc.queues}
    if len(kp):
        kp["interval_start"] = pd.to_datetime(kp["interval_start"], utc=True).dt.tz_convert(
            sc.grid.zone
        )
        kp["target"] = kp["queue"].map(targets).astype(float)
    else:
        kp = pd.DataFrame(
            {
                "interval_start": cov["interval_start"],
                "queue": cov["queue"],
                "service_level": np.nan,
                "target": np.nan,
                "volume": 0.0,
            }
        )
    w = result.week
    week = pd.DataFrame(
        {
            _("queue"): w["queue"],
            _("volume"): [lang.number(v) for v in w["volume"]],
            _("service level"): [lang.percent(v) for v in w["service_level"]],
            _("ASA [s]"): [lang.number(v, 1) for v in w["asa_s"]],
            _("abandonment"): [lang.percent(v) for v in w["abandon_rate"]],
            _("occupancy"): [lang.percent(v) for v in w["occupancy"]],
            _("agent-hours on queue"): [lang.number(v, 1) for v in w["agent_hours"]],
            _("available agent-hours"): [lang.number(v, 1) for v in w["available_hours"]],
        }
    )
    asa = sm["asa_seconds"]
    headline = {
        _("service level (voice+chat, promised)"): lang.percent(sm["service_level"]),
        _("ASA"): "–" if asa is None else _("%(s)s s", s=lang.number(asa, 1)),
        _("abandonment"): lang.percent(sm["abandon_rate"]),
        _("occupancy of available agents"): lang.percent(sm["occupancy"]),
        _("intervals below target"): lang.number(sm["under_covered_intervals"]),
        _("paid / required paid hours"): _(
            "%(paid)s / %(required)s h",
            paid=lang.number(sm["paid_hours"]),
            required=lang.number(sm["required_paid_hours"]),
        ),
        _("cost"): lang.number(sm["cost"]),
        _("scheduled / required FTE"): (
            f"{lang.number(sm['scheduled_fte'], 1)} / {lang.number(sm['required_fte'], 1)}"
        ),
        _("agents rostered"): _(
            "%(n)s of %(m)s",
            n=lang.number(sm["agents_rostered"]),
            m=lang.number(sm["agents"]),
        ),
        _("solver gap"): lang.percent(sm["gap"]),
    }
    findings = [
        (_("How these numbers are defined"), _definition_html(sm, lang)),
        *_target_sections(result, lang),
        (_("Headcount to meet the target"), _staffing_html(sm, lang)),
    ]
    extra: list[tuple[str, str]] = []
    if result.simulation is not None:
        sim = result.simulation.week
        cols = [c for c in sim.columns if not c.endswith("_ci")][:12]
        extra.append(
            (
                _("Simulation (discrete-event, same losses) vs promise"),
                table_html(sim[cols], left=("queue",), lang=lang),
            )
        )
    notes = list(sm["notes"]) + [
        _("%(stage)s: %(s)s s", stage=k, s=lang.number(v, 1))
        for k, v in result.stage_seconds.items()
    ]
    g = sc.grid
    subtitle = _(
        "%(what)s — %(first)s to %(last)s, %(minutes)s-minute intervals, %(zone)s; solver "
        "%(status)s",
        what=sc.description or sc.name,
        first=lang.date(g.start),
        last=lang.date(g.dates()[-1]),
        minutes=g.interval_min,
        zone=g.timezone,
        status=sm["status"],
    )
    agents = pd.DataFrame(
        [(a.id, a.name, a.team) for a in result.problem.agents],
        columns=["agent_id", "name", "team"],
    )
    return ReportData(
        title=f"staffplan — {sc.name}",
        subtitle=subtitle,
        headline=headline,
        kpis=week,
        coverage=cov,
        service=kp,
        roster=result.outcome.roster.roster,
        agents=agents,
        dates=g.dates(),
        absences=_absence_days(result.problem),
        notes=notes,
        extra_sections=tuple(extra),
        findings=tuple(findings),
    )


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
    from staffplan.report.xlsx import grid_frame, write_roster_xlsx

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
    absent = _absence_days(result.problem)
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
