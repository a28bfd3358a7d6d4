"""The sweep's frontier chart and page: deterministic bytes, marks, failed points shown."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from tests.html_tags import Tags

from staffplan.report.frontier import frontier_png
from staffplan.report.html import render_sweep

KEYS = ["hires.count", "queues.voice.service_level"]


def _table(failed: bool = False) -> pd.DataFrame:
    t = pd.DataFrame(
        {
            "point": [0, 1, 2, 3],
            "hires.count": [0, 0, 2, 2],
            "queues.voice.service_level": [0.8, 0.9, 0.8, 0.9],
            "status": ["FEASIBLE"] * 4,
            "cost": [100.0, 101.0, 120.0, np.nan],
            "service_level": [0.80, 0.79, 0.90, np.nan],
            "meets_targets": [False, False, True, False],
            "pareto": [True, False, True, False],
            "cheapest": [False, False, True, False],
            "folder": [f"points/p{i}" for i in range(4)],
            "error": [None, None, None, "RuntimeError: lost twice"],
        }
    )
    if failed:
        t["cost"] = np.nan
        t["service_level"] = np.nan
        t[["pareto", "cheapest", "meets_targets"]] = False
        t["error"] = "RuntimeError: lost twice"
    return t


def test_the_chart_is_a_png_with_the_same_bytes_each_time() -> None:
    a = frontier_png(_table(), KEYS)
    assert a[:8] == b"\x89PNG\r\n\x1a\n" and a == frontier_png(_table(), KEYS)
    assert a != frontier_png(_table().assign(cheapest=False), KEYS)  # the star is drawn


def test_a_sweep_where_every_point_failed_still_draws() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        png = frontier_png(_table(failed=True), KEYS)
    assert png[:4] == b"\x89PNG"


def test_the_page_links_each_run_and_shows_failures() -> None:
    page = render_sweep(_table(), KEYS, frontier_png(_table(), KEYS), "sweep", "4 points")
    tags = Tags()
    tags.feed(page)
    assert [a["href"] for t, a in tags.tags if t == "a"] == [
        f"points/p{i}/report.html" for i in range(3)
    ]
    text = " ".join(tags.text)
    assert "RuntimeError: lost twice" in text
    assert "hires.count=2, queues.voice.service_level=0.8" in text  # the cheapest, in a card
    assert not [a for t, a in tags.tags if t in ("script", "link")]
