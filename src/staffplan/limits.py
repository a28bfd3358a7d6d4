"""Resource bounds, checked before a long computation starts.

Each bound covers any real contact centre with room to spare; a value above
it is a :class:`~staffplan.errors.LimitError` (exit code 2) that names the
bound and how to lift it: the environment variable ``STAFFPLAN_MAX_<NAME>``
(e.g. ``STAFFPLAN_MAX_DAYS=730``), for the rare run that truly needs more.
The bounds are listed in docs/formats.md ("Bounds").
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable
from dataclasses import dataclass

from staffplan.errors import LimitError


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def available_memory_mb() -> float:
    """Memory this process can still take [MB]: ``MemAvailable`` of ``/proc/meminfo``, capped by
    the cgroup's ``memory.max`` headroom when there is one; 8 GB when neither can be read."""
    found: list[float] = []
    with (
        contextlib.suppress(OSError, ValueError, IndexError),  # not Linux: no reading
        open("/proc/meminfo", encoding="ascii") as fh,
    ):
        for line in fh:
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) / 1024)
    with contextlib.suppress(OSError, ValueError):  # no cgroup v2 memory limit
        with open("/sys/fs/cgroup/memory.max", encoding="ascii") as fh:
            cap = fh.read().strip()
        with open("/sys/fs/cgroup/memory.current", encoding="ascii") as fh:
            used = int(fh.read().strip())
        if cap != "max":
            found.append((int(cap) - used) / 2**20)
    return max(min(found), 0.0) if found else 8192.0


@dataclass(frozen=True)
class Bound:
    """One resource bound: ``default`` [``unit``] (or ``machine()``, read when checked) unless the
    environment lifts it."""

    name: str
    default: float
    unit: str
    what: str
    why: str
    machine: Callable[[], float] | None = None

    @property
    def env(self) -> str:
        """The environment variable that overrides the default."""
        return f"STAFFPLAN_MAX_{self.name.upper()}"


BOUNDS: dict[str, Bound] = {
    b.name: b
    for b in (
        Bound(
            "time_limit_s",
            86_400.0,
            "s",
            "a solver time limit",
            "a run must end (one day is the longest solve staffplan starts on its own)",
        ),
        Bound(
            "workers",
            float(max(8, 4 * _cores())),
            "workers",
            "solver workers",
            "more than 4 threads per core only slow the search and overrun the time limit",
        ),
        Bound(
            "days",
            366.0,
            "days",
            "a planning horizon",
            "memory and time grow with the horizon (one year is the longest plan)",
        ),
        Bound(
            "offered_load",
            100_000.0,
            "Erlangs",
            "the offered load of one queue in one interval",
            "the queueing models' time grows with the load (100,000 Erlangs is far above any "
            "real queue)",
        ),
        Bound(
            "agents",
            1_000_000.0,
            "agents",
            "an agent count for the queueing models",
            "the queueing models' time grows with the agent count",
        ),
        Bound(
            "sweep_points",
            1_000.0,
            "points",
            "the points of a sweep",
            "each point is a whole planning run",
        ),
        Bound(
            "model_memory_mb",
            8192.0,
            "MB",
            "the roster model's estimated memory",
            "a model above the memory available would be killed by the system half-way (the "
            "default is the memory available when the run starts)",
            available_memory_mb,
        ),
        Bound(
            "replications",
            1_000.0,
            "replications",
            "simulation replications",
            "each replication simulates every contact of the horizon",
        ),
    )
}


def maximum(name: str) -> float:
    """The bound ``name`` [its unit]: ``STAFFPLAN_MAX_<NAME>`` if set, else the default."""
    bound = BOUNDS[name]
    text = os.environ.get(bound.env, "").strip()
    if not text:
        return bound.machine() if bound.machine is not None else bound.default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise LimitError(
            "bad bound in the environment",
            key=bound.env,
            expected=f"a finite number > 0 [{bound.unit}]",
            found=text,
            hint=f"unset {bound.env} to use the default "
            f"{bound.machine() if bound.machine is not None else bound.default:g}",
        )
    return value


def check(
    name: str,
    value: float,
    *,
    file: str | None = None,
    row: int | None = None,
    column: str | None = None,
    key: str | None = None,
    context: str = "",
) -> None:
    """Raise :class:`LimitError` if ``value`` is not finite or above the bound ``name``.

    ``file``/``row``/``column``/``key`` say where the value came from (an
    option is a ``column`` like ``--workers``, a scenario value a ``key``);
    ``context`` (e.g. ``queue voice at 2026-12-07 10:00``) starts the message.
    """
    bound = BOUNDS[name]
    top = maximum(name)
    lead = f"{context}: " if context else ""
    if isinstance(value, float) and not math.isfinite(value):
        raise LimitError(
            f"{lead}{bound.what} must be finite",
            file=file,
            row=row,
            column=column,
            key=key,
            expected=f"a number up to {top:g} {bound.unit}",
            found=value,
            hint=f"{bound.why}; the limit can be raised with {bound.env}=N",
        )
    if value > top:
        raise LimitError(
            f"{lead}{bound.what} is above the limit of {top:g} {bound.unit}",
            file=file,
            row=row,
            column=column,
            key=key,
            expected=f"at most {top:g} {bound.unit}",
            found=float(f"{value:.6g}") if isinstance(value, float) else value,
            hint=f"{bound.why}; lift the limit with the environment variable "
            f"{bound.env}={_suggest(value)} if this run really needs it",
        )


def _suggest(value: float) -> str:
    return f"{math.ceil(value):d}" if value < 1e15 else f"{value:.3g}"
