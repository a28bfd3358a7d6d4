"""Extraction helpers: the queue assignment behind ``allocate``, and roster-row times across DST."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from staffplan.roster.extract import allocate, assign_queues, row_elapsed
from staffplan.timegrid import TimeGrid


def test_assign_queues_reproduces_allocate() -> None:
    rng = np.random.default_rng(3)
    for _ in range(100):
        na, n = int(rng.integers(1, 10)), int(rng.integers(1, 7))
        on = rng.random((na, n)) < 0.6
        qs = [
            tuple(int(q) for q in rng.permutation(3)[: int(rng.integers(0, 4))]) for _ in range(na)
        ]
        req = rng.integers(0, 4, (3, n))
        got = assign_queues(on, qs, req)
        counts = np.zeros((3, n), dtype=np.int64)
        for i in range(na):
            for t in range(n):
                assert (got[i, t] >= 0) == (bool(on[i, t]) and len(qs[i]) > 0)
                if got[i, t] >= 0:
                    assert got[i, t] in qs[i]
                    counts[got[i, t], t] += 1
        assert (counts == allocate(on, qs, req)).all()


@pytest.mark.parametrize(
    ("tz", "start"),
    [
        ("Europe/Madrid", dt.date(2026, 10, 19)),
        ("Europe/Madrid", dt.date(2026, 3, 23)),
        ("America/New_York", dt.date(2026, 11, 1)),
    ],
)
def test_row_elapsed_matches_pandas_across_dst(tz: str, start: dt.date) -> None:
    """The fast ISO path of row times equals pandas' zone arithmetic, local or UTC text, on
    DST-change weeks.
    """

    grid = TimeGrid(start, 14, 15, tz)
    origin = grid.starts[0]
    for t in grid.starts[np.random.default_rng(0).integers(0, grid.n, 200)]:
        for text in (t.isoformat(), t.tz_convert("UTC").isoformat()):
            local = grid.to_local(pd.Timestamp(text))
            e = int(round((local - origin).total_seconds() / 60))
            assert row_elapsed(grid, text, text) == (e, e, local.hour * 60 + local.minute)
