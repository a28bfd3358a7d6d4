"""The growth curves of the scale benchmark: gap, memory and time to the first roster vs agents.

Reads the rows ``roster_scale.py --record FILE`` appended (one JSON object per engine run, with
its ``obj@T``/``bound@T`` checkpoint columns and its incumbent trajectory) and draws three panels
against the number of agents (log x): the reported gap at each checkpoint and at the end of the
run, peak resident memory beside the size estimate made before building
(``staffplan.roster.size``), and seconds to the first roster.

Run: ``python benchmarks/scale_chart.py benchmarks/scale_growth.jsonl --out
benchmarks/scale_growth.png`` (the rows of the runs in ``benchmarks/RESULTS.md``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read_rows(paths: list[Path]) -> list[dict[str, object]]:
    """Every JSON line of ``paths``, in order."""
    rows = []
    for path in paths:
        for line in path.read_text().splitlines():
            if line.strip():
                rows.append(json.loads(line))
    return rows


def limit_of(row: dict[str, object]) -> float:
    """The run's time limit [s], from its ``run`` label ("staffplan 600 s")."""
    return float(str(row["run"]).split()[1])


def series(rows: list[dict[str, object]], key: str) -> tuple[list[int], list[float]]:
    """(agents, value) of the rows that have ``key``, sorted by agents."""
    pts = sorted((int(r["agents"]), float(r[key])) for r in rows if r.get(key) is not None)
    return [a for a, _ in pts], [v for _, v in pts]


def draw(rows: list[dict[str, object]], out: Path) -> None:
    """The three panels into ``out`` (PNG)."""
    long = [r for r in rows if limit_of(r) >= 600]
    short = [r for r in rows if limit_of(r) < 600]
    fig, (gap_ax, mem_ax, first_ax) = plt.subplots(1, 3, figsize=(15, 4.6))
    checkpoints = sorted({float(k[4:]) for r in long for k in r if k.startswith("gap@")} - {600.0})
    for c in checkpoints:
        a, g = series(long, f"gap@{c:g}")
        gap_ax.plot(a, [100 * x for x in g], "o-", label=f"at {c:g} s (within one 600-s run)")
    a, g = series(long, "gap")
    gap_ax.plot(a, [100 * x for x in g], "s-", label="at the end of the 600-s run")
    a, g = series(short, "gap")
    if a:
        gap_ax.plot(a, [100 * x for x in g], "^--", label="60-s limit")
    gap_ax.axhline(5, color="grey", ls=":", label="target 5 %")
    gap_ax.set_yscale("symlog", linthresh=0.1)
    gap_ax.set_ylim(0, 150)
    gap_ax.set(
        ylabel="reported gap [%] (100 % = no bound above 0)",
        title="Objective gap to the engine's bound",
    )
    a, m = series(long, "peak_mb")
    mem_ax.plot(a, m, "o-", label="peak RSS (600-s run)")
    a, e = series(long, "est_mb")
    mem_ax.plot(a, e, "s--", label="estimated before building (constants of the run)")
    mem_ax.set(ylabel="memory [MB]", title="Peak memory, 2 workers")
    a, f = series(long, "first_feasible_s")
    first_ax.plot(a, f, "o-", label="600-s limit")
    a, f = series(short, "first_feasible_s")
    if a:
        first_ax.plot(a, f, "^--", label="60-s limit")
    first_ax.set(ylabel="time to the first roster [s]", title="First roster")
    for ax in (gap_ax, mem_ax, first_ax):
        ax.set_xscale("log")
        agents = sorted({int(r["agents"]) for r in rows})
        ax.set_xticks(agents, [str(n) for n in agents])
        ax.minorticks_off()
        ax.set_xlabel("agents (log scale)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("roster_scale.py: the 150-agent week scaled, 2 workers", fontsize=11)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rows", type=Path, nargs="+", help="JSON-lines files of roster_scale.py")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/scale_growth.png"))
    args = ap.parse_args()
    draw(read_rows(args.rows), args.out)
    print(args.out)


if __name__ == "__main__":
    main()
