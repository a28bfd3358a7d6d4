"""The settings of one solve, assembled in one place: :func:`solve_settings` reads the scenario's
``[solver]`` table and the command line's overrides, for every command that solves (``roster``,
``run``, ``compare``, ``cover``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from staffplan import limits
from staffplan.errors import InputError
from staffplan.scenario import Scenario


@dataclass(frozen=True)
class SolveSettings:
    """The settings of one solve: time limit [s, or deterministic s], search workers, random seed,
    determinism, LP-relaxation bound and the stage shares of the roster engine.

    ``deterministic``: every stage is bounded by deterministic work only (CP-SAT's
    deterministic time, moves, passes), so the same inputs and seed give the same
    roster on any machine load; the limit is then deterministic time, calibrated
    to about a second of a quiet core. The shares [fractions of the limit] and how
    they add up to the limit are defined once, in :mod:`staffplan.roster.budget`.
    """

    time_limit_s: float = 60.0
    workers: int = 2
    seed: int = 0
    deterministic: bool = False
    lp_bound: bool = False
    improve_share: float = 0.0
    lns_share: float = 0.0
    colgen_share: float = 0.0
    search_share: float = 0.0


OVERRIDE_OPTIONS = {
    "time_limit_s": "--time-limit",
    "workers": "--workers",
    "seed": "--seed",
    "deterministic": "--deterministic",
}
"""Settings a command line may override, with the option that names each in error messages."""


def solve_settings(scenario: Scenario, overrides: Mapping[str, Any] | None = None) -> SolveSettings:
    """The one place a solve's settings are assembled: the scenario's ``[solver]`` table, then the
    command line's ``overrides`` (keys of :data:`OVERRIDE_OPTIONS`; None = not given).

    Raises :class:`InputError` naming the option on a time limit that is not > 0 or
    a worker count below 1, and :class:`~staffplan.errors.LimitError` above the resource bounds
    (:mod:`staffplan.limits`).
    """
    s = scenario.solver
    values: dict[str, Any] = {
        "time_limit_s": float(s.time_limit_s),
        "workers": int(s.workers),
        "seed": int(s.seed),
        "deterministic": False,
        "lp_bound": bool(s.lp_bound),
        "improve_share": float(s.improve_share),
        "lns_share": float(s.lns_share),
        "colgen_share": float(s.colgen_share),
        "search_share": float(s.search_share),
    }
    for key, value in (overrides or {}).items():
        if key not in OVERRIDE_OPTIONS:
            raise KeyError(f"unknown solve setting {key!r}")
        if value is not None:
            values[key] = value
    limit, workers = values["time_limit_s"], values["workers"]
    if isinstance(limit, bool) or not isinstance(limit, int | float):
        raise InputError(
            "bad time limit", column="--time-limit", expected="seconds > 0", found=limit
        )
    limits.check("time_limit_s", float(limit), column=OVERRIDE_OPTIONS["time_limit_s"])
    if not limit > 0:
        raise InputError(
            "bad time limit", column="--time-limit", expected="seconds > 0", found=limit
        )
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InputError(
            "bad worker count", column="--workers", expected="a whole number >= 1", found=workers
        )
    limits.check("workers", workers, column=OVERRIDE_OPTIONS["workers"])
    values["time_limit_s"] = float(limit)
    values["seed"] = int(values["seed"])
    values["deterministic"] = bool(values["deterministic"])
    return SolveSettings(**values)
