"""The command line runs the numeric libraries with one thread per process (staffplan.threads)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys

from staffplan.threads import THREAD_VARIABLES

PROBE = """
import threadpoolctl
from staffplan.cli import main
try:
    main(["erlang", "--volume", "100", "--interval-minutes", "30", "--aht", "180",
          "--service-level", "0.8", "--answer-within", "20"])
except SystemExit:
    pass
print(sorted({p["num_threads"] for p in threadpoolctl.threadpool_info()}))
"""


def _blas_threads(**env: str) -> list[int]:
    clean = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return ast.literal_eval(out.stdout.strip().splitlines()[-1])


def test_a_command_loads_numpy_with_one_thread_per_pool() -> None:
    assert _blas_threads() == [1]  # this machine has 2 cores: a pool's default would be 2


def test_a_thread_count_the_user_set_is_kept() -> None:
    assert _blas_threads(OPENBLAS_NUM_THREADS="2", OMP_NUM_THREADS="2") == [2]
