"""Roster engine at scale, and pyworkforce's pipeline on the same instance.

Instance (fixed seed): 150 agents (60 voice, 25 chat, 25 email, 25
voice+chat, 15 voice+email; 120 full-time 37.5-40 h / 5 days, 30 part-time
20-25 h), 7 days × 15 min, 41 shift variants (8.5-h early/mid/late shifts
every 15 min, 4-h and 6-h part-time shifts every 30 min), 15 agents (10 %)
with 1-3 vacation days. Demand: voice 18,000 calls/week (AHT 280 s, 80/20,
patience 180 s), chat 7,000 (AHT 420 s, 80/60 s, concurrency 2), email
5,500 (AHT 360 s, workload within the opening hours); requirements from
``staffplan.queueing``.

Engine: ``staffplan.roster.plan`` with the given time limits on 2 workers.
Peer (pyworkforce 0.5, in ``benchmarks/.venv-peers``): ``MinAbsDifference``
(how many of each full-time shift per day, against the total requirement —
it has no skills) then ``MinHoursRoster`` (assign the 150 agents, at least 4 days
each — 5 would be infeasible for agents with 3 vacation days — absences as
banned shifts; shift counts above the agents present on a day scaled down). Both rosters are scored
the same way:
breaks at their windows' midpoints for the peer (placed by the engine's
second stage for the engine), on-phone agents allocated to queues by
:func:`staffplan.roster.allocate`, promised KPIs from ``staffplan.evaluate.kpis`` (expected
over agents lost to the 23 % residual shrinkage; coverage targets are the fewest heads whose
promise meets each target).

Run: ``python benchmarks/roster_scale.py --limits 10 60``; ``--agents N`` scales the centre (the
skill and contract mix, vacations and volumes in proportion; 150 is the instance above). Each row
also gives the machine's 1-minute load average when the solve started, the model size estimated
before building (``staffplan.roster.size``) and the process's peak resident memory so far (run one
size per process: ``for n in 150 300 600 1200; do python benchmarks/roster_scale.py --agents $n
--limits 60 --no-peer; done``). ``--checkpoints 60 300`` adds each run's best objective and
bound at those times (from ``plan()``'s progress callback), ``--record FILE`` appends the rows with
their incumbent trajectories and the engine's step times (``Outcome.stage_seconds``, also printed
on stderr) as JSON lines (``scale_chart.py`` draws them), and ``--after-pid``
builds the instance while another measured run solves and starts solving when it has ended.
Built instances are cached on disk (``--cache``, default ``benchmarks/.cache``) under a key of
their inputs — the agent count, the seed and the source of the code that builds them — so a
re-run skips the requirements and promised curves (about 17 CPU-minutes at 1,200 agents);
``--build-only`` builds (or checks) the cached instance and exits.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import inspect
import json
import os
import pickle
import resource
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

from staffplan.evaluate.kpis import interval_kpis, promised_curve, promised_heads, week_kpis
from staffplan.io.team import Absence, Agent, Break, Contract, ShiftTemplate
from staffplan.queueing import Target, concave_majorant, required_agents
from staffplan.roster.engine import plan
from staffplan.roster.extract import allocate, on_phone_matrix
from staffplan.roster.problem import (
    Demand,
    RosterProblem,
    coverage_target,
    planned_break_offsets,
    residual_shrinkage,
    step_costs,
)
from staffplan.roster.size import estimate
from staffplan.roster.solver import Incumbent, relative_gap
from staffplan.scenario import Weights
from staffplan.settings import SolveSettings
from staffplan.timegrid import TimeGrid

SEED = 150
START = dt.date(2026, 12, 7)
PEER = Path(__file__).resolve().parent / ".venv-peers" / "bin" / "python"
CACHE = Path(__file__).resolve().parent / ".cache"
FT_BREAKS = (
    Break("coffee1", 15, True, 60, 150),
    Break("lunch", 30, False, 180, 300),
    Break("coffee2", 15, True, 330, 420),
)
TEMPLATES = (
    ShiftTemplate("E8", 390, 540, 15, 510, FT_BREAKS),
    ShiftTemplate("M8", 555, 690, 15, 510, FT_BREAKS),
    ShiftTemplate("L8", 705, 750, 15, 510, FT_BREAKS, ("E8",), True),
    ShiftTemplate("P4", 480, 1020, 60, 240, (Break("coffee", 15, True, 90, 150),)),
    ShiftTemplate("P6", 480, 900, 60, 360, (Break("coffee", 15, True, 150, 210),)),
)
QUEUES = ("voice", "chat", "email")
TARGETS = (Target(0.8, 20, patience_s=180), Target(0.8, 60, concurrency=2), None)


def instance(n_agents: int = 150) -> tuple[RosterProblem, np.ndarray, np.ndarray]:
    """The problem, plus volume and AHT arrays (3, n) for scoring.

    ``n_agents`` scales the 150-agent centre: the skill mix, the contract mix, the share of agents
    with vacations (10 %) and the volumes grow in proportion (150 gives today's instance exactly).
    """
    f = n_agents / 150
    wide = n_agents > 999
    rng = np.random.default_rng(SEED)
    grid = TimeGrid(START, 7, 15, "Europe/Madrid")
    n = grid.n
    minute = grid.minute_of_day
    wd = grid.weekday
    open_ = ((wd < 5) & (minute >= 480) & (minute < 1260)) | (
        (wd == 5) & (minute >= 540) & (minute < 900)
    )
    shape = np.where(
        open_,
        1.0
        + 0.6 * np.exp(-(((minute - 630) / 90.0) ** 2))
        + 0.3 * np.exp(-(((minute - 930) / 80.0) ** 2)),
        0.0,
    )
    shape = shape * np.where(wd == 0, 1.2, 1.0) * np.where(wd == 5, 0.8, 1.0)
    shape = shape / shape.sum()
    volume = (
        f
        * np.stack([18000 * shape, 7000 * shape, 5500 * shape])
        * rng.uniform(0.9, 1.1, size=(3, n))
    )
    aht = np.stack([np.full(n, 280.0), np.full(n, 420.0), np.full(n, 360.0)])
    req = np.zeros((3, n))
    for q in range(2):
        req[q] = required_agents(volume[q], aht[q], 15, TARGETS[q])
    req[2] = np.ceil(volume[2] * aht[2] / 900 / 0.85)
    r = residual_shrinkage(0.30, TEMPLATES)
    target = coverage_target(req, r)
    for q in range(2):  # real-time queues: the fewest heads whose promise meets the target
        target[q] = promised_heads(volume[q], aht[q], 15, TARGETS[q], r, start=target[q])
    m = int(target.max())
    costs = np.zeros((3, n, m))
    for q in range(3):
        curve = (
            concave_majorant(promised_curve(volume[q], aht[q], 15, TARGETS[q], r, m + 1))
            if TARGETS[q]
            else None
        )
        c = step_costs(target[q], curve)
        costs[q, :, : c.shape[1]] = c
    demand = Demand(
        QUEUES, QUEUES, target, np.zeros_like(target), costs, volume, aht, True, np.full(3, r)
    )
    sizes = [round(60 * f), round(25 * f), round(25 * f), round(25 * f)]
    mix = (
        [("voice",)] * sizes[0]
        + [("chat",)] * sizes[1]
        + [("email",)] * sizes[2]
        + [("voice", "chat")] * sizes[3]
        + [("voice", "email")] * (n_agents - sum(sizes))
    )
    agents, absences = [], []
    for i, skills in enumerate(mix):
        contract = "PT" if i % 5 == 4 else ("FT40" if i % 2 else "FT375")
        agents.append(
            Agent(
                f"A{i:04d}" if wide else f"A{i:03d}",
                f"Agent {i}",
                "T",
                contract,
                skills,
                float(rng.uniform(16, 22)),
            )
        )
    for i in rng.choice(len(mix), size=round(0.1 * len(mix)), replace=False):
        d = int(rng.integers(0, 6))
        k = int(rng.integers(1, 4))
        absences.append(
            Absence(
                f"A{i:04d}" if wide else f"A{i:03d}",
                grid.local_midnight(START + dt.timedelta(days=d)),
                grid.local_midnight(START + dt.timedelta(days=min(d + k, 7))),
                "vacation",
            )
        )
    contracts = {
        "FT40": Contract("FT40", 2400, 2400, 5, 6, min_rest_hours=11, templates=("E8", "M8", "L8")),
        "FT375": Contract(
            "FT375", 2250, 2400, 5, 6, min_rest_hours=11, templates=("E8", "M8", "L8")
        ),
        "PT": Contract("PT", 1200, 1500, 5, 6, min_rest_hours=11, templates=("P4", "P6")),
    }
    w = Weights(under_coverage=1000, over_coverage=1, cost=1, preference=10, fairness=50)
    problem = RosterProblem(
        grid,
        tuple(sorted(agents, key=lambda a: a.id)),
        contracts,
        TEMPLATES,
        demand,
        w,
        tuple(sorted(absences, key=lambda a: (a.agent_id, a.start))),
        residual_shrinkage=r,
    )
    return problem, volume, aht


def instance_key(n_agents: int) -> str:
    """Cache key of :func:`instance` (``n_agents``): a hash of the agent count, the seed, this
    function's source and the sources of the packages that compute the demand and the problem
    (queueing, evaluate, the roster problem, the team records, the time grid)."""
    import staffplan

    root = Path(staffplan.__file__).resolve().parent
    h = hashlib.sha256(f"{n_agents}:{SEED}:{START}".encode())
    h.update(inspect.getsource(instance).encode())
    files = sorted((root / "queueing").glob("*.py")) + sorted((root / "evaluate").glob("*.py"))
    files += [root / "roster" / "problem.py", root / "io" / "team.py", root / "timegrid.py"]
    files += [root / "shrinkage.py", root / "scenario.py"]
    for f in files:
        h.update(f.relative_to(root).as_posix().encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def cached_instance(
    n_agents: int, cache: Path | None
) -> tuple[RosterProblem, np.ndarray, np.ndarray]:
    """:func:`instance`, read from ``cache`` when built before with the same key
    (:func:`instance_key`), else built and written there atomically; ``cache`` None: always
    built."""
    if cache is None:
        return instance(n_agents)
    path = cache / f"roster_scale_{n_agents}_{instance_key(n_agents)}.pickle"
    if path.exists():
        print(f"instance: read from {path.name}", file=sys.stderr)
        with path.open("rb") as fh:
            return pickle.load(fh)
    built = instance(n_agents)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    with tmp.open("wb") as fh:
        pickle.dump(built, fh, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(path)
    return built


def score(
    problem: RosterProblem, on: np.ndarray, volume: np.ndarray, aht: np.ndarray, paid_min: float
) -> dict[str, float]:
    """Under-covered agent-intervals, week service level (voice+chat, volume-weighted), paid
    hours.
    """
    alloc = allocate(on, [problem.agent_queues(a) for a in problem.agents], problem.demand.required)
    under = int((problem.demand.required - alloc).clip(min=0).sum())
    starts = [str(t) for t in problem.grid.starts]
    per = interval_kpis(
        starts,
        QUEUES[:2],
        volume[:2],
        aht[:2],
        alloc[:2],
        15,
        list(TARGETS[:2]),
        [problem.residual_shrinkage] * 2,
    )
    wk = week_kpis(per, 15).set_index("queue")
    return {
        "under_agent_intervals": under,
        "sl_voice": float(wk.loc["voice", "service_level"]),
        "sl_chat": float(wk.loc["chat", "service_level"]),
        "sl_all": float(wk.loc["all", "service_level"]),
        "paid_hours": paid_min / 60,
    }


PEER_SCRIPT = r"""
import json, sys
from pyworkforce.scheduling import MinAbsDifference
from pyworkforce.rostering import MinHoursRoster
d = json.load(sys.stdin)
s = MinAbsDifference(
    num_days=d["days"], periods=d["periods"], shifts_coverage=d["coverage"],
    required_resources=d["required"], max_period_concurrency=d["max_period"],
    max_shift_concurrency=d["max_shift"], max_search_time=d["time"], num_search_workers=2,
)
sol = s.solve()
need = {k: [0] * d["days"] for k in d["coverage"]}
for r in sol["resources_shifts"]:
    if r["day"] >= 0:
        need[r["shift"]][r["day"]] = r["resources"]
# more shifts than agents present that day cannot be rostered: scale down
for day in range(d["days"]):
    total = sum(need[k][day] for k in need)
    cap = d["available"][day]
    if total > cap:
        for k in need:
            need[k][day] = need[k][day] * cap // total
ro = MinHoursRoster(
    num_days=d["days"], resources=d["resources"], shifts=list(d["coverage"]),
    shifts_hours=[d["hours"]] * len(d["coverage"]), min_working_hours=d["min_hours"],
    banned_shifts=d["banned"], max_resting=d["max_resting"], required_resources=need,
    max_search_time=d["time"], num_search_workers=2,
)
out = ro.solve()
shifts = out.get("resource_shifts", [])
print(json.dumps({"schedule_status": sol["status"], "status": out["status"], "shifts": shifts}))
"""


def peer(problem: RosterProblem, time_s: float) -> tuple[dict, np.ndarray, float]:
    """pyworkforce's pipeline on the full-time variants; returns (status, on-phone matrix, paid
    minutes).
    """
    grid = problem.grid
    per_day = 96
    fts = [v for v in problem.variants if v.template in ("E8", "M8", "L8")]
    coverage = {}
    for v in fts:
        arr = [0] * per_day
        for t in range(v.start_min // 15, min((v.start_min + v.length_min) // 15, per_day)):
            arr[t] = 1
        coverage[v.id] = arr
    total = problem.demand.required.sum(axis=0)
    required = [
        [
            int(total[grid.day_offsets[d] + p])
            if grid.day_offsets[d] + p < grid.day_offsets[d + 1]
            else 0
            for p in range(per_day)
        ]
        for d in range(7)
    ]
    banned = []
    for ab in problem.absences:
        for d in range(7):
            if ab.start <= grid.local_midnight(START + dt.timedelta(days=d)) < ab.end:
                banned += [{"resource": ab.agent_id, "shift": v.id, "day": d} for v in fts]
    doc = {
        "days": 7,
        "periods": per_day,
        "coverage": coverage,
        "required": required,
        "max_period": len(problem.agents),
        "max_shift": len(problem.agents),
        "time": time_s,
        "resources": [a.id for a in problem.agents],
        "hours": 8,
        "min_hours": 8,
        "banned": banned,
        "max_resting": 3,
        "available": [
            len(problem.agents) - len({b["resource"] for b in banned if b["day"] == d})
            for d in range(7)
        ],
    }
    proc = subprocess.run(
        [str(PEER), "-c", PEER_SCRIPT],
        input=json.dumps(doc),
        capture_output=True,
        text=True,
        timeout=time_s * 4 + 120,
        check=False,
    )
    if proc.returncode != 0:
        err = proc.stderr.strip()
        return (
            {"status": f"error: {err.splitlines()[-1] if err else proc.returncode}"},
            np.zeros((len(problem.agents), grid.n), dtype=bool),
            0.0,
        )
    res = json.loads(proc.stdout)
    var = {v.id: v for v in fts}
    rows = []
    tmpl = problem.template_by_id
    for r in res["shifts"]:
        if r["shift"] not in var:  # pyworkforce's sentinel row of an infeasible solve
            continue
        v = var[r["shift"]]
        day = START + dt.timedelta(days=int(r["day"]))
        s = grid.at(int(r["day"]), v.start_min)
        e = s + pd.Timedelta(minutes=v.length_min)
        brk = ";".join(
            f"{b.name} "
            f"{(s + pd.Timedelta(minutes=o)):%H:%M}-"
            f"{(s + pd.Timedelta(minutes=o + b.minutes)):%H:%M}"
            for o, b in zip(
                planned_break_offsets(tmpl[v.template], 15), tmpl[v.template].breaks, strict=True
            )
        )
        rows.append(
            {
                "agent_id": r["resource"],
                "date": day.isoformat(),
                "start": s.isoformat(),
                "end": e.isoformat(),
                "breaks": brk,
                "activities": "",
                "paid": v.paid_minutes,
            }
        )
    frame = pd.DataFrame(
        rows, columns=["agent_id", "date", "start", "end", "breaks", "activities", "paid"]
    )
    on = on_phone_matrix(frame, problem.agents, grid)
    return {"status": f"{res['schedule_status']}/{res['status']}"}, on, float(frame["paid"].sum())


def equal_hours_run(
    problem: RosterProblem, volume: np.ndarray, aht: np.ndarray, paid_cap_min: float, limit: float
) -> dict[str, object]:
    """The engine with the peer's paid hours as a cap (contract minimums dropped), to compare at
    equal hours.
    """
    from dataclasses import replace

    from staffplan.roster.build import build_model
    from staffplan.roster.extract import extract
    from staffplan.roster.heuristics.greedy import greedy_hint
    from staffplan.roster.solver import solve

    relaxed = {k: replace(c, min_minutes_week=0) for k, c in problem.contracts.items()}
    p2 = RosterProblem(
        problem.grid,
        problem.agents,
        relaxed,
        problem.templates,
        problem.demand,
        problem.weights,
        problem.absences,
        residual_shrinkage=problem.residual_shrinkage,
    )
    rm = build_model(p2)
    rm.model.Add(
        sum(
            lit * v.paid_minutes
            for a in p2.agents
            for d in range(p2.grid.days)
            for v, lit in rm.shifts(a.id, d)
        )
        <= int(paid_cap_min)
    )
    hint = greedy_hint(rm)
    keys = sorted((k for k, v in hint.items() if v), key=lambda k: k[0])
    var = {v.id: v for v in p2.variants}
    total = 0
    for k in keys:  # keep the greedy start under the cap
        total += var[k[2]].paid_minutes
        if total > paid_cap_min:
            hint[k] = 0
    t0 = time.perf_counter()
    r = solve(rm, SolveSettings(limit, 2, 0), hint=hint)
    wall = time.perf_counter() - t0
    ro = extract(p2, rm, r)
    sc = score(p2, ro.on_phone, volume, aht, float(ro.roster["paid_minutes"].sum()))
    return {
        "run": f"staffplan {limit:g} s, paid hours <= peer's",
        "status": r.status,
        "first_feasible_s": round(r.first_solution_seconds or float("nan"), 2),
        "objective": round(r.objective, 1),
        "wall_s": round(wall, 1),
        **sc,
    }


def wait_for_exit(pid: int) -> None:
    """Block until process ``pid`` has ended (a pidfd, no polling); return at once if it has."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        select.select([fd], [], [])
    finally:
        os.close(fd)


class Trajectory:
    """The incumbents one ``plan()`` call reports (its ``progress`` callback), and the best
    roster known at given checkpoints [s from the call].

    A checkpoint's objective is the best roster reported before it, its bound the best bound
    reported with any of those rosters (a bound that improved later without a new roster is not
    seen until the next one, so it may understate the engine's bound then); its load is the
    1-minute load average when the checkpoint passed (a timer thread reads it).
    """

    def __init__(self, checkpoints: list[float]) -> None:
        self.checkpoints = sorted(checkpoints)
        self.points: list[dict[str, float]] = []
        self.loads: dict[float, float] = {}
        self.timers = [threading.Timer(c, self._load, (c,)) for c in self.checkpoints]
        for t in self.timers:
            t.daemon = True
            t.start()

    def _load(self, at: float) -> None:
        self.loads[at] = round(os.getloadavg()[0], 1)

    def __call__(self, inc: Incumbent) -> None:
        self.points.append(
            {"t_s": round(inc.elapsed_s, 2), "objective": inc.objective, "bound": inc.bound}
        )

    def stop(self) -> None:
        """Cancel the checkpoints the run ended before."""
        for t in self.timers:
            t.cancel()

    def columns(self) -> dict[str, object]:
        """``obj@T``, ``bound@T``, ``gap@T`` and ``load@T`` per checkpoint (None before the first
        roster or after the run ended)."""
        out: dict[str, object] = {}
        for c in self.checkpoints:
            seen = [p for p in self.points if p["t_s"] <= c]
            obj = min((p["objective"] for p in seen), default=None)
            bound = max((p["bound"] for p in seen), default=None)
            out[f"obj@{c:g}"] = None if obj is None else round(obj, 1)
            out[f"bound@{c:g}"] = None if bound is None else round(bound, 1)
            out[f"gap@{c:g}"] = (
                None if obj is None or bound is None else round(relative_gap(obj, bound), 4)
            )
            out[f"load@{c:g}"] = self.loads.get(c)
        return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--limits", type=float, nargs="+", default=[10.0], help="engine time limits [s]"
    )
    ap.add_argument(
        "--peer-time", type=float, default=60.0, help="pyworkforce time limit per stage [s]"
    )
    ap.add_argument("--no-peer", action="store_true")
    ap.add_argument(
        "--lns-share",
        type=float,
        default=0.8,
        help="share of the time after best responses for neighbourhood search (the scenario "
        "default)",
    )
    ap.add_argument(
        "--equal-hours",
        type=float,
        default=0.0,
        help="also run the engine capped at the peer's paid hours for this many seconds [s]",
    )
    ap.add_argument(
        "--deterministic",
        action="store_true",
        help="deterministic budgets (the limits in deterministic seconds): results that do not "
        "depend on the machine's load",
    )
    ap.add_argument("--agents", type=int, default=150, help="agents in the centre (150: as above)")
    ap.add_argument(
        "--checkpoints",
        type=float,
        nargs="*",
        default=[],
        help="also report the incumbent objective and bound at these times into each run [s]",
    )
    ap.add_argument(
        "--record",
        type=Path,
        help="append each engine row, with its incumbent trajectory, as a JSON line to this file",
    )
    ap.add_argument(
        "--after-pid",
        type=int,
        help="build the instance now, but solve only once the process with this id has ended "
        "(prepare the next run of a sequence without disturbing the one being measured)",
    )
    ap.add_argument(
        "--cache",
        type=Path,
        default=CACHE,
        help="directory of built instances, keyed by their inputs (default benchmarks/.cache)",
    )
    ap.add_argument("--no-cache", action="store_true", help="build the instance, ignore the cache")
    ap.add_argument(
        "--build-only", action="store_true", help="build (or read) the cached instance and exit"
    )
    args = ap.parse_args()
    problem, volume, aht = cached_instance(args.agents, None if args.no_cache else args.cache)
    if args.build_only:
        return
    if args.after_pid:
        wait_for_exit(args.after_pid)
    size = estimate(problem, 2)
    print(
        f"instance: {len(problem.agents)} agents, {len(problem.variants)} variants, "
        f"{problem.grid.n} intervals, "
        f"{len({a.agent_id for a in problem.absences})} agents with absences",
        file=sys.stderr,
    )
    rows = []
    for limit in args.limits:
        load = os.getloadavg()[0]
        track = Trajectory(args.checkpoints)
        t0 = time.perf_counter()
        out = plan(
            problem,
            SolveSettings(
                limit,
                2,
                0,
                lp_bound=True,
                search_share=0.7,
                improve_share=0.5,
                lns_share=args.lns_share,
                colgen_share=0.4,
                deterministic=args.deterministic,
            ),
            progress=track,
        )  # the scenario defaults
        wall = time.perf_counter() - t0
        track.stop()
        r = out.result
        sc = score(
            problem,
            out.roster.on_phone,
            volume,
            aht,
            float(out.roster.roster["paid_minutes"].sum()),
        )
        rows.append(
            {
                "run": f"staffplan {limit:g} {'det ' if args.deterministic else ''}s"
                + (f" (lns {args.lns_share:g})" if args.lns_share != 0.8 else ""),
                "agents": len(problem.agents),
                "load": round(load, 1),
                "literals": size.literals,
                "est_mb": round(size.memory_mb),
                "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "status": r.status,
                "first_feasible_s": round(r.first_solution_seconds or float("nan"), 2),
                "objective": round(r.objective, 1),
                "bound": None if r.bound is None else round(r.bound, 1),
                "gap": None if r.gap is None else round(r.gap, 4),
                "bound_source": r.bound_source,
                "wall_s": round(wall, 1),
                **track.columns(),
                **sc,
            }
        )
        stages = {k: round(v, 2) for k, v in out.stage_seconds.items()}
        print(rows[-1], file=sys.stderr, flush=True)
        print(f"stage seconds: {stages}", file=sys.stderr, flush=True)
        if args.record:
            with args.record.open("a") as fh:
                line = {**rows[-1], "stage_seconds": stages, "trajectory": track.points}
                fh.write(json.dumps(line) + "\n")
    if not args.no_peer and PEER.exists():
        t0 = time.perf_counter()
        st, on, paid = peer(problem, args.peer_time)
        wall = time.perf_counter() - t0
        sc = score(problem, on, volume, aht, paid) if paid else {}
        rows.append(
            {
                "run": f"pyworkforce {args.peer_time:g} s/stage",
                "status": st["status"],
                "wall_s": round(wall, 1),
                **sc,
            }
        )
        print(rows[-1], file=sys.stderr, flush=True)
        if paid and args.equal_hours:
            rows.append(equal_hours_run(problem, volume, aht, paid, args.equal_hours))
            print(rows[-1], file=sys.stderr, flush=True)
    cols = list(dict.fromkeys(k for r in rows for k in r))
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(_fmt(r.get(c)) for c in cols) + " |")


def _fmt(v: object) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.3f}" if abs(v) < 10 else f"{v:,.1f}"
    return str(v)


if __name__ == "__main__":
    main()
