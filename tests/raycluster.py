"""A real local Ray cluster for tests: ``ray start --head --block`` on 127.0.0.1 with 2 CPUs and a
small object store, stopped by SIGTERM to the process the test started (it stops its own children).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OBJECT_STORE_BYTES = 100_000_000
STOP_WAIT_S = 60.0
AUTH_MODE = "disabled"
"""A throw-away cluster on 127.0.0.1 needs no token (drivers must use the same mode)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def local_cluster(cpus: int = 2) -> Iterator[str]:
    """Start a head node; yield its address (``127.0.0.1:PORT``) once it says it started."""
    temp = tempfile.mkdtemp(prefix="ray")  # short: Ray's socket paths have a length limit
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
        "RAY_USAGE_STATS_ENABLED": "0",
        "RAY_AUTH_MODE": AUTH_MODE,
        # Ray starts its workers at nice 15: beside busy processes a test's tasks would then wait
        # for the machine to go quiet (a sweep point ran at 3 % of a core beside two CPU hogs)
        "RAY_worker_niceness": "0",
    }
    proc = subprocess.Popen(
        [  # Ray's own command through this interpreter: found wherever pip put its script
            sys.executable,
            "-m",
            "ray.scripts.scripts",
            "start",
            "--head",
            "--block",
            "--node-ip-address=127.0.0.1",
            f"--port={port}",
            # every listening port free, not Ray's fixed defaults (52365, 8085, ...): another
            # cluster on the machine (a second test run, a user's own Ray) must not collide
            f"--dashboard-agent-listen-port={_free_port()}",
            f"--dashboard-agent-grpc-port={_free_port()}",
            f"--runtime-env-agent-port={_free_port()}",
            f"--metrics-export-port={_free_port()}",
            f"--num-cpus={cpus}",
            f"--object-store-memory={OBJECT_STORE_BYTES}",
            "--include-dashboard=false",
            "--disable-usage-stats",
            f"--temp-dir={temp}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:  # synchronise on the head node's own message, not on a sleep
        seen.append(line)
        if "Ray runtime started" in line:
            break
    else:
        proc.wait()
        shutil.rmtree(temp, ignore_errors=True)
        raise RuntimeError("ray start failed:\n" + "".join(seen[-30:]))
    drain = threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True)
    drain.start()  # keep reading so a full pipe never blocks the head node
    try:
        yield f"127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(temp, ignore_errors=True)
