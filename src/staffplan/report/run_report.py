"""The run report's inputs: a run's frames and summary turned into the headline, tables and
findings :func:`staffplan.report.html.render_run_report` draws."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from staffplan.evaluate.kpis import target_gaps
from staffplan.report.html import ReportData, table_html
from staffplan.report.xlsx import absence_days
from staffplan.results import RunResult


def _definition_html(sm: Mapping[str, Any], lang: Any) -> str:
    """One paragraph: what the promised KPIs are and the residual shrinkage of each queue."""

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
        absences=absence_days(result.problem.absences, result.problem.grid),
        notes=notes,
        extra_sections=tuple(extra),
        findings=tuple(findings),
    )
