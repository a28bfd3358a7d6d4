"""The run report's inputs: a run's frames and summary turned into the headline, tables and
findings :func:`staffplan.report.html.render_run_report` draws."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from staffplan.evaluate.kpis import target_gaps
from staffplan.report.html import ReportData, table_html
from staffplan.report.xlsx import absence_days
from staffplan.results import RunResult


def _pct(x: object) -> str:
    return (
        "–" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{float(x):.1%}"
    )  # type: ignore[arg-type]


def _definition_html(sm: Mapping[str, Any]) -> str:
    """One paragraph: what the promised KPIs are and the residual shrinkage of each queue."""
    rs = ", ".join(f"{q} {r:.1%}" for q, r in sm.get("residual_shrinkage", {}).items())
    return (
        '<p class="note">'
        + html.escape(
            "Service level, ASA, abandonment and occupancy are promised values: the expectation "
            "over the agents actually there. Each agent the roster puts on a queue's phones in an "
            "interval is lost to residual shrinkage (absenteeism, coaching, offline work: the "
            f"shrinkage the roster's breaks do not already take) with probability r ({rs}), "
            "independently, so a simulation of the week with those losses finds the same "
            "figures. Occupancy is over the agents available after those losses. An interval is "
            "below target when its promised service level is."
        )
        + "</p>"
    )


def _target_sections(result: RunResult) -> list[tuple[str, str]]:
    """Per queue: intervals whose promised service level is below target, and the worst of them."""
    sc = result.scenario
    kp = result.kpis
    if not len(kp):
        return []
    targets = {q.name: q.service_level for q in sc.queues}
    gaps = target_gaps(kp, targets)
    table = pd.DataFrame(
        {
            "queue": gaps["queue"],
            "target": gaps["target"].map(_pct),
            "intervals with contacts": gaps["intervals"],
            "below target": gaps["below_target"],
            "mean shortfall [points]": (gaps["mean_shortfall"] * 100).round(1),
            "largest shortfall [points]": (gaps["max_shortfall"] * 100).round(1),
            "contacts in them": gaps["contacts_below"].round(0),
        }
    )
    out = [("Intervals below target (promised service level)", table_html(table, left=("queue",)))]
    k = kp.assign(target=kp["queue"].map(targets).astype(float))
    k = k[k["service_level"] < k["target"] - 1e-12].copy()
    if len(k):
        k["shortfall"] = k["target"] - k["service_level"]
        k = k.sort_values(["shortfall", "interval_start"], ascending=[False, True]).head(25)
        when = pd.to_datetime(k["interval_start"], utc=True).dt.tz_convert(sc.grid.zone)
        worst = pd.DataFrame(
            {
                "interval_start": when.dt.strftime("%a %d %b %H:%M"),
                "queue": k["queue"],
                "contacts": k["volume"].round(1),
                "on-phone heads": k["agents"],
                "available (expected)": k["available"].round(1),
                "promised SL": k["service_level"].map(_pct),
                "target": k["target"].map(_pct),
            }
        )
        out.append(
            ("Intervals furthest below target", table_html(worst, left=("interval_start", "queue")))
        )
    return out


def _staffing_html(sm: Mapping[str, Any]) -> str:
    """Required vs available FTE per queue and the headcount to hire or release."""
    st = dict(sm.get("staffing", {}))
    assumption = str(st.pop("assumption", ""))
    if not st:
        return '<p class="note">No requirements.</p>'
    rows = []
    for q, v in st.items():
        change = float(v.get("headcount_change") or 0.0)
        verb = "hire" if change > 0.05 else "release" if change < -0.05 else "keep"
        rows.append(
            {
                "queue": q,
                "required FTE": v.get("required_fte"),
                "available FTE": v.get("available_fte"),
                "rostered FTE": v.get("rostered_fte"),
                "mean contract [h/week]": v.get("mean_contract_hours"),
                "headcount": "keep" if verb == "keep" else f"{verb} {abs(change):.1f}",
            }
        )
    return table_html(pd.DataFrame(rows), left=("queue", "headcount")) + (
        f'<p class="note">{html.escape(assumption)}.</p>'
    )


def report_data(result: RunResult) -> Any:
    """The HTML report's inputs from a run."""
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
    week = result.week.rename(
        columns={
            "asa_s": "ASA [s]",
            "abandon_rate": "abandonment",
            "agent_hours": "agent-hours on queue",
            "available_hours": "available agent-hours",
        }
    )
    week = week.drop(columns=[c for c in ("p_wait",) if c in week])
    for c in ("service_level", "abandonment", "occupancy"):
        week[c] = week[c].map(_pct)
    week["volume"] = week["volume"].map(lambda v: f"{v:,.0f}")
    week = week.rename(columns={"service_level": "service level"})
    below = sm["under_covered_intervals"]
    headline = {
        "service level (voice+chat, promised)": _pct(sm["service_level"]),
        "ASA": "–" if sm["asa_seconds"] is None else f"{sm['asa_seconds']:.1f} s",
        "abandonment": _pct(sm["abandon_rate"]),
        "occupancy of available agents": _pct(sm["occupancy"]),
        "intervals below target": f"{below}",
        "paid / required paid hours": (
            f"{sm['paid_hours']:,.0f} / {sm['required_paid_hours']:,.0f} h"
        ),
        "cost": f"{sm['cost']:,.0f}",
        "scheduled / required FTE": f"{sm['scheduled_fte']:.1f} / {sm['required_fte']:.1f}",
        "agents rostered": f"{sm['agents_rostered']} of {sm['agents']}",
        "solver gap": _pct(sm["gap"]),
    }
    findings = [
        ("How these numbers are defined", _definition_html(sm)),
        *_target_sections(result),
        ("Headcount to meet the target", _staffing_html(sm)),
    ]
    extra: list[tuple[str, str]] = []
    if result.simulation is not None:
        w = result.simulation.week
        cols = [c for c in w.columns if not c.endswith("_ci")][:12]
        extra.append(
            (
                "Simulation (discrete-event, same losses) vs promise",
                table_html(w[cols], left=("queue",)),
            )
        )
    notes = list(sm["notes"]) + [f"{k}: {v:.1f} s" for k, v in result.stage_seconds.items()]
    g = sc.grid
    subtitle = (
        f"{sc.description or sc.name} — {g.start:%a %d %b %Y} to "
        f"{g.dates()[-1]:%a %d %b %Y}, {g.interval_min}-minute intervals, "
        f"{g.timezone}; solver {sm['status']}"
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
