"""Week charts as inline SVG geometry: one value per grid interval, drawn as steps or lines over
a fixed canvas, with day boundaries and a few y ticks. Pure functions: numbers in, path data
out; the page template draws them (no image files, nothing to download, prints sharply).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

WIDTH = 1000
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 8, 18


@dataclass(frozen=True)
class Line:
    """One drawn series: SVG path data and its CSS class."""

    d: str
    css: str
    label: str


@dataclass(frozen=True)
class Chart:
    """A chart's canvas [px], its series, day boundaries (x, label) and y ticks (y, label)."""

    width: int
    height: int
    lines: tuple[Line, ...]
    days: tuple[tuple[float, str], ...]
    yticks: tuple[tuple[float, str], ...]
    label: str


def _fmt(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def nice_max(values: Sequence[float]) -> float:
    """The smallest 1, 2 or 5 × 10^k at or above the largest finite value (at least 1)."""
    finite = [v for v in values if math.isfinite(v)]
    top = max(finite, default=1.0)
    if top <= 1:
        return 1.0
    k = 10 ** math.floor(math.log10(top))
    for m in (1, 2, 5, 10):
        if m * k >= top:
            return float(m * k)
    return float(10 * k)


class _Canvas:
    def __init__(self, n: int, height: int, ymax: float) -> None:
        self.n, self.height, self.ymax = max(n, 1), height, ymax
        self.dx = (WIDTH - LEFT - RIGHT) / self.n

    def x(self, i: float) -> float:
        return LEFT + i * self.dx

    def y(self, v: float) -> float:
        v = min(max(v, 0.0), self.ymax)
        return TOP + (1.0 - v / self.ymax) * (self.height - TOP - BOTTOM)


def step_path(values: Sequence[float], canvas: _Canvas) -> str:
    """A step line: each value held over its interval; gaps where a value is not finite."""
    parts: list[str] = []
    pen = False
    for i, v in enumerate(values):
        if not math.isfinite(v):
            pen = False
            continue
        y = _fmt(canvas.y(v))
        if not pen:
            parts.append(f"M{_fmt(canvas.x(i))} {y}")
            pen = True
        else:
            parts.append(f"V{y}")
        parts.append(f"H{_fmt(canvas.x(i + 1))}")
    return "".join(parts)


def week_chart(
    series: Sequence[tuple[str, str, Sequence[float]]],
    day_starts: Sequence[tuple[int, str]],
    *,
    height: int,
    ymax: float | None = None,
    ticks: Sequence[float] | None = None,
    tick_label: Callable[[float], str] = _fmt,
    label: str = "",
) -> Chart:
    """A chart of ``series`` (label, css class, one value per interval) as step lines.

    ``day_starts``: (interval index, label) of each day; ``ymax`` defaults to :func:`nice_max`
    of the data; ``ticks`` default to 0, half (when a whole number) and the top.
    """
    n = max((len(v) for _, _, v in series), default=1)
    top = ymax if ymax is not None else nice_max([x for _, _, v in series for x in v])
    canvas = _Canvas(n, height, top)
    lines = tuple(Line(step_path(v, canvas), css, name) for name, css, v in series)
    days = tuple((round(canvas.x(i), 1), text) for i, text in day_starts)
    marks = ticks if ticks is not None else tuple(x for x in (0.0, top / 2, top) if x == int(x))
    yticks = tuple((round(canvas.y(t), 1), tick_label(t)) for t in marks)
    return Chart(WIDTH, height, lines, days, yticks, label)
