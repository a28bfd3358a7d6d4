"""The Curtois & Qu employee shift-scheduling benchmark: parse an instance, write a scenario.

An instance file (``Instance1.txt`` ...) has ``#`` comments, blank lines and
the sections ``SECTION_HORIZON``, ``SECTION_SHIFTS``, ``SECTION_STAFF``,
``SECTION_DAYS_OFF``, ``SECTION_SHIFT_ON_REQUESTS``,
``SECTION_SHIFT_OFF_REQUESTS`` and ``SECTION_COVER`` (comma-separated rows).
:func:`parse_instance` reads it into a frozen :class:`Instance`;
:func:`scenario_frames` maps it onto staffplan's team and roster formats
(pure); :func:`to_scenario` writes the scenario folder atomically.

The mapping (``docs/formats.md``, "Curtois import"): day 0 is a Monday; one
contract per staff member (the limits are personal); each shift type is a
template with one nominal start time and its length, no breaks, its forbidden
successors as ``not_followed_by``; a day off is an ``availability.csv`` row
with a blank window (no shift *starts* that day, so a night shift from the day
before may run into it, as the benchmark allows); shift on/off requests are
``on``/``not`` preferences with their weights; the cover section is
``shift_cover.csv``. Only cover deviations and preferences carry weight, so the
roster objective is the benchmark objective.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from staffplan.errors import InputError
from staffplan.io.atomic import write_csv, write_text

SECTIONS = (
    "SECTION_HORIZON",
    "SECTION_SHIFTS",
    "SECTION_STAFF",
    "SECTION_DAYS_OFF",
    "SECTION_SHIFT_ON_REQUESTS",
    "SECTION_SHIFT_OFF_REQUESTS",
    "SECTION_COVER",
)
REQUIRED_SECTIONS = ("SECTION_HORIZON", "SECTION_SHIFTS", "SECTION_STAFF")

DEFAULT_START = dt.date(2024, 1, 1)  # a Monday
QUEUE = "work"
# Nominal start times [min after midnight] for the shift ids the benchmark uses.
NOMINAL_START_MIN: Mapping[str, int] = {"E": 6 * 60, "D": 9 * 60, "L": 14 * 60, "N": 22 * 60}
MINUTES_PER_DAY = 1440


@dataclass(frozen=True)
class Shift:
    """A shift type: ``length_min`` [min]; ``not_followed_by``: ids forbidden on the next day."""

    id: str
    length_min: int
    not_followed_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class Staff:
    """One employee's hard limits over the whole horizon.

    ``max_shifts``: (shift id, most shifts of that type [shifts]);
    minutes [min]; consecutive limits [days]; ``max_weekends`` [weekends].
    """

    id: str
    max_shifts: tuple[tuple[str, int], ...]
    max_total_min: int
    min_total_min: int
    max_consecutive_shifts: int
    min_consecutive_shifts: int
    min_consecutive_days_off: int
    max_weekends: int


@dataclass(frozen=True)
class Request:
    """A soft wish of ``staff`` to work (on) or not work (off) ``shift`` on ``day`` [0-based]."""

    staff: str
    day: int
    shift: str
    weight: int


@dataclass(frozen=True)
class Cover:
    """Soft cover: ``requirement`` [staff] on ``shift`` on ``day``; weights per missing / surplus
    staff.
    """

    day: int
    shift: str
    requirement: int
    under_weight: int
    over_weight: int


@dataclass(frozen=True)
class Instance:
    """A parsed benchmark instance; ``days_off`` maps staff id to day indexes [0-based]."""

    name: str
    horizon_days: int
    shifts: tuple[Shift, ...]
    staff: tuple[Staff, ...]
    days_off: tuple[tuple[str, tuple[int, ...]], ...]
    on_requests: tuple[Request, ...]
    off_requests: tuple[Request, ...]
    cover: tuple[Cover, ...]

    @property
    def shift_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.shifts)

    @property
    def staff_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.staff)


@dataclass(frozen=True)
class _Line:
    number: int
    fields: tuple[str, ...]
    text: str


def _split_sections(text: str, path: Path) -> dict[str, list[_Line]]:
    sections: dict[str, list[_Line]] = {}
    current: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.upper().startswith("SECTION_"):
            name = line.upper()
            if name not in SECTIONS:
                raise InputError(
                    "unknown section",
                    file=path,
                    row=number,
                    expected="one of " + ", ".join(SECTIONS),
                    found=line,
                    hint="check the spelling of the section header",
                )
            if name in sections:
                raise InputError(
                    "section appears twice",
                    file=path,
                    row=number,
                    found=line,
                    hint="merge the two sections into one",
                )
            sections[name] = []
            current = name
            continue
        if current is None:
            raise InputError(
                "data before the first section",
                file=path,
                row=number,
                expected="a SECTION_... header first",
                found=line,
            )
        fields = tuple(f.strip() for f in line.split(","))
        sections[current].append(_Line(number, fields, line))
    for name in REQUIRED_SECTIONS:
        if name not in sections:
            raise InputError(
                f"missing {name}",
                file=path,
                expected=f"a {name} header followed by its rows",
                hint="is this a Curtois & Qu benchmark instance file?",
            )
    return sections


def _int(line: _Line, i: int, what: str, path: Path, minimum: int = 0) -> int:
    if i >= len(line.fields):
        raise InputError(
            f"missing {what}",
            file=path,
            row=line.number,
            expected=f"{what} in field {i + 1}",
            found=line.text,
        )
    value = line.fields[i]
    try:
        number = int(value)
    except ValueError:
        raise InputError(
            f"bad {what}",
            file=path,
            row=line.number,
            expected="a whole number",
            found=value,
            hint=f"line: {line.text}",
        ) from None
    if number < minimum:
        raise InputError(
            f"bad {what}",
            file=path,
            row=line.number,
            expected=f"a whole number >= {minimum}",
            found=value,
            hint=f"line: {line.text}",
        )
    return number


def _arity(line: _Line, n: int, layout: str, path: Path, *, at_least: bool = False) -> None:
    ok = len(line.fields) >= n if at_least else len(line.fields) == n
    if not ok:
        raise InputError(
            "wrong number of fields",
            file=path,
            row=line.number,
            expected=f"{n}{' or more' if at_least else ''} comma-separated fields: {layout}",
            found=line.text,
        )


def _id(
    line: _Line, i: int, what: str, path: Path, known: Mapping[str, object] | None = None
) -> str:
    value = line.fields[i]
    if not value:
        raise InputError(
            f"empty {what}", file=path, row=line.number, expected=f"a {what}", found=line.text
        )
    if known is not None and value not in known:
        raise InputError(
            f"unknown {what}",
            file=path,
            row=line.number,
            expected="one of " + ", ".join(known),
            found=value,
            hint=f"line: {line.text}",
        )
    return value


def _day(line: _Line, i: int, horizon: int, path: Path) -> int:
    day = _int(line, i, "day index", path)
    if day >= horizon:
        raise InputError(
            "day index out of range",
            file=path,
            row=line.number,
            expected=f"0..{horizon - 1} (SECTION_HORIZON is {horizon} days)",
            found=day,
        )
    return day


def parse_text(text: str, path: str | Path = "<instance>") -> Instance:
    """Parse the text of an instance file; errors name ``path`` and the line number."""
    p = Path(path)
    sec = _split_sections(text, p)

    horizon_lines = sec["SECTION_HORIZON"]
    if len(horizon_lines) != 1 or len(horizon_lines[0].fields) != 1:
        raise InputError(
            "bad horizon",
            file=p,
            row=horizon_lines[0].number if horizon_lines else None,
            expected="one line with the number of days",
            found=" | ".join(x.text for x in horizon_lines),
        )
    horizon = _int(horizon_lines[0], 0, "horizon length [days]", p, minimum=1)

    shifts: dict[str, tuple[int, tuple[str, ...], _Line]] = {}
    for line in sec["SECTION_SHIFTS"]:
        _arity(
            line, 2, "ShiftID, length [min], not-followed-by ids separated by |", p, at_least=True
        )
        if len(line.fields) > 3:
            _arity(line, 3, "ShiftID, length [min], not-followed-by ids separated by |", p)
        sid = _id(line, 0, "shift id", p)
        if sid in shifts:
            raise InputError("duplicate shift id", file=p, row=line.number, found=sid)
        length = _int(line, 1, "shift length [min]", p, minimum=1)
        if length > MINUTES_PER_DAY:
            raise InputError(
                "bad shift length [min]",
                file=p,
                row=line.number,
                expected=f"at most {MINUTES_PER_DAY}",
                found=length,
            )
        after = line.fields[2] if len(line.fields) > 2 else ""
        shifts[sid] = (length, tuple(x.strip() for x in after.split("|") if x.strip()), line)
    if not shifts:
        raise InputError("no shift types", file=p, expected="at least one row under SECTION_SHIFTS")
    for _length, after, line in shifts.values():
        for other in after:
            if other not in shifts:
                raise InputError(
                    "unknown shift id in the forbidden successions",
                    file=p,
                    row=line.number,
                    expected="one of " + ", ".join(shifts),
                    found=other,
                )
    shift_objs = tuple(Shift(sid, length, after) for sid, (length, after, _) in shifts.items())

    staff: dict[str, Staff] = {}
    layout = (
        "ID, MaxShifts (S=n|...), MaxTotalMinutes, MinTotalMinutes, MaxConsecutiveShifts, "
        "MinConsecutiveShifts, MinConsecutiveDaysOff, MaxWeekends"
    )
    for line in sec["SECTION_STAFF"]:
        _arity(line, 8, layout, p)
        eid = _id(line, 0, "staff id", p)
        if eid in staff:
            raise InputError("duplicate staff id", file=p, row=line.number, found=eid)
        limits: dict[str, int] = {}
        for item in (x.strip() for x in line.fields[1].split("|") if x.strip()):
            sid, eq, n = item.partition("=")
            if not eq or sid.strip() not in shifts:
                raise InputError(
                    "bad MaxShifts item",
                    file=p,
                    row=line.number,
                    expected="ShiftID=n with a known shift id (" + ", ".join(shifts) + ")",
                    found=item,
                )
            try:
                count = int(n)
            except ValueError:
                raise InputError(
                    "bad MaxShifts item",
                    file=p,
                    row=line.number,
                    expected="ShiftID=n with n a whole number",
                    found=item,
                ) from None
            if count < 0:
                raise InputError(
                    "bad MaxShifts item", file=p, row=line.number, expected="n >= 0", found=item
                )
            limits[sid.strip()] = count
        max_total = _int(line, 2, "MaxTotalMinutes", p)
        min_total = _int(line, 3, "MinTotalMinutes", p)
        if min_total > max_total:
            raise InputError(
                "MinTotalMinutes above MaxTotalMinutes",
                file=p,
                row=line.number,
                expected=f"at most {max_total}",
                found=min_total,
            )
        staff[eid] = Staff(
            id=eid,
            max_shifts=tuple((s, limits[s]) for s in shifts if s in limits),
            max_total_min=max_total,
            min_total_min=min_total,
            max_consecutive_shifts=_int(line, 4, "MaxConsecutiveShifts", p, minimum=1),
            min_consecutive_shifts=_int(line, 5, "MinConsecutiveShifts", p),
            min_consecutive_days_off=_int(line, 6, "MinConsecutiveDaysOff", p),
            max_weekends=_int(line, 7, "MaxWeekends", p),
        )
    if not staff:
        raise InputError("no staff", file=p, expected="at least one row under SECTION_STAFF")

    days_off: dict[str, set[int]] = {}
    for line in sec.get("SECTION_DAYS_OFF", []):
        eid = _id(line, 0, "staff id", p, staff)
        days = days_off.setdefault(eid, set())
        for i in range(1, len(line.fields)):
            if line.fields[i] == "":
                continue
            days.add(_day(line, i, horizon, p))

    def requests(name: str) -> tuple[Request, ...]:
        out: dict[tuple[str, int, str], Request] = {}
        for line in sec.get(name, []):
            _arity(line, 4, "EmployeeID, Day, ShiftID, Weight", p)
            r = Request(
                _id(line, 0, "staff id", p, staff),
                _day(line, 1, horizon, p),
                _id(line, 2, "shift id", p, shifts),
                _int(line, 3, "weight", p),
            )
            key = (r.staff, r.day, r.shift)
            if key in out:
                raise InputError(
                    f"duplicate request in {name}",
                    file=p,
                    row=line.number,
                    found=line.text,
                    hint="one request per employee, day and shift",
                )
            out[key] = r
        return tuple(out.values())

    cover: dict[tuple[int, str], Cover] = {}
    for line in sec.get("SECTION_COVER", []):
        _arity(line, 5, "Day, ShiftID, Requirement, Weight for under, Weight for over", p)
        c = Cover(
            _day(line, 0, horizon, p),
            _id(line, 1, "shift id", p, shifts),
            _int(line, 2, "requirement [staff]", p),
            _int(line, 3, "under-cover weight", p),
            _int(line, 4, "over-cover weight", p),
        )
        if (c.day, c.shift) in cover:
            raise InputError(
                "duplicate cover row",
                file=p,
                row=line.number,
                found=line.text,
                hint="one row per day and shift",
            )
        cover[(c.day, c.shift)] = c

    order = {sid: i for i, sid in enumerate(shifts)}
    return Instance(
        name=p.stem,
        horizon_days=horizon,
        shifts=shift_objs,
        staff=tuple(staff.values()),
        days_off=tuple((e, tuple(sorted(d))) for e, d in days_off.items() if d),
        on_requests=requests("SECTION_SHIFT_ON_REQUESTS"),
        off_requests=requests("SECTION_SHIFT_OFF_REQUESTS"),
        cover=tuple(sorted(cover.values(), key=lambda c: (c.day, order[c.shift]))),
    )


def parse_instance(path: str | Path) -> Instance:
    """Read and parse an instance file (see the module docstring for the format)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(
            "instance file not found", file=p, hint="give the path to an Instance<N>.txt file"
        )
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the instance file: {exc}", file=p) from None
    return parse_text(text, p)


def nominal_starts(shifts: tuple[Shift, ...]) -> dict[str, int]:
    """A start time [min after midnight] per shift type, such that no allowed succession overlaps.

    Known ids (E, D, L, N) get realistic times and others are spread over the
    day; if then a shift allowed the next day would start before the previous
    one ends, every shift starts at 00:00 (lengths are at most a day), so the
    forbidden successions stay the only rule linking consecutive days.
    """
    starts: dict[str, int] = {}
    free = [s for s in shifts if s.id not in NOMINAL_START_MIN]
    for s in shifts:
        if s.id in NOMINAL_START_MIN:
            starts[s.id] = NOMINAL_START_MIN[s.id]
    for i, s in enumerate(free):
        starts[s.id] = (6 * 60 + i * 60) % MINUTES_PER_DAY
    for a in shifts:
        for b in shifts:
            if (
                b.id not in a.not_followed_by
                and starts[a.id] + a.length_min > MINUTES_PER_DAY + starts[b.id]
            ):
                return {s.id: 0 for s in shifts}
    return starts


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def scenario_frames(instance: Instance, start: dt.date = DEFAULT_START) -> dict[str, pd.DataFrame]:
    """The staffplan tables for ``instance`` (agents, contracts, shifts, absences (none),
    availability (the days off), preferences, shift_cover).

    ``start`` must be a Monday: the benchmark's weekends are days 5 and 6 of each week.
    """
    if start.weekday() != 0:
        raise InputError(
            "the start date must be a Monday",
            key="start",
            expected="a Monday (day 0 of the benchmark is a Monday)",
            found=start.isoformat(),
        )
    day = [(start + dt.timedelta(days=d)).isoformat() for d in range(instance.horizon_days)]
    agents = pd.DataFrame(
        {
            "agent_id": list(instance.staff_ids),
            "name": list(instance.staff_ids),
            "team": "staff",
            "contract": list(instance.staff_ids),
            "skills": QUEUE,
            "hourly_cost": 0,
        }
    )
    contract_rows = []
    for s in instance.staff:
        allowed = [(sid, n) for sid, n in s.max_shifts if n > 0]
        limited = {sid for sid, _ in s.max_shifts}
        allowed += [
            (sid, instance.horizon_days) for sid in instance.shift_ids if sid not in limited
        ]
        allowed_ids = [sid for sid in instance.shift_ids if sid in dict(allowed)]
        contract_rows.append(
            {
                "contract": s.id,
                "min_minutes_week": 0,
                "max_minutes_week": 7 * MINUTES_PER_DAY,
                "max_days_week": 7,
                "max_consecutive_days": s.max_consecutive_shifts,
                "min_consecutive_days": max(s.min_consecutive_shifts, 1),
                "min_days_off_in_row": max(s.min_consecutive_days_off, 1),
                "min_rest_hours": 0,
                "max_weekends": s.max_weekends,
                "min_minutes_horizon": s.min_total_min,
                "max_minutes_horizon": s.max_total_min,
                "templates": "*"
                if len(allowed_ids) == len(instance.shifts)
                else "|".join(allowed_ids),
                "max_shifts": "|".join(
                    f"{sid}={n}" for sid, n in s.max_shifts if n > 0 and n < instance.horizon_days
                ),
            }
        )
    contracts = pd.DataFrame(contract_rows)
    starts = nominal_starts(instance.shifts)
    shifts = pd.DataFrame(
        {
            "template": list(instance.shift_ids),
            "earliest_start": [_clock(starts[s.id]) for s in instance.shifts],
            "latest_start": [_clock(starts[s.id]) for s in instance.shifts],
            "start_step_min": 15,
            "length_min": [s.length_min for s in instance.shifts],
            "breaks": "",
            "not_followed_by": ["|".join(s.not_followed_by) for s in instance.shifts],
            "late": [starts[s.id] >= 12 * 60 for s in instance.shifts],
        }
    )
    absences = pd.DataFrame(columns=["agent_id", "start", "end", "kind"])
    availability = pd.DataFrame(
        [
            {"agent_id": e, "weekday": "", "date": day[d], "from": "", "to": ""}
            for e, days in instance.days_off
            for d in days
        ],
        columns=["agent_id", "weekday", "date", "from", "to"],
    )
    prefs = [
        {
            "agent_id": r.staff,
            "date": day[r.day],
            "kind": "on",
            "template": r.shift,
            "weight": r.weight,
        }
        for r in instance.on_requests
    ]
    prefs += [
        {
            "agent_id": r.staff,
            "date": day[r.day],
            "kind": "not",
            "template": r.shift,
            "weight": r.weight,
        }
        for r in instance.off_requests
    ]
    preferences = pd.DataFrame(prefs, columns=["agent_id", "date", "kind", "template", "weight"])
    shift_cover = pd.DataFrame(
        [
            {
                "date": day[c.day],
                "template": c.shift,
                "required": c.requirement,
                "under_weight": c.under_weight,
                "over_weight": c.over_weight,
            }
            for c in instance.cover
        ],
        columns=["date", "template", "required", "under_weight", "over_weight"],
    )
    return {
        "agents": agents,
        "contracts": contracts,
        "shifts": shifts,
        "absences": absences,
        "availability": availability,
        "preferences": preferences,
        "shift_cover": shift_cover,
    }


def scenario_toml(
    instance: Instance,
    start: dt.date = DEFAULT_START,
    *,
    time_limit_s: float = 60.0,
    workers: int = 2,
    seed: int = 0,
) -> str:
    """The ``scenario.toml`` text: grid, the data files, one queue and objective weights.

    Labour cost, fairness and interval coverage weigh 0 and preferences 1, so
    the objective is Σ broken request weights + Σ weighted cover deviations.
    """
    description = (
        f"Curtois & Qu benchmark {instance.name}: {len(instance.staff)} staff, "
        f"{len(instance.shifts)} shift types, {instance.horizon_days} days"
    )
    return f"""# Imported from the Curtois & Qu benchmark instance {instance.name}
# by `staffplan import curtois`.
# Only cover deviations and requests carry weight: the objective is the benchmark's.
name = "curtois-{instance.name}"
description = "{description}"

[grid]
start = {start.isoformat()}
days = {instance.horizon_days}
interval_minutes = 60
timezone = "UTC"

[data]
agents = "agents.csv"
contracts = "contracts.csv"
shifts = "shifts.csv"
absences = "absences.csv"
availability = "availability.csv"
preferences = "preferences.csv"
shift_cover = "shift_cover.csv"

[queues.{QUEUE}]
channel = "voice"

[solver]
time_limit_s = {float(time_limit_s)}
workers = {int(workers)}
seed = {int(seed)}
log_progress = false

[weights]
under_coverage = 0
over_coverage = 0
cost = 0
preference = 1
fairness = 0
"""


def to_scenario(
    instance: Instance,
    out_dir: str | Path,
    *,
    start: dt.date = DEFAULT_START,
    force: bool = False,
    time_limit_s: float = 60.0,
    workers: int = 2,
) -> Path:
    """Write ``instance`` as a scenario folder; return the path of its ``scenario.toml``.

    Refuses a folder that exists and is not empty unless ``force`` (then the
    scenario's files are replaced; other files are left alone).
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError("the output path is a file", file=out, expected="a folder (new or empty)")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise InputError(
            "the output folder is not empty",
            file=out,
            expected="a new or empty folder",
            hint="pass --force to overwrite the scenario files in it",
        )
    frames = scenario_frames(instance, start)
    text = scenario_toml(instance, start, time_limit_s=time_limit_s, workers=workers)
    for name, frame in frames.items():
        write_csv(out / f"{name}.csv", frame)
    return write_text(out / "scenario.toml", text)
