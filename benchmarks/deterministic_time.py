"""How long ``--deterministic --time-limit T`` takes on the wall clock.

A deterministic second is work (CP-SAT's deterministic time, search moves, sub-solves),
calibrated in ``staffplan.roster.budget`` so that on a quiet 2-core machine a solve of limit
``T`` ends about ``T`` seconds after its model is built. For each instance and limit this
prints: the model-building time (``build_model`` + pre-check + greedy start, timed on its own),
the wall time of ``staffplan.roster.engine.plan`` in deterministic mode, the wall time beyond
building, the process's CPU time, the objective, and the load average before and after (other
jobs on the machine stretch the wall time, not the roster).

Usage:
    python benchmarks/deterministic_time.py [--limits 5 10] [--instances example scale]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from roster_scale import instance  # noqa: E402

from staffplan.pipeline import requirements_for  # noqa: E402
from staffplan.roster.build import build_model  # noqa: E402
from staffplan.roster.engine import plan  # noqa: E402
from staffplan.roster.explain import precheck  # noqa: E402
from staffplan.roster.heuristics.greedy import greedy_hint  # noqa: E402
from staffplan.roster.load import load_problem  # noqa: E402
from staffplan.roster.problem import RosterProblem  # noqa: E402
from staffplan.scenario import load  # noqa: E402
from staffplan.settings import SolveSettings, solve_settings  # noqa: E402

EXAMPLE = ROOT / "scenarios" / "example" / "scenario.toml"


def problems(names: list[str]) -> dict[str, tuple[RosterProblem, SolveSettings]]:
    """Each instance's problem and its scenario's solver settings (the scale instance takes the
    example's shares)."""
    sc = load(EXAMPLE)
    base = solve_settings(sc)
    out = {}
    if "example" in names:
        out["example (65 agents)"] = (load_problem(sc, requirements_for(sc)), base)
    if "scale" in names:
        out["scale (150 agents)"] = (instance()[0], base)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limits", type=float, nargs="+", default=[5.0, 10.0])
    ap.add_argument("--instances", nargs="+", default=["example", "scale"])
    args = ap.parse_args()
    rows = []
    for name, (problem, base) in problems(args.instances).items():
        t = time.perf_counter()
        rm = build_model(problem)
        precheck(rm)
        greedy_hint(rm)
        build_s = time.perf_counter() - t
        for limit in args.limits:
            settings = SolveSettings(
                limit,
                2,
                0,
                True,
                base.lp_bound,
                base.improve_share,
                base.lns_share,
                base.colgen_share,
                base.search_share,
            )
            load0 = os.getloadavg()[0]
            c0, t0 = time.process_time(), time.perf_counter()
            out = plan(problem, settings)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            rows.append(
                (
                    name,
                    f"{limit:g}",
                    f"{build_s:.1f}",
                    f"{wall:.1f}",
                    f"{wall - build_s:.1f}",
                    f"{cpu:.1f}",
                    f"{out.result.objective:,.0f}",
                    f"{load0:.1f} / {os.getloadavg()[0]:.1f}",
                    "; ".join(out.warnings) or "-",
                )
            )
            print(rows[-1], file=sys.stderr, flush=True)
    head = (
        "instance",
        "limit [det s]",
        "build [s]",
        "wall [s]",
        "wall − build [s]",
        "CPU [s]",
        "objective",
        "load before / after",
        "warnings",
    )
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
