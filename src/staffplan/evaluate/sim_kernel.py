"""The discrete-event core of the roster simulation: one replication, plain arrays in and out.

Three time-ordered streams drive the loop: the pre-drawn arrivals (a sorted
array), the agents' on/off-phone transitions at interval boundaries (a sorted
array) and the contacts in service (a binary heap of completions). Waiting
contacts sit in one FIFO deque per queue; abandonment is resolved lazily: a
contact whose abandonment time [s] has passed is dropped (counted abandoned)
when it reaches the head of its deque, or at the end of the horizon.

Routing (the exact rule):

* An arriving contact of queue q goes to the eligible on-phone agent with a
  free slot and the fewest contacts in progress (0 before 1 ... before
  ``concurrency - 1``); among those, to the one that has been in that state
  longest ("longest idle"). Otherwise it waits.
* An agent who gets a free slot looks only at queues it can serve: with no
  contact in progress, at the queues of its best (lowest number) skill
  priority that have a waiting contact, taking the longest-waiting head among
  them; lower priorities are looked at only when every better one is empty.
  An agent's priorities may change at given times (the queue the plan
  allocates it to in an interval first, ``priority_*``). With ``exclusive``
  such a change also replaces the queues the agent may serve at all: an
  agent moved while busy finishes its contact (and chat sessions) on the
  old queue before it takes one from the new queue.
  An agent with chat sessions in progress takes further contacts only from
  that same queue, up to its concurrency.
* When an agent's shift, break or activity starts (an on-phone → off-phone
  transition), contacts in progress are finished; no new contact is taken.

Times are seconds from the start of the grid.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from heapq import heappop, heappush

import numpy as np

WAITING_AT_END = -2.0
ABANDONED = -1.0


def run_replication(
    arr_t: np.ndarray,
    arr_q: np.ndarray,
    handle_s: np.ndarray,
    abandon_at: np.ndarray,
    trans_t: np.ndarray,
    trans_agent: np.ndarray,
    trans_on: np.ndarray,
    groups: list[list[list[int]]],
    agent_queues: list[list[int]],
    concurrency: list[int],
    horizon_s: float,
    priority_t: np.ndarray | None = None,
    priority_agent: np.ndarray | None = None,
    priority_groups: list[list[list[int]]] | None = None,
    exclusive: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Simulate one replication; return each contact's service start time [s] and agent.

    ``arr_t`` sorted arrival times [s], ``arr_q`` queue index, ``handle_s``
    handle time [s], ``abandon_at`` time [s] at which the contact hangs up if
    still waiting (``inf`` = never). ``trans_*`` are the sorted agent
    transitions (time [s], agent, True = goes on the phone). ``groups[a]``
    lists agent a's queues grouped by skill priority (best first);
    ``agent_queues[a]`` is the flat list. ``priority_t`` (sorted times [s]),
    ``priority_agent`` and ``priority_groups`` replace ``groups[agent]`` by the
    given groups from that time on (before anything else happening then);
    with ``exclusive`` the agent then serves only the queues of those groups.
    Returns start times, with
    :data:`ABANDONED` (-1) or :data:`WAITING_AT_END` (-2) for contacts never
    answered, and the index of the agent who answered (-1 if none).
    """
    n = len(arr_t)
    at = arr_t.tolist()
    aq = arr_q.tolist()
    hs = handle_s.tolist()
    ab = abandon_at.tolist()
    tt = trans_t.tolist()
    ta = trans_agent.tolist()
    ton = trans_on.tolist()
    n_tr = len(tt)
    nq = len(concurrency)
    na = len(groups)
    conc = list(concurrency)
    groups = list(groups)
    agent_queues = [list(x) for x in agent_queues]
    pt = [] if priority_t is None else priority_t.tolist()
    pa = [] if priority_agent is None else priority_agent.tolist()
    pg = priority_groups or []
    n_pr = len(pt)

    start = [WAITING_AT_END] * n
    by = [-1] * n
    waiting: list[deque[int]] = [deque() for _ in range(nq)]
    # idle[q][k]: on-phone agents with k contacts in progress on q (k < concurrency), longest first
    idle: list[list[OrderedDict[int, None]]] = [
        [OrderedDict() for _ in range(conc[q])] for q in range(nq)
    ]
    idle0 = [lv[0] for lv in idle]
    active = [0] * na
    active_q = [-1] * na
    on = [False] * na
    heap: list[tuple[float, int, int]] = []
    inf = float("inf")

    def unidle(a: int) -> None:
        k = active[a]
        if k == 0:
            for q in agent_queues[a]:
                del idle0[q][a]
        else:
            q = active_q[a]
            if k < conc[q] and q in agent_queues[a]:
                del idle[q][k][a]

    def make_idle(a: int) -> None:
        k = active[a]
        if k == 0:
            for q in agent_queues[a]:
                idle0[q][a] = None
        else:
            q = active_q[a]
            if k < conc[q] and q in agent_queues[a]:  # moved away: no more of the old queue
                idle[q][k][a] = None

    def head(q: int, t: float) -> int:
        """The longest-waiting contact of q still waiting at t (abandoned ones dropped), or -1."""
        dq = waiting[q]
        while dq:
            c = dq[0]
            if ab[c] <= t:
                dq.popleft()
                start[c] = ABANDONED
                continue
            return c
        return -1

    def fill(a: int, t: float) -> None:
        """Give agent a (on phone, not in the idle sets) work at t while it has free slots."""
        if active[a] == 0:
            for grp in groups[a]:
                best_q = -1
                best_t = inf
                for q in grp:
                    c = head(q, t)
                    if c >= 0 and at[c] < best_t:
                        best_t = at[c]
                        best_q = q
                if best_q >= 0:
                    c = waiting[best_q].popleft()
                    start[c] = t
                    by[c] = a
                    active[a] = 1
                    active_q[a] = best_q
                    heappush(heap, (t + hs[c], a, best_q))
                    break
            else:
                return
        q = active_q[a]
        if q not in agent_queues[a]:
            return
        cq = conc[q]
        while active[a] < cq:
            c = head(q, t)
            if c < 0:
                return
            waiting[q].popleft()
            start[c] = t
            by[c] = a
            active[a] += 1
            heappush(heap, (t + hs[c], a, q))

    i_arr = 0
    i_tr = 0
    i_pr = 0
    next_arr = at[0] if n else inf
    next_tr = tt[0] if n_tr else inf
    next_pr = pt[0] if n_pr else inf
    while True:
        if (
            next_pr < horizon_s
            and next_pr <= next_arr
            and next_pr <= next_tr
            and (not heap or next_pr <= heap[0][0])
        ):  # a priority change comes before anything else happening at its time
            a = pa[i_pr]
            if exclusive:
                if on[a]:
                    unidle(a)
                groups[a] = pg[i_pr]
                agent_queues[a] = [q for grp in pg[i_pr] for q in grp]
                if on[a]:
                    fill(a, next_pr)
                    make_idle(a)
            else:
                groups[a] = pg[i_pr]
            i_pr += 1
            next_pr = pt[i_pr] if i_pr < n_pr else inf
            continue
        next_done = heap[0][0] if heap else inf
        if next_done <= next_arr and next_done <= next_tr:
            if next_done >= horizon_s:
                break
            t, a, q = heappop(heap)
            if on[a]:
                unidle(a)
                active[a] -= 1
                if active[a] == 0:
                    active_q[a] = -1
                fill(a, t)
                make_idle(a)
            else:
                active[a] -= 1
                if active[a] == 0:
                    active_q[a] = -1
        elif next_tr <= next_arr:
            if next_tr >= horizon_s:
                break
            t = next_tr
            a = ta[i_tr]
            if ton[i_tr]:
                if not on[a]:
                    on[a] = True
                    fill(a, t)
                    make_idle(a)
            elif on[a]:
                unidle(a)
                on[a] = False
            i_tr += 1
            next_tr = tt[i_tr] if i_tr < n_tr else inf
        else:
            t = next_arr
            c = i_arr
            q = aq[c]
            levels = idle[q]
            a = -1
            for d in levels:
                if d:
                    a = next(iter(d))
                    break
            if a < 0:
                waiting[q].append(c)
            else:
                unidle(a)
                start[c] = t
                by[c] = a
                active[a] += 1
                active_q[a] = q
                heappush(heap, (t + hs[c], a, q))
                make_idle(a)
            i_arr += 1
            next_arr = at[i_arr] if i_arr < n else inf

    for dq in waiting:
        for c in dq:
            if ab[c] <= horizon_s:
                start[c] = ABANDONED
    return np.asarray(start, dtype=np.float64), np.asarray(by, dtype=np.int64)
