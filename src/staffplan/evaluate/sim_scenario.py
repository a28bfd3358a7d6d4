"""One call from a scenario and a roster to simulated KPIs beside the promise.

``staffplan simulate`` and ``staffplan run --simulate`` both use
:func:`simulate_scenario`. The roster's on-phone heads are allocated to
queues as the roster engine allocates them (against the scenario's coverage
target); each head is lost to its queue's residual shrinkage at random, per
agent and interval, in the simulation, and the promise is the promised KPIs
of the same allocation. By default each agent serves only the queue it is
allocated to (``routing = "allocated"``, the promise's assumption);
``pooled`` lets multi-skilled agents help their other queues, which shows
what skill-based routing gains over the promise.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from staffplan.evaluate.sim_compare import compare, promise
from staffplan.evaluate.sim_inputs import (
    forecast_arrays,
    history_patience,
    queue_settings,
    roster_arrays,
    simulate_settings,
)
from staffplan.evaluate.simulate import SimulationResult, simulate_week
from staffplan.scenario import Scenario


@dataclass(frozen=True)
class ScenarioSimulation:
    """Simulated KPIs of a roster (formats in docs/formats.md, "Simulation").

    ``intervals`` / ``week``: the simulation frames with ``interval_start``
    and the ``promised_*``, ``*_diff`` and ``flagged`` columns. ``note`` says
    which queues fell back to infinite patience ("; "-joined, else "").
    ``patience_s`` maps each queue to the mean patience simulated [s]
    (None = infinite); ``routing`` the routing simulated
    (:data:`~staffplan.evaluate.simulate.ROUTINGS`).
    """

    intervals: pd.DataFrame
    week: pd.DataFrame
    result: SimulationResult
    agents: int
    replications: int
    seed: int
    threshold: float
    note: str
    patience_s: dict[str, float | None] | None = None
    routing: str = "allocated"

    @property
    def flagged(self) -> pd.DataFrame:
        """Interval × queue rows whose simulation differs from the promise by more than the
        threshold.
        """
        if "flagged" not in self.intervals:
            return self.intervals.iloc[0:0]
        return self.intervals[self.intervals["flagged"]]


def simulate_scenario(
    scenario: Scenario,
    roster: pd.DataFrame,
    *,
    forecast: pd.DataFrame | None = None,
    replications: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    threshold: float | None = None,
    roster_file: str | Path | None = None,
    routing: str | None = None,
) -> ScenarioSimulation:
    """Simulate ``roster`` (a roster.csv text frame) against the scenario's forecast.

    ``forecast`` defaults to ``forecast_scenario(scenario)``; unset options
    come from the scenario's ``[simulate]`` table. ``workers`` is capped at 2
    processes; ``threshold`` [fraction]. With ``[simulate] patience =
    "history"`` queues without ``patience_s`` get the censored-exponential
    estimate from the history (:func:`~staffplan.evaluate.sim_inputs.history_patience`),
    in both the simulation and the promise. ``routing`` (default the scenario's,
    else ``allocated``: :data:`~staffplan.evaluate.simulate.ROUTINGS`).
    """
    from staffplan.requirements import compute_requirements
    from staffplan.roster.extract import assign_queues, queue_counts, queue_moves, queue_stays
    from staffplan.roster.load import roster_requirements, scenario_demand

    cfg = simulate_settings(scenario)
    reps = replications if replications is not None else cfg["replications"]
    seed_ = seed if seed is not None else cfg["seed"]
    workers_ = min(workers if workers is not None else cfg["workers"], 2)
    thr = float(threshold if threshold is not None else cfg["threshold"])
    route = routing if routing is not None else str(cfg["routing"])
    queues = list(scenario.queues)
    notes: list[str] = []
    need_history = cfg["patience"] == "history" and any(q.patience_s is None for q in queues)
    if forecast is None or need_history:
        from staffplan.forecast.pipeline import run_scenario, scenario_history

        if forecast is None:
            history, fc = run_scenario(scenario)
            forecast = fc.frame
        else:
            history = scenario_history(scenario)
        if need_history:
            est, est_notes = history_patience(
                queues, history.patience, source=history.source or None
            )
            queues = [replace(q, patience_s=est[q.name]) if q.name in est else q for q in queues]
            notes.extend(est_notes)
    arrays = roster_arrays(roster, scenario.grid, scenario.queues, file=roster_file)
    names = [q.name for q in scenario.queues]
    arrivals, aht = forecast_arrays(forecast, scenario.grid, names)
    req_file = scenario.file("requirements", required=False)
    demand = scenario_demand(
        scenario,
        None
        if req_file is not None
        else roster_requirements(compute_requirements(forecast, scenario)),
    )
    residual = (
        np.asarray(demand.residual, dtype=float)
        if demand.residual is not None
        else np.zeros(len(names))
    )
    agent_queues = [
        [int(q) for q in sorted(np.flatnonzero(row > 0), key=lambda q: (row[q], q))]
        for row in arrays.skills
    ]
    assigned = assign_queues(arrays.on_phone, agent_queues, demand.required)
    heads = queue_counts(assigned, len(names))
    loss = np.where(assigned >= 0, residual[np.maximum(assigned, 0)], 0.0)
    qsim = [queue_settings(q, cfg["handle"], cfg["handle_cv"]) for q in queues]
    interval_min = scenario.grid.interval_min
    result = simulate_week(
        arrivals,
        aht,
        interval_min,
        arrays.on_phone,
        arrays.skills,
        qsim,
        dispersion=cfg["dispersion"],
        replications=reps,
        seed=seed_,
        workers=workers_,
        loss=loss,
        priority=assigned,
        routing=route,
    )
    promised, promised_week = promise(
        arrivals,
        aht,
        interval_min,
        heads,
        queues,
        list(residual),
        queue_stays(assigned, len(names)),
        queue_moves(assigned, len(names)),
    )
    intervals = compare(result.intervals, promised, thr)
    week = result.week.merge(promised_week, on="queue", how="left")
    intervals = intervals.copy()
    intervals.insert(
        1,
        "interval_start",
        [t.isoformat() for t in scenario.grid.starts[intervals["interval"].to_numpy()]],
    )
    patience = {q.name: q.patience_s for q in queues}
    return ScenarioSimulation(
        intervals,
        week,
        result,
        len(arrays.agent_ids),
        reps,
        seed_,
        thr,
        "; ".join(notes),
        patience,
        route,
    )
