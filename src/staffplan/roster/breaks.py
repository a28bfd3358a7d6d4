"""Second stage: place each worked shift's breaks inside their windows.

The main model plans each shift's breaks by one of a few staggered plans
(:func:`~staffplan.roster.problem.break_plans`). Once the shifts are fixed,
this greedy pass (deterministic: agents by id, two passes) starts from those
plans and moves each break, one at a time, to the start in its window where the agent's
queues leave the fewest intervals short (no surplus of on-phone agents over
the target), then have the largest surplus; ties keep the planned place, so
breaks go where they hurt coverage least. Break starts are multiples of
``step`` minutes after the shift start; breaks of one shift never overlap each
other nor the agent's training/meeting activities.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from staffplan.roster.problem import (
    RosterProblem,
    Variant,
    full_intervals,
    planned_break_offsets,
    touched_intervals,
)


@dataclass(frozen=True)
class PlacedBreak:
    """A break at elapsed minutes [start, end) from the horizon origin."""

    name: str
    start: int
    end: int
    paid: bool


@dataclass(frozen=True)
class Worked:
    """One worked shift: agent, horizon day, variant and its elapsed [start, end) [min]."""

    agent_id: str
    day: int
    variant: Variant
    start: int
    end: int
    offsets: tuple[int, ...] | None = None
    """The breaks' starts the main model planned [min after the shift start]; None: the windows'
    midpoints.
    """


def _overlaps(a0: int, a1: int, spans: list[tuple[int, int]]) -> bool:
    return any(s < a1 and a0 < e for s, e in spans)


def place_breaks(
    problem: RosterProblem,
    worked: list[Worked],
    activities: dict[str, list[tuple[int, int]]],
    passes: int = 2,
) -> dict[tuple[str, int], list[PlacedBreak]]:
    """Break placement per (agent_id, day), maximising the on-phone surplus on the agent's
    queues.
    """
    grid, dem = problem.grid, problem.demand
    n, nq, im = grid.n, len(dem.queues), grid.interval_min
    step = min(15, im)
    agent_q = {a.id: problem.agent_queues(a) for a in problem.agents}
    onq = np.zeros((nq, n), dtype=np.int64)
    placed: dict[tuple[str, int], list[PlacedBreak]] = {}
    tmpl = problem.template_by_id

    def on_intervals(w: Worked, brks: list[PlacedBreak]) -> np.ndarray:
        lo, hi = full_intervals(w.start, w.end, im, n)
        mask = np.zeros(n, dtype=bool)
        mask[lo:hi] = True
        for s, e in [(b.start, b.end) for b in brks] + [
            (s, e) for s, e in activities.get(w.agent_id, []) if w.start <= s and e <= w.end
        ]:
            t0, t1 = touched_intervals(s, e, im, n)
            mask[t0:t1] = False
        return mask

    def apply(w: Worked, brks: list[PlacedBreak], sign: int) -> None:
        qs = list(agent_q[w.agent_id])
        if qs:
            onq[qs] += sign * on_intervals(w, brks).astype(np.int64)

    ordered = sorted(worked, key=lambda w: (w.agent_id, w.day))
    for w in ordered:
        t = tmpl[w.variant.template]
        offs = w.offsets if w.offsets is not None else planned_break_offsets(t, step)
        brks = [
            PlacedBreak(b.name, w.start + o, w.start + o + b.minutes, b.paid)
            for o, b in zip(offs, t.breaks, strict=True)
        ]
        placed[(w.agent_id, w.day)] = brks
        apply(w, brks, +1)
    surplus_req = dem.required.astype(np.int64)
    for _ in range(passes):
        for w in ordered:
            t = tmpl[w.variant.template]
            if not t.breaks:
                continue
            qs = list(agent_q[w.agent_id])
            brks = placed[(w.agent_id, w.day)]
            acts = [
                (s, e) for s, e in activities.get(w.agent_id, []) if w.start <= s and e <= w.end
            ]
            for i, b in enumerate(t.breaks):
                apply(w, brks, -1)
                others = [(x.start, x.end) for j, x in enumerate(brks) if j != i] + acts
                rest = [x for j, x in enumerate(brks) if j != i]
                apply(w, rest, +1)  # the agent on the phones except for the other breaks
                surplus = (
                    (onq[qs] - surplus_req[qs]).sum(axis=0) if qs else np.zeros(n, dtype=np.int64)
                )
                mid = (b.earliest + b.latest) // 2
                now = brks[i].start - w.start
                best: tuple[int, int, bool, int, int] | None = None
                for o in range(b.earliest, b.latest + 1, step):
                    s0, s1 = w.start + o, w.start + o + b.minutes
                    if _overlaps(s0, s1, others):
                        continue
                    t0, t1 = touched_intervals(s0, s1, im, n)
                    span = surplus[t0:t1]
                    # first the intervals the break would leave short, then the surplus it uses;
                    # ties keep the planned place
                    key = (int((span <= 0).sum()), -int(span.sum()), o != now, abs(o - mid), o)
                    if best is None or key < best:
                        best = key
                apply(w, rest, -1)
                if best is not None:
                    o = best[4]
                    brks = [
                        *brks[:i],
                        PlacedBreak(b.name, w.start + o, w.start + o + b.minutes, b.paid),
                        *brks[i + 1 :],
                    ]
                apply(w, brks, +1)
            placed[(w.agent_id, w.day)] = brks
    return placed
