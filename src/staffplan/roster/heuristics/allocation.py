"""Coverage costs with an optimal allocation of multi-skilled agents, kept exactly under one-agent
changes.

The local search prices coverage from a cost table per (queue, interval) —
the under-coverage segments, over-coverage and minimum floors of
:func:`staffplan.roster.coverage.coverage` — and moves multi-skilled agents
between their queues along the cheapest augmenting path whenever one agent
more or fewer is on the phones (the costs are convex, so the allocation stays
optimal after every step, as CP-SAT's would be).
"""

from __future__ import annotations

from staffplan.roster.coverage import UNDER_SEGMENTS, under_segments
from staffplan.roster.cpmodel import RosterModel, scaled

FLOOR_PENALTY = 10**12
"""Cost of one agent-interval below a hard minimum floor [objective units × SCALE]."""


class Coverage:
    """On-phone counts per queue and interval with an optimal allocation of multi-skilled agents,
    and its cost.

    ``add(g, t)``/``remove(g, t)`` change group ``g``'s on-phone agents at
    interval ``t`` by one and return the change in cost [objective units ×
    SCALE]; the allocation follows the cheapest augmenting path, which keeps
    it optimal because every queue's cost is convex in its coverage.
    """

    def __init__(
        self, tables: list[list[list[int]]], groups: list[tuple[int, ...]], n: int
    ) -> None:
        nq = len(tables)
        self.tab = tables
        self.groups = groups
        self.cov = [[0] * n for _ in range(nq)]
        self.multi = [len(g) > 1 for g in groups]
        self.alloc: list[list[list[int]] | None] = [
            [[0] * nq for _ in range(n)] if len(g) > 1 else None for g in groups
        ]
        self.serving = [
            [h for h, g in enumerate(groups) if len(g) > 1 and q in g] for q in range(nq)
        ]
        # queues a unit of each group can reach through reallocations of multi-skilled agents
        self.component: list[tuple[int, ...]] = []
        for g in groups:
            seen = set(g)
            stack = list(g)
            while stack:
                q = stack.pop()
                for h in self.serving[q]:
                    for q2 in groups[h]:
                        if q2 not in seen:
                            seen.add(q2)
                            stack.append(q2)
            self.component.append(tuple(sorted(seen)))
        self.others = [
            tuple(q for q in comp if q not in g)
            for comp, g in zip(self.component, groups, strict=True)
        ]

    def cost(self) -> int:
        return sum(
            tq[t][c] for tq, cq in zip(self.tab, self.cov, strict=True) for t, c in enumerate(cq)
        )

    def _direct(self, g: int, t: int, step: int) -> tuple[int, int] | None:
        """(cost change, queue) of adding (``step`` +1) or removing (−1) one of group ``g``'s agents
        at ``t`` on one
        of its own queues; None when another queue reachable by reallocating multi-skilled agents
        might be cheaper."""
        cov = self.cov
        tab = self.tab
        ag = self.alloc[g][t] if step < 0 and self.multi[g] else None  # type: ignore[index]
        best, bq = None, -1
        for q in self.groups[g]:
            if ag is not None and ag[q] == 0:
                continue
            tb = tab[q][t]
            c = cov[q][t]
            d = tb[c + step] - tb[c]
            if best is None or d < best:
                best, bq = d, q
        for q in self.others[g] if step > 0 else self.component[g]:
            if q == bq:
                continue
            tb = tab[q][t]
            c = cov[q][t]
            if c + step >= 0 and tb[c + step] - tb[c] < best:  # type: ignore[operator]
                return None
        return best, bq  # type: ignore[return-value]

    def add(self, g: int, t: int) -> int:
        return self.step(g, t, 1)

    def remove(self, g: int, t: int) -> int:
        return self.step(g, t, -1)

    def step(self, g: int, t: int, step: int) -> int:
        """One more (``step`` +1) or one fewer (−1) of group ``g``'s agents on the phones at ``t``:
        the change in cost.
        """
        direct = self._direct(g, t, step)
        if direct is None:
            return self._augment(g, t, step)
        best, q = direct
        self.cov[q][t] += step
        if self.multi[g]:
            self.alloc[g][t][q] += step  # type: ignore[index]
        return best

    def peek(
        self, g: int, adds: frozenset[int] | set[int], removes: frozenset[int] | set[int]
    ) -> int:
        """The cost change of adding group ``g``'s agent at ``adds`` and removing one at ``removes``
        (disjoint
        intervals: each is priced on its own), without changing anything."""
        # the loop of _direct, inlined: this is the search's hot path (a call per interval costs a
        # quarter of the moves)
        cov = self.cov
        tab = self.tab
        groups = self.groups[g]
        ags = self.alloc[g] if self.multi[g] else None
        total = 0
        for step, ts, rivals in ((1, adds, self.others[g]), (-1, removes, self.component[g])):
            for t in ts:
                ag = ags[t] if step < 0 and ags is not None else None  # type: ignore[index]
                best, bq = None, -1
                for q in groups:
                    if ag is not None and ag[q] == 0:
                        continue
                    tb = tab[q][t]
                    c = cov[q][t]
                    d = tb[c + step] - tb[c]
                    if best is None or d < best:
                        best, bq = d, q
                for q in rivals:
                    if q != bq:
                        tb = tab[q][t]
                        c = cov[q][t]
                        if c + step >= 0 and tb[c + step] - tb[c] < best:  # type: ignore[operator]
                            best = self._reach(g, t, step > 0)
                            break
                total += best  # type: ignore[operator]
        return total

    def _tree(self, g: int, t: int, step: int) -> dict[int, tuple[int, int] | None]:
        """Queues one more (``step`` +1) or one fewer (−1) of group ``g``'s agents at ``t`` can end
        up changing,
        each with the link that reaches it: (group h, queue) — h moves one agent from that queue
        (adding) or to it (removing)."""
        alloc = self.alloc
        groups = self.groups
        if step > 0 or not self.multi[g]:
            roots: list[int] | tuple[int, ...] = groups[g]
        else:
            ag = alloc[g][t]  # type: ignore[index]
            roots = [q for q in groups[g] if ag[q] > 0]
        parent: dict[int, tuple[int, int] | None] = dict.fromkeys(roots)
        stack = list(roots)
        while stack:
            q1 = stack.pop()
            for h in self.serving[q1]:
                ah = alloc[h][t]  # type: ignore[index]
                if step > 0 and ah[q1] == 0:
                    continue
                for q2 in groups[h]:
                    if q2 not in parent and (step > 0 or ah[q2] > 0):
                        parent[q2] = (h, q1)
                        stack.append(q2)
        return parent

    def _cheapest(
        self, parent: dict[int, tuple[int, int] | None], t: int, step: int
    ) -> tuple[int, int]:
        """(cost change, queue) of the cheapest queue in ``parent`` to change by ``step`` at ``t``
        (ties: the lowest queue).
        """
        best, bq = None, -1
        for q in sorted(parent):
            tb = self.tab[q][t]
            c = self.cov[q][t]
            d = tb[c + step] - tb[c]
            if best is None or d < best:
                best, bq = d, q
        return best, bq  # type: ignore[return-value]

    def _reach(self, g: int, t: int, adding: bool) -> int:
        """The cheapest cost change of adding (removing) one of group ``g``'s agents at ``t`` over
        every augmenting path, without applying it.
        """
        step = 1 if adding else -1
        return self._cheapest(self._tree(g, t, step), t, step)[0]

    def _augment(self, g: int, t: int, step: int) -> int:
        """Add (``step`` +1) or remove (−1) one of group ``g``'s agents at ``t`` along the cheapest
        augmenting path.
        """
        parent = self._tree(g, t, step)
        best, q = self._cheapest(parent, t, step)
        self.cov[q][t] += step
        while (link := parent[q]) is not None:
            h, prev = link
            ah = self.alloc[h][t]  # type: ignore[index]
            ah[prev] -= step
            ah[q] += step
            q = prev
        if self.multi[g]:
            self.alloc[g][t][q] += step  # type: ignore[index]
        return best


def coverage_tables(
    rm: RosterModel, coverable: list[set[int]], caps: list[int]
) -> list[list[list[int]]]:
    """Cost [objective units × SCALE] of 0..cap on-phone agents per (queue, interval), as
    :func:`~staffplan.roster.rules.coverage` prices it.
    """
    p = rm.problem
    dem = p.demand
    w_under, w_over = p.weights.under_coverage, p.weights.over_coverage
    over = scaled(w_over) if w_over > 0 else 0
    out = []
    for q in range(len(dem.queues)):
        rows = []
        cap = caps[q]
        for t in range(p.grid.n):
            if t not in coverable[q]:
                rows.append([0] * (cap + 2))
                continue
            r = int(dem.required[q, t])
            mn = int(dem.minimum[q, t])
            segs = (
                under_segments(dem.step_costs[q, t, :r], w_under, UNDER_SEGMENTS)
                if r > 0 and w_under > 0
                else []
            )
            row = []
            for c in range(cap + 2):
                missing = max(r - c, 0)
                cost = 0
                for size, coef in segs:  # cheapest segments fill first (costs are non-decreasing)
                    take = min(size, missing)
                    cost += take * coef
                    missing -= take
                cost += over * max(c - r, 0)
                cost += FLOOR_PENALTY * max(mn - c, 0)
                row.append(cost)
            rows.append(row)
        out.append(rows)
    return out
