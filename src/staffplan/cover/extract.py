"""From a solved repair window to roster rows: published rows where nothing changed, the chosen
options elsewhere, queue spans where reassigned; and pruning changes that restore nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from staffplan.cover.published import (
    ASSIGN_COLUMN,
    NewAbsence,
    Row,
    assign_text,
    breaks_text,
    coverage_counts,
    cut_started,
)
from staffplan.cover.window import Kept, WindowModel
from staffplan.io.roster_csv import cell_text
from staffplan.roster.breaks import PlacedBreak, Worked
from staffplan.roster.extract import roster_frame, row_on_phone
from staffplan.roster.problem import RosterProblem


def chosen_breaks(kept: Kept, value: Any) -> tuple[PlacedBreak, ...]:
    """The breaks of a kept shift where the solution put them."""
    out = []
    for pb, zs in kept.breaks:
        s = next((s for s, z in zs if z is not None and value(z)), pb.start)
        out.append(PlacedBreak(pb.name, s, s + (pb.end - pb.start), pb.paid))
    return tuple(out)


def extract_window(
    problem: RosterProblem,
    b: WindowModel,
    value: Any,
    rows: dict[tuple[str, int], Row],
    published: pd.DataFrame,
    absences: tuple[NewAbsence, ...],
    assignment: np.ndarray,
) -> pd.DataFrame:
    """The repaired roster (text rows): published rows where nothing changed, the chosen options
    elsewhere, queue spans where reassigned or changed.
    """

    index = {a.id: i for i, a in enumerate(problem.agents)}
    aq = {a.id: problem.agent_queues(a) for a in problem.agents}
    const = {(r.agent, r.day) for r in b.const_rows}
    absent = {a.agent_id for a in absences}
    out: list[dict[str, str]] = []
    for key, row in rows.items():
        if key in b.days:
            continue
        if key in const and row.agent in absent:
            rec = cut_started(problem, row, absences)
            if rec is not None:
                out.append(rec)
        elif key in const:
            out.append(dict(row.record))
    for (aid, d), day in b.days.items():
        rec: dict[str, str] | None = None
        changed = False
        if day.kept is not None:
            for v, x, _ in day.kept.variants:
                if not value(x):
                    continue
                row = day.kept.row
                rec = dict(row.record)
                brks = chosen_breaks(day.kept, value)
                if brks != row.breaks:
                    rec["breaks"] = breaks_text(problem, brks)
                    changed = True
                if v.id != row.variant:
                    rec["shift"] = v.template
                    rec["end"] = (
                        (problem.origin + pd.Timedelta(minutes=b.rm.elapsed[(d, v.id)][1]))
                        .tz_convert(problem.grid.zone)
                        .isoformat()
                    )
                    rec["paid_minutes"] = str(v.paid_minutes)
                    changed = True
        if rec is None:
            o = next((o for o, x in day.new if value(x)), None)
            if o is None:
                continue
            e0, e1 = b.rm.elapsed[(d, o.variant.id)]
            frame = roster_frame(
                problem,
                [Worked(aid, d, o.variant, e0, e1)],
                {(aid, d): list(o.breaks)},
                b.rm.activities,
            )
            rec = {k: cell_text(x) for k, x in frame.iloc[0].items()}
            changed = True
        i = index[aid]
        if len(aq[aid]) > 1:
            r_lit = b.reassigned.get((aid, d))
            if changed or (r_lit is not None and value(r_lit)):
                on = row_on_phone(
                    problem.grid,
                    rec["start"],
                    rec["end"],
                    rec.get("breaks", ""),
                    rec.get("activities", ""),
                )
                queue_of = np.full(problem.grid.n, -1, dtype=np.int64)
                ts = np.flatnonzero(on)
                queue_of[ts] = np.where(assignment[i, ts] >= 0, assignment[i, ts], aq[aid][0])
                for t in ts[(ts >= b.lo) & (ts < b.hi)]:
                    ys = b.y.get((i, int(t)))
                    if ys:
                        queue_of[t] = next((q for q, yv in ys.items() if value(yv)), queue_of[t])
                rec[ASSIGN_COLUMN] = assign_text(problem, queue_of)
        out.append(rec)
    cols = list(dict.fromkeys([*published.columns, *(k for r in out for k in r)]))
    frame = pd.DataFrame(out, columns=cols, dtype=object).fillna("")
    frame["_d"] = frame["date"]
    return (
        frame.sort_values(["agent_id", "_d"], kind="stable")
        .drop(columns="_d")
        .reset_index(drop=True)
    )


def prune(
    problem: RosterProblem,
    roster: pd.DataFrame,
    no_action: pd.DataFrame,
    absences: tuple[NewAbsence, ...],
    assignment: np.ndarray,
    target: np.ndarray,
    lo: int,
    hi: int,
) -> pd.DataFrame:
    """Undo every changed agent (then every pair of them) whose changes restore nothing: their rows
    go back to ``no_action``'s.

    A solve stopped by the time limit may keep changes that no longer help.
    Every hard rule is per agent, so putting one agent's rows back as
    published (or as "no action" for an absent agent) keeps the roster
    valid; an undo is taken when the unrestored agent-intervals in [lo, hi)
    (coverage below ``target``) do not grow. Deterministic: agents by id.
    """

    def key(f: pd.DataFrame) -> dict[str, list[tuple[str, ...]]]:
        out: dict[str, list[tuple[str, ...]]] = {}
        cols = [
            c for c in ("date", "shift", "start", "end", "breaks", ASSIGN_COLUMN) if c in f.columns
        ]
        for r in f[["agent_id", *cols]].itertuples(index=False, name=None):
            out.setdefault(str(r[0]), []).append(
                tuple(str(x) for x in r[1:]) + ("",) * (6 - len(cols))
            )
        return {k: sorted(v) for k, v in out.items()}

    new_rows, old_rows = key(roster), key(no_action)
    changed = sorted(
        a for a in set(new_rows) | set(old_rows) if new_rows.get(a, []) != old_rows.get(a, [])
    )
    if not changed:
        return roster

    def contrib(frame: pd.DataFrame, agent: str) -> np.ndarray:
        return coverage_counts(
            problem, frame[frame["agent_id"].astype(str) == agent], absences, assignment
        )[:, lo:hi]

    tgt = target[:, lo:hi]
    cov = coverage_counts(problem, roster, absences, assignment)[:, lo:hi]
    delta = {a: contrib(no_action, a) - contrib(roster, a) for a in changed}

    def lost(c: np.ndarray) -> int:
        return int((tgt - c).clip(min=0).sum())

    undone: list[str] = []
    base = lost(cov)
    for a in changed:
        if lost(cov + delta[a]) <= base:
            cov = cov + delta[a]
            base = lost(cov)
            undone.append(a)
    left = [a for a in changed if a not in undone]
    for i, a in enumerate(left):
        for b in left[i + 1 :]:
            if a in undone or b in undone:
                continue
            if lost(cov + delta[a] + delta[b]) <= base:
                cov = cov + delta[a] + delta[b]
                base = lost(cov)
                undone += [a, b]
    if not undone:
        return roster
    keep = roster[~roster["agent_id"].astype(str).isin(undone)]
    back = no_action[no_action["agent_id"].astype(str).isin(undone)]
    out = pd.concat([keep, back], ignore_index=True).astype(object).fillna("")
    out["_d"] = out["date"]
    return (
        out.sort_values(["agent_id", "_d"], kind="stable").drop(columns="_d").reset_index(drop=True)
    )
