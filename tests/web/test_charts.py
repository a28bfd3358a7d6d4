"""Week charts: step paths, gaps, scales."""

from __future__ import annotations

import math

from staffplan.web.charts import BOTTOM, LEFT, RIGHT, TOP, WIDTH, nice_max, week_chart


def test_nice_max() -> None:
    assert [nice_max(v) for v in ([0.2], [1], [3], [7], [10], [11], [240], [])] == [
        1.0,
        1.0,
        5.0,
        10.0,
        10.0,
        20.0,
        500.0,
        1.0,
    ]
    assert nice_max([math.nan, 4]) == 5.0


def test_steps_hold_each_value_over_its_interval_and_leave_gaps() -> None:
    height = 100
    c = week_chart([("a", "x", [0, 2, math.nan, 4])], [(0, "Mon")], height=height, ymax=4)
    dx = (WIDTH - LEFT - RIGHT) / 4
    plot = height - TOP - BOTTOM

    def y(v: float) -> str:
        return f"{TOP + (1 - v / 4) * plot:.1f}".rstrip("0").rstrip(".")

    def x(i: int) -> str:
        return f"{LEFT + i * dx:.1f}".rstrip("0").rstrip(".")

    expected = f"M{x(0)} {y(0)}H{x(1)}V{y(2)}H{x(2)}M{x(3)} {y(4)}H{x(4)}"
    assert c.lines[0].d == expected
    assert c.yticks == ((float(y(0)), "0"), (float(y(2)), "2"), (float(y(4)), "4"))
    assert c.days == ((float(x(0)), "Mon"),)


def test_default_ticks_are_whole_numbers() -> None:
    one = week_chart([("a", "x", [0, 1, 1])], [], height=100)
    assert [label for _, label in one.yticks] == ["0", "1"]
    ten = week_chart([("a", "x", [0, 7])], [], height=100)
    assert [label for _, label in ten.yticks] == ["0", "5", "10"]
