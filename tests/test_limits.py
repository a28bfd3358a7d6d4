"""Resource bounds: checked before work starts, named in the error, liftable by environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tests.scenario_kit import tiny_scenario

from staffplan import limits
from staffplan.errors import LimitError
from staffplan.scenario import load


def test_every_bound_names_its_variable_and_a_reason() -> None:
    for name, bound in limits.BOUNDS.items():
        assert bound.env == f"STAFFPLAN_MAX_{name.upper()}"
        assert bound.default > 0 and bound.why and bound.unit


def test_values_up_to_the_bound_pass_and_above_it_fail_with_the_way_out() -> None:
    limits.check("days", 366)
    with pytest.raises(LimitError) as exc:
        limits.check("days", 367, key="grid.days")
    text = str(exc.value)
    assert "366 days" in text and "STAFFPLAN_MAX_DAYS=367" in text and "grid.days" in text
    for bad in (float("inf"), float("nan")):
        with pytest.raises(LimitError, match="must be finite"):
            limits.check("time_limit_s", bad)


def test_the_environment_lifts_a_bound(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    sc = tiny_scenario(tmp_path / "sc")
    sc.write_text(sc.read_text().replace("days = 7", "days = 400"))
    with pytest.raises(LimitError, match="STAFFPLAN_MAX_DAYS"):
        load(sc)
    monkeypatch.setenv("STAFFPLAN_MAX_DAYS", "400")
    assert load(sc).grid.days == 400
    monkeypatch.setenv("STAFFPLAN_MAX_DAYS", "-3")
    with pytest.raises(LimitError, match="bad bound in the environment"):
        load(sc)


def test_worker_bound_scales_with_the_cores_this_process_may_use() -> None:
    cores = len(os.sched_getaffinity(0))
    assert limits.BOUNDS["workers"].default == max(8, 4 * cores)


def test_docs_state_every_bound_with_its_variable() -> None:
    """docs/formats.md's Bounds table names each bound's environment variable (a new bound
    without a line there fails)."""
    docs = (Path(__file__).resolve().parents[1] / "docs" / "formats.md").read_text()
    table = docs[docs.index("### Bounds") :].split("\n### ", 1)[0]
    for b in limits.BOUNDS.values():
        assert f"`{b.env}`" in table, b.env
    assert table.count("| `STAFFPLAN_MAX_") == len(limits.BOUNDS)
