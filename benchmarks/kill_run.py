"""``kill -9`` at random points of ``staffplan run``: the output folder never mixes two runs.

Run: ``python benchmarks/kill_run.py [--trials 20] [--seed 0]``.

Two variants of a tiny scenario (one voice queue, hourly grid) write to the
same ``--out`` folder: variant A rosters agents A1-A4, variant B agents
B1-B3, so every output file tells which run wrote it (roster.csv, agents.csv,
calendars/, summary.json, report.html, roster.xlsx). Each trial starts the
other variant than the one in the folder and sends SIGKILL after a random
delay drawn between 20 % and 105 % of an uninterrupted run's wall time (the
files are written in the last part of a run). After each kill the folder
must hold exactly one run's complete set of files; the next run must remove
whatever the killed one left beside the folder. Prints one row per trial.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.scenario_kit import tiny_scenario  # noqa: E402

VARIANTS = {
    "A": [(f"A{i}", f"Agent A{i}", "t", "C", "voice:1", "15") for i in range(1, 5)],
    "B": [(f"B{i}", f"Agent B{i}", "t", "C", "voice:1", "15") for i in range(1, 4)],
}
FILES = {
    "agents.csv",
    "calendars",
    "coverage.csv",
    "forecast.csv",
    "kpis.csv",
    "kpis_week.csv",
    "report.html",
    "requirements.csv",
    "roster.csv",
    "roster.xlsx",
    "summary.json",
}


def variant_of(folder: Path) -> str:
    """The variant every file of ``folder`` comes from, or a description of the mix."""
    if not folder.exists():
        return "absent"
    names = {p.name for p in folder.iterdir()}
    if names != FILES:
        return f"files {sorted(names ^ FILES)}"
    from openpyxl import load_workbook

    seen = {
        "summary": {
            "A" if json.loads((folder / "summary.json").read_text())["agents"] == 4 else "B"
        },
        "roster": {a[0] for a in pd.read_csv(folder / "roster.csv")["agent_id"]},
        "agents": {a[0] for a in pd.read_csv(folder / "agents.csv")["agent_id"]},
        "calendars": {p.name[0] for p in (folder / "calendars").iterdir()},
        "report": {v for v in VARIANTS if f"(Agent {v}1)" in (folder / "report.html").read_text()}
        or {v for v in VARIANTS if f"({v}1)" in (folder / "report.html").read_text()},
        "xlsx": {
            str(c.value)[0]
            for c in load_workbook(folder / "roster.xlsx")["roster"]["A"][1:]
            if c.value and str(c.value)[0] in VARIANTS
        },
    }
    union = set().union(*seen.values())
    return union.pop() if len(union) == 1 else f"mixed {seen}"


def start(scenario: Path, out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "staffplan", "run", str(scenario), "--out", str(out), "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        scen = {
            v: tiny_scenario(work / v, agents=agents, name="week") for v, agents in VARIANTS.items()
        }
        out = work / "out" / "week"
        t0 = time.perf_counter()
        if start(scen["A"], out).wait() != 0:
            raise SystemExit("the uninterrupted run failed")
        full = time.perf_counter() - t0
        print(f"uninterrupted run: {full:.1f} s; {a.trials} trials, seed {a.seed}")
        print("| trial | run | kill after [s] | killed | folder holds | leftovers | ok |")
        print("|---|---|---|---|---|---|---|")
        failures = 0
        for trial in range(1, a.trials + 1):
            before = variant_of(out)
            new = "B" if before == "A" else "A"
            before = before if before in VARIANTS else "mixed"
            delay = float(rng.uniform(0.2, 1.05)) * full
            proc = start(scen[new], out)
            try:
                proc.wait(timeout=delay)
                killed = False
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                killed = True
            now = variant_of(out)
            left = sorted(p.name for p in out.parent.iterdir() if p.name != "week")
            ok = now in VARIANTS and now in (before, new) and (killed or now == new)
            failures += not ok
            shown = now if len(now) < 60 else now[:57] + "..."
            print(
                f"| {trial} | {before}->{new} | {delay:.2f} | {'yes' if killed else 'no'} | "
                f"{shown} | {len(left)} | {'yes' if ok else 'NO'} |"
            )
        if start(scen["A"], out).wait() != 0:
            raise SystemExit("the final run failed")
        left = sorted(p.name for p in out.parent.iterdir() if p.name != "week")
        print(f"after a final run: folder holds {variant_of(out)}, leftovers beside it: {left}")
        print(f"trials with a mixed or missing folder: {failures}")
        if failures or left:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
