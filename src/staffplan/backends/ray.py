"""The Ray backend: each task is a Ray task on a cluster (optional extra ``staffplan[cluster]``).

Each task declares the CPUs its solve uses (``num_cpus``), so Ray never
packs more solves on a node than it has cores. ``shared`` is put in the
cluster's object store once and every task reads it from there: tasks get
data, never a path on the driver's machine. A task is a Ray generator that
first yields :class:`~staffplan.backends.Started` (host and process id), then
its :class:`~staffplan.backends.Done`, so starts and results stream back as
they happen. Ray's own retries are off (``max_retries=0``): a task whose
worker dies is reported as :class:`~staffplan.backends.Failed` and
:func:`~staffplan.backends.run_tasks` submits it again, the same way for
every backend.

Without an address (and without ``RAY_ADDRESS`` in the environment) a Ray
instance is started on this machine for the run and stopped after it.
Every node of a cluster needs staffplan installed (same version as the
driver) with the ``cluster`` extra.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from collections.abc import Iterator, Sequence
from typing import Any

from staffplan.backends.tasks import (
    Done,
    Event,
    Failed,
    Started,
    Task,
    TaskFn,
    call,
    error_line,
    where,
)
from staffplan.errors import InputError

try:
    import ray
    import ray.exceptions
except ImportError:  # pragma: no cover - exercised only without the extra
    ray = None

LOCAL_OBJECT_STORE_BYTES = 256 * 1024 * 1024
"""Object store of a Ray instance started for one run [bytes]: inputs and results are a few MB."""


def _task(fn: TaskFn, shared: Any, task: Task, attempt: int) -> Iterator[Started | Done]:
    host, pid = where()
    yield Started(task.key, attempt, host, pid)
    yield call(fn, shared, task, attempt)


_remote = ray.remote(max_retries=0)(_task) if ray is not None else None


def _failure_text(exc: BaseException) -> str:
    cause = getattr(exc, "cause", None)  # RayTaskError wraps the task's own exception
    return error_line(cause if isinstance(cause, BaseException) else exc)


CONNECT_TIMEOUT_S = 10.0
"""How long to try reaching a cluster's head node before giving up [s] (Ray itself waits
minutes)."""


def _check_reachable(address: str) -> None:
    """A clear error when nothing listens at ``host:port`` (Ray would retry for minutes)."""
    host, _, port = address.rpartition(":")
    if "://" in address or not host or not port.isdigit():
        raise InputError(
            "bad Ray address",
            column="--address",
            expected="host:port of the head node's GCS, e.g. 10.0.0.5:6379",
            found=address,
        )
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise InputError(
            f"cannot reach the Ray head node ({exc.strerror or exc})",
            column="--address",
            expected="host:port of a running Ray head node (ray start --head)",
            found=address,
            hint="start the cluster first, or leave out --address to run Ray on this machine",
        ) from None


class RayBackend:
    """Tasks on the Ray cluster at ``address`` (``host:port`` of its head node), or on a Ray
    instance started on this machine when no address is given.
    """

    name = "ray"

    def __init__(self, address: str | None = None) -> None:
        if ray is None:
            raise InputError(
                "the Ray backend needs Ray installed",
                column="--backend",
                expected="the cluster extra",
                found="ray",
                hint="pip install 'staffplan[cluster]' (on this machine and every node)",
            )
        if ray.is_initialized():
            raise InputError(
                "this process is already connected to Ray",
                column="--backend",
                hint="run one sweep or compare at a time per process",
            )
        env = os.environ.get("RAY_ADDRESS")
        self.address = address or env
        kw: dict[str, Any] = {
            "log_to_driver": False,
            "logging_level": logging.ERROR,
            "include_dashboard": False,
        }
        if self.address is None:
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
            kw.update(num_cpus=os.cpu_count() or 1, object_store_memory=LOCAL_OBJECT_STORE_BYTES)
        else:
            kw.pop("include_dashboard")
        if self.address is not None:
            _check_reachable(self.address)
        try:
            ray.init(address=self.address or "local", **kw)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            raise InputError(
                f"cannot connect to the Ray cluster ({error_line(exc)})",
                column="--address",
                expected="host:port of a running Ray head node (ray start --head)",
                found=self.address,
                hint="start the cluster first, or leave out --address to run Ray on this machine",
            ) from None

    def largest_node_cpus(self) -> float:
        """CPUs [cores] of the largest live node."""
        return max(
            (float(n["Resources"].get("CPU", 0.0)) for n in ray.nodes() if n.get("Alive")),
            default=0.0,
        )

    def stream(
        self, fn: TaskFn, shared: Any, tasks: Sequence[Task], attempt: int
    ) -> Iterator[Event]:
        if not tasks:
            return
        most = self.largest_node_cpus()
        need = max(t.cpus for t in tasks)
        if need > most:
            raise InputError(
                "a task needs more CPUs than any Ray node has",
                column="--workers",
                expected=f"at most {most:g} solver workers per point",
                found=need,
                hint="lower --workers, or add larger nodes to the cluster",
            )
        ref = ray.put(shared)
        gens = {
            _remote.options(num_cpus=t.cpus).remote(fn, ref, t, attempt): t.key  # type: ignore[union-attr]
            for t in tasks
        }
        try:
            while gens:
                ready, _ = ray.wait(list(gens), num_returns=1)
                gen = ready[0]
                key = gens[gen]
                try:
                    value = ray.get(next(gen))
                except StopIteration:  # ended without a result (cannot happen for _task)
                    del gens[gen]
                    yield Failed(key, attempt, "the task ended without a result")
                    continue
                except ray.exceptions.RayError as exc:
                    del gens[gen]
                    yield Failed(key, attempt, _failure_text(exc))
                    continue
                if isinstance(value, Done | Failed):
                    del gens[gen]
                yield value
        finally:
            for gen in gens:  # interrupted: free the cluster's cores
                with contextlib.suppress(ray.exceptions.RayError, TypeError, ValueError):
                    ray.cancel(gen, force=True)

    def close(self) -> None:
        if ray is not None and ray.is_initialized():
            ray.shutdown()
