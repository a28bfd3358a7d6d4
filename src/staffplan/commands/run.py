"""``staffplan run`` and ``staffplan compare``: scenarios end to end."""

from __future__ import annotations

import json
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import click

from staffplan.errors import InputError


def _default_out(name: str) -> Path:
    return Path("out") / name


def _check_limits(time_limit: float | None, workers: int | None) -> None:
    from staffplan import limits

    if time_limit is not None and not time_limit > 0:
        raise InputError(
            "bad time limit", column="--time-limit", expected="seconds > 0", found=time_limit
        )
    if time_limit is not None:
        limits.check("time_limit_s", time_limit, column="--time-limit")
    if workers is not None and workers < 1:
        raise InputError(
            "bad worker count", column="--workers", expected="a whole number >= 1", found=workers
        )
    if workers is not None:
        limits.check("workers", workers, column="--workers")


def run_one(
    path: str,
    out: str | None,
    time_limit: float | None,
    workers: int | None,
    seed: int | None,
    simulate: bool,
    reuse: bool,
    quiet: bool,
    deterministic: bool = False,
    lang: str = "en",
) -> dict[str, Any]:
    """``comparison.run_one`` into ``out`` (default out/<name>/), its progress on stderr unless
    ``quiet``; returns its summary (picklable, for a process pool).
    """
    from staffplan import comparison

    if out is None:
        from staffplan.scenario import load

        out = str(_default_out(load(path).name))

    def echo(line: str) -> None:
        if not quiet:
            click.echo(line, err=True)

    return comparison.run_one(
        path, out, time_limit, workers, seed, simulate, reuse, deterministic, lang, echo
    )


def _pooled_run_one(*args: Any) -> dict[str, Any]:
    """:func:`run_one` in a pool process, its warnings printed as ``warning:`` lines."""
    from staffplan.cli import warnings_to_stderr

    with warnings_to_stderr():
        return run_one(*args)


SHARED_OPTIONS = [
    click.option(
        "--time-limit",
        type=float,
        default=None,
        help="Roster solver time limit per scenario [s]. Default: the scenario's [solver] "
        "time_limit_s.",
    ),
    click.option(
        "--workers",
        type=int,
        default=None,
        help="CP-SAT search workers per scenario [threads]. Default: the scenario's [solver] "
        "workers.",
    ),
    click.option(
        "--seed",
        type=int,
        default=None,
        help="Random seed [integer]. Default: the scenario's [solver] seed.",
    ),
    click.option(
        "--deterministic",
        is_flag=True,
        help="Deterministic roster search [flag]: the time limit is CP-SAT deterministic time, so "
        "the roster is the same on any machine load (slower).",
    ),
    click.option(
        "--simulate",
        is_flag=True,
        help="Add a discrete-event simulation of the roster to the KPIs and report [flag].",
    ),
    click.option("--quiet", is_flag=True, help="No progress lines [flag]."),
    click.option(
        "--lang",
        default="en",
        show_default=True,
        help="Language of the HTML report (en, es ...: a catalog under staffplan/i18n/locale).",
    ),
]


def backend_options(f: Any) -> Any:
    """``--backend`` and ``--address``: where the runs go (the local pool or a Ray cluster)."""
    from staffplan.backends import BACKENDS

    f = click.option(
        "--address",
        default=None,
        help="Ray cluster to run on, host:port of its head node [address]; with --backend ray, "
        "run on a node of the cluster. Default: $RAY_ADDRESS, else a Ray instance started on "
        "this machine.",
    )(f)
    return click.option(
        "--backend",
        type=click.Choice(BACKENDS),
        default="local",
        show_default=True,
        help="Where the runs go: local worker processes, or tasks on a Ray cluster [name].",
    )(f)


def shared(f: Any) -> Any:
    for opt in reversed(SHARED_OPTIONS):
        f = opt(f)
    return f


def _fmt(v: Any, unit: str) -> str:
    if v is None:
        return "–"
    if unit == "fraction":
        return f"{v:.1%}"
    return f"{v:,.1f}" if isinstance(v, float) else str(v)


@click.command("run")
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder [path]. Default: out/<scenario name>/.",
)
@shared
@click.option(
    "--json", "as_json", is_flag=True, help="Print the run's summary as one JSON object on stdout."
)
def run(
    scenario: Path,
    out_dir: Path | None,
    time_limit: float | None,
    workers: int | None,
    seed: int | None,
    deterministic: bool,
    simulate: bool,
    quiet: bool,
    lang: str,
    as_json: bool,
) -> None:
    """Forecast, requirements, roster, KPIs and report for SCENARIO, in one go.

    Writes forecast.csv, requirements.csv, roster.csv, coverage.csv, agents.csv,
    kpis.csv, kpis_week.csv, roster.xlsx, calendars/*.ics, summary.json and
    report.html into the output folder.
    """
    from staffplan.i18n import check_language
    from staffplan.pipeline import COMPARE_METRICS

    _check_limits(time_limit, workers)
    check_language(lang)
    s = run_one(
        str(scenario),
        str(out_dir) if out_dir else None,
        time_limit,
        workers,
        seed,
        simulate,
        False,
        quiet,
        deterministic,
        lang,
    )
    if as_json:
        click.echo(json.dumps(s))
        return
    click.echo(
        f"{s['scenario']}: {s['status']}, objective {s['objective']}, gap "
        f"{_fmt(s['gap'], 'fraction')}"
    )
    for key, label, unit, _ in COMPARE_METRICS:
        click.echo(
            f"  {label:<34} {_fmt(s.get(key), unit):>12} "
            f"{'' if unit in ('fraction', 'FTE') else unit}"
        )
    for note in s["notes"][:8]:
        click.echo(f"note: {note}")
    click.echo(f"wrote {s['out']} (open report.html)")


@click.command("compare")
@click.argument(
    "scenarios", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out") / "compare",
    help="Folder for comparison.csv and comparison.html [path]; each scenario's own outputs go "
    "to <folder>/<name>/ (never to an earlier 'staffplan run' folder).",
)
@click.option(
    "--rerun",
    is_flag=True,
    help="Run every scenario again even if cached results match its inputs [flag].",
)
@shared
@backend_options
@click.option(
    "--json", "as_json", is_flag=True, help="Print the comparison as one JSON object on stdout."
)
def compare(
    scenarios: tuple[Path, ...],
    out_dir: Path,
    rerun: bool,
    time_limit: float | None,
    workers: int | None,
    seed: int | None,
    deterministic: bool,
    simulate: bool,
    quiet: bool,
    backend: str,
    address: str | None,
    lang: str,
    as_json: bool,
) -> None:
    """Run (or reuse cached runs of) several SCENARIOS and lay their KPIs side by side.

    The first scenario is the baseline: the table shows each other scenario's
    difference to it. Scenarios run in parallel processes when the machine has
    more cores than one solve uses.
    """
    from staffplan.comparison import check_scenarios, collect
    from staffplan.i18n import Lang, check_language
    from staffplan.io.atomic import check_writable, write_csv, write_text
    from staffplan.pipeline import check_out_folder
    from staffplan.report.html import render_comparison

    _check_limits(time_limit, workers)
    check_language(lang)
    loaded = check_scenarios(scenarios)  # validate all before running any
    names = [s.name for s in loaded]
    check_writable(out_dir)
    for sc in loaded:
        check_out_folder(out_dir / sc.name, loaded)
    per_solve = workers or max(s.solver.workers for s in loaded)
    pool = max(1, min(len(loaded), (os.cpu_count() or 1) // per_solve))
    args = [
        (
            str(p),
            str(out_dir / sc.name),
            time_limit,
            workers,
            seed,
            simulate,
            not rerun,
            quiet,
            deterministic,
            lang,
        )
        for p, sc in zip(scenarios, loaded, strict=True)
    ]
    if backend != "local" or address is not None:
        from staffplan.commands.jobs import run_scenarios
        from staffplan.jobs import RunOptions

        options = RunOptions(time_limit, workers, seed, deterministic, simulate, lang)
        folders = [out_dir / s.name for s in loaded]
        summaries = run_scenarios(
            loaded, folders, options, backend, address, reuse=not rerun, quiet=quiet
        )
    elif pool > 1:
        with ProcessPoolExecutor(max_workers=pool) as ex:
            summaries = list(ex.map(_pooled_run_one, *zip(*args, strict=True)))
    else:
        summaries = [run_one(*a) for a in args]
    done = collect(summaries)
    table = done.table
    write_csv(out_dir / "comparison.csv", table)
    write_text(
        out_dir / "comparison.html",
        render_comparison(
            table,
            done.coverage,
            done.service,
            title=Lang(lang).gettext("staffplan — scenario comparison"),
            lang=Lang(lang),
        ),
    )
    if as_json:
        click.echo(
            json.dumps(
                {"scenarios": summaries, "table": json.loads(table.to_json(orient="records"))}
            )
        )
        return
    units = dict(zip(table["metric"], table["unit"], strict=True))
    head = ["metric", *names, *[f"Δ {n}" for n in names[1:]]]
    width = max(12, *(len(h) + 2 for h in head[1:]))
    click.echo(f"{'metric':<34}" + "".join(f"{h:>{width}}" for h in head[1:]))
    for r in table.to_dict("records"):
        click.echo(
            f"{r['metric']:<34}"
            + "".join(f"{_fmt(r[h], units[r['metric']]):>{width}}" for h in head[1:])
        )
    click.echo(f"wrote {out_dir / 'comparison.csv'} and {out_dir / 'comparison.html'}")
