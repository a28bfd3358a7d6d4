"""The published roster as cover reads it: the queue each multi-skilled agent serves follows the
engine's allocation, and its coverage is the engine's."""

from __future__ import annotations

import numpy as np
from coverkit import GRID, queue_case

from staffplan.cover.published import coverage_counts, parse_rows, published_assignment
from staffplan.roster.extract import allocate


def test_published_assignment_follows_the_engine_allocation() -> None:
    problem, pub = queue_case()
    rows = parse_rows(problem, pub)
    assign = published_assignment(problem, rows)
    # every queue is fully covered by its single-skilled agents, so M1 takes its first-priority
    # queue (voice) 08-16
    assert assign[2, 8:16].tolist() == [0] * 8 and assign[2, :8].tolist() == [-1] * 8
    before = coverage_counts(problem, pub, (), assign)
    on = np.zeros((4, GRID.n), dtype=bool)
    on[:, 8:16] = True
    assert (
        before
        == allocate(on, [problem.agent_queues(a) for a in problem.agents], problem.demand.required)
    ).all()
