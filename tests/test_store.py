"""Plan store: versions, change logs, immutability, export, and crash safety (killed writer)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from staffplan.errors import InputError, ScenarioError, StoreError
from staffplan.io.roster_csv import (
    CHANGE_COLUMNS,
    cell_text,
    change_text,
    diff_rosters,
    read_roster_csv,
    roster_as_text,
)
from staffplan.scenario import load
from staffplan.store import AbsenceRecord, ConflictError, PlanStore, store_path, versions_frame


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
    with pytest.raises(StoreError, match="version 1 is not the latest.*--fork"):
        store.publish(roster(row("A1", shift="L")), note="cover", kind="cover", parent=1)
    v = store.publish(
        roster(row("A1", shift="L")), note="cover", kind="cover", parent=1, fork=True, changes=log
    )
    assert (v.number, v.parent, v.kind, v.n_changes, v.forked) == (3, 1, "cover", 1, True)
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


def test_csv_export_quotes_formula_names_and_reads_back(store: PlanStore, tmp_path: Path) -> None:
    """The roster rows are stored as text: names are quoted in the CSV, numbers held as text stay
    numbers, and read_roster_csv gives back exactly the stored rows."""
    import csv

    evil = '=HYPERLINK("http://example.com","click")'
    first = row("A1")
    first["name"] = evil
    store.publish(roster(first, row("A2")), note="@SUM(A1)", author="-2+3")
    path = store.export(1, tmp_path / "v1.csv")
    with open(path, newline="") as fh:
        cells = list(csv.DictReader(fh))
    assert [c["name"] for c in cells] == ["'" + evil, "Name A2"]
    assert [c["day"] for c in cells] == ["0", "0"]
    pd.testing.assert_frame_equal(read_roster_csv(path), store.roster(1))


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
    import sys
    import pandas as pd
    from staffplan.store import PlanStore
    rows = [{"agent_id": f"B{i:06d}", "name": "n", "date": "2026-12-08", "day": 1, "shift": "L",
             "start": "2026-12-08T13:00:00+01:00", "end": "2026-12-08T21:00:00+01:00",
             "paid_minutes": 450, "breaks": "", "queues": "chat"} for i in range(int(sys.argv[2]))]
    gated = sys.argv[3] == "gated"
    def progress(n):
        print(f"rows {n}", flush=True)
        if gated:  # a barrier: write on until the parent lets one more batch through
            sys.stdin.readline()
    store = PlanStore(sys.argv[1])
    store.publish(pd.DataFrame(rows), note="doomed", author="child", progress=progress)
    print("committed", flush=True)
    """
)


def _gated_writer(store: PlanStore, rows: int) -> subprocess.Popen[str]:
    """A child publishing ``rows`` rows that stops after every 1000 rows until released by a line
    on its stdin: the parent knows how far it got without sleeping or guessing."""
    return subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(store.path), str(rows), "gated"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def _assert_v1_intact(store: PlanStore, v1_roster: pd.DataFrame) -> None:
    assert [v.number for v in store.versions()] == [1]
    pd.testing.assert_frame_equal(store.roster(1), v1_roster)
    assert store.integrity_ok()


def test_killed_writer_leaves_previous_version_intact(store: PlanStore) -> None:
    store.publish(big_roster(3000), note="week 50", author="lead")
    v1 = store.roster(1)
    proc = _gated_writer(store, 5000)
    assert proc.stdin is not None and proc.stdout is not None
    assert proc.stdout.readline() == "rows 1000\n"  # the child is inside the transaction
    proc.stdin.write("\n")
    proc.stdin.flush()
    assert proc.stdout.readline() == "rows 2000\n"  # has written more rows, and waits
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(60)
    assert proc.returncode == -signal.SIGKILL
    # uncommitted WAL frames of the dead writer exist on disk, yet the store reads as before
    _assert_v1_intact(store, v1)
    # and the store keeps working: the next version is number 2, not 3
    assert store.publish(big_roster(10), note="after crash").number == 2
    assert store.changes(2)["action"].value_counts().to_dict() == {"removed": 2990}


def test_killed_writer_at_several_moments(store: PlanStore) -> None:
    """Killed while waiting at a batch boundary, or released and killed somewhere inside the
    next batches (at most ``released`` of 10: it cannot reach COMMIT before the kill lands)."""
    store.publish(big_roster(200), note="base")
    v1 = store.roster(1)
    for released in (0, 3):  # at a batch boundary; somewhere inside the next three
        proc = _gated_writer(store, 10000)
        assert proc.stdin is not None and proc.stdout is not None
        assert proc.stdout.readline().startswith("rows ")  # inside the write transaction
        proc.stdin.write("\n" * released)
        proc.stdin.flush()
        os.kill(proc.pid, signal.SIGKILL)
        rest = proc.stdout.read()
        proc.wait(60)
        assert proc.returncode == -signal.SIGKILL
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
        [sys.executable, "-c", _CHILD, str(store.path), "1500", "free"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("committed")
    assert [v.n_rows for v in store.versions()] == [1500]


def test_concurrent_writers_get_distinct_numbers(store: PlanStore) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(store.path), str(n), "free"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in (2500, 3500, 1200)
    ]
    outs = [p.communicate(timeout=600) for p in procs]
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
            conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == "3"
        )


# ---- schema 3: absences, violations, concurrency ---------------------------------------------

# The schema of staffplan's plan store before absences were stored (schema 2, as shipped until
# this change), kept verbatim so the migration is tested on a file the old code would write.
_SCHEMA_2 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE versions (
    number INTEGER PRIMARY KEY,
    parent INTEGER REFERENCES versions(number),
    kind TEXT NOT NULL,
    author TEXT NOT NULL,
    created_utc TEXT NOT NULL,
    note TEXT NOT NULL,
    columns TEXT NOT NULL,
    n_rows INTEGER NOT NULL,
    sha256 TEXT NOT NULL
);
CREATE TABLE roster_rows (
    version INTEGER NOT NULL REFERENCES versions(number),
    row INTEGER NOT NULL,
    agent_id TEXT NOT NULL,
    date TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (version, row)
);
CREATE INDEX roster_rows_agent ON roster_rows (version, agent_id, date);
CREATE TABLE changes (
    version INTEGER NOT NULL REFERENCES versions(number),
    seq INTEGER NOT NULL,
    agent_id TEXT NOT NULL,
    date TEXT NOT NULL,
    action TEXT NOT NULL,
    old_shift TEXT NOT NULL, old_start TEXT NOT NULL, old_end TEXT NOT NULL,
    new_shift TEXT NOT NULL, new_start TEXT NOT NULL, new_end TEXT NOT NULL,
    old_queues TEXT NOT NULL, new_queues TEXT NOT NULL,
    reason TEXT NOT NULL,
    old_breaks TEXT NOT NULL DEFAULT '', new_breaks TEXT NOT NULL DEFAULT '',
    old_assignments TEXT NOT NULL DEFAULT '', new_assignments TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (version, seq)
);
CREATE TRIGGER versions_no_update BEFORE UPDATE ON versions
BEGIN SELECT RAISE(ABORT, 'published versions are immutable'); END;
CREATE TRIGGER roster_rows_no_delete BEFORE DELETE ON roster_rows
BEGIN SELECT RAISE(ABORT, 'published versions are immutable'); END;
INSERT INTO meta VALUES ('schema_version', '2');
"""


def _schema_2_store(path: Path) -> list[str]:
    """A schema-2 store holding one version (A1, A2 on Monday), as the old code stored it."""
    import hashlib
    import json

    columns = list(row("A1").keys())
    payload = [
        json.dumps({c: cell_text(v) for c, v in row(a).items()}, ensure_ascii=False)
        for a in ("A1", "A2")
    ]
    h = hashlib.sha256(json.dumps(columns).encode())
    for p in payload:
        h.update(b"\n" + p.encode())
    with sqlite3.connect(path) as conn:
        conn.executescript(_SCHEMA_2)
        conn.execute(
            "INSERT INTO versions VALUES (1, NULL, 'publish', 'old', '2026-12-01T08:00:00+00:00', "
            "'week 50', ?, 2, ?)",
            (json.dumps(columns), h.hexdigest()),
        )
        conn.executemany(
            "INSERT INTO roster_rows VALUES (1, ?, ?, '2026-12-07', ?)",
            [(i, a, p) for i, (a, p) in enumerate(zip(("A1", "A2"), payload, strict=True))],
        )
    return payload


def test_schema_2_store_is_migrated_and_keeps_its_versions(tmp_path: Path) -> None:
    path = tmp_path / "v2.sqlite"
    payload = _schema_2_store(path)
    store = PlanStore(path)
    (v1,) = store.versions()
    assert (v1.number, v1.author, v1.n_rows, v1.n_absences, v1.n_violations) == (
        1,
        "old",
        2,
        0,
        0,
    )
    assert store.roster(1)["agent_id"].tolist() == ["A1", "A2"]
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == (
            "3",
        )
        assert [r[0] for r in conn.execute("SELECT data FROM roster_rows ORDER BY row")] == payload
    # the new facts work on the migrated file, and are as immutable as versions
    a = store.record_absence(
        AbsenceRecord("A1", _t("2026-12-08 00:00"), _t("2026-12-09 00:00"), "sick", "flu")
    )
    store.publish(roster(row("A2")), note="A1 sick", link=[a.id], expect_latest=1)
    assert store.base().pending == () and store.base(1).pending == (store.absences()[0],)
    with sqlite3.connect(path) as conn:
        with pytest.raises(sqlite3.IntegrityError, match="immutable"):
            conn.execute("DELETE FROM absences")
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_store_from_a_newer_staffplan_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    PlanStore(path).publish(roster(row("A1")), note="a")
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = '9' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="not a plan store this staffplan can read"):
        PlanStore(path).versions()


def _t(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="Europe/Madrid")


def test_absences_are_facts_linked_to_the_versions_that_applied_them(store: PlanStore) -> None:
    store.publish(roster(row("A1"), row("A2")), note="week", author="lead")
    flu = store.record_absence(
        AbsenceRecord("A1", _t("2026-12-07 11:00"), _t("2026-12-07 23:00"), "sick", "flu"),
        author="ana",
    )
    assert (flu.id, flu.versions, flu.recorded_by, flu.start) == (
        1,
        (),
        "ana",
        "2026-12-07T11:00:00+01:00",
    )
    with pytest.raises(StoreError, match="already recorded"):
        store.record_absence(
            AbsenceRecord("A1", _t("2026-12-07 11:00"), _t("2026-12-07 23:00"), "sick")
        )
    base = store.base()
    assert (base.version.number, base.latest, base.pending) == (1, 1, (flu,))
    # a cover-like write records its own absence and applies the pending one
    v2 = store.publish(
        roster(row("A2")),
        note="cover",
        kind="cover",
        expect_latest=1,
        absences=[AbsenceRecord("A2", _t("2026-12-08"), _t("2026-12-09"), "sick", "cold")],
        link=[flu.id],
    )
    assert v2.n_absences == 2
    got = {a.agent_id: a for a in store.absences()}
    assert (got["A1"].versions, got["A2"].versions, got["A2"].recorded_by) == (
        (2,),
        (2,),
        v2.author,
    )
    assert store.base(2).pending == ()
    # seen from version 1, both absences hold but neither is applied
    assert [a.agent_id for a in store.base(1).pending] == ["A1", "A2"]
    assert store.base(1).applied_in(got["A1"]) is None and store.base(2).applied_in(got["A1"]) == 2
    team = store.base(2).team_absences("Europe/Madrid")
    assert [(a.agent_id, a.start.hour, a.kind) for a in team] == [
        ("A1", 11, "sick"),
        ("A2", 0, "sick"),
    ]
    # withdrawn: gone from every base, kept in the record
    store.withdraw_absence(got["A2"].id, reason="typo: it was A3", author="ana")
    assert [a.agent_id for a in store.base().absences] == ["A1"]
    assert "typo: it was A3" in store.absences(withdrawn=True)[1].withdrawn
    with pytest.raises(StoreError, match="already withdrawn"):
        store.withdraw_absence(got["A2"].id, reason="again")
    with pytest.raises(StoreError, match="no such absence"):
        store.publish(roster(row("A2")), note="x", link=[99])
    assert [v.number for v in store.versions()] == [1, 2]


def test_violations_are_stored_with_their_version(store: PlanStore) -> None:
    bad = {
        "agent_id": "A1",
        "date": "2026-12-07",
        "rule": "max days per week",
        "found": "6 days",
        "allowed": "at most 5 days",
    }
    v = store.publish(roster(row("A1")), note="agreed 6th day", violations=[bad])
    assert v.n_violations == 1
    assert store.violations(1).drop(columns="version").to_dict(orient="records") == [bad]
    with pytest.raises(StoreError, match="violation without its columns"):
        store.publish(roster(row("A1")), note="x", violations=[{"rule": "x"}])
    assert store.violations()["version"].tolist() == [1]


def test_a_conflict_names_who_published_meanwhile(store: PlanStore) -> None:
    store.publish(roster(row("A1")), note="a", author="lead")
    store.publish(roster(row("A2")), note="cover A1", author="ana", kind="cover")
    with pytest.raises(ConflictError) as err:
        store.publish(roster(row("A3")), note="c", expect_latest=1, author="bob")
    text = str(err.value)
    assert (
        "version 2 (cover, by ana at " in text
        and '"cover A1") was published after version 1' in text
    )
    assert "nothing was written" in text and "re-run the publish" in text
    assert (err.value.latest, err.value.started_from) == (2, 1)
    store.publish(roster(row("A3")), note="d", expect_latest=2)
    with pytest.raises(ConflictError, match=r"versions 2-3 \(the latest: version 3"):
        store.publish(roster(row("A4")), note="e", expect_latest=1)
    other = PlanStore(store.path.with_name("other.sqlite"))
    other.publish(roster(row("A1")), note="first", author="ana")
    with pytest.raises(ConflictError, match="into the empty store"):
        other.publish(roster(row("A2")), note="second", expect_latest=0)


_RACER = textwrap.dedent(
    """
    import sqlite3, sys
    import pandas as pd
    from staffplan.store import ConflictError, PlanStore

    path, role = sys.argv[1], sys.argv[2]
    rows = [{"agent_id": f"B{i:04d}", "name": "n", "date": "2026-12-08", "day": 1, "shift": "L",
             "start": "2026-12-08T13:00:00+01:00", "end": "2026-12-08T21:00:00+01:00",
             "paid_minutes": 450, "breaks": "", "queues": role} for i in range(1000)]
    if role == "holder":
        def progress(n):
            print("inside", flush=True)  # inside the write transaction, rows written
            sys.stdin.readline()
        PlanStore(path).publish(pd.DataFrame(rows), note="holder", author="holder",
                                expect_latest=1, progress=progress)
    else:
        connect = sqlite3.connect
        def traced(*args, **kwargs):
            conn = connect(*args, **kwargs)
            def trace(sql):
                if sql.startswith("BEGIN IMMEDIATE"):
                    print("begin", flush=True)  # every read before the write lock is done
            conn.set_trace_callback(trace)
            return conn
        sqlite3.connect = traced
        try:
            PlanStore(path, busy_timeout_s=120).publish(
                pd.DataFrame(rows), note="late", author="late", expect_latest=1)
        except ConflictError as exc:
            print(exc, file=sys.stderr)
            sys.exit(2)
    print("committed", flush=True)
    """
)


def test_the_latest_version_is_checked_inside_the_write_transaction(store: PlanStore) -> None:
    """A writer that started from version 1 and reaches its write while another writer holds the
    lock, about to commit version 2, must see version 2: a check before the transaction would
    still see version 1 and store a version that silently undoes version 2.
    """
    store.publish(big_roster(10), note="base", author="lead")
    v1 = store.roster(1)

    def start(role: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-c", _RACER, str(store.path), role],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    holder = start("holder")
    assert holder.stdout is not None and holder.stdout.readline().strip() == "inside"
    late = start("late")
    assert late.stdout is not None and late.stdout.readline().strip() == "begin"
    assert holder.stdin is not None
    holder.stdin.write("go\n")
    holder.stdin.flush()
    h_out, h_err = holder.communicate(timeout=120)
    l_out, l_err = late.communicate(timeout=120)
    assert holder.returncode == 0 and "committed" in h_out, h_err
    assert late.returncode == 2, (l_out, l_err)
    assert "version 2 (publish, by holder at" in l_err and "after version 1" in l_err
    assert [(v.number, v.author) for v in store.versions()] == [(1, "lead"), (2, "holder")]
    pd.testing.assert_frame_equal(store.roster(1), v1)
    assert store.integrity_ok()


def test_change_text_shows_break_moves_and_queue_reassignments() -> None:
    base = {
        "action": "changed",
        "old_shift": "E8",
        "old_start": "2026-12-08T07:00:00+01:00",
        "old_end": "2026-12-08T15:30:00+01:00",
        "new_shift": "E8",
        "new_start": "2026-12-08T07:00:00+01:00",
        "new_end": "2026-12-08T15:30:00+01:00",
        "old_queues": "voice|chat",
        "new_queues": "voice|chat",
        "old_breaks": "coffee1 08:30-08:45;lunch 11:00-11:30;coffee2 13:00-13:15",
        "new_breaks": "coffee1 08:30-08:45;lunch 11:30-12:00;coffee2 13:00-13:15",
        "old_assignments": "",
        "new_assignments": "",
    }
    assert change_text(base) == "E8 07:00-15:30; breaks lunch 11:00-11:30 -> 11:30-12:00"
    spans = {**base, "new_breaks": base["old_breaks"], "new_assignments": "chat 10:00-12:00"}
    assert change_text(spans) == "E8 07:00-15:30; queue spans as planned -> chat 10:00-12:00"
    moved = {
        **base,
        "new_start": "2026-12-08T08:00:00+01:00",
        "new_end": "2026-12-08T16:30:00+01:00",
    }
    assert change_text(moved).startswith("E8 07:00-15:30 -> E8 08:00-16:30; breaks lunch")
    removed = {**base, "action": "removed", "new_shift": "", "new_start": "", "new_end": ""}
    assert change_text(removed) == "E8 07:00-15:30 -> off"
    # a repair spells out every queue span of the day; only the reassigned minutes are news
    spelled = {
        **base,
        "new_breaks": base["old_breaks"],
        "old_assignments": "voice 07:00-08:30;voice 08:45-11:00;chat 11:30-13:00",
        "new_assignments": "chat 07:00-07:15;voice 07:15-08:30;voice 08:45-11:00;voice "
        "11:30-12:00;chat 12:00-13:00",
    }
    assert change_text(spelled) == (
        "E8 07:00-15:30; queue spans voice -> chat 07:00-07:15, chat -> voice 11:30-12:00"
    )
    night = {
        **spelled,
        "old_assignments": "voice 22:00-23:30;chat 23:30-02:00",
        "new_assignments": "voice 22:00-00:30;chat 00:30-02:00",
    }
    assert change_text(night).endswith("queue spans chat -> voice 23:30-00:30")


def test_versions_frame_prints_parents_as_integers(store: PlanStore) -> None:
    store.publish(roster(row("A1")), note="a")
    store.publish(roster(row("A2")), note="b")
    frame = versions_frame(store.versions())
    assert frame["parent"].tolist()[1] == 1 and str(frame["parent"].dtype) == "Int64"
    assert "1.0" not in frame.to_string()
