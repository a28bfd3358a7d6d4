"""Task functions for backend tests (module-level, so worker processes import them by name)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np  # loaded when a worker unpickles a task function, as staffplan.jobs loads it
from threadpoolctl import threadpool_info

BLOCK_LIMIT_S = 120.0
"""How long a task waiting to be killed waits before it gives up [s] (a hang guard only)."""


def power(shared: int, item: int) -> int:
    """``item ** shared``."""
    return item**shared


def fail_on(shared: int, item: int) -> int:
    """``item``, but raises for ``item == shared``."""
    if item == shared:
        raise ValueError(f"item {item} always fails")
    return item


def block_until_released(shared: str, item: int) -> int:
    """``2 * item``; item 0 blocks (until its process is killed) unless the file ``released`` in
    the folder ``shared`` exists.
    """
    blocked = item == 0 and not (Path(shared) / "released").exists()
    if blocked and not threading.Event().wait(BLOCK_LIMIT_S):
        raise TimeoutError("the test never killed this worker")
    return 2 * item


def numeric_threads(shared: object, item: int) -> tuple[dict[str, int], str | None]:
    """The thread-pool size of every numeric library loaded in this worker (by internal API,
    e.g. ``openblas``) and its ``OMP_NUM_THREADS``, after a matrix product."""
    a = np.ones((64, 64))
    assert float((a @ a)[0, 0]) == 64.0
    pools = {i["internal_api"]: int(i["num_threads"]) for i in threadpool_info()}
    return pools, os.environ.get("OMP_NUM_THREADS")
