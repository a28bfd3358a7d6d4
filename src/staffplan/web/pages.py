"""The workspace's pages: Week, Sick call (form, progress, proposal, apply), Edit (form,
preview, publish), Versions (list, diff, downloads) and Compare. Each renders what
:mod:`staffplan.web.views` makes of the engine's answers through :mod:`staffplan.web.services`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any

import pandas as pd
from fastapi import FastAPI, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response

from staffplan.errors import InputError, RuleViolationError
from staffplan.i18n import KIND_TEXT
from staffplan.store import ConflictError
from staffplan.web import views
from staffplan.web.services import CALL_KINDS
from staffplan.web.site import Site


def register(app: FastAPI, site: Site) -> None:
    """Add the page routes to ``app``."""
    ws, jobs = site.ws, site.jobs
    render, lang_of, require_csrf = site.render, site.lang_of, site.require_csrf

    @app.get("/")
    def root() -> Response:
        return RedirectResponse("/week", status_code=303)

    @app.get("/week")
    def week(request: Request, version: int | None = None) -> Response:
        lang = lang_of(request)
        versions = ws.versions()
        if not versions:
            return render(request, "empty.html", "week")
        base = ws.base(version)
        n = base.version.number
        kpis = ws.kpis(n, base)
        known = ws.known_violations(n)
        pending = base.pending
        extra = [
            (lang.gettext("Known violations"), lang.number(len(known))),
            (lang.gettext("Pending absences"), lang.number(len(pending))),
        ]
        return render(
            request,
            "week.html",
            "week",
            versions=versions,
            base=base,
            days=[(d.isoformat(), lang.day(d), d.weekday() >= 5) for d in ws.grid.dates()],
            rows=views.grid_rows(ws, base, lang),
            cards=views.cards(kpis, lang, extra),
            queues=views.queue_views(ws, kpis, lang),
            pending=[a.text() for a in pending],
            known=known.to_dict(orient="records"),
            created=lang.moment(dt.datetime.fromisoformat(base.version.created_utc), ws.grid.zone),
        )

    def sick_form(
        request: Request,
        status: int = 200,
        error: str = "",
        values: Mapping[str, Any] | None = None,
    ) -> Response:
        latest = ws.store.latest()
        grid = ws.grid
        now = dt.datetime.now(grid.zone).replace(second=0, microsecond=0, tzinfo=None)
        first = dt.datetime.combine(grid.start, dt.time(0, 0))
        default_now = max(now, first)
        if default_now.date() >= grid.end:
            default_now = first
        lang = lang_of(request)
        return render(
            request,
            "sick_call.html",
            "sick-call",
            status=status,
            latest=latest,
            agents=sorted(ws.agents(), key=lambda a: (a.team, a.id)),
            kinds=[(k, lang.gettext(KIND_TEXT[k])) for k in CALL_KINDS],
            default_now=default_now.isoformat(timespec="minutes"),
            first_day=grid.start.isoformat(),
            last_day=grid.dates()[-1].isoformat(),
            time_limit=lang.number(ws.cover_time_limit_s, 0),
            error=error,
            values=values or {},
        )

    @app.get("/sick-call")
    def sick_call(request: Request) -> Response:
        return sick_form(request)

    @app.post("/sick-call")
    async def sick_call_start(request: Request) -> Response:
        form = await request.form()
        require_csrf(request, form)
        agents = [str(a) for a in form.getlist("agent") if str(a).strip()]
        first = str(form.get("from") or "").strip()
        last = str(form.get("to") or "").strip() or first
        at = str(form.get("from_time") or "").strip()
        values = {
            "agents": agents,
            "from": first,
            "to": last,
            "from_time": at,
            "kind": str(form.get("kind") or "sick"),
            "now": str(form.get("now") or ""),
        }
        lang = lang_of(request)
        if not agents or not first:
            return sick_form(
                request, 400, lang.gettext("Choose at least one agent and a first day."), values
            )
        span = f"{first}T{at}/{last}" if at else (first if first == last else f"{first}/{last}")
        try:
            base = int(str(form.get("base_version") or ""))
        except ValueError:
            return sick_form(request, 400, lang.gettext("The base version is missing."), values)
        job = jobs.submit(
            {
                "absent": [f"{a}:{span}" for a in agents],
                "now": values["now"],
                "base_version": base,
                "kind": values["kind"],
            }
        )
        return RedirectResponse(f"/sick-call/{job.id}", status_code=303)

    def job_page(request: Request, job_id: str, status: int = 200, error: str = "") -> Response:
        job = jobs.get(job_id)
        if job is None:
            raise StarletteHTTPException(404, "no such sick call (the server keeps the last 32)")
        lang = lang_of(request)
        proposal = job.proposal
        ctx: dict[str, Any] = {"job": job, "progress": job.progress(), "error": error}
        if proposal is not None:
            s = proposal.result.summary()
            names = {a.id: a.name for a in ws.agents()}
            ctx.update(
                summary=s,
                sl=[
                    (lang.gettext("before the absence"), lang.percent(s["sl_before"])),
                    (lang.gettext("no action"), lang.percent(s["sl_no_action"])),
                    (lang.gettext("after the cover"), lang.percent(s["sl_after"])),
                ],
                short=[
                    lang.number(s["short_agent_intervals_before"]),
                    lang.number(s["short_agent_intervals_no_action"]),
                    lang.number(s["short_agent_intervals_after"]),
                ],
                phone=views.phone_rows(proposal.result.changes, lang, names),
                gaps=views.gap_rows(proposal.result.gaps, lang),
                absences=[a.text for a in proposal.absences],
                now_text=lang.moment(proposal.now.to_pydatetime(), ws.grid.zone),
                latest=ws.store.latest(),
            )
        return render(request, "sick_job.html", "sick-call", status=status, **ctx)

    @app.get("/sick-call/{job_id}")
    def sick_job(request: Request, job_id: str) -> Response:
        return job_page(request, job_id)

    @app.post("/sick-call/{job_id}/apply")
    async def sick_apply(request: Request, job_id: str) -> Response:
        form = await request.form()
        require_csrf(request, form)
        job = jobs.get(job_id)
        if job is None or job.proposal is None:
            raise StarletteHTTPException(404, "no finished sick call to apply")
        if job.applied is not None:
            return RedirectResponse(f"/versions?new={job.applied.number}", status_code=303)
        try:
            version = await run_in_threadpool(
                ws.apply_cover,
                job.proposal,
                author=str(form.get("author") or "").strip() or None,
                note=str(form.get("note") or ""),
            )
        except ConflictError as exc:
            return await run_in_threadpool(job_page, request, job_id, 409, str(exc))
        job.mark_applied(version)
        return RedirectResponse(f"/versions?new={version.number}", status_code=303)

    def edit_context(
        request: Request,
        version: int | None,
        agent_id: str,
        date: str,
        choice: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        """The Edit form of one agent-day of a version, and the preview of ``choice`` (the
        form's values; None: the version as it is).
        """
        lang = lang_of(request)
        base = ws.base(version)
        agent = ws.agent(agent_id)
        roster = base.roster
        mine = roster[(roster["agent_id"] == agent_id) & (roster["date"] == date)]
        current = mine.iloc[0].to_dict() if len(mine) else None
        if choice is None:
            choice = {
                "mode": "work" if current else "off",
                "template": current["shift"] if current else "",
                "start": views.ts(current["start"]).strftime("%H:%M") if current else "",
                "queues": [q for q in str(current["queues"]).split("|") if q]
                if current
                else list(ws.queue_names(agent_id)),
            }
        templates = [
            {
                "id": t.id,
                "starts": [f"{s // 60:02d}:{s % 60:02d}" for s in t.starts()],
                "hours": lang.number(t.paid_minutes / 60, 1),
            }
            for t in ws.templates_for(agent_id)
        ]
        return {
            "base": base,
            "agent": agent,
            "date": date,
            "date_text": lang.date(dt.date.fromisoformat(date)),
            "current": current,
            "current_text": (
                f"{current['shift']} {lang.clock(views.ts(current['start']))}–"
                f"{lang.clock(views.ts(current['end']))}"
                if current
                else lang.gettext("day off")
            ),
            "templates": templates,
            "queues": ws.queue_names(agent_id),
            "choice": choice,
            "preview": preview(request, base, agent_id, date, choice),
        }

    def draft_of(base: Any, agent_id: str, date: str, choice: Mapping[str, Any]) -> pd.DataFrame:
        if choice.get("mode") == "off":
            return ws.edit(base.roster, agent_id, date, template=None)
        return ws.edit(
            base.roster,
            agent_id,
            date,
            template=str(choice.get("template") or ""),
            start=str(choice.get("start") or ""),
            queues=list(choice.get("queues") or []),
        )

    def preview(
        request: Request, base: Any, agent_id: str, date: str, choice: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Violations of the edited roster (the independent validator) and its KPIs beside the
        version's.
        """
        lang = lang_of(request)
        try:
            draft = draft_of(base, agent_id, date, choice)
        except InputError as exc:
            return {"error": str(exc), "violations": [], "kpis": [], "new_rules": 0}
        before = ws.kpis(base.version.number, base).summary
        after = ws.score(draft, base.absences).summary
        found = ws.validate(draft, base)
        old = {(v.rule, v.agent_id, v.date) for v in ws.version_violations(base)}
        rows = [
            {
                "agent_id": v.agent_id,
                "date": v.date,
                "rule": v.rule,
                "found": v.found,
                "allowed": v.allowed,
                "new": (v.rule, v.agent_id, v.date) not in old,
            }
            for v in found
        ]
        mine_before = base.roster[base.roster["agent_id"] == agent_id]
        mine_after = draft[draft["agent_id"] == agent_id]

        def hours(f: pd.DataFrame) -> float:
            return float(pd.to_numeric(f["paid_minutes"]).sum()) / 60.0

        kpis = [
            (
                lang.gettext("Promised service level (voice and chat, week)"),
                lang.percent(before["service_level"]),
                lang.percent(after["service_level"]),
            ),
            (
                lang.gettext("Intervals below target"),
                lang.number(before["under_covered_intervals"]),
                lang.number(after["under_covered_intervals"]),
            ),
            (
                lang.gettext("Missing agent-intervals"),
                lang.number(before["under_covered_agent_intervals"]),
                lang.number(after["under_covered_agent_intervals"]),
            ),
            (
                lang.gettext("Paid hours"),
                lang.number(before["paid_hours"], 1),
                lang.number(after["paid_hours"], 1),
            ),
            (
                lang.gettext("Paid hours of %(agent)s", agent=agent_id),
                lang.number(hours(mine_before), 1),
                lang.number(hours(mine_after), 1),
            ),
            (
                lang.gettext("Cost"),
                lang.number(before["cost"], 0),
                lang.number(after["cost"], 0),
            ),
        ]
        return {
            "error": "",
            "violations": rows,
            "kpis": kpis,
            "new_rules": sum(r["new"] for r in rows),
        }

    def choice_of(form: FormData) -> dict[str, Any]:
        return {
            "mode": "off" if str(form.get("mode")) == "off" else "work",
            "template": str(form.get("template") or ""),
            "start": str(form.get("start") or ""),
            "queues": [str(q) for q in form.getlist("queues")],
        }

    def version_of(form: FormData) -> int:
        try:
            return int(str(form.get("version") or ""))
        except ValueError:
            raise InputError("bad version", column="version", expected="a version number") from None

    @app.get("/edit")
    def edit(
        request: Request, version: int | None = None, agent: str = "", date: str = ""
    ) -> Response:
        if not ws.versions():
            return render(request, "empty.html", "edit")
        base = ws.base(version)
        if not agent or not date:
            lang = lang_of(request)
            return render(
                request,
                "edit_pick.html",
                "edit",
                base=base,
                agents=sorted(ws.agents(), key=lambda a: (a.team, a.id)),
                days=[(d.isoformat(), lang.day(d)) for d in ws.grid.dates()],
            )
        ctx = edit_context(request, base.version.number, agent, date, None)
        return render(request, "edit.html", "edit", **ctx)

    @app.post("/edit/preview")
    async def edit_preview(request: Request) -> Response:
        form = await request.form()
        require_csrf(request, form)

        def work() -> Response:
            base = ws.base(version_of(form))
            agent, date = str(form.get("agent") or ""), str(form.get("date") or "")
            ws.agent(agent)
            result = preview(request, base, agent, date, choice_of(form))
            return render(request, "edit_preview.html", "edit", preview=result)

        return await run_in_threadpool(work)

    @app.post("/edit/publish")
    async def edit_publish(request: Request) -> Response:
        form = await request.form()
        require_csrf(request, form)

        def work() -> Response:
            number = version_of(form)
            agent, date = str(form.get("agent") or ""), str(form.get("date") or "")
            choice = choice_of(form)
            base = ws.base(number)
            note = str(form.get("note") or "").strip()
            try:
                if not note:
                    raise InputError(
                        "empty note",
                        column="note",
                        expected="why this version is published",
                    )
                done = ws.publish(
                    draft_of(base, agent, date, choice),
                    base_version=number,
                    author=str(form.get("author") or "").strip() or None,
                    note=note,
                    force=form.get("force") == "on",
                )
            except (RuleViolationError, InputError) as exc:
                ctx = edit_context(request, number, agent, date, choice)
                return render(
                    request, "edit.html", "edit", status=400, publish_error=str(exc), **ctx
                )
            return RedirectResponse(f"/versions?new={done.version.number}", status_code=303)

        return await run_in_threadpool(work)

    @app.get("/versions")
    def versions_page(
        request: Request, a: int | None = None, b: int | None = None, new: int | None = None
    ) -> Response:
        lang = lang_of(request)
        vs = ws.versions()
        if not vs:
            return render(request, "empty.html", "versions")
        latest = vs[-1]
        if b is None:
            b = latest.number
        if a is None:
            a = ws.store.version(b).parent or b
        diff = views.change_rows(ws.diff(a, b), lang) if a != b else []
        recorded = views.absence_rows(ws.store.absences(withdrawn=True), lang)
        return render(
            request,
            "versions.html",
            "versions",
            versions=views.version_rows(vs, lang, ws.grid.zone),
            numbers=[v.number for v in reversed(vs)],
            a=a,
            b=b,
            diff=diff,
            absences=recorded,
            new=new,
        )

    @app.get("/versions/{number}/export/{fmt}")
    def export(number: int, fmt: str) -> Response:
        name, data, media = ws.export(number, fmt)
        return Response(
            data,
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    def compare_rows(table: pd.DataFrame, names: list[str], lang: Any) -> list[dict[str, Any]]:
        """``compare_table``'s rows in the page's language (rows undefined for all left out)."""
        rows = []
        for r in table.to_dict(orient="records"):
            values = [r[c] for c in names]
            if all(x is None or pd.isna(x) for x in values):
                continue
            rows.append(
                {
                    "metric": lang.gettext(r["metric"]),
                    "values": [lang.measure(x, r["unit"]) for x in values],
                    "deltas": [lang.measure(r[f"Δ {c}"], r["unit"]) for c in names[1:]],
                }
            )
        return rows

    def chart_labels(lang: Any) -> dict[str, str]:
        return {
            "agents": lang.gettext("agents"),
            "scheduled": lang.gettext("Scheduled agents"),
            "sl": lang.gettext("service level"),
            "service_level": lang.gettext("Promised service level per interval"),
        }

    @app.get("/compare")
    def compare(
        request: Request, job: str | None = None, v: Annotated[list[int] | None, Query()] = None
    ) -> Response:
        """What-if scenarios: the server's list, the newest comparison (or ``job``): its
        progress, or ``compare``'s table and charts.
        """
        if v:
            return RedirectResponse(
                "/compare/versions?" + "&".join(f"v={n}" for n in v), status_code=303
            )
        lang = lang_of(request)
        comparisons = site.comparisons
        current = comparisons.get(job) if job else comparisons.latest()
        if job and current is None:
            raise StarletteHTTPException(404, "no such comparison (the server keeps the last 8)")
        ctx: dict[str, Any] = {"job": current, "progress": None, "rows": [], "names": []}
        if current is not None:
            ctx["progress"] = current.progress()
            done = current.result
            if done is not None:
                names = [str(s["scenario"]) for s in done.summaries]
                scheduled, sl = ws.comparison_charts(done, chart_labels(lang))
                ctx.update(
                    names=names,
                    rows=compare_rows(done.table, names, lang),
                    reused=[bool(s.get("reused")) for s in done.summaries],
                    scheduled_chart=scheduled,
                    sl_chart=sl,
                )
        chosen = (
            set(current.chosen)
            if current is not None
            else set(range(min(2, len(ws.compare_choices))))
        )
        return render(
            request,
            "compare_scenarios.html",
            "compare",
            choices=[
                (i, c.name, c.path.name, i in chosen) for i, c in enumerate(ws.compare_choices)
            ],
            out=str(ws.compare_out),
            **ctx,
        )

    @app.post("/compare")
    async def compare_start(request: Request) -> Response:
        form = await request.form()
        require_csrf(request, form)
        try:
            chosen = tuple(int(str(x)) for x in form.getlist("s"))
        except ValueError:
            raise InputError(
                "bad scenario choice", column="s", expected="positions of the listed scenarios"
            ) from None
        job, _ = site.comparisons.start(chosen)
        return RedirectResponse(f"/compare?job={job.id}", status_code=303)

    @app.get("/compare/versions")
    def compare_versions(
        request: Request, v: Annotated[list[int] | None, Query()] = None
    ) -> Response:
        lang = lang_of(request)
        vs = ws.versions()
        if not vs:
            return render(request, "empty.html", "compare")
        chosen = sorted(set(v or [x.number for x in vs[-2:]]))
        for n in chosen:
            ws.store.version(n)
        table, scheduled, sl = ws.compare(chosen, chart_labels(lang))
        names = [f"v{n}" for n in chosen]
        return render(
            request,
            "compare_versions.html",
            "compare",
            numbers=[x.number for x in reversed(vs)],
            chosen=chosen,
            names=names,
            rows=compare_rows(table, names, lang),
            scheduled_chart=scheduled,
            sl_chart=sl,
        )
