"""Deferred work: every cohort within its deadline (Hall condition), conservation, smoothness."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from staffplan.errors import InputError
from staffplan.queueing import deadline_intervals, deferred_load, deferred_requirements


def hall_feasible(work: np.ndarray, capacity: np.ndarray, d: int) -> bool:
    """Cohort i must be worked within intervals i..i+d-1: for every span [s, e] the work that must
    be done inside it is at most the capacity there (necessary and sufficient for fluid EDF)."""
    n = len(work)
    for s in range(n):
        for e in range(s, n):
            due = work[s : max(e - d + 2, s)].sum()
            if due > capacity[s : e + 1].sum() + 1e-9:
                return False
    return True


@settings(max_examples=60, deadline=None)
@given(
    vols=st.lists(st.floats(0.0, 50.0), min_size=4, max_size=30),
    d=st.integers(1, 6),
    aht=st.floats(30.0, 900.0),
)
def test_every_item_meets_its_deadline(vols: list[float], d: int, aht: float) -> None:
    v = np.array(vols + [0.0] * d)  # no wrap-around: the tail is empty
    req, occ = deferred_requirements(v, aht, 60.0, float(d))
    work = v * aht / 3600.0
    assert hall_feasible(work, req.astype(float), d)
    assert np.all((occ >= 0) & (occ <= 1))
    fluid = deferred_load(work, d)
    assert fluid.sum() == pytest.approx(work.sum())  # all work is planned exactly once
    assert np.all(req - fluid < 1 + 1e-9) and np.all(req >= fluid - 1e-9)  # only rounding on top


def test_spreading_is_flatter_than_the_arrivals() -> None:
    v = np.zeros(48)
    v[10] = 48.0  # one burst of 48 items of 1 h each, 8 h deadline on a 1 h grid
    req, _ = deferred_requirements(v, 3600.0, 60.0, 8.0)
    assert req[10:18].tolist() == [6] * 8 and req.sum() == 48


def test_cyclic_horizon_and_workable_hours() -> None:
    v = np.zeros(24)
    v[22] = 4.0
    load = deferred_load(v, 4)  # wraps into hours 0 and 1
    assert load[[22, 23, 0, 1]].tolist() == [1.0, 1.0, 1.0, 1.0]
    mask = np.zeros(24, dtype=bool)
    mask[8:18] = True
    v2 = np.zeros(24)
    v2[6] = 6.0
    load2 = deferred_load(v2, 5, mask)  # window 6..10, workable 8, 9, 10
    assert load2[[8, 9, 10]].tolist() == [2.0, 2.0, 2.0] and load2.sum() == pytest.approx(6.0)
    with pytest.raises(InputError, match="deadline"):
        deferred_load(np.array([0.0, 1.0, 0.0, 0.0]), 1, np.array([True, False, True, True]))


def test_deadline_intervals() -> None:
    assert deadline_intervals(24, 15) == 96
    assert deadline_intervals(0.1, 30) == 1
    assert deadline_intervals(1.5, 60) == 1
