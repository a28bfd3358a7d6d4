"""``staffplan serve``'s application: server-rendered pages (Week, Sick call, Edit, Versions,
Compare) and a small JSON API over one scenario's plan store.

Every engine call goes through :mod:`staffplan.web.services`. Handlers that compute run in
Starlette's thread pool, never on the event loop; sick-call repairs started from a page run as
:mod:`staffplan.web.jobs`. Errors a user can cause come back as one line (a page, or
``{"error": ...}`` with status 400, 401, 403, 404 or 409), never as a traceback.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from staffplan.errors import InputError, RuleViolationError, StaffplanError
from staffplan.i18n import KIND_TEXT, N_, Lang, negotiate
from staffplan.store import ConflictError
from staffplan.web import views
from staffplan.web.jobs import Jobs
from staffplan.web.security import (
    CSRF_COOKIE,
    CSRF_FIELD,
    PUBLIC_PATHS,
    SESSION_COOKIE,
    Guard,
    allowed_hosts,
    csrf_ok,
    new_csrf,
    safe_next,
)
from staffplan.web.services import CALL_KINDS, Workspace, frame_rows

log = logging.getLogger("staffplan.web")

STATIC = Path(__file__).resolve().parent / "static"
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
PAGES: tuple[tuple[str, str], ...] = (
    ("week", N_("Week")),
    ("sick-call", N_("Sick call")),
    ("edit", N_("Edit")),
    ("versions", N_("Versions")),
    ("compare", N_("Compare")),
)


@dataclass(frozen=True)
class ServeConfig:
    """How the server was started: address, token (None: loopback only) and forced language
    (None: each browser's ``Accept-Language``).
    """

    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None
    lang: str | None = None


class ApiError(Exception):
    """A JSON API error with its HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class CsrfError(Exception):
    """A form without the CSRF token its page carried."""


def jsonable(obj: Any) -> Any:
    """Frames' values as JSON: numpy scalars as numbers, NaN and infinities as null."""
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, pd.Timestamp | dt.datetime | dt.date):
        return obj.isoformat()
    return obj


def api_json(content: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(jsonable(content), status_code=status)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _templates() -> Environment:
    env = Environment(
        loader=PackageLoader("staffplan.web", "templates"),
        autoescape=select_autoescape(["html"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


# ---- JSON bodies -----------------------------------------------------------------------------


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object; :class:`ApiError` 400 for anything else."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise ApiError(400, "expected Content-Type: application/json")
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, f"the body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ApiError(400, "expected a JSON object")
    return body


def check_keys(body: Mapping[str, Any], spec: Mapping[str, tuple[type | tuple[type, ...], bool]]):
    """Refuse unknown keys, missing required ones and values of the wrong type (400)."""
    unknown = sorted(set(body) - set(spec))
    if unknown:
        raise ApiError(400, f"unknown key '{unknown[0]}'; expected keys: {', '.join(spec)}")
    for key, (types, required) in spec.items():
        if key not in body:
            if required:
                raise ApiError(400, f"missing key '{key}'")
            continue
        value = body[key]
        wanted = types if isinstance(types, tuple) else (types,)
        bad = (isinstance(value, bool) and bool not in wanted) or not isinstance(value, wanted)
        if bad and not (value is None and not required):
            names = " or ".join(t.__name__ for t in wanted)
            raise ApiError(400, f"key '{key}': expected {names}, found {json.dumps(value)}")


# ---- the application --------------------------------------------------------------------------


def create_app(ws: Workspace, config: ServeConfig | None = None) -> FastAPI:
    """The application over workspace ``ws``."""
    config = config or ServeConfig()
    guard = Guard(config.token)
    jobs = Jobs(ws)
    env = _templates()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        jobs.shutdown()

    app = FastAPI(
        title="staffplan", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    app.state.workspace = ws
    app.state.jobs = jobs
    app.state.config = config
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    def lang_of(request: Request) -> Lang:
        return Lang(config.lang or negotiate(request.headers.get("accept-language")))

    def render(
        request: Request, name: str, page: str = "", status: int = 200, **ctx: Any
    ) -> HTMLResponse:
        lang = lang_of(request)
        html = env.get_template(name).render(
            _=lang.gettext,
            lang=lang,
            csrf=request.state.csrf,
            csrf_field=CSRF_FIELD,
            scenario=ws.scenario,
            pages=PAGES,
            page=page,
            logout=config.token is not None,
            **ctx,
        )
        return HTMLResponse(html, status_code=status)

    def error_page(request: Request, status: int, message: str) -> Response:
        if _is_api(request):
            return api_json({"error": message}, status)
        return render(request, "error.html", status=status, message=message)

    # ---- gatekeeping ------------------------------------------------------------------------
    @app.middleware("http")
    async def gatekeeper(request: Request, call_next: Callable[[Request], Any]) -> Response:
        request.state.csrf = request.cookies.get(CSRF_COOKIE) or new_csrf()
        path = request.url.path
        if path not in PUBLIC_PATHS and not guard.allows(
            request.headers.get("authorization"), request.cookies.get(SESSION_COOKIE)
        ):
            if _is_api(request):
                response: Response = api_json(
                    {"error": "unauthorised: send 'Authorization: Bearer <token>'"}, 401
                )
                response.headers["WWW-Authenticate"] = "Bearer"
            else:
                response = render(request, "login.html", status=401, next=path, failed=False)
        else:
            response = await call_next(request)
        if request.cookies.get(CSRF_COOKIE) != request.state.csrf:
            response.set_cookie(
                CSRF_COOKIE, request.state.csrf, httponly=True, samesite="strict", path="/"
            )
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        if not path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
            response.headers["Vary"] = "Accept-Language, Authorization, Cookie"
        return response

    app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts(config.host, config.port))

    def require_csrf(request: Request, form: FormData) -> None:
        if not csrf_ok(request.cookies.get(CSRF_COOKIE), str(form.get(CSRF_FIELD) or "")):
            raise CsrfError()

    # ---- errors -----------------------------------------------------------------------------
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        return error_page(request, exc.status, exc.message)

    @app.exception_handler(ConflictError)
    async def _conflict(request: Request, exc: ConflictError) -> Response:
        return error_page(request, 409, str(exc))

    @app.exception_handler(StaffplanError)
    async def _bad_input(request: Request, exc: StaffplanError) -> Response:
        return error_page(request, 400, str(exc))

    @app.exception_handler(CsrfError)
    async def _csrf(request: Request, exc: CsrfError) -> Response:
        lang = lang_of(request)
        return error_page(
            request,
            403,
            lang.gettext("This form has expired or did not come from this site: reload the page."),
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ()) if x not in ("query", "path"))
        return error_page(request, 400, f"{where}: {first.get('msg', 'bad value')}")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        return error_page(request, exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> Response:
        log.exception("internal error on %s", request.url.path)
        return error_page(
            request, 500, f"internal error: {type(exc).__name__} (see the server's log)"
        )

    # ---- login ------------------------------------------------------------------------------
    @app.get("/login")
    def login_page(request: Request, next: str = "/week") -> Response:
        return render(request, "login.html", next=safe_next(next), failed=False)

    @app.post("/login")
    async def login(request: Request) -> Response:
        form = await request.form()
        require_csrf(request, form)
        target = safe_next(str(form.get("next") or ""))
        if config.token is None:
            return RedirectResponse(target, status_code=303)
        if not guard.token_ok(str(form.get("token") or "")):
            return render(request, "login.html", status=401, next=target, failed=True)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(SESSION_COOKIE, guard.session, httponly=True, samesite="strict")
        return response

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        form = await request.form()
        require_csrf(request, form)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    @app.get("/healthz")
    def healthz() -> Response:
        return api_json({"ok": True, "scenario": ws.scenario.name})

    # ---- pages ------------------------------------------------------------------------------
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
        kpis = ws.kpis(n)
        known = ws.known_violations(n)
        pending = base.pending
        extra = [
            (lang.gettext("Known violations"), lang.number(len(known))),
            (lang.gettext("Recorded absences not applied"), lang.number(len(pending))),
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
        before = ws.kpis(base.version.number).summary
        after = ws.score(draft).summary
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
                lang.gettext("Service level (voice and chat, week)"),
                lang.percent(before["service_level"]),
                lang.percent(after["service_level"]),
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

    @app.get("/compare")
    def compare(request: Request, v: list[int] | None = None) -> Response:
        lang = lang_of(request)
        vs = ws.versions()
        if not vs:
            return render(request, "empty.html", "compare")
        chosen = sorted(set(v or [x.number for x in vs[-2:]]))
        for n in chosen:
            ws.store.version(n)
        table, scheduled, sl = ws.compare(
            chosen,
            {
                "agents": lang.gettext("agents"),
                "scheduled": lang.gettext("Scheduled agents"),
                "sl": lang.gettext("service level"),
                "service_level": lang.gettext("Promised service level per interval"),
            },
        )
        names = [f"v{n}" for n in chosen]
        rows = []
        for r in table.to_dict(orient="records"):
            values = [r[c] for c in names]
            if all(pd.isna(x) for x in values):
                continue
            rows.append(
                {
                    "metric": lang.gettext(r["metric"]),
                    "values": [lang.measure(x, r["unit"]) for x in values],
                    "deltas": [lang.measure(r[f"Δ {c}"], r["unit"]) for c in names[1:]],
                }
            )
        return render(
            request,
            "compare.html",
            "compare",
            numbers=[x.number for x in reversed(vs)],
            chosen=chosen,
            names=names,
            rows=rows,
            scheduled_chart=scheduled,
            sl_chart=sl,
        )

    # ---- JSON API ---------------------------------------------------------------------------
    @app.get("/api/versions")
    def api_versions() -> Response:
        return api_json(
            {
                "versions": [
                    {
                        "version": v.number,
                        "parent": v.parent,
                        "kind": v.kind,
                        "author": v.author,
                        "note": v.note,
                        "created": v.created_utc,
                        "rows": v.n_rows,
                        "changes": v.n_changes,
                        "absences": v.n_absences,
                        "violations": v.n_violations,
                    }
                    for v in ws.versions()
                ]
            }
        )

    @app.get("/api/roster")
    def api_roster(version: int | None = None) -> Response:
        n = ws.store.resolve(version)
        rows = ws.store.roster(n).to_dict(orient="records")
        return api_json({"version": n, "rows": rows})

    @app.post("/api/validate")
    async def api_validate(request: Request) -> Response:
        body = await json_body(request)
        check_keys(body, {"rows": (list, True)})

        def work() -> dict[str, Any]:
            roster = frame_rows(body["rows"])
            found = ws.validate(roster)
            return {
                "ok": not found,
                "recorded_absences": len(ws.store.absences()),
                "violations": [v.as_dict() for v in found],
            }

        return api_json(await run_in_threadpool(work))

    @app.post("/api/cover")
    async def api_cover(request: Request) -> Response:
        body = await json_body(request)
        check_keys(
            body,
            {
                "absent": (list, True),
                "now": (str, True),
                "base_version": (int, False),
                "apply": (bool, False),
                "kind": (str, False),
                "author": (str, False),
                "note": (str, False),
                "time_limit_s": ((int, float), False),
            },
        )
        if not all(isinstance(a, str) for a in body["absent"]):
            raise ApiError(400, "key 'absent': expected a list of 'AGENT:DATE' strings")
        proposal = await run_in_threadpool(
            lambda: ws.propose_cover(
                body["absent"],
                body["now"],
                base_version=body.get("base_version"),
                kind=body.get("kind") or "sick",
                time_limit_s=body.get("time_limit_s"),
            )
        )
        version = None
        if body.get("apply"):
            version = await run_in_threadpool(
                lambda: ws.apply_cover(
                    proposal, author=body.get("author"), note=body.get("note") or ""
                )
            )
        return api_json(proposal.as_json(version))

    @app.get("/api/jobs/{job_id}")
    def api_job(job_id: str) -> Response:
        job = jobs.get(job_id)
        if job is None:
            raise ApiError(404, "no such job")
        return api_json(job.progress())

    return app
