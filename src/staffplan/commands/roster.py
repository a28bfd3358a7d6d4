"""``staffplan roster``: build a roster with CP-SAT and write its tables."""

from __future__ import annotations

import json
import math
from pathlib import Path

import click

from staffplan.errors import InputError, ScenarioError


def _num(x: float | None) -> float | None:
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else float(x)


@click.command("roster")
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--time-limit",
    type=float,
    default=None,
    help="Solver time limit [s] (wall clock; deterministic time with --deterministic). "
    "Default: the scenario's [solver] time_limit_s.",
)
@click.option(
    "--workers",
    type=int,
    default=None,
    help="CP-SAT search workers [threads]. Default: the scenario's [solver] workers.",
)
@click.option(
    "--seed",
    type=int,
    default=None,
    help="Random seed [integer]; same inputs and seed give the same roster.",
)
@click.option(
    "--requirements",
    "requirements_csv",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Requirements CSV [agents per interval and queue] instead of the scenario's.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder [path] (default: out/roster next to the scenario).",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON object (status, objective, bound, gap, solve_seconds, week KPIs) on "
    "stdout.",
)
@click.option(
    "--deterministic",
    is_flag=True,
    help="Deterministic parallel search [flag]: same roster for the same seed on any machine "
    "load (slower).",
)
@click.option("--quiet", is_flag=True, help="No progress lines [flag].")
def roster(
    scenario: Path,
    time_limit: float | None,
    workers: int | None,
    seed: int | None,
    requirements_csv: Path | None,
    out_dir: Path | None,
    as_json: bool,
    deterministic: bool,
    quiet: bool,
) -> None:
    """Build a roster for SCENARIO and write roster.csv, coverage.csv, agents.csv, kpis.csv,
    roster.xlsx.
    """
    from staffplan.evaluate.kpis import roster_kpis
    from staffplan.io.atomic import write_csv, write_json
    from staffplan.report.xlsx import grid_frame, write_roster_xlsx
    from staffplan.roster.engine import plan
    from staffplan.roster.load import load_problem, read_requirements
    from staffplan.scenario import SolveSettings, load

    sc = load(scenario)
    limit = sc.solver.time_limit_s if time_limit is None else time_limit
    n_workers = sc.solver.workers if workers is None else workers
    if not limit > 0:
        raise InputError(
            "bad time limit", column="--time-limit", expected="seconds > 0", found=limit
        )
    if n_workers < 1:
        raise InputError(
            "bad worker count", column="--workers", expected="a whole number >= 1", found=n_workers
        )
    req = read_requirements(requirements_csv, sc.grid) if requirements_csv is not None else None
    try:
        problem = load_problem(sc, req)
    except ImportError as exc:
        raise ScenarioError(
            f"cannot compute requirements from the forecast ({exc})",
            file=sc.path,
            key="data.requirements",
            hint="give a requirements CSV under [data] or with --requirements",
        ) from None
    settings = SolveSettings(
        float(limit),
        int(n_workers),
        int(sc.solver.seed if seed is None else seed),
        deterministic=deterministic,
        lp_bound=sc.solver.lp_bound,
        improve_share=float(sc.solver.improve_share),
        search_share=float(sc.solver.search_share),
        lns_share=float(sc.solver.lns_share),
        colgen_share=float(sc.solver.colgen_share),
    )

    def progress(elapsed: float, obj: float, bound: float, gap: float) -> None:
        click.echo(
            f"  {elapsed:7.2f} s  objective {obj:14.2f}  bound {bound:14.2f}  gap {gap:7.2%}",
            err=True,
        )

    show = sc.solver.log_progress and not quiet
    if show:
        click.echo(
            f"roster: {len(problem.agents)} agents, {problem.grid.days} days, "
            f"{len(problem.variants)} shift variants; solving for up to "
            f"{limit:g} s on {n_workers} worker(s)",
            err=True,
        )
    outcome = plan(problem, settings, progress if show else None)
    res, ro = outcome.result, outcome.roster
    out = out_dir if out_dir is not None else sc.folder / "out" / "roster"
    write_csv(out / "roster.csv", ro.roster)
    write_csv(out / "coverage.csv", ro.coverage)
    write_csv(out / "agents.csv", ro.agents)
    kp = roster_kpis(problem, ro.allocation, sc)
    week = None
    if kp is not None:
        per, week = kp
        write_csv(out / "kpis.csv", per)
        write_csv(out / "kpis_week.csv", week)
    absent = _absence_cells(problem)
    write_roster_xlsx(
        out / "roster.xlsx",
        grid_frame(ro.roster, ro.agents, problem.grid.dates(), absent),
        ro.coverage,
        week,
    )
    short = ro.coverage[ro.coverage["difference"] < 0]
    doc = {
        "status": res.status,
        "objective": _num(res.objective),
        "bound": _num(res.bound),
        "gap": _num(res.gap),
        "solve_seconds": round(res.solve_seconds, 3),
        "first_solution_seconds": _num(res.first_solution_seconds),
        "agents_rostered": int(ro.roster["agent_id"].nunique()),
        "shifts": len(ro.roster),
        "paid_hours": round(float(ro.roster["paid_minutes"].sum()) / 60.0, 2),
        "under_covered_agent_intervals": int(-short["difference"].sum()),
        "week_kpis": []
        if week is None
        else [
            {k: (_num(v) if isinstance(v, float) else v) for k, v in r.items()}
            for r in week.to_dict("records")
        ],
        "notes": list(outcome.notes),
        "out": str(out),
    }
    write_json(out / "result.json", doc)
    if as_json:
        click.echo(json.dumps(doc))
        return
    bound = "unknown" if res.bound is None else f"{res.bound:.2f}"
    gap = "unknown" if res.gap is None else f"{res.gap:.2%}"
    click.echo(
        f"status {res.status}: objective {res.objective:.2f}, bound {bound}, gap {gap}, solved "
        f"in {res.solve_seconds:.1f} s"
    )
    click.echo(
        f"{doc['shifts']} shifts for {doc['agents_rostered']} agents, {doc['paid_hours']:.1f} "
        f"paid hours; {doc['under_covered_agent_intervals']} under-covered "
        "agent-intervals"
    )
    if week is not None:
        for r in week.itertuples(index=False):
            click.echo(
                f"  {r.queue:8s} volume {r.volume:9.0f}  service level {r.service_level:6.1%}  "
                f"ASA {r.asa_s:7.1f} s  occupancy {r.occupancy:6.1%}"
            )
    for note in outcome.notes:
        click.echo(f"note: {note}")
    click.echo(f"wrote {out}")


def _absence_cells(problem: object) -> object:
    """Whole-day absences as (agent_id, date, kind) rows for the grid."""
    import pandas as pd

    p = problem
    rows = []
    for ab in p.absences:  # type: ignore[attr-defined]
        for d in p.grid.dates():  # type: ignore[attr-defined]
            d0 = p.grid.local_midnight(d)  # type: ignore[attr-defined]
            d1 = p.grid.local_midnight(d + pd.Timedelta(days=1).to_pytimedelta())  # type: ignore[attr-defined]
            if ab.start <= d0 and d1 <= ab.end:
                rows.append((ab.agent_id, d.isoformat(), ab.kind))
    return pd.DataFrame(rows, columns=["agent_id", "date", "kind"])
