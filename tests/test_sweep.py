"""Sweep grids: --vary parsing, key validation, points, frontier marks and the KPI adapter."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from staffplan.errors import InputError, LimitError
from staffplan.scenario import load
from staffplan.sweep import (
    cheapest,
    grid,
    key_path,
    meets_targets,
    pareto,
    parse_values,
    parse_vary,
    plan_sweep,
    point_kpis,
)

ROOT = Path(__file__).resolve().parents[1]
HIRING = ROOT / "scenarios" / "hiring" / "scenario.toml"
EXAMPLE = ROOT / "scenarios" / "example" / "scenario.toml"


def test_values_are_toml_scalars_and_inclusive_ranges() -> None:
    assert parse_values("k", "0.25,0.3, 0.35") == (0.25, 0.3, 0.35)
    assert parse_values("k", "0..3") == (0, 1, 2, 3)
    assert parse_values("k", "0..2,5,10..11") == (0, 1, 2, 5, 10, 11)
    assert parse_values("k", "true,false") == (True, False)
    assert parse_values("k", 'weekly_profile,"auto"') == ("weekly_profile", "auto")
    assert parse_values("k", "2026-12-14") == (dt.date(2026, 12, 14),)
    for bad in ("", "1,,2", "3..1", "1,1", "{a = 1}", "2026-12-14T10:00:00"):
        with pytest.raises(InputError) as exc:
            parse_values("k", bad)
        assert exc.value.column == "--vary" and exc.value.key == "k"


def test_keys_resolve_to_their_place_in_the_document() -> None:
    doc = load(HIRING).raw
    assert key_path(doc, "shrinkage") == ("shrinkage",)
    assert key_path(doc, "queues.voice.service_level") == ("queues", "voice", "service_level")
    assert key_path(doc, "solver.seed") == ("solver", "seed")  # absent from the file: a default
    assert key_path(doc, "hires.count") == ("hires", 0, "count")
    assert key_path(doc, "hires[0].hourly_cost") == ("hires", 0, "hourly_cost")


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("shrinkge", "unknown key"),
        ("queues.phone.service_level", "unknown queue"),
        ("queues.voice.colour", "unknown key"),
        ("queues.voice", "bad key"),
        ("forecast.holidays", "not a scalar key"),
        ("data.history", "cannot be varied"),
        ("name", "cannot be varied"),
        ("hires[1].count", "no such [[hires]] class"),
        ("hires.count.x", "bad key"),
        ("solver..seed", "bad key"),
    ],
)
def test_bad_keys_are_errors_naming_the_key(key: str, message: str) -> None:
    with pytest.raises(InputError) as exc:
        parse_vary(load(HIRING).raw, f"{key}=1")
    assert exc.value.key == key and message in exc.value.message


def test_hires_need_a_hire_class() -> None:
    with pytest.raises(InputError, match=r"no \[\[hires\]\] class") as exc:
        parse_vary(load(EXAMPLE).raw, "hires.count=0..3")
    assert "count = 0" in (exc.value.hint or "")


def test_several_hire_classes_must_be_named(tmp_path: Path) -> None:
    p = tmp_path / "two.toml"
    hire = '[[hires]]\ncount = 1\ncontract = "PT25"\nskills = "voice"\nprefix = "{}"\n'
    p.write_text(
        f'root = "/"\nextends = "{EXAMPLE.as_posix()}"\n' + hire.format("M") + hire.format("P")
    )
    doc = load(p).raw
    assert len(doc["hires"]) == 2
    with pytest.raises(InputError, match="several"):
        parse_vary(doc, "hires.count=1,2")
    assert parse_vary(doc, "hires[1].count=1,2").path == ("hires", 1, "count")


def test_grid_is_every_combination_first_axis_slowest() -> None:
    doc = load(HIRING).raw
    axes = [parse_vary(doc, "hires.count=0..2"), parse_vary(doc, "shrinkage=0.3,0.35")]
    points = grid(axes)
    assert [p.index for p in points] == list(range(6))
    assert [dict(p.values)["hires.count"] for p in points] == [0, 0, 1, 1, 2, 2]
    assert [dict(p.values)["shrinkage"] for p in points] == [0.3, 0.35] * 3
    assert points[3].label == "hires.count=1, shrinkage=0.35"
    assert points[3].folder_name == "hires.count=1__shrinkage=0.35"
    assert len({p.folder_name for p in points}) == 6


def test_a_sweep_validates_every_value_before_running() -> None:
    sw = plan_sweep(HIRING, ["hires.count=0,3", "queues.voice.service_level=0.8,0.9"])
    assert len(sw.points) == len(sw.scenarios) == 4
    assert [sc.queue("voice").service_level for sc in sw.scenarios] == [0.8, 0.9, 0.8, 0.9]
    assert sw.scenarios[2].raw["hires"][0]["count"] == 3
    assert load(HIRING).raw["hires"][0]["count"] == 0  # the base document is untouched


@pytest.mark.parametrize(
    ("vary", "key"),
    [
        (["shrinkage=0.3,1.5"], "shrinkage"),
        (["queues.voice.service_level=0.8,abc"], "queues.voice.service_level"),
        (["hires.count=-1,2"], "hires[0].count"),
        (["solver.workers=0"], "solver.workers"),
        (["grid.interval_minutes=20"], "grid.interval_minutes"),
    ],
)
def test_bad_values_are_exit_2_errors_naming_the_key(vary: list[str], key: str) -> None:
    with pytest.raises(InputError) as exc:
        plan_sweep(HIRING, vary)
    assert exc.value.column == "--vary" and exc.value.key == key
    assert exc.value.exit_code == 2


def test_a_key_varied_twice_or_too_many_points_is_an_error() -> None:
    with pytest.raises(InputError, match="twice"):
        plan_sweep(HIRING, ["shrinkage=0.3", "shrinkage=0.35"])
    with pytest.raises(LimitError, match="the points of a sweep") as exc:
        plan_sweep(HIRING, ["hires.count=0..99", "solver.seed=0..99"])
    assert exc.value.exit_code == 2 and "STAFFPLAN_MAX_SWEEP_POINTS" in str(exc.value)
    with pytest.raises(LimitError):
        parse_values("k", "0..5000")


def test_hire_count_zero_adds_nobody() -> None:
    from staffplan.roster.load import hires

    assert hires(load(HIRING)) == ()
    sw = plan_sweep(HIRING, ["hires.count=0,2"])
    assert [a.id for a in hires(sw.scenarios[1])] == ["N01", "N02"]


def test_pareto_marks_on_a_small_case() -> None:
    cost = [10.0, 12.0, 11.0, 12.0, 9.0, np.nan]
    service = [0.80, 0.90, 0.79, 0.90, 0.70, 0.99]
    # 2 is beaten by 0 (cheaper, better); 1 and 3 tie; NaN is never on the front
    assert pareto(cost, service).tolist() == [True, True, False, True, True, False]


@settings(deadline=None, max_examples=200)
@given(
    st.lists(
        st.tuples(st.integers(0, 20), st.integers(0, 20)),
        min_size=1,
        max_size=25,
    ),
    st.randoms(use_true_random=False),
)
def test_pareto_invariants(points: list[tuple[int, int]], rnd: object) -> None:
    cost = np.array([float(c) for c, _ in points])
    service = np.array([s / 20 for _, s in points])
    front = pareto(cost, service)

    def dominates(j: int, i: int) -> bool:
        return (
            cost[j] <= cost[i]
            and service[j] >= service[i]
            and (cost[j] < cost[i] or service[j] > service[i])
        )

    n = len(points)
    for i in range(n):
        beaten = any(dominates(j, i) for j in range(n))
        assert front[i] == (not beaten)
        if not front[i]:  # something on the front beats every point off it
            assert any(front[j] and dominates(j, i) for j in range(n))
    assert front.any()  # the cheapest of the best-service points is always on it
    order = list(range(n))
    rnd.shuffle(order)  # type: ignore[attr-defined]
    assert pareto(cost[order], service[order]).tolist() == front[order].tolist()


def test_cheapest_meeting_every_target() -> None:
    assert cheapest([5.0, 3.0, 4.0, 3.0], [True, False, True, True]) == 3
    assert cheapest([5.0, 3.0], [False, False]) is None
    assert cheapest([np.nan, 7.0], [True, True]) == 1


def test_kpis_adapter_reads_the_summary_and_its_queues() -> None:
    summary = {
        "status": "FEASIBLE",
        "paid_hours": 100.0,
        "cost": 2000.0,
        "service_level": 0.85,
        "occupancy": 0.7,
        "gap": 0.02,
        "asa_seconds": 9.0,
        "queues": {
            "voice": {"service_level": 0.9, "asa_seconds": 8.0, "abandon_rate": 0.03},
            "chat": {"service_level": 0.75, "asa_seconds": 30.0, "abandon_rate": None},
        },
    }
    k = point_kpis(summary)
    assert k["cost"] == 2000.0 and k["gap"] == 0.02 and k["status"] == "FEASIBLE"
    assert k["service_level_voice"] == 0.9 and k["service_level_chat"] == 0.75
    assert k["asa_s_chat"] == 30.0 and k["abandon_rate_chat"] is None
    assert point_kpis(None) == {}


def test_targets_are_each_queues_own() -> None:
    sc = load(EXAMPLE)  # voice 80/20 (no caps), chat 80/60; email is deferred work
    ok = {"status": "FEASIBLE", "service_level_voice": 0.8, "service_level_chat": 0.95}
    assert meets_targets(sc, ok)
    assert not meets_targets(sc, {**ok, "service_level_chat": 0.79})
    assert not meets_targets(sc, {**ok, "status": "UNKNOWN"})
    assert meets_targets(sc, {"status": "OPTIMAL"})  # no contacts, no KPIs: nothing missed
    capped = plan_sweep(EXAMPLE, ["queues.voice.abandon_max=0.05"]).scenarios[0]
    assert not meets_targets(capped, {**ok, "abandon_rate_voice": 0.06})
    assert meets_targets(capped, {**ok, "abandon_rate_voice": 0.05})
