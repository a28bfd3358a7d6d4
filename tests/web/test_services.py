"""The web workspace's door into the engine: scores, edits, validation, cover, diffs and exports
checked against the engine's own functions and hand-counted cases.
"""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from tests.web import kit

from staffplan.errors import InputError
from staffplan.evaluate.kpis import roster_kpis
from staffplan.io.roster_csv import roster_as_text
from staffplan.roster.extract import on_phone_matrix, summarize
from staffplan.store import AbsenceRecord, ConflictError
from staffplan.web.services import Workspace, frame_rows


def test_score_is_the_engines_coverage_and_kpis(ws: Workspace) -> None:
    """For a roster whose queues cells list the agents' skills (as the engine writes them), the
    score is exactly what ``extract.summarize`` and ``evaluate.roster_kpis`` give the engine's
    own rosters (multi-skilled A6 included).
    """
    roster = ws.store.roster(1)
    p = ws.problem
    numeric = roster.astype({"paid_minutes": int})
    on = on_phone_matrix(numeric, p.agents, p.grid)
    cov, _, alloc, stays, moves = summarize(p, numeric, on)
    per, week = roster_kpis(p, alloc, ws.scenario, stays, moves)
    got = ws.score(roster)
    pd.testing.assert_frame_equal(got.coverage, cov[list(got.coverage.columns)], check_dtype=False)
    pd.testing.assert_frame_equal(got.intervals, per)
    pd.testing.assert_frame_equal(got.week, week)
    assert got.summary["paid_hours"] == 38 * 7.5 and got.summary["agents_rostered"] == 8
    assert got.summary["cost"] == 38 * 7.5 * 20


def test_score_follows_each_rows_queues(ws: Workspace) -> None:
    """A6 (voice and chat) set to chat only on Monday: at 09:00 Monday the chat queue has exactly
    A6 and voice everyone else on an early shift (counted by hand from the kit's week).
    """
    roster = roster_as_text(kit.week())
    monday = (roster["agent_id"] == "A6") & (roster["date"] == kit.DAYS[0])
    voice_only = roster.copy()
    voice_only.loc[monday, "queues"] = "voice"
    chat_only = roster.copy()
    chat_only.loc[monday, "queues"] = "chat"
    at = "2026-12-07T09:00:00+01:00"

    def count(frame: pd.DataFrame, queue: str) -> int:
        c = ws.score(frame).coverage
        return int(c[(c["interval_start"] == at) & (c["queue"] == queue)]["scheduled"].iloc[0])

    early = [a for a, days in kit.WEEK.items() if 0 in days and a not in kit.LATE]
    assert (count(chat_only, "chat"), count(chat_only, "voice")) == (1, len(early) - 1)
    assert (count(voice_only, "chat"), count(voice_only, "voice")) == (0, len(early))


def test_day_kpis_add_up_to_the_week(ws: Workspace) -> None:
    k = ws.kpis(1)
    days = ws.day_kpis(k)
    assert len(days) == 2 * 7
    for q in ("voice", "chat"):
        mine = days[days["queue"] == q]
        cov = k.coverage[k.coverage["queue"] == q]
        assert mine["required_hours"].sum() == pytest.approx(cov["required"].sum())  # 60-min grid
        assert mine["scheduled_hours"].sum() == pytest.approx(cov["scheduled"].sum())
        assert mine["available_hours"].sum() == pytest.approx(cov["available"].sum())
        below = k.summary["queues"][q]["intervals_below_target"]
        assert mine["below_target"].sum() == below  # the summary's count, day by day
        per = k.intervals[k.intervals["queue"] == q]
        monday = per[per["interval_start"].str.startswith(kit.DAYS[0])]
        weighted = float(np.average(monday["service_level"], weights=monday["volume"]))
        assert mine.iloc[0]["service_level"] == pytest.approx(weighted)


def test_edit_writes_the_row_the_engine_would(ws: Workspace) -> None:
    roster = ws.store.roster(1)
    off = ws.edit(roster, "A1", kit.DAYS[0], template=None)
    assert len(off) == len(roster) - 1
    assert off.query("agent_id == 'A1' and date == @kit.DAYS[0]").empty
    moved = ws.edit(roster, "A7", kit.DAYS[2], template="E", start="08:00")
    (row,) = moved.query("agent_id == 'A7' and date == @kit.DAYS[2]").to_dict("records")
    # E is 480 min with a 30-min unpaid lunch 180-240 min in: midpoint 210 min = 11:30
    assert (row["shift"], row["start"], row["end"], row["paid_minutes"]) == (
        "E",
        "2026-12-09T08:00:00+01:00",
        "2026-12-09T16:00:00+01:00",
        "450",
    )
    assert (row["breaks"], row["queues"], row["name"]) == ("lunch 11:30-12:00", "voice", "Agent 7")
    assert len(moved) == len(roster) + 1
    assert list(moved["agent_id"]) == sorted(moved["agent_id"])
    chat = ws.edit(roster, "A6", kit.DAYS[0], template="E", start="07:00", queues=["chat"])
    assert chat.query("agent_id == 'A6' and date == @kit.DAYS[0]")["queues"].item() == "chat"


def test_edit_refuses_what_cannot_be_a_row(ws: Workspace) -> None:
    roster = ws.store.roster(1)
    for kwargs, message in (
        ({"agent_id": "A99", "date": kit.DAYS[0], "template": "E", "start": "07:00"}, "agent"),
        ({"agent_id": "A1", "date": "2026-12-20", "template": "E", "start": "07:00"}, "horizon"),
        ({"agent_id": "A1", "date": "12/07/2026", "template": "E", "start": "07:00"}, "bad date"),
        ({"agent_id": "A1", "date": kit.DAYS[0], "template": "X", "start": "07:00"}, "template"),
        ({"agent_id": "A1", "date": kit.DAYS[0], "template": "E", "start": "7h"}, "start"),
        (
            {
                "agent_id": "A1",
                "date": kit.DAYS[0],
                "template": "E",
                "start": "07:00",
                "queues": [],
            },
            "no queue",
        ),
        (
            {
                "agent_id": "A1",
                "date": kit.DAYS[0],
                "template": "E",
                "start": "07:00",
                "queues": ["chat"],
            },
            "cannot serve",
        ),
    ):
        with pytest.raises(InputError, match=message):
            ws.edit(roster, **kwargs)  # type: ignore[arg-type]


def test_validate_sees_an_edit_break_a_rule(ws: Workspace) -> None:
    base = ws.base(1)
    assert ws.validate(base.roster, base) == []
    sixth = ws.edit(base.roster, "A1", kit.DAYS[6], template="E", start="07:00")
    rules = {(v.agent_id, v.rule) for v in ws.validate(sixth, base)}
    assert ("A1", "max days per week") in rules
    early_after_late = ws.edit(base.roster, "A3", kit.DAYS[3], template="E", start="07:00")
    assert ("A3", "minimum rest between shifts") in {
        (v.agent_id, v.rule) for v in ws.validate(early_after_late, base)
    }


def test_publish_refuses_a_stale_edit(ws: Workspace) -> None:
    base = ws.base(1)
    draft = ws.edit(base.roster, "A7", kit.DAYS[6], template="E", start="07:00")
    done = ws.publish(draft, base_version=1, author="ana", note="A7 on Sunday")
    assert (done.version.number, done.version.parent, done.violations) == (2, 1, ())
    with pytest.raises(ConflictError, match="version 2"):
        ws.publish(draft, base_version=1, author="ben", note="same edit, late")
    log = ws.diff(1, 2)
    assert log[["agent_id", "date", "action"]].values.tolist() == [["A7", kit.DAYS[6], "added"]]
    assert log["text"].item() == "off -> E 07:00-15:00"


def test_cover_proposal_and_apply(ws: Workspace) -> None:
    calls: list[str] = []
    prop = ws.propose_cover(
        ["A1:2026-12-09"], "2026-12-09T06:00", on_start=lambda: calls.append("start")
    )
    assert calls == ["start"] and prop.base_version == 1
    phone = prop.result.changes
    assert list(phone["action"]) == ["call in"] and phone["agent_id"].item() in ("A7", "A8")
    v = ws.apply_cover(prop, author="ana", note="A1 flu")
    assert (v.number, v.parent, v.kind, v.n_absences) == (2, 1, "cover", 1)
    (absence,) = ws.store.absences()
    assert (absence.agent_id, absence.kind, absence.versions) == ("A1", "sick", (2,))
    assert ws.validate(ws.store.roster(2), ws.base(2)) == []
    with pytest.raises(ConflictError):
        ws.apply_cover(prop, author="ben")


def test_a_later_cover_starts_from_every_recorded_absence(ws: Workspace) -> None:
    first = ws.propose_cover(["A1:2026-12-09"], "2026-12-09T06:00")
    ws.apply_cover(first, author="ana")
    grid = ws.grid
    thu = grid.local_midnight(pd.Timestamp("2026-12-10").date())
    pending = ws.store.record_absence(
        AbsenceRecord("A6", thu, thu + pd.Timedelta(days=1), "sick", "called at 06:40")
    )
    prop = ws.propose_cover(["A2:2026-12-09T12:00/2026-12-09"], "2026-12-09T10:00")
    assert [a.agent_id for a in prop.absences] == ["A2", "A6"]  # given, then pending
    roster = prop.result.roster
    assert not ((roster.agent_id == "A1") & (roster.date == "2026-12-09")).any()
    assert not ((roster.agent_id == "A6") & (roster.date == "2026-12-10")).any()
    v = ws.apply_cover(prop, author="ben")
    assert [(a.agent_id, a.versions) for a in ws.store.absences()] == [
        ("A1", (2,)),
        ("A6", (v.number,)),
        ("A2", (v.number,)),
    ] and pending.id == 2
    assert ws.validate(ws.store.roster(v.number), ws.base(v.number)) == []


def test_exports_are_the_versions_files(ws: Workspace) -> None:
    name, data, media = ws.export(1, "csv")
    assert name == "webkit-v1.csv" and media.startswith("text/csv")
    pd.testing.assert_frame_equal(
        pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False),
        ws.store.roster(1),
        check_dtype=False,
    )
    _, xlsx, _ = ws.export(1, "xlsx")
    assert {"roster", "changes", "absences", "violations", "version"} <= set(
        load_workbook(io.BytesIO(xlsx)).sheetnames
    )
    _, ics, media = ws.export(1, "ics")
    names = zipfile.ZipFile(io.BytesIO(ics)).namelist()
    assert media == "application/zip" and len(names) == 8
    assert all(n.startswith("webkit-v1/") and n.endswith(".ics") for n in names)
    assert ws.export(1, "ics")[1] == ics  # the same bytes every time
    with pytest.raises(InputError, match="unknown export"):
        ws.export(1, "../../etc/passwd")


def test_compare_lays_versions_side_by_side(ws: Workspace) -> None:
    base = ws.base(1)
    draft = ws.edit(base.roster, "A7", kit.DAYS[6], template="E", start="07:00")
    ws.publish(draft, base_version=1, author="ana", note="A7 on Sunday")
    labels = {"agents": "a", "scheduled": "s", "sl": "sl", "service_level": "SL"}
    table, scheduled, sl = ws.compare([1, 2], labels)
    paid = table[table["metric"] == "paid hours"].iloc[0]
    assert (paid["v1"], paid["v2"], paid["Δ v2"]) == (285.0, 292.5, 7.5)
    assert scheduled.startswith("data:image/png;base64,") and sl.startswith("data:image/png")


def test_frame_rows_names_the_bad_row() -> None:
    good = kit.week().to_dict(orient="records")
    assert len(frame_rows(good)) == len(good)
    with pytest.raises(InputError, match="row 2"):
        frame_rows([good[0], {**good[1], "breaks": ["x"]}])
    with pytest.raises(InputError, match="non-empty list"):
        frame_rows([])


def test_a_versions_violations_follow_the_recorded_absences(ws: Workspace) -> None:
    from staffplan.store import AbsenceRecord

    assert ws.version_violations(ws.base(1)) == []
    day = ws.grid.local_midnight(ws.grid.dates()[0])
    ws.store.record_absence(
        AbsenceRecord("A1", day, day + pd.Timedelta(days=1), "sick", "flu"), author="ana"
    )
    found = ws.version_violations(ws.base(1))  # the same version, a new fact
    assert [(v.agent_id, v.rule) for v in found] == [("A1", "absence")]


def _at(frame: pd.DataFrame, column: str) -> dict[tuple[str, str], float]:
    """(interval_start, queue) -> ``column`` of a coverage or KPI frame."""
    return {
        (str(t), str(q)): float(v)
        for t, q, v in zip(frame["interval_start"], frame["queue"], frame[column], strict=True)
    }


def test_score_reads_a_covers_queue_assignments(ws: Workspace) -> None:
    """A6 (voice and chat) pinned to voice 09:00-12:00 on Monday by an ``assignments`` cell, as a
    cover writes one: the engine's rule puts A6 on chat (voice has five early agents without
    A6), the cell moves A6 to voice for those hours only (counted by hand), and the
    promised service level is that of the hand-counted heads (``evaluate.kpis.roster_kpis``).
    """
    roster = roster_as_text(kit.week()).assign(assignments="")
    monday = (roster["agent_id"] == "A6") & (roster["date"] == kit.DAYS[0])
    pinned = roster.copy()
    pinned.loc[monday, "assignments"] = "voice 09:00-12:00"
    plain, got = ws.score(roster), ws.score(pinned)
    early = sum(1 for a, days in kit.WEEK.items() if 0 in days and a not in kit.LATE)
    hand = _at(plain.coverage, "scheduled")
    for h in (9, 11):  # 10:00 is everyone's lunch
        at = f"2026-12-07T{h:02d}:00:00+01:00"
        assert (hand[(at, "voice")], hand[(at, "chat")]) == (early - 1, 1)  # the rule: chat
        hand[(at, "voice")], hand[(at, "chat")] = early, 0
    assert _at(got.coverage, "scheduled") == hand
    p = ws.problem
    alloc = np.array(
        [[hand[(t.isoformat(), q)] for t in p.grid.starts] for q in p.demand.queues],
        dtype=np.int64,
    )
    # who stays: at 09:00 A6 arrives on voice from chat (a newcomer there, one fewer staying on
    # chat), by hand from the plain roster's counts
    stayed, plain_stayed = _at(got.coverage, "stayed"), _at(plain.coverage, "stayed")
    nine = "2026-12-07T09:00:00+01:00"
    assert stayed[(nine, "voice")] == plain_stayed[(nine, "voice")]
    assert stayed[(nine, "chat")] == plain_stayed[(nine, "chat")] - 1
    stays = np.array(
        [[stayed[(t.isoformat(), q)] for t in p.grid.starts] for q in p.demand.queues],
        dtype=np.int64,
    )
    # who moves: the plain roster's movers (the engine's own count), and by hand A6 from chat to
    # voice at 09:00 and back to chat at 12:00
    numeric = roster.astype({"paid_minutes": int})
    moves = summarize(p, numeric, on_phone_matrix(numeric, p.agents, p.grid))[4]
    voice, chat = p.demand.queues.index("voice"), p.demand.queues.index("chat")
    starts = [t.isoformat() for t in p.grid.starts]
    moves[voice, chat, starts.index(nine)] += 1
    moves[chat, voice, starts.index("2026-12-07T12:00:00+01:00")] += 1
    per, week = roster_kpis(p, alloc, ws.scenario, stays, moves)
    pd.testing.assert_frame_equal(got.intervals, per)
    pd.testing.assert_frame_equal(got.week, week)
    assert got.summary["service_level"] != plain.summary["service_level"]


def test_a_versions_kpis_are_the_covers_counts(ws: Workspace) -> None:
    """One coverage definition with ``cover``: version 1's KPIs are the repair's "before"; once
    A1's absence is recorded and pending, its "no action" (A1 answers nothing on Wednesday);
    the applied cover's version, its "after" — heads and promised service level per interval
    of the repaired window.
    """
    from staffplan.store import AbsenceRecord

    prop = ws.propose_cover(["A1:2026-12-09"], "2026-12-09T06:00")
    service = prop.result.service

    def same(kpis: object, heads: str, sl: str) -> None:
        got = _at(kpis.coverage, "scheduled")  # type: ignore[attr-defined]
        promised = _at(kpis.intervals, "service_level")  # type: ignore[attr-defined]
        for r in service.to_dict(orient="records"):
            key = (r["interval_start"], r["queue"])
            assert got[key] == r[heads], key
            if not np.isnan(r[sl]):
                assert promised[key] == pytest.approx(r[sl], abs=1e-12), key

    same(ws.kpis(1), "scheduled_before", "sl_before")
    before = ws.kpis(1).summary["service_level"]
    (a,) = prop.absences
    ws.store.record_absence(AbsenceRecord(a.agent_id, a.start, a.end, a.kind), author="ana")
    assert [x.agent_id for x in ws.base(1).pending] == ["A1"]
    same(ws.kpis(1), "scheduled_no_action", "sl_no_action")
    assert ws.kpis(1).summary["service_level"] < before
    version = ws.apply_cover(prop, author="ana")
    same(ws.kpis(version.number), "scheduled_after", "sl_after")
