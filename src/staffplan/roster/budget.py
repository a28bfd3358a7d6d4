"""How one solve's time limit is shared among its stages: the only place time shares are computed.

A roster solve runs its stages in order — completing the first roster and
the local search (``search``), best responses (``improve``), column
generation (``colgen``), CP-SAT (``cpsat``) and large-neighbourhood search
(``lns``) — and each stage ends at a deadline on a clock that starts with
the call. :func:`stage_ends` places the deadlines (the last one is the time
limit less a finishing reserve); a stage that finishes early leaves its
time to the next, except that CP-SAT's deadline is placed again when it
starts (:func:`stage_ends` over what is left), so CP-SAT and the
neighbourhood search share the time earlier stages did not need.

The clock is the wall clock, or, with ``deterministic``, the *work* charged
so far [deterministic s]: each CP-SAT solve's own deterministic time
(converted by :func:`cpsat_seconds`) plus the loading of its model
(:data:`LOAD_S_PER_VAR` per variable), moves of the local search divided by
:data:`MOVES_PER_S`, simplex iterations of column generation's master.
Deterministic work depends only on the inputs and the seed, so the same
inputs and seed give the same roster on any machine load; its units are
calibrated so that a deterministic second takes about a second of wall time
on a quiet 2-core machine (measurements in ``benchmarks/RESULTS.md``).
Deterministic mode keeps a wall-clock *safety net* per stage
(:func:`safety_net_s`), far beyond any normal run: reaching it is reported as
a warning, never taken silently.

Model building counts: the clock starts before the model is built, deterministic mode charges
the building (:func:`build_work_s`), and the stages share what building left. Wall-clock mode
keeps a reserve at the end for re-solving the roster's penalties and extracting it
(:func:`finish_reserve_s`), so a solve ends within its limit.

The cover repair's single solve shares its limit with model building and
extraction (:func:`cover_solve_limit`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from staffplan.settings import SolveSettings

STAGES = ("search", "improve", "colgen", "cpsat", "lns")
"""The stages of :func:`staffplan.roster.engine.plan`, in order."""

MOVES_PER_S = 20_000
"""Deterministic mode: local-search moves per deterministic second (about what one quiet core
makes on a large week; calibration in ``benchmarks/RESULTS.md``)."""

DET_PER_CORE_S = 0.45
"""CP-SAT deterministic time per second of one busy core (calibration in
``benchmarks/RESULTS.md``)."""

LOAD_S_PER_VAR = 3e-5
"""Deterministic mode: work charged per model variable for loading and presolving a model, which
CP-SAT's deterministic time barely counts [deterministic s]."""

SUBMODEL_CHARGE_S = 0.01
"""Deterministic mode: work charged per one-agent or neighbourhood sub-model built and read in
Python, on top of its solve [deterministic s]."""

BUILD_S_PER_ITEM = 1e-5
"""Deterministic mode: work charged per model variable and per constraint for building the model
in Python [deterministic s] (about the CPU time per item on a quiet core; calibration in
``benchmarks/RESULTS.md``)."""

FINISH_S_PER_VAR = 3e-5
"""Wall-clock mode: time kept at the end per model variable for re-solving the roster's penalties
and extracting it [s], until a completion of this solve has been timed."""

FINISH_PER_COMPLETION = 5.0
"""Wall-clock mode: time kept at the end, in multiples of the longest completion of a roster timed
in this solve (:meth:`Budget.completed`): finishing re-does one completion (the penalties
re-solved) and extracts the roster, together 3.2-3.9 completions measured on the same machine
under the same load (calibration in ``benchmarks/RESULTS.md``)."""

FINISH_MIN_S = 0.2
"""Wall-clock mode: least time kept at the end for finishing [s]."""

FINISH_MAX_SHARE = 0.25
"""Wall-clock mode: the finishing reserve takes at most this share of the limit."""

NET_FACTOR = 10.0
NET_SLACK_S = 30.0

CPSAT_MOST_S = 30.0
"""Most CP-SAT on the whole model runs before the neighbourhood search takes over [s, or
deterministic s]: whole-model search pays in its first seconds (and proves small models optimal),
after which the neighbourhood search improves the same roster far faster (measurements in
``benchmarks/RESULTS.md``)."""

MIN_SOLVE_S = 0.5
"""CP-SAT gets at least this [s, or deterministic s], even when earlier stages overran."""

COLGEN_ROUNDING_SHARE = 0.2
"""Least share of column generation's time kept for rounding its LP solution."""

COVER_RESERVE_SHARE = 0.1
"""Cover repair, wall mode: share of the limit kept for extraction (at least 0.5 s, plus
:data:`COVER_RESERVE_PER_ROW_S` per published row)."""

COVER_RESERVE_PER_ROW_S = 0.0005
"""Cover repair, wall mode: extraction time kept per published roster row [s]."""

COVER_SOLVE_SHARE = 0.8
"""Cover repair, deterministic mode: share of the limit the solve gets as deterministic time (the
rest is model building and extraction, which do no search)."""


def cpsat_det_limit(limit_s: float, workers: int) -> float:
    """CP-SAT's ``max_deterministic_time`` for a solve of ``limit_s`` deterministic seconds on
    ``workers`` workers (its deterministic time accrues per worker)."""
    return float(limit_s) * DET_PER_CORE_S * max(int(workers), 1)


def cpsat_seconds(det_time: float, workers: int) -> float:
    """Deterministic seconds of a CP-SAT solve that reported ``det_time`` on ``workers``
    workers (the inverse of :func:`cpsat_det_limit`)."""
    return float(det_time) / (DET_PER_CORE_S * max(int(workers), 1))


def safety_net_s(limit_s: float) -> float:
    """Wall-clock safety net [s] of a deterministic stage of ``limit_s`` deterministic seconds.

    Far beyond any normal run (:data:`NET_FACTOR` × the limit + :data:`NET_SLACK_S`): a stage
    that reaches it reports a warning, since its result may then differ from a run on a less
    loaded machine.
    """
    return NET_FACTOR * max(float(limit_s), 0.0) + NET_SLACK_S


def stage_ends(
    settings: SolveSettings,
    *,
    search: bool,
    improve: bool,
    colgen: bool,
    lns: bool,
    spent_s: float = 0.0,
    reserve_s: float = 0.0,
) -> dict[str, float]:
    """Each stage's deadline [s, or deterministic s from the call]; the last is the time limit less
    ``reserve_s``.

    ``search``/``improve``/``colgen``/``lns``: whether that stage runs (CP-SAT
    always does). The stages share the window from ``spent_s`` (the clock when they
    start: model building) to ``limit − reserve_s`` (finishing, :func:`finish_reserve_s`);
    with its length ``L`` and start ``t0``: the search ends at ``t0 + search_share × L``;
    best responses at ``t0 + max(search_share, improve_share) × L`` (they polish only
    when their share is the longer); of the rest ``R``, column generation takes
    ``colgen_share × R``; of what is left then, large-neighbourhood search takes
    ``lns_share`` after CP-SAT, and all of it beyond :data:`CPSAT_MOST_S` of CP-SAT. The first
    roster is completed inside the first stage that runs. A window that building already used up
    gives every stage a deadline at its end.
    """
    end = max(float(settings.time_limit_s) - max(float(reserve_s), 0.0), 0.0)
    t0 = min(max(float(spent_s), 0.0), end)
    length = end - t0
    s = settings.search_share if search else 0.0
    i = settings.improve_share if improve else 0.0
    end_search = t0 + length * s
    end_improve = t0 + length * max(s, i)
    end_colgen = end_improve + (end - end_improve) * (settings.colgen_share if colgen else 0.0)
    end_cpsat = end_colgen + (end - end_colgen) * (1.0 - (settings.lns_share if lns else 0.0))
    if lns:
        end_cpsat = min(end_cpsat, end_colgen + CPSAT_MOST_S)
    return {
        "search": end_search,
        "improve": end_improve,
        "colgen": end_colgen,
        "cpsat": end_cpsat,
        "lns": end,
    }


def build_work_s(n_vars: int, n_constraints: int) -> float:
    """Deterministic work [deterministic s] of building a model of ``n_vars`` variables and
    ``n_constraints`` constraints (:data:`BUILD_S_PER_ITEM` each)."""
    return BUILD_S_PER_ITEM * (max(int(n_vars), 0) + max(int(n_constraints), 0))


def finish_reserve_s(settings: SolveSettings, n_vars: int, completion_s: float = 0.0) -> float:
    """Time kept at the end of a wall-clock solve for finishing [s]: :data:`FINISH_S_PER_VAR` per
    model variable before any completion was timed, then :data:`FINISH_PER_COMPLETION` times the
    longest completion ``completion_s`` [s] timed so far; at least :data:`FINISH_MIN_S`, at most
    :data:`FINISH_MAX_SHARE` of the limit; 0 in deterministic mode (finishing does no search, and
    the limit is work, not time)."""
    if settings.deterministic:
        return 0.0
    limit = float(settings.time_limit_s)
    if completion_s > 0:
        want = max(FINISH_MIN_S, FINISH_PER_COMPLETION * float(completion_s))
    else:
        want = max(FINISH_MIN_S, FINISH_S_PER_VAR * max(int(n_vars), 0))
    return min(want, FINISH_MAX_SHARE * limit)


@dataclass(eq=False)
class Budget:
    """The clock of one solve and its stages' deadlines (see the module doc).

    ``left(stage)``: time until that stage's deadline [s, or deterministic s],
    never negative; ``charge(work)``: deterministic mode adds ``work``
    [deterministic s] to the clock (the wall clock needs no charging).
    """

    settings: SolveSettings
    ends: dict[str, float]
    t0: float = field(default_factory=time.perf_counter)
    work: float = 0.0
    warnings: list[str] = field(default_factory=list)
    marks: list[tuple[str, float]] = field(default_factory=list)
    """``(step, wall s from the call)`` at the end of each step of the solve (:meth:`mark`)."""
    completion_s: float = 0.0
    """The longest wall time of a completed roster so far [s] (:meth:`completed`)."""

    @classmethod
    def single(cls, settings: SolveSettings, stage: str = "cpsat") -> Budget:
        """A budget whose one stage ``stage`` has the whole limit (a solve on its own)."""
        ends = dict.fromkeys(STAGES, 0.0)
        for name in STAGES[STAGES.index(stage) :]:
            ends[name] = float(settings.time_limit_s)
        return cls(settings, ends)

    @property
    def deterministic(self) -> bool:
        return bool(self.settings.deterministic)

    def elapsed(self) -> float:
        """Wall time since the call [s] (for reports; deterministic budgets never read it)."""
        return time.perf_counter() - self.t0

    def clock(self) -> float:
        """Where the solve stands [s of wall time, or deterministic s of work charged]."""
        return self.work if self.deterministic else self.elapsed()

    def left(self, stage: str) -> float:
        """Time until ``stage``'s deadline [s, or deterministic s], at least 0."""
        return max(self.ends[stage] - self.clock(), 0.0)

    def wall_left(self) -> float | None:
        """Wall-clock mode: time until the time limit [s], at least 0; None in deterministic mode
        (where sub-solves are bounded by work and the wall clock is only a safety net)."""
        if self.deterministic:
            return None
        return max(float(self.settings.time_limit_s) - self.elapsed(), 0.0)

    def charge(self, work_s: float) -> None:
        """Deterministic mode: add ``work_s`` [deterministic s] to the clock."""
        if self.deterministic:
            self.work += max(float(work_s), 0.0)

    def completed(self, seconds: float) -> None:
        """Record that completing a roster (fixed shifts, the rest re-solved) took ``seconds``
        [s of wall time]: finishing the solve will do it once more (:func:`finish_reserve_s`)."""
        self.completion_s = max(self.completion_s, float(seconds))

    def mark(self, step: str) -> None:
        """Record that ``step`` (a stage, or building, finishing, ...) ended now."""
        self.marks.append((step, self.elapsed()))

    def step_seconds(self) -> dict[str, float]:
        """Wall time of each marked step [s], in order: from the previous mark (the first from
        the call); a step marked twice adds up."""
        out: dict[str, float] = {}
        prev = 0.0
        for step, at in self.marks:
            out[step] = out.get(step, 0.0) + (at - prev)
            prev = at
        return out

    def warn(self, stage: str, what: str) -> None:
        """Record that ``stage`` reached its wall-clock safety net (deterministic mode)."""
        self.warnings.append(
            f"deterministic mode: {stage} stopped at its wall-clock safety net ({what}); "
            "this roster may differ from a run on a less loaded machine"
        )


def colgen_split(budget_s: float) -> tuple[float, float]:
    """(column generation, rounding) shares of column generation's ``budget_s``
    [s, or deterministic s]."""
    return budget_s * (1 - COLGEN_ROUNDING_SHARE), budget_s * COLGEN_ROUNDING_SHARE


def cover_solve_limit(settings: SolveSettings, build_s: float, rows: int) -> float:
    """The cover repair's solve limit [s, or deterministic s] within its whole limit.

    Wall clock: what model building (``build_s`` [s]) left, less a reserve for
    extraction that grows with the published roster's ``rows``; at least 0.2 s.
    Deterministic: :data:`COVER_SOLVE_SHARE` of the limit, whatever building took.
    """
    limit = float(settings.time_limit_s)
    if settings.deterministic:
        return limit * COVER_SOLVE_SHARE
    reserve = max(0.5, COVER_RESERVE_SHARE * limit) + COVER_RESERVE_PER_ROW_S * rows
    return max(limit - build_s - reserve, 0.2)


def full_resolve_limit(settings: SolveSettings, build_s: float) -> float:
    """The cover baseline's (a full re-solve) CP-SAT limit [s, or deterministic s]: what building
    left (deterministic: :data:`COVER_SOLVE_SHARE` of the limit)."""
    limit = float(settings.time_limit_s)
    if settings.deterministic:
        return limit * COVER_SOLVE_SHARE
    return max(limit - build_s, 0.5)
