"""``staffplan requirements``: agents needed per interval and queue for a scenario."""

from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np

from staffplan.io.atomic import check_writable, write_csv


@click.command("requirements")
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--forecast",
    "forecast_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Forecast CSV/Parquet (interval_start, queue, volume [contacts/interval], aht_seconds "
    "[s]); default: forecast the scenario.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for requirements.csv (agents [agents], times [s], fractions [0-1]).",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON object: per-queue peak and total agent-intervals [agents], files.",
)
def requirements(
    scenario: Path, forecast_file: Path | None, out_dir: Path | None, as_json: bool
) -> None:
    """Agents needed per interval and queue [agents], on-phone heads whose promised service meets
    the targets after residual shrinkage, and paid heads.
    """
    from staffplan.pipeline import staffing
    from staffplan.scenario import load

    sc = load(scenario)
    if out_dir is not None:
        check_writable(out_dir)
    req = staffing(sc, forecast_file)
    files: dict[str, str] = {}
    if out_dir is not None:
        frame = req.copy()
        frame["interval_start"] = frame["interval_start"].map(lambda t: t.isoformat())
        files["requirements"] = str(
            write_csv(out_dir / "requirements.csv", frame, float_format="%.6g")
        )
    hours = sc.grid.interval_min / 60.0
    queues = {}
    for name, g in req.groupby("queue", sort=False):
        live = g[g["volume"] > 0]
        queues[str(name)] = {
            "channel": str(g["channel"].iloc[0]),
            "intervals": len(g),
            "volume": round(float(g["volume"].sum()), 3),
            "peak_required_agents": int(g["required_agents"].max()),
            "required_agent_hours": round(float(g["required_agents"].sum()) * hours, 2),
            "on_phone_agent_hours": round(float(g["on_phone_agents"].sum()) * hours, 2),
            "scheduled_agent_hours": round(float(g["scheduled_agents"].sum()) * hours, 2),
            "min_service_level": round(float(live["service_level"].min()), 4)
            if len(live)
            else None,
            "mean_occupancy": round(float(np.average(live["occupancy"], weights=live["volume"])), 4)
            if len(live)
            else None,
        }
    summary = {"scenario": sc.name, "rows": len(req), "queues": queues, "files": files}
    if as_json:
        click.echo(json.dumps(summary))
        return
    click.echo(f"Requirements for scenario '{sc.name}' ({len(req)} rows)")
    click.echo(
        f"{'queue':<14}{'channel':<12}{'volume':>10}{'peak':>7}"
        f"{'req. h':>10}{'phone h':>10}{'sched. h':>10}{'min SL':>8}"
    )
    for name, q in queues.items():
        sl = "-" if q["min_service_level"] is None else f"{q['min_service_level']:.1%}"
        click.echo(
            f"{name:<14}{q['channel']:<12}{q['volume']:>10.1f}{q['peak_required_agents']:>7}"
            f"{q['required_agent_hours']:>10.1f}{q['on_phone_agent_hours']:>10.1f}"
            f"{q['scheduled_agent_hours']:>10.1f}{sl:>8}"
        )
    for f in files.values():
        click.echo(f"wrote {f}")
