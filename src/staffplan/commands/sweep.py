"""``staffplan sweep``: a grid of scenario points and the cost–service frontier."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import click

from staffplan.commands.jobs import ProgressBar, fail_on_errors, open_backend
from staffplan.commands.run import _check_limits, backend_options


def _fmt(v: Any, pct: bool = False) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    if pct:
        return f"{float(v):.1%}"
    return f"{v:,.0f}" if isinstance(v, float) else str(v)


def _json_value(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if hasattr(v, "item"):  # numpy scalars
        return _json_value(v.item())
    return v


@click.command("sweep")
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--vary",
    "vary",
    multiple=True,
    required=True,
    help="KEY=VALUES: a scenario key by its TOML path and its values, comma-separated or a "
    "whole-number range LO..HI, e.g. shrinkage=0.25,0.30 or queues.voice.service_level=0.8,0.9 "
    "or hires.count=0..12. Repeat for a grid.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder [path]: sweep.csv, sweep.html, frontier.png and points/<values>/ with "
    "each point's run. Default: out/<scenario name>-sweep/.",
)
@click.option(
    "--time-limit",
    type=float,
    default=None,
    help="Roster solver time limit per point [s] (deterministic time with --deterministic). "
    "Default: the scenario's [solver] time_limit_s.",
)
@click.option(
    "--workers",
    type=int,
    default=None,
    help="CP-SAT search workers per point [threads]; also the CPUs each point asks for. Default: "
    "the scenario's [solver] workers.",
)
@click.option(
    "--seed",
    type=int,
    default=None,
    help="Random seed [integer]. Default: the scenario's [solver] seed.",
)
@click.option(
    "--deterministic",
    is_flag=True,
    help="Deterministic roster search [flag]: the same point gives the same roster on any "
    "backend and machine load (slower).",
)
@click.option(
    "--rerun",
    is_flag=True,
    help="Run every point again even if its folder holds a run of the same inputs [flag].",
)
@backend_options
@click.option("--quiet", is_flag=True, help="No progress lines [flag].")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON object with a points list on stdout.",
)
def sweep(
    scenario: Path,
    vary: tuple[str, ...],
    out_dir: Path | None,
    time_limit: float | None,
    workers: int | None,
    seed: int | None,
    deterministic: bool,
    rerun: bool,
    backend: str,
    address: str | None,
    quiet: bool,
    as_json: bool,
) -> None:
    """Run SCENARIO at every combination of the --vary values and draw the cost–service frontier.

    Each point runs the normal pipeline (forecast, requirements, roster, KPIs) into
    points/<values>/ (a folder whose inputs are unchanged is reused). sweep.csv has one row per
    point; frontier.png and sweep.html mark the Pareto-optimal points (no other point is cheaper
    and at least as good) and the cheapest point meeting every queue target.
    """
    from staffplan.jobs import RunOptions, job_cpus
    from staffplan.sweep import check_options, plan_sweep, run_sweep, write_sweep

    _check_limits(time_limit, workers)
    options = RunOptions(time_limit, workers, seed, deterministic)
    sw = plan_sweep(scenario, vary)
    check_options(sw, options)
    out = out_dir if out_dir is not None else Path("out") / f"{sw.scenario.name}-sweep"
    bar = ProgressBar({p.index: p.label for p in sw.points}, len(sw.points), quiet=quiet)
    if not quiet:
        n = len(sw.points)
        click.echo(
            f"sweep of {sw.scenario.name}: {n} point{'s' if n != 1 else ''} on the {backend} "
            "backend",
            err=True,
        )
    with open_backend(backend, address, [job_cpus(sc, options) for sc in sw.scenarios]) as be:
        result = run_sweep(sw, options, be, out, reuse=not rerun, on_event=bar, on_reuse=bar.reused)
    files = write_sweep(result, out)
    table = result.table
    if as_json:
        points = []
        for rec, o in zip(table.to_dict("records"), result.outcomes, strict=True):
            values = {a.key: _json_value(rec[a.key]) for a in sw.axes}
            rest = {k: _json_value(v) for k, v in rec.items() if k not in values}
            points.append(
                {
                    "values": values,
                    **rest,
                    "reused": o.reused,
                    "attempts": o.attempts,
                    "host": o.host,
                }
            )
        best = table.index[table["cheapest"]].tolist()
        click.echo(
            json.dumps(
                {
                    "scenario": sw.scenario.name,
                    "backend": backend,
                    "axes": [
                        {"key": a.key, "values": [_json_value(v) for v in a.values]}
                        for a in sw.axes
                    ],
                    "points": points,
                    "pareto": table.loc[table["pareto"], "point"].tolist(),
                    "cheapest": int(table.loc[best[0], "point"]) if best else None,
                    "files": [str(f) for f in files],
                },
                default=str,
            )
        )
    else:
        keys = [a.key for a in sw.axes]
        width = [max(len(k), 6) for k in keys]
        head = "".join(f"{k:>{w}}  " for k, w in zip(keys, width, strict=True))
        click.echo(f"{head}{'cost':>10}  {'service':>8}  {'gap':>6}  frontier")
        for rec in table.to_dict("records"):
            vals = "".join(f"{str(rec[k]):>{w}}  " for k, w in zip(keys, width, strict=True))
            mark = ("Pareto" if rec["pareto"] else "") + (" cheapest" if rec["cheapest"] else "")
            click.echo(
                f"{vals}{_fmt(rec['cost']):>10}  {_fmt(rec['service_level'], True):>8}  "
                f"{_fmt(rec['gap'], True):>6}  {mark.strip()}"
            )
        best = table[table["cheapest"]]
        if len(best):
            b = best.iloc[0]
            label = ", ".join(f"{k}={b[k]}" for k in keys)
            click.echo(
                f"cheapest point meeting every target: {label} (cost {_fmt(b['cost'])}, service "
                f"level {_fmt(b['service_level'], True)})"
            )
        else:
            click.echo("no point meets every target")
        click.echo(f"wrote {out / 'sweep.csv'}, {out / 'sweep.html'} and {out / 'frontier.png'}")
    fail_on_errors([(p.label, o) for p, o in zip(sw.points, result.outcomes, strict=True)])
