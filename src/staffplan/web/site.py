"""What every route of the workspace shares: the workspace, its repair jobs, how the server was
started, and a page rendered in the request's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse

from staffplan.i18n import N_, Lang, negotiate
from staffplan.web.jobs import Comparisons, Jobs
from staffplan.web.security import CSRF_COOKIE, CSRF_FIELD, csrf_ok
from staffplan.web.services import Workspace

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


class CsrfError(Exception):
    """A form without the CSRF token its page carried."""


def templates() -> Environment:
    """The pages' Jinja2 templates: every value escaped, undefined names an error."""
    return Environment(
        loader=PackageLoader("staffplan.web", "templates"),
        autoescape=select_autoescape(["html"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@dataclass(frozen=True, eq=False)
class Site:
    """The workspace, its page-started repairs and comparisons, the server's settings and
    templates.
    """

    ws: Workspace
    jobs: Jobs
    config: ServeConfig
    env: Environment
    comparisons: Comparisons

    def lang_of(self, request: Request) -> Lang:
        """``--lang`` if given, else the best match of the browser's ``Accept-Language``."""
        return Lang(self.config.lang or negotiate(request.headers.get("accept-language")))

    def render(
        self, request: Request, name: str, page: str = "", status: int = 200, **ctx: Any
    ) -> HTMLResponse:
        """Template ``name`` in the request's language, with what every page needs."""
        lang = self.lang_of(request)
        html = self.env.get_template(name).render(
            _=lang.gettext,
            lang=lang,
            csrf=request.state.csrf,
            csrf_field=CSRF_FIELD,
            scenario=self.ws.scenario,
            pages=PAGES,
            page=page,
            logout=self.config.token is not None,
            **ctx,
        )
        return HTMLResponse(html, status_code=status)

    def require_csrf(self, request: Request, form: FormData) -> None:
        """:class:`CsrfError` unless the form carries the CSRF token of its page's cookie."""
        if not csrf_ok(request.cookies.get(CSRF_COOKIE), str(form.get(CSRF_FIELD) or "")):
            raise CsrfError()
