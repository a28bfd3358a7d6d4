"""Who may use the workspace, and proof that a form came from its own pages.

- Binding: loopback (127.0.0.1, localhost, ::1) by default; any other address needs a token.
- With a token every request (but the login page and its stylesheet) carries it: an
  ``Authorization: Bearer <token>`` header, or the session cookie the login page sets (an HMAC of
  the token under a key drawn when the server starts, so it ends with the server).
- Forms carry a CSRF token equal to a random cookie set with the page (double submit;
  ``SameSite=Strict``); JSON calls must say ``Content-Type: application/json``, which no other
  site can send without a CORS preflight this server never grants.
- Host headers are checked against the bound address on loopback (no DNS rebinding).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass, field

from staffplan.errors import InputError

LOOPBACK_NAMES: tuple[str, ...] = ("localhost",)
SESSION_COOKIE = "staffplan_session"
CSRF_COOKIE = "staffplan_csrf"
CSRF_FIELD = "csrf"
MIN_TOKEN_CHARS = 16
#: paths served without the token: the login page and what it needs
PUBLIC_PATHS: tuple[str, ...] = ("/login", "/static/app.css")


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.strip().lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_binding(host: str, token: str | None) -> None:
    """Refuse (:class:`InputError`) a non-loopback ``host`` without a token, and short tokens."""
    if token is not None and len(token) < MIN_TOKEN_CHARS:
        raise InputError(
            "token too short",
            column="--token",
            expected=f"at least {MIN_TOKEN_CHARS} characters",
            found=f"{len(token)} characters",
            hint='make one with: python -c "import secrets; print(secrets.token_urlsafe())"',
        )
    if token is None and not is_loopback(host):
        raise InputError(
            "serving beyond this machine needs a token",
            column="--host",
            expected="127.0.0.1 (the default), or --token T with any other address",
            found=host,
            hint="every request must then carry 'Authorization: Bearer T' or log in at /login",
        )


def allowed_hosts(host: str, port: int) -> list[str]:
    """Host header values to accept: the loopback names when bound to loopback (DNS-rebinding
    guard), anything when bound elsewhere (the token guards it).
    """
    if not is_loopback(host):
        return ["*"]
    return ["127.0.0.1", "localhost", "[::1]", "::1", host]


@dataclass(frozen=True)
class Guard:
    """The token check and the session cookie's value (None token: everyone is let in)."""

    token: str | None = None
    key: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    @property
    def session(self) -> str:
        """The session cookie's value: an HMAC of the token under this server's key."""
        assert self.token is not None
        return hmac.new(self.key, self.token.encode(), hashlib.sha256).hexdigest()

    def token_ok(self, candidate: str | None) -> bool:
        return (
            self.token is not None
            and candidate is not None
            and hmac.compare_digest(candidate.encode(), self.token.encode())
        )

    def allows(self, authorization: str | None, session: str | None) -> bool:
        """True without a token, or with the bearer token, or with the session cookie."""
        if self.token is None:
            return True
        scheme, _, value = (authorization or "").partition(" ")
        if scheme.lower() == "bearer" and self.token_ok(value.strip()):
            return True
        return session is not None and hmac.compare_digest(session.encode(), self.session.encode())


def new_csrf() -> str:
    return secrets.token_urlsafe(24)


def csrf_ok(cookie: str | None, field_value: str | None) -> bool:
    """The form's CSRF field equals the page's CSRF cookie (both present)."""
    return (
        bool(cookie)
        and bool(field_value)
        and hmac.compare_digest(str(cookie).encode(), str(field_value).encode())
    )


def safe_next(path: str | None) -> str:
    """A local path to return to after login (never another site)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/week"
    return path
