"""Promised KPIs against simulation, for every bundled scenario.

For each scenario: ``staffplan run`` (forecast, requirements, roster with the
scenario's time limit, promised KPIs), then two simulations of the roster with
agents lost to residual shrinkage per interval:

* **simulate** — ``staffplan simulate``'s own path (every agent of roster.csv,
  each serving the queue the roster allocates it to per interval, the
  allocation's queue also deciding its losses), and the same with
  ``routing="pooled"`` (multi-skilled agents also serve their other queues);
* **coverage** — an independent route from ``coverage.csv`` alone: per queue,
  a pool of single-skilled agents with ``scheduled`` of them on the phones in
  each interval, ``stayed`` of whom (chosen at random) were on in the
  interval before while the others join from agents who were off, each lost
  with the queue's ``r`` per interval (``residual_shrinkage`` in
  summary.json).

Prints, per scenario and real-time queue: the promised week service level,
the simulated ones with their 95 % half-widths and the differences, the
promised and simulated (allocated) ASA, occupancy (promised vs simulated, of
the available agents) and paid vs required paid hours; then the table
``staffplan compare`` shows for the same runs.

Run: ``python benchmarks/promise_vs_simulation.py [--time-limit 30] [--replications 10]
[--deterministic]``.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from staffplan.evaluate.sim_inputs import forecast_arrays, queue_settings
from staffplan.evaluate.sim_scenario import simulate_scenario
from staffplan.evaluate.simulate import simulate_week
from staffplan.io.roster_csv import roster_as_text
from staffplan.pipeline import COMPARE_METRICS, compare_table, run, write_outputs
from staffplan.scenario import load

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ("example", "flu-week", "peak-season", "peak-with-hires", "tight-target")


def pool_on(scheduled: np.ndarray, stayed: np.ndarray, seed: int = 3) -> np.ndarray:
    """On-phone matrix (pool agents × intervals) with ``scheduled`` agents per interval, of whom
    ``stayed`` were on in the interval before (which ones: at random); the others join from
    agents who were off."""
    rng = np.random.default_rng(seed)
    pool = int(scheduled.sum()) + 1
    on = np.zeros((pool, scheduled.size), dtype=bool)
    now: list[int] = []
    for t, (n, k) in enumerate(zip(scheduled, stayed, strict=True)):
        k = min(int(k), len(now), int(n))
        keep = sorted(rng.choice(now, size=k, replace=False).tolist()) if k else []
        free = [a for a in range(pool) if a not in set(now)]
        now = keep + free[: int(n) - k]
        on[now, t] = True
    return on[on.any(axis=1)]


def coverage_simulation(
    scenario: object, coverage: pd.DataFrame, forecast: pd.DataFrame, residual: dict, reps: int
) -> pd.DataFrame:
    """Week KPIs per queue of single-skill pools with coverage.csv's ``scheduled`` heads."""
    grid = scenario.grid  # type: ignore[attr-defined]
    rows = []
    for q in scenario.queues:  # type: ignore[attr-defined]
        if q.channel in ("email", "backoffice"):
            continue
        cells = (
            coverage[coverage["queue"] == q.name]
            .set_index("interval_start")[["scheduled", "stayed"]]
            .reindex([t.isoformat() for t in grid.starts], fill_value=0)
        )
        on = pool_on(cells["scheduled"].to_numpy(np.int64), cells["stayed"].to_numpy(np.int64))
        arrivals, aht = forecast_arrays(forecast, grid, [q.name])
        res = simulate_week(
            arrivals,
            aht,
            grid.interval_min,
            on,
            np.ones((on.shape[0], 1), dtype=np.int64),
            [queue_settings(q)],
            replications=reps,
            seed=7,
            workers=2,
            loss=np.full(on.shape, float(residual[q.name])),
        )
        rows.append(res.week.iloc[0].rename(q.name))
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--time-limit", type=float, default=None, help="roster limit [s]")
    ap.add_argument("--replications", type=int, default=10)
    ap.add_argument(
        "--deterministic", action="store_true", help="rosters independent of the machine's load"
    )
    ap.add_argument("--out", type=Path, default=ROOT / "out" / "promise")
    ap.add_argument("scenarios", nargs="*", default=list(SCENARIOS))
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f} (2 cores)")
    lines = [
        "| scenario | queue | promised SL | simulate SL (±95 %) | diff | pooled SL (±95 %) | diff "
        "| coverage SL (±95 %) | diff | promised / simulated ASA [s] | promised / simulated occ. "
        "| paid / required h |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    summaries = []
    for name in args.scenarios:
        t0 = time.perf_counter()
        sc = load(ROOT / "scenarios" / name / "scenario.toml")
        result = run(sc, time_limit_s=args.time_limit, deterministic=args.deterministic)
        folder = args.out / name
        write_outputs(result, folder)
        sm = result.summary
        summaries.append(sm)
        roster = roster_as_text(result.outcome.roster.roster)
        sim = simulate_scenario(
            sc, roster, forecast=result.forecast, replications=args.replications, workers=2
        )
        pooled = simulate_scenario(
            sc,
            roster,
            forecast=result.forecast,
            replications=args.replications,
            workers=2,
            routing="pooled",
        )
        sw = sim.week.set_index("queue")
        pw = pooled.week.set_index("queue")
        cov = coverage_simulation(
            sc,
            pd.read_csv(folder / "coverage.csv"),
            result.forecast,
            sm["residual_shrinkage"],
            args.replications,
        )
        for q, v in sm["queues"].items():
            s, p, c = sw.loc[q], pw.loc[q], cov.loc[q]
            cells = [
                f"{v['service_level']:.3f}",
                *(
                    f"{x['service_level']:.3f} (±{x['service_level_ci']:.3f}) "
                    f"| {x['service_level'] - v['service_level']:+.3f}"
                    for x in (s, p, c)
                ),
                f"{v['asa_seconds']:.1f} / {s['asa_s']:.1f}",
                f"{v['occupancy']:.3f} / {s['occupancy']:.3f}",
                f"{sm['paid_hours']:,.0f} / {sm['required_paid_hours']:,.0f}",
            ]
            lines.append(f"| {name} | {q} | " + " | ".join(cells) + " |")
            print(lines[-1], flush=True)
        print(
            f"{name}: {time.perf_counter() - t0:.0f} s, status {sm['status']}, gap "
            f"{'unknown' if sm['gap'] is None else format(sm['gap'], '.1%')}, "
            f"voice+chat promised SL {sm['service_level']:.3f}, load "
            f"{os.getloadavg()[0]:.1f}",
            flush=True,
        )
    print("\n".join(lines))
    # the table `staffplan compare` prints for the same runs
    table = compare_table(summaries)
    units = {k: u for k, _, u, _ in COMPARE_METRICS}
    keys = {label: k for k, label, _, _ in COMPARE_METRICS}
    names = [str(s["scenario"]) for s in summaries]
    print("\n| metric | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for r in table.to_dict("records"):
        unit = units[keys[r["metric"]]]
        cells = [
            "–" if r[n] is None else f"{r[n]:.1%}" if unit == "fraction" else f"{r[n]:,.1f}"
            for n in names
        ]
        print(f"| {r['metric']} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
