"""Hypothesis profiles: CI replays a fixed example sequence; ``--hypothesis-profile explore``
searches afresh.
"""

from __future__ import annotations

from hypothesis import settings

# Same examples on every run, so a red CI always reproduces; a found failure is then pinned with
# @example.
settings.register_profile("default", derandomize=True, database=None)
settings.register_profile("explore", max_examples=500, derandomize=False)
settings.load_profile("default")
