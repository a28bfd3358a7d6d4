"""``staffplan serve`` refusals (exit 2, one line) before it listens; the running server is
tested in ``tests/web``.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from tests.web import kit


def serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "staffplan", "serve", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--host", "0.0.0.0"], "serving beyond this machine needs a token"),
        (["--host", "0.0.0.0", "--token", "short"], "token too short"),
        (["--lang", "xx"], "unknown language"),
        (["--time-limit", "0"], "bad time limit"),
    ],
)
def test_refusals_exit_2_with_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    scen = kit.scenario(tmp_path / "s")
    proc = serve(str(scen), "--port", "0", *args)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_a_taken_port_is_named(tmp_path: Path) -> None:
    scen = kit.scenario(tmp_path / "s")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        proc = serve(str(scen), "--port", str(port))
    assert proc.returncode == 2 and "port already in use" in proc.stderr
    assert "--port" in proc.stderr and "Traceback" not in proc.stderr


def test_a_missing_scenario_is_named(tmp_path: Path) -> None:
    proc = serve(str(tmp_path / "nope.toml"), "--port", "0")
    assert proc.returncode == 2 and "nope.toml" in proc.stderr
