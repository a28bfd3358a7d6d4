"""Sick-leave cover on the 150-agent roster benchmark: minimal-change repair vs a full re-solve.

Instance: ``benchmarks/roster_scale.py``'s (150 agents, 3 queues, 7 days of
15-min intervals). The published roster is the engine's plan with
``--plan-limit`` seconds. Then, for each ``--shares`` value, that fraction of
all agents, drawn from those working on ``--day``, are sick that whole day,
"now" is that day's 00:00, and the roster is repaired
(``staffplan.cover.repair.repair``, ``--limit`` seconds of wall time in all,
2 workers) and, for comparison, fully re-solved from now with the engine's
own objective (same limit).

Coverage is counted one way throughout, the repair's
(:func:`staffplan.cover.repair.coverage_counts`): on-phone agents per
interval with their published breaks; multi-skilled agents serve the queue
the published plan gave them (the engine's allocation of the published
roster) unless the repair reassigns them; the full re-solve's roster is
allocated afresh by the engine's rule. Reported per run: ``short`` —
under-covered agent-intervals over the week (required − on-phone, summed);
``unrestored`` — agent-intervals below the published roster's coverage
(capped at the requirement), the repair's first objective; ``sl_all`` —
week service level, voice+chat, volume-weighted (``staffplan.queueing``);
``short_dyn`` — the roster benchmark's count, every multi-skilled agent
re-allocated per interval by the engine's greedy rule (as if routing moved
them for free); wall time [s] (build + solve + extraction), agents changed,
phone calls by action, hard-rule violations found by the independent
validator (``staffplan.roster.validate.check_roster``). ``headroom``: agents the weekly contract
limits leave
free that day to be called in / to work 60 min more.

Run: ``python benchmarks/cover_repair.py`` (about 1.5 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from roster_scale import QUEUES, TARGETS, instance, score  # noqa: E402

from staffplan.cover.published import (  # noqa: E402
    coverage_counts,
    no_action_roster,
    parse_rows,
    published_assignment,
    relax_absent,
    with_overtime,
)
from staffplan.cover.repair import repair  # noqa: E402
from staffplan.cover.result import headroom  # noqa: E402
from staffplan.cover.settings import CoverSettings, NewAbsence  # noqa: E402
from staffplan.evaluate.kpis import interval_kpis, week_kpis  # noqa: E402
from staffplan.io.roster_csv import read_roster_csv, roster_as_text  # noqa: E402
from staffplan.io.team import Absence  # noqa: E402
from staffplan.queueing import kpis  # noqa: E402
from staffplan.roster.engine import plan  # noqa: E402
from staffplan.roster.extract import assign_queues, on_phone_matrix  # noqa: E402
from staffplan.roster.problem import RosterProblem  # noqa: E402
from staffplan.roster.validate import check_roster  # noqa: E402
from staffplan.settings import SolveSettings  # noqa: E402


def _on(
    problem: RosterProblem, roster: pd.DataFrame, absences: tuple[NewAbsence, ...]
) -> np.ndarray:
    on = on_phone_matrix(roster, problem.agents, problem.grid)
    index = {a.id: i for i, a in enumerate(problem.agents)}
    for a in absences:
        on[
            index[a.agent_id],
            problem.grid.boundary_index(a.start) : problem.grid.boundary_index(a.end),
        ] = False
    return on


def _sl(problem: RosterProblem, alloc: np.ndarray, volume: np.ndarray, aht: np.ndarray) -> float:
    starts = [str(t) for t in problem.grid.starts]
    per = interval_kpis(
        starts, QUEUES[:2], volume[:2], aht[:2], alloc[:2], 15, list(TARGETS[:2]), kpis
    )
    return float(week_kpis(per, 15).set_index("queue").loc["all", "service_level"])


def measure(
    problem: RosterProblem,
    roster: pd.DataFrame,
    absences: tuple[NewAbsence, ...],
    assignment: np.ndarray,
    target: np.ndarray,
    volume: np.ndarray,
    aht: np.ndarray,
) -> dict[str, object]:
    """short, unrestored, sl_all, short_dyn and paid hours of one roster (the repair's coverage
    definition).
    """
    alloc = coverage_counts(problem, roster, absences, assignment)
    req = problem.demand.required
    paid = float(roster["paid_minutes"].astype(float).sum())
    dyn = score(problem, _on(problem, roster, absences), volume, aht, paid)
    return {
        "short": int((req - alloc).clip(min=0).sum()),
        "unrestored": int((target - alloc).clip(min=0).sum()),
        "sl_all": _sl(problem, alloc, volume, aht),
        "short_dyn": int(dyn["under_agent_intervals"]),
        "paid_h": round(paid / 60),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--plan-limit",
        type=float,
        default=20.0,
        help="time limit of the published roster's solve [s]",
    )
    ap.add_argument("--limit", type=float, default=10.0, help="repair / re-solve wall budget [s]")
    ap.add_argument("--day", type=int, default=2, help="horizon day of the sick calls (0 = Monday)")
    ap.add_argument(
        "--shares",
        type=float,
        nargs="+",
        default=[0.05, 0.10],
        help="fractions of all agents who call in sick, one case each [fraction]",
    )
    ap.add_argument("--no-full", action="store_true", help="skip the full re-solve")
    ap.add_argument(
        "--deterministic",
        action="store_true",
        help="deterministic repairs (the limit becomes deterministic time)",
    )
    ap.add_argument(
        "--published",
        type=Path,
        default=None,
        help="repair this roster.csv instead of planning one (the same roster for every engine)",
    )
    ap.add_argument(
        "--save-published", type=Path, default=None, help="write the planned roster.csv here"
    )
    args = ap.parse_args()
    problem, volume, aht = instance()
    if args.published is not None:
        published = roster_as_text(read_roster_csv(args.published))
    else:
        out = plan(problem, SolveSettings(args.plan_limit, 2, 0))
        published = roster_as_text(out.roster.roster)
        if args.save_published is not None:
            published.to_csv(args.save_published, index=False)
    grid = problem.grid
    rows = parse_rows(problem, published)
    assignment = published_assignment(problem, rows)
    before = coverage_counts(problem, published, (), assignment)
    target = np.minimum(problem.demand.required, before)
    date = grid.start + pd.Timedelta(days=args.day).to_pytimedelta()
    working = sorted(published.loc[published["date"] == date.isoformat(), "agent_id"].unique())
    day0, day1 = (
        grid.local_midnight(date),
        grid.local_midnight(date + pd.Timedelta(days=1).to_pytimedelta()),
    )
    table = []
    for share in args.shares:
        k = max(1, round(share * len(problem.agents)))
        rng = np.random.default_rng(5)
        sick = sorted(rng.choice(working, size=k, replace=False).tolist())
        absences = tuple(NewAbsence(a, day0, day1, "sick", f"{a}:{date}") for a in sick)
        room = headroom(problem, rows, args.day, frozenset(sick), 60)
        print(
            f"{share:.0%}: {k} sick on {date} (now {day0.isoformat()}): {', '.join(sick)}; "
            f"headroom {room}",
            file=sys.stderr,
            flush=True,
        )
        case = f"{k} sick ({share:.0%})"
        table.append(
            {
                "case": case,
                "run": "published",
                **measure(problem, published, (), assignment, target, volume, aht),
            }
        )
        table.append(
            {
                "case": case,
                "run": "no action",
                **measure(
                    problem,
                    no_action_roster(problem, published, absences, day0),
                    absences,
                    assignment,
                    target,
                    volume,
                    aht,
                ),
            }
        )
        runs = [("repair", False)] + ([] if args.no_full else [("full re-solve", True)])
        for name, full in runs:
            t0 = time.perf_counter()
            res = repair(
                problem,
                published,
                absences,
                day0,
                settings=CoverSettings(),
                solve_settings=SolveSettings(args.limit, 2, 0, args.deterministic),
                full=full,
            )
            wall = time.perf_counter() - t0
            if full:
                on = _on(problem, res.roster, absences)
                fresh = assign_queues(
                    on, [problem.agent_queues(a) for a in problem.agents], problem.demand.required
                )
                m = measure(
                    problem, res.roster.assign(assignments=""), absences, fresh, target, volume, aht
                )
            else:
                m = measure(problem, res.roster, absences, assignment, target, volume, aht)
            acts = res.changes["action"].value_counts().to_dict()
            checked = replace(
                with_overtime(problem, CoverSettings(), set(res.roster["shift"])),
                absences=problem.absences
                + tuple(Absence(a.agent_id, a.start, a.end, a.kind) for a in absences),
            )
            checked = relax_absent(
                checked, frozenset(sick)
            )  # the rules a repair keeps: a sick agent's lost minimum hours are not made up
            bad = check_roster(checked, res.roster)
            table.append(
                {
                    "case": case,
                    "run": name,
                    **m,
                    "status": res.status,
                    "wall_s": round(wall, 1),
                    "build_s": round(res.build_seconds, 1),
                    "agents_changed": len(res.agents_changed),
                    "phone_calls": len(res.changes),
                    "actions": ", ".join(f"{v} {k}" for k, v in sorted(acts.items())),
                    "violations": len(bad),
                }
            )
            print(table[-1], file=sys.stderr, flush=True)
            for note in res.notes:
                print("  " + note, file=sys.stderr)
    cols = list(dict.fromkeys(c for r in table for c in r))
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in table:
        print(
            "| "
            + " | ".join(
                f"{v:.4f}" if c == "sl_all" else str(v) for c in cols for v in [r.get(c, "")]
            )
            + " |"
        )


if __name__ == "__main__":
    main()
