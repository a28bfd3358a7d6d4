"""End to end: import -> ``staffplan roster`` -> independent checker, against published and
reference optima.

The roster engine is run exactly as a user runs it (the CLI, via CliRunner).
Oracles: the published optimum of Instance1 (607), and on small random
instances the optimum of the direct reference model (tests/importers/curtois_reference.py).
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from tests.importers.curtois_checker import check, check_files, read_bench
from tests.importers.curtois_reference import solve

from staffplan.cli import cli
from staffplan.errors import StaffplanError
from staffplan.importers.curtois import parse_instance, parse_text, to_scenario

DATA = Path(__file__).resolve().parents[1] / "data" / "curtois"


def _roster(scenario: Path, out: Path, time_limit_s: float) -> tuple[int, dict[str, object]]:
    """(exit code as ``staffplan.cli.main`` gives it, the JSON result or the error) of a
    ``--deterministic`` roster: the same answer on any machine, so optimality assertions do not
    depend on its speed."""
    r = CliRunner().invoke(
        cli,
        [
            "roster",
            str(scenario),
            "--time-limit",
            str(time_limit_s),
            "--deterministic",
            "--workers",
            "2",
            "--json",
            "--quiet",
            "--out",
            str(out),
        ],
    )
    if isinstance(r.exception, StaffplanError):
        return r.exception.exit_code, {
            "error": str(r.exception),
            "kind": type(r.exception).__name__,
        }
    doc = json.loads(r.output.strip().splitlines()[-1]) if r.exit_code == 0 else {"error": r.output}
    return r.exit_code, doc


def test_instance1_reaches_the_published_optimum_and_the_checker_confirms_it(
    tmp_path: Path,
) -> None:
    scenario = to_scenario(parse_instance(DATA / "Instance1.txt"), tmp_path / "s")
    code, doc = _roster(scenario, tmp_path / "out", 20)
    assert code == 0, doc
    assert doc["status"] == "OPTIMAL" and doc["objective"] == 607 and doc["bound"] == 607
    v = check_files(DATA / "Instance1.txt", tmp_path / "out" / "roster.csv")
    assert v.violations == [] and v.objective == 607


NIGHT_BEFORE_A_DAY_OFF = "\n".join(
    [
        "SECTION_HORIZON",
        "7",
        "SECTION_SHIFTS",
        "D,480,",
        "N,600,D",  # N starts at 22:00 (nominal start) and ends at 08:00 the next day
        "SECTION_STAFF",
        "A,D=7|N=7,4320,0,5,2,1,1",  # work blocks of at least 2 days inside the horizon
        "SECTION_DAYS_OFF",
        "A,3",
        "SECTION_COVER",
        *[
            f"{d},{s},{int((d, s) in ((1, 'D'), (2, 'N')))},100,1"
            for d in range(7)
            for s in ("D", "N")
        ],
    ]
)


def test_a_day_off_bans_starts_only_so_the_night_before_it_is_worked(tmp_path: Path) -> None:
    """The benchmark's day off: no shift *starts* on it. The only optimal roster here works D on
    day 1 and N on day 2 (22:00-08:00 into day 3, the day off): brute force over all 3^7 rosters.
    """
    path = tmp_path / "Night.txt"
    path.write_text(NIGHT_BEFORE_A_DAY_OFF)
    bench = read_bench(path)
    costs: dict[tuple[str | None, ...], int] = {}
    for plan in itertools.product((None, "D", "N"), repeat=7):
        v = check(bench, [("A", d, s) for d, s in enumerate(plan) if s is not None])
        if v.feasible:
            costs[plan] = v.objective
    best = min(costs.values())
    optima = [p for p, c in costs.items() if c == best]
    assert best == 0 and optima == [(None, "D", "N", None, None, None, None)]
    code, doc = _roster(to_scenario(parse_instance(path), tmp_path / "s"), tmp_path / "out", 10)
    assert code == 0, doc
    assert doc["status"] == "OPTIMAL" and doc["objective"] == 0
    assert _rows(tmp_path / "out" / "roster.csv") == [("A", 1, "D"), ("A", 2, "N")]


def random_instance(seed: int) -> str:
    """A small random instance (4-5 staff, 14 days, 2-3 shift types) exercising every rule."""
    rng = np.random.default_rng(seed)
    shifts = [("E", 480, ""), ("L", int(rng.choice([480, 600])), "E")] + (
        [("N", 480, "E|L")] if rng.random() < 0.5 else []
    )
    ids = [s[0] for s in shifts]
    staff = []
    for e in "ABCDE"[: int(rng.integers(4, 6))]:
        maxs = "|".join(
            f"{s}={int(rng.choice([0, 3, 14]) if s != 'E' else rng.choice([5, 14]))}" for s in ids
        )
        max_min = int(rng.integers(8, 12)) * 480
        ints = [int(rng.integers(lo, hi)) for lo, hi in ((0, 5), (3, 7), (1, 4), (1, 4), (0, 3))]
        ints[0] *= 480
        staff.append(f"{e},{maxs},{max_min}," + ",".join(map(str, ints)))
    lines = [
        "SECTION_HORIZON",
        "14",
        "SECTION_SHIFTS",
        *[f"{a},{b},{c}" for a, b, c in shifts],
        "SECTION_STAFF",
        *staff,
        "SECTION_DAYS_OFF",
    ]
    lines += [f"{s[0]},{int(rng.integers(0, 14))}" for s in staff if rng.random() < 0.7]
    lines.append("SECTION_SHIFT_ON_REQUESTS")
    lines += sorted(
        {
            f"{s[0]},{d},{rng.choice(ids)},{int(rng.integers(1, 4))}"
            for s in staff
            for d in rng.choice(14, 2, replace=False)
        }
    )
    lines.append("SECTION_SHIFT_OFF_REQUESTS")
    lines += sorted(
        {
            f"{s[0]},{d},{rng.choice(ids)},{int(rng.integers(1, 4))}"
            for s in staff
            for d in rng.choice(14, 2, replace=False)
        }
    )
    lines.append("SECTION_COVER")
    lines += [
        f"{d},{s},{int(rng.integers(0, 3))},{int(rng.choice([10, 100]))},{int(rng.integers(1, 4))}"
        for d in range(14)
        for s in ids
    ]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", range(6))
def test_engine_optimum_equals_reference_optimum_on_random_instances(
    tmp_path: Path, seed: int
) -> None:
    text = random_instance(seed)
    path = tmp_path / f"Random{seed}.txt"
    path.write_text(text)
    bench = read_bench(path)
    status, best, _ = solve(bench, time_limit_s=20)
    code, doc = _roster(to_scenario(parse_text(text, path), tmp_path / "s"), tmp_path / "out", 20)
    if status == "INFEASIBLE":
        assert code == 2 and doc["kind"] == "InfeasibleError", doc
        return
    assert status == "OPTIMAL"
    assert code == 0, doc
    assert doc["status"] == "OPTIMAL" and doc["objective"] == best
    v = check(bench, [(e, d, s) for e, d, s in _rows(tmp_path / "out" / "roster.csv")])
    assert v.violations == [] and v.objective == best


def _rows(path: Path) -> list[tuple[str, int, str]]:
    import csv

    with open(path, newline="") as fh:
        return [(r["agent_id"], int(r["day"]), r["shift"]) for r in csv.DictReader(fh)]


def test_infeasible_instance_is_an_explained_error_like_the_reference_says(tmp_path: Path) -> None:
    # B may work at most 2 D shifts (960 min) but must work at least 1440 min
    text = (
        (DATA / "Instance1.txt")
        .read_text()
        .replace("B,D=14,4320,3360,5,2,2,1", "B,D=2,4320,1440,5,2,2,1")
    )
    path = tmp_path / "Infeasible.txt"
    path.write_text(text)
    assert solve(read_bench(path), time_limit_s=10)[0] == "INFEASIBLE"
    code, doc = _roster(to_scenario(parse_text(text, path), tmp_path / "s"), tmp_path / "out", 10)
    assert code == 2 and doc["kind"] == "InfeasibleError"
    assert "agent B" in str(doc["error"])
