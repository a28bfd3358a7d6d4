"""The tiled-instance generator (benchmarks/curtois_tiled.py) keeps the format and scales what it
says it scales.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.curtois_tiled import tile

from staffplan.importers.curtois import parse_text

DATA = Path(__file__).resolve().parents[1] / "data" / "curtois"


def test_tiling_once_is_the_same_instance() -> None:
    text = (DATA / "Instance1.txt").read_text()
    a, b = (
        parse_text(text, DATA / "Instance1.txt"),
        parse_text(tile(text, 1, 1), DATA / "Instance1.txt"),
    )
    assert (
        a.horizon_days,
        a.shifts,
        a.staff,
        a.days_off,
        a.on_requests,
        a.off_requests,
        a.cover,
    ) == (b.horizon_days, b.shifts, b.staff, b.days_off, b.on_requests, b.off_requests, b.cover)


def test_tiling_scales_horizon_staff_limits_and_cover() -> None:
    text = (DATA / "Instance8.txt").read_text()
    a, b = (
        parse_text(text, DATA / "Instance8.txt"),
        parse_text(tile(text, 3, 2), DATA / "Instance8.txt"),
    )
    assert b.horizon_days == 3 * a.horizon_days and len(b.staff) == 2 * len(a.staff)
    first, copy = b.staff[0], next(s for s in b.staff if s.id == b.staff[0].id + "1")
    assert first.max_total_min == copy.max_total_min == 3 * a.staff[0].max_total_min
    assert first.max_shifts == tuple((t, 3 * n) for t, n in a.staff[0].max_shifts)
    assert len(b.on_requests) == 6 * len(a.on_requests) and len(b.cover) == 3 * len(a.cover)
    assert sum(c.requirement for c in b.cover) == 6 * sum(c.requirement for c in a.cover)
