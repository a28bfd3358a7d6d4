"""The cost–service frontier of a sweep as a PNG (matplotlib, Agg; no wall-clock content)."""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from staffplan.report.html import PALETTE  # noqa: E402


def _series(table: pd.DataFrame, keys: Sequence[str]) -> list[tuple[str, pd.DataFrame]]:
    """One line per combination of every axis but the first, its points in the first's order."""
    if len(keys) < 2:
        return [(keys[0] if keys else "points", table)]
    rest = list(keys[1:])
    out = []
    for values, g in table.groupby(rest, sort=False):
        vals = values if isinstance(values, tuple) else (values,)
        out.append((", ".join(f"{k}={v}" for k, v in zip(rest, vals, strict=True)), g))
    return out


def frontier_png(
    table: pd.DataFrame, keys: Sequence[str], cost: str = "cost", service: str = "service_level"
) -> bytes:
    """Service level [fraction] against cost [currency] of every point of a sweep table
    (:func:`staffplan.sweep.sweep_table`): a line per combination of the later axes, labelled
    with the first axis's values; Pareto-optimal points ringed, the cheapest point meeting every
    target starred.
    """
    fig, ax = plt.subplots(figsize=(9, 5.5))
    data = table.assign(
        _x=pd.to_numeric(table[cost], errors="coerce"),
        _y=pd.to_numeric(table[service], errors="coerce") * 100,
    )
    ok = data[data["_x"].notna() & data["_y"].notna()]
    for i, (name, g) in enumerate(_series(ok, keys)):
        color = PALETTE[i % len(PALETTE)]
        ax.plot(g["_x"], g["_y"], "-o", color=color, ms=4, lw=1, label=name)
        if keys:
            for x, y, v in zip(g["_x"], g["_y"], g[keys[0]], strict=True):
                ax.annotate(str(v), (x, y), textcoords="offset points", xytext=(4, -10), fontsize=7)
    front = ok[ok["pareto"].astype(bool)].sort_values("_x")
    if len(front):
        ax.step(front["_x"], front["_y"], where="post", color="0.3", lw=0.8, ls=":")
        ax.scatter(
            front["_x"],
            front["_y"],
            s=90,
            facecolors="none",
            edgecolors="black",
            lw=1.2,
            label="Pareto-optimal",
            zorder=3,
        )
    best = ok[ok["cheapest"].astype(bool)]
    if len(best):
        b = best.iloc[0]
        ax.scatter(
            [b["_x"]],
            [b["_y"]],
            marker="*",
            s=260,
            color=PALETTE[3],
            zorder=4,
            label="cheapest meeting every target",
        )
    ax.set_xlabel(f"{cost} [currency per planned period]")
    ax.set_ylabel(f"{service} (voice+chat, week) [%]")
    title = keys[0] if keys else "points"
    ax.set_title(f"Cost–service frontier (labels: {title})", fontsize=11, loc="left")
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:  # nothing to list when every point failed
        ax.legend(loc="lower right", fontsize=8)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()
