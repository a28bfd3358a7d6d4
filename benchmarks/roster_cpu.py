"""CPU seconds of each step of ``staffplan roster``, to see what the command costs around the solve.

The steps are the command's own chain (``pipeline.requirements_for``, ``roster.load.load_problem``
— the roster's curves —, ``roster.engine.plan``, ``evaluate.kpis.roster_kpis`` — the promise of
the solved roster —, ``pipeline.write_roster``), each timed with ``time.process_time`` (the
process's CPU over all its threads, so a busy machine changes it little: compare runs by CPU,
not wall). The numeric libraries get one thread each, as the command gives them. ``--factor F``
runs the bundled example scaled F times (``benchmarks/example_scaled.py``); the solve is
deterministic, so the same inputs give the same bytes in ``--out``.

Run: ``python benchmarks/roster_cpu.py --factor 10 --time-limit 10 --out DIR``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from staffplan.threads import limit_numeric_threads

limit_numeric_threads()  # before numpy loads, as the command line does

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--factor", type=int, default=1, help="the example's team and volume multiple")
    ap.add_argument("--time-limit", type=float, default=10.0, help="deterministic solve limit")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None, help="write the roster's files here")
    args = ap.parse_args()

    from example_scaled import EXAMPLE, scaled_scenario

    from staffplan.evaluate.kpis import roster_kpis
    from staffplan.pipeline import RosterRun, requirements_for, write_roster
    from staffplan.roster.engine import plan
    from staffplan.roster.load import load_problem
    from staffplan.scenario import load
    from staffplan.settings import solve_settings

    rows: list[tuple[str, float, float]] = []

    def step(name: str, cpu0: float, wall0: float) -> tuple[float, float]:
        cpu, wall = time.process_time(), time.perf_counter()
        rows.append((name, cpu - cpu0, wall - wall0))
        return cpu, wall

    with tempfile.TemporaryDirectory() as tmp:
        path = EXAMPLE if args.factor == 1 else scaled_scenario(Path(tmp) / "sc", args.factor)
        load_avg = os.getloadavg()[0]
        c, w = time.process_time(), time.perf_counter()
        sc = load(path)
        sc.check_files()
        req = requirements_for(sc)
        c, w = step("requirements (forecast included)", c, w)
        problem = load_problem(sc, req)
        c, w = step("load_problem (the roster's curves)", c, w)
        settings = solve_settings(
            sc,
            {"time_limit_s": args.time_limit, "workers": args.workers, "deterministic": True},
        )
        outcome = plan(problem, settings, None)
        c, w = step("solve (plan)", c, w)
        ro = outcome.roster
        got = roster_kpis(problem, ro.allocation, sc, ro.stays, ro.moves)
        c, w = step("KPIs (the promise)", c, w)
        if args.out is not None and got is not None:
            write_roster(RosterRun(sc, settings, problem, outcome, *got), args.out)
            c, w = step("write_roster", c, w)
    outside = sum(r[1] for r in rows if not r[0].startswith("solve"))
    print(f"factor {args.factor}, load {load_avg:.1f} at the start")
    print("| step | CPU [s] | wall [s] |")
    print("|---|---|---|")
    for name, cpu, wall in rows:
        print(f"| {name} | {cpu:.2f} | {wall:.2f} |")
    print(f"| **outside the solve** | **{outside:.2f}** | |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
