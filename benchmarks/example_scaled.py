"""The bundled example scaled up: ``staffplan roster`` on a centre ``--factor`` times as big.

The scenario extends ``scenarios/example`` with ``volume_multiplier = F`` (F times the contacts
of its history) and ``[[hires]]`` that repeat every (team, contract, skills) group of its 59
agents F − 1 more times (at the group's mean hourly cost), so the team and the demand keep their
shape: F = 10 gives 590 agents. The roster is solved by the command line exactly as a user runs
it, in its own process; the row gives the exit code, status, objective, bound, gap, time to the
first roster, wall time, the peak resident memory of that process and the machine's 1-minute
load average when it started.

Run: ``python benchmarks/example_scaled.py --factor 10 --time-limit 120`` (``--keep DIR`` keeps
the scenario and the outputs).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "scenarios" / "example" / "scenario.toml"


def scaled_scenario(folder: Path, factor: int) -> Path:
    """A scenario in ``folder`` extending the example, ``factor`` times its team and volume."""
    agents = pd.read_csv(EXAMPLE.parent / "data" / "agents.csv", dtype={"hourly_cost": float})
    lines = [
        'root = "/"  # a throw-away folder extending the repository\'s example',
        f'extends = "{EXAMPLE.as_posix()}"',
        f'name = "example-x{factor}"',
        f"volume_multiplier = {factor}",
    ]
    groups = agents.groupby(["team", "contract", "skills"], sort=True)
    for i, ((team, contract, skills), g) in enumerate(groups):
        lines += [
            "",
            "[[hires]]",
            f"count = {len(g) * (factor - 1)}",
            f'prefix = "X{i:02d}"',
            f'team = "{team}"',
            f'contract = "{contract}"',
            f'skills = "{skills}"',
            f"hourly_cost = {g['hourly_cost'].mean():.2f}",
        ]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "scenario.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--factor", type=int, default=10, help="team and volume multiple")
    ap.add_argument("--time-limit", type=float, default=120.0, help="roster time limit [s]")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--deterministic", action="store_true")
    ap.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="write the scenario and the run's outputs into this folder (default: a temporary "
        "one, removed), e.g. to compare two runs' bytes",
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        sc = scaled_scenario(work / "sc", args.factor)
        cmd = [
            sys.executable,
            "-m",
            "staffplan",
            "roster",
            str(sc),
            "--time-limit",
            f"{args.time_limit:g}",
            "--workers",
            str(args.workers),
            "--json",
            "--quiet",
            "--out",
            str(work / "out"),
            *(["--deterministic"] if args.deterministic else []),
        ]
        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    doc = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.returncode == 0 else {}
    err = (proc.stderr.strip().splitlines() or [""])[-1][:200]
    cols = ["factor", "exit", "status", "objective", "bound", "gap", "first roster [s]"]
    cols += ["wall [s]", "peak RSS [MB]", "load", "message"]
    row = [
        args.factor,
        proc.returncode,
        doc.get("status", "—"),
        doc.get("objective", "—"),
        doc.get("bound", "—"),
        doc.get("gap", "—"),
        doc.get("first_solution_seconds", "—"),
        f"{wall:.1f}",
        f"{peak:.0f}",
        f"{load:.1f}",
        "" if proc.returncode == 0 else err,
    ]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    print("| " + " | ".join(str(x) for x in row) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
