"""Curtois & Qu employee shift-scheduling benchmark: import, roster, verify, compare.

For every ``Instance*.txt`` in a folder: import it (``staffplan import
curtois``), solve it with the roster engine through the command line exactly
as a user would (``staffplan roster DIR/scenario.toml --time-limit T --workers N --json
--out DIR/out``, one process per instance), verify ``roster.csv`` with the
independent checker (``tests/importers/curtois_checker.py``: every hard rule,
and the objective recomputed from the roster alone) and print a Markdown table:
instance, engine objective, bound, best known, gap to best known, wall time,
checker verdict.

Best-known values come from the folder's README table (``| InstanceN | days |
best known | status |``) or, failing that, from ``BEST_KNOWN`` below.

Usage:
    python benchmarks/curtois.py [--dir /work/shared/benchmarks/curtois]
        [--time-limit 60] [--workers 2] [--only 1,2,3] [--keep DIR] [--deterministic]
        [--seed 0]

``--seed`` is the engine's random seed, passed as ``staffplan roster --seed`` (the scenario's
``[solver] seed`` otherwise: 0); the table gives the seed of each row.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.importers.curtois_checker import check_files  # noqa: E402

from staffplan.importers.curtois import parse_instance, to_scenario  # noqa: E402

DEFAULT_DIR = Path("/work/shared/benchmarks/curtois")
# Published best-known objectives (schedulingbenchmarks.org, Curtois & Qu 2014).
BEST_KNOWN: dict[str, int] = {
    "Instance1": 607,
    "Instance2": 828,
    "Instance3": 1001,
    "Instance4": 1716,
    "Instance7": 1056,
    "Instance8": 1300,
}


@dataclass(frozen=True)
class Row:
    """One instance's result; objective/bound in benchmark units, time [s]."""

    instance: str
    status: str
    objective: float | None
    bound: float | None
    best_known: int | None
    seconds: float
    verdict: str
    load: float | None = None
    """The machine's 1-minute load average when the instance started."""
    bound_source: str | None = None
    """Which stage proved the bound (the engine's ``bound_source``)."""
    seed: int = 0
    """The engine's random seed of the run."""

    @property
    def gap_to_best(self) -> float | None:
        """(objective − best known) / best known [fraction]."""
        if self.objective is None or not self.best_known:
            return None
        return (self.objective - self.best_known) / self.best_known


def best_known_from_readme(folder: Path) -> dict[str, int]:
    """``{instance: value}`` from a README Markdown table, merged over ``BEST_KNOWN``."""
    values = dict(BEST_KNOWN)
    readme = folder / "README.md"
    if readme.is_file():
        for m in re.finditer(
            r"^\|\s*(Instance\d+)\s*\|[^|\n]*\|\s*(\d+)\s*\|", readme.read_text(), flags=re.M
        ):
            values[m.group(1)] = int(m.group(2))
    return values


def _number(x: object) -> float | None:
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) else None


def run_one(
    path: Path,
    work: Path,
    time_limit_s: float,
    workers: int,
    best: dict[str, int],
    extra: tuple[str, ...] = (),
    seed: int = 0,
) -> Row:
    """Import, solve (a ``staffplan roster`` process with ``--seed seed``) and check one
    instance."""
    inst = parse_instance(path)
    load = os.getloadavg()[0]
    folder = work / inst.name
    scenario = to_scenario(inst, folder, force=True, time_limit_s=time_limit_s, workers=workers)
    out = folder / "out"
    cmd = [
        sys.executable,
        "-m",
        "staffplan",
        "roster",
        str(scenario),
        "--time-limit",
        f"{time_limit_s:g}",
        "--workers",
        str(workers),
        "--seed",
        str(seed),
        "--json",
        "--out",
        str(out),
        *extra,
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        msg = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        return Row(
            inst.name,
            f"exit {proc.returncode}",
            None,
            None,
            best.get(inst.name),
            seconds,
            f"engine failed: {msg[:160]}",
            load,
            seed=seed,
        )
    doc = json.loads(proc.stdout)
    objective, bound = _number(doc.get("objective")), _number(doc.get("bound"))
    source = doc.get("bound_source")
    source = str(source) if source else None
    rosters = sorted(out.rglob("roster.csv"))
    if not rosters:
        return Row(
            inst.name,
            str(doc.get("status")),
            objective,
            bound,
            best.get(inst.name),
            seconds,
            "no roster.csv written",
            load,
            source,
            seed,
        )
    verdict = check_files(path, rosters[0], start=None)
    parts = [
        "feasible"
        if verdict.feasible
        else f"{len(verdict.violations)} violations: {verdict.violations[0]}"
    ]
    if objective is not None and round(objective) != verdict.objective:
        parts.append(f"objective mismatch: checker {verdict.objective} vs engine {objective:g}")
    elif objective is not None:
        parts.append("objective confirmed")
    return Row(
        inst.name,
        str(doc.get("status")),
        objective,
        bound,
        best.get(inst.name),
        seconds,
        "; ".join(parts),
        load,
        source,
        seed,
    )


def _fmt(x: float | None, pattern: str = "{:g}") -> str:
    return "—" if x is None else pattern.format(x)


def table(rows: list[Row]) -> str:
    """The results as a Markdown table with a mean-gap line."""
    lines = [
        "| instance | status | objective | bound | bound from | best known | gap to best "
        "| time [s] | load | seed | checker |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.instance} | {r.status} | {_fmt(r.objective)} | {_fmt(r.bound)} | "
            f"{r.bound_source or '—'} | {_fmt(r.best_known)} | {_fmt(r.gap_to_best, '{:.2%}')} | "
            f"{r.seconds:.1f} | {_fmt(r.load, '{:.1f}')} | {r.seed} | {r.verdict} |"
        )
    gaps = [r.gap_to_best for r in rows if r.gap_to_best is not None]
    if gaps:
        lines.append(
            f"\nmean gap to best known over {len(gaps)} instances: {sum(gaps) / len(gaps):.2%}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--dir",
        type=Path,
        default=DEFAULT_DIR,
        help="folder with Instance*.txt (and README.md with best-known values)",
    )
    ap.add_argument(
        "--time-limit", type=float, default=60.0, help="solver time limit per instance [s]"
    )
    ap.add_argument(
        "--workers",
        type=int,
        default=2,
        help="CP-SAT workers [threads], written to each scenario's [solver]",
    )
    ap.add_argument(
        "--only",
        default="",
        help="comma-separated instance numbers, e.g. 1,2,3 (default: all found)",
    )
    ap.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="folder to keep the scenarios and rosters in (default: a temporary folder)",
    )
    ap.add_argument(
        "--deterministic",
        action="store_true",
        help="solve with --deterministic (the limit becomes deterministic time)",
    )
    ap.add_argument(
        "--seed", type=int, default=0, help="the engine's random seed (staffplan roster --seed)"
    )
    args = ap.parse_args(argv)
    paths = sorted(
        args.dir.glob("Instance*.txt"), key=lambda p: int(re.sub(r"\D", "", p.stem) or 0)
    )
    if args.only:
        wanted = {f"Instance{n.strip()}" for n in args.only.split(",") if n.strip()}
        paths = [p for p in paths if p.stem in wanted]
    if not paths:
        print(f"no Instance*.txt in {args.dir}", file=sys.stderr)
        return 2
    best = best_known_from_readme(args.dir)
    rows = []
    with tempfile.TemporaryDirectory(prefix="curtois-") as tmp:
        work = args.keep or Path(tmp)
        for p in paths:
            extra = ("--deterministic",) if args.deterministic else ()
            row = run_one(p, work, args.time_limit, args.workers, best, extra, args.seed)
            rows.append(row)
            print(
                f"{row.instance}: {row.status} objective={_fmt(row.objective)} "
                f"bound={_fmt(row.bound)} best={_fmt(row.best_known)} "
                f"time={row.seconds:.1f}s seed={row.seed} {row.verdict}",
                file=sys.stderr,
                flush=True,
            )
    print(
        f"python benchmarks/curtois.py --dir {args.dir} --time-limit {args.time_limit:g} "
        f"--workers {args.workers}"
        + (f" --only {args.only}" if args.only else "")
        + (" --deterministic" if args.deterministic else "")
        + f" --seed {args.seed}"
    )
    print()
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
