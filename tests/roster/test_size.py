"""Model size estimated before building: literal count against the built model, and the refusal
of a model above the memory bound (exit 2, the size and the levers, nothing built)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from rosterkit import contract, make, template
from tests.scenario_kit import tiny_scenario

from staffplan.cli import main
from staffplan.errors import LimitError
from staffplan.io.team import Absence, Agent
from staffplan.roster.build import build_model
from staffplan.roster.engine import plan
from staffplan.roster.problem import RosterProblem
from staffplan.roster.size import estimate
from staffplan.settings import SolveSettings

QUICK = SolveSettings(1, 1, 0, deterministic=True)


def _problem(**kw: object):  # type: ignore[no-untyped-def]
    templates = (
        template("E", "06:00", "09:00", step=30),  # 7 starts
        template("L", "12:00", "14:00", step=60),  # 3 starts
        template("P", "08:00", "12:00", length=240, step=60),  # 5 starts
    )
    contracts = {"C": contract(templates=("E", "L")), "P": contract(id="P", templates=("P",))}
    agents = [
        Agent(f"A{i}", f"a{i}", "t", "P" if i % 3 == 2 else "C", ("voice",)) for i in range(7)
    ]
    return make(agents=agents, days=5, templates=templates, contracts=contracts, **kw)


def test_literals_are_those_the_built_model_has_and_an_upper_bound_with_absences() -> None:
    p = _problem()
    size = estimate(p)
    assert size.literals == len(build_model(p).x) == 5 * (5 * 10 + 2 * 5)
    gone = (
        Absence(
            "A0",
            pd.Timestamp("2026-12-08", tz="UTC"),
            pd.Timestamp("2026-12-10", tz="UTC"),
            "vacation",
        ),
    )
    q = _problem(absences=gone)
    assert len(build_model(q).x) == size.literals - 2 * 10 <= estimate(q).literals
    assert (size.agents, size.days, size.starts) == (7, 5, 15)


def test_memory_grows_with_agents_days_and_workers() -> None:
    small, wide = estimate(_problem()), estimate(make(agents=40, days=5))
    assert estimate(_problem(), workers=4).memory_mb > small.memory_mb
    longer = estimate(make(agents=40, days=10))
    assert wide.literals * 2 == longer.literals and longer.memory_mb > wide.memory_mb


def test_plan_refuses_a_model_above_the_bound_before_building(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    p = _problem()
    need = estimate(p).memory_mb
    monkeypatch.setenv("STAFFPLAN_MAX_MODEL_MEMORY_MB", f"{need * 0.9:.3f}")
    with pytest.raises(LimitError) as exc:
        plan(p, QUICK)
    text = str(exc.value)
    for word in (
        "shift literals",
        "7 agents × 5 days",
        "[grid] days",
        "start_step_min",
        "fewer templates",
        "STAFFPLAN_MAX_MODEL_MEMORY_MB",
    ):
        assert word in text, (word, text)
    monkeypatch.setenv("STAFFPLAN_MAX_MODEL_MEMORY_MB", f"{need * 1.1:.3f}")
    assert estimate(p).literals == len(plan(p, QUICK).model.x)


def test_roster_command_exits_2_with_one_line_on_a_model_above_a_lowered_bound(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sc = tiny_scenario(tmp_path / "sc")
    monkeypatch.setenv("STAFFPLAN_MAX_MODEL_MEMORY_MB", "1")
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(["roster", str(sc), "--out", str(tmp_path / "out"), "--time-limit", "5"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2, err
    assert "Traceback" not in err, err
    assert len([line for line in err.splitlines() if line.startswith("error: ")]) == 1, err
    assert "too big for this machine" in err and "STAFFPLAN_MAX_MODEL_MEMORY_MB" in err
    assert not (tmp_path / "out" / "roster.csv").exists()


def test_the_default_bound_is_the_memory_available_now() -> None:
    from staffplan import limits

    available = limits.available_memory_mb()
    assert available > 0
    assert limits.maximum("model_memory_mb") == pytest.approx(available, rel=0.2)


SCALE_WEEK_PEAK_MB = {150: 1069, 300: 1399, 600: 1767, 1200: 3413}
"""Peak resident memory [MB] measured by ``benchmarks/roster_scale.py --agents N`` on 2 workers
(the largest of its runs in ``benchmarks/RESULTS.md``, "Scale benchmark")."""


def _scale_week(n_agents: int) -> RosterProblem:
    """The shape of ``roster_scale.py``'s centre, for sizing: a 7-day week of 15-min intervals,
    3 queues, 4 agents in 5 full-time on three 8.5-h templates starting every 15 min (25 starts)
    and 1 in 5 part-time on 4-h and 6-h templates starting every hour (18 starts)."""
    templates = (
        template("E8", "06:30", "09:00", length=510, step=15),
        template("M8", "09:15", "11:30", length=510, step=15),
        template("L8", "11:45", "12:30", length=510, step=15),
        template("P4", "08:00", "17:00", length=240, step=60),
        template("P6", "08:00", "15:00", length=360, step=60),
    )
    contracts = {
        "C": contract(templates=("E8", "M8", "L8")),
        "P": contract(id="P", templates=("P4", "P6")),
    }
    agents = [
        Agent(f"A{i}", f"a{i}", "t", "P" if i % 5 == 4 else "C", ("voice",))
        for i in range(n_agents)
    ]
    return make(
        agents=agents,
        days=7,
        templates=templates,
        contracts=contracts,
        queues=("voice", "chat", "email"),
        interval_min=15,
    )


@pytest.mark.parametrize("agents", sorted(SCALE_WEEK_PEAK_MB))
def test_the_estimate_is_above_the_measured_peak_of_the_scale_benchmark(agents: int) -> None:
    size = estimate(_scale_week(agents), workers=2)
    assert size.literals == agents * 7 * (4 * 25 + 18) // 5  # 24,780 at 150 agents, as measured
    assert size.memory_mb >= SCALE_WEEK_PEAK_MB[agents], (size.memory_mb, agents)
