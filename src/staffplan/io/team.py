"""Readers for the team files: agents, contracts, shift templates, absences,
availability, preferences, day-level shift cover and a previous roster.

Each reader checks its table against the format contract (docs/formats.md,
"Team and roster files") and returns frozen dataclasses sorted by id, so a
model built from them is deterministic. Errors name the file, row, column,
what was expected and what was found.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from staffplan.errors import InputError
from staffplan.io.tables import Column, parse_clock, read_table

ABSENCE_KINDS = ("vacation", "sick", "training", "meeting", "day_off", "other")
#: kinds that block any shift overlapping them
BLOCKING_KINDS = frozenset({"vacation", "sick", "day_off", "other"})
#: kinds that are scheduled activities inside a shift
ACTIVITY_KINDS = frozenset({"training", "meeting"})
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Agent:
    """One agent; ``skills`` are queue/skill names in priority order (most preferred first)."""

    id: str
    name: str
    team: str
    contract: str
    skills: tuple[str, ...]
    hourly_cost: float = 0.0


@dataclass(frozen=True)
class Contract:
    """Contract limits: minutes are paid minutes [min], rest in hours [h]."""

    id: str
    min_minutes_week: int
    max_minutes_week: int
    max_days_week: int
    max_consecutive_days: int
    min_consecutive_days: int = 1
    min_days_off_in_row: int = 1
    min_rest_hours: float = 0.0
    max_weekends: int | None = None
    min_minutes_horizon: int | None = None
    max_minutes_horizon: int | None = None
    templates: tuple[str, ...] | None = None  # None = every template
    max_shifts: tuple[tuple[str, int], ...] = ()

    def allows(self, template: str) -> bool:
        """True if the contract may work ``template``."""
        return self.templates is None or template in self.templates


@dataclass(frozen=True)
class Break:
    """A break of ``minutes`` [min] starting between ``earliest`` and ``latest`` [min after shift
    start].
    """

    name: str
    minutes: int
    paid: bool
    earliest: int
    latest: int


@dataclass(frozen=True)
class ShiftTemplate:
    """A shift template: start window [min after midnight], step [min], length [min], breaks."""

    id: str
    earliest_start: int
    latest_start: int
    start_step_min: int
    length_min: int
    breaks: tuple[Break, ...] = ()
    not_followed_by: tuple[str, ...] = ()
    late: bool = False

    @property
    def paid_minutes(self) -> int:
        """Length minus unpaid breaks [min]."""
        return self.length_min - sum(b.minutes for b in self.breaks if not b.paid)

    def starts(self) -> tuple[int, ...]:
        """Every allowed start [min after midnight]."""
        return tuple(range(self.earliest_start, self.latest_start + 1, self.start_step_min))


@dataclass(frozen=True)
class Absence:
    """An absence or activity over local times [start, end) (tz-aware)."""

    agent_id: str
    start: pd.Timestamp
    end: pd.Timestamp
    kind: str


@dataclass(frozen=True)
class Availability:
    """The agent can work only inside [from_min, to_min] [min after midnight] on that weekday or
    date; the empty window ``from_min == to_min`` is a day on which no shift starts.
    """

    agent_id: str
    weekday: int | None
    date: dt.date | None
    from_min: int
    to_min: int

    @property
    def day_off(self) -> bool:
        """No shift may start on this weekday or date (a shift from the day before may end in
        it)."""
        return self.to_min <= self.from_min


@dataclass(frozen=True)
class Preference:
    """A soft wish: ``kind`` off/on/not, optional template, ``weight`` = cost of breaking it."""

    agent_id: str
    date: dt.date
    kind: str
    template: str | None
    weight: int


@dataclass(frozen=True)
class ShiftCover:
    """Day-level demand: ``required`` agents on ``template`` that day; costs per missing/surplus
    agent.
    """

    date: dt.date
    template: str
    required: int
    under_weight: int
    over_weight: int
    skill: str | None = None


@dataclass(frozen=True)
class PreviousShift:
    """A shift worked before the horizon (from a previous roster.csv)."""

    agent_id: str
    date: dt.date
    template: str
    start: pd.Timestamp
    end: pd.Timestamp


def _blank(v: object) -> bool:
    return v is None or (isinstance(v, float) and pd.isna(v)) or str(v).strip() == ""


def parse_skills(text: str, *, file: Path, row: int) -> tuple[str, ...]:
    """``voice:1|chat:2`` -> ("voice", "chat") sorted by priority (1 first; no priority = after, in
    order).
    """
    items = []
    for pos, part in enumerate(p.strip() for p in str(text).split("|")):
        if not part:
            continue
        name, _, prio = part.partition(":")
        if prio and not prio.strip().isdigit():
            raise InputError(
                "bad skill priority",
                file=file,
                row=row,
                column="skills",
                expected="skill or skill:priority (a whole number, 1 = most preferred)",
                found=part,
            )
        items.append((int(prio) if prio else 10**6, pos, name.strip()))
    if not items:
        raise InputError(
            "agent without skills",
            file=file,
            row=row,
            column="skills",
            expected="queue names separated by |, e.g. voice:1|chat:2",
            found=text,
        )
    names = [n for _, _, n in sorted(items)]
    if len(set(names)) != len(names):
        raise InputError(
            "skill listed twice",
            file=file,
            row=row,
            column="skills",
            expected="each skill once",
            found=text,
        )
    return tuple(names)


def read_agents(path: str | Path) -> tuple[Agent, ...]:
    """Read agents.csv (columns agent_id, name, team, contract, skills, optional hourly_cost)."""
    p = Path(path)
    cols = [
        Column("agent_id"),
        Column("name", required=False, default=""),
        Column("team", required=False, default=""),
        Column("contract"),
        Column("skills", hint="queue names separated by |, e.g. voice:1|chat:2"),
        Column("hourly_cost", "float", required=False, default=0.0, minimum=0),
    ]
    f = read_table(p, cols, what="agents table")
    dup = f["agent_id"].duplicated()
    if dup.any():
        i = int(dup.to_numpy().nonzero()[0][0])
        raise InputError(
            "duplicate agent_id",
            file=p,
            row=i + 2,
            column="agent_id",
            expected="unique ids",
            found=f["agent_id"].iloc[i],
        )
    out = []
    for i, r in enumerate(f.itertuples(index=False)):
        name = "" if _blank(r.name) else str(r.name)
        out.append(
            Agent(
                str(r.agent_id),
                name or str(r.agent_id),
                "" if _blank(r.team) else str(r.team),
                str(r.contract),
                parse_skills(r.skills, file=p, row=i + 2),
                float(r.hourly_cost or 0.0),
            )
        )
    return tuple(sorted(out, key=lambda a: a.id))


def _opt_int(v: object, *, file: Path, row: int, column: str) -> int | None:
    if _blank(v):
        return None
    try:
        x = float(str(v).strip())
    except ValueError:
        x = -1.0
    if x < 0 or x != int(x):
        raise InputError(
            "bad value",
            file=file,
            row=row,
            column=column,
            expected="a whole number >= 0 or blank",
            found=v,
        )
    return int(x)


def read_contracts(path: str | Path) -> tuple[Contract, ...]:
    """Read contracts.csv (see docs/formats.md)."""
    p = Path(path)
    cols = [
        Column("contract"),
        Column("min_minutes_week", "int", minimum=0),
        Column("max_minutes_week", "int", minimum=0),
        Column("max_days_week", "int", minimum=0, maximum=7),
        Column("max_consecutive_days", "int", minimum=1),
        Column("min_consecutive_days", "int", required=False, default=1, minimum=1),
        Column("min_days_off_in_row", "int", required=False, default=1, minimum=1),
        Column("min_rest_hours", "float", required=False, default=0.0, minimum=0, maximum=48),
        Column("max_weekends", required=False, default=""),
        Column("min_minutes_horizon", required=False, default=""),
        Column("max_minutes_horizon", required=False, default=""),
        Column("templates", required=False, default="*"),
        Column("max_shifts", required=False, default=""),
    ]
    f = read_table(p, cols, what="contracts table")
    out = []
    for i, r in enumerate(f.itertuples(index=False)):
        row = i + 2
        if r.min_minutes_week > r.max_minutes_week:
            raise InputError(
                "minimum above maximum",
                file=p,
                row=row,
                column="min_minutes_week",
                expected=f"at most max_minutes_week ({r.max_minutes_week})",
                found=r.min_minutes_week,
            )
        tmpl = str(r.templates).strip()
        templates = (
            None if tmpl in ("", "*") else tuple(t.strip() for t in tmpl.split("|") if t.strip())
        )
        max_shifts = []
        for part in (x.strip() for x in str(r.max_shifts).split("|") if x.strip()):
            k, eq, n = part.partition("=")
            if not eq or not n.strip().isdigit():
                raise InputError(
                    "bad max_shifts",
                    file=p,
                    row=row,
                    column="max_shifts",
                    expected="template=count items separated by |, e.g. E=3|L=5",
                    found=r.max_shifts,
                )
            max_shifts.append((k.strip(), int(n)))
        out.append(
            Contract(
                str(r.contract),
                int(r.min_minutes_week),
                int(r.max_minutes_week),
                int(r.max_days_week),
                int(r.max_consecutive_days),
                int(r.min_consecutive_days),
                int(r.min_days_off_in_row),
                float(r.min_rest_hours),
                _opt_int(r.max_weekends, file=p, row=row, column="max_weekends"),
                _opt_int(r.min_minutes_horizon, file=p, row=row, column="min_minutes_horizon"),
                _opt_int(r.max_minutes_horizon, file=p, row=row, column="max_minutes_horizon"),
                templates,
                tuple(sorted(max_shifts)),
            )
        )
    ids = [c.id for c in out]
    if len(set(ids)) != len(ids):
        raise InputError(
            "duplicate contract id", file=p, column="contract", expected="unique ids", found=ids
        )
    return tuple(sorted(out, key=lambda c: c.id))


_BREAK_HINT = (
    "items name:minutes:paid|unpaid:earliest-latest separated by |, e.g. lunch:30:unpaid:180-300"
)


def parse_breaks(text: str, *, file: Path, row: int) -> tuple[Break, ...]:
    """Parse a ``breaks`` cell into :class:`Break` items (earliest/latest in [min after shift
    start]).
    """
    out = []
    for part in (x.strip() for x in str(text).split("|") if x.strip()):
        bits = part.split(":")
        ok = len(bits) == 4 and bits[1].strip().isdigit() and bits[2].strip() in ("paid", "unpaid")
        win = bits[3].split("-") if ok else []
        ok = ok and len(win) == 2 and all(w.strip().isdigit() for w in win)
        if not ok or int(win[0]) > int(win[1]) or int(bits[1]) <= 0:
            raise InputError(
                "bad break", file=file, row=row, column="breaks", expected=_BREAK_HINT, found=part
            )
        out.append(
            Break(
                bits[0].strip(), int(bits[1]), bits[2].strip() == "paid", int(win[0]), int(win[1])
            )
        )
    return tuple(sorted(out, key=lambda b: (b.earliest, b.name)))


def read_shifts(path: str | Path) -> tuple[ShiftTemplate, ...]:
    """Read shifts.csv (shift templates)."""
    p = Path(path)
    cols = [
        Column("template"),
        Column("earliest_start", "time"),
        Column("latest_start", "time"),
        Column("start_step_min", "int", minimum=1, maximum=1440),
        Column("length_min", "int", minimum=1, maximum=1440),
        Column("breaks", required=False, default=""),
        Column("not_followed_by", required=False, default=""),
        Column("late", "bool", required=False, default=False),
    ]
    f = read_table(p, cols, what="shift templates")
    out = []
    for i, r in enumerate(f.itertuples(index=False)):
        row = i + 2
        for c in ("earliest_start", "latest_start"):
            if getattr(r, c) >= 1440:
                raise InputError(
                    "start at or after midnight",
                    file=p,
                    row=row,
                    column=c,
                    expected="a clock time 00:00-23:59 (a shift belongs to the day it starts)",
                    found=getattr(r, c),
                )
        if r.latest_start < r.earliest_start:
            raise InputError(
                "latest start before earliest start",
                file=p,
                row=row,
                column="latest_start",
                expected=f"at or after {r.earliest_start // 60:02d}:{r.earliest_start % 60:02d}",
                found=r.latest_start,
            )
        brk = parse_breaks(r.breaks, file=p, row=row)
        for b in brk:
            if b.latest + b.minutes > r.length_min:
                raise InputError(
                    "break window outside the shift",
                    file=p,
                    row=row,
                    column="breaks",
                    expected=f"latest start + minutes <= length_min ({r.length_min})",
                    found=f"{b.name}:{b.latest}+{b.minutes}",
                )
        nfb = tuple(sorted(t.strip() for t in str(r.not_followed_by).split("|") if t.strip()))
        out.append(
            ShiftTemplate(
                str(r.template),
                int(r.earliest_start),
                int(r.latest_start),
                int(r.start_step_min),
                int(r.length_min),
                brk,
                nfb,
                bool(r.late),
            )
        )
    ids = [t.id for t in out]
    if len(set(ids)) != len(ids):
        raise InputError(
            "duplicate template id", file=p, column="template", expected="unique ids", found=ids
        )
    known = set(ids)
    for i, t in enumerate(out):
        for n in t.not_followed_by:
            if n not in known:
                raise InputError(
                    "unknown template in not_followed_by",
                    file=p,
                    row=i + 2,
                    column="not_followed_by",
                    expected="one of " + ", ".join(ids),
                    found=n,
                )
    return tuple(sorted(out, key=lambda t: t.id))


def absence_span(
    start: str,
    end: str,
    tz: str,
    *,
    file: Path | None = None,
    row: int | None = None,
    columns: tuple[str, str] = ("start", "end"),
    date_format: str | None = None,
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """An absence's local span [start, end) from text: dates or date-times (ISO 8601, or
    ``date_format``; local in ``tz`` unless they carry an offset); a date-only end is inclusive
    (the whole day).

    ``columns`` names the two fields in error messages (CSV columns or CLI options).
    """
    from staffplan.timegrid import TimestampParseError, is_date_only, parse_timestamps

    try:
        ts = parse_timestamps(pd.Series([start, end]), tz, date_format)
    except TimestampParseError as exc:
        raise InputError(
            "bad date or time",
            file=file,
            row=row,
            column=columns[exc.index],
            expected=exc.expected,
            found=(start, end)[exc.index],
            hint=exc.hint,
        ) from None
    s, e = ts.iloc[0], ts.iloc[1]
    if is_date_only(end, date_format):  # a date-only end is inclusive: the whole day
        e = (e.tz_localize(None) + pd.Timedelta(days=1)).tz_localize(
            s.tz, nonexistent="shift_forward", ambiguous=True
        )
    if e <= s:
        raise InputError(
            "absence ends before it starts",
            file=file,
            row=row,
            column=columns[1],
            expected="an end after the start",
            found=end,
        )
    return s, e


def read_absences(
    paths: tuple[Path, ...], tz: str, date_formats: Mapping[Path, str] | None = None
) -> tuple[Absence, ...]:
    """Read absences.csv files (agent_id, start, end, kind); ``tz`` is the scenario timezone.

    ``date_formats`` maps a file to its declared date format (default ISO 8601).
    """
    out = []
    for p in paths:
        fmt = (date_formats or {}).get(Path(p))
        f = read_table(
            p,
            [
                Column("agent_id"),
                Column("start"),
                Column("end"),
                Column("kind", choices=ABSENCE_KINDS),
            ],
            what="absences table",
        )
        for i, r in enumerate(f.itertuples(index=False)):
            s, e = absence_span(str(r.start), str(r.end), tz, file=p, row=i + 2, date_format=fmt)
            out.append(Absence(str(r.agent_id), s, e, str(r.kind)))
    return tuple(sorted(out, key=lambda a: (a.agent_id, a.start, a.end, a.kind)))


def read_availability(path: Path, date_format: str | None = None) -> tuple[Availability, ...]:
    """Read availability.csv (agent_id, weekday Mon..Sun or date, from, to).

    ``from`` and ``to`` both blank: not available that day, so no shift starts
    on it (``from_min`` = ``to_min`` = 0, a window no shift fits).
    """
    from staffplan.timegrid import TimestampParseError, parse_timestamps

    cols = [
        Column("agent_id"),
        Column("weekday", required=False, default=""),
        Column("date", required=False, default=""),
        Column("from", required=False, default=""),
        Column("to", required=False, default=""),
    ]
    f = read_table(path, cols, what="availability table")
    dates = sorted({d for d in f["date"].astype(str).str.strip() if d})
    known: dict[str, dt.date] = {}
    if dates:  # one parse for every distinct date; a bad one is found row by row below
        try:
            stamps = parse_timestamps(pd.Series(dates), None, date_format)
            known = {d: t.date() for d, t in zip(dates, stamps, strict=True)}
        except TimestampParseError:
            known = {}
    out = []
    for i, r in enumerate(f.itertuples(index=False)):
        row = i + 2
        wd, day = str(r.weekday).strip(), str(r.date).strip()
        if bool(wd) == bool(day):
            raise InputError(
                "give a weekday or a date",
                file=path,
                row=row,
                column="weekday",
                expected="exactly one of weekday (Mon..Sun) or date",
                found=f"{wd!r}/{day!r}",
            )
        if wd and wd[:3].title() not in WEEKDAYS:
            raise InputError(
                "bad weekday",
                file=path,
                row=row,
                column="weekday",
                expected="Mon, Tue, Wed, Thu, Fri, Sat or Sun",
                found=wd,
            )
        try:
            d = (
                known.get(day)
                or parse_timestamps(pd.Series([day]), None, date_format).iloc[0].date()
                if day
                else None
            )
        except TimestampParseError as exc:
            raise InputError(
                "bad date",
                file=path,
                row=row,
                column="date",
                expected=exc.expected,
                found=day,
                hint=exc.hint,
            ) from None
        clock = {}
        for name, text in (("from", str(r[3]).strip()), ("to", str(r[4]).strip())):
            clock[name] = parse_clock(text) if text else None
            if text and clock[name] is None:
                raise InputError(
                    f"bad '{name}' time",
                    file=path,
                    row=row,
                    column=name,
                    expected="a clock time HH:MM (00:00-48:00), or 'from' and 'to' both blank "
                    "for a day off",
                    found=text,
                )
        if (clock["from"] is None) != (clock["to"] is None):
            blank = "from" if clock["from"] is None else "to"
            raise InputError(
                f"'{blank}' is blank",
                file=path,
                row=row,
                column=blank,
                expected="both 'from' and 'to' (a window), or both blank (no shift starts that "
                "day)",
                found="",
            )
        frm, to = clock["from"] or 0, clock["to"] or 0
        if clock["from"] is not None and to <= frm:
            raise InputError(
                "'to' not after 'from'",
                file=path,
                row=row,
                column="to",
                expected="a later time than 'from' (up to 48:00 for the next day)",
                found=to,
            )
        out.append(
            Availability(
                str(r.agent_id), WEEKDAYS.index(wd[:3].title()) if wd else None, d, frm, to
            )
        )
    return tuple(
        sorted(
            out,
            key=lambda a: (
                a.agent_id,
                a.weekday if a.weekday is not None else -1,
                str(a.date),
                a.from_min,
            ),
        )
    )


def read_preferences(path: Path, date_format: str | None = None) -> tuple[Preference, ...]:
    """Read preferences.csv (agent_id, date, kind off/on/not, template, weight)."""
    cols = [
        Column("agent_id"),
        Column("date", "date"),
        Column("kind", choices=("off", "on", "not")),
        Column("template", required=False, default=""),
        Column("weight", "int", minimum=0),
    ]
    f = read_table(path, cols, what="preferences table", date_format=date_format)
    return tuple(
        sorted(
            (
                Preference(
                    str(r.agent_id),
                    r.date.date(),
                    str(r.kind),
                    None if _blank(r.template) else str(r.template),
                    int(r.weight),
                )
                for r in f.itertuples(index=False)
            ),
            key=lambda x: (x.agent_id, x.date, x.kind, x.template or ""),
        )
    )


def read_shift_cover(path: Path, date_format: str | None = None) -> tuple[ShiftCover, ...]:
    """Read shift_cover.csv (date, template, required, under_weight, over_weight, optional
    skill).
    """
    cols = [
        Column("date", "date"),
        Column("template"),
        Column("required", "int", minimum=0),
        Column("under_weight", "int", minimum=0),
        Column("over_weight", "int", minimum=0),
        Column("skill", required=False, default=""),
    ]
    f = read_table(path, cols, what="shift cover table", date_format=date_format)
    return tuple(
        sorted(
            (
                ShiftCover(
                    r.date.date(),
                    str(r.template),
                    int(r.required),
                    int(r.under_weight),
                    int(r.over_weight),
                    None if _blank(r.skill) else str(r.skill),
                )
                for r in f.itertuples(index=False)
            ),
            key=lambda c: (c.date, c.template, c.skill or ""),
        )
    )


def read_previous_roster(
    path: Path, tz: str, date_format: str | None = None
) -> tuple[PreviousShift, ...]:
    """Read a previous roster.csv (agent_id, date, shift, start, end) for rules across the horizon
    boundary.
    """
    cols = [
        Column("agent_id"),
        Column("date", "date"),
        Column("shift"),
        Column("start", "timestamp"),
        Column("end", "timestamp"),
    ]
    f = read_table(path, cols, tz=tz, what="previous roster", date_format=date_format)
    return tuple(
        sorted(
            (
                PreviousShift(str(r.agent_id), r.date.date(), str(r.shift), r.start, r.end)
                for r in f.itertuples(index=False)
            ),
            key=lambda s: (s.agent_id, s.start),
        )
    )


def clock_text(minutes: int) -> str:
    """``HH:MM`` for minutes after midnight."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def check_clock(text: str) -> int:
    """Minutes after midnight of ``HH:MM``; raises InputError."""
    m = parse_clock(text)
    if m is None:
        raise InputError("bad clock time", expected="HH:MM", found=text)
    return m
