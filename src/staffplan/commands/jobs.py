"""Shell helpers for commands that run planning jobs on a backend (``sweep``, ``compare``):
the progress bar and opening a backend.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from staffplan.backends import Backend, Done, Event, Failed, Started, make_backend
from staffplan.errors import StaffplanError
from staffplan.jobs import JobOutcome, JobResult, RunOptions

BAR_WIDTH = 20


def _pct(v: object) -> str:
    return "–" if v is None else f"{float(v):.1%}"  # type: ignore[arg-type]


def describe(value: JobResult) -> str:
    """One line on a finished run: status, cost, service level and gap (or its error)."""
    s = value.summary
    if s is None:
        return f"error: {value.error}"
    cost = s.get("cost")
    cost_text = "–" if cost is None else f"{float(cost):,.0f}"
    return (
        f"{s.get('status')}, cost {cost_text}, service level {_pct(s.get('service_level'))}, "
        f"gap {_pct(s.get('gap'))}"
    )


class ProgressBar:
    """Prints each event of a run of ``total`` jobs as one line on stderr: starts, and a bar with
    the count of finished jobs on each result; failures say whether they will be retried.
    """

    def __init__(
        self, labels: Mapping[int, str], total: int, *, retries: int = 1, quiet: bool = False
    ) -> None:
        self.labels = labels
        self.total = total
        self.retries = retries
        self.quiet = quiet
        self.finished = 0

    def _say(self, text: str) -> None:
        if not self.quiet:
            click.echo(text, err=True)

    def _bar(self) -> str:
        filled = round(BAR_WIDTH * self.finished / max(self.total, 1))
        width = len(str(self.total))
        return f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {self.finished:>{width}}/{self.total}"

    def reused(self, key: int) -> None:
        self.finished += 1
        self._say(f"{self._bar()}  {self.labels[key]}: inputs unchanged, reused")

    def __call__(self, ev: Event) -> None:
        label = self.labels[ev.key]
        if isinstance(ev, Started):
            again = f" (attempt {ev.attempt})" if ev.attempt > 1 else ""
            self._say(f"  started {label} on {ev.host}, pid {ev.pid}{again}")
        elif isinstance(ev, Done):
            self.finished += 1
            self._say(
                f"{self._bar()}  {label}: {describe(ev.value)} ({ev.seconds:.1f} s on {ev.host})"
            )
        elif isinstance(ev, Failed):
            if ev.attempt <= self.retries:
                self._say(f"  failed  {label} (attempt {ev.attempt}): {ev.error}; retrying")
            else:
                self.finished += 1
                self._say(f"{self._bar()}  {label}: FAILED after {ev.attempt} attempts: {ev.error}")


@contextmanager
def open_backend(name: str, address: str | None, cpus_per_job: Sequence[int]) -> Iterator[Backend]:
    """The backend for a command; the local pool runs as many jobs at once as the machine has
    cores for (each job uses its CPUs).

    While it is open, anything printed on stdout goes to stderr: stdout is for ``--json`` (Ray's
    driver prints notices such as a lost worker on stdout).
    """
    processes = max(1, (os.cpu_count() or 1) // max(cpus_per_job, default=1))
    with contextlib.redirect_stdout(sys.stderr):
        backend = make_backend(name, address=address, processes=min(processes, len(cpus_per_job)))
        try:
            yield backend
        finally:
            backend.close()


def run_scenarios(
    scenarios: Sequence[Any],
    folders: Sequence[Path],
    options: RunOptions,
    backend: str,
    address: str | None,
    *,
    reuse: bool,
    quiet: bool,
) -> list[dict[str, Any]]:
    """``compare``'s runs on a backend: each scenario shipped as data, its outputs written into its
    folder; the summaries in order. A run that failed (after a retry) is an error.
    """
    from staffplan.jobs import Job, bundle, job_cpus, run_jobs

    bundles = tuple(bundle(sc) for sc in scenarios)
    jobs = [
        (Job(i, (), options), sc, folder)
        for i, (sc, folder) in enumerate(zip(scenarios, folders, strict=True))
    ]
    bar = ProgressBar({i: sc.name for i, sc in enumerate(scenarios)}, len(jobs), quiet=quiet)
    with open_backend(backend, address, [job_cpus(sc, options) for sc in scenarios]) as be:
        outcomes = run_jobs(jobs, bundles, be, reuse=reuse, on_event=bar, on_reuse=bar.reused)
    fail_on_errors([(sc.name, o) for sc, o in zip(scenarios, outcomes, strict=True)])
    return [dict(o.summary or {}) for o in outcomes]


def fail_on_errors(named: Sequence[tuple[str, JobOutcome]]) -> None:
    """Raise for runs that ended in an error: bad input (exit 2) when every failure came from the
    inputs, else exit 1 (a worker or node lost twice, or an internal error).
    """
    bad = [(n, o) for n, o in named if not o.ok]
    if not bad:
        return
    text = "; ".join(f"{n}: {o.error}" for n, o in bad)
    if all(o.input_error for _, o in bad):
        raise StaffplanError(f"{len(bad)} of {len(named)} runs failed: {text}")
    click.echo(f"error: {len(bad)} of {len(named)} runs failed after a retry: {text}", err=True)
    raise click.exceptions.Exit(1)
