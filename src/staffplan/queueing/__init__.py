"""Queueing core: Erlang B/C, Erlang A, chat concurrency, deferred work, staffing.

Pure, vectorised functions over numpy arrays; see docs/queueing.md for the
models and formulas.
"""

from staffplan.queueing.deferred import deadline_intervals, deferred_load, deferred_requirements
from staffplan.queueing.erlang import (
    erlang_b,
    erlang_c,
    erlang_c_metrics,
    log_erlang_b,
    offered_load,
)
from staffplan.queueing.erlang_a import erlang_a_metrics
from staffplan.queueing.interval import StateKpis, state_kpis
from staffplan.queueing.staffing import (
    Target,
    answered_within_curve,
    concave_majorant,
    kpis,
    required_agents,
    scheduled_heads,
    service_level_curve,
    target_for_queue,
)

__all__ = [
    "StateKpis",
    "Target",
    "answered_within_curve",
    "concave_majorant",
    "deadline_intervals",
    "deferred_load",
    "deferred_requirements",
    "erlang_a_metrics",
    "erlang_b",
    "erlang_c",
    "erlang_c_metrics",
    "kpis",
    "log_erlang_b",
    "offered_load",
    "required_agents",
    "scheduled_heads",
    "service_level_curve",
    "state_kpis",
    "target_for_queue",
]
