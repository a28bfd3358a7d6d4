"""Scenario files: one TOML file names the inputs and parameters of one run.

A scenario may ``extends = "../baseline/scenario.toml"``: the parent is loaded
first (recursively), then the child's tables are merged over it key by key.
Paths under ``[data]`` are resolved relative to the file that names them, so a
what-if in another folder still finds its parent's data.

Validation is strict: an unknown key (also under ``[data]``) or a value of the
wrong type is a :class:`~staffplan.errors.ScenarioError` naming the file, the
key path and what was expected. Sections owned by later stages (``cover``,
``simulate``, ``store``, ``hires``) are kept as raw tables in ``Scenario.raw``
and checked by their owners with :func:`check_table` whenever they are used.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from staffplan import limits
from staffplan.errors import ScenarioError
from staffplan.scenario_file import load_document, merge
from staffplan.timegrid import TimeGrid

CHANNELS = ("voice", "chat", "email", "backoffice")
DEFERRED_CHANNELS = ("email", "backoffice")
"""Channels of deferred work (staffed by workload within a deadline); the decision per queue is
:func:`staffplan.queueing.target_for_queue`'s."""

# key -> (types, default, description). ``None`` default with required=False means optional.
Spec = Mapping[str, tuple[tuple[type, ...], Any, str]]

GRID_SPEC: Spec = {
    "start": ((dt.date, str), None, "the first planned day, a date like 2026-12-07"),
    "days": ((int,), 7, "the number of planned days (whole number >= 1)"),
    "interval_minutes": ((int,), 15, "the interval length in minutes: 15, 30 or 60"),
    "timezone": ((str,), "UTC", "an IANA timezone like Europe/Madrid"),
}

QUEUE_SPEC: Spec = {
    "channel": ((str,), "voice", "one of " + ", ".join(CHANNELS)),
    "skill": ((str,), None, "the skill agents need for this queue (default: the queue name)"),
    "service_level": (
        (float, int),
        None,
        "the fraction answered within answer_within_s, in (0, 1]",
    ),
    "answer_within_s": ((float, int), None, "seconds, >= 0"),
    "asa_max_s": ((float, int), None, "average speed of answer cap in seconds"),
    "abandon_max": ((float, int), None, "abandonment cap as a fraction in (0, 1]"),
    "max_occupancy": ((float, int), None, "occupancy cap as a fraction in (0, 1]"),
    "patience_s": ((float, int), None, "mean customer patience in seconds (Erlang A)"),
    "concurrency": ((int, float), None, "chat sessions an agent handles at once (>= 1)"),
    "deadline_hours": (
        (float, int),
        None,
        "email/back-office: hours within which every item is handled",
    ),
    "volume_multiplier": ((float, int), 1.0, "a factor on forecast volume (> 0)"),
    "aht_multiplier": ((float, int), 1.0, "a factor on forecast handle time (> 0)"),
    "shrinkage": ((float, int), None, "the fraction of paid time off the phones, in [0, 1)"),
    "open": (
        (str,),
        None,
        "opening hours like '08:00-20:00' (outside them no contacts are planned)",
    ),
    "history_name": ((str,), None, "the queue's name in the history file, when it differs"),
}

FORECAST_SPEC: Spec = {
    "method": ((str,), "auto", "auto, seasonal_naive, weekly_profile or exp_smoothing"),
    "backtest_weeks": ((int,), 4, "weeks of rolling-origin backtest (whole number >= 1)"),
    "history_weeks": ((int,), None, "weeks of recent history to use (default: all)"),
    "holidays": ((list,), [], "a list of {date, scale, name} tables"),
    "events": ((list,), [], "a list of {date, multiplier, name} tables"),
    "columns": ((dict,), {}, "a map from staffplan's column names to the history file's"),
}

SOLVER_SPEC: Spec = {
    "time_limit_s": ((float, int), 60.0, "seconds (> 0)"),
    "workers": ((int,), 2, "CP-SAT search workers (whole number >= 1)"),
    "seed": ((int,), 0, "random seed (whole number)"),
    "log_progress": ((bool,), True, "true or false"),
    "lp_bound": (
        (bool,),
        True,
        "true or false (also bound the roster by its LP relaxation, solved beside the search)",
    ),
    "search_share": (
        (float, int),
        0.7,
        "a fraction in [0, 1): share of the time limit for local search over whole shifts, "
        "first (models with interval coverage)",
    ),
    "improve_share": (
        (float, int),
        0.5,
        "a fraction in [0, 1): share of the time limit (counted from the start) for best "
        "responses before CP-SAT",
    ),
    "lns_share": (
        (float, int),
        0.8,
        "a fraction in [0, 1): share of the time after best responses for neighbourhood search "
        "after CP-SAT (whose part is capped: docs/formats.md)",
    ),
    "colgen_share": (
        (float, int),
        0.4,
        "a fraction in [0, 1): most of the time after best responses for column generation and "
        "rounding before CP-SAT",
    ),
    "break_plans": (
        (int,),
        5,
        "a whole number from 1 to 12: staggered break plans per shift the roster model chooses "
        "from (1 = every break at its window's midpoint)",
    ),
}

WEIGHTS_SPEC: Spec = {
    "under_coverage": ((float, int), 1000.0, "cost of one contact answered late"),
    "over_coverage": ((float, int), 1.0, "cost of one agent-interval above requirement"),
    "cost": ((float, int), 1.0, "weight of labour cost (per currency unit)"),
    "preference": ((float, int), 10.0, "weight of one unit of broken preference"),
    "fairness": ((float, int), 50.0, "weight of the spread of weekends and late shifts"),
}


@dataclass(frozen=True)
class Queue:
    """A contact queue with its channel, skill and targets (seconds, fractions)."""

    name: str
    channel: str = "voice"
    skill: str = ""
    service_level: float | None = None
    answer_within_s: float | None = None
    asa_max_s: float | None = None
    abandon_max: float | None = None
    max_occupancy: float | None = None
    patience_s: float | None = None
    concurrency: float | None = None
    deadline_hours: float | None = None
    volume_multiplier: float = 1.0
    aht_multiplier: float = 1.0
    shrinkage: float | None = None
    open: str | None = None
    history_name: str | None = None


@dataclass(frozen=True)
class SpecialDay:
    """A holiday (``scale`` on volume, 0 = closed) or an event (``scale`` = multiplier)."""

    date: dt.date
    scale: float
    name: str = ""


@dataclass(frozen=True)
class ForecastSettings:
    method: str = "auto"
    backtest_weeks: int = 4
    history_weeks: int | None = None
    holidays: tuple[SpecialDay, ...] = ()
    events: tuple[SpecialDay, ...] = ()
    columns: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class SolverSettings:
    time_limit_s: float = 60.0
    workers: int = 2
    seed: int = 0
    log_progress: bool = True
    lp_bound: bool = True
    search_share: float = 0.7
    improve_share: float = 0.5
    lns_share: float = 0.8
    colgen_share: float = 0.4
    break_plans: int = 5


@dataclass(frozen=True)
class Weights:
    under_coverage: float = 1000.0
    over_coverage: float = 1.0
    cost: float = 1.0
    preference: float = 10.0
    fairness: float = 50.0


@dataclass(frozen=True)
class Scenario:
    """A loaded, validated scenario. ``data`` maps names to absolute paths."""

    name: str
    path: Path
    grid: TimeGrid
    queues: tuple[Queue, ...]
    data: Mapping[str, Path | tuple[Path, ...]]
    forecast: ForecastSettings
    shrinkage: float
    solver: SolverSettings
    weights: Weights
    description: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict)
    date_formats: Mapping[Path, str] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        return self.path.parent

    def date_format(self, path: Path | None) -> str | None:
        """The ``date_format`` a ``[data]`` table declares for ``path``; None = ISO 8601."""
        return None if path is None else self.date_formats.get(Path(path))

    def queue(self, name: str) -> Queue:
        for q in self.queues:
            if q.name == name:
                return q
        raise ScenarioError(
            "unknown queue",
            file=self.path,
            key="queues",
            expected="one of " + ", ".join(q.name for q in self.queues),
            found=name,
        )

    def file(self, key: str, required: bool = True) -> Path | None:
        """The absolute path of data file ``key``; a clear error if required and absent."""
        value = self.data.get(key)
        if value is None:
            if required:
                raise ScenarioError(
                    "missing data file",
                    file=self.path,
                    key=f"data.{key}",
                    expected="a path relative to the scenario file",
                    hint=f'add {key} = "..." under [data]',
                )
            return None
        if isinstance(value, tuple):
            raise ScenarioError(
                "expected one file",
                file=self.path,
                key=f"data.{key}",
                found=[str(v) for v in value],
            )
        return value

    def check_files(self) -> None:
        """Raise if a file named under ``[data]`` is missing (before any long computation)."""
        for key in self.data:
            for f in self.files(key):
                if not f.is_file():
                    raise ScenarioError(
                        "data file not found" if not f.exists() else "data path is not a file",
                        file=self.path,
                        key=f"data.{key}",
                        found=str(f),
                        hint="paths are relative to the scenario file that names them",
                    )

    def files(self, key: str) -> tuple[Path, ...]:
        """All paths named by ``data.key`` (a string or a list); empty if absent."""
        value = self.data.get(key)
        if value is None:
            return ()
        return value if isinstance(value, tuple) else (value,)

    def section(self, name: str) -> Mapping[str, Any]:
        """A raw table owned by a later stage (``roster``, ``cover`` ...), or empty."""
        value = self.raw.get(name, {})
        return value if isinstance(value, Mapping) else {}


def _type_names(types: tuple[type, ...]) -> str:
    names = {
        int: "a whole number",
        float: "a number",
        str: "a string",
        bool: "true/false",
        list: "a list",
        dict: "a table",
        dt.date: "a date",
    }
    return " or ".join(dict.fromkeys(names.get(t, t.__name__) for t in types))


def check_table(table: Any, spec: Spec, *, file: Path, key: str) -> dict[str, Any]:
    """Validate one TOML table against ``spec``: unknown keys and wrong types are errors.

    Returns a dict with every spec key (defaults filled). Integers are accepted
    for float fields; bools are never accepted as numbers.
    """
    if not isinstance(table, Mapping):
        raise ScenarioError(
            "wrong type", file=file, key=key, expected="a table", found=type(table).__name__
        )
    out: dict[str, Any] = {}
    for k in table:
        if k not in spec:
            raise ScenarioError(
                "unknown key",
                file=file,
                key=f"{key}.{k}" if key else k,
                expected="one of " + ", ".join(spec),
                hint="check the spelling",
            )
    for k, (types, default, desc) in spec.items():
        if k not in table:
            out[k] = copy.deepcopy(default)
            continue
        v = table[k]
        ok = isinstance(v, types) and not (isinstance(v, bool) and bool not in types)
        if isinstance(v, dt.datetime) and dt.date in types and dt.datetime not in types:
            ok = False
        if not ok:
            raise ScenarioError(
                "wrong type", file=file, key=f"{key}.{k}" if key else k, expected=desc, found=v
            )
        if float in types and isinstance(v, int) and not isinstance(v, bool):
            v = float(v)
        out[k] = v
    return out


def _fraction(
    value: float | None, *, file: Path, key: str, low_open: bool = True, high_open: bool = False
) -> None:
    if value is None:
        return
    lo_ok = value > 0 if low_open else value >= 0
    hi_ok = value < 1 if high_open else value <= 1
    if not (lo_ok and hi_ok):
        lo = "(0" if low_open else "[0"
        hi = "1)" if high_open else "1]"
        raise ScenarioError(
            "value out of range",
            file=file,
            key=key,
            expected=f"a fraction in {lo}, {hi}",
            found=value,
        )


def _positive(value: float | None, *, file: Path, key: str, allow_zero: bool = False) -> None:
    if value is None:
        return
    if value < 0 or (value == 0 and not allow_zero):
        raise ScenarioError(
            "value out of range",
            file=file,
            key=key,
            expected="a number >= 0" if allow_zero else "a number > 0",
            found=value,
        )


def _special_days(items: Any, *, file: Path, key: str, value_key: str) -> tuple[SpecialDay, ...]:
    out = []
    if not isinstance(items, list):
        raise ScenarioError("wrong type", file=file, key=key, expected="a list of tables")
    for i, item in enumerate(items):
        spec: Spec = {
            "date": ((dt.date, str), None, "a date like 2026-12-25"),
            value_key: ((float, int), 0.0 if value_key == "scale" else 1.0, "a factor >= 0"),
            "name": ((str,), "", "a label"),
        }
        t = check_table(item, spec, file=file, key=f"{key}[{i}]")
        d = _date(t["date"], file=file, key=f"{key}[{i}].date")
        _positive(t[value_key], file=file, key=f"{key}[{i}].{value_key}", allow_zero=True)
        out.append(SpecialDay(d, float(t[value_key]), t["name"]))
    return tuple(sorted(out, key=lambda s: s.date))


def _date(value: Any, *, file: Path, key: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ScenarioError(
            "bad date", file=file, key=key, expected="a date like 2026-12-07", found=value
        ) from None


def parse_queue(name: str, table: Any, *, file: Path) -> Queue:
    """Validate one ``[queues.NAME]`` table."""
    t = check_table(table, QUEUE_SPEC, file=file, key=f"queues.{name}")
    key = f"queues.{name}"
    if t["channel"] not in CHANNELS:
        raise ScenarioError(
            "unknown channel",
            file=file,
            key=f"{key}.channel",
            expected="one of " + ", ".join(CHANNELS),
            found=t["channel"],
        )
    _fraction(t["service_level"], file=file, key=f"{key}.service_level")
    _fraction(t["abandon_max"], file=file, key=f"{key}.abandon_max")
    _fraction(t["max_occupancy"], file=file, key=f"{key}.max_occupancy")
    _fraction(t["shrinkage"], file=file, key=f"{key}.shrinkage", low_open=False, high_open=True)
    for k in ("answer_within_s", "asa_max_s"):
        _positive(t[k], file=file, key=f"{key}.{k}", allow_zero=True)
    for k in ("patience_s", "deadline_hours", "volume_multiplier", "aht_multiplier"):
        _positive(t[k], file=file, key=f"{key}.{k}")
    if t["concurrency"] is not None and t["concurrency"] < 1:
        raise ScenarioError(
            "value out of range",
            file=file,
            key=f"{key}.concurrency",
            expected="a number >= 1",
            found=t["concurrency"],
        )
    if t["service_level"] is not None and t["answer_within_s"] is None:
        raise ScenarioError(
            "incomplete target",
            file=file,
            key=f"{key}.answer_within_s",
            expected="seconds, since service_level is set",
            hint="e.g. service_level = 0.8 and answer_within_s = 20 for 80/20",
        )
    if t["channel"] in DEFERRED_CHANNELS and t["deadline_hours"] is None:
        raise ScenarioError(
            "missing deadline",
            file=file,
            key=f"{key}.deadline_hours",
            expected="hours within which every item is handled",
            hint="deferred work is staffed by workload and deadline",
        )
    t["skill"] = t["skill"] or name
    return Queue(name=name, **t)


def from_document(doc: Mapping[str, Any], path: Path) -> Scenario:
    """Validate a merged scenario document into a :class:`Scenario`."""
    file = path
    grid_t = check_table(doc.get("grid", {}), GRID_SPEC, file=file, key="grid")
    if grid_t["start"] is None:
        raise ScenarioError(
            "missing key",
            file=file,
            key="grid.start",
            expected="the first planned day, e.g. start = 2026-12-07",
        )
    start = _date(grid_t["start"], file=file, key="grid.start")
    if grid_t["interval_minutes"] not in (15, 30, 60):
        raise ScenarioError(
            "bad interval length",
            file=file,
            key="grid.interval_minutes",
            expected="15, 30 or 60",
            found=grid_t["interval_minutes"],
        )
    if grid_t["days"] < 1:
        raise ScenarioError(
            "bad horizon",
            file=file,
            key="grid.days",
            expected="a whole number >= 1",
            found=grid_t["days"],
        )
    limits.check("days", grid_t["days"], file=str(file), key="grid.days")
    try:
        grid = TimeGrid(start, grid_t["days"], grid_t["interval_minutes"], grid_t["timezone"])
    except Exception as exc:  # noqa: BLE001 - re-raised with the key path
        raise ScenarioError(str(exc), file=file, key="grid.timezone") from None

    queues_t = doc.get("queues", {})
    if not isinstance(queues_t, Mapping) or not queues_t:
        raise ScenarioError(
            "no queues", file=file, key="queues", expected="at least one [queues.NAME] table"
        )
    queues = tuple(parse_queue(n, queues_t[n], file=file) for n in queues_t)
    for k in ("volume_multiplier", "aht_multiplier"):
        factor = doc.get(k, 1.0)
        if isinstance(factor, bool) or not isinstance(factor, int | float) or factor <= 0:
            raise ScenarioError(
                "wrong value",
                file=file,
                key=k,
                expected="a factor > 0 applied to every queue",
                found=factor,
            )
        if factor != 1.0:
            queues = tuple(replace(q, **{k: getattr(q, k) * float(factor)}) for q in queues)

    f = check_table(doc.get("forecast", {}), FORECAST_SPEC, file=file, key="forecast")
    methods = ("auto", "seasonal_naive", "weekly_profile", "exp_smoothing")
    if f["method"] not in methods:
        raise ScenarioError(
            "unknown forecast method",
            file=file,
            key="forecast.method",
            expected="one of " + ", ".join(methods),
            found=f["method"],
        )
    if not all(isinstance(v, str) for v in f["columns"].values()):
        raise ScenarioError(
            "wrong type",
            file=file,
            key="forecast.columns",
            expected="a table of column name strings",
        )
    forecast = ForecastSettings(
        method=f["method"],
        backtest_weeks=f["backtest_weeks"],
        history_weeks=f["history_weeks"],
        holidays=_special_days(
            f["holidays"], file=file, key="forecast.holidays", value_key="scale"
        ),
        events=_special_days(f["events"], file=file, key="forecast.events", value_key="multiplier"),
        columns=tuple(sorted(f["columns"].items())),
    )

    shrinkage = doc.get("shrinkage", 0.0)
    if isinstance(shrinkage, bool) or not isinstance(shrinkage, int | float):
        raise ScenarioError(
            "wrong type",
            file=file,
            key="shrinkage",
            expected="a fraction in [0, 1)",
            found=shrinkage,
        )
    _fraction(float(shrinkage), file=file, key="shrinkage", low_open=False, high_open=True)

    s = check_table(doc.get("solver", {}), SOLVER_SPEC, file=file, key="solver")
    _positive(s["time_limit_s"], file=file, key="solver.time_limit_s")
    limits.check("time_limit_s", s["time_limit_s"], file=str(file), key="solver.time_limit_s")
    if s["workers"] < 1:
        raise ScenarioError(
            "value out of range",
            file=file,
            key="solver.workers",
            expected="a whole number >= 1",
            found=s["workers"],
        )
    limits.check("workers", s["workers"], file=str(file), key="solver.workers")
    if not 0 <= s["improve_share"] < 1:
        raise ScenarioError(
            "value out of range",
            file=file,
            key="solver.improve_share",
            expected="a fraction in [0, 1)",
            found=s["improve_share"],
            hint="0 turns best responses off; 0.5 gives them half the time limit",
        )
    if not 0 <= s["search_share"] < 1:
        raise ScenarioError(
            "value out of range",
            file=file,
            key="solver.search_share",
            expected="a fraction in [0, 1)",
            found=s["search_share"],
            hint="0 turns the local search off; 0.7 gives it 70% of the time limit",
        )
    if not 0 <= s["lns_share"] < 1:
        raise ScenarioError(
            "value out of range",
            file=file,
            key="solver.lns_share",
            expected="a fraction in [0, 1)",
            found=s["lns_share"],
            hint="0 leaves all the time to CP-SAT; 0.8 gives neighbourhood search 80% of it",
        )
    if not 0 <= s["colgen_share"] < 1:
        raise ScenarioError(
            "value out of range",
            file=file,
            key="solver.colgen_share",
            expected="a fraction in [0, 1)",
            found=s["colgen_share"],
            hint="0 turns column generation off; 0.4 lets it use at most 40% of the time",
        )
    if not 1 <= s["break_plans"] <= 12:
        raise ScenarioError(
            "value out of range",
            file=file,
            key="solver.break_plans",
            expected="a whole number from 1 to 12",
            found=s["break_plans"],
            hint="5 lets agents on the same shift take their breaks at five different times; 1 "
            "puts every break at its window's midpoint",
        )
    w = check_table(doc.get("weights", {}), WEIGHTS_SPEC, file=file, key="weights")
    for k, v in w.items():
        _positive(v, file=file, key=f"weights.{k}", allow_zero=True)

    data: dict[str, Path | tuple[Path, ...]] = {}
    formats: dict[Path, str] = {}

    def entry(x: str | Mapping[str, str]) -> Path:
        if isinstance(x, str):
            return Path(x)
        if "date_format" in x:
            formats[Path(x["path"])] = x["date_format"]
        return Path(x["path"])

    for k, v in doc.get("data", {}).items():
        data[k] = tuple(entry(x) for x in v) if isinstance(v, list) else entry(v)

    name = doc.get("name", path.parent.name if path.name == "scenario.toml" else path.stem)
    check_name(name, file=file)
    return Scenario(
        name=name,
        path=path,
        grid=grid,
        queues=queues,
        data=data,
        forecast=forecast,
        shrinkage=float(shrinkage),
        solver=SolverSettings(**s),
        weights=Weights(**w),
        description=str(doc.get("description", "")),
        raw=doc,
        date_formats=formats,
    )


_NAME_HINT = "the name is the output folder out/<name>/: use letters, digits, spaces, - _ ."


def check_name(name: Any, *, file: Path | None = None) -> str:
    """A scenario name that is one plain folder name (so ``out/<name>/`` stays inside ``out/``)."""
    if not isinstance(name, str):
        raise ScenarioError("wrong type", file=file, key="name", expected="a string", found=name)
    bad = (
        not name.strip()
        or name != name.strip()
        or name.startswith(".")
        or len(name) > 100
        or any(c in name for c in "/\\")
        or any(ord(c) < 32 or ord(c) == 127 for c in name)
    )
    if bad:
        raise ScenarioError(
            "bad scenario name",
            file=file,
            key="name",
            expected="one plain folder name (no / or \\, not starting with '.', at most 100 "
            "characters)",
            found=name,
            hint=_NAME_HINT,
        )
    return name


def load(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Load and validate a scenario file; ``overrides`` is merged last (e.g. from the CLI)."""
    p = Path(path).resolve()
    doc = load_document(p)
    if overrides:
        doc = merge(doc, overrides)
    return from_document(doc, p)
