"""``staffplan simulate``: discrete-event simulation of a roster against its forecast."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import click
import pandas as pd

from staffplan.errors import InputError


def _num(v: Any) -> float | None:
    f = float(v)
    return None if math.isnan(f) else round(f, 4)


@click.command("simulate")
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--roster", "roster_file", type=click.Path(dir_okay=False, path_type=Path), default=None, help="The roster.csv to simulate (default: out/<scenario name>/roster.csv).")
@click.option("--replications", type=int, default=None, help="Independent replications [count] (default: the scenario's [simulate] replications, else 10).")
@click.option("--seed", type=int, default=None, help="Random seed [whole number] (default: the scenario's, else 0).")
@click.option("--workers", type=int, default=None, help="Processes running replications [count] (default: the scenario's, else 2).")
@click.option("--threshold", type=float, default=None, help="Flag intervals whose simulated and promised service level or abandonment differ by more than this [fraction, 0-1] (default 0.1).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Folder for simulation_intervals.csv and simulation_week.csv (rates [fraction], times [s]).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object: week KPIs per queue (rates [fraction], ASA [s]) with 95 % half-widths, promises and flagged intervals.")
def simulate(scenario: Path, roster_file: Path | None, replications: int | None, seed: int | None, workers: int | None, threshold: float | None, out_dir: Path | None, as_json: bool) -> None:
    """Simulate the roster against the forecast, contact by contact, and compare with the queueing promise.

    Arrivals are Poisson (gamma-Poisson with [simulate] dispersion), handle
    times exponential or lognormal, patience exponential (queue patience_s).
    Agents take contacts by skill priority, then longest waiting; they finish
    the contact in progress when a break or shift end comes.
    """
    from staffplan.evaluate.sim_compare import (
        compare,
        promise_from_queueing,
        promise_week,
        queueing_available,
    )
    from staffplan.evaluate.sim_inputs import (
        forecast_arrays,
        queue_settings,
        roster_arrays,
        simulate_settings,
    )
    from staffplan.evaluate.simulate import simulate_week
    from staffplan.forecast.pipeline import forecast_scenario
    from staffplan.io.atomic import write_csv
    from staffplan.scenario import load
    from staffplan.store import read_roster_csv

    scen = load(scenario)
    cfg = simulate_settings(scen)
    for name, value, low in (("--replications", replications, 1), ("--workers", workers, 1)):
        if value is not None and value < low:
            raise InputError("value out of range", column=name, expected=f"a whole number >= {low}", found=value)
    if threshold is not None and not 0 <= threshold <= 1:
        raise InputError("value out of range", column="--threshold", expected="a fraction in [0, 1]", found=threshold)
    reps = replications if replications is not None else cfg["replications"]
    seed_ = seed if seed is not None else cfg["seed"]
    workers_ = min(workers if workers is not None else cfg["workers"], 2)
    thr = threshold if threshold is not None else cfg["threshold"]

    path = roster_file if roster_file is not None else Path("out") / scen.name / "roster.csv"
    if not path.exists():
        raise InputError("roster file not found", file=path, expected="a roster.csv", hint="run 'staffplan roster' first or pass --roster FILE")
    roster = read_roster_csv(path)
    arrays = roster_arrays(roster, scen.grid, scen.queues, file=path)
    names = [q.name for q in scen.queues]
    arrivals, aht = forecast_arrays(forecast_scenario(scen), scen.grid, names)
    qsim = [queue_settings(q, cfg["handle"], cfg["handle_cv"]) for q in scen.queues]
    interval_min = scen.grid.interval_min
    result = simulate_week(arrivals, aht, interval_min, arrays.on_phone, arrays.skills, qsim, dispersion=cfg["dispersion"], replications=reps, seed=seed_, workers=workers_)

    intervals = result.intervals
    week = result.week
    note = ""
    if queueing_available():
        agents_q = intervals["agents"].to_numpy().reshape(len(names), -1)
        promise = promise_from_queueing(arrivals, aht, interval_min, agents_q, scen.queues)
        intervals = compare(intervals, promise, thr)
        week = week.merge(promise_week(promise, arrivals, names), on="queue", how="left")
    else:
        note = "queueing core (staffplan.queueing) not installed: no promise to compare with"
    intervals.insert(1, "interval_start", [t.isoformat() for t in scen.grid.starts[intervals["interval"].to_numpy()]])

    files: dict[str, str] = {}
    if out_dir is not None:
        files["intervals"] = str(write_csv(out_dir / "simulation_intervals.csv", intervals, float_format="%.6g"))
        files["week"] = str(write_csv(out_dir / "simulation_week.csv", week, float_format="%.6g"))
    flagged = intervals[intervals["flagged"]] if "flagged" in intervals else intervals.iloc[0:0]
    if as_json:
        queues = {str(r["queue"]): {c: _num(r[c]) for c in week.columns if c != "queue"} for _, r in week.iterrows()}
        flags = [
            {"interval_start": r["interval_start"], "queue": r["queue"], "service_level": _num(r["service_level"]), "promised_service_level": _num(r["promised_service_level"]), "abandon_rate": _num(r["abandon_rate"]), "promised_abandon_rate": _num(r["promised_abandon_rate"])}
            for _, r in flagged.iterrows()
        ]
        payload = {
            "scenario": scen.name, "roster": str(path), "agents": len(arrays.agent_ids), "replications": reps, "seed": seed_,
            "threshold": thr, "queues": queues, "flagged_count": len(flags), "flagged": flags, "note": note or None, "files": files,
        }  # fmt: skip
        click.echo(json.dumps(payload))
        return
    cols = [c for c in ("queue", "offered", "service_level", "service_level_ci", "promised_service_level", "asa_s", "abandon_rate", "promised_abandon_rate", "occupancy") if c in week.columns]
    click.echo(f"{scen.name}: {len(arrays.agent_ids)} agents, {reps} replications, seed {seed_}")
    with pd.option_context("display.width", 200):
        click.echo(week[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if note:
        click.echo(f"note: {note}")
    else:
        click.echo(f"{len(flagged)} interval-queue cells differ from the promise by more than {thr:.2f}")
    for k, v in files.items():
        click.echo(f"wrote {k}: {v}")
