"""Run independent tasks on worker processes: the local process pool or a Ray cluster.

A task is ``fn(shared, item)``: ``fn`` a module-level function (workers import
it by name), ``shared`` picklable data every task reads (sent once per worker
or put once in the cluster's object store), ``item`` a frozen, picklable
description of one task. Workers build everything else themselves (CP-SAT
models cannot be pickled), so nothing a task reads is a path that only exists
on the machine that started it.

A backend streams :data:`Event` s as they happen: :class:`Started` (where the
task runs), then :class:`Done` (its value) or :class:`Failed` (the task
raised, or its worker process died). :func:`run_tasks` runs every task,
retries each failed one once (``retries``) and returns one final event per
task, so a failure is reported, never dropped.
"""

from __future__ import annotations

from staffplan.backends.tasks import (
    Backend,
    Done,
    Event,
    Failed,
    Started,
    Task,
    TaskFn,
    call,
    error_line,
    run_tasks,
    where,
)
from staffplan.errors import InputError

__all__ = [
    "BACKENDS",
    "Backend",
    "Done",
    "Event",
    "Failed",
    "Started",
    "Task",
    "TaskFn",
    "call",
    "error_line",
    "make_backend",
    "run_tasks",
    "where",
]

BACKENDS = ("local", "ray")


def make_backend(name: str, *, address: str | None = None, processes: int = 1) -> Backend:
    """The backend called ``name``: ``local`` (a pool of ``processes`` worker processes) or ``ray``
    (the cluster at ``address``, or a Ray instance started on this machine without one).
    """
    if name == "local":
        if address is not None:
            raise InputError(
                "--address needs the Ray backend",
                column="--address",
                expected="--backend ray",
                found=address,
                hint="add --backend ray, or drop --address to run on local processes",
            )
        from staffplan.backends.local import LocalBackend

        return LocalBackend(processes)
    if name == "ray":
        from staffplan.backends.ray import RayBackend

        return RayBackend(address)
    raise InputError(
        "unknown backend", column="--backend", expected=" or ".join(BACKENDS), found=name
    )
