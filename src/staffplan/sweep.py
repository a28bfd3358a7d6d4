"""Planning sweeps: a grid of scenario points, each a normal planning run, and their cost–service
frontier.

``--vary KEY=VALUES`` names a scalar scenario key by its TOML path
(``shrinkage``, ``queues.voice.service_level``, ``solver.seed``,
``hires.count`` for the one ``[[hires]]`` class or ``hires[1].count``) and a
list of values (``0.8,0.85,0.9``; whole-number ranges ``0..12``, both ends
included). Every combination of the axes is a :class:`Point`; each point runs
the normal pipeline (:func:`staffplan.pipeline.run`) as a job
(:mod:`staffplan.jobs`) on a backend, into its own output folder.

Only keys a planning run reads can vary: the top-level factors, ``grid``,
``forecast`` (scalars), ``queues.NAME``, ``solver``, ``weights`` and
``hires``. :func:`point_kpis` is the one place that reads a run's KPIs for
the sweep table; :func:`pareto` and :func:`cheapest` mark the frontier.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from staffplan import limits
from staffplan.errors import InputError, StaffplanError
from staffplan.jobs import KeyPath, with_overrides
from staffplan.scenario import (
    FORECAST_SPEC,
    GRID_SPEC,
    QUEUE_SPEC,
    SOLVER_SPEC,
    WEIGHTS_SPEC,
    Scenario,
    Spec,
    from_document,
    load,
)
from staffplan.settings import OVERRIDE_OPTIONS

Scalar = bool | int | float | str | dt.date

TOP_LEVEL_FACTORS: Spec = {
    "shrinkage": ((float, int), 0.0, "a fraction in [0, 1)"),
    "volume_multiplier": ((float, int), 1.0, "a factor > 0"),
    "aht_multiplier": ((float, int), 1.0, "a factor > 0"),
}
TABLES: Mapping[str, Spec] = {
    "grid": GRID_SPEC,
    "forecast": FORECAST_SPEC,
    "solver": SOLVER_SPEC,
    "weights": WEIGHTS_SPEC,
}
NOT_VARIED = {
    "name": "the name of the scenario",
    "description": "a description",
    "extends": "the parent scenario",
    "data": "data files (make a scenario per file and compare them)",
    "roster": "not read by a planning run",
    "cover": "read by cover, not by a planning run",
    "simulate": "read by simulate, not by a planning run",
    "report": "not read by a planning run",
    "store": "read by publish and cover, not by a planning run",
}
RANGE = re.compile(r"^\s*(-?\d+)\s*\.\.\s*(-?\d+)\s*$")
HIRES = re.compile(r"^hires(?:\[(\d+)\])?$")


@dataclass(frozen=True)
class Axis:
    """One varied key: ``key`` as written, its ``path`` in the document, its ``values``."""

    key: str
    path: KeyPath
    values: tuple[Scalar, ...]


@dataclass(frozen=True)
class Point:
    """One combination of axis values: ``index`` (grid order), ``values`` (key, value) per axis."""

    index: int
    values: tuple[tuple[str, Scalar], ...]
    overrides: tuple[tuple[KeyPath, Scalar], ...]

    @property
    def label(self) -> str:
        return ", ".join(f"{k}={_text(v)}" for k, v in self.values)

    @property
    def folder_name(self) -> str:
        """A stable folder name from the values (long ones: index and a digest)."""
        text = "__".join(f"{k}={_text(v)}" for k, v in self.values)
        name = re.sub(r"[^A-Za-z0-9._=+-]", "-", text)
        if len(name) > 120:
            import hashlib

            name = f"p{self.index:04d}-{hashlib.sha256(text.encode()).hexdigest()[:12]}"
        return name


@dataclass(frozen=True)
class Sweep:
    """A validated sweep: the base scenario, the axes, the points and each point's scenario."""

    scenario: Scenario
    axes: tuple[Axis, ...]
    points: tuple[Point, ...]
    scenarios: tuple[Scenario, ...]


def _text(v: Scalar) -> str:
    return str(v).lower() if isinstance(v, bool) else str(v)


def _bad(message: str, key: str, expected: str, found: object = None, hint: str = "") -> InputError:
    return InputError(
        message, column="--vary", key=key, expected=expected, found=found, hint=hint or None
    )


def parse_values(key: str, text: str) -> tuple[Scalar, ...]:
    """The values of ``KEY=VALUES``: comma-separated TOML scalars (bare words are strings) and
    whole-number ranges ``LO..HI`` (both ends included).
    """
    values: list[Scalar] = []
    for item in text.split(","):
        if not item.strip():
            raise _bad(
                "empty value", key, "comma-separated values like 0.8,0.85 or a range 0..12", text
            )
        m = RANGE.match(item)
        if m:
            lo, hi = int(m.group(1)), int(m.group(2))
            if hi < lo:
                raise _bad("empty range", key, "LO..HI with LO <= HI", item.strip())
            limits.check("sweep_points", hi - lo + 1, column="--vary", key=key)
            values.extend(range(lo, hi + 1))
            continue
        try:
            values.append(tomllib.loads(f"v = {item.strip()}")["v"])
        except tomllib.TOMLDecodeError:
            values.append(item.strip())
    for v in values:
        if isinstance(v, list | dict | dt.time | dt.datetime):
            raise _bad("not a scalar value", key, "numbers, true/false, strings or dates", v)
    if len(set(map(repr, values))) != len(values):
        raise _bad("a value appears twice", key, "distinct values", text)
    return tuple(values)


def _spec_key(spec: Spec, table: str, leaf: str, key: str) -> None:
    if leaf not in spec:
        raise _bad(
            "unknown key",
            key,
            f"one of {', '.join(f'{table}.{k}' for k in spec)}",
            key,
            "check the spelling",
        )
    types = spec[leaf][0]
    if list in types or dict in types:
        raise _bad(
            "not a scalar key",
            key,
            "a key holding one number, true/false, string or date",
            key,
            "lists and tables cannot be varied; make a scenario per variant and compare them",
        )


def key_path(document: Mapping[str, Any], key: str) -> KeyPath:
    """Where ``key`` lives in a merged scenario document; an exit-2 error for a key a planning run
    does not read, an unknown key or a table.
    """
    from staffplan.roster.load import HIRE_SPEC

    parts = key.strip().split(".")
    head = parts[0]
    if not key.strip() or any(not p for p in parts):
        raise _bad("bad key", key, "a dotted TOML path like queues.voice.service_level", key)
    m = HIRES.match(head)
    if m:
        classes = document.get("hires", [])
        classes = [classes] if isinstance(classes, Mapping) else list(classes or [])
        if not classes:
            raise _bad(
                "the scenario has no [[hires]] class",
                key,
                "a [[hires]] table in the scenario",
                key,
                "add a [[hires]] table (count = 0 means no hires of that class)",
            )
        if m.group(1) is None and len(classes) > 1:
            raise _bad(
                "several [[hires]] classes",
                key,
                f"hires[0].{parts[-1]} .. hires[{len(classes) - 1}].{parts[-1]}",
                key,
                "name the class by its position, from 0",
            )
        idx = int(m.group(1) or 0)
        if idx >= len(classes):
            raise _bad("no such [[hires]] class", key, f"an index below {len(classes)}", idx)
        if len(parts) != 2:
            raise _bad("bad key", key, f"hires[{idx}].KEY", key)
        _spec_key(HIRE_SPEC, f"hires[{idx}]", parts[1], key)
        return ("hires", idx, parts[1])
    if head in NOT_VARIED:
        raise _bad(
            "this key cannot be varied",
            key,
            "a key a planning run reads (factors, grid, forecast, queues, solver, weights, hires)",
            key,
            f"{head}: {NOT_VARIED[head]}",
        )
    if head in TOP_LEVEL_FACTORS:
        if len(parts) != 1:
            raise _bad("not a table", key, head, key)
        return (head,)
    if head in TABLES:
        if len(parts) != 2:
            raise _bad("bad key", key, f"{head}.KEY", key)
        _spec_key(TABLES[head], head, parts[1], key)
        return (head, parts[1])
    if head == "queues":
        queues = document.get("queues", {})
        if len(parts) != 3:
            raise _bad("bad key", key, "queues.NAME.KEY", key)
        if parts[1] not in queues:
            raise _bad("unknown queue", key, "one of " + ", ".join(queues), parts[1])
        _spec_key(QUEUE_SPEC, f"queues.{parts[1]}", parts[2], key)
        return ("queues", parts[1], parts[2])
    raise _bad(
        "unknown key",
        key,
        "one of " + ", ".join([*TOP_LEVEL_FACTORS, *TABLES, "queues", "hires"]) + " (dotted)",
        key,
        "check the spelling",
    )


def parse_vary(document: Mapping[str, Any], text: str) -> Axis:
    """One ``KEY=VALUES`` option against a merged scenario document."""
    if "=" not in text:
        raise InputError(
            "bad --vary",
            column="--vary",
            expected="KEY=VALUES, e.g. shrinkage=0.25,0.30 or hires.count=0..12",
            found=text,
        )
    key, _, values = text.partition("=")
    key = key.strip()
    return Axis(key, key_path(document, key), parse_values(key, values))


def grid(axes: Sequence[Axis]) -> tuple[Point, ...]:
    """Every combination of the axes' values, the first axis varying slowest."""
    points = []
    for i, combo in enumerate(itertools.product(*(a.values for a in axes))):
        points.append(
            Point(
                i,
                tuple((a.key, v) for a, v in zip(axes, combo, strict=True)),
                tuple((a.path, v) for a, v in zip(axes, combo, strict=True)),
            )
        )
    return tuple(points)


def _validate(base: Scenario, doc: Mapping[str, Any], label: str, key: str) -> Scenario:
    from staffplan.roster.load import hires

    try:
        sc = from_document(doc, base.path)
        hires(sc)
    except StaffplanError as exc:
        raise InputError(
            f"bad value for a varied key ({exc.message})",
            column="--vary",
            key=exc.key or key,
            expected=exc.expected,
            found=label if exc.found is None else exc.found,
            hint=exc.hint,
        ) from None
    return sc


def plan_sweep(path: str | Path, vary: Sequence[str]) -> Sweep:
    """Load the scenario, parse every ``--vary`` and validate every point before anything runs."""
    base = load(path)
    if not vary:
        raise InputError(
            "nothing to vary", column="--vary", expected="at least one KEY=VALUES option"
        )
    axes = tuple(parse_vary(base.raw, v) for v in vary)
    keys = [a.path for a in axes]
    if len(set(keys)) != len(keys):
        raise InputError(
            "a key is varied twice", column="--vary", expected="each key once", found=list(vary)
        )
    limits.check("sweep_points", math.prod(len(a.values) for a in axes), column="--vary")
    for a in axes:  # each value alone first, so an error names the value that caused it
        for v in a.values:
            _validate(base, with_overrides(base.raw, [(a.path, v)]), f"{a.key}={_text(v)}", a.key)
    points = grid(axes)
    scenarios = tuple(
        _validate(base, with_overrides(base.raw, p.overrides), p.label, axes[0].key) for p in points
    )
    return Sweep(base, axes, points, scenarios)


OPTION_KEYS = {
    ("solver", name): (option, name)
    for name, option in OVERRIDE_OPTIONS.items()
    if name in SOLVER_SPEC
}
"""``[solver]`` key path -> (the command-line option that overrides it, its RunOptions field), as
:func:`staffplan.settings.solve_settings` applies them."""


def check_options(sweep: Sweep, options: Any) -> None:
    """An error when a run option (:class:`staffplan.jobs.RunOptions`) would override a varied
    ``[solver]`` key in every point.
    """
    for axis in sweep.axes:
        option, field = OPTION_KEYS.get(axis.path, (None, ""))
        value = getattr(options, field, None) if option else None
        if value is not None:
            raise InputError(
                "an option overrides a varied key",
                column=option,
                key=axis.key,
                expected=f"either --vary {axis.key}=... or {option}",
                found=value,
            )


def point_kpis(summary: Mapping[str, Any] | None) -> dict[str, Any]:
    """The sweep's KPI columns of one run, from its summary.json (promised KPIs).

    ``status``, ``paid_hours`` [h], ``cost`` [currency], ``service_level`` [fraction, all
    real-time queues], ``occupancy`` [fraction], ``gap`` [fraction], and per real-time queue Q
    ``service_level_Q``, ``asa_s_Q`` [s], ``abandon_rate_Q`` [fraction] (the summary's
    ``queues`` table). The one place that reads KPIs for sweeps.
    """
    if summary is None:
        return {}
    out: dict[str, Any] = {
        k: summary.get(k)
        for k in ("status", "paid_hours", "cost", "service_level", "occupancy", "gap")
    }
    for q, row in (summary.get("queues") or {}).items():
        out[f"service_level_{q}"] = row.get("service_level")
        out[f"asa_s_{q}"] = row.get("asa_seconds")
        out[f"abandon_rate_{q}"] = row.get("abandon_rate")
    return out


def meets_targets(scenario: Scenario, kpis: Mapping[str, Any]) -> bool:
    """Whether a run meets every real-time queue target of ``scenario`` over the week: service
    level, ASA cap, abandonment cap (queues without contacts have no KPIs and pass).
    """
    if kpis.get("status") not in ("OPTIMAL", "FEASIBLE"):
        return False
    for q in scenario.queues:
        checks = (
            ("service_level", q.service_level, 1),
            ("asa_s", q.asa_max_s, -1),
            ("abandon_rate", q.abandon_max, -1),
        )
        for col, target, sense in checks:
            v = kpis.get(f"{col}_{q.name}")
            if target is None or v is None:
                continue
            if (v - target) * sense < -1e-9:
                return False
    return True


def pareto(cost: Sequence[float], service: Sequence[float]) -> np.ndarray:
    """Which points no other point beats: none is at most as costly and at least as good with one
    of the two strictly better (lower cost [currency], higher service [fraction]). NaN: never.
    """
    c = np.asarray(cost, dtype=float)
    s = np.asarray(service, dtype=float)
    ok = np.isfinite(c) & np.isfinite(s)
    out = np.zeros(len(c), dtype=bool)
    for i in np.flatnonzero(ok):
        better = ok & (c <= c[i]) & (s >= s[i]) & ((c < c[i]) | (s > s[i]))
        out[i] = not better.any()
    return out


def cheapest(cost: Sequence[float], meets: Sequence[bool]) -> int | None:
    """Position of the cheapest point meeting every target (ties: the first), or None."""
    best = None
    for i, (c, m) in enumerate(zip(cost, meets, strict=True)):
        if m and c is not None and np.isfinite(c) and (best is None or c < cost[best]):
            best = i
    return best


def sweep_table(sweep: Sweep, outcomes: Sequence[Any], out: Path) -> pd.DataFrame:
    """One row per point: ``point``, the varied keys, the KPI columns of :func:`point_kpis`,
    ``meets_targets``, ``pareto``, ``cheapest``, ``folder`` (relative to ``out``) and ``error``.
    """
    rows = []
    for p, sc, o in zip(sweep.points, sweep.scenarios, outcomes, strict=True):
        kpis = point_kpis(o.summary if o.ok else None)
        row: dict[str, Any] = {"point": p.index}
        row.update({k: _text(v) if isinstance(v, dt.date) else v for k, v in p.values})
        row.update(kpis)
        row["meets_targets"] = bool(kpis) and meets_targets(sc, kpis)
        row["folder"] = _relative(o.folder, out)
        row["error"] = o.error
        rows.append(row)
    frame = pd.DataFrame(rows)
    for col in ("status", "paid_hours", "cost", "service_level", "occupancy", "gap"):
        if col not in frame:
            frame[col] = None
    cost = pd.to_numeric(frame["cost"], errors="coerce").to_numpy(dtype=float)
    service = pd.to_numeric(frame["service_level"], errors="coerce").to_numpy(dtype=float)
    frame["pareto"] = pareto(cost, service)
    best = cheapest(list(cost), list(frame["meets_targets"]))
    frame["cheapest"] = [i == best for i in range(len(frame))]
    first = ["point", *(a.key for a in sweep.axes)]
    kpi = ["status", "paid_hours", "cost", "service_level"]
    per_queue = [c for c in frame.columns if c.startswith("service_level_")]
    rest = ["occupancy", "gap", "meets_targets", "pareto", "cheapest", "folder", "error"]
    hidden = [c for c in frame.columns if c.startswith(("asa_s_", "abandon_rate_"))]
    return frame[[*first, *kpi, *per_queue, *rest, *hidden]]


def _relative(folder: Path, out: Path) -> str:
    try:
        return folder.resolve().relative_to(out.resolve()).as_posix()
    except ValueError:
        return str(folder)


@dataclass(frozen=True, eq=False)
class SweepResult:
    """A finished sweep: one :class:`~staffplan.jobs.JobOutcome` per point and the table."""

    sweep: Sweep
    outcomes: tuple[Any, ...]
    table: pd.DataFrame

    @property
    def failed(self) -> list[tuple[Point, Any]]:
        return [(p, o) for p, o in zip(self.sweep.points, self.outcomes, strict=True) if not o.ok]


def point_jobs(sweep: Sweep, options: Any, out: Path) -> list[tuple[Any, Scenario, Path]]:
    """(job, the point's scenario, its folder ``out/points/<values>``) per point; each run is
    named after its point.
    """
    from staffplan.jobs import Job

    jobs = []
    for p in sweep.points:
        overrides = (*p.overrides, (("name",), f"{sweep.scenario.name} ({p.label})"))
        sc = from_document(with_overrides(sweep.scenario.raw, overrides), sweep.scenario.path)
        jobs.append((Job(0, overrides, options), sc, out / "points" / p.folder_name))
    return jobs


def run_sweep(
    sweep: Sweep,
    options: Any,
    backend: Any,
    out: Path,
    *,
    reuse: bool = True,
    on_event: Any = None,
    on_reuse: Any = None,
) -> SweepResult:
    """Run every point (reusing folders whose inputs are unchanged) and build the table."""
    from staffplan.io.atomic import check_writable
    from staffplan.jobs import bundle, run_jobs

    check_writable(out)
    outcomes = run_jobs(
        point_jobs(sweep, options, out),
        (bundle(sweep.scenario),),
        backend,
        reuse=reuse,
        on_event=on_event,
        on_reuse=on_reuse,
    )
    return SweepResult(sweep, tuple(outcomes), sweep_table(sweep, outcomes, out))


def write_sweep(result: SweepResult, out: Path) -> list[Path]:
    """Write sweep.csv, frontier.png and sweep.html into ``out``."""
    from staffplan.io.atomic import write_bytes, write_csv, write_text
    from staffplan.report.frontier import frontier_png
    from staffplan.report.html import render_sweep

    sw = result.sweep
    png = frontier_png(result.table, [a.key for a in sw.axes])
    axes = "; ".join(f"{a.key} = {', '.join(_text(v) for v in a.values)}" for a in sw.axes)
    return [
        write_csv(out / "sweep.csv", result.table),
        write_bytes(out / "frontier.png", png),
        write_text(
            out / "sweep.html",
            render_sweep(
                result.table,
                [a.key for a in sw.axes],
                png,
                title=f"staffplan — sweep of {sw.scenario.name}",
                subtitle=f"{len(sw.points)} points: {axes}",
            ),
        ),
    ]
