"""A planning sweep on the local process pool and on Ray: wall time, and the same frontier.

Runs ``staffplan sweep`` twice with the same grid and options, first on the
local backend, then on Ray (``--address`` of a running cluster, or a Ray
instance started on this machine), each with ``--rerun`` so every point is
solved. Prints the wall time of each backend, the points per minute, whether
every point's roster.csv and the whole sweep.csv are byte-identical between
the two (expected in ``--deterministic`` mode), and the sweep table of the
first run: cost, service level, Pareto-optimal points and the cheapest point
meeting every target. ``--chart PATH`` copies the frontier PNG there;
``--backends local`` runs one backend only.

Run (the RESULTS.md numbers): ``python benchmarks/sweep_backends.py --chart
benchmarks/sweep_frontier.png`` (24 points of ``scenarios/hiring``: hires 0..11 ×
voice 80 % / 90 %, 3 deterministic seconds per point; 20–30 minutes on 2 busy
shared cores).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def sweep(args: argparse.Namespace, out: Path, backend: str) -> tuple[float, dict]:
    """Run one sweep; (wall time [s], its --json object)."""
    cmd = [sys.executable, "-m", "staffplan", "sweep", str(args.scenario)]
    for v in args.vary:
        cmd += ["--vary", v]
    cmd += ["--time-limit", str(args.time_limit), "--workers", str(args.workers)]
    cmd += ["--out", str(out), "--json", "--rerun", "--quiet", "--backend", backend]
    if args.deterministic:
        cmd.append("--deterministic")
    if backend == "ray" and args.address:
        cmd += ["--address", args.address]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{backend} sweep failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return wall, json.loads(proc.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", type=Path, default=ROOT / "scenarios/hiring/scenario.toml")
    ap.add_argument(
        "--vary",
        action="append",
        default=None,
        help="as staffplan sweep (default: hires.count=0..11 and voice target 0.8,0.9)",
    )
    ap.add_argument("--time-limit", type=float, default=3.0, help="per point [deterministic s]")
    ap.add_argument("--workers", type=int, default=1, help="CP-SAT workers per point")
    ap.add_argument("--no-deterministic", dest="deterministic", action="store_false")
    ap.add_argument("--address", default=None, help="a running Ray cluster (default: local)")
    ap.add_argument("--out", type=Path, default=ROOT / "out" / "bench-sweep")
    ap.add_argument("--chart", type=Path, default=None, help="copy frontier.png here")
    ap.add_argument(
        "--backends",
        default="local,ray",
        help="comma-separated backends to run, in order (the comparison needs both)",
    )
    args = ap.parse_args()
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    args.vary = args.vary or ["hires.count=0..11", "queues.voice.service_level=0.8,0.9"]

    load_start = os.getloadavg()[0]
    runs = {}
    for backend in args.backends:
        runs[backend] = sweep(args, args.out / backend, backend)
    first = args.out / args.backends[0]
    table = pd.read_csv(first / "sweep.csv")
    n = len(table)
    print(
        f"machine: {os.cpu_count()} cores; 1-min load average {load_start:.1f} at the start,"
        f" {os.getloadavg()[0]:.1f} at the end"
    )
    print(
        f"sweep: {n} points, --time-limit {args.time_limit:g} --workers {args.workers}"
        f"{' --deterministic' if args.deterministic else ''}\n"
    )
    print("| backend | wall [s] | points / min | retried points |")
    print("|---|---|---|---|")
    for backend, (wall, doc) in runs.items():
        retried = sum(p["attempts"] > 1 for p in doc["points"])
        print(f"| {backend} | {wall:.0f} | {n / wall * 60:.1f} | {retried} |")
    if {"local", "ray"} <= set(runs):
        local, ray = args.out / "local", args.out / "ray"
        same_rosters = sum(
            (local / f / "roster.csv").read_bytes() == (ray / f / "roster.csv").read_bytes()
            for f in table["folder"]
        )
        same_csv = (local / "sweep.csv").read_bytes() == (ray / "sweep.csv").read_bytes()
        print(f"\nroster.csv identical on both backends: {same_rosters} of {n} points")
        print(f"sweep.csv identical: {same_csv}")
    print()
    keys = [a["key"] for a in runs[args.backends[0]][1]["axes"]]
    cols = [*keys, "paid_hours", "cost", "service_level"]
    cols += [c for c in table.columns if c.startswith("service_level_")]
    cols += ["gap", "meets_targets", "pareto", "cheapest"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for rec in table[cols].to_dict("records"):
        cells = []
        for c in cols:
            v = rec[c]
            if isinstance(v, float) and c.startswith(("service_level", "gap")):
                cells.append(f"{v:.1%}" if v == v else "–")
            elif isinstance(v, float) and c in ("cost", "paid_hours"):
                cells.append(f"{v:,.0f}")
            else:
                cells.append(str(v))
        print("| " + " | ".join(cells) + " |")
    if args.chart is not None:
        shutil.copyfile(first / "frontier.png", args.chart)
        print(f"\nchart: {args.chart}")


if __name__ == "__main__":
    main()
