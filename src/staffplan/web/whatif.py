"""What-if scenarios on the Compare page: which scenario files the page may run (a list the
server makes at start; a request only picks among them by position, so no request value
becomes a path).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from staffplan.errors import InputError


@dataclass(frozen=True)
class ScenarioChoice:
    """A scenario the Compare page may run: its file and name."""

    path: Path
    name: str


def scenario_choices(
    served: Any, given: Sequence[str | Path] | None = None
) -> tuple[ScenarioChoice, ...]:
    """The served scenario, then ``given`` (``serve --compare``: each must load, else
    :class:`InputError`), or else every other scenario file beside it — ``*.toml`` in its folder
    and in the folders next to it — that loads with its data files present (others are left
    out). Distinct files and names, each list after the served one in path order.
    """
    from staffplan.errors import StaffplanError
    from staffplan.scenario import load

    out = [ScenarioChoice(Path(served.path).resolve(), served.name)]
    if given:
        candidates, strict = [Path(p) for p in given], True
    else:
        here = Path(served.path).resolve().parent
        found = {*here.glob("*.toml"), *here.parent.glob("*/*.toml")}
        candidates, strict = sorted(found), False
    for path in candidates:
        if any(path.resolve() == c.path for c in out):
            continue
        try:
            sc = load(path)
            sc.check_files()
        except StaffplanError:
            if strict:
                raise
            continue
        if any(sc.name == c.name for c in out):
            if strict:
                raise InputError(
                    "two scenarios share a name",
                    column="--compare",
                    expected="distinct scenario names (outputs go to <out>/<name>/)",
                    found=f"{sc.name} ({path})",
                )
            continue
        out.append(ScenarioChoice(path.resolve(), sc.name))
    return tuple(out)
