"""The local backend: a pool of worker processes on this machine (the default).

Workers are *spawned* (fresh interpreters, like a cluster's workers, so no
thread or lock of the caller is copied into them); ``shared`` reaches each
worker once, through the pool's initializer, which also sizes the worker's
numeric thread pools (OpenMP, OpenBLAS) to the CPUs its tasks declare. Each
task announces its start on a queue that a relay thread forwards, and each
result arrives through its future, so events stream in the order they happen.
A worker that dies makes the pool fail every task still in it
(:class:`Failed`); :func:`run_tasks <staffplan.backends.run_tasks>` then runs
those again in a new pool.
"""

from __future__ import annotations

import multiprocessing
import pickle
import queue
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
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
from staffplan.threads import limit_numeric_threads

RELAY_POLL_S = 0.2
"""How often the relay thread checks whether its stream has ended [s] (not a synchronisation
wait: events pass as soon as they arrive)."""

_worker: dict[str, Any] = {}


def _init(threads: int, payload: bytes, started: Any) -> None:
    """A worker's start: size the numeric thread pools to the CPUs of its tasks (as Ray does for
    its workers; without it, each worker's OpenBLAS starts a thread per core of the machine, and
    the workers' threads fight for the cores), then unpickle the task function and ``shared`` —
    whose imports load those libraries.
    """
    limit_numeric_threads(threads)
    fn, shared = pickle.loads(payload)
    _worker.update(fn=fn, shared=shared, started=started)


def _run(task: Task, attempt: int) -> Done | Failed:
    host, pid = where()
    _worker["started"].put(Started(task.key, attempt, host, pid))
    return call(_worker["fn"], _worker["shared"], task, attempt)


class LocalBackend:
    """Up to ``processes`` worker processes at a time [processes >= 1]."""

    name = "local"

    def __init__(self, processes: int = 1) -> None:
        self.processes = max(1, int(processes))

    def stream(
        self, fn: TaskFn, shared: Any, tasks: Sequence[Task], attempt: int
    ) -> Iterator[Event]:
        if not tasks:
            return
        ctx = multiprocessing.get_context("spawn")
        started = ctx.Queue()
        events: queue.Queue[Any] = queue.Queue()
        stop = threading.Event()

        def relay() -> None:
            while not stop.is_set():
                try:
                    events.put(started.get(timeout=RELAY_POLL_S))
                except queue.Empty:
                    continue
                except (EOFError, OSError):  # the queue's pipe closed under us
                    return

        pool = ProcessPoolExecutor(
            max_workers=min(self.processes, len(tasks)),
            mp_context=ctx,
            initializer=_init,
            initargs=(max(t.cpus for t in tasks), pickle.dumps((fn, shared)), started),
        )
        thread = threading.Thread(target=relay, name="staffplan-relay", daemon=True)
        thread.start()
        begun: set[int] = set()
        finished: set[int] = set()
        clean = False
        try:
            for t in tasks:
                fut = pool.submit(_run, t, attempt)
                fut.add_done_callback(lambda f, key=t.key: events.put((key, f)))
            while len(finished) < len(tasks):
                ev = events.get()
                if isinstance(ev, Started):
                    if ev.key not in finished:  # a fast result may overtake its start: dropped
                        begun.add(ev.key)
                        yield ev
                    continue
                key, fut = ev
                result = _outcome(key, attempt, fut)
                if key not in begun and result.pid is not None:  # its start, from the result
                    yield Started(key, attempt, str(result.host), result.pid)
                finished.add(key)
                yield result
            clean = True
        finally:
            stop.set()
            if not clean:  # interrupted: stop the workers now rather than finish their solves
                for proc in list(getattr(pool, "_processes", {}).values()):
                    proc.terminate()
            pool.shutdown(wait=True, cancel_futures=True)
            thread.join()
            started.close()
            started.join_thread()

    def close(self) -> None:
        """Nothing to release: each stream's pool ends with it."""


def _outcome(key: int, attempt: int, fut: Future[Done | Failed]) -> Done | Failed:
    exc = fut.exception()
    if exc is None:
        return fut.result()
    return Failed(key, attempt, error_line(exc))  # the worker died (or could not start)
