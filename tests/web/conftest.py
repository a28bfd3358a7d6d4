"""Fixtures of the web tests: the kit scenario published, an HTTP test client over the app, a
real ``staffplan serve`` process on a free port, and Debian's Chromium driven by Playwright.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient
from tests.web import kit

from staffplan.web.app import create_app
from staffplan.web.services import Workspace

BASE = "http://127.0.0.1:8000"


@pytest.fixture
def scen(tmp_path: Path) -> Path:
    """The kit scenario with its week published as version 1."""
    return kit.published(tmp_path / "kit")


@pytest.fixture
def ws(scen: Path) -> Workspace:
    return Workspace(scen, cover_time_limit_s=10, deterministic=True)


@pytest.fixture
def client(ws: Workspace) -> Iterator[TestClient]:
    with TestClient(create_app(ws), base_url=BASE) as c:
        yield c


def csrf_of(client: TestClient, path: str = "/sick-call") -> str:
    """The CSRF token a page's forms carry (and its cookie, now set on ``client``)."""
    page = client.get(path)
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


class Server:
    """A ``staffplan serve`` process, its address and what it wrote to stderr (drained by a
    thread, so the pipe never fills).
    """

    def __init__(self, proc: subprocess.Popen[str], url: str, lines: list[str]) -> None:
        self.proc, self.url, self.log = proc, url.rstrip("/"), lines
        self._drain = threading.Thread(target=self._read, daemon=True)
        self._drain.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log.append(line)


def start_server(scenario: Path, *args: str) -> Server:
    """Start ``staffplan serve`` on a free port; return once it says it is serving (the line it
    prints after its socket is accepting), confirmed by one request.
    """
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "staffplan", "serve", str(scenario), "--port", "0", *args],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert proc.stderr is not None
    lines = []
    for line in proc.stderr:  # blocks until the server reports (no sleeping)
        lines.append(line)
        found = re.search(r"serving \S+ on (http://\S+)", line)
        if found:
            server = Server(proc, found.group(1), lines)
            headers = {}
            if "--token" in args:
                headers["Authorization"] = f"Bearer {args[args.index('--token') + 1]}"
            assert httpx.get(server.url + "/healthz", headers=headers).status_code == 200
            return server
    proc.wait(timeout=30)
    raise AssertionError("staffplan serve did not start:\n" + "".join(lines))


def stop_server(server: Server) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait(timeout=30)
    server._drain.join(timeout=30)


@pytest.fixture
def server(scen: Path) -> Iterator[Server]:
    s = start_server(scen, "--deterministic", "--time-limit", "10")
    try:
        yield s
    finally:
        stop_server(s)
