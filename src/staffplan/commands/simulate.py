"""``staffplan simulate``: discrete-event simulation of a roster against its forecast."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pandas as pd

from staffplan.errors import InputError
from staffplan.io.numbers import json_number


@click.command("simulate")
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--roster",
    "roster_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The roster.csv to simulate (default: out/roster/roster.csv next to the scenario, as "
    "'staffplan roster' writes it, else out/<scenario name>/roster.csv).",
)
@click.option(
    "--replications",
    type=int,
    default=None,
    help="Independent replications [count] (default: the scenario's [simulate] replications, "
    "else 10).",
)
@click.option(
    "--seed",
    type=int,
    default=None,
    help="Random seed [whole number] (default: the scenario's, else 0).",
)
@click.option(
    "--workers",
    type=int,
    default=None,
    help="Processes running replications [count] (default: the scenario's, else 2).",
)
@click.option(
    "--threshold",
    type=float,
    default=None,
    help="Flag intervals whose simulated and promised service level or abandonment differ by "
    "more than this [fraction, 0-1] (default 0.1).",
)
@click.option(
    "--routing",
    type=click.Choice(["allocated", "pooled"]),
    default=None,
    help="allocated: each agent serves the queue the roster allocates it to in each interval, as "
    "the promise assumes; pooled: that queue first, then its other queues (what skill-based "
    "routing gains). Default: the scenario's [simulate] routing, else allocated.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for simulation_intervals.csv and simulation_week.csv (rates [fraction], times "
    "[s]).",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON object: week KPIs per queue (rates [fraction], ASA [s]) with 95 % "
    "half-widths, promises and flagged intervals.",
)
def simulate(
    scenario: Path,
    roster_file: Path | None,
    replications: int | None,
    seed: int | None,
    workers: int | None,
    threshold: float | None,
    routing: str | None,
    out_dir: Path | None,
    as_json: bool,
) -> None:
    """Simulate the roster against the forecast, contact by contact, and compare with the queueing
    promise.

    Arrivals are Poisson (gamma-Poisson with [simulate] dispersion), handle
    times exponential or lognormal, patience exponential (queue patience_s).
    Each on-phone agent is lost to its queue's residual shrinkage at random,
    per interval, as the promise expects. Each agent serves the queue the
    roster allocates it to in each interval (--routing pooled: then its other
    queues by skill priority), longest waiting first; it finishes the contact
    in progress when a break, a loss, a move or the shift end comes.
    """
    from staffplan import limits
    from staffplan.evaluate.sim_scenario import simulate_scenario
    from staffplan.io.atomic import check_writable, write_csv
    from staffplan.io.roster_csv import read_roster_csv
    from staffplan.scenario import load

    scen = load(scenario)
    for name, value in (("--replications", replications), ("--workers", workers)):
        if value is not None and value < 1:
            raise InputError(
                "value out of range", column=name, expected="a whole number >= 1", found=value
            )
    if replications is not None:
        limits.check("replications", replications, column="--replications")
    if workers is not None:
        limits.check("workers", workers, column="--workers")
    if out_dir is not None:
        check_writable(out_dir)
    if threshold is not None and not 0 <= threshold <= 1:
        raise InputError(
            "value out of range",
            column="--threshold",
            expected="a fraction in [0, 1]",
            found=threshold,
        )
    candidates = (
        [roster_file]
        if roster_file is not None
        else [scen.folder / "out" / "roster" / "roster.csv", Path("out") / scen.name / "roster.csv"]
    )
    found = [p for p in candidates if p.exists()]
    if not found:
        raise InputError(
            "roster file not found",
            file=" or ".join(str(p) for p in candidates),
            expected="a roster.csv",
            hint="run 'staffplan roster' first or pass --roster FILE",
        )
    path = found[0]
    sim = simulate_scenario(
        scen,
        read_roster_csv(path),
        replications=replications,
        seed=seed,
        workers=workers,
        threshold=threshold,
        roster_file=path,
        routing=routing,
    )
    intervals, week, note, reps, seed_, thr = (
        sim.intervals,
        sim.week,
        sim.note,
        sim.replications,
        sim.seed,
        sim.threshold,
    )

    files: dict[str, str] = {}
    if out_dir is not None:
        files["intervals"] = str(
            write_csv(out_dir / "simulation_intervals.csv", intervals, float_format="%.6g")
        )
        files["week"] = str(write_csv(out_dir / "simulation_week.csv", week, float_format="%.6g"))
    flagged = sim.flagged
    if as_json:
        queues = {
            str(r["queue"]): {c: json_number(float(r[c]), 4) for c in week.columns if c != "queue"}
            for _, r in week.iterrows()
        }
        flags = [
            {
                "interval_start": r["interval_start"],
                "queue": r["queue"],
                "service_level": json_number(float(r["service_level"]), 4),
                "promised_service_level": json_number(float(r["promised_service_level"]), 4),
                "abandon_rate": json_number(float(r["abandon_rate"]), 4),
                "promised_abandon_rate": json_number(float(r["promised_abandon_rate"]), 4),
            }
            for _, r in flagged.iterrows()
        ]
        payload = {
            "scenario": scen.name,
            "roster": str(path),
            "agents": sim.agents,
            "replications": reps,
            "seed": seed_,
            "threshold": thr,
            "routing": sim.routing,
            "queues": queues,
            "flagged_count": len(flags),
            "flagged": flags,
            "note": note or None,
            "files": files,
        }
        click.echo(json.dumps(payload))
        return
    cols = [
        c
        for c in (
            "queue",
            "offered",
            "service_level",
            "service_level_ci",
            "promised_service_level",
            "asa_s",
            "abandon_rate",
            "promised_abandon_rate",
            "occupancy",
            "promised_occupancy",
        )
        if c in week.columns
    ]
    click.echo(
        f"{scen.name}: {sim.agents} agents, {reps} replications, seed {seed_}, "
        f"{sim.routing} routing"
    )
    with pd.option_context("display.width", 200):
        click.echo(week[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if note:
        click.echo(f"note: {note}")
    else:
        click.echo(
            f"{len(flagged)} interval-queue cells differ from the promise by more than {thr:.2f}"
        )
    for k, v in files.items():
        click.echo(f"wrote {k}: {v}")
