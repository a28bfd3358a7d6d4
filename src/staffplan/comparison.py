"""Scenarios side by side: run each scenario end to end (or reuse its cached outputs, keyed by
``pipeline.fingerprint``) and lay their KPIs out with ``pipeline.compare_table``.

``staffplan compare`` and the web workspace's scenario comparison both go through
:func:`check_scenarios`, :func:`run_one` and :func:`collect`, so the same scenarios with the
same settings give the same table, charts and cache in both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from staffplan.errors import InputError
from staffplan.scenario import Scenario

Echo = Callable[[str], None]


def check_scenarios(paths: Sequence[str | Path]) -> list[Scenario]:
    """Load every scenario and check its files before any runs; :class:`InputError` when two
    share a name (their outputs would share a folder).
    """
    from staffplan.scenario import load

    loaded = [load(p) for p in paths]
    for sc in loaded:
        sc.check_files()
    names = [s.name for s in loaded]
    if len(set(names)) != len(names):
        raise InputError(
            "two scenarios share a name",
            expected="distinct scenario names (outputs go to out/<name>/)",
            found=", ".join(names),
            hint='set name = "..." in one of the files',
        )
    return loaded


def run_one(
    path: str,
    out: str,
    time_limit: float | None,
    workers: int | None,
    seed: int | None,
    simulate: bool,
    reuse: bool,
    deterministic: bool = False,
    lang: str = "en",
    echo: Echo | None = None,
) -> dict[str, Any]:
    """Run (or, with ``reuse``, reuse the outputs in ``out`` whose cache key matches) one
    scenario and write its outputs to folder ``out`` (report in ``lang``); returns its summary
    (picklable, for a process pool) with ``cache_key``, ``out`` and ``reused``. ``echo``
    receives progress lines.
    """
    from staffplan.i18n import Lang
    from staffplan.jobs import RunOptions
    from staffplan.pipeline import cached_summary, check_out_folder, fingerprint, run, write_outputs
    from staffplan.scenario import load

    say = echo or (lambda _s: None)
    sc = load(path)
    sc.check_files()
    folder = Path(out)
    check_out_folder(folder, [sc])
    options = RunOptions(time_limit, workers, seed, deterministic, simulate)
    key = fingerprint(sc, options.cache_key())  # the reuse rule of every backend and of sweep
    cached = cached_summary(folder, key) if reuse else None
    if cached is not None:
        say(f"{sc.name}: inputs unchanged, reusing {folder}")
        return {**cached, "out": str(folder), "reused": True}

    result = run(
        sc,
        time_limit_s=time_limit,
        workers=workers,
        seed=seed,
        simulate=simulate,
        echo=lambda line: say(f"{sc.name}: {line}"),
        deterministic=deterministic,
    )
    extra = {"cache_key": key, "out": str(folder), "reused": False}
    write_outputs(result, folder, extra, Lang(lang))
    return {**result.summary, "stage_seconds": dict(result.stage_seconds), **extra}


@dataclass(frozen=True, eq=False)
class Comparison:
    """Several scenario runs side by side: their summaries (as :func:`run_one` returns them),
    ``pipeline.compare_table`` of them, and per scenario name its coverage.csv (``coverage``)
    and kpis.csv (``service``) as the run wrote them (the charts' inputs).
    """

    summaries: tuple[dict[str, Any], ...]
    table: pd.DataFrame
    coverage: dict[str, pd.DataFrame]
    service: dict[str, pd.DataFrame]


def collect(summaries: Sequence[dict[str, Any]]) -> Comparison:
    """The comparison of finished runs (the first is the baseline of the table's differences)."""
    from staffplan.pipeline import compare_table

    coverage, service = {}, {}
    for s in summaries:
        folder = Path(s["out"])
        coverage[s["scenario"]] = pd.read_csv(folder / "coverage.csv")
        service[s["scenario"]] = pd.read_csv(folder / "kpis.csv")
    return Comparison(tuple(summaries), compare_table(summaries), coverage, service)
