"""Plan store: versions, change logs, immutability, export, and crash safety (killed writer)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from staffplan.errors import InputError, ScenarioError, StoreError
from staffplan.scenario import load
from staffplan.store import (
    CHANGE_COLUMNS,
    PlanStore,
    cell_text,
    diff_rosters,
    read_roster_csv,
    roster_as_text,
    store_path,
)


def row(
    agent: str,
    date: str = "2026-12-07",
    shift: str = "E",
    start: str = "07:00",
    end: str = "15:00",
    queues: str = "voice",
) -> dict[str, object]:
    return {
        "agent_id": agent,
        "name": f"Name {agent}",
        "date": date,
        "day": int(date[-2:]) - 7,
        "shift": shift,
        "start": f"{date}T{start}:00+01:00",
        "end": f"{date}T{end}:00+01:00",
        "paid_minutes": 450,
        "breaks": "lunch 11:00-11:30",
        "queues": queues,
    }


def roster(*rows: dict[str, object]) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


def big_roster(n: int) -> pd.DataFrame:
    return pd.DataFrame([row(f"A{i:06d}", date="2026-12-07") for i in range(n)])


@pytest.fixture
def store(tmp_path: Path) -> PlanStore:
    return PlanStore(tmp_path / "plans.sqlite")


def test_publish_numbers_versions_and_keeps_who_when_why(store: PlanStore) -> None:
    v1 = store.publish(roster(row("A1"), row("A2")), note="week 50", author="lead")
    v2 = store.publish(
        roster(row("A1", start="08:00", end="16:00"), row("A2")), note="A1 later", author="lead2"
    )
    assert (v1.number, v1.parent, v1.n_rows, v1.n_changes, v1.author, v1.note) == (
        1,
        None,
        2,
        0,
        "lead",
        "week 50",
    )
    assert (v2.number, v2.parent, v2.n_changes, v2.author) == (2, 1, 1, "lead2")
    assert [v.number for v in store.versions()] == [1, 2]
    assert v1.created_utc.endswith("+00:00")


def test_roster_round_trips_as_text_including_extra_columns(store: PlanStore) -> None:
    r = roster(row("A1"), row("A2")).assign(team=["north", "south"], cost=[12.5, 3.0])
    store.publish(r, note="n")
    back = store.roster(1)
    assert list(back.columns)[-2:] == ["team", "cost"]
    assert back["team"].tolist() == ["north", "south"]
    assert back["cost"].tolist() == ["12.5", "3"]
    assert back["day"].tolist() == ["0", "0"]
    assert back["start"].tolist() == [row("A1")["start"]] * 2


def test_change_log_against_parent(store: PlanStore) -> None:
    store.publish(roster(row("A1"), row("A2"), row("A3", queues="voice|chat")), note="base")
    store.publish(
        roster(
            row("A1", start="09:00", end="17:00"),
            row("A3", queues="chat"),
            row("A4", start="06:00", end="14:00"),
        ),
        note="fix",
    )
    log = store.changes(2)
    got = {(r.agent_id, r.action) for r in log.itertuples()}
    assert got == {("A1", "changed"), ("A2", "removed"), ("A3", "changed"), ("A4", "added")}
    # earliest affected time first: A4 06:00, then A1/A2/A3 at 07:00 sorted by agent
    assert log["agent_id"].tolist() == ["A4", "A1", "A2", "A3"]
    a1 = log[log.agent_id == "A1"].iloc[0]
    assert (a1.old_start[11:16], a1.new_start[11:16], a1.reason) == ("07:00", "09:00", "fix")
    assert store.changes(1).empty
    assert list(store.changes().columns) == ["version", *CHANGE_COLUMNS]


def test_explicit_change_log_and_parent(store: PlanStore) -> None:
    store.publish(roster(row("A1")), note="a")
    store.publish(roster(row("A2")), note="b")
    log = diff_rosters(
        store.roster(1), roster_as_text(roster(row("A1", shift="L"))), reason="sick cover"
    )
    v = store.publish(
        roster(row("A1", shift="L")), note="cover", kind="cover", parent=1, changes=log
    )
    assert (v.number, v.parent, v.kind, v.n_changes) == (3, 1, "cover", 1)
    assert store.changes(3)["reason"].tolist() == ["sick cover"]


def test_versions_are_immutable_at_the_sql_level(store: PlanStore) -> None:
    store.publish(roster(row("A1")), note="a")
    conn = sqlite3.connect(store.path)
    for sql in (
        "UPDATE roster_rows SET data = '{}'",
        "DELETE FROM versions",
        "UPDATE versions SET note = 'x'",
        "DELETE FROM roster_rows",
    ):
        with pytest.raises(sqlite3.IntegrityError, match="immutable"):
            conn.execute(sql)
    conn.close()
    assert store.roster(1)["agent_id"].tolist() == ["A1"]


def test_checksum_detects_tampering(store: PlanStore) -> None:
    store.publish(roster(row("A1")), note="a")
    conn = sqlite3.connect(store.path)
    conn.execute("DROP TRIGGER roster_rows_no_update")
    conn.execute("""UPDATE roster_rows SET data = replace(data, '"E"', '"L"')""")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="checksum"):
        store.roster(1)
    assert not store.integrity_ok()


def test_lost_update_guard(store: PlanStore) -> None:
    store.publish(roster(row("A1")), note="a")
    store.publish(roster(row("A2")), note="b")
    with pytest.raises(StoreError, match="changed meanwhile"):
        store.publish(roster(row("A3")), note="c", expect_latest=1)
    assert [v.number for v in store.versions()] == [1, 2]


def test_bad_inputs_are_clear_errors(store: PlanStore) -> None:
    with pytest.raises(InputError, match="two shifts for one agent"):
        store.publish(roster(row("A1"), row("A1", shift="L")), note="dup")
    with pytest.raises(InputError, match="missing columns.*shift"):
        store.publish(roster(row("A1")).drop(columns="shift"), note="x")
    with pytest.raises(InputError, match="bad date"):
        store.publish(roster(row("A1")).assign(date="7/12/2026"), note="x")
    with pytest.raises(InputError, match="empty note"):
        store.publish(roster(row("A1")), note="  ")
    with pytest.raises(StoreError, match="no such version"):
        store.roster(4)
    with pytest.raises(StoreError, match="empty"):
        store.roster()
    with pytest.raises(StoreError, match="no such version"):
        store.publish(roster(row("A1")), note="x", parent=9)
    assert store.versions() == ()


def test_not_a_store_is_a_store_error(tmp_path: Path) -> None:
    bad = tmp_path / "junk.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError):
        PlanStore(bad).versions()


def test_export_csv_and_xlsx(store: PlanStore, tmp_path: Path) -> None:
    store.publish(roster(row("A1"), row("A2")), note="a")
    store.publish(roster(row("A1", start="09:00", end="17:00"), row("A2")), note="b")
    csv = store.export(2, tmp_path / "out" / "v2.csv")
    back = read_roster_csv(csv)
    pd.testing.assert_frame_equal(back, store.roster(2))
    xlsx = store.export(2, tmp_path / "v2.xlsx")
    sheets = pd.read_excel(xlsx, sheet_name=None, dtype=str)
    assert set(sheets) == {"roster", "changes", "version"}
    assert sheets["roster"]["agent_id"].tolist() == ["A1", "A2"]
    assert sheets["changes"]["agent_id"].tolist() == ["A1"]
    with pytest.raises(InputError, match="export format"):
        store.export(2, tmp_path / "v2.json")
    assert not list(tmp_path.glob(".*tmp"))


def test_xlsx_export_never_writes_a_live_formula(store: PlanStore, tmp_path: Path) -> None:
    """Agent names, authors and notes starting with = + - @ stay text in the workbook."""
    import zipfile

    from openpyxl import load_workbook

    evil = '=HYPERLINK("http://example.com","click")'
    first = row("A1")
    first["name"] = evil
    store.publish(roster(first, row("A2")), note="-2+3", author="=1+1")
    store.publish(roster(first, row("A2", start="08:00", end="16:00")), note="@SUM(A1)")
    path = store.export(2, tmp_path / "v2.xlsx")
    book = load_workbook(path)
    cells = [c for ws in book.worksheets for r in ws.iter_rows() for c in r]
    texts = {c.value: c for c in cells if isinstance(c.value, str)}
    for text in (evil, "@SUM(A1)"):
        assert texts[text].data_type == "s" and texts[text].quotePrefix
    store.export(1, tmp_path / "v1.xlsx")
    v1 = load_workbook(tmp_path / "v1.xlsx")["version"]
    assert [c.value for c in v1[2]][3] == "=1+1" and v1.cell(2, 4).quotePrefix
    with zipfile.ZipFile(path) as z:
        assert not any("<f>" in z.read(n).decode() for n in z.namelist() if n.endswith(".xml"))


def test_store_path_default_and_configured(tmp_path: Path) -> None:
    base = (
        'name = "s"\n[grid]\nstart = 2026-12-07\n[queues.voice]\nservice_level = '
        "0.8\nanswer_within_s = 20\n"
    )
    (tmp_path / "scenario.toml").write_text(base)
    assert store_path(load(tmp_path / "scenario.toml")) == (tmp_path / "plans.sqlite").resolve()
    (tmp_path / "scenario.toml").write_text(base + '[store]\npath = "db/plans-w50.sqlite"\n')
    assert (
        store_path(load(tmp_path / "scenario.toml"))
        == (tmp_path / "db" / "plans-w50.sqlite").resolve()
    )
    (tmp_path / "scenario.toml").write_text(base + "[store]\nfile = 'x'\n")
    with pytest.raises(ScenarioError, match="unknown key"):
        store_path(load(tmp_path / "scenario.toml"))
    (tmp_path / "scenario.toml").write_text(base + "[store]\npath = 3\n")
    with pytest.raises(ScenarioError, match="wrong type"):
        store_path(load(tmp_path / "scenario.toml"))


def test_cell_text() -> None:
    import numpy as np

    assert cell_text(np.int64(3)) == "3"
    assert cell_text(450.0) == "450"
    assert cell_text(float("nan")) == ""
    assert cell_text(None) == ""
    assert cell_text(pd.NA) == ""
    assert (
        cell_text(pd.Timestamp("2026-12-07 07:00", tz="Europe/Madrid"))
        == "2026-12-07T07:00:00+01:00"
    )


shift_st = st.sampled_from(["off", "E", "L"])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(shift_st, shift_st), min_size=1, max_size=8))
def test_diff_is_exactly_the_changed_agent_days(pairs: list[tuple[str, str]]) -> None:
    times = {"E": ("07:00", "15:00"), "L": ("13:00", "21:00")}
    old = [
        row(f"A{i}", shift=a, start=times[a][0], end=times[a][1])
        for i, (a, _) in enumerate(pairs)
        if a != "off"
    ]
    new = [
        row(f"A{i}", shift=b, start=times[b][0], end=times[b][1])
        for i, (_, b) in enumerate(pairs)
        if b != "off"
    ]
    cols = list(row("x").keys())
    log = diff_rosters(
        roster_as_text(pd.DataFrame(old, columns=cols)),
        roster_as_text(pd.DataFrame(new, columns=cols)),
    )
    expect = {
        f"A{i}": ("added" if a == "off" else "removed" if b == "off" else "changed")
        for i, (a, b) in enumerate(pairs)
        if a != b
    }
    assert dict(zip(log["agent_id"], log["action"], strict=True)) == expect
    starts = [min(x for x in (r.old_start, r.new_start) if x) for r in log.itertuples()]
    assert starts == sorted(starts)


# ---- crash safety ----------------------------------------------------------------------------

_CHILD = textwrap.dedent(
    """
    import sys, time
    import pandas as pd
    from staffplan.store import PlanStore
    rows = [{"agent_id": f"B{i:06d}", "name": "n", "date": "2026-12-08", "day": 1, "shift": "L",
             "start": "2026-12-08T13:00:00+01:00", "end": "2026-12-08T21:00:00+01:00",
             "paid_minutes": 450, "breaks": "", "queues": "chat"} for i in range(int(sys.argv[2]))]
    def progress(n):
        print(f"rows {n}", flush=True)
        time.sleep(0.02)  # a long write: the parent kills us in here
    store = PlanStore(sys.argv[1])
    store.publish(pd.DataFrame(rows), note="doomed", author="child", progress=progress)
    print("committed", flush=True)
    """
)


def _assert_v1_intact(store: PlanStore, v1_roster: pd.DataFrame) -> None:
    assert [v.number for v in store.versions()] == [1]
    pd.testing.assert_frame_equal(store.roster(1), v1_roster)
    assert store.integrity_ok()


def test_killed_writer_leaves_previous_version_intact(store: PlanStore) -> None:
    store.publish(big_roster(3000), note="week 50", author="lead")
    v1 = store.roster(1)
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(store.path), "50000"], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first.startswith("rows "), first  # the child is inside the transaction
    proc.stdout.readline()  # and has written more rows since
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    # uncommitted WAL frames of the dead writer exist on disk, yet the store reads as before
    _assert_v1_intact(store, v1)
    # and the store keeps working: the next version is number 2, not 3
    assert store.publish(big_roster(10), note="after crash").number == 2
    assert store.changes(2)["action"].value_counts().to_dict() == {"removed": 2990}


def test_killed_writer_at_random_moments(store: PlanStore) -> None:
    store.publish(big_roster(200), note="base")
    v1 = store.roster(1)
    for delay in (0.0, 0.03, 0.08):
        proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD.replace("0.02", "0.01"), str(store.path), "30000"],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("rows ")  # inside the write transaction
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        rest = proc.stdout.read()
        proc.wait(10)
        assert "committed" not in rest  # killed before COMMIT
        _assert_v1_intact(store, v1)


def test_ctrl_c_mid_write_rolls_back(store: PlanStore) -> None:
    store.publish(big_roster(100), note="base")
    v1 = store.roster(1)

    def interrupt(n: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        store.publish(big_roster(5000), note="interrupted", progress=interrupt)
    _assert_v1_intact(store, v1)


def test_a_writer_that_completes_is_durable(store: PlanStore) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD.replace("time.sleep(0.02)", "pass"), str(store.path), "1500"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("committed")
    assert [v.n_rows for v in store.versions()] == [1500]


def test_concurrent_writers_get_distinct_numbers(store: PlanStore) -> None:
    child = _CHILD.replace("time.sleep(0.02)", "pass")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", child, str(store.path), str(n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in (2500, 3500, 1200)
    ]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [o[1] for o in outs]
    vs = store.versions()
    assert [v.number for v in vs] == [1, 2, 3]
    assert sorted(v.n_rows for v in vs) == [1200, 2500, 3500]
    assert [v.parent for v in vs] == [None, 1, 2]
    assert store.integrity_ok()


def test_schema_1_store_is_migrated_and_keeps_its_versions(tmp_path: Path) -> None:
    """A store written before break/assignment change columns existed opens, keeps its log, and
    records break moves.
    """
    path = tmp_path / "old.sqlite"
    PlanStore(path).publish(
        roster(row("A1", "2026-12-01", "E", "07:00", "15:00")), note="v1", author="t"
    )
    with sqlite3.connect(
        path
    ) as conn:  # rebuild it as schema 1: the change table without the four new columns
        conn.execute(
            "CREATE TABLE old_changes AS SELECT version, seq, agent_id, date, action, "
            "old_shift, old_start, old_end, new_shift, new_start, new_end, "
            "old_queues, new_queues, reason FROM changes"
        )
        conn.execute("DROP TRIGGER changes_no_delete")
        conn.execute("DROP TRIGGER changes_no_update")
        conn.execute("DROP TABLE changes")
        conn.execute("ALTER TABLE old_changes RENAME TO changes")
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    store = PlanStore(path)
    assert [v.number for v in store.versions()] == [1]
    moved = roster(row("A1", "2026-12-01", "E", "07:00", "15:00"))
    moved["breaks"] = "lunch 12:00-12:30"
    store.publish(moved, note="v2", author="t")
    log = store.changes(2)
    assert log[
        ["agent_id", "action", "old_breaks", "new_breaks", "old_assignments"]
    ].values.tolist() == [["A1", "changed", "lunch 11:00-11:30", "lunch 12:00-12:30", ""]]
    with sqlite3.connect(path) as conn:
        assert (
            conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == "2"
        )
