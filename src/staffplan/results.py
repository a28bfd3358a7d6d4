"""What one scenario run produced: the frames of every stage and the flat summary of weekly
KPIs that ``compare`` lays side by side."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from staffplan.scenario import Scenario


@dataclass(frozen=True, eq=False)
class RunResult:
    """Everything one scenario run produced.

    ``forecast``: interval_start, queue, volume [contacts], aht_seconds [s], method.
    ``requirements``: the ``compute_requirements`` frame (agents on queue and scheduled heads).
    ``kpis``: per interval and real-time queue (voice/chat): volume, agents, service_level, asa_s,
    occupancy, abandon_rate.
    ``week``: one row per real-time queue plus ``all``.
    ``summary``: flat JSON-ready weekly numbers (see :data:`COMPARE_METRICS`).
    """

    scenario: Scenario
    forecast: pd.DataFrame
    requirements: pd.DataFrame
    outcome: Any  # staffplan.roster.Outcome
    problem: Any  # staffplan.roster.RosterProblem
    kpis: pd.DataFrame
    week: pd.DataFrame
    summary: Mapping[str, Any]
    stage_seconds: Mapping[str, float]
    simulation: Any = None  # staffplan.evaluate.sim_scenario.ScenarioSimulation | None
