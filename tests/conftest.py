"""Hypothesis profiles: CI replays a fixed example sequence; ``--hypothesis-profile explore``
searches afresh.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import settings
from tests.chromium import launch

# Same examples on every run, so a red CI always reproduces; a found failure is then pinned with
# @example.
settings.register_profile("default", derandomize=True, database=None)
settings.register_profile("explore", max_examples=500, derandomize=False)
settings.load_profile("default")


@pytest.fixture(scope="session")
def ray_address() -> Iterator[str]:
    """The address of a real local Ray cluster (2 CPUs), shared by the tests that need one."""
    from tests.raycluster import AUTH_MODE, local_cluster

    with pytest.MonkeyPatch.context() as mp, local_cluster() as address:
        mp.setenv("RAY_AUTH_MODE", AUTH_MODE)  # drivers in this process and its children
        yield address


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Chromium for the whole session: Playwright's sync API allows one running
    instance per thread, so every browser test (web pages, printed report) shares it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = launch(pw)
        try:
            yield b
        finally:
            b.close()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fast-clock",
        type=float,
        default=None,
        metavar="FACTOR",
        help="run the suite with time.perf_counter and time.monotonic running FACTOR times too "
        "fast (a slow machine as this process sees it): no test may depend on it",
    )


def pytest_configure(config: pytest.Config) -> None:
    factor = config.getoption("--fast-clock")
    if factor is None:
        return
    import time

    real_pc, real_mono = time.perf_counter, time.monotonic
    p0, m0 = real_pc(), real_mono()
    time.perf_counter = lambda: p0 + factor * (real_pc() - p0)  # type: ignore[assignment]
    time.monotonic = lambda: m0 + factor * (real_mono() - m0)  # type: ignore[assignment]
