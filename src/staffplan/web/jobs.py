"""Long work started from a page, in worker threads (never on the event loop), with progress
for the page to poll. Sick-call repairs (:class:`Jobs`): at most one per scenario at a time (the
workspace's repair lock); queued, waiting for another repair, solving (elapsed against the time
limit), done or failed. Scenario comparisons (:class:`Comparisons`): at most one at a time;
queued, running (scenarios finished, the one running), done or failed.
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


def _elapsed_s(started: float | None, ended: float | None) -> float:
    """Seconds a job has run (monotonic clock): 0 before it starts, up to ``ended`` once over."""
    if started is None:
        return 0.0
    return (ended or time.monotonic()) - started


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
            elapsed = _elapsed_s(self.started, self.ended)
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


COMPARE_STATES: tuple[str, ...] = ("queued", "running", "done", "failed")


class CompareJob:
    """One scenario comparison started from the Compare page: the positions chosen, its progress
    (scenarios finished of all, the one running, the last progress line) and its result.
    """

    def __init__(self, chosen: tuple[int, ...], names: tuple[str, ...]) -> None:
        self.id = secrets.token_urlsafe(12)
        self.chosen = chosen
        self.names = names
        self.state = "queued"
        self.started: float | None = None
        self.ended: float | None = None
        self.finished_runs = 0
        self.current = ""
        self.line = ""
        self.result: Any = None  # staffplan.comparison.Comparison
        self.error: str | None = None
        self.finished = threading.Event()
        self._lock = threading.Lock()

    def _set(self, **fields: Any) -> None:
        with self._lock:
            for k, v in fields.items():
                setattr(self, k, v)

    def progress(self) -> dict[str, Any]:
        """``{id, state, scenarios, done, running, line, elapsed_s, error}`` (JSON-ready)."""
        with self._lock:
            elapsed = _elapsed_s(self.started, self.ended)
            return {
                "id": self.id,
                "state": self.state,
                "scenarios": list(self.names),
                "done": self.finished_runs,
                "running": self.current,
                "line": self.line,
                "elapsed_s": round(elapsed, 1),
                "error": self.error,
            }


class Comparisons:
    """The workspace's scenario comparisons: at most one runs at a time (starting another while
    one runs returns the running one), each in a worker thread; the newest ``keep`` are kept, so
    a page shows a finished comparison again without running it.
    """

    def __init__(self, workspace: Workspace, *, keep: int = 8) -> None:
        self.workspace = workspace
        self.keep = keep
        self._jobs: OrderedDict[str, CompareJob] = OrderedDict()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="staffplan-compare")

    def start(self, chosen: tuple[int, ...]) -> tuple[CompareJob, bool]:
        """Start comparing the scenarios at positions ``chosen`` of the workspace's
        ``compare_choices``; (the job, True) — or (the running one, False) while another runs.
        """
        choices = self.workspace.compare_choices
        bad = [i for i in chosen if not 0 <= i < len(choices)]
        if bad or not chosen or len(set(chosen)) != len(chosen):
            from staffplan.errors import InputError

            raise InputError(
                "bad scenario choice",
                column="s",
                expected=f"distinct positions 0-{len(choices) - 1} of the listed scenarios",
                found=", ".join(str(i) for i in chosen) or "none",
            )
        with self._lock:
            running = next((j for j in self._jobs.values() if not j.finished.is_set()), None)
            if running is not None:
                return running, False
            job = CompareJob(chosen, tuple(choices[i].name for i in chosen))
            self._jobs[job.id] = job
            while len(self._jobs) > self.keep:
                self._jobs.popitem(last=False)
        self._pool.submit(self._run, job)
        return job, True

    def get(self, job_id: str) -> CompareJob | None:
        with self._lock:
            return self._jobs.get(job_id)

    def latest(self) -> CompareJob | None:
        """The newest comparison (running or not), if any."""
        with self._lock:
            return next(reversed(self._jobs.values()), None)

    def _run(self, job: CompareJob) -> None:
        def echo(line: str) -> None:
            name = line.split(":", 1)[0]
            done = job.names.index(name) if name in job.names else job.finished_runs
            job._set(line=line, current=name, finished_runs=done)

        job._set(state="running", started=time.monotonic())
        try:
            result = self.workspace.compare_scenarios(job.chosen, echo)
            job._set(
                state="done",
                result=result,
                finished_runs=len(job.names),
                current="",
                ended=time.monotonic(),
            )
        except StaffplanError as exc:
            job._set(state="failed", error=str(exc), ended=time.monotonic())
        except Exception as exc:  # noqa: BLE001 - reported on the page, never as a traceback
            job._set(
                state="failed",
                error=f"internal error: {type(exc).__name__}: {exc}",
                ended=time.monotonic(),
            )
        finally:
            job.finished.set()

    def shutdown(self) -> None:
        """Stop taking comparisons; a running one ends with its scenarios' time limits."""
        self._pool.shutdown(wait=False, cancel_futures=True)
