"""The checker against published optima, via a direct CP-SAT model of the instance (test oracle)."""

from __future__ import annotations

from pathlib import Path

from tests.importers.curtois_checker import check, read_bench
from tests.importers.curtois_reference import solve

DATA = Path(__file__).resolve().parents[1] / "data" / "curtois"


def test_instance1_published_optimum_607_is_reached_and_confirmed_by_the_checker() -> None:
    b = read_bench(DATA / "Instance1.txt")
    status, objective, rows = solve(b, time_limit_s=20)
    assert status == "OPTIMAL" and objective == 607  # Curtois & Qu: Instance1 optimum 607
    v = check(b, rows)
    assert v.violations == [] and v.objective == 607


def test_instance2_rosters_are_feasible_and_never_below_the_published_optimum() -> None:
    b = read_bench(DATA / "Instance2.txt")
    status, objective, rows = solve(b, time_limit_s=3)
    assert status in ("OPTIMAL", "FEASIBLE")
    v = check(b, rows)
    assert v.violations == [] and v.objective == objective >= 828  # Instance2 optimum 828
