"""How big the CP-SAT roster model of a problem will be, estimated before it is built.

:func:`estimate` counts the shift literals (agent × day × start the contract
allows; absences and availability only remove some, so it is an upper bound),
the constraints and the constraint entries (non-zeros) the rules add per
literal and per agent-day, and turns them into the peak resident memory of a
solve [MB] with per-entry costs measured on the scaled 150-agent benchmark
(``benchmarks/roster_scale.py``, numbers in ``benchmarks/RESULTS.md``).
:func:`check_model_size` refuses a problem whose estimate is above the memory
the machine can give (the ``model_memory_mb`` bound of :mod:`staffplan.limits`,
by default the memory available now), with the size and the levers that
shrink it, before a byte of the model is built.
"""

from __future__ import annotations

from dataclasses import dataclass

from staffplan import limits
from staffplan.roster.problem import RosterProblem

BASE_MB = 750.0
"""Python, pandas, OR-Tools and the problem's own arrays before the model, plus what a solve's
peak holds beyond a line through the measured sizes: 150 and 300 agents peaked at 1,069 and
1,399 MB over a 600-s solve, far above the per-entry cost alone [MB]."""

MB_PER_NONZERO = 0.0013
"""Peak memory per constraint entry over a whole solve (Python model objects, the proto, CP-SAT's
presolved copy, neighbourhood sub-models, and the LP relaxation HiGHS solves beside the search,
which alone about doubles the peak once it runs to the end on 600+ agents) [MB]."""

MB_PER_WORKER_NONZERO = 0.0001
"""Extra peak memory per constraint entry for each CP-SAT worker beyond the first [MB]."""

NONZEROS_PER_LITERAL = 12
"""Entries a shift literal has in the rules: the day's one-shift row, up to six rest rows, the
weekly and horizon minutes, coverage counts, template caps and cover rows."""

ROWS_PER_AGENT_DAY = 6
"""Constraints per agent-day: one shift a day, rest towards the next three days, consecutive-day
windows, weekly days."""


@dataclass(frozen=True)
class ModelSize:
    """Estimated size of a roster model: ``literals`` [shift literals], ``constraints`` [rows],
    ``nonzeros`` [entries], ``memory_mb`` [MB, peak over a solve with ``workers`` workers]."""

    literals: int
    constraints: int
    nonzeros: int
    memory_mb: float
    agents: int
    days: int
    starts: int
    """Shift variants (template × start time) in the problem."""


def estimate(problem: RosterProblem, workers: int = 2) -> ModelSize:
    """The size of ``build_model(problem)`` and the memory of solving it, without building it.

    Costs O(contracts × variants + agents), so even a problem far too big to build is sized in
    milliseconds.
    """
    per_contract = {
        cid: sum(1 for v in problem.variants if c.allows(v.template))
        for cid, c in problem.contracts.items()
    }
    days = problem.grid.days
    literals = sum(per_contract.get(a.contract, 0) for a in problem.agents) * days
    agent_days = len(problem.agents) * days
    n_queues = len(problem.demand.queues)
    interval_rows = n_queues * problem.grid.n * 3  # coverage, under and over rows per interval
    constraints = agent_days * ROWS_PER_AGENT_DAY + interval_rows
    nonzeros = literals * NONZEROS_PER_LITERAL + agent_days * ROWS_PER_AGENT_DAY + interval_rows
    per_nz = MB_PER_NONZERO + MB_PER_WORKER_NONZERO * max(workers - 1, 0)
    return ModelSize(
        literals=literals,
        constraints=constraints,
        nonzeros=nonzeros,
        memory_mb=BASE_MB + nonzeros * per_nz,
        agents=len(problem.agents),
        days=days,
        starts=len(problem.variants),
    )


def check_model_size(problem: RosterProblem, workers: int = 2) -> ModelSize:
    """:func:`estimate`, or a :class:`~staffplan.errors.LimitError` (exit code 2) naming the size
    and the levers if its memory is above the ``model_memory_mb`` bound."""
    size = estimate(problem, workers)
    top = limits.maximum("model_memory_mb")
    if size.memory_mb > top:
        bound = limits.BOUNDS["model_memory_mb"]
        step = min((t.start_step_min for t in problem.templates), default=0)
        raise limits.LimitError(
            f"the roster model is too big for this machine: about {size.memory_mb:,.0f} MB for "
            f"{size.literals:,} shift literals ({size.agents:,} agents × {size.days} days × up "
            f"to {size.starts} shift starts) and ~{size.constraints:,} constraints, above the "
            f"{top:,.0f} MB available",
            expected=f"a model of at most {top:,.0f} MB",
            found=f"{size.memory_mb:,.0f} MB",
            hint=f"shorten the horizon ([grid] days, now {size.days}), use coarser start times "
            f"(shifts.csv start_step_min, now from {step} min: doubling it halves the "
            "literals), allow fewer templates per contract, or plan the teams one at a time; "
            f"{bound.why}; the limit can be raised with {bound.env}=N [MB]",
        )
    return size
