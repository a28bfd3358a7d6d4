"""The workspace in a real headless Chromium (Debian's, driven by Playwright) against a real
``staffplan serve``: a sick call from the week to a new version, an edit into a rule break, the
week in Spanish, and the week printed on A4 and Letter landscape.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.web import kit
from tests.web.conftest import Server, start_server, stop_server


@pytest.fixture
def page(browser: Any, server: Server) -> Iterator[Any]:
    context = browser.new_context(locale="en-US", base_url=server.url)
    p = context.new_page()
    p.set_default_timeout(60_000)
    try:
        yield p
    finally:
        context.close()


def test_sick_call_from_the_week_to_a_new_version(page: Any) -> None:
    page.goto("/week")
    assert page.locator("h1").inner_text() == "Week of Mon, Dec 7"
    page.get_by_role("link", name="Sick call").click()
    page.select_option("select[name=agent]", ["A1"])
    page.fill("input[name=from]", kit.DAYS[2])
    page.fill("input[name=now]", "2026-12-09T06:00")
    page.get_by_role("button", name="Propose a cover").click()
    phone = page.locator("table#phone")  # the page follows the repair, then shows it
    assert "call in" in phone.inner_text()
    called = phone.locator("tbody tr td").nth(2).inner_text()  # "Agent 8 (A8)"
    assert "off" in phone.inner_text() and "E 07:00-15:00" in phone.inner_text()
    call_in = phone.locator("tbody tr", has_text="call in").first
    becomes = call_in.locator("td").nth(5).inner_text()
    told = call_in.locator("td.tell").inner_text()  # what the lead reads out on the phone
    assert told.startswith("Please come in on ") and told.endswith(f": {becomes}."), told
    page.fill("input[name=author]", "ana")
    page.fill("input[name=note]", "A1 flu")
    page.get_by_role("button", name="Apply as a new version").click()
    assert page.locator("#new-version").inner_text().startswith("Published version 2.")
    newest = page.locator("#versions tbody tr").first
    assert newest.get_attribute("data-version") == "2"
    assert "cover" in newest.inner_text() and "A1 flu" in newest.inner_text()
    page.locator("#new-version a").click()
    assert "Version 2" in page.locator(".sub").first.inner_text()
    a1 = page.locator("tr[data-agent=A1] td").nth(2)
    assert "sick" in a1.inner_text()
    agent = called.split("(")[1].rstrip(")")
    assert "E" in page.locator(f"tr[data-agent={agent}] td").nth(2).inner_text()


def test_an_edit_into_a_rule_break_shows_the_violation(page: Any) -> None:
    page.goto("/week")
    page.locator("tr[data-agent=A1] td").nth(6).locator("a").click()  # Sunday, a day off
    assert "Sun, Dec 13, 2026" in page.locator("h1").inner_text()
    assert page.locator("#violation-count").inner_text() == "No hard rule is broken."
    page.check("input[name=mode][value=work]")
    violations = page.locator("table#violations")
    assert "max days per week" in violations.inner_text()
    assert violations.locator("tr.new").count() >= 1
    delta = page.locator("#kpi-delta tr.changed")
    assert delta.count() >= 1 and "Paid hours of A1" in page.locator("#kpi-delta").inner_text()
    page.select_option("select[name=start]", "08:00")  # still a sixth day: still refused
    assert "max days per week" in page.locator("table#violations").inner_text()
    page.fill("input[name=author]", "ana")
    page.fill("input[name=note]", "sixth day")
    page.get_by_role("button", name="Publish as a new version").click()
    assert "nothing was published" in page.locator("#error").inner_text()


def test_the_week_in_spanish(browser: Any, server: Server) -> None:
    context = browser.new_context(locale="es-ES", base_url=server.url)
    try:
        p = context.new_page()
        p.goto("/week")
        assert p.locator("html").get_attribute("lang") == "es"
        assert p.locator("h1").inner_text() == "Semana del lun, 7 dic"
        head = p.locator("table#grid thead").inner_text()
        assert "lun, 7 dic" in head and "dom, 13 dic" in head
        cards = p.locator("#cards").inner_text()
        assert "Nivel de servicio prometido (voz y chat, semana)" in cards
        assert "Horas pagadas" in cards
        assert "285,0" in cards  # 38 shifts of 7.5 paid hours, with a decimal comma
        assert "vacaciones" in p.locator("tr[data-agent=A5]").inner_text()
        assert (
            "Semana" in p.locator("nav").inner_text()
            and "Aviso de baja" in p.locator("nav").inner_text()
        )
    finally:
        context.close()


def _visible_text(pdf: bytes) -> tuple[list[str], list[tuple[float, float]]]:
    """Text runs drawn inside their page's box, and each page's (width, height) [pt]."""
    import io

    from pypdf import PdfReader

    runs: list[str] = []
    sizes = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        box = page.mediabox
        width, height = float(box.width), float(box.height)
        sizes.append((width, height))

        def visit(text: str, cm: list, tm: list, _f: object, _s: object, w=width, h=height) -> None:
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            if text.strip() and 0 <= x <= w and 0 <= y <= h:
                runs.append(text.strip())

        page.extract_text(visitor_text=visit)
    return runs, sizes


def test_the_week_prints_every_agent_and_day(browser: Any, tmp_path: Path) -> None:
    """152 agents printed on A4 and on Letter landscape: every agent's row on some page, with
    every day's column inside the page (a cut-off column or a scroll box would lose some).
    """
    scen = kit.published(tmp_path / "big", copies=19)
    server = start_server(scen)
    context = browser.new_context(locale="en-US", base_url=server.url)
    try:
        p = context.new_page()
        p.goto("/week")
        for paper in ("A4", "Letter"):
            runs, sizes = _visible_text(p.pdf(format=paper, landscape=True))
            assert len(sizes) > 2 and all(w > h for w, h in sizes), paper  # landscape pages
            text = " ".join(runs)
            missing = [a for a in kit.agent_ids(19) if f"{a} ·" not in text]
            assert missing == [], (paper, missing[:5])
            days = ("Mon, Dec 7", "Wed, Dec 9", "Fri, Dec 11", "Sat, Dec 12", "Sun, Dec 13")
            for day in days:
                assert text.count(day) >= len(sizes) - 2, (paper, day)  # headers repeat
            assert text.count("Paid h") >= 2  # the header row on every page of the grid
            assert "Sick call" not in text  # the navigation is not printed
    finally:
        context.close()
        stop_server(server)


def test_compare_what_if_scenarios(browser: Any, tmp_path: Path) -> None:
    """The Compare page runs the served scenario and its neighbour as ``staffplan compare``
    does, follows the run, and shows the table and both charts; the versions tab stays.
    """
    from tests.web.test_whatif import what_if

    server = start_server(what_if(tmp_path / "what"), "--compare-out", str(tmp_path / "out"))
    context = browser.new_context(locale="en-US", base_url=server.url)
    try:
        p = context.new_page()
        p.set_default_timeout(300_000)
        p.goto("/compare")
        assert "What-if scenarios" in p.locator("#compare-tabs").inner_text()
        p.check("input[name=s][value='1']")
        p.get_by_role("button", name="Run the comparison").click()
        table = p.locator("table#compare")  # the page follows the job, then shows its table
        head = table.locator("thead").inner_text()
        assert "base" in head and "busy" in head and "Δ busy" in head
        assert "required FTE" in table.inner_text()
        assert p.locator("img[src^='data:image/png']").count() == 2
        assert (tmp_path / "out" / "busy" / "summary.json").exists()
        p.get_by_role("link", name="Published versions").click()
        assert "No published roster yet" in p.locator("main").inner_text()
    finally:
        context.close()
        stop_server(server)
