"""Debian's Chromium as every browser test launches it through Playwright (Playwright cannot
download its own browsers here; ``.ci/run`` installs ``chromium`` when it is missing).
"""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def launch(playwright: object) -> object:
    """A headless Chromium browser (``playwright.sync_api.Browser``)."""
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: apt-get install chromium (see .ci/run)")
    return playwright.chromium.launch(  # type: ignore[attr-defined]
        executable_path=str(CHROMIUM), args=LAUNCH_ARGS
    )
