import datetime as dt

import numpy as np
import pandas as pd
from tests.html_tags import Tags

from staffplan.report.html import ReportData, render_comparison, render_run_report
from staffplan.timegrid import TimeGrid


def frames() -> ReportData:
    g = TimeGrid(dt.date(2026, 12, 7), 2, 60, "Europe/Madrid")
    rows = []
    for q, peak in (("voice", 10), ("chat", 4)):
        req = np.round(peak * np.sin(np.linspace(0, np.pi, g.n)) ** 2)
        rows.append(
            pd.DataFrame(
                {"interval_start": g.starts, "queue": q, "required": req, "scheduled": req + 1}
            )
        )
    cov = pd.concat(rows, ignore_index=True)
    svc = cov.assign(service_level=0.8, target=0.8, volume=cov["required"] * 10)
    roster = pd.DataFrame(
        {
            "agent_id": ["A1", "A2"],
            "date": ["2026-12-07", "2026-12-08"],
            "shift": ["E", "L"],
            "start": ["2026-12-07T08:00:00+01:00", "2026-12-08T14:00:00+01:00"],
            "end": ["2026-12-07T16:00:00+01:00", "2026-12-08T22:00:00+01:00"],
            "queues": ["voice", "chat"],
        }
    )
    agents = pd.DataFrame(
        {
            "agent_id": ["A1", "A2", "A3"],
            "name": ["Ana <x>", "Bo", "Cy"],
            "team": ["T1", "T1", "T2"],
        }
    )
    absences = pd.DataFrame({"agent_id": ["A3"], "date": ["2026-12-07"], "kind": ["vacation"]})
    kpis = pd.DataFrame({"queue": ["voice", "chat", "all"], "service_level": [0.81, 0.9, 0.84]})
    return ReportData(
        "Run",
        "week 50",
        {"Paid hours": "1,234"},
        kpis,
        cov,
        svc,
        roster,
        agents,
        g.dates(),
        absences,
        notes=["n1"],
    )


def test_run_report_is_self_contained_and_complete() -> None:
    page = render_run_report(frames())
    p = Tags()
    p.feed(page)
    imgs = [a["src"] for t, a in p.tags if t == "img"]
    assert len(imgs) == 2 and all(s and s.startswith("data:image/png;base64,") for s in imgs)
    assert not [a for t, a in p.tags if t in ("script", "link")]  # nothing external
    text = " ".join(p.text)
    for expected in (
        "Week at a glance",
        "Roster (agent × day)",
        "Ana <x> (A1)",
        "vacation",
        "E 08:00–16:00",
        "1,234",
        "n1",
    ):
        assert expected in text
    assert "<x>" not in page.replace("&lt;x&gt;", "")  # escaped


def test_report_is_deterministic() -> None:
    assert render_run_report(frames()) == render_run_report(frames())


def test_comparison_page() -> None:
    d = frames()
    table = pd.DataFrame({"scenario": ["a", "b"], "paid_hours": [10.0, 12.0]})
    page = render_comparison(
        table, {"a": d.coverage, "b": d.coverage}, {"a": d.service, "b": d.service}
    )
    p = Tags()
    p.feed(page)
    assert sum(1 for t, _ in p.tags if t == "img") == 2
    assert "KPIs side by side" in page


def test_run_report_in_spanish() -> None:
    from staffplan.i18n import Lang

    page = render_run_report(frames(), Lang("es"))
    p = Tags()
    p.feed(page)
    text = " ".join(p.text)
    assert '<html lang="es">' in page
    for expected in ("La semana de un vistazo", "Cuadrante (agente × día)", "lun, 7 dic"):
        assert expected in text
    assert "vacaciones" in text and "libre" in text and "E 8:00–16:00" in text
    assert "Week at a glance" not in text and "vacation" not in text


def test_comparison_table_in_spanish() -> None:
    from staffplan.i18n import Lang
    from staffplan.pipeline import compare_table
    from staffplan.report.html import comparison_rows

    base = {"scenario": "a", "paid_hours": 1234.5, "service_level": 0.875, "gap": None}
    table = compare_table([base, {**base, "scenario": "b", "service_level": 0.9}])
    rows = comparison_rows(table, Lang("es"))
    assert list(rows.columns) == ["métrica", "a", "b", "Δ b"]
    sl = rows[rows["métrica"] == "nivel de servicio (voz+chat, semana)"].iloc[0]
    assert (sl["a"], sl["b"], sl["Δ b"]) == ("87,5\xa0%", "90,0\xa0%", "2,5\xa0%")
    paid = rows[rows["métrica"] == "horas pagadas"].iloc[0]
    assert paid["a"] == "1.234,5"
