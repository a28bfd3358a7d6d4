"""Reading a scenario file: the TOML text, the ``extends`` chain merged key by key, the ``[data]``
paths made absolute. Validation of the merged document into frozen dataclasses is
:mod:`staffplan.scenario`'s.
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


def _data_file(value: Any, folder: Path, *, file: Path, key: str) -> str | dict[str, str]:
    """One ``[data]`` entry with its path made absolute (a string, or a table with a format)."""
    if isinstance(value, str):
        return str((folder / value).resolve())
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
        out = {"path": str((folder / path).resolve())}
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


def _resolve_paths(doc: dict[str, Any], folder: Path, file: Path) -> None:
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
                _data_file(x, folder, file=file, key=f"data.{k}[{i}]") for i, x in enumerate(v)
            ]
        else:
            data[k] = _data_file(v, folder, file=file, key=f"data.{k}")


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


def load_document(path: str | Path, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Read a scenario TOML (following ``extends``) into one merged dict with absolute data
    paths.
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
    _resolve_paths(doc, p.parent, p)
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
    base = load_document(p.parent / parent, (*_seen, p))
    base.pop("name", None)
    base.pop("description", None)
    merged = merge(base, doc)
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
