"""The printed report: Chromium's PDF of report.html shows every agent and every day.

Real headless Chromium (Debian's ``chromium``, driven by Playwright) prints
the example's report.html; pypdf reads the text back with its position on
the page, so a row hidden in a scroll box or a column cut off at the page's
edge is missing from the check.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from staffplan.cli import cli
from staffplan.i18n import ENGLISH

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "scenarios" / "example" / "scenario.toml"


@pytest.fixture(scope="module")
def example_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("print") / "example"
    result = CliRunner().invoke(  # deterministic time: the same roster under any load
        cli,
        ["run", str(EXAMPLE), "--out", str(out), "--time-limit", "1", "--deterministic", "--quiet"],
    )
    assert result.exit_code == 0, result.output
    return out


def print_to_pdf(browser: object, html: Path, pdf: Path) -> Path:
    page = browser.new_page()  # type: ignore[attr-defined]
    try:
        page.goto(html.resolve().as_uri())
        page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
    finally:
        page.close()
    return pdf


def _page_text(number: int, page: object) -> list[tuple[int, str]]:
    box = page.mediabox  # type: ignore[attr-defined]
    width, height = float(box.width), float(box.height)
    out: list[tuple[int, str]] = []

    def visit(text: str, cm: list, tm: list, _font: object, _size: object) -> None:
        if not text.strip():
            return
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        if 0 <= x <= width and 0 <= y <= height:
            out.append((number, text.strip()))

    page.extract_text(visitor_text=visit)  # type: ignore[attr-defined]
    return out


def visible_text(pdf: Path) -> list[tuple[int, str]]:
    """(page, text) of every text run drawn inside its page's box."""
    from pypdf import PdfReader

    return [run for n, page in enumerate(PdfReader(pdf).pages) for run in _page_text(n, page)]


def test_printed_report_shows_every_agent_and_every_day(
    browser: object, example_report: Path, tmp_path: Path
) -> None:
    pdf = print_to_pdf(browser, example_report / "report.html", tmp_path / "report.pdf")
    runs = visible_text(pdf)
    text = "\n".join(t for _, t in runs)
    agents = pd.read_csv(example_report / "agents.csv")["agent_id"].tolist()
    assert len(agents) > 40  # more rows than the old 640 px scroll box ever printed (31)
    missing = [a for a in agents if f"({a})" not in text]
    assert not missing, f"agents not printed: {missing}"
    days = [dt.date(2026, 12, 7) + dt.timedelta(days=d) for d in range(7)]
    for d in days:
        assert ENGLISH.day(d) in text, f"day {d} not printed"  # "Mon, Dec 7" (Babel)
    grid_pages = {p for p, t in runs if t.startswith(ENGLISH.day(days[-1]))}
    assert grid_pages  # the weekend column is on the page, not cut at its edge
    roster = pd.read_csv(example_report / "roster.csv")
    sunday = roster[roster["date"] == days[-1].isoformat()]
    assert len(sunday) > 0
    starts = {pd.Timestamp(s).strftime("%H:%M") for s in sunday["start"]}
    assert any(s in text for s in starts)  # Sunday's shifts are printed too
