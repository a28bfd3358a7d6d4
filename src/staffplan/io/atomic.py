"""Atomic writers: a reader never sees half a file, a crash never leaves one.

Each file writer writes to a temporary file in the target's folder, flushes and
fsyncs it, then renames it over the target (``os.replace`` is atomic on POSIX
and Windows for files on one file system). New files get the permissions the
umask allows (like any program's ``open``), a replaced file keeps its own.

A whole output folder is written the same way (:func:`staged_folder`): into a
hidden temporary folder beside the target, then swapped in with one atomic
exchange, so a folder never mixes two runs, even after ``kill -9``.

A folder or file that cannot be written is an :class:`~staffplan.errors.OutputError`
(exit code 2), found by :func:`check_writable` before long computations start.
"""

from __future__ import annotations

import csv
import ctypes
import errno
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

import pandas as pd

from staffplan.errors import OutputError

#: prefix of the hidden temporary siblings of an output folder (``.<name>.staffplan-...``)
STAGE_MARK = ".staffplan-"


def current_umask() -> int:
    """The process umask, read without changing it where the OS allows."""
    with suppress(OSError, ValueError), open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)  # pragma: no cover - not Linux
    os.umask(mask)  # pragma: no cover
    return mask  # pragma: no cover


def _mode_for(target: Path, default: int) -> int:
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        return default & ~current_umask()


def _output_error(exc: OSError, target: Path) -> OutputError:
    reason = exc.strerror or type(exc).__name__
    return OutputError(
        f"cannot write output ({reason})",
        file=target,
        hint="choose a writable folder with --out",
    )


@contextmanager
def atomic_path(path: str | Path, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary sibling of ``path``; rename it onto ``path`` on success."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise _output_error(exc, target) from None
    try:
        os.fchmod(fd, _mode_for(target, 0o666))
        with os.fdopen(
            fd, mode, **({} if "b" in mode else {"encoding": "utf-8", "newline": ""})
        ) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise _output_error(exc, target) from None
        raise


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) atomically; return the path."""
    with atomic_path(path, "w") as fh:
        fh.write(text)
    return Path(path)


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` atomically; return the path."""
    with atomic_path(path, "wb") as fh:
        fh.write(data)
    return Path(path)


def write_csv(path: str | Path, frame: pd.DataFrame, **kwargs: Any) -> Path:
    """Write a DataFrame as CSV (no index unless asked) atomically, formula-like text quoted
    (:func:`staffplan.io.csv_cells.csv_safe`).
    """
    from staffplan.io.csv_cells import csv_safe, has_carriage_return

    kwargs.setdefault("index", False)
    safe = csv_safe(frame)
    if "quoting" not in kwargs and has_carriage_return(safe):
        kwargs["quoting"] = csv.QUOTE_NONNUMERIC
    with atomic_path(path, "w") as fh:
        safe.to_csv(fh, **kwargs)
    return Path(path)


def write_json(path: str | Path, obj: Any) -> Path:
    """Write ``obj`` as indented JSON atomically."""
    return write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")


def write_with(path: str | Path, writer: Callable[[str], None]) -> Path:
    """Atomically write a file produced by a library that wants a file name.

    ``writer`` receives a temporary path in the target's folder (with the same
    suffix, for libraries that pick a format from it) and must write it.
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{target.stem}.", suffix=target.suffix, dir=target.parent
        )
        os.close(fd)
    except OSError as exc:
        raise _output_error(exc, target) from None
    try:
        writer(tmp)
        os.chmod(tmp, _mode_for(target, 0o666))
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise _output_error(exc, target) from None
        raise
    return target


def check_writable(folder: str | Path) -> Path:
    """Make sure files can be created in ``folder`` (or where it would be created); raise early.

    Creates and removes one temporary file in the nearest existing ancestor,
    so a read-only ``--out`` is reported before any solve starts.
    """
    target = Path(folder)
    if target.exists() and not target.is_dir():
        raise OutputError(
            "output folder is a file",
            file=target,
            expected="a folder (new or existing)",
            hint="choose another --out",
        )
    probe = target
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=".staffplan-probe-", dir=probe)
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise OutputError(
            f"output folder is not writable ({exc.strerror or exc})",
            file=target,
            hint="choose a writable folder with --out",
        ) from None
    return target


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False if unsupported."""
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _fsync_dir(folder: Path) -> None:
    with suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def stale_stages(target: Path) -> list[Path]:
    """Hidden temporary siblings of ``target`` left by runs that died (``kill -9``)."""
    parent = target.parent
    if not parent.is_dir():
        return []
    prefix = f".{target.name}{STAGE_MARK}"
    out = []
    for p in parent.iterdir():
        if not p.name.startswith(prefix):
            continue
        pid = p.name[len(prefix) :].split("-", 1)[0]
        if pid.isdigit() and _alive(int(pid)):
            continue
        out.append(p)
    return sorted(out)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def foreign_files(target: Path, known: Collection[str]) -> list[str]:
    """Names in folder ``target`` that are not in ``known`` (files staffplan did not write)."""
    if not target.is_dir():
        return []
    return sorted(p.name for p in target.iterdir() if p.name not in known)


def stage(target: str | Path) -> Path:
    """Create the hidden temporary folder beside ``target`` that a run writes into."""
    t = Path(target)
    try:
        t.parent.mkdir(parents=True, exist_ok=True)
        for old in stale_stages(t):
            shutil.rmtree(old, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{t.name}{STAGE_MARK}{os.getpid()}-", dir=t.parent))
        os.chmod(tmp, _mode_for(t, 0o777))
    except OSError as exc:
        raise _output_error(exc, t) from None
    return tmp


def commit(tmp: Path, target: str | Path) -> None:
    """Swap the finished folder ``tmp`` in as ``target`` in one step; drop the old one."""
    t = Path(target)
    for p in tmp.rglob("*"):
        if p.is_file():
            with open(p, "rb") as fh:
                os.fsync(fh.fileno())
    _fsync_dir(tmp)
    try:
        if t.exists() and _exchange(tmp, t):
            _fsync_dir(t.parent)
            shutil.rmtree(tmp, ignore_errors=True)  # now holds the previous run
            return
        if t.exists():  # no atomic exchange here: move the old folder aside first
            old = t.parent / f".{t.name}{STAGE_MARK}{os.getpid()}-old"
            os.replace(t, old)
            os.replace(tmp, t)
            _fsync_dir(t.parent)
            shutil.rmtree(old, ignore_errors=True)
            return
        os.replace(tmp, t)
        _fsync_dir(t.parent)
    except OSError as exc:
        raise _output_error(exc, t) from None


@contextmanager
def staged_folder(target: str | Path) -> Iterator[Path]:
    """Write a whole folder atomically: yield a temporary folder, swap it in as ``target``.

    On an exception the temporary folder is removed and ``target`` is left as
    it was; after ``kill -9`` it is left hidden and removed by the next run. A
    ``target`` that is a symbolic link is followed: the folder it points to is
    replaced, the link kept.
    """
    if Path(target).is_symlink():
        target = Path(target).resolve()
    tmp = stage(target)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    commit(tmp, target)
