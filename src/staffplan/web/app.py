"""``staffplan serve``'s application: the pages (:mod:`staffplan.web.pages`) and the JSON API
(:mod:`staffplan.web.api`) over one scenario's plan store, behind one gate (token or session,
CSRF cookie, security headers) and one way of reporting errors.

Every engine call goes through :mod:`staffplan.web.services`. Handlers that compute run in
Starlette's thread pool, never on the event loop; sick-call repairs started from a page run as
:mod:`staffplan.web.jobs`. Errors a user can cause come back as one line (a page, or
``{"error": ...}`` with status 400, 401, 403, 404 or 409), never as a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from staffplan.errors import StaffplanError
from staffplan.store import ConflictError
from staffplan.web import api, pages
from staffplan.web.api import ApiError, api_json
from staffplan.web.jobs import Comparisons, Jobs
from staffplan.web.security import (
    CSRF_COOKIE,
    PUBLIC_PATHS,
    SESSION_COOKIE,
    Guard,
    allowed_hosts,
    new_csrf,
    safe_next,
)
from staffplan.web.services import Workspace
from staffplan.web.site import CsrfError, ServeConfig, Site, templates

log = logging.getLogger("staffplan.web")

STATIC = Path(__file__).resolve().parent / "static"
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

__all__ = ["ServeConfig", "create_app"]


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def create_app(ws: Workspace, config: ServeConfig | None = None) -> FastAPI:
    """The application over workspace ``ws``."""
    config = config or ServeConfig()
    guard = Guard(config.token)
    jobs = Jobs(ws)
    comparisons = Comparisons(ws)
    site = Site(ws, jobs, config, templates(), comparisons)
    render, lang_of, require_csrf = site.render, site.lang_of, site.require_csrf

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        jobs.shutdown()
        comparisons.shutdown()

    app = FastAPI(
        title="staffplan", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    app.state.workspace = ws
    app.state.jobs = jobs
    app.state.comparisons = comparisons
    app.state.config = config
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

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

    pages.register(app, site)
    api.register(app, site)
    return app
