"""Forecast accuracy and run time: backtests on example and real data, and a 50-queue timing run.

Prints Markdown tables (copied into benchmarks/RESULTS.md, section "Forecast"):

1. Rolling-origin backtest (horizon one week) on the example history
   (scenarios/example, 20 weeks, 15-min) for every method and queue.
2. The same on real data: the bank call-center series (weekdays only, six
   missing days) from ../shared/data/calls (or the copy in tests/data/calls),
   at 15 and 30 minutes.
3. Run time for two years of 15-minute history for 50 queues: reading the CSV,
   a one-week forecast per method, and ``auto`` (which backtests every method).

MASE < 1 and rel_mae < 1 (MAE relative to seasonal naive on the same points)
are the bar for a method to be worth offering.

Usage: python benchmarks/forecast_accuracy.py [--queues 50] [--years 2] [--backtest-weeks 8]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from staffplan.forecast import backtest, forecast_grid
from staffplan.io.history import History, read_history
from staffplan.timegrid import TimeGrid

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "calls"
LOCAL = ROOT / "tests" / "data" / "calls"


def table(frame: pd.DataFrame, title: str) -> str:
    f = frame.copy()
    for c in ("wape", "mase", "rel_mae", "bias"):
        f[c] = f[c].map(lambda v: f"{v:.3f}" if pd.notna(v) else "-")
    head = "| " + " | ".join(f.columns) + " |"
    sep = "|" + "---|" * len(f.columns)
    rows = ["| " + " | ".join(str(v) for v in r) + " |" for r in f.itertuples(index=False)]
    return f"\n**{title}**\n\n" + "\n".join([head, sep, *rows])


def synthetic(queues: int, years: int, seed: int = 0) -> pd.DataFrame:
    """Per-interval history: weekday × intraday shape × queue size, trend, Poisson noise
    (Europe/Madrid).
    """
    rng = np.random.default_rng(seed)
    start = dt.date(2025, 1, 6)
    grid = TimeGrid(start, 364 * years, 15, "Europe/Madrid")
    hours = grid.minute_of_day / 60 + 0.125
    shape = (
        0.05
        + np.exp(-0.5 * ((hours - 10.5) / 1.8) ** 2)
        + 0.7 * np.exp(-0.5 * ((hours - 16) / 2.2) ** 2)
    )
    wd_factor = np.array([1.25, 1.1, 1.0, 1.0, 1.05, 0.55, 0.25])[grid.weekday]
    trend = 1 + 0.1 * grid.day_index / 364
    frames = []
    stamps = pd.Series(grid.starts).map(lambda t: t.isoformat())
    for q in range(queues):
        size = rng.uniform(2, 60)
        lam = size * shape * wd_factor * trend
        offered = rng.poisson(lam)
        aht = np.round(rng.normal(300, 20, len(lam)).clip(60), 1)
        frames.append(
            pd.DataFrame(
                {
                    "interval_start": stamps,
                    "queue": f"q{q:02d}",
                    "offered": offered,
                    "handled": offered,
                    "aht_seconds": aht,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def timed(fn: Callable[..., T], *args: Any, **kw: Any) -> tuple[T, float]:
    """Call ``fn`` and return its result and the wall time [s]."""
    t = time.perf_counter()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t


def timing(queues: int, years: int, backtest_weeks: int) -> str:
    lines = [
        f"\n**Run time: {years} years of 15-minute history, {queues} queues** (2 shared cores)\n",
        "| step | seconds |",
        "|---|---|",
    ]
    frame, t_gen = timed(synthetic, queues, years)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "history.csv"
        frame.to_csv(path, index=False)
        size_mb = path.stat().st_size / 1e6
        hist, t_read = timed(read_history, path, timezone="Europe/Madrid", interval_min=15)
    lines.append(f"| read_history ({len(frame):,} rows, {size_mb:.0f} MB CSV) | {t_read:.1f} |")
    grid = TimeGrid(hist.last_date + dt.timedelta(days=1), 7, 15, "Europe/Madrid")
    for method in ("seasonal_naive", "weekly_profile", "exp_smoothing", "auto"):
        _, t = timed(forecast_grid, hist, grid, method=method, backtest_weeks=backtest_weeks)
        label = f"forecast one week, {method}" + (
            f" (backtest {backtest_weeks} weeks × 3 methods)" if method == "auto" else ""
        )
        lines.append(f"| {label} | {t:.1f} |")
    _ = t_gen
    return "\n".join(lines)


def bank(interval: int, weeks: int) -> tuple[History, pd.DataFrame]:
    five = (SHARED if SHARED.exists() else LOCAL) / "bank_calls_5min.csv"
    src = (
        five
        if five.exists() and interval < 30
        else (SHARED if SHARED.exists() else LOCAL) / "bank_calls_30min.csv"
    )
    h = read_history(src, timezone="America/New_York", interval_min=interval)
    return h, backtest(h, weeks=weeks)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queues", type=int, default=50, help="queues in the timing run")
    ap.add_argument("--years", type=int, default=2, help="years of history in the timing run")
    ap.add_argument("--backtest-weeks", type=int, default=8, help="rolling-origin folds [weeks]")
    args = ap.parse_args()

    ex = read_history(
        ROOT / "scenarios/example/data/history.csv", timezone="Europe/Madrid", interval_min=15
    )
    print(
        table(
            backtest(ex, weeks=args.backtest_weeks),
            f"Example history (20 weeks, 15 min), backtest {args.backtest_weeks} weeks",
        )
    )
    for interval in (15, 30):
        h, bt = bank(interval, args.backtest_weeks)
        print(
            table(
                bt,
                f"Real bank calls, {interval} min ({len(h.recorded_dates)} weekdays, "
                f"{len(h.gaps)} missing), backtest {args.backtest_weeks} weeks",
            )
        )
    print(timing(args.queues, args.years, 4))


if __name__ == "__main__":
    main()
