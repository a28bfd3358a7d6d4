"""Thread pools of the numeric libraries (OpenBLAS, OpenMP, MKL): one thread per process.

staffplan's numeric work (forecast fits, queueing arrays) is many small matrix operations that
gain nothing from BLAS threads, while a thread per core spins against CP-SAT's workers, the
simulation's worker processes and anything else running: beside other work it doubled both the
CPU and the wall time of ``staffplan forecast`` on the example (benchmarks/RESULTS.md). Parallel
work is done by CP-SAT workers and worker processes instead. The libraries read these variables
once, when they load, so the limit is set before any command imports them.
"""

from __future__ import annotations

import os

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
"""Environment variables that size the numeric libraries' thread pools, read once at load."""


def limit_numeric_threads(threads: int = 1) -> None:
    """Size the numeric thread pools of this process and its children [threads >= 1]; a value
    the user set is kept."""
    for name in THREAD_VARIABLES:
        os.environ.setdefault(name, str(max(1, int(threads))))
