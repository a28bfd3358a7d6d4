"""Self-contained HTML reports: one run, and several scenarios compared.

Charts are drawn with matplotlib (Agg) and embedded as base64 PNG, so the page
is one file that opens anywhere, offline. Nothing in the page depends on the
wall clock: the same inputs give the same bytes. Texts, numbers and dates are
written in the report's language (:class:`staffplan.i18n.Lang`, default English).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from staffplan.i18n import ENGLISH, KIND_TEXT, Lang  # noqa: E402

PALETTE = ("#1f5fa8", "#d9822b", "#2e9e6a", "#b8405e", "#7a5cb8", "#6b7b8c", "#c7a12c", "#3aa3b5")

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f4f6f9;
color:#1d2733}
header{background:#1d2f4a;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;opacity:.85}main{padding:18px 28px;max-width:1400px}
section{background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.08);padding:16px 20px;
margin:0 0 18px}
h2{font-size:17px;margin:0 0 12px}.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#f0f4fa;border-radius:6px;padding:10px 14px;min-width:130px}
.card b{display:block;font-size:20px}.card span{font-size:12px;color:#566}
table{border-collapse:collapse;font-size:13px}
th,td{padding:4px 8px;border-bottom:1px solid #e3e8ee;text-align:right}
th{background:#f0f3f7;position:sticky;top:0}td.l,th.l{text-align:left}
.bad{color:#b3261e;font-weight:600}.good{color:#1e7b45}
.grid td{text-align:center;font-size:11px;white-space:nowrap;padding:2px 4px}
.grid td.l{text-align:left}
.off{color:#aab}.abs{background:#fde8e8;color:#933}.wide{overflow-x:auto}
img{max-width:100%}.note{font-size:12px;color:#566}
@page{size:A4 landscape;margin:9mm}
@media print{
body{background:#fff;-webkit-print-color-adjust:exact;print-color-adjust:exact}
header{padding:6px 0;background:#fff;color:#1d2733;border-bottom:2px solid #1d2f4a}
header h1{font-size:16px}main{padding:6px 0;max-width:none}
section{box-shadow:none;border-radius:0;padding:4px 0;margin:0 0 8px}
.wide{overflow:visible}th{position:static}thead{display:table-header-group}
tr,img,.card{break-inside:avoid}h2{break-after:avoid;font-size:13px}
table{font-size:9px}th,td{padding:1px 4px}
table.grid{width:100%;table-layout:auto}.grid td{font-size:7.5px;padding:1px 2px}
.grid th{font-size:8px;padding:1px 2px}
}
"""


@dataclass(frozen=True)
class ReportData:
    """Everything one run's report shows.

    Frames (documented columns):
    - ``coverage``: interval_start (tz-aware), queue, required [agents], scheduled [agents],
      optional available [agents expected after residual shrinkage]
    - ``service``: interval_start, queue, service_level [0-1], target [0-1 or NaN], volume
      [contacts]
    - ``kpis``: one row per queue plus a total row; display-ready columns
    - ``roster``: roster.csv rows (agent_id, date, shift, start, end, queues)
    - ``agents``: agent_id, name, team (for the grid's rows)
    - ``absences``: agent_id, date, kind (shown in the grid), may be empty
    """

    title: str
    subtitle: str
    headline: Mapping[str, str]
    kpis: pd.DataFrame
    coverage: pd.DataFrame
    service: pd.DataFrame
    roster: pd.DataFrame
    agents: pd.DataFrame
    dates: Sequence[dt.date]
    absences: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: Sequence[str] = ()
    extra_sections: Sequence[tuple[str, str]] = ()
    findings: Sequence[tuple[str, str]] = ()
    """(heading, HTML) sections right after the week at a glance: what the numbers mean, where
    the service is short, what to hire."""


def png_data_uri(fig: plt.Figure) -> str:
    """Render a figure to a ``data:image/png;base64`` URI and close it."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _local_naive(s: pd.Series) -> pd.Series:
    t = pd.to_datetime(s)
    return t.dt.tz_localize(None) if getattr(t.dt, "tz", None) is not None else t


def _day_axis(ax: plt.Axes, lang: Lang) -> None:
    """Day ticks written in ``lang`` (``Mon, Dec 7`` / ``lun, 7 dic``)."""
    ax.xaxis.set_major_locator(mdates.DayLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: lang.day(mdates.num2date(x).date())))


def coverage_chart(
    coverage: pd.DataFrame, title: str = "Required vs scheduled agents", lang: Lang = ENGLISH
) -> str:
    """Step chart per queue of required and scheduled agents over the horizon."""
    queues = list(dict.fromkeys(coverage["queue"]))
    fig, axes = plt.subplots(
        len(queues), 1, figsize=(13, 2.3 * len(queues) + 0.4), sharex=True, squeeze=False
    )
    for ax, q in zip(axes[:, 0], queues, strict=True):
        d = coverage[coverage["queue"] == q]
        t = _local_naive(d["interval_start"])
        ax.fill_between(
            t, d["required"], step="post", color="#c9d6ea", label=lang.gettext("required")
        )
        ax.step(
            t,
            d["scheduled"],
            where="post",
            color=PALETTE[0],
            lw=1.2,
            label=lang.gettext("scheduled"),
        )
        if "available" in d:
            ax.step(
                t,
                d["available"],
                where="post",
                color=PALETTE[1],
                lw=0.9,
                ls="--",
                label=lang.gettext("available (expected)"),
            )
        unit = lang.gettext("agents")
        ax.set_ylabel(f"{q}\n[{unit}]")
        ax.grid(alpha=0.3)
    axes[0, 0].legend(loc="upper right", ncols=3, fontsize=8)
    axes[0, 0].set_title(title, fontsize=11, loc="left")
    _day_axis(axes[-1, 0], lang)
    return png_data_uri(fig)


def service_chart(
    service: pd.DataFrame, title: str = "Promised service level per interval", lang: Lang = ENGLISH
) -> str:
    """Service level per interval and queue against its target (open intervals only)."""
    d0 = service[service["volume"] > 0] if "volume" in service else service
    queues = list(dict.fromkeys(service["queue"]))
    fig, axes = plt.subplots(
        len(queues), 1, figsize=(13, 2.1 * len(queues) + 0.4), sharex=True, squeeze=False
    )
    for ax, q in zip(axes[:, 0], queues, strict=True):
        d = d0[d0["queue"] == q]
        t = _local_naive(d["interval_start"])
        ax.plot(t, d["service_level"], ".", ms=2.5, color=PALETTE[0])
        if "target" in d and d["target"].notna().any():
            ax.axhline(
                float(d["target"].dropna().iloc[0]),
                color=PALETTE[3],
                lw=1,
                ls="--",
                label=lang.gettext("target"),
            )
            ax.legend(loc="lower right", fontsize=8)
        ax.set_ylim(-0.02, 1.02)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _pos: lang.percent(y, 0)))
        ax.set_ylabel(q)
        ax.grid(alpha=0.3)
    axes[0, 0].set_title(title, fontsize=11, loc="left")
    _day_axis(axes[-1, 0], lang)
    return png_data_uri(fig)


def table_html(
    frame: pd.DataFrame, left: Sequence[str] = (), css: str = "", lang: Lang = ENGLISH
) -> str:
    """A plain HTML table; columns in ``left`` are left-aligned; numbers written in ``lang``."""
    head = "".join(
        f'<th class="{"l" if c in left else ""}">{html.escape(str(c))}</th>' for c in frame.columns
    )
    rows = []
    for rec in frame.itertuples(index=False):
        cells = "".join(
            f'<td class="{"l" if c in left else ""}">{html.escape(_fmt(v, lang))}</td>'
            for c, v in zip(frame.columns, rec, strict=True)
        )
        rows.append(f"<tr>{cells}</tr>")
    return (
        f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def _fmt(v: object, lang: Lang = ENGLISH) -> str:
    if isinstance(v, float):
        if pd.isna(v):
            return "–"
        return lang.number(v, 1 if abs(v) >= 100 else 3 if abs(v) < 1 else 2)
    return "" if v is None else str(v)


def roster_grid_html(
    roster: pd.DataFrame,
    agents: pd.DataFrame,
    dates: Sequence[dt.date],
    absences: pd.DataFrame | None = None,
    lang: Lang = ENGLISH,
) -> str:
    """The classic agent × day grid: shift id and times per cell, absences marked."""
    cells: dict[tuple[str, str], str] = {}
    for r in roster.itertuples(index=False):
        start = lang.clock(pd.Timestamp(r.start).to_pydatetime())
        end = lang.clock(pd.Timestamp(r.end).to_pydatetime())
        cells[(str(r.agent_id), str(r.date))] = f"{r.shift} {start}–{end}"
    absent: dict[tuple[str, str], str] = {}
    if absences is not None and len(absences):
        for a in absences.itertuples(index=False):
            absent[(str(a.agent_id), str(a.date))] = str(a.kind)
    day_keys = [d.isoformat() for d in dates]
    agent_h, team_h, days_h = (
        html.escape(lang.gettext("agent")),
        html.escape(lang.gettext("team")),
        html.escape(lang.gettext("days")),
    )
    off = html.escape(lang.gettext("off"))
    head = (
        f'<th class="l">{agent_h}</th><th class="l">{team_h}</th>'
        + "".join(f"<th>{html.escape(lang.day(d))}</th>" for d in dates)
        + f"<th>{days_h}</th>"
    )
    body = []
    cols = [c for c in ("team", "agent_id") if c in agents.columns]
    for a in agents.sort_values(cols).itertuples(index=False):
        aid = str(a.agent_id)
        row = [
            f'<td class="l">{html.escape(str(getattr(a, "name", aid)))} ({html.escape(aid)})</td>',
            f'<td class="l">{html.escape(str(getattr(a, "team", "")))}</td>',
        ]
        worked = 0
        for d in day_keys:
            if (aid, d) in cells:
                worked += 1
                row.append(f"<td>{html.escape(cells[(aid, d)])}</td>")
            elif (aid, d) in absent:
                kind = lang.gettext(KIND_TEXT.get(absent[(aid, d)], absent[(aid, d)]))
                row.append(f'<td class="abs">{html.escape(kind)}</td>')
            else:
                row.append(f'<td class="off">{off}</td>')
        row.append(f"<td>{worked}</td>")
        body.append("<tr>" + "".join(row) + "</tr>")
    return (
        '<div class="wide"><table '
        f'class="grid"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'
    )


def _page(
    title: str, subtitle: str, sections: Sequence[tuple[str, str]], lang: Lang = ENGLISH
) -> str:
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{html.escape(lang.code)}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>",
        f"<header><h1>{html.escape(title)}</h1><p>{html.escape(subtitle)}</p></header><main>",
    ]
    for sid, (heading, body) in enumerate(sections):
        parts.append(f'<section id="s{sid}"><h2>{html.escape(heading)}</h2>{body}</section>')
    parts.append("</main></body></html>")
    return "\n".join(parts) + "\n"


def cards_html(headline: Mapping[str, str]) -> str:
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card"><b>{html.escape(v)}</b><span>{html.escape(k)}</span></div>'
            for k, v in headline.items()
        )
        + "</div>"
    )


def render_run_report(data: ReportData, lang: Lang = ENGLISH) -> str:
    """The run report: headline KPIs, week KPIs per queue, findings, charts, roster grid, notes,
    in ``lang``.
    """
    _ = lang.gettext
    cov_title = _("Required vs scheduled agents")
    sl_title = _("Promised service level per interval")
    sections = [
        (
            _("Week at a glance"),
            cards_html(data.headline) + table_html(data.kpis, left=("queue",), lang=lang),
        ),
        *data.findings,
        (
            _("Required vs scheduled agents per queue"),
            f'<img alt="{html.escape(cov_title)}" '
            f'src="{coverage_chart(data.coverage, cov_title, lang)}">',
        ),
        (
            _("Service level per interval against target"),
            f'<img alt="{html.escape(sl_title)}" '
            f'src="{service_chart(data.service, sl_title, lang)}">',
        ),
        (
            _("Roster (agent × day)"),
            roster_grid_html(data.roster, data.agents, data.dates, data.absences, lang),
        ),
    ]
    sections.extend(data.extra_sections)
    if data.notes:
        sections.append(
            (
                _("Notes"),
                "<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in data.notes) + "</ul>",
            )
        )
    return _page(data.title, data.subtitle, sections, lang)


def overlay_chart(
    frames: Mapping[str, pd.DataFrame],
    value: str,
    ylabel: str,
    title: str,
    lang: Lang = ENGLISH,
) -> str:
    """One subplot per queue; one line per scenario (``frames``: name -> interval_start, queue,
    value).
    """
    queues: list[str] = []
    for f in frames.values():
        queues.extend(q for q in dict.fromkeys(f["queue"]) if q not in queues)
    fig, axes = plt.subplots(
        len(queues), 1, figsize=(13, 2.3 * len(queues) + 0.4), sharex=True, squeeze=False
    )
    for ax, q in zip(axes[:, 0], queues, strict=True):
        for i, (name, f) in enumerate(frames.items()):
            d = f[f["queue"] == q]
            ax.step(
                _local_naive(d["interval_start"]),
                d[value],
                where="post",
                lw=1.1,
                color=PALETTE[i % len(PALETTE)],
                label=name,
            )
        ax.set_ylabel(f"{q}\n[{ylabel}]")
        ax.grid(alpha=0.3)
    axes[0, 0].legend(loc="upper right", fontsize=8, ncols=min(4, len(frames)))
    axes[0, 0].set_title(title, fontsize=11, loc="left")
    _day_axis(axes[-1, 0], lang)
    return png_data_uri(fig)


def comparison_rows(table: pd.DataFrame, lang: Lang = ENGLISH) -> pd.DataFrame:
    """``pipeline.compare_table`` for people: metric labels in ``lang``, each value written for
    its unit (``Lang.measure``); the unit column dropped. Other tables are returned as they are.
    """
    if "metric" not in table or "unit" not in table:
        return table
    out = pd.DataFrame({lang.gettext("metric"): [lang.gettext(m) for m in table["metric"]]})
    for c in table.columns:
        if c in ("metric", "unit"):
            continue
        out[c] = [lang.measure(v, u) for v, u in zip(table[c], table["unit"], strict=True)]
    return out


def render_comparison(
    table: pd.DataFrame,
    coverage: Mapping[str, pd.DataFrame],
    service: Mapping[str, pd.DataFrame],
    title: str = "Scenario comparison",
    lang: Lang = ENGLISH,
) -> str:
    """Comparison page: the KPI table and overlaid scheduled-agent and service-level charts."""
    _ = lang.gettext
    scheduled_title, sl_title = _("Scheduled agents"), _("Service level")
    scheduled = overlay_chart(coverage, "scheduled", _("agents"), scheduled_title, lang)
    sl = overlay_chart(service, "service_level", _("service level"), sl_title, lang)
    sections = [
        (
            _("KPIs side by side"),
            table_html(comparison_rows(table, lang), left=(_("metric"),), lang=lang),
        ),
        (
            _("Scheduled agents per queue"),
            f'<img alt="{html.escape(scheduled_title)}" src="{scheduled}">',
        ),
        (
            _("Service level per interval"),
            f'<img alt="{html.escape(sl_title)}" src="{sl}">',
        ),
    ]
    subtitle = _(
        "%(n)s scenarios: %(names)s", n=lang.number(len(coverage)), names=", ".join(coverage)
    )
    return _page(title, subtitle, sections, lang)


def render_sweep(
    table: pd.DataFrame, keys: Sequence[str], png: bytes, title: str, subtitle: str
) -> str:
    """Sweep page: the frontier chart, the cheapest point meeting every target, and one row per
    point (``table`` from :func:`staffplan.sweep.sweep_table`) linking to the point's report.
    """
    uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    best = table[table["cheapest"].astype(bool)]
    ok = table[table["error"].isna()] if "error" in table else table
    headline = {
        "points": str(len(table)),
        "run": str(len(ok)),
        "Pareto-optimal": str(int(table["pareto"].astype(bool).sum())),
        "meet every target": str(int(table["meets_targets"].astype(bool).sum())),
    }
    if len(best):
        b = best.iloc[0]
        headline["cheapest meeting every target"] = ", ".join(f"{k}={b[k]}" for k in keys)
        headline["its cost"] = f"{float(b['cost']):,.0f}"
        headline["its service level"] = f"{float(b['service_level']):.1%}"
    shown = [
        c
        for c in table.columns
        if c not in ("folder", "error") and not c.startswith(("asa_s_", "abandon_rate_"))
    ]
    head = "".join(
        f'<th class="{"l" if c in keys else ""}">{html.escape(str(c))}</th>' for c in shown
    )
    rows = []
    for rec in table.to_dict("records"):
        cells = "".join(
            f'<td class="{"l" if c in keys else ""}">{html.escape(_fmt(rec[c]))}</td>'
            for c in shown
        )
        err = rec.get("error")
        link = (
            f'<a href="{html.escape(str(rec["folder"]))}/report.html">report</a>'
            if err is None or (isinstance(err, float) and pd.isna(err))
            else html.escape(str(err))
        )
        css = ' class="good"' if rec["cheapest"] else ""
        rows.append(f'<tr{css}>{cells}<td class="l">{link}</td></tr>')
    points = (
        f'<div class="scroll"><table><thead><tr>{head}<th class="l">run</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )
    sections = [
        ("Cost–service frontier", cards_html(headline) + f'<img alt="frontier" src="{uri}">'),
        ("Points", points),
    ]
    return _page(title, subtitle, sections)
