"""The phone list: each change named (call in, extend, move, swap, reassign queue, cancel) with its
size, agents in the order of their earliest affected time."""

from __future__ import annotations

import pandas as pd
from coverkit import row as one_day_row

from staffplan.cover.phone import classify, phone_list, tell
from staffplan.i18n import Lang
from staffplan.io.roster_csv import diff_rosters, roster_as_text


def _row(
    agent: str, shift: str, start: str, end: str, queues: str = "voice", date: str = "2026-12-02"
) -> dict[str, object]:
    return {
        "agent_id": agent,
        "name": agent,
        "date": date,
        "day": 2,
        "shift": shift,
        "start": f"{date}T{start}:00+01:00",
        "end": f"{date}T{end}:00+01:00",
        "paid_minutes": 450,
        "breaks": "",
        "queues": queues,
    }


def test_classify_and_phone_order() -> None:
    old = roster_as_text(
        pd.DataFrame(
            [
                _row("A17", "E", "07:00", "15:00"),  # absent
                _row("A01", "E", "08:00", "16:00"),  # extended to 18:00
                _row("A02", "L", "13:00", "21:00"),  # moved to 10:00
                _row("A04", "E", "09:00", "17:00", "voice|chat"),  # reassigned
                _row("A05", "L", "12:00", "20:00"),  # swapped to an E shift
            ]
        )
    )
    new = roster_as_text(
        pd.DataFrame(
            [
                _row("A01", "E", "08:00", "18:00"),
                _row("A02", "L", "10:00", "18:00"),
                _row("A03", "E", "07:30", "15:30"),  # called in
                _row("A04", "E", "09:00", "17:00", "chat|voice"),
                _row("A05", "E", "09:30", "17:30"),
            ]
        )
    )
    log = diff_rosters(old, new, reason="cover A17 (sick)")
    phone = phone_list(log, frozenset({"A17"}))
    assert phone["agent_id"].tolist() == ["A03", "A01", "A04", "A05", "A02"]
    got = dict(
        zip(phone["agent_id"], zip(phone["action"], phone["minutes"], strict=True), strict=True)
    )
    assert got == {
        "A03": ("call in", 480),
        "A01": ("extend", 120),
        "A04": ("reassign queue", 0),
        "A05": ("swap shift", -150),
        "A02": ("move start", -180),
    }
    assert phone.loc[phone.agent_id == "A04", "new"].item() == "E 09:00-17:00 [chat|voice]"
    assert "A17" not in phone["agent_id"].tolist()
    assert classify(log[log.agent_id == "A17"].iloc[0], log[log.agent_id == "A17"].iloc[0]) == (
        "cancel",
        480,
    )


def test_phone_order_groups_each_agent_earliest_first() -> None:
    old = roster_as_text(
        pd.DataFrame(
            [
                one_day_row("A1", "E", "voice", "lunch 11:00-12:00"),
                one_day_row("A2", "E", "voice|chat", "lunch 12:00-13:00"),
            ]
        )
    )
    new = old.copy()
    new["assignments"] = ""
    new.loc[0, "breaks"] = "lunch 13:00-14:00"
    new.loc[1, "breaks"] = "lunch 11:00-12:00"
    new.loc[1, "assignments"] = (
        "voice 08:00-09:00;chat 09:00-10:00;voice 10:00-11:00;voice 12:00-16:00"
    )
    log = diff_rosters(old, new, reason="cover")
    log.loc[log.agent_id == "A2", "old_assignments"] = "voice 08:00-12:00;voice 13:00-16:00"
    from staffplan.cover.phone import phone_list

    phone = phone_list(log)
    assert phone[["agent_id", "action", "old", "new"]].values.tolist() == [
        ["A2", "reassign", "voice 09:00-10:00", "chat 09:00-10:00"],
        ["A2", "move break", "lunch 12:00-13:00", "lunch 11:00-12:00"],
        ["A1", "move break", "lunch 11:00-12:00", "lunch 13:00-14:00"],
    ]


def test_each_change_names_the_agent_and_says_what_to_tell_them() -> None:
    old = roster_as_text(
        pd.DataFrame(
            [
                _row("A17", "E", "07:00", "15:00"),  # went home sick at 11:00: no call
                _row("A01", "E", "08:00", "16:00"),
                _row("A02", "L", "13:00", "21:00"),
                _row("A05", "L", "12:00", "20:00"),
                _row("A06", "E", "08:00", "16:00"),
            ]
        )
    )
    new = roster_as_text(
        pd.DataFrame(
            [
                _row("A17", "E", "07:00", "11:00"),
                _row("A01", "E+120", "08:00", "18:00"),
                _row("A02", "L", "10:00", "18:00"),
                _row("A03", "E", "07:30", "15:30"),
                _row("A05", "E", "09:30", "17:30"),
            ]
        )
    )
    log = diff_rosters(old, new, reason="cover A17 (sick)")
    names = {a: f"Name {a}" for a in ("A01", "A02", "A03", "A05", "A06", "A17")}
    phone = phone_list(log, frozenset({"A17"}), names)
    assert "A17" not in set(phone["agent_id"])
    assert (phone["name"] == "Name " + phone["agent_id"]).all()
    assert dict(zip(phone["agent_id"], phone["tell"], strict=True)) == {
        "A03": "Please come in on Wed 2 Dec: E 07:30-15:30.",
        "A01": "Please stay 120 min longer on Wed 2 Dec: E+120 08:00-18:00 instead of E "
        "08:00-16:00.",
        "A06": "Your shift E 08:00-16:00 on Wed 2 Dec is cancelled: please stay at home.",
        "A05": "Please work E 09:30-17:30 instead of L 12:00-20:00 on Wed 2 Dec.",
        "A02": "Please start at 10:00 instead of 13:00 on Wed 2 Dec: L 10:00-18:00.",
    }


def test_break_moves_and_reassignments_are_told_span_by_span() -> None:
    assert (
        tell("move break", "2026-12-08", "lunch 11:00-11:30", "lunch 10:45-11:15", -15)
        == "On Tue 8 Dec please take your lunch 10:45-11:15 instead of lunch 11:00-11:30."
    )
    assert (
        tell("reassign", "2026-12-08", "email 09:15-09:30", "voice 09:15-09:30", 15)
        == "On Tue 8 Dec please take voice instead of email from 09:15 to 09:30."
    )


def test_the_sentence_is_told_in_the_leads_language() -> None:
    """The web's Sick call page tells each change in the page's language (catalog es, CLDR days)."""
    es = Lang("es")
    assert tell("call in", "2026-12-09", "off", "E 07:00-15:00", 480, es) == (
        "Por favor, ven el mié, 9 dic: E 07:00-15:00."
    )
    assert tell("reassign", "2026-12-08", "email 09:15-09:30", "voice 09:15-09:30", 15, es) == (
        "El mar, 8 dic, por favor, atiende voice en lugar de email de 09:15 a 09:30."
    )
    assert tell("extend", "2026-12-08", "E 08:00-16:00", "E+120 08:00-18:00", 120, Lang()) == (
        "Please stay 120 min longer on Tue, Dec 8: E+120 08:00-18:00 instead of E 08:00-16:00."
    )
