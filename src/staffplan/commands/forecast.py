"""``staffplan forecast``: volumes and handle times per queue and interval, with backtests."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pandas as pd

from staffplan.errors import InputError
from staffplan.forecast.pipeline import ALL_METHODS, ForecastResult, forecast_history, run_scenario
from staffplan.io.atomic import write_csv
from staffplan.io.history import History, read_history
from staffplan.timegrid import TimeGrid


def _write(
    out: Path,
    history: History,
    result: ForecastResult,
    queues: dict[str, str] | None,
    with_backtest: bool,
) -> dict[str, str]:
    from staffplan.forecast.plot import plot_forecast

    frame = result.frame.copy()
    frame["interval_start"] = frame["interval_start"].map(lambda t: t.isoformat())
    files = {"forecast": str(write_csv(out / "forecast.csv", frame, float_format="%.4f"))}
    if with_backtest:
        files["backtest"] = str(write_csv(out / "backtest.csv", result.scores, float_format="%.4f"))
    files["chart"] = str(plot_forecast(history, result.frame, out / "forecast.png", queues=queues))
    return files


def _summary(history: History, result: ForecastResult) -> dict[str, object]:
    f = result.frame
    by_q = f.groupby("queue", sort=False)
    totals = {
        q: {
            "method": result.methods[q],
            "volume": round(float(g["volume"].sum()), 2),
            "aht_seconds": round(
                float((g["volume"] * g["aht_seconds"]).sum() / g["volume"].sum()), 2
            )
            if g["volume"].sum() > 0 and g["aht_seconds"].notna().all()
            else None,
        }
        for q, g in by_q
    }
    return {
        "cutoff": str(result.cutoff),
        "first_interval": f["interval_start"].min().isoformat() if len(f) else None,
        "intervals": int(f["interval_start"].nunique()),
        "rows": len(f),
        "queues": totals,
        "history": {"shape": history.shape, **history.gap_report()},
        "notes": list(result.notes),
    }


@click.command("forecast")
@click.argument("scenario", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--history",
    "history_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A bare history file (CSV/Parquet) to forecast without a scenario.",
)
@click.option(
    "--interval-minutes",
    type=int,
    default=None,
    help="With --history: interval length [min], 15, 30 or 60 (default 30).",
)
@click.option(
    "--timezone",
    default=None,
    help="With --history: IANA timezone of naive timestamps (default UTC).",
)
@click.option(
    "--date-format",
    default=None,
    help="With --history: the file's date format (strptime, e.g. '%d/%m/%Y %H:%M'); default "
    "ISO 8601.",
)
@click.option(
    "--weeks-ahead",
    type=int,
    default=None,
    help="Forecast horizon [weeks] (default: the scenario's grid; 1 with --history).",
)
@click.option(
    "--method",
    type=click.Choice(ALL_METHODS),
    default=None,
    help="Forecast method; auto picks per queue by backtest WAPE [default: scenario's, else auto].",
)
@click.option(
    "--backtest",
    "with_backtest",
    is_flag=True,
    help="Also write backtest.csv: WAPE, MASE, bias [fractions] per queue and method over the "
    "last backtest_weeks [weeks].",
)
@click.option(
    "--backtest-weeks",
    type=int,
    default=None,
    help="Rolling-origin backtest length [weeks] (default: scenario's, else 4).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for forecast.csv (volume [contacts/interval], aht_seconds [s]), backtest.csv "
    "and forecast.png.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON object (totals [contacts], AHT [s], methods, files) on stdout.",
)
def forecast(
    scenario: Path | None,
    history_file: Path | None,
    interval_minutes: int | None,
    timezone: str | None,
    date_format: str | None,
    weeks_ahead: int | None,
    method: str | None,
    with_backtest: bool,
    backtest_weeks: int | None,
    out_dir: Path | None,
    as_json: bool,
) -> None:
    """Forecast volumes [contacts per interval] and handle times [s] per queue and interval.

    Give a SCENARIO file, or --history FILE (with --out) for a bare history.
    """
    if (scenario is None) == (history_file is None):
        raise InputError(
            "give either a SCENARIO file or --history FILE",
            column="SCENARIO",
            expected="exactly one of them",
            hint="staffplan forecast scenarios/example/scenario.toml, or staffplan forecast "
            "--history calls.csv --out out/",
        )
    if weeks_ahead is not None and weeks_ahead < 1:
        raise InputError(
            "bad horizon",
            column="--weeks-ahead",
            expected="a whole number of weeks >= 1",
            found=weeks_ahead,
        )
    if weeks_ahead is not None:
        from staffplan import limits

        limits.check("days", 7 * weeks_ahead, column="--weeks-ahead")
    if out_dir is not None:
        from staffplan.io.atomic import check_writable

        check_writable(out_dir)
    if backtest_weeks is not None and backtest_weeks < 1:
        raise InputError(
            "bad backtest length",
            column="--backtest-weeks",
            expected="a whole number of weeks >= 1",
            found=backtest_weeks,
        )
    queues: dict[str, str] | None = None
    if scenario is not None:
        from dataclasses import replace

        from staffplan.scenario import load

        if interval_minutes is not None or timezone is not None or date_format is not None:
            raise InputError(
                "--interval-minutes, --timezone and --date-format only apply with --history",
                column="--interval-minutes",
                hint="set [grid] interval_minutes and timezone in the scenario file",
            )
        sc = load(scenario)
        if backtest_weeks is not None:
            sc = replace(sc, forecast=replace(sc.forecast, backtest_weeks=backtest_weeks))
        grid = None
        if weeks_ahead is not None:
            g = sc.grid
            grid = TimeGrid(g.start, 7 * weeks_ahead, g.interval_min, g.timezone)
        history, result = run_scenario(sc, method=method, run_backtest=with_backtest, grid=grid)
        queues = {q.name: q.history_name or q.name for q in sc.queues}
    else:
        assert history_file is not None
        if out_dir is None:
            raise InputError(
                "--out is required with --history",
                column="--out",
                expected="a folder for forecast.csv",
                hint="add --out DIR",
            )
        if date_format is not None:
            from staffplan.scenario_file import check_date_format

            check_date_format(date_format, key="--date-format")
        history = read_history(
            history_file,
            timezone=timezone or "UTC",
            interval_min=interval_minutes or 30,
            date_format=date_format,
        )
        result = forecast_history(
            history,
            weeks_ahead=weeks_ahead or 1,
            method=method or "auto",
            backtest_weeks=backtest_weeks or 4,
            run_backtest=with_backtest,
        )
    summary = _summary(history, result)
    if out_dir is not None:
        summary["files"] = _write(out_dir, history, result, queues, with_backtest)
    if with_backtest:
        summary["backtest"] = json.loads(result.scores.to_json(orient="records"))
    if as_json:
        click.echo(json.dumps(summary))
        return
    click.echo(
        f"forecast from {summary['first_interval']} ({summary['intervals']} intervals), fitted "
        f"on history before {summary['cutoff']}"
    )
    for q, t in summary["queues"].items():  # type: ignore[union-attr]
        aht = f"{t['aht_seconds']:.0f} s" if t["aht_seconds"] is not None else "unknown"
        click.echo(f"  {q:<16} {t['volume']:>10.0f} contacts  AHT {aht:<8} method {t['method']}")
    gaps = history.gaps
    if gaps:
        click.echo(
            f"history gaps (treated as missing): {len(gaps)} days, e.g. "
            + ", ".join(map(str, gaps[:5]))
        )
    if history.unrecorded_weekdays:
        click.echo(
            "weekdays never recorded (forecast as zero): "
            + ", ".join(summary["history"]["weekdays_never_recorded"])
        )  # type: ignore[index]
    for note in result.notes:
        click.echo(f"note: {note}")
    if with_backtest:
        table = result.scores.copy()
        click.echo(
            table.to_string(index=False, float_format=lambda v: f"{v:.3f}" if pd.notna(v) else "-")
        )
    if out_dir is not None:
        for kind, path in summary["files"].items():  # type: ignore[union-attr]
            click.echo(f"wrote {kind}: {path}")
