"""Reading a scenario file: the TOML text, the ``extends`` chain merged key by key, the ``[data]``
paths made absolute. Validation of the merged document into frozen dataclasses is
:mod:`staffplan.scenario`'s.

Every path a scenario names — ``[data]`` files, ``extends``, ``[store] path`` —
must resolve (symbolic links followed) inside the *root* of the scenario file
the command was given: its own folder, or the folder its top-level ``root``
key names (relative to the file, or absolute), which must hold the file. A
path outside is refused naming the key.
"""

from __future__ import annotations

import copy
import datetime as dt
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from staffplan.errors import ScenarioError

TOP_LEVEL = {
    "name",
    "description",
    "extends",
    "grid",
    "data",
    "queues",
    "forecast",
    "shrinkage",
    "solver",
    "weights",
    "cover",
    "simulate",
    "hires",
    "volume_multiplier",
    "aht_multiplier",
    "store",
    "root",
}

#: ``[data]`` keys: the files each stage reads (docs/formats.md). A value is a path, a list of
#: paths (keys in DATA_LISTS only) or a table ``{ path = "...", date_format = "%d/%m/%Y" }``.
DATA_KEYS = (
    "history",
    "agents",
    "contracts",
    "shifts",
    "absences",
    "absences_extra",
    "availability",
    "preferences",
    "requirements",
    "shift_cover",
    "previous_roster",
)
DATA_LISTS = frozenset({"absences", "absences_extra"})
DATA_FILE_KEYS = ("path", "date_format")


def inside(path: Path, root: Path, *, file: Path, key: str, found: object) -> Path:
    """``path`` resolved, if it lies inside ``root`` (resolved); raises otherwise."""
    resolved = path.resolve()
    if resolved != root and root not in resolved.parents:
        raise ScenarioError(
            "path outside the scenario folder",
            file=file,
            key=key,
            expected=f"a path inside {root}",
            found=found,
            hint="keep the file beside the scenario, or let the scenario you run allow a wider "
            'folder holding it with a top-level key like root = ".."',
        )
    return resolved


def _data_file(
    value: Any, folder: Path, root: Path, *, file: Path, key: str
) -> str | dict[str, str]:
    """One ``[data]`` entry with its path made absolute (a string, or a table with a format)."""
    if isinstance(value, str):
        return str(inside(folder / value, root, file=file, key=key, found=value))
    if isinstance(value, Mapping):
        for k in value:
            if k not in DATA_FILE_KEYS:
                raise ScenarioError(
                    "unknown key",
                    file=file,
                    key=f"{key}.{k}",
                    expected="one of " + ", ".join(DATA_FILE_KEYS),
                    hint="check the spelling",
                )
        path, fmt = value.get("path"), value.get("date_format")
        if not isinstance(path, str):
            raise ScenarioError(
                "missing key" if path is None else "wrong type",
                file=file,
                key=f"{key}.path",
                expected="a file path (string)",
                found=path,
            )
        out = {"path": str(inside(folder / path, root, file=file, key=f"{key}.path", found=path))}
        if fmt is not None:
            out["date_format"] = check_date_format(fmt, file=file, key=f"{key}.date_format")
        return out
    raise ScenarioError(
        "wrong type",
        file=file,
        key=key,
        expected="a file path (string) or a table { path = ..., date_format = ... }",
        found=value,
    )


def check_date_format(fmt: Any, *, file: Path | None = None, key: str | None = None) -> str:
    """A strptime format with a year, month and day (e.g. ``%d/%m/%Y``); raises otherwise."""
    sample = dt.datetime(2026, 12, 7, 8, 30)
    ok = isinstance(fmt, str) and all(
        any(d in fmt for d in group) for group in (("%Y", "%y"), ("%m", "%b", "%B"), ("%d",))
    )
    if ok:
        try:
            back = dt.datetime.strptime(sample.strftime(fmt), fmt)
            ok = back.date() == sample.date()
        except ValueError:
            ok = False
    if not ok:
        raise ScenarioError(
            "bad date_format",
            file=file,
            key=key,
            expected="a strptime format with year, month and day, like '%d/%m/%Y' or "
            "'%m/%d/%Y %H:%M'",
            found=fmt,
        )
    return str(fmt)


def _resolve_paths(doc: dict[str, Any], folder: Path, file: Path, root: Path) -> None:
    data = doc.get("data")
    if data is None:
        return
    if not isinstance(data, dict):
        raise ScenarioError("wrong type", file=file, key="data", expected="a table of file paths")
    for k, v in data.items():
        if k not in DATA_KEYS:
            raise ScenarioError(
                "unknown key",
                file=file,
                key=f"data.{k}",
                expected="one of " + ", ".join(DATA_KEYS),
                hint="check the spelling (a misspelt file key would be ignored)",
            )
        if isinstance(v, list):
            if k not in DATA_LISTS:
                raise ScenarioError(
                    "wrong type",
                    file=file,
                    key=f"data.{k}",
                    expected="one file path (lists are accepted for "
                    + ", ".join(sorted(DATA_LISTS))
                    + ")",
                    found=v,
                )
            data[k] = [
                _data_file(x, folder, root, file=file, key=f"data.{k}[{i}]")
                for i, x in enumerate(v)
            ]
        else:
            data[k] = _data_file(v, folder, root, file=file, key=f"data.{k}")


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge TOML tables: tables merge key by key, other values replace.

    A key ``<list>_extra`` under ``[data]`` (e.g. ``absences_extra``) is kept
    separately and appended to its base list by the consumer.
    """
    out = copy.deepcopy(dict(base))
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _root(doc: dict[str, Any], file: Path) -> Path:
    """The folder every path of the scenario ``file`` must stay inside (its ``root`` key)."""
    value = doc.pop("root", None)
    folder = file.parent
    if value is None:
        return folder
    if not isinstance(value, str) or not value.strip():
        raise ScenarioError(
            "wrong type", file=file, key="root", expected='a folder path like ".."', found=value
        )
    root = (folder / Path(value).expanduser()).resolve()
    if root != folder and root not in folder.parents:
        raise ScenarioError(
            "root does not hold the scenario file",
            file=file,
            key="root",
            expected=f"{folder} or a folder above it",
            found=value,
        )
    return root


def load_document(
    path: str | Path, _seen: tuple[Path, ...] = (), _root_dir: Path | None = None
) -> dict[str, Any]:
    """Read a scenario TOML (following ``extends``) into one merged dict with absolute data
    paths, each inside the root of the file named here (see the module docstring).
    """
    p = Path(path).resolve()
    if p in _seen:
        raise ScenarioError(
            "circular 'extends'", file=p, found=" -> ".join(str(s) for s in (*_seen, p))
        )
    if not p.exists():
        raise ScenarioError(
            "scenario file not found", file=p, hint="give the path to a scenario.toml"
        )
    try:
        text = p.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        line = p.read_bytes()[: exc.start].count(b"\n") + 1
        raise ScenarioError(
            "not UTF-8 text",
            file=p,
            row=line,
            expected="a UTF-8 encoded TOML file",
            found=f"byte 0x{exc.object[exc.start]:02x}",
            hint="save the file as UTF-8",
        ) from None
    except OSError as exc:
        raise ScenarioError(
            f"cannot read the scenario file ({exc.strerror or exc})",
            file=p,
            hint="give the path to a readable scenario.toml",
        ) from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"not valid TOML: {exc}", file=p) from None
    for k in doc:
        if k not in TOP_LEVEL:
            raise ScenarioError(
                "unknown key",
                file=p,
                key=k,
                expected="one of " + ", ".join(sorted(TOP_LEVEL)),
                hint="check the spelling",
            )
    if _root_dir is None:
        root = _root(doc, p)
        _check_store(doc, p, root)
    else:
        root = _root_dir
        doc.pop("root", None)  # only the scenario that is run sets the root
    _resolve_paths(doc, p.parent, p, root)
    parent = doc.pop("extends", None)
    if parent is None:
        return doc
    if not isinstance(parent, str):
        raise ScenarioError(
            "wrong type",
            file=p,
            key="extends",
            expected="a path to another scenario file",
            found=parent,
        )
    target = inside(p.parent / parent, root, file=p, key="extends", found=parent)
    base = load_document(target, (*_seen, p), root)
    base.pop("name", None)
    base.pop("description", None)
    merged = merge(base, doc)
    if _root_dir is None:
        _check_store(merged, p, root)
    # extra lists from a child add to, never replace, the parent's
    data = merged.get("data", {})
    for k in list(data):
        if k.endswith("_extra") and k in doc.get("data", {}):
            parent_extra = base.get("data", {}).get(k, [])
            parent_extra = parent_extra if isinstance(parent_extra, list) else [parent_extra]
            child = doc["data"][k]
            child = child if isinstance(child, list) else [child]
            data[k] = [*parent_extra, *child]
    return merged


def _check_store(doc: Mapping[str, Any], file: Path, root: Path) -> None:
    """``[store] path`` (relative to the scenario that is run) must stay inside its root."""
    store = doc.get("store")
    value = store.get("path") if isinstance(store, Mapping) else None
    if isinstance(value, str) and value.strip():
        inside(
            file.parent / Path(value.strip()).expanduser(),
            root,
            file=file,
            key="store.path",
            found=value,
        )
