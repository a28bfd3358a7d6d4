"""The web workspace's one door into the engine.

Every page and API call of ``staffplan serve`` reaches cover, validation, KPIs, diffs, exports
and comparison through this module, and this module calls the functions the CLI commands call:
``cover.repair`` (``cover``), ``pipeline.check_scenario_roster`` (``validate``),
``publishing.publish_checked`` (``publish``), ``evaluate.kpis`` and
``pipeline.roster_summary`` / ``compare_table`` (``run``, ``compare``), ``io.roster_csv``
(``versions``), ``report.version_files`` (``versions --export``). When those move, this is the
one place to follow them. Nothing here plans, checks or scores on its own.

The roster problem (team, rules and the forecast's requirements) is loaded once when the
workspace opens: the scenario's files are taken as they were then.
"""

from __future__ import annotations

import datetime as dt
import io
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from staffplan.errors import InputError
from staffplan.io.roster_csv import ROSTER_COLUMNS, change_text, diff_rosters, roster_as_text
from staffplan.store import (
    PlanBase,
    PlanStore,
    RecordedAbsence,
    Version,
    store_path,
)
from staffplan.web.whatif import scenario_choices

#: Absence kinds a sick call may record (those that keep the agent off work).
CALL_KINDS: tuple[str, ...] = ("sick", "vacation", "day_off", "other")

#: Columns of :meth:`Workspace.day_kpis`.
DAY_COLUMNS: tuple[str, ...] = (
    "queue",
    "date",
    "required_hours",
    "scheduled_hours",
    "available_hours",
    "below_target",
    "service_level",
)

#: Versions whose KPIs are kept in memory (versions never change, so nothing goes stale).
KPI_CACHE_SIZE = 16

#: Wall time a sick-call proposal keeps back from the repair's budget [s], and as a share of its
#: limit, whichever is more: room for the answer and for a repair that overruns its own limit a
#: little on a loaded machine.
ANSWER_RESERVE_S = 0.25
ANSWER_RESERVE_SHARE = 0.1

#: ``pyplot`` keeps global state: one chart at a time.
_CHARTS = threading.Lock()


@dataclass(frozen=True, eq=False)
class RosterKpis:
    """A roster scored the engine's way.

    ``coverage``: interval_start (ISO 8601 local), queue, required (the coverage target),
    scheduled (on-phone heads allocated to the queue), difference, available (heads expected
    after residual shrinkage) [agents] — the coverage.csv columns. ``intervals``: per interval
    and real-time queue, ``evaluate.kpis.interval_kpis``' columns (volume [contacts], agents,
    available, promised service_level [fraction], asa_s [s], ...). ``week``: per queue and
    ``all`` (``evaluate.kpis.week_kpis``). ``summary``: ``pipeline.roster_summary``.
    ``days``: :meth:`Workspace.day_kpis`, for a stored version (None for a draft).
    """

    coverage: pd.DataFrame
    intervals: pd.DataFrame
    week: pd.DataFrame
    summary: Mapping[str, Any]
    days: pd.DataFrame | None = None


@dataclass(frozen=True, eq=False)
class Proposal:
    """A sick-call cover proposed against version ``base_version`` (not yet applied)."""

    base_version: int
    absences: tuple[Any, ...]  # staffplan.cover.settings.NewAbsence
    now: pd.Timestamp
    result: Any  # staffplan.cover.result.CoverResult
    start: Any  # staffplan.cover.start.CoverStart: the absences to store and link

    def as_json(self, version: Version | None = None) -> dict[str, Any]:
        """The object ``staffplan cover --json`` prints, plus ``version`` once applied."""
        doc: dict[str, Any] = {
            **self.result.summary(),
            "base_version": self.base_version,
            "covered": [a.text for a in self.absences],
            "recorded_absences": len(self.start.applied),
            "applied": version.as_dict() if version else None,
            "files": {},
        }
        if version is not None:
            doc["version"] = version.number
        return doc


class Workspace:
    """One scenario: its plan store, and the roster problem every page and call reads."""

    def __init__(
        self,
        scenario_path: str | Path,
        *,
        cover_time_limit_s: float = 10.0,
        workers: int | None = None,
        seed: int | None = None,
        deterministic: bool = False,
        compare: Sequence[str | Path] | None = None,
        compare_out: str | Path = Path("out") / "compare",
    ) -> None:
        from staffplan.pipeline import requirements_for
        from staffplan.roster.load import load_problem
        from staffplan.scenario import load

        if cover_time_limit_s <= 0:
            raise InputError(
                "bad time limit",
                column="--time-limit",
                expected="seconds > 0",
                found=cover_time_limit_s,
            )
        self.scenario = load(scenario_path)
        self.store = PlanStore(store_path(self.scenario))
        self.problem = load_problem(self.scenario, requirements_for(self.scenario))
        self.cover_time_limit_s = float(cover_time_limit_s)
        self.workers = workers
        self.seed = seed
        self.deterministic = deterministic
        #: the scenarios the Compare page may run, the served one first (see
        #: :func:`scenario_choices`); requests choose among them by position
        self.compare_choices = scenario_choices(self.scenario, compare)
        #: where each compared scenario's run outputs go (``<compare_out>/<name>/``)
        self.compare_out = Path(compare_out)
        #: held while a repair runs: at most one repair of this scenario at a time
        self.repair_lock = threading.Lock()
        self._kpis: dict[int, RosterKpis] = {}
        self._violations: dict[tuple[int, tuple[int, ...]], list[Any]] = {}
        self._kpi_lock = threading.Lock()

    # ---- reading ---------------------------------------------------------------------------
    @property
    def grid(self) -> Any:
        return self.scenario.grid

    def agents(self) -> tuple[Any, ...]:
        """The team (``io.team.Agent``), hires included, in the engine's order."""
        return self.problem.agents

    def versions(self) -> tuple[Version, ...]:
        return self.store.versions()

    def base(self, number: int | None = None) -> PlanBase:
        """Version ``number`` (default the latest) with every recorded absence."""
        return self.store.base(number)

    def known_violations(self, number: int) -> pd.DataFrame:
        return self.store.violations(number).drop(columns="version")

    def absences(self, base: PlanBase) -> tuple[Any, ...]:
        """Every absence a page shows for ``base``: the scenario's and the recorded ones
        (``io.team.Absence``, local times).
        """
        return (*self.problem.absences, *base.team_absences(self.grid.zone))

    # ---- KPIs ------------------------------------------------------------------------------
    def kpis(self, number: int, base: PlanBase | None = None) -> RosterKpis:
        """KPIs of stored version ``number`` with every recorded absence (those of ``base``, a
        base of that version, else read now) taking its agent off the phones (:meth:`score`).
        Kept in memory while the recorded absences stay the same (a version never changes).
        """
        if base is None or base.version.number != number:
            base = self.store.base(number)
        key = (number, tuple(a.id for a in base.absences))
        with self._kpi_lock:
            hit = self._kpis.get(key)
        if hit is not None:
            return hit
        scored = self.score(base.roster, base.absences)
        out = replace(scored, days=self.day_kpis(scored))
        with self._kpi_lock:
            if len(self._kpis) >= KPI_CACHE_SIZE:
                self._kpis.pop(next(iter(self._kpis)))
            self._kpis[key] = out
        return out

    def score(self, roster: pd.DataFrame, absences: Sequence[RecordedAbsence] = ()) -> RosterKpis:
        """Score roster.csv rows the engine's way, reading a plan as ``cover`` reads one.

        Each row is on the phones in the intervals it covers clear of breaks and activities
        (``extract.row_on_phone``) and serves the queues its ``queues`` cell names (as the
        simulation reads them; the agent's skills when blank). A multi-skilled agent serves the
        queue the engine's rule gives it (``extract.assign_queues``) except in the spans its
        row's ``assignments`` cell names (a cover's reassignments, read as
        ``cover.published.published_assignment`` reads them). An agent of a recorded absence in
        ``absences`` answers nothing over it (``cover.published.absent_masks``, as the cover's
        "no action" and "after" counts). Then ``evaluate.kpis.roster_kpis`` and
        ``pipeline.roster_summary``. For a roster the engine wrote, without absences, this is
        its coverage.csv and KPIs exactly (the rows of one agent never share an interval).
        """
        from staffplan.cover.published import ASSIGN_COLUMN, absent_masks, named_spans
        from staffplan.cover.settings import NewAbsence
        from staffplan.evaluate.kpis import INTERVAL_COLUMNS, roster_kpis, week_kpis
        from staffplan.pipeline import roster_summary
        from staffplan.roster.extract import (
            assign_queues,
            queue_counts,
            queue_moves,
            queue_stays,
            row_elapsed,
            row_on_phone,
        )

        p, grid = self.problem, self.grid
        order = {a.id: i for i, a in enumerate(p.agents)}
        team = {a.id: a for a in p.agents}
        qindex = {q: k for k, q in enumerate(p.demand.queues)}
        text = roster_as_text(roster)
        recs = sorted(
            (r for r in text.to_dict(orient="records") if r["agent_id"] in order),
            key=lambda r: (order[r["agent_id"]], r["date"]),
        )
        on = np.zeros((len(recs), grid.n), dtype=bool)
        queues: list[tuple[int, ...]] = []
        for i, r in enumerate(recs):
            on[i] = row_on_phone(
                grid, r["start"], r["end"], r.get("breaks", ""), r.get("activities", "")
            )
            named = tuple(s.strip() for s in str(r.get("queues", "")).split("|") if s.strip())
            agent = team[r["agent_id"]]
            queues.append(p.agent_queues(replace(agent, skills=named) if named else agent))
        required = p.demand.required
        assigned = assign_queues(on, queues, required)
        gone = absent_masks(
            p,
            tuple(
                NewAbsence(a.agent_id, *a.span(grid.zone), a.kind)
                for a in absences
                if a.agent_id in order
            ),
        )
        im = grid.interval_min
        for i, r in enumerate(recs):
            cell = r.get(ASSIGN_COLUMN, "")
            if len(queues[i]) > 1 and cell:
                e0, _, clock0 = row_elapsed(grid, r["start"], r["end"])
                for name, s, e in named_spans(cell, e0, clock0):
                    if qindex.get(name) in queues[i]:
                        ts = np.arange(s // im, min(e // im, grid.n))
                        assigned[i, ts[on[i, ts]]] = qindex[name]
            if r["agent_id"] in gone:
                assigned[i, gone[r["agent_id"]]] = -1
        nq, n = required.shape
        alloc = queue_counts(assigned, nq)
        coverage = pd.DataFrame(
            {
                "interval_start": np.tile(
                    np.array([t.isoformat() for t in grid.starts], dtype=object), nq
                ),
                "queue": np.repeat(np.array(p.demand.queues, dtype=object), n),
                "required": required.ravel(),
                "scheduled": alloc.ravel(),
            }
        )
        coverage["difference"] = coverage["scheduled"] - coverage["required"]
        coverage["available"] = p.demand.available(alloc).ravel()
        stays = queue_stays(assigned, nq)
        coverage["stayed"] = stays.ravel()
        scored = roster_kpis(p, alloc, self.scenario, stays, queue_moves(assigned, nq))
        if scored is None:
            per = pd.DataFrame(columns=list(INTERVAL_COLUMNS))
            week = week_kpis(per, grid.interval_min)
        else:
            per, week = scored
        summary = roster_summary(self.scenario, p, text, coverage, week, per)
        return RosterKpis(coverage, per, week, summary)

    def day_kpis(self, kpis: RosterKpis) -> pd.DataFrame:
        """Per queue and local day: required, scheduled and available agent-hours [h], the
        intervals whose promised service level is below the queue's target
        (``evaluate.kpis.target_gaps``, as the summary counts them) and the day's service level
        (``evaluate.kpis.week_kpis`` over the day's intervals) [fraction].
        """
        from staffplan.evaluate.kpis import target_gaps, week_kpis

        grid = self.grid
        interval_h = grid.interval_min / 60.0
        targets = self.targets()
        cov = kpis.coverage.assign(date=[t[:10] for t in kpis.coverage["interval_start"]])
        per = kpis.intervals.assign(
            date=[str(t)[:10] for t in kpis.intervals["interval_start"]],
        )
        rows = []
        for (queue, date), g in cov.groupby(["queue", "date"], sort=False):
            day = per[(per["queue"] == queue) & (per["date"] == date)]
            sl = week_kpis(day, grid.interval_min) if len(day) else None
            gaps = target_gaps(day, targets) if len(day) else None
            rows.append(
                {
                    "queue": queue,
                    "date": date,
                    "required_hours": float(g["required"].sum()) * interval_h,
                    "scheduled_hours": float(g["scheduled"].sum()) * interval_h,
                    "available_hours": float(g["available"].sum()) * interval_h,
                    "below_target": int(gaps["below_target"].sum())
                    if gaps is not None and len(gaps)
                    else 0,
                    "service_level": float(sl.iloc[-1]["service_level"])
                    if sl is not None
                    else float("nan"),
                }
            )
        return pd.DataFrame(rows, columns=list(DAY_COLUMNS))

    def targets(self) -> dict[str, float | None]:
        """Each queue's service-level target [fraction] (None for deferred work)."""
        return {
            q.name: (q.service_level if q.answer_within_s is not None else None)
            for q in self.scenario.queues
        }

    # ---- validation and editing ------------------------------------------------------------
    def validate(self, roster: pd.DataFrame, base: PlanBase | None = None) -> list[Any]:
        """Every hard-rule violation of ``roster`` (``staffplan validate``'s checker) with the
        recorded absences (those of ``base``, else the store's).
        """
        from staffplan.pipeline import check_scenario_roster
        from staffplan.store import team_absences

        recorded = base.absences if base is not None else self.store.absences()
        _, violations = check_scenario_roster(
            self.scenario, roster_as_text(roster), team_absences(recorded, self.grid.zone)
        )
        return violations

    def version_violations(self, base: PlanBase) -> list[Any]:
        """:meth:`validate` of ``base``'s own roster, kept while the recorded absences stay the
        same (the version never changes; the absences may).
        """
        key = (base.version.number, tuple(a.id for a in base.absences))
        with self._kpi_lock:
            hit = self._violations.get(key)
        if hit is None:
            hit = self.validate(base.roster, base)
            with self._kpi_lock:
                if len(self._violations) >= KPI_CACHE_SIZE:
                    self._violations.pop(next(iter(self._violations)))
                self._violations[key] = hit
        return list(hit)

    def templates_for(self, agent_id: str) -> tuple[Any, ...]:
        """The shift templates the agent's contract allows (``io.team.ShiftTemplate``)."""
        agent = self.agent(agent_id)
        contract = self.problem.contracts[agent.contract]
        return tuple(t for t in self.problem.templates if contract.allows(t.id))

    def agent(self, agent_id: str) -> Any:
        for a in self.problem.agents:
            if a.id == agent_id:
                return a
        raise InputError(
            "unknown agent", column="agent", expected="an agent_id from agents.csv", found=agent_id
        )

    def queue_names(self, agent_id: str) -> tuple[str, ...]:
        """The queues the agent can serve, in the agent's priority order."""
        p = self.problem
        return tuple(p.demand.queues[q] for q in p.agent_queues(self.agent(agent_id)))

    def edit(
        self,
        roster: pd.DataFrame,
        agent_id: str,
        date: str,
        *,
        template: str | None,
        start: str | None = None,
        queues: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """``roster`` with one agent-day changed: a day off (``template`` None) or ``template``
        starting at ``start`` (``HH:MM`` local; breaks at their windows' midpoints, as a cover's
        new shifts get them) serving ``queues`` (default all the agent's). The row is written by
        the engine's own ``extract.roster_frame``; nothing is checked here (see :meth:`validate`).
        """
        from staffplan.roster.breaks import Worked, place_breaks
        from staffplan.roster.build import agent_blocks
        from staffplan.roster.extract import roster_frame
        from staffplan.roster.problem import Variant

        p, grid = self.problem, self.grid
        self.agent(agent_id)
        try:
            day = (dt.date.fromisoformat(date) - grid.start).days
        except ValueError:
            raise InputError(
                "bad date", column="date", expected="a date YYYY-MM-DD", found=date
            ) from None
        if not 0 <= day < grid.days:
            raise InputError(
                "date outside the planning horizon",
                column="date",
                expected=f"a date from {grid.start} to {grid.dates()[-1]}",
                found=date,
            )
        text = roster_as_text(roster)
        keep = text[~((text["agent_id"] == agent_id) & (text["date"] == date))]
        if template is None:
            return keep.reset_index(drop=True)
        t = p.template_by_id.get(template)
        if t is None:
            raise InputError(
                "unknown shift template",
                column="template",
                expected="one of " + ", ".join(x.id for x in p.templates),
                found=template,
            )
        clock = _clock_minutes(start)
        variant = Variant(
            f"{t.id}@{clock // 60:02d}{clock % 60:02d}", t.id, clock, t.length_min, t.paid_minutes
        )
        e0 = p.start_elapsed(day, clock)
        worked = Worked(agent_id, day, variant, e0, e0 + t.length_min)
        _, activity = agent_blocks(p)
        acts = {agent_id: list(activity.get(agent_id, []))}
        row = roster_frame(p, [worked], place_breaks(p, [worked], acts, passes=0), acts)
        if queues is not None:
            allowed = self.queue_names(agent_id)
            wrong = [q for q in queues if q not in allowed]
            if wrong or not queues:
                raise InputError(
                    "queue the agent cannot serve" if wrong else "no queue",
                    column="queues",
                    expected="some of " + ", ".join(allowed),
                    found=", ".join(wrong) or "none",
                )
            row["queues"] = "|".join(q for q in allowed if q in queues)
        both = pd.concat([keep, roster_as_text(row)], ignore_index=True).fillna("")
        return roster_as_text(both.sort_values(["agent_id", "date"], kind="stable")).reset_index(
            drop=True
        )

    def publish(
        self,
        roster: pd.DataFrame,
        *,
        base_version: int,
        author: str | None,
        note: str,
        force: bool = False,
    ) -> Any:
        """Publish an edited roster as the version after ``base_version`` (``staffplan
        publish``'s checks; refused with ``ConflictError`` if another version came first).
        Returns ``publishing.Published``.
        """
        from staffplan.publishing import publish_checked

        return publish_checked(
            self.scenario,
            self.store,
            roster,
            note=note,
            author=author,
            force=force,
            expect_latest=base_version,
            source=f"edit of version {base_version}",
        )

    # ---- cover -----------------------------------------------------------------------------
    def propose_cover(
        self,
        absent: Sequence[str],
        now: str,
        *,
        base_version: int | None = None,
        kind: str = "sick",
        time_limit_s: float | None = None,
        on_wait: Callable[[], None] | None = None,
        on_start: Callable[[], None] | None = None,
    ) -> Proposal:
        """``staffplan cover``'s repair of version ``base_version`` (default the latest) after
        the ``absent`` absences (``AGENT:DATE`` or ``AGENT:FROM/TO``) from ``now`` (ISO local).

        At most one repair of this scenario runs at a time (:attr:`repair_lock`): while another
        one runs this waits, calling ``on_wait()`` first; ``on_start()`` is called when its own
        repair starts. ``time_limit_s`` (default the workspace's) bounds the whole proposal from
        then on: the repair gets what reading the version left, less :data:`ANSWER_RESERVE_S` or
        :data:`ANSWER_RESERVE_SHARE` of the limit, whichever is more (in deterministic mode the
        limit is the solver's deterministic time, as ``cover --deterministic`` has it, and all of
        it goes to the repair).
        """
        from staffplan.cover.repair import repair
        from staffplan.cover.settings import cover_settings, parse_absent, parse_now
        from staffplan.cover.start import cover_start
        from staffplan.settings import SolveSettings

        t0 = time.perf_counter()

        if kind not in CALL_KINDS:
            raise InputError(
                "unknown absence kind",
                column="kind",
                expected="one of " + ", ".join(CALL_KINDS),
                found=kind,
            )
        if not absent:
            raise InputError(
                "no absence", column="absent", expected="at least one AGENT:DATE or AGENT:FROM/TO"
            )
        limit = self.cover_time_limit_s if time_limit_s is None else float(time_limit_s)
        if not 0 < limit <= 600:
            raise InputError(
                "bad time limit", column="time_limit_s", expected="seconds in (0, 600]", found=limit
            )
        grid = self.grid
        absences = tuple(parse_absent(a, grid, kind=kind) for a in absent)
        when = parse_now(now, grid)
        scen = self.scenario
        cover = cover_settings(scen.section("cover"), file=scen.path)
        if not self.repair_lock.acquire(blocking=False):
            if on_wait is not None:
                on_wait()
            self.repair_lock.acquire()
            t0 = time.perf_counter()
        try:
            if on_start is not None:
                on_start()
            start = cover_start(self.store.base(base_version), absences, grid.zone)
            base, published = start.base.version.number, start.base.roster
            budget = limit
            if not self.deterministic:
                reserve = max(ANSWER_RESERVE_S, ANSWER_RESERVE_SHARE * limit)
                budget = max(limit - (time.perf_counter() - t0) - reserve, 0.1 * limit)
            settings = SolveSettings(
                time_limit_s=budget,
                workers=min(self.workers or scen.solver.workers, 2),
                seed=scen.solver.seed if self.seed is None else self.seed,
                deterministic=self.deterministic,
            )
            result = repair(
                self.problem,
                published,
                start.repaired,
                when,
                settings=cover,
                solve_settings=settings,
                scenario=scen,
                recorded=start.applied,
            )
        finally:
            self.repair_lock.release()
        return Proposal(base, start.repaired, when, result, start)

    def apply_cover(self, proposal: Proposal, *, author: str | None, note: str = "") -> Version:
        """Store a proposal as a new version (kind ``cover``, parent its base, its absences
        recorded and linked); ``ConflictError`` if its base is no longer the latest.
        """
        why = note.strip() or "cover: " + ", ".join(a.text for a in proposal.absences)
        return self.store.publish(
            proposal.result.roster,
            note=why,
            author=author,
            kind="cover",
            parent=proposal.base_version,
            expect_latest=proposal.base_version,
            changes=proposal.result.change_log,
            absences=proposal.start.records(note.strip()),
            link=proposal.start.pending_ids,
        )

    # ---- versions ----------------------------------------------------------------------------
    def diff(self, old: int, new: int) -> pd.DataFrame:
        """The change log from version ``old`` to ``new`` (``io.roster_csv.diff_rosters``, phone
        order) with each change in words (column ``text``).
        """
        log = diff_rosters(self.store.roster(old), self.store.roster(new))
        log["text"] = [change_text(r) for r in log.to_dict(orient="records")]
        return log

    def changes(self, number: int) -> pd.DataFrame:
        """Version ``number``'s stored change log with each change in words (``text``)."""
        log = self.store.changes(number)
        log["text"] = [change_text(r) for r in log.to_dict(orient="records")]
        return log

    def export(self, number: int, what: str) -> tuple[str, bytes, str]:
        """(file name, bytes, media type) of version ``number``: ``csv`` (roster.csv), ``xlsx``
        (roster.xlsx with the changes, absences, violations and version sheets) or ``ics`` (every
        agent's calendar in a zip), as ``staffplan versions --export N DIR`` writes them.
        """
        from staffplan.report.version_files import write_version_files

        if what not in ("csv", "xlsx", "ics"):
            raise InputError("unknown export", column="format", expected="csv, xlsx or ics")
        base = self.store.base(number)
        stem = f"{self.scenario.name}-v{number}"
        with tempfile.TemporaryDirectory(prefix="staffplan-export-") as tmp:
            files = write_version_files(
                tmp,
                base,
                scenario=self.scenario.name,
                grid=self.grid,
                team=self.problem.agents,
                absences=self.absences(base),
                changes=self.store.changes(number).drop(columns="version"),
                violations=self.known_violations(number),
            )
            if what == "csv":
                return f"{stem}.csv", files.roster_csv.read_bytes(), "text/csv; charset=utf-8"
            if what == "xlsx":
                return (
                    f"{stem}.xlsx",
                    files.roster_xlsx.read_bytes(),
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                )
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
                for path in sorted(files.calendars):
                    info = zipfile.ZipInfo(f"{stem}/{path.name}", date_time=(1980, 1, 1, 0, 0, 0))
                    info.compress_type = zipfile.ZIP_DEFLATED
                    z.writestr(info, path.read_bytes())
            return f"{stem}-calendars.zip", buf.getvalue(), "application/zip"

    # ---- compare -----------------------------------------------------------------------------
    def compare(
        self, numbers: Sequence[int], labels: Mapping[str, str]
    ) -> tuple[pd.DataFrame, str, str]:
        """``staffplan compare``'s table (``pipeline.compare_table``, one column per version,
        differences to the first) and its two overlaid charts (``report.html.overlay_chart``:
        scheduled agents and service level per interval) as PNG data URIs. ``labels``: chart
        texts (``scheduled``, ``agents``, ``service_level``, ``sl``) in the page's language.
        """
        from staffplan.pipeline import compare_table
        from staffplan.report.html import overlay_chart

        summaries, coverage, service = [], {}, {}
        for n in numbers:
            k = self.kpis(n)
            name = f"v{n}"
            summaries.append({"scenario": name, **k.summary})
            cov = k.coverage.assign(interval_start=_local_times(k.coverage["interval_start"]))
            coverage[name] = cov
            service[name] = k.intervals.assign(
                interval_start=_local_times(k.intervals["interval_start"])
            )
        table = compare_table(summaries)
        with _CHARTS:
            scheduled = overlay_chart(coverage, "scheduled", labels["agents"], labels["scheduled"])
            sl = overlay_chart(service, "service_level", labels["sl"], labels["service_level"])
        return table, scheduled, sl

    def compare_scenarios(
        self, chosen: Sequence[int], echo: Callable[[str], None] | None = None
    ) -> Any:
        """``staffplan compare`` of the scenarios at positions ``chosen`` of
        :attr:`compare_choices` (the first is the baseline) with their own solver settings, as
        ``staffplan compare A B --out <compare_out>`` runs them: ``comparison.run_one`` into
        ``<compare_out>/<name>/``, reusing a folder whose cache key (``pipeline.fingerprint``)
        still matches, one scenario after another; ``echo`` receives the progress lines.
        Returns ``comparison.Comparison``.
        """
        from staffplan.comparison import check_scenarios, collect, run_one

        picked = [self.compare_choices[i] for i in chosen]
        check_scenarios([c.path for c in picked])
        summaries = [
            run_one(
                str(c.path),
                str(self.compare_out / c.name),
                None,
                None,
                None,
                False,
                True,
                echo=echo,
            )
            for c in picked
        ]
        return collect(summaries)

    def comparison_charts(self, done: Any, labels: Mapping[str, str]) -> tuple[str, str]:
        """The compare report's two overlaid charts of a ``comparison.Comparison`` (scheduled
        agents, promised service level per interval) as PNG data URIs; ``labels`` as for
        :meth:`compare`.
        """
        from staffplan.report.html import overlay_chart

        with _CHARTS:
            scheduled = overlay_chart(
                done.coverage, "scheduled", labels["agents"], labels["scheduled"]
            )
            sl = overlay_chart(done.service, "service_level", labels["sl"], labels["service_level"])
        return scheduled, sl


def _clock_minutes(text: str | None) -> int:
    """``HH:MM`` -> minutes after midnight; :class:`InputError` otherwise."""
    try:
        t = dt.time.fromisoformat((text or "").strip())
    except ValueError:
        t = None
    if t is None or t.second or (text or "").count(":") != 1:
        raise InputError("bad start time", column="start", expected="HH:MM", found=text)
    return t.hour * 60 + t.minute


def _local_times(values: pd.Series) -> pd.Series:
    """ISO 8601 strings with offsets -> tz-aware timestamps (for charts)."""
    return pd.to_datetime(values, utc=True)


def frame_rows(rows: object) -> pd.DataFrame:
    """JSON roster rows (a list of objects with the roster.csv columns) as a roster frame;
    :class:`InputError` names the first row or key that is not one.
    """
    if not isinstance(rows, list) or not rows:
        raise InputError(
            "bad rows", column="rows", expected="a non-empty list of roster.csv rows (objects)"
        )
    for i, r in enumerate(rows, start=1):
        if not isinstance(r, dict):
            raise InputError(
                "bad row", row=i, column="rows", expected="an object", found=type(r).__name__
            )
        missing = [c for c in ROSTER_COLUMNS if c not in r]
        if missing:
            raise InputError(
                "row without its columns",
                row=i,
                column=missing[0],
                expected="the roster.csv columns " + ", ".join(ROSTER_COLUMNS),
            )
        bad = [
            k
            for k, v in r.items()
            if isinstance(v, bool) or not (v is None or isinstance(v, str | int | float))
        ]
        if bad:
            raise InputError("bad cell", row=i, column=str(bad[0]), expected="text or a number")
    return roster_as_text(pd.DataFrame(rows))
