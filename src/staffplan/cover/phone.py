"""The phone list: the changes of a repair in the order a lead phones them through, each with
the agent's name, one sentence to tell them and the service level it restores.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pandas as pd

from staffplan.i18n import ENGLISH, N_, Lang
from staffplan.io.roster_csv import describe

PHONE_COLUMNS: tuple[str, ...] = (
    "first_time",
    "agent_id",
    "name",
    "date",
    "action",
    "old",
    "new",
    "minutes",
    "tell",
    "reason",
)
"""Columns of :func:`phone_list`; a repair's phone list adds ``sl_without`` and ``sl_with``
(:func:`staffplan.cover.result.restored_service`)."""

_TELL = {
    "call in": N_("please come in on %(day)s: %(new)s"),
    "cancel": N_("your shift %(old)s on %(day)s is cancelled: please stay at home"),
    "extend": N_("please stay %(minutes)s min longer on %(day)s: %(new)s instead of %(old)s"),
    "shorten": N_("your shift on %(day)s ends early: %(new)s instead of %(old)s"),
    "move start": N_("please start at %(start)s instead of %(old_start)s on %(day)s: %(new)s"),
    "swap shift": N_("please work %(new)s instead of %(old)s on %(day)s"),
    "reassign queue": N_("on %(day)s please work the queues in this order: %(new)s"),
    "move break": N_("on %(day)s please take your %(new)s instead of %(old)s"),
    "reassign": N_("on %(day)s please take %(new_queue)s instead of %(old_queue)s %(span)s"),
}
_TELL_OTHER = N_("on %(day)s: %(new)s instead of %(old)s")


def tell(action: str, date: str, old: str, new: str, minutes: int, lang: Lang | None = None) -> str:
    """One sentence to tell the agent about a change, from its phone-list fields (``old``/``new``
    as :func:`phone_list` words them, ``date`` ISO), in ``lang`` (its catalog and its way of
    writing a day); without one, English with the day as ``Tue 8 Dec`` (``changes.csv``).
    """
    speak = lang or ENGLISH
    d = dt.date.fromisoformat(date[:10])
    old_q, _, span = old.partition(" ")
    new_q = new.partition(" ")[0]
    starts = [x.split(" ")[1].split("-")[0] if x.count(" ") else "" for x in (old, new)]
    a, _, b = span.partition("-")
    text = speak.gettext(
        _TELL.get(action, _TELL_OTHER),
        day=speak.day(d) if lang else f"{d:%a %-d %b}",
        old=old,
        new=new,
        minutes=speak.number(abs(minutes)),
        start=starts[1],
        old_start=starts[0],
        old_queue=old_q,
        new_queue=new_q,
        span=speak.gettext("from %(start)s to %(end)s", start=a, end=b) if span else "",
    )
    return text[0].upper() + text[1:] + "."


def _minutes(a: str, b: str) -> int:
    """Whole minutes from ISO time ``a`` to ``b``."""
    return int(
        round((dt.datetime.fromisoformat(b) - dt.datetime.fromisoformat(a)).total_seconds() / 60)
    )


def classify(old: Any, new: Any) -> tuple[str, int]:
    """The lead's name for one agent-day change and its size [min], from change-log fields.

    ``call in`` (a shift on a day off; minutes = its length), ``cancel`` (no
    shift any more), ``extend`` / ``shorten`` (same start, end moved; minutes =
    the difference), ``move start`` (same template, start moved; minutes = the
    signed shift), ``swap shift`` (another template), ``reassign queue`` (same
    times, other queue priority order), ``move break`` (same shift, breaks
    moved), ``reassign`` (same shift, other queue spans; minutes 0 here, per
    span in :func:`phone_list`).
    """
    if not old.old_shift and not old.old_start:
        return "call in", _minutes(new.new_start, new.new_end)
    if not new.new_shift and not new.new_start:
        return "cancel", _minutes(old.old_start, old.old_end)
    if old.old_start == new.new_start and old.old_end != new.new_end:
        d = _minutes(old.old_end, new.new_end)
        return ("extend" if d > 0 else "shorten"), abs(d)
    if old.old_shift == new.new_shift and old.old_start != new.new_start:
        return "move start", _minutes(old.old_start, new.new_start)
    if (
        old.old_shift != new.new_shift
        or old.old_start != new.new_start
        or old.old_end != new.new_end
    ):
        return "swap shift", _minutes(old.old_start, new.new_start)
    if getattr(old, "old_queues", "") != getattr(new, "new_queues", ""):
        return "reassign queue", 0
    if getattr(old, "old_breaks", "") != getattr(new, "new_breaks", ""):
        return "move break", 0
    if getattr(old, "old_assignments", "") != getattr(new, "new_assignments", ""):
        return "reassign", 0
    return "reassign queue", 0


def _at(start_iso: str, clock: str) -> dt.datetime:
    """The first time at clock ``HH:MM`` on or after the shift start ``start_iso`` (local, with its
    offset).
    """
    s = dt.datetime.fromisoformat(start_iso)
    minutes = (int(clock[:2]) * 60 + int(clock[3:5]) - (s.hour * 60 + s.minute)) % 1440
    return s + dt.timedelta(minutes=minutes)


def _items(text: str) -> list[tuple[str, str, str]]:
    """``name HH:MM-HH:MM;...`` -> (name, from, to)."""
    out = []
    for item in (x.strip() for x in (text or "").split(";")):
        if item:
            name, _, span = item.rpartition(" ")
            a, _, b = span.partition("-")
            out.append((name, a, b))
    return out


def _span_rows(r: Any, action: str) -> list[tuple[str, str, str, int]]:
    """(first time ISO, old, new, minutes) per moved break or per reassigned span of one
    agent-day.
    """
    start = r.new_start or r.old_start
    out = []
    if action == "move break":
        old = _items(r.old_breaks)
        for name, a, b in _items(r.new_breaks):
            prev = next(((x, y) for n, x, y in old if n == name), None)
            if prev is None or prev == (a, b):
                continue
            t_old, t_new = _at(start, prev[0]), _at(start, a)
            out.append(
                (
                    min(t_old, t_new).isoformat(),
                    f"{name} {prev[0]}-{prev[1]}",
                    f"{name} {a}-{b}",
                    int((t_new - t_old).total_seconds() // 60),
                )
            )
        return out
    im = 1

    def per_minute(text: str) -> dict[int, str]:
        m: dict[int, str] = {}
        for name, a, b in _items(text):
            t0 = _at(start, a)
            t1 = _at(start, b)
            k0 = int((t0 - dt.datetime.fromisoformat(start)).total_seconds() // 60)
            k1 = int((t1 - dt.datetime.fromisoformat(start)).total_seconds() // 60)
            for k in range(k0, k1, im):
                m[k] = name
        return m

    old_q, new_q = per_minute(r.old_assignments), per_minute(r.new_assignments)
    keys = sorted(k for k in new_q if k in old_q and old_q[k] != new_q[k])
    s0 = dt.datetime.fromisoformat(start)
    i = 0
    while i < len(keys):
        j = i
        while (
            j + 1 < len(keys)
            and keys[j + 1] == keys[j] + 1
            and old_q[keys[j + 1]] == old_q[keys[i]]
            and new_q[keys[j + 1]] == new_q[keys[i]]
        ):
            j += 1
        t0, t1 = s0 + dt.timedelta(minutes=keys[i]), s0 + dt.timedelta(minutes=keys[j] + 1)
        span = f"{t0:%H:%M}-{t1:%H:%M}"
        out.append(
            (
                t0.isoformat(),
                f"{old_q[keys[i]]} {span}",
                f"{new_q[keys[i]]} {span}",
                keys[j] + 1 - keys[i],
            )
        )
        i = j + 1
    return out


def phone_list(
    change_log: pd.DataFrame,
    absent_agents: frozenset[str] = frozenset(),
    names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """The changes a lead phones through (:data:`PHONE_COLUMNS`): agents by their earliest affected
    time, each agent's changes together in time order, with the agent's name (``names``) and
    one sentence to tell them (:func:`tell`).

    ``change_log`` has the store's change columns (see :func:`staffplan.store.diff_rosters`).
    Removals and early ends of absent agents' own shifts (they went home sick) need no call and
    are left out. A
    shift kept as it was but with breaks moved gives one ``move break`` row
    per break (old and new ``name HH:MM-HH:MM``; minutes = the signed move);
    with other queue spans one ``reassign`` row per span (old and new
    ``queue HH:MM-HH:MM``; minutes = the span's length).
    """
    who = dict(names or {})
    log = change_log.copy()
    for c in ("old_breaks", "new_breaks", "old_assignments", "new_assignments"):
        if c not in log.columns:
            log[c] = ""
    rows = []
    for r in log.itertuples(index=False):
        action, minutes = classify(r, r)
        if action in ("cancel", "shorten") and r.agent_id in absent_agents:
            continue
        if action == "move break" and r.old_assignments != r.new_assignments:
            spans = [(*x, "move break") for x in _span_rows(r, "move break")] + [
                (*x, "reassign") for x in _span_rows(r, "reassign")
            ]
        elif action in ("move break", "reassign"):
            spans = [(*x, action) for x in _span_rows(r, action)]
        else:
            spans = []
        if spans:
            for first, old, new, mins, act in spans:
                rows.append(
                    (
                        first,
                        r.agent_id,
                        who.get(r.agent_id, ""),
                        r.date,
                        act,
                        old,
                        new,
                        mins,
                        tell(act, r.date, old, new, mins),
                        r.reason,
                        dt.datetime.fromisoformat(first),
                    )
                )
            continue
        first = min(
            (t for t in (r.old_start, r.new_start) if t), key=lambda t: dt.datetime.fromisoformat(t)
        )
        old = describe(r.old_shift, r.old_start, r.old_end) + (
            f" [{r.old_queues}]" if action == "reassign queue" else ""
        )
        new = describe(r.new_shift, r.new_start, r.new_end) + (
            f" [{r.new_queues}]" if action == "reassign queue" else ""
        )
        rows.append(
            (
                first,
                r.agent_id,
                who.get(r.agent_id, ""),
                r.date,
                action,
                old,
                new,
                minutes,
                tell(action, r.date, old, new, minutes),
                r.reason,
                dt.datetime.fromisoformat(first),
            )
        )
    frame = pd.DataFrame(rows, columns=[*PHONE_COLUMNS, "_t"])
    frame["_first"] = (
        frame.groupby("agent_id")["_t"].transform("min") if len(frame) else frame["_t"]
    )
    frame = (
        frame.sort_values(["_first", "agent_id", "_t"], kind="stable")
        .drop(columns=["_t", "_first"])
        .reset_index(drop=True)
    )
    return frame.astype({"minutes": "int64"})
