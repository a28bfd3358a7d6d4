"""From history to a forecast on a planning grid: method choice, special days, multipliers.

``forecast_grid`` is the core (history + grid + settings → forecast frame);
``forecast_scenario`` reads a scenario's history and calls it;
``forecast_history`` serves a bare history file (the forecast starts at the
first interval after the history ends).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from staffplan.errors import InputError
from staffplan.forecast.arrays import HistoryArrays, history_arrays, to_grid, window
from staffplan.forecast.backtest import Score, backtest_queue, pick_method, scores_frame
from staffplan.forecast.methods import (
    METHODS,
    MIN_DAYS,
    RECENT_WEEKS,
    aht_forecast,
    recorded,
    run_method,
)
from staffplan.io.history import History, read_history
from staffplan.scenario import Scenario, SpecialDay
from staffplan.timegrid import TimeGrid

FORECAST_COLUMNS = ("interval_start", "queue", "volume", "aht_seconds", "method")
ALL_METHODS = ("auto", *METHODS)


@dataclass(frozen=True)
class ForecastResult:
    """A forecast and how it was made.

    ``frame`` has :data:`FORECAST_COLUMNS`: ``volume`` [contacts per
    interval], ``aht_seconds`` [s]. ``methods`` maps each queue to the method
    used; ``scores`` is the backtest table (empty unless a backtest ran);
    ``cutoff`` is the first local date not used for fitting.
    """

    frame: pd.DataFrame
    methods: Mapping[str, str]
    scores: pd.DataFrame
    cutoff: dt.date
    notes: tuple[str, ...] = field(default_factory=tuple)


def check_method(method: str) -> str:
    """Return ``method`` if known, else raise a clear error."""
    if method not in ALL_METHODS:
        raise InputError(
            "unknown forecast method",
            column="method",
            expected="one of " + ", ".join(ALL_METHODS),
            found=method,
        )
    return method


def _mask_days(arrays: HistoryArrays, dates: Iterable[dt.date]) -> HistoryArrays:
    """Treat known special days in history as unrecorded (they would distort the profiles)."""
    rows = [(d - arrays.first_date).days for d in dates]
    rows = [r for r in rows if 0 <= r < arrays.days]
    if not rows:
        return arrays
    out = {}
    for name in ("volume", "aht_weight", "aht_total"):
        a = getattr(arrays, name).copy()
        a[:, rows, :] = np.nan
        out[name] = a
    return HistoryArrays(
        arrays.queues,
        arrays.first_date,
        arrays.interval_min,
        out["volume"],
        out["aht_weight"],
        out["aht_total"],
    )


def day_factors(
    start: dt.date, days: int, holidays: Sequence[SpecialDay], events: Sequence[SpecialDay]
) -> np.ndarray:
    """Volume factor per day from ``start``: holiday ``scale`` (0 = closed) times event
    ``multiplier``.
    """
    f = np.ones(days)
    for s in (*holidays, *events):
        i = (s.date - start).days
        if 0 <= i < days:
            f[i] *= s.scale
    return f


def _fit_queue(
    arrays: HistoryArrays,
    queue: str,
    cutoff: dt.date,
    horizon: int,
    *,
    method: str,
    backtest_weeks: int,
    history_weeks: int | None,
    run_backtest: bool,
    source: str,
    notes: list[str],
) -> tuple[np.ndarray, np.ndarray, str, dict[str, Score] | None]:
    """Volume [contacts] and handle time [s] per (horizon day, slot) for one history queue, the
    method used and its backtest scores.
    """
    qi = arrays.index(queue)
    train = window(arrays.volume[qi], arrays.first_date, cutoff, history_weeks)
    n_rec = int(recorded(train).sum()) if len(train) else 0
    need = MIN_DAYS["weekly_profile" if method == "auto" else method]
    if len(train) < need or n_rec == 0:
        raise InputError(
            f"history too short for method {method}",
            file=source or None,
            expected=f"at least {need} days before {cutoff} for queue '{queue}'",
            found=f"{len(train)} days ({n_rec} recorded)",
            hint="supply more history, or choose --method weekly_profile / seasonal_naive",
        )
    chosen = method
    sc = None
    if method == "auto" or run_backtest:
        candidates = [m for m in METHODS if len(train) >= MIN_DAYS[m]]
        full = window(arrays.volume[qi], arrays.first_date, cutoff)
        sc = backtest_queue(
            full,
            arrays.first_date,
            cutoff,
            weeks=backtest_weeks,
            methods=candidates,
            history_weeks=history_weeks,
        )
        if method == "auto":
            chosen = pick_method(sc)
            if all(s.folds == 0 for s in sc.values()):
                notes.append(f"{queue}: history too short to backtest; used {chosen}")
    try:
        fc = run_method(chosen, train, cutoff, horizon, RECENT_WEEKS)
    except (FloatingPointError, ValueError, np.linalg.LinAlgError) as exc:
        notes.append(f"{queue}: {chosen} failed ({exc}); used weekly_profile")
        chosen = "weekly_profile"
        fc = run_method(chosen, train, cutoff, horizon, RECENT_WEEKS)
    w = window(arrays.aht_weight[qi], arrays.first_date, cutoff, history_weeks)
    t = window(arrays.aht_total[qi], arrays.first_date, cutoff, history_weeks)
    return fc, aht_forecast(w, t, cutoff, horizon), chosen, sc


def forecast_grid(
    history: History,
    grid: TimeGrid,
    *,
    method: str = "auto",
    queues: Mapping[str, str] | None = None,
    cutoff: dt.date | None = None,
    backtest_weeks: int = 4,
    history_weeks: int | None = None,
    holidays: Sequence[SpecialDay] = (),
    events: Sequence[SpecialDay] = (),
    volume_multipliers: Mapping[str, float] | None = None,
    aht_multipliers: Mapping[str, float] | None = None,
    run_backtest: bool = False,
    require_aht: bool = False,
) -> ForecastResult:
    """Forecast every queue on every interval of ``grid``.

    ``queues`` maps output queue names to history queue names (default: the
    history's own). Fitting uses history before ``cutoff`` (default: the
    earlier of the grid's first day and the day after the history). Raises
    :class:`InputError` if the history is too short for the method, a queue
    has no history, or (with ``require_aht``) no handle time is known.
    """
    check_method(method)
    if grid.interval_min != history.interval_min:
        raise InputError(
            "history and grid intervals differ",
            expected=f"{grid.interval_min}-minute history",
            found=f"{history.interval_min}-minute",
        )
    queues = dict(queues) if queues is not None else {q: q for q in history.queues}
    cutoff = cutoff or min(grid.start, history.last_date + dt.timedelta(days=1))
    if grid.start < cutoff:
        raise InputError(
            "the grid starts before the forecast cutoff",
            expected=f"a grid from {cutoff} on",
            found=str(grid.start),
        )
    specials = [s.date for s in (*holidays, *events) if s.date < cutoff]
    arrays = _mask_days(history_arrays(history), specials)
    horizon = (grid.end - cutoff).days
    factors = day_factors(cutoff, horizon, holidays, events)
    vol_mult = volume_multipliers or {}
    aht_mult = aht_multipliers or {}
    scores: dict[str, dict[str, Score]] = {}
    used: dict[str, str] = {}
    notes: list[str] = []
    parts = []
    fitted: dict[
        str, tuple[np.ndarray, np.ndarray, str, dict[str, Score] | None]
    ] = {}  # history queue -> (volume, aht, method)
    for name, hist_name in queues.items():
        if hist_name not in arrays.queues:
            raise InputError(
                "no history for queue",
                file=history.source or None,
                column="queue",
                expected=f"rows for queue '{hist_name}'",
                found=", ".join(arrays.queues),
                hint="set history_name on the queue, or check the queue names in the history file",
            )
        if hist_name not in fitted:
            fitted[hist_name] = _fit_queue(
                arrays,
                hist_name,
                cutoff,
                horizon,
                method=method,
                backtest_weeks=backtest_weeks,
                history_weeks=history_weeks,
                run_backtest=run_backtest,
                source=history.source,
                notes=notes,
            )
        fc, aht, chosen, sc = fitted[hist_name]
        if sc is not None:
            scores[name] = sc
        if require_aht and not np.all(np.isfinite(aht) & (aht > 0)):
            raise InputError(
                "no handle time in history",
                file=history.source or None,
                column="aht_seconds",
                expected=f"handle times for queue '{hist_name}'",
                found="none",
                hint="add aht_seconds (per interval) or handle_seconds (per contact) to the "
                "history file",
            )
        volume = to_grid(
            fc * factors[:, None], cutoff, grid.starts, grid.interval_min
        ) * vol_mult.get(name, 1.0)
        aht_g = to_grid(aht, cutoff, grid.starts, grid.interval_min) * aht_mult.get(name, 1.0)
        parts.append(
            pd.DataFrame(
                {
                    "interval_start": grid.starts,
                    "queue": name,
                    "volume": volume.astype(float),
                    "aht_seconds": aht_g.astype(float),
                    "method": chosen,
                }
            )
        )
        used[name] = chosen
    frame = pd.concat(parts, ignore_index=True)[list(FORECAST_COLUMNS)]
    return ForecastResult(
        frame=frame, methods=used, scores=scores_frame(scores), cutoff=cutoff, notes=tuple(notes)
    )


def scenario_history(scenario: Scenario) -> History:
    """Read the history file named by the scenario's ``[data] history``."""
    path = scenario.file("history")
    return read_history(
        path,  # type: ignore[arg-type]
        timezone=scenario.grid.timezone,
        interval_min=scenario.grid.interval_min,
        columns=dict(scenario.forecast.columns),
        queues={q.history_name or q.name for q in scenario.queues},
        date_format=scenario.date_format(path),
    )


def run_scenario(
    scenario: Scenario,
    *,
    method: str | None = None,
    run_backtest: bool = False,
    grid: TimeGrid | None = None,
    history: History | None = None,
) -> tuple[History, ForecastResult]:
    """Forecast a scenario (optionally on another ``grid``); returns the history too."""
    hist = history or scenario_history(scenario)
    f = scenario.forecast
    result = forecast_grid(
        hist,
        grid or scenario.grid,
        method=check_method(method or f.method),
        queues={q.name: q.history_name or q.name for q in scenario.queues},
        backtest_weeks=f.backtest_weeks,
        history_weeks=f.history_weeks,
        holidays=f.holidays,
        events=f.events,
        volume_multipliers={q.name: q.volume_multiplier for q in scenario.queues},
        aht_multipliers={q.name: q.aht_multiplier for q in scenario.queues},
        run_backtest=run_backtest,
        require_aht=True,
    )
    return hist, result


def forecast_scenario(scenario: Scenario, *, method: str | None = None) -> pd.DataFrame:
    """One row per (grid interval, queue): interval_start, queue, volume [contacts], aht_seconds
    [s], method.

    Applies the scenario's holidays, events and each queue's volume and
    handle-time multipliers; ``method`` overrides ``[forecast] method``.
    """
    return run_scenario(scenario, method=method)[1].frame


def forecast_history(
    history: History,
    *,
    weeks_ahead: int = 1,
    method: str = "auto",
    backtest_weeks: int = 4,
    run_backtest: bool = False,
) -> ForecastResult:
    """Forecast a bare history from the first interval after it ends, for ``weeks_ahead`` weeks.

    If the last recorded day ends before local midnight the day is held out of
    fitting (it may be incomplete) and its remaining intervals are forecast.
    """
    if weeks_ahead < 1:
        raise InputError(
            "bad horizon",
            column="--weeks-ahead",
            expected="a whole number of weeks >= 1",
            found=weeks_ahead,
        )
    step = pd.Timedelta(minutes=history.interval_min)
    first_new = history.last_interval_start + step
    last_day = history.last_date
    next_midnight = TimeGrid(last_day, 1, history.interval_min, history.timezone).local_midnight(
        last_day + dt.timedelta(days=1)
    )
    cutoff = last_day + dt.timedelta(days=1) if first_new >= next_midnight else last_day
    grid = TimeGrid(cutoff, 7 * weeks_ahead + 1, history.interval_min, history.timezone)
    end = grid.to_local(first_new.tz_localize(None) + pd.Timedelta(days=7 * weeks_ahead))
    result = forecast_grid(
        history,
        grid,
        method=method,
        cutoff=cutoff,
        backtest_weeks=backtest_weeks,
        run_backtest=run_backtest,
    )
    ts = result.frame["interval_start"]
    frame = result.frame[(ts >= first_new) & (ts < end)].reset_index(drop=True)
    return ForecastResult(
        frame=frame, methods=result.methods, scores=result.scores, cutoff=cutoff, notes=result.notes
    )


def backtest(
    history: History,
    *,
    weeks: int = 4,
    methods: Sequence[str] = METHODS,
    cutoff: dt.date | None = None,
    history_weeks: int | None = None,
    special_days: Iterable[dt.date] = (),
) -> pd.DataFrame:
    """Rolling-origin backtest, horizon one week, over the ``weeks`` weeks before ``cutoff``.

    Returns one row per (queue, method): ``queue``, ``method``, ``folds``,
    ``wape`` [fraction], ``mase`` [ratio], ``rel_mae`` [ratio to seasonal
    naive], ``bias`` [fraction]. ``cutoff`` defaults to the day after the
    history; ``special_days`` are left out of fitting and scoring.
    """
    for m in methods:
        if m not in METHODS:
            raise InputError(
                "unknown forecast method", expected="one of " + ", ".join(METHODS), found=m
            )
    if weeks < 1:
        raise InputError(
            "bad backtest length", expected="a whole number of weeks >= 1", found=weeks
        )
    arrays = _mask_days(history_arrays(history), special_days)
    cutoff = cutoff or history.last_date + dt.timedelta(days=1)
    scores = {}
    for q in arrays.queues:
        full = window(arrays.volume[arrays.index(q)], arrays.first_date, cutoff)
        scores[q] = backtest_queue(
            full,
            arrays.first_date,
            cutoff,
            weeks=weeks,
            methods=list(methods),
            history_weeks=history_weeks,
        )
    return scores_frame(scores)
