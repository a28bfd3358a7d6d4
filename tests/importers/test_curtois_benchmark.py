"""Helpers of benchmarks/curtois.py: best-known values, gap and the results table."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "curtois_benchmark", ROOT / "benchmarks" / "curtois.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["curtois_benchmark"] = module
    spec.loader.exec_module(module)
    return module


def test_best_known_from_readme_overrides_the_table(bench, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "README.md").write_text(
        "| instance | days | best known | status |\n|---|---|---|---|\n| Instance1 | 14 | 600 "
        "| optimal |\n| Instance9 | 28 | 439 | optimal |\n| Instance12 | 60 × 28 | 4040 | best |\n"
    )
    values = bench.best_known_from_readme(tmp_path)
    assert values["Instance1"] == 600 and values["Instance9"] == 439 and values["Instance7"] == 1056
    assert values["Instance12"] == 4040  # a "staff × days" column as in the shared README
    assert bench.best_known_from_readme(ROOT / "tests" / "data" / "curtois")["Instance8"] == 1300


def test_gap_and_table(bench) -> None:  # type: ignore[no-untyped-def]
    rows = [
        bench.Row(
            "Instance4", "FEASIBLE", 1721.0, 1700.0, 1716, 60.2, "feasible; objective confirmed"
        ),
        bench.Row(
            "Instance1",
            "OPTIMAL",
            607.0,
            607.0,
            607,
            1.0,
            "feasible; objective confirmed",
            bound_source="CP-SAT",
            seed=7,
        ),
        bench.Row("Instance7", "exit 2", None, None, 1056, 0.1, "engine failed"),
    ]
    assert rows[0].gap_to_best == pytest.approx(5 / 1716)
    assert rows[1].gap_to_best == 0 and rows[2].gap_to_best is None
    text = bench.table(rows)
    assert "| Instance4 | FEASIBLE | 1721 | 1700 | — | 1716 | 0.29% | 60.2 |" in text
    assert "| Instance1 | OPTIMAL | 607 | 607 | CP-SAT | 607 | 0.00% | 1.0 | — | 7 |" in text
    assert "| 60.2 | — | 0 | feasible" in text  # the seed column: 0 unless given
    assert "| Instance7 | exit 2 | — | — | — | 1056 | — |" in text
    assert "mean gap to best known over 2 instances: 0.15%" in text


def test_no_instances_exit_2(bench, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert bench.main(["--dir", str(tmp_path)]) == 2
