"""Atomic files and folders: permissions follow the umask, a folder never mixes two writes."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest

from staffplan.errors import OutputError
from staffplan.io import atomic
from staffplan.io.atomic import (
    check_writable,
    staged_folder,
    stale_stages,
    write_csv,
    write_text,
    write_with,
)

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize(
    ("mask", "file_mode", "dir_mode"), [(0o022, 0o644, 0o755), (0o027, 0o640, 0o750)]
)
def test_new_files_and_folders_follow_the_umask(
    tmp_path: Path, mask: int, file_mode: int, dir_mode: int
) -> None:
    with umask(mask):
        assert atomic.current_umask() == mask
        a = write_text(tmp_path / "a.txt", "x")
        b = write_csv(tmp_path / "b.csv", pd.DataFrame({"x": [1]}))
        c = write_with(tmp_path / "c.bin", lambda p: Path(p).write_bytes(b"x"))
        with staged_folder(tmp_path / "run") as tmp:
            write_text(tmp / "inner.txt", "y")
    assert [mode(p) for p in (a, b, c)] == [file_mode] * 3
    assert mode(tmp_path / "run") == dir_mode
    assert mode(tmp_path / "run" / "inner.txt") == file_mode


def test_a_replaced_file_keeps_its_mode(tmp_path: Path) -> None:
    p = write_text(tmp_path / "a.txt", "one")
    p.chmod(0o600)
    write_text(p, "two")
    assert mode(p) == 0o600 and p.read_text() == "two"


def test_unwritable_target_is_an_output_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="cannot write output"):
        write_text(blocker / "sub" / "a.txt", "x")
    with pytest.raises(OutputError, match="is a file"):
        check_writable(blocker)
    with pytest.raises(OutputError, match="not writable"):
        check_writable(Path("/proc/staffplan-test/out"))
    assert check_writable(tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"
    assert not (tmp_path / "new").exists()  # the check creates nothing


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_a_failed_write_leaves_the_previous_folder_untouched(tmp_path: Path) -> None:
    target = tmp_path / "run"
    with staged_folder(target) as tmp:
        write_text(tmp / "a.txt", "old")
        write_text(tmp / "sub" / "b.txt", "old")
    before = _snapshot(target)
    with pytest.raises(RuntimeError), staged_folder(target) as tmp:
        write_text(tmp / "a.txt", "new")
        raise RuntimeError("crash half-way")
    assert _snapshot(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_a_new_write_replaces_every_file_of_the_old_one(tmp_path: Path) -> None:
    target = tmp_path / "run"
    with staged_folder(target) as tmp:
        write_text(tmp / "a.txt", "old")
        write_text(tmp / "only_old.txt", "old")
    with staged_folder(target) as tmp:
        write_text(tmp / "a.txt", "new")
    assert _snapshot(target) == {"a.txt": b"new"}


def test_without_an_atomic_exchange_the_fallback_still_swaps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """File systems without renameat2(RENAME_EXCHANGE) move the old folder aside first."""
    monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)
    target = tmp_path / "run"
    for text in ("old", "new"):
        with staged_folder(target) as tmp:
            write_text(tmp / "a.txt", text)
    assert _snapshot(target) == {"a.txt": b"new"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_stages_of_dead_processes_are_cleaned_by_the_next_write(tmp_path: Path) -> None:
    target = tmp_path / "run"
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    pid = int(dead.stdout)
    stale = tmp_path / f".run{atomic.STAGE_MARK}{pid}-abc"
    stale.mkdir()
    (stale / "half.csv").write_text("x")
    mine = tmp_path / f".run{atomic.STAGE_MARK}{os.getpid()}-live"
    mine.mkdir()
    assert stale_stages(target) == [stale]
    with staged_folder(target) as tmp:
        write_text(tmp / "a.txt", "x")
    assert not stale.exists() and mine.exists()  # a live process's stage is left alone


KILL_SCRIPT = textwrap.dedent(
    """
    import json, os, signal, sys
    from pathlib import Path
    from staffplan.io import atomic
    from staffplan.io.atomic import staged_folder, write_csv, write_text
    import pandas as pd

    target = Path(sys.argv[1])
    ATOMIC = atomic.__file__

    def write(tag):
        with staged_folder(target) as tmp:
            write_text(tmp / "summary.json", json.dumps({"run": tag}))
            write_csv(tmp / "roster.csv", pd.DataFrame({"run": [tag] * 3}))
            for k in range(3):
                write_text(tmp / "calendars" / f"{tag}{k}.ics", tag)
            write_text(tmp / "report.html", tag)

    def step(frame, event, arg):
        # a system call (os.replace, os.fsync, os.fchmod ...) made by io/atomic.py
        return (
            event == "c_call"
            and frame.f_code.co_filename == ATOMIC
            and getattr(arg, "__module__", None) == "posix"
        )

    def kill_at(k):
        count = [0]

        def profile(frame, event, arg):
            if step(frame, event, arg):
                count[0] += 1
                if count[0] == k:
                    os.kill(os.getpid(), signal.SIGKILL)

        sys.setprofile(profile)

    write("old")
    steps = [0]

    def counter(frame, event, arg):
        if step(frame, event, arg):
            steps[0] += 1

    pid = os.fork()
    if pid == 0:
        sys.setprofile(counter)
        write("probe")
        sys.setprofile(None)
        os.write(1, json.dumps({"steps": steps[0]}).encode() + b"\\n")
        os._exit(0)
    os.waitpid(pid, 0)
    write("old")
    """
)


def test_kill_9_at_every_step_never_leaves_a_mixed_folder(tmp_path: Path) -> None:
    """A child writing a new folder is SIGKILLed at each system call of io/atomic.py in turn.

    After every kill the folder is exactly the old write or exactly the new
    one (never a mix, never half a file), and the next write removes what the
    killed one left behind.
    """
    target = tmp_path / "run"
    driver = KILL_SCRIPT + textwrap.dedent(
        """
        total = int(sys.argv[2])
        results = []
        for k in range(1, total + 1):
            pid = os.fork()
            if pid == 0:
                kill_at(k)
                write("new")
                sys.setprofile(None)
                os._exit(0)
            _, status = os.waitpid(pid, 0)
            files = {
                str(p.relative_to(target)): p.read_text()
                for p in sorted(target.rglob("*")) if p.is_file()
            }
            tags = {"old" if "old" in v else "new" if "new" in v else "?" for v in files.values()}
            names = sorted(files)
            siblings = sorted(p.name for p in target.parent.iterdir() if p.name != "run")
            results.append({"k": k, "killed": os.WIFSIGNALED(status), "tags": sorted(tags),
                            "names": names, "siblings": siblings})
            write("old")  # the next run: back to the old folder, cleaning up
            left = sorted(p.name for p in target.parent.iterdir() if p.name != "run")
            results[-1]["after_next_write"] = left
        print(json.dumps(results))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    probe = subprocess.run(
        [sys.executable, "-c", KILL_SCRIPT, str(target)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    )
    steps = json.loads(probe.stdout.strip().splitlines()[-1])["steps"]
    assert steps > 20  # every file operation of a six-file folder is a kill point
    proc = subprocess.run(
        [sys.executable, "-c", driver, str(target), str(steps)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=True,
    )
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(results) == steps
    new_names = [
        "calendars/new0.ics",
        "calendars/new1.ics",
        "calendars/new2.ics",
        "report.html",
        "roster.csv",
        "summary.json",
    ]
    old_names = [n.replace("new", "old") for n in new_names]
    outcomes = set()
    for r in results:
        assert r["killed"], r  # the kill point was reached
        assert r["tags"] in (["old"], ["new"]), r
        assert r["names"] == (old_names if r["tags"] == ["old"] else new_names), r
        assert r["after_next_write"] == [], r
        outcomes.add(r["tags"][0])
    assert outcomes == {"old", "new"}  # kills landed both before and after the swap


def test_a_symlinked_output_folder_is_followed(tmp_path: Path) -> None:
    real = tmp_path / "share" / "run"
    with staged_folder(real) as tmp:
        write_text(tmp / "a.txt", "old")
    link = tmp_path / "run"
    link.symlink_to(real, target_is_directory=True)
    with staged_folder(link) as tmp:
        write_text(tmp / "a.txt", "new")
    assert link.is_symlink() and (link / "a.txt").read_text() == "new"
    assert sorted(p.name for p in real.parent.iterdir()) == ["run"]
