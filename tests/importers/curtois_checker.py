"""Independent checker for Curtois & Qu benchmark rosters (a test helper).

Written from the benchmark's README alone, sharing no code with staffplan:
it parses the instance file itself, reads a ``roster.csv`` (columns
``agent_id``, ``shift`` and ``day`` (0-based) or ``date``), verifies every
hard rule and recomputes the benchmark objective:

    Σ weight of on-requests not granted + Σ weight of off-requests violated
    + Σ over (day, shift) cover rows of (under × under weight + over × over weight).
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Bench:
    """The instance as plain dicts and lists."""

    horizon: int = 0
    length: dict[str, int] = field(default_factory=dict)
    forbidden: dict[str, set[str]] = field(default_factory=dict)
    staff: dict[str, list[int | dict[str, int]]] = field(default_factory=dict)
    days_off: dict[str, set[int]] = field(default_factory=dict)
    on: list[tuple[str, int, str, int]] = field(default_factory=list)
    off: list[tuple[str, int, str, int]] = field(default_factory=list)
    cover: list[tuple[int, str, int, int, int]] = field(default_factory=list)


@dataclass
class Verdict:
    """Objective, its parts and the hard-rule violations (empty = feasible)."""

    objective: int
    requests: int
    cover: int
    violations: list[str]

    @property
    def feasible(self) -> bool:
        return not self.violations


def read_bench(path: str | Path) -> Bench:
    b = Bench()
    section = ""
    for raw in Path(path).read_text().splitlines():
        line = raw.split("#")[0].strip()
        if not line:
            continue
        if line.startswith("SECTION_"):
            section = line
            continue
        f = [x.strip() for x in line.split(",")]
        if section == "SECTION_HORIZON":
            b.horizon = int(f[0])
        elif section == "SECTION_SHIFTS":
            b.length[f[0]] = int(f[1])
            b.forbidden[f[0]] = {x for x in (f[2] if len(f) > 2 else "").split("|") if x}
        elif section == "SECTION_STAFF":
            maxs = {k: int(v) for k, v in (x.split("=") for x in f[1].split("|") if x)}
            b.staff[f[0]] = [maxs, *map(int, f[2:8])]
        elif section == "SECTION_DAYS_OFF":
            b.days_off.setdefault(f[0], set()).update(int(x) for x in f[1:] if x)
        elif section == "SECTION_SHIFT_ON_REQUESTS":
            b.on.append((f[0], int(f[1]), f[2], int(f[3])))
        elif section == "SECTION_SHIFT_OFF_REQUESTS":
            b.off.append((f[0], int(f[1]), f[2], int(f[3])))
        elif section == "SECTION_COVER":
            b.cover.append((int(f[0]), f[1], int(f[2]), int(f[3]), int(f[4])))
    return b


def read_roster(path: str | Path, start: dt.date | None = None) -> list[tuple[str, int, str]]:
    """Rows (staff, day, shift); ``date`` is turned into a day index from ``start`` (default:
    earliest Monday ≤ first date).
    """
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    if rows and "day" not in rows[0]:
        dates = [dt.date.fromisoformat(r["date"][:10]) for r in rows]
        if start is None:
            first = min(dates)
            start = first - dt.timedelta(days=first.weekday())
        for r, d in zip(rows, dates, strict=True):
            out.append((r["agent_id"], (d - start).days, r["shift"]))
        return out
    return [(r["agent_id"], int(r["day"]), r["shift"]) for r in rows]


def blocks(worked: list[bool], value: bool) -> list[tuple[int, int]]:
    """Maximal runs (first day, length) of ``value``."""
    runs, d = [], 0
    while d < len(worked):
        if worked[d] == value:
            e = d
            while e < len(worked) and worked[e] == value:
                e += 1
            runs.append((d, e - d))
            d = e
        else:
            d += 1
    return runs


def check(bench: Bench, rows: list[tuple[str, int, str]]) -> Verdict:
    """Verify the hard rules and compute the objective of a roster given as (staff, day, shift)
    rows.
    """
    v: list[str] = []
    h = bench.horizon
    plan: dict[str, list[str | None]] = {e: [None] * h for e in bench.staff}
    for e, d, s in rows:
        if e not in bench.staff:
            v.append(f"unknown staff {e}")
            continue
        if s not in bench.length:
            v.append(f"unknown shift {s} for {e} on day {d}")
            continue
        if not 0 <= d < h:
            v.append(f"day {d} outside the horizon for {e}")
            continue
        if plan[e][d] is not None:
            v.append(f"{e} has two shifts on day {d}")
        plan[e][d] = s
    for e, (maxs, max_min, min_min, max_cons, min_cons, min_off, max_we) in bench.staff.items():
        p = plan[e]
        worked = [s is not None for s in p]
        for d in sorted(bench.days_off.get(e, ())):
            if worked[d]:
                v.append(f"{e} works on day off {d}")
        for d in range(h - 1):
            if p[d] is not None and p[d + 1] is not None and p[d + 1] in bench.forbidden[p[d]]:
                v.append(f"{e}: {p[d + 1]} on day {d + 1} may not follow {p[d]}")
        for s, n in maxs.items():
            if p.count(s) > n:
                v.append(f"{e} works {p.count(s)} {s} shifts, max {n}")
        minutes = sum(bench.length[s] for s in p if s is not None)
        if minutes > max_min:
            v.append(f"{e} works {minutes} min, max {max_min}")
        if minutes < min_min:
            v.append(f"{e} works {minutes} min, min {min_min}")
        for first, n in blocks(worked, True):
            if n > max_cons:
                v.append(f"{e} works {n} days in a row from day {first}, max {max_cons}")
            if n < min_cons and first > 0 and first + n < h:
                v.append(f"{e} works {n} days in a row from day {first}, min {min_cons}")
        for first, n in blocks(worked, False):
            if n < min_off and first > 0 and first + n < h:
                v.append(f"{e} is off {n} days in a row from day {first}, min {min_off}")
        weekends = sum(
            1 for sat in range(5, h, 7) if worked[sat] or (sat + 1 < h and worked[sat + 1])
        )
        if weekends > max_we:
            v.append(f"{e} works {weekends} weekends, max {max_we}")
    req = sum(w for e, d, s, w in bench.on if plan.get(e, [None] * h)[d] != s)
    req += sum(w for e, d, s, w in bench.off if plan.get(e, [None] * h)[d] == s)
    cov = 0
    for d, s, need, under_w, over_w in bench.cover:
        have = sum(1 for e in plan if plan[e][d] == s)
        cov += max(need - have, 0) * under_w + max(have - need, 0) * over_w
    return Verdict(objective=req + cov, requests=req, cover=cov, violations=v)


def check_files(instance: str | Path, roster: str | Path, start: dt.date | None = None) -> Verdict:
    """Check ``roster`` (a roster.csv) against ``instance`` (an Instance<N>.txt)."""
    return check(read_bench(instance), read_roster(roster, start))
