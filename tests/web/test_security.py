"""Binding rules, the token and session check, CSRF comparison and safe redirects."""

from __future__ import annotations

import pytest

from staffplan.errors import InputError
from staffplan.web.security import (
    Guard,
    allowed_hosts,
    check_binding,
    csrf_ok,
    is_loopback,
    safe_next,
)

TOKEN = "a-token-of-24-characters"


@pytest.mark.parametrize(
    ("host", "loop"),
    [
        ("127.0.0.1", True),
        ("127.8.9.1", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("192.168.1.20", False),
        ("::", False),
        ("example.org", False),
    ],
)
def test_loopback(host: str, loop: bool) -> None:
    assert is_loopback(host) is loop


def test_binding_beyond_loopback_needs_a_long_token() -> None:
    check_binding("127.0.0.1", None)
    check_binding("0.0.0.0", TOKEN)
    check_binding("127.0.0.1", TOKEN)  # a token works on loopback too
    with pytest.raises(InputError, match="needs a token"):
        check_binding("0.0.0.0", None)
    with pytest.raises(InputError, match="token too short"):
        check_binding("0.0.0.0", "short")
    assert allowed_hosts("0.0.0.0", 80) == ["*"]
    assert "evil.example" not in allowed_hosts("127.0.0.1", 80)


def test_guard() -> None:
    open_door = Guard(None)
    assert open_door.allows(None, None)
    g = Guard(TOKEN)
    assert g.allows(f"Bearer {TOKEN}", None) and g.allows(f"bearer  {TOKEN}", None)
    assert not g.allows(None, None) and not g.allows(f"Basic {TOKEN}", None)
    assert not g.allows("Bearer " + TOKEN[:-1], None)
    assert g.allows(None, g.session) and not g.allows(None, TOKEN)
    assert g.session != Guard(TOKEN).session  # each server start draws its own key


def test_csrf_and_next() -> None:
    assert csrf_ok("abc", "abc") and not csrf_ok("abc", "abd")
    assert not csrf_ok(None, None) and not csrf_ok("", "")
    assert safe_next("/versions?a=1") == "/versions?a=1"
    for bad in (None, "", "https://evil.example/", "//evil.example", "/\\evil", "versions"):
        assert safe_next(bad) == "/week"
