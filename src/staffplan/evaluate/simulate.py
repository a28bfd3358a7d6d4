"""Discrete-event simulation of a roster against its forecast (plain numpy inputs).

:func:`simulate_week` draws contacts per queue and interval (Poisson, or
gamma-Poisson when over-dispersed), handle times (exponential or lognormal
with the forecast mean) and patience (exponential), runs the event loop of
:mod:`staffplan.evaluate.sim_kernel` for each replication and reports per
interval × queue and per week × queue: offered, answered, abandoned, service
level, ASA, abandonment rate and occupancy, each with a t-based 95 %
confidence half-width across replications.

Definitions (per queue, contacts counted in their arrival interval):

* service level = answered within ``answer_within_s`` / offered (abandoned and
  still-waiting contacts count as not answered in time) [0-1];
* ASA = mean wait of answered contacts [s];
* abandon rate = abandoned / offered [0-1];
* occupancy = handling time / agent time on the queue, where a chat session
  counts ``1 / concurrency`` of an agent and an available agent's time counts
  on the queue it is allocated to (allocated routing), else is split across
  the queues it can serve in proportion to their offered load in that
  interval (equally when none has load) — :func:`agents_per_queue`. Work
  finished after a shift or break starts (or by an agent lost at an interval
  start) counts as handling time, so a value can slightly exceed 1.

Losses to residual shrinkage (``loss``): in every replication and interval
each on-phone agent is independently not available with its probability
``loss[agent, interval]`` — the roster's residual shrinkage of the queue the
agent serves there, the same Binomial losses the promised KPIs expect. A
lost agent takes no contact in that interval and finishes the one in
progress when the interval starts.

Conservation: offered = answered + abandoned + waiting_end, where
``waiting_end`` are contacts still waiting when the horizon ends.
Replications are independent streams spawned from one
``numpy.random.SeedSequence(seed)``, so results depend on the seed and the
inputs only, not on ``workers``.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from staffplan.errors import InputError
from staffplan.evaluate.sim_kernel import ABANDONED, WAITING_AT_END, run_replication

HANDLE_DISTRIBUTIONS = ("exponential", "lognormal")
ROUTINGS = ("allocated", "pooled")
"""``allocated``: each agent serves only the queue the plan allocates it to in each interval (the
promise's assumption); ``pooled``: that queue first, then its other queues by skill priority."""
METRICS = (
    "offered",
    "answered",
    "abandoned",
    "waiting_end",
    "service_level",
    "asa_s",
    "abandon_rate",
    "occupancy",
)


@dataclass(frozen=True)
class QueueSim:
    """Simulation settings of one queue.

    ``answer_within_s`` [s] is the service-level threshold (for email, the
    deadline); ``patience_s`` [s] the mean of the exponential patience (None =
    customers never hang up); ``concurrency`` [sessions per agent] (chat);
    ``handle`` the handle-time distribution with coefficient of variation
    ``handle_cv`` (lognormal only; exponential has cv 1).
    """

    name: str
    channel: str = "voice"
    answer_within_s: float = 20.0
    patience_s: float | None = None
    concurrency: int = 1
    handle: str = "exponential"
    handle_cv: float = 1.0

    def __post_init__(self) -> None:
        where = f"queue {self.name!r}"
        if self.handle not in HANDLE_DISTRIBUTIONS:
            raise InputError(
                f"{where}: unknown handle-time distribution",
                expected=" or ".join(HANDLE_DISTRIBUTIONS),
                found=self.handle,
            )
        if not self.handle_cv > 0:
            raise InputError(
                f"{where}: bad handle-time coefficient of variation",
                expected="a number > 0",
                found=self.handle_cv,
            )
        if self.patience_s is not None and not self.patience_s > 0:
            raise InputError(
                f"{where}: bad patience",
                expected="seconds > 0, or none for infinite patience",
                found=self.patience_s,
            )
        if int(self.concurrency) != self.concurrency or self.concurrency < 1:
            raise InputError(
                f"{where}: bad concurrency",
                expected="a whole number of sessions >= 1",
                found=self.concurrency,
            )
        if not self.answer_within_s >= 0:
            raise InputError(
                f"{where}: bad answer_within_s", expected="seconds >= 0", found=self.answer_within_s
            )


@dataclass(frozen=True)
class SimulationResult:
    """Simulated KPIs.

    ``intervals``: one row per interval × queue with columns ``interval``,
    ``queue``, ``agents`` (on-phone agents allocated to the queue, see
    :func:`agents_per_queue`), ``available`` (the same after losses, mean over
    replications) and, for each metric in :data:`METRICS`, its
    mean over replications and ``<metric>_ci`` (95 % t half-width; NaN with
    one replication or where the metric is undefined, e.g. no contacts).
    ``week``: the same per queue over the whole horizon. ``replications``:
    per replication × queue week values (columns ``replication``, ``queue``
    and the metrics).
    """

    intervals: pd.DataFrame
    week: pd.DataFrame
    replications: pd.DataFrame
    replications_run: int
    seed: int


@dataclass(frozen=True)
class _Inputs:
    """Validated inputs of :func:`simulate_week`, shipped to each replication (picklable)."""

    arrivals: np.ndarray
    aht_s: np.ndarray
    interval_min: int
    on_phone: np.ndarray
    skills: np.ndarray
    queues: tuple[QueueSim, ...]
    dispersion: float
    agents_q: np.ndarray
    loss: np.ndarray | None = None
    priority: np.ndarray | None = None
    exclusive: bool = False


def _check(
    arrivals: np.ndarray,
    aht_s: np.ndarray,
    on_phone: np.ndarray,
    skills: np.ndarray,
    queues: Sequence[QueueSim],
    dispersion: float,
    replications: int,
) -> None:
    nq, nt = arrivals.shape
    if aht_s.shape != (nq, nt):
        raise InputError(
            "handle-time array has the wrong shape",
            expected=f"(queues, intervals) = {(nq, nt)}",
            found=aht_s.shape,
        )
    if on_phone.ndim != 2 or on_phone.shape[1] != nt:
        raise InputError(
            "on-phone matrix has the wrong shape", expected=f"(agents, {nt})", found=on_phone.shape
        )
    if skills.shape != (on_phone.shape[0], nq):
        raise InputError(
            "skills matrix has the wrong shape",
            expected=f"(agents, queues) = {(on_phone.shape[0], nq)}",
            found=skills.shape,
        )
    if len(queues) != nq:
        raise InputError(
            "queue settings do not match the arrivals", expected=f"{nq} queues", found=len(queues)
        )
    if not np.all(np.isfinite(arrivals)) or (arrivals < 0).any():
        raise InputError(
            "bad expected arrivals",
            expected="finite contacts per interval >= 0",
            found=float(np.nanmin(arrivals)) if arrivals.size else None,
        )
    bad = (arrivals > 0) & ~(aht_s > 0)
    if bad.any():
        q, t = np.argwhere(bad)[0]
        raise InputError(
            f"queue {queues[q].name!r}, interval {t}: contacts without a handle time",
            expected="aht_s > 0 where arrivals > 0",
            found=float(aht_s[q, t]),
            hint="check the forecast's aht_seconds",
        )
    if (skills < 0).any():
        raise InputError(
            "bad skill priority",
            expected="0 (cannot serve) or a priority >= 1",
            found=int(skills.min()),
        )
    if not dispersion >= 0:
        raise InputError(
            "bad over-dispersion", expected="a number >= 0 (0 = Poisson)", found=dispersion
        )
    if replications < 1:
        raise InputError(
            "bad number of replications", expected="a whole number >= 1", found=replications
        )


def agents_per_queue(on_phone: np.ndarray, skills: np.ndarray, load: np.ndarray) -> np.ndarray:
    """On-phone agents per queue and interval, (n_queues, n_intervals) [agents], fractional.

    Each on-phone agent is split across the queues it can serve in
    proportion to their offered ``load`` (n_queues, n_intervals) [Erlangs]
    in that interval; equally when none of its queues has load.
    """
    elig = (skills > 0).astype(np.float64)  # (na, nq)
    out = np.zeros(load.shape)
    if elig.size == 0:
        return out
    for pattern in np.unique(elig, axis=0):
        members = np.all(elig == pattern, axis=1)
        k = int(pattern.sum())
        if k == 0:
            continue
        count = on_phone[members].sum(axis=0).astype(np.float64)  # (nt,)
        w = pattern[:, None] * np.where(
            load > 1e-9, load, 0.0
        )  # (nq, nt); negligible load counts as none
        total = w.sum(axis=0)
        share = np.where(total > 0, w / np.where(total > 0, total, 1.0), pattern[:, None] / k)
        out += share * count
    return out


def _allocated_count(on_phone: np.ndarray, skills: np.ndarray, plan: np.ndarray) -> np.ndarray:
    """On-phone agents per queue and interval when each serves its planned queue only,
    (n_queues, n_intervals) [agents]; an agent without a plan serves its one skill."""
    nq = skills.shape[1]
    single = np.where((skills > 0).sum(axis=1) == 1, np.argmax(skills > 0, axis=1), -1)
    queue = np.where(
        (plan >= 0) & (np.take_along_axis(skills, np.maximum(plan, 0), 1) > 0),
        plan,
        single[:, None],
    )
    return np.stack([(on_phone & (queue == q)).sum(axis=0) for q in range(nq)]).astype(float)


def _routing(skills: np.ndarray) -> tuple[list[list[list[int]]], list[list[int]]]:
    groups: list[list[list[int]]] = []
    flat: list[list[int]] = []
    for row in skills.tolist():
        prios = sorted({p for p in row if p > 0})
        groups.append([[q for q, p in enumerate(row) if p == pr] for pr in prios])
        flat.append([q for q, p in enumerate(row) if p > 0])
    return groups, flat


def _priority_events(
    skills: np.ndarray, priority: np.ndarray | None, interval_s: float, exclusive: bool = False
) -> tuple[np.ndarray, np.ndarray, list[list[list[int]]]]:
    """Times [s], agents and routing groups where a multi-skilled agent's first queue changes:
    the planned queue of the interval first, then (unless ``exclusive``) its other queues by
    skill priority.
    """
    times: list[float] = []
    agents: list[int] = []
    groups: list[list[list[int]]] = []
    if priority is None:
        return np.zeros(0), np.zeros(0, dtype=np.int64), groups
    static, _ = _routing(skills)
    for a in np.flatnonzero((skills > 0).sum(axis=1) > 1):
        prev = -2
        for t in range(priority.shape[1]):
            q = int(priority[a, t])
            if q == prev:
                continue
            prev = q
            if q < 0 or skills[a, q] <= 0:
                g = static[a]
            else:
                rest = [[x for x in grp if x != q] for grp in static[a]]
                g = [[q]] + ([] if exclusive else [grp for grp in rest if grp])
            times.append(t * interval_s)
            agents.append(int(a))
            groups.append(g)
    order = np.lexsort((np.asarray(agents), np.asarray(times)))
    return (
        np.asarray(times)[order],
        np.asarray(agents, dtype=np.int64)[order],
        [groups[i] for i in order],
    )


def _transitions(
    on_phone: np.ndarray, interval_s: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    na, nt = on_phone.shape
    padded = np.zeros((na, nt + 2), dtype=np.int8)
    padded[:, 1:-1] = on_phone
    diff = np.diff(padded, axis=1)  # (na, nt+1): +1 goes on at boundary b, -1 goes off
    agent, boundary = np.nonzero(diff)
    times = boundary.astype(np.float64) * interval_s
    order = np.lexsort((agent, times))
    return times[order], agent[order].astype(np.int64), (diff[agent, boundary] > 0)[order]


def draw_contacts(
    rng: np.random.Generator, inputs: _Inputs
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Draw one replication's contacts, sorted by arrival.

    Returns arrival time [s], queue index, arrival interval, handle time [s]
    and abandonment time [s] (``inf`` = infinite patience).
    """
    nq, nt = inputs.arrivals.shape
    interval_s = inputs.interval_min * 60.0
    mean = inputs.arrivals
    if inputs.dispersion > 0:
        # gamma-Poisson: variance = mean + dispersion * mean**2
        shape = 1.0 / inputs.dispersion
        mean = mean * rng.gamma(shape, 1.0 / shape, size=mean.shape)
    counts = rng.poisson(mean)
    cell = np.repeat(np.arange(nq * nt), counts.ravel())
    q = cell // nt
    t = cell % nt
    arr = (t + rng.random(len(cell))) * interval_s
    order = np.argsort(arr, kind="stable")
    arr, q, t = arr[order], q[order], t[order]
    aht = inputs.aht_s[q, t]
    handle = np.empty(len(arr))
    patience = np.full(len(arr), np.inf)
    for k, qs in enumerate(inputs.queues):
        sel = q == k
        m = aht[sel]
        if qs.handle == "exponential":
            handle[sel] = rng.exponential(1.0, size=m.size) * m
        else:
            s2 = np.log1p(qs.handle_cv**2)
            handle[sel] = m * rng.lognormal(-s2 / 2.0, np.sqrt(s2), size=m.size)
        if qs.patience_s is not None:
            patience[sel] = rng.exponential(qs.patience_s, size=m.size)
    return arr, q, t, handle, arr + patience


def _one_replication(inputs: _Inputs, seq: np.random.SeedSequence) -> np.ndarray:
    """Per-(queue, interval) sums of one replication, shape (8, nq, nt): offered, answered,
    abandoned, waiting_end, within, wait [s], busy [s], available agent time [s].
    """
    nq, nt = inputs.arrivals.shape
    interval_s = inputs.interval_min * 60.0
    horizon = nt * interval_s
    rng = np.random.default_rng(seq)
    on_phone = inputs.on_phone
    if inputs.loss is not None:
        lost = np.random.default_rng(seq.spawn(1)[0]).random(on_phone.shape) < inputs.loss
        on_phone = on_phone & ~lost
    arr, q, t, handle, abandon_at = draw_contacts(rng, inputs)
    groups, flat = _routing(inputs.skills)
    tr_t, tr_a, tr_on = _transitions(on_phone, interval_s)
    conc = [int(qs.concurrency) for qs in inputs.queues]
    pr_t, pr_a, pr_g = _priority_events(
        inputs.skills, inputs.priority, interval_s, inputs.exclusive
    )
    start, _ = run_replication(
        arr,
        q,
        handle,
        abandon_at,
        tr_t,
        tr_a,
        tr_on,
        groups,
        flat,
        conc,
        horizon,
        pr_t,
        pr_a,
        pr_g,
        inputs.exclusive,
    )
    cell = q * nt + t
    size = nq * nt
    answered = start >= 0
    wait = np.where(answered, start - arr, 0.0)
    within = answered & (wait <= np.array([qs.answer_within_s for qs in inputs.queues])[q] + 1e-9)
    out = np.zeros((8, nq, nt))
    out[0] = np.bincount(cell, minlength=size).reshape(nq, nt)
    out[1] = np.bincount(cell, weights=answered, minlength=size).reshape(nq, nt)
    out[2] = np.bincount(cell, weights=start == ABANDONED, minlength=size).reshape(nq, nt)
    out[3] = np.bincount(cell, weights=start == WAITING_AT_END, minlength=size).reshape(nq, nt)
    out[4] = np.bincount(cell, weights=within, minlength=size).reshape(nq, nt)
    out[5] = np.bincount(cell, weights=wait, minlength=size).reshape(nq, nt)
    bounds = np.arange(nt + 1) * interval_s
    for k, qs in enumerate(inputs.queues):
        sel = answered & (q == k)
        s = np.sort(start[sel])
        e = np.sort(np.minimum(start[sel] + handle[sel], horizon))
        out[6, k] = np.diff(_integral(s, bounds) - _integral(e, bounds)) / qs.concurrency
    if inputs.loss is None:
        out[7] = inputs.agents_q * interval_s
    elif inputs.exclusive and inputs.priority is not None:
        out[7] = _allocated_count(on_phone, inputs.skills, inputs.priority) * interval_s
    else:
        load = inputs.arrivals * inputs.aht_s / interval_s / np.array(conc, dtype=float)[:, None]
        out[7] = agents_per_queue(on_phone, inputs.skills, load) * interval_s
    return out


def _integral(points: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """sum over sorted ``points`` p < b of (b - p), for each b in ``bounds`` [s]."""
    k = np.searchsorted(points, bounds, side="left")
    csum = np.concatenate(([0.0], np.cumsum(points)))
    return k * bounds - csum[k]


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _metrics(sums: np.ndarray) -> dict[str, np.ndarray]:
    """Metrics from sums with shape (R, 8, ...)."""
    offered, answered, abandoned, waiting_end, within, wait, busy, agent_s = (
        sums[:, i] for i in range(8)
    )
    return {
        "offered": offered,
        "answered": answered,
        "abandoned": abandoned,
        "waiting_end": waiting_end,
        "service_level": _ratio(within, offered),
        "asa_s": _ratio(wait, answered),
        "abandon_rate": _ratio(abandoned, offered),
        "occupancy": _ratio(busy, agent_s),
    }


def _mean_ci(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and 95 % t half-width over axis 0, ignoring NaN (NaN when < 2 values)."""
    ok = ~np.isnan(values)
    n = ok.sum(axis=0)
    total = np.where(ok, values, 0.0).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(n > 0, total / np.maximum(n, 1), np.nan)
        dev = np.where(ok, values - mean, 0.0)
        var = (dev**2).sum(axis=0) / np.maximum(n - 1, 1)
        tq = stats.t.ppf(0.975, np.maximum(n - 1, 1))
        half = np.where(n >= 2, tq * np.sqrt(var / np.maximum(n, 1)), np.nan)
    return mean, half


def simulate_week(
    arrivals: np.ndarray,
    aht_s: np.ndarray,
    interval_min: int,
    on_phone: np.ndarray,
    skills: np.ndarray,
    queues: Sequence[QueueSim],
    *,
    dispersion: float = 0.0,
    replications: int = 10,
    seed: int = 0,
    workers: int = 1,
    loss: np.ndarray | None = None,
    priority: np.ndarray | None = None,
    routing: str = "allocated",
) -> SimulationResult:
    """Simulate a roster against a forecast, ``replications`` times.

    ``arrivals`` (n_queues, n_intervals) expected contacts per interval
    [contacts]; ``aht_s`` same shape, mean handle time [s];
    ``interval_min`` interval length [min]; ``on_phone`` (n_agents,
    n_intervals) bool, agent available for contacts; ``skills`` (n_agents,
    n_queues) int priority (0 = cannot serve, 1 = most preferred);
    ``queues`` one :class:`QueueSim` per row of ``arrivals``;
    ``dispersion`` arrival over-dispersion (0 = Poisson; d gives variance
    mean + d·mean² per interval); ``workers`` processes for replications;
    ``loss`` (n_agents, n_intervals) probability [0-1] that an on-phone
    agent is lost to residual shrinkage in the interval (None = nobody);
    ``priority`` (n_agents, n_intervals) the queue a multi-skilled agent serves
    first in the interval (the plan's allocation; -1 or None = its skill
    priorities only); ``routing`` (:data:`ROUTINGS`): with ``allocated`` and a
    ``priority``, each agent serves only that queue in each interval (an
    agent moved while busy finishes on the old queue first); ``pooled`` lets
    a multi-skilled agent also serve its other queues when its planned one
    has nobody waiting.
    """
    if routing not in ROUTINGS:
        raise InputError("unknown routing", expected=" or ".join(ROUTINGS), found=routing)
    arrivals = np.asarray(arrivals, dtype=np.float64)
    aht_s = np.asarray(aht_s, dtype=np.float64)
    on_phone = np.asarray(on_phone, dtype=bool)
    skills = np.asarray(skills, dtype=np.int64)
    queues = tuple(queues)
    if arrivals.ndim != 2:
        raise InputError(
            "expected arrivals has the wrong shape",
            expected="(queues, intervals)",
            found=arrivals.shape,
        )
    _check(arrivals, aht_s, on_phone, skills, queues, dispersion, replications)
    if loss is not None:
        loss = np.asarray(loss, dtype=np.float64)
        if loss.shape != on_phone.shape or not np.all((loss >= 0) & (loss < 1)):
            raise InputError(
                "bad loss probabilities",
                expected=f"an array {on_phone.shape} of fractions in [0, 1)",
                found=loss.shape,
            )
        if not loss.any():
            loss = None
    nq, nt = arrivals.shape
    interval_s = interval_min * 60.0
    load = (
        arrivals
        * aht_s
        / interval_s
        / np.array([qs.concurrency for qs in queues], dtype=np.float64)[:, None]
    )
    exclusive = routing == "allocated" and priority is not None
    if exclusive:
        priority = np.asarray(priority, dtype=np.int64)
        agents_q = _allocated_count(on_phone, skills, priority)
    else:
        agents_q = agents_per_queue(on_phone, skills, load)
    inputs = _Inputs(
        arrivals,
        aht_s,
        interval_min,
        on_phone,
        skills,
        queues,
        float(dispersion),
        agents_q,
        loss,
        None if priority is None else np.asarray(priority, dtype=np.int64),
        exclusive,
    )
    seqs = np.random.SeedSequence(seed).spawn(replications)
    if workers > 1 and replications > 1:
        with ProcessPoolExecutor(max_workers=min(workers, replications)) as pool:
            parts = list(pool.map(_one_replication, [inputs] * replications, seqs))
    else:
        parts = [_one_replication(inputs, s) for s in seqs]
    sums = np.stack(parts)  # (R, 8, nq, nt)
    names = [qs.name for qs in queues]

    per_int = _metrics(sums)
    cols: dict[str, np.ndarray] = {
        "interval": np.tile(np.arange(nt), nq),
        "queue": np.repeat(np.array(names, dtype=object), nt),
        "agents": agents_q.ravel(),
        "available": sums[:, 7].mean(axis=0).ravel() / interval_s,
    }
    for m in METRICS:
        mean, half = _mean_ci(per_int[m].reshape(replications, -1))
        cols[m] = mean
        cols[f"{m}_ci"] = half
    intervals = pd.DataFrame(cols)

    wsums = sums.sum(axis=3)  # (R, 8, nq)
    per_week = _metrics(wsums)
    wcols: dict[str, np.ndarray] = {
        "queue": np.array(names, dtype=object),
        "agent_hours": (agents_q * interval_s).sum(axis=1) / 3600.0,
        "available_hours": wsums[:, 7].mean(axis=0) / 3600.0,
    }
    for m in METRICS:
        mean, half = _mean_ci(per_week[m])
        wcols[m] = mean
        wcols[f"{m}_ci"] = half
    week = pd.DataFrame(wcols)
    reps = pd.DataFrame(
        {
            "replication": np.repeat(np.arange(replications), nq),
            "queue": np.tile(np.array(names, dtype=object), replications),
        }
        | {m: per_week[m].ravel() for m in METRICS}
    )
    return SimulationResult(
        intervals=intervals, week=week, replications=reps, replications_run=replications, seed=seed
    )
