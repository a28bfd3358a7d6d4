"""Sick-leave cover on the 150-agent roster benchmark: minimal-change repair vs a full re-solve.

Instance: ``benchmarks/roster_scale.py``'s (150 agents, 3 queues, 7 days of
15-min intervals). The published roster is the engine's plan with
``--plan-limit`` seconds. Then 5% of the agents working on ``--day`` are
sick that whole day, "now" is that day's 00:00, and the roster is repaired
(``staffplan.roster.repair.repair``, ``--limit`` seconds, 2 workers) and, for
comparison, fully re-solved from now with the engine's own objective (same
limit). Reported: wall time [s] (build + both solves + extraction), agents
changed [agents], under-covered agent-intervals and weekly service level
(voice+chat, volume-weighted) of the published roster, with no action, after
the repair and after the re-solve.

Run: ``python benchmarks/cover_repair.py`` (about 1 minute on 2 cores).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from roster_scale import instance, score  # noqa: E402

from staffplan.roster import plan  # noqa: E402
from staffplan.roster.extract import on_phone_matrix  # noqa: E402
from staffplan.roster.repair import CoverSettings, NewAbsence, repair  # noqa: E402
from staffplan.roster.solve import SolveSettings  # noqa: E402
from staffplan.store import roster_as_text  # noqa: E402


def _on(problem: object, roster: pd.DataFrame, absences: tuple[NewAbsence, ...]) -> np.ndarray:
    on = on_phone_matrix(roster, problem.agents, problem.grid)  # type: ignore[attr-defined]
    index = {a.id: i for i, a in enumerate(problem.agents)}  # type: ignore[attr-defined]
    for a in absences:
        on[index[a.agent_id], problem.grid.boundary_index(a.start) : problem.grid.boundary_index(a.end)] = False  # type: ignore[attr-defined]
    return on


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plan-limit", type=float, default=20.0, help="time limit of the published roster's solve [s]")
    ap.add_argument("--limit", type=float, default=10.0, help="repair / re-solve time limit [s]")
    ap.add_argument("--day", type=int, default=2, help="horizon day of the sick calls (0 = Monday)")
    ap.add_argument("--share", type=float, default=0.05, help="fraction of all agents who call in sick [fraction]")
    args = ap.parse_args()
    problem, volume, aht = instance()
    out = plan(problem, SolveSettings(args.plan_limit, 2, 0))
    published = roster_as_text(out.roster.roster)
    grid = problem.grid
    date = grid.start + pd.Timedelta(days=args.day).to_pytimedelta()
    working = sorted(published.loc[published["date"] == date.isoformat(), "agent_id"].unique())
    k = max(1, round(args.share * len(problem.agents)))
    rng = np.random.default_rng(5)
    sick = sorted(rng.choice(working, size=k, replace=False).tolist())
    day0, day1 = grid.local_midnight(date), grid.local_midnight(date + pd.Timedelta(days=1).to_pytimedelta())
    absences = tuple(NewAbsence(a, day0, day1, "sick", f"{a}:{date}") for a in sick)
    now = day0
    paid = float(published["paid_minutes"].astype(float).sum())
    rows = [
        {"run": "published", **score(problem, _on(problem, published, ()), volume, aht, paid)},
        {"run": "no action", **score(problem, _on(problem, published, absences), volume, aht, paid)},
    ]
    settings = SolveSettings(args.limit, 2, 0)
    for name, full in (("repair", False), ("full re-solve", True)):
        t0 = time.perf_counter()
        res = repair(problem, published, absences, now, settings=CoverSettings(), solve_settings=settings, full=full)
        wall = time.perf_counter() - t0
        paid_after = float(res.roster["paid_minutes"].astype(float).sum())
        rows.append({"run": name, "status": res.status, "wall_s": round(wall, 1), "agents_changed": len(res.agents_changed), "phone_calls": len(res.changes), **score(problem, _on(problem, res.roster, absences), volume, aht, paid_after)})
        print(rows[-1], file=sys.stderr, flush=True)
    print(f"sick on {date} (now {now.isoformat()}): {', '.join(sick)}", file=sys.stderr)
    cols = list(dict.fromkeys(c for r in rows for c in r))
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(f"{v:.4f}" if isinstance(v, float) and c.startswith("sl") else f"{v:.1f}" if isinstance(v, float) else str(v) for c in cols for v in [r.get(c, "")]) + " |")


if __name__ == "__main__":
    main()
