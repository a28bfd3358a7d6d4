"""Tasks, their events, the backend interface and the retry rule (see :mod:`staffplan.backends`)."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

TaskFn = Callable[[Any, Any], Any]


@dataclass(frozen=True)
class Task:
    """One unit of work: ``key`` (unique), ``item`` (passed to the task function) and the CPUs
    [cores] its solve uses (the Ray resource request; the local pool sizes itself by them).
    """

    key: int
    item: Any
    cpus: int = 1


@dataclass(frozen=True)
class Started:
    """Task ``key`` started (``attempt`` 1, 2, ...) in process ``pid`` on ``host``."""

    key: int
    attempt: int
    host: str
    pid: int


@dataclass(frozen=True)
class Done:
    """Task ``key`` returned ``value`` after ``seconds`` [s] of work in ``pid`` on ``host``."""

    key: int
    attempt: int
    value: Any
    host: str
    pid: int
    seconds: float


@dataclass(frozen=True)
class Failed:
    """Task ``key`` raised (in ``pid`` on ``host``) or lost its worker (host and pid unknown);
    ``error`` says what happened (one line).
    """

    key: int
    attempt: int
    error: str
    host: str | None = None
    pid: int | None = None


Event = Started | Done | Failed


class Backend(Protocol):
    """Runs tasks somewhere and streams their events (see the module doc)."""

    name: str

    def stream(
        self, fn: TaskFn, shared: Any, tasks: Sequence[Task], attempt: int
    ) -> Iterator[Event]:
        """Run ``tasks`` (each once) and yield their events as they happen, ending with one
        :class:`Done` or :class:`Failed` per task.
        """
        ...

    def close(self) -> None:
        """Release the backend's processes or its cluster connection."""
        ...


def where() -> tuple[str, int]:
    """(host name, process id) of the calling process."""
    return socket.gethostname(), os.getpid()


def call(fn: TaskFn, shared: Any, task: Task, attempt: int) -> Done | Failed:
    """Run one task in this process (what every backend's worker does after saying it started);
    an exception becomes :class:`Failed`.
    """
    host, pid = where()
    t0 = time.perf_counter()
    try:
        value = fn(shared, task.item)
    except Exception as exc:  # noqa: BLE001 - reported as the task's failure, then retried
        return Failed(task.key, attempt, error_line(exc), host, pid)
    return Done(task.key, attempt, value, host, pid, round(time.perf_counter() - t0, 3))


def error_line(exc: BaseException) -> str:
    """An exception as one line: its type and the first line of its message."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def run_tasks(
    backend: Backend,
    fn: TaskFn,
    shared: Any,
    tasks: Sequence[Task],
    *,
    retries: int = 1,
    on_event: Callable[[Event], None] | None = None,
) -> dict[int, Done | Failed]:
    """Run every task on ``backend``; a failed task runs again, up to ``retries`` more times.

    Returns each task's last :class:`Done` or :class:`Failed` by key; ``on_event``
    sees every event (starts, results and failures of every attempt).
    """
    keys = [t.key for t in tasks]
    if len(set(keys)) != len(keys):
        raise ValueError("task keys must be unique")
    final: dict[int, Done | Failed] = {}
    pending = list(tasks)
    for attempt in range(1, retries + 2):
        if not pending:
            break
        for ev in backend.stream(fn, shared, pending, attempt):
            if on_event is not None:
                on_event(ev)
            if isinstance(ev, Done | Failed):
                final[ev.key] = ev
        pending = [t for t in pending if isinstance(final.get(t.key), Failed)]
    missing = [k for k in keys if k not in final]
    for k in missing:  # a backend that ended a stream early: say so rather than drop the task
        final[k] = Failed(k, retries + 1, "the backend ended without a result")
    return final
