"""Planning runs shipped as data, run on a backend, written into output folders.

A :class:`Bundle` is a scenario as data: its merged document, with every data
file it names replaced by a name inside the bundle, and the bytes of those
files. A :class:`Job` is one run of a bundle with a few keys overridden (a
sweep point) and the run options; both are frozen and picklable, so any
backend (:mod:`staffplan.backends`) can run :func:`run_job` anywhere: the
worker writes the files into a temporary folder, validates the document and
runs :func:`staffplan.pipeline.run` and :func:`~staffplan.pipeline.write_outputs`
there, and sends back the run's summary and the bytes of every output file.

:func:`run_jobs` reuses a folder whose ``summary.json`` carries the job's
cache key (the same fingerprint ``compare`` uses), sends the rest to the
backend, and writes each result as its folder, swapped in whole like a
``staffplan run`` folder.
"""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from staffplan.backends import Backend, Done, Event, Failed, Task, run_tasks
from staffplan.errors import ScenarioError, StaffplanError
from staffplan.scenario import Scenario, from_document
from staffplan.settings import solve_settings

KeyPath = tuple[str | int, ...]
"""A key's place in a scenario document: table names, list indexes, then the key."""


@dataclass(frozen=True)
class RunOptions:
    """Options of one run: time limit [s], CP-SAT workers [threads], seed; None = the scenario's
    ``[solver]`` value. ``deterministic``: the limit is deterministic time (same roster under any
    load); ``simulate``: add the discrete-event simulation; ``lang``: the report's language
    (presentation only: not in the cache key, as for ``staffplan run``).
    """

    time_limit_s: float | None = None
    workers: int | None = None
    seed: int | None = None
    deterministic: bool = False
    simulate: bool = False
    lang: str = "en"

    def cache_key(self) -> dict[str, Any]:
        """The options that change a run's outputs (with the fingerprint: the reuse key);
        ``deterministic`` only when set, so folders written before it existed stay reusable.
        """
        key = {
            "time_limit": self.time_limit_s,
            "workers": self.workers,
            "seed": self.seed,
            "simulate": self.simulate,
        }
        return {**key, "deterministic": True} if self.deterministic else key


@dataclass(frozen=True)
class Bundle:
    """A scenario as data: ``document`` (merged, ``[data]`` entries name files of the bundle) and
    ``files`` (bundle name, bytes).
    """

    name: str
    document: Mapping[str, Any]
    files: tuple[tuple[str, bytes], ...]


@dataclass(frozen=True)
class Job:
    """One run: bundle ``bundle`` (an index into the shared bundles) with ``overrides`` (key path,
    value) applied, run with ``options``.
    """

    bundle: int
    overrides: tuple[tuple[KeyPath, Any], ...] = ()
    options: RunOptions = field(default_factory=RunOptions)


@dataclass(frozen=True)
class JobResult:
    """What a worker sends back: the run's summary and output files (path in the folder, bytes),
    or the one-line ``error`` of a run its inputs made impossible (e.g. no feasible roster).
    """

    summary: Mapping[str, Any] | None
    files: tuple[tuple[str, bytes], ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class JobOutcome:
    """A job's end: its folder and summary, or its error.

    ``attempts``: how often it ran (0 = reused from the folder); ``input_error``: the
    error came from the inputs (reported as bad input, not retried); ``host``: where it ran.
    """

    folder: Path
    summary: Mapping[str, Any] | None
    reused: bool = False
    attempts: int = 0
    error: str | None = None
    input_error: bool = False
    host: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.summary is not None


def bundle(scenario: Scenario) -> Bundle:
    """Pack ``scenario``'s merged document and the bytes of every data file it names."""
    doc = copy.deepcopy(dict(scenario.raw))
    doc["name"] = scenario.name
    doc.pop("extends", None)
    data = dict(doc.get("data", {}))
    files: list[tuple[str, bytes]] = []
    for key in sorted(data):
        names = []
        for i, path in enumerate(scenario.files(key)):
            if not path.is_file():
                raise ScenarioError(
                    "data file not found",
                    file=scenario.path,
                    key=f"data.{key}",
                    expected="an existing file",
                    found=str(path),
                )
            names.append(f"{key}/{i}/{path.name}")
            files.append((names[-1], path.read_bytes()))
        data[key] = names if isinstance(data[key], list) else names[0]
    if data:
        doc["data"] = data
    return Bundle(scenario.name, doc, tuple(files))


def with_overrides(document: Mapping[str, Any], overrides: Sequence[tuple[KeyPath, Any]]) -> dict:
    """A copy of ``document`` with each (key path, value) set; missing tables are created."""
    doc = copy.deepcopy(dict(document))
    for path, value in overrides:
        node: Any = doc
        for part, nxt in zip(path[:-1], path[1:], strict=True):
            if isinstance(part, int):
                node = node[part] if isinstance(node, list) else node
                continue
            child = node.get(part)
            if child is None:
                child = [] if isinstance(nxt, int) else {}
                node[part] = child
            node = child
        node[path[-1]] = value
    return doc


def _unpack(b: Bundle, folder: Path) -> dict[str, Any]:
    """Write the bundle's files under ``folder``; its document with absolute data paths."""
    for name, data in b.files:
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    doc = copy.deepcopy(dict(b.document))
    if "data" in doc:
        doc["data"] = {
            k: [str(folder / n) for n in v] if isinstance(v, list) else str(folder / v)
            for k, v in doc["data"].items()
        }
    return doc


def run_job(bundles: Sequence[Bundle], job: Job) -> JobResult:
    """Run ``job`` in this process (the task every backend runs; see the module doc)."""
    from staffplan.i18n import Lang
    from staffplan.pipeline import run, write_outputs

    with tempfile.TemporaryDirectory(prefix="staffplan-job-") as tmp:
        root = Path(tmp)
        b = bundles[job.bundle]
        doc = with_overrides(_unpack(b, root / "data"), job.overrides)
        o = job.options
        try:
            sc = from_document(doc, root / "scenario.toml")
            result = run(
                sc,
                time_limit_s=o.time_limit_s,
                workers=o.workers,
                seed=o.seed,
                deterministic=o.deterministic,
                simulate=o.simulate,
            )
            out = root / "out"
            write_outputs(result, out, None, Lang(o.lang))
        except StaffplanError as exc:
            return JobResult(None, error=str(exc).replace(str(root), f"<{b.name}>"))
        files = tuple(
            (p.relative_to(out).as_posix(), p.read_bytes())
            for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != "summary.json"
        )
        return JobResult({**result.summary, "stage_seconds": dict(result.stage_seconds)}, files)


def job_cpus(scenario: Scenario, options: RunOptions) -> int:
    """CPUs [cores] a run's solve uses: its CP-SAT workers, as
    :func:`staffplan.settings.solve_settings` assembles them."""
    return solve_settings(scenario, {"workers": options.workers}).workers


def write_folder(folder: Path, files: Sequence[tuple[str, bytes]], summary: Mapping) -> None:
    """Write a run's output files and its summary.json as folder ``folder``, swapped in whole
    (:func:`staffplan.io.atomic.staged_folder`, as ``staffplan run`` writes its folder).
    """
    from staffplan.io.atomic import staged_folder, write_bytes, write_json

    with staged_folder(folder) as tmp:
        for name, data in files:
            write_bytes(tmp / name, data)
        write_json(tmp / "summary.json", dict(summary))


def run_jobs(
    jobs: Sequence[tuple[Job, Scenario, Path]],
    bundles: Sequence[Bundle],
    backend: Backend,
    *,
    reuse: bool = True,
    retries: int = 1,
    on_event: Callable[[Event], None] | None = None,
    on_reuse: Callable[[int], None] | None = None,
) -> list[JobOutcome]:
    """Run each (job, its scenario as validated here, output folder); one outcome per job, in
    order.

    A folder whose summary.json matches the job's cache key is reused (``on_reuse`` hears its
    index); the others run on ``backend`` (task key = index), each failed one again up to
    ``retries`` times; each finished run's folder is written as its result arrives, before
    ``on_event`` hears of it.
    """
    from staffplan.pipeline import cached_summary, check_out_folder, fingerprint

    for _, sc, folder in jobs:  # every folder checked before any work
        check_out_folder(folder, [sc])
    outcomes: dict[int, JobOutcome] = {}
    keys: dict[int, str] = {}
    tasks = []
    for i, (job, sc, folder) in enumerate(jobs):
        keys[i] = fingerprint(sc, job.options.cache_key())
        cached = cached_summary(folder, keys[i]) if reuse else None
        if cached is not None:
            outcomes[i] = JobOutcome(folder, {**cached, "out": str(folder)}, reused=True)
            if on_reuse is not None:
                on_reuse(i)
        else:
            tasks.append(Task(i, job, job_cpus(sc, job.options)))

    def record(ev: Event) -> None:  # each result is written as it arrives
        if isinstance(ev, Done) and ev.value.summary is not None:
            folder = jobs[ev.key][2]
            summary = {**ev.value.summary, "cache_key": keys[ev.key], "out": str(folder)}
            summary["reused"] = False
            write_folder(folder, ev.value.files, summary)
            outcomes[ev.key] = JobOutcome(folder, summary, attempts=ev.attempt, host=ev.host)
        if on_event is not None:
            on_event(ev)

    final = run_tasks(backend, run_job, tuple(bundles), tasks, retries=retries, on_event=record)
    for i, ev in final.items():
        folder = jobs[i][2]
        if isinstance(ev, Failed):
            outcomes[i] = JobOutcome(
                folder, None, attempts=ev.attempt, error=ev.error, host=ev.host
            )
        elif ev.value.summary is None:
            outcomes[i] = JobOutcome(
                folder,
                None,
                attempts=ev.attempt,
                error=ev.value.error,
                input_error=True,
                host=ev.host,
            )
    return [outcomes[i] for i in range(len(jobs))]
