"""``staffplan roster``: build a roster with CP-SAT and write its tables."""

from __future__ import annotations

import json
from pathlib import Path

import click


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
    from staffplan.pipeline import (
        check_out_folder,
        requirements_for,
        roster_doc,
        run_roster,
        write_roster,
    )
    from staffplan.scenario import load
    from staffplan.settings import solve_settings

    sc = load(scenario)
    sc.check_files()
    overrides = {"time_limit_s": time_limit, "workers": workers, "seed": seed}
    settings = solve_settings(sc, {**overrides, "deterministic": deterministic})
    out = out_dir if out_dir is not None else sc.folder / "out" / "roster"
    check_out_folder(out, [sc])
    show = sc.solver.log_progress and not quiet

    def progress(line: str) -> None:
        click.echo(f"  {line}", err=True)

    req = requirements_for(sc, requirements_csv)
    if show:
        click.echo(
            f"roster: solving for up to {settings.time_limit_s:g} "
            f"{'deterministic ' if deterministic else ''}s on {settings.workers} worker(s)",
            err=True,
        )
    run = run_roster(
        sc,
        requirements=req,
        **overrides,
        deterministic=deterministic,
        echo=progress if show else None,
    )
    write_roster(run, out)  # the folder holds one run's files, never a mix
    doc = roster_doc(run, out)
    for w in run.outcome.warnings:
        click.echo(f"warning: {w}", err=True)
    if as_json:
        click.echo(json.dumps(doc))
        return
    res = run.outcome.result
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
    if len(run.kpis):
        for r in run.week.itertuples(index=False):
            click.echo(
                f"  {r.queue:8s} volume {r.volume:9.0f}  service level {r.service_level:6.1%}  "
                f"ASA {r.asa_s:7.1f} s  occupancy {r.occupancy:6.1%}"
            )
    for note in run.outcome.notes:
        click.echo(f"note: {note}")
    click.echo(f"wrote {out}")
