"""Sick-call repairs started from a page: each runs in a worker thread (never on the event loop),
at most one per scenario at a time (the workspace's repair lock), and reports its progress —
queued, waiting for another repair, solving (elapsed against the time limit), done or failed —
for the page to poll.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from staffplan.errors import StaffplanError
from staffplan.store import Version
from staffplan.web.services import Proposal, Workspace

STATES: tuple[str, ...] = ("queued", "waiting", "solving", "done", "failed")


class Job:
    """One repair request and what became of it. Its fields change only under its lock;
    :attr:`finished` is set once it is done or failed, :attr:`waiting` once it had to wait for
    another repair.
    """

    def __init__(self, request: dict[str, Any], time_limit_s: float) -> None:
        self.id = secrets.token_urlsafe(12)
        self.request = request
        self.time_limit_s = time_limit_s
        self.state = "queued"
        self.started: float | None = None
        self.ended: float | None = None
        self.proposal: Proposal | None = None
        self.error: str | None = None
        self.applied: Version | None = None
        self.waiting = threading.Event()
        self.finished = threading.Event()
        self._lock = threading.Lock()

    def _set(self, state: str, **fields: Any) -> None:
        with self._lock:
            self.state = state
            for k, v in fields.items():
                setattr(self, k, v)

    def progress(self) -> dict[str, Any]:
        """``{id, state, elapsed_s, time_limit_s, error, version}`` (JSON-ready)."""
        with self._lock:
            if self.started is None:
                elapsed = 0.0
            else:
                elapsed = (self.ended or time.monotonic()) - self.started
            return {
                "id": self.id,
                "state": self.state,
                "elapsed_s": round(elapsed, 1),
                "time_limit_s": self.time_limit_s,
                "error": self.error,
                "version": self.applied.number if self.applied else None,
            }

    def mark_applied(self, version: Version) -> None:
        with self._lock:
            self.applied = version


class Jobs:
    """The repairs of one workspace, newest ``keep`` kept for their pages."""

    def __init__(self, workspace: Workspace, *, keep: int = 32) -> None:
        self.workspace = workspace
        self.keep = keep
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="staffplan-repair")

    def submit(self, request: dict[str, Any]) -> Job:
        """Start a repair of ``request`` (``propose_cover``'s keyword arguments) in a worker."""
        limit = request.get("time_limit_s") or self.workspace.cover_time_limit_s
        job = Job(request, float(limit))
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > self.keep:
                self._jobs.popitem(last=False)
        self._pool.submit(self._run, job)
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def _run(self, job: Job) -> None:
        def waiting() -> None:
            job._set("waiting")
            job.waiting.set()

        def solving() -> None:
            job._set("solving", started=time.monotonic())

        try:
            proposal = self.workspace.propose_cover(
                **job.request, on_wait=waiting, on_start=solving
            )
            job._set("done", proposal=proposal, ended=time.monotonic())
        except StaffplanError as exc:
            job._set("failed", error=str(exc), ended=time.monotonic())
        except Exception as exc:  # noqa: BLE001 - reported on the page, never as a traceback
            job._set(
                "failed",
                error=f"internal error: {type(exc).__name__}: {exc}",
                ended=time.monotonic(),
            )
        finally:
            job.finished.set()

    def shutdown(self) -> None:
        """Stop taking jobs; a running repair ends within its time limit."""
        self._pool.shutdown(wait=False, cancel_futures=True)
