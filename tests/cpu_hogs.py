"""CPU-bound processes beside a run, for the determinism load checks: each is started as a
subprocess and killed by its pid when the block ends.

``python -m tests.cpu_hogs N -- COMMAND ...`` runs COMMAND with N hogs beside it and exits with
its exit code (``.ci/run`` uses it for the load check).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

HOG = "while True:\n    pass\n"


@contextlib.contextmanager
def cpu_hogs(n: int = 2) -> Iterator[list[int]]:
    """``n`` busy-looping Python processes for the duration of the block; yields their pids."""
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(n):
            procs.append(subprocess.Popen([sys.executable, "-c", HOG]))
        yield [p.pid for p in procs]
    finally:
        for p in procs:
            with contextlib.suppress(ProcessLookupError):
                os.kill(p.pid, signal.SIGKILL)
            p.wait()


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python -m tests.cpu_hogs N -- COMMAND ...", file=sys.stderr)
        return 2
    with cpu_hogs(int(argv[0])) as pids:
        print(f"cpu hogs running beside the command: pids {pids}", file=sys.stderr, flush=True)
        return subprocess.call(argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
