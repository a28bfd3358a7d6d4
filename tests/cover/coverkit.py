"""Crafted one-day cover cases with hand-derived oracles (break moves, queue reassignment), shared
by the cover tests in this folder."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pandas as pd

from staffplan.cover.published import with_overtime
from staffplan.cover.settings import CoverSettings, NewAbsence
from staffplan.io.roster_csv import roster_as_text
from staffplan.io.team import Absence, Agent, Break, Contract, ShiftTemplate
from staffplan.roster.problem import RosterProblem, plain_demand
from staffplan.roster.validate import check_roster
from staffplan.settings import SolveSettings
from staffplan.timegrid import TimeGrid

#: the repairs' solve in deterministic time: the same repair on a quiet or a loaded machine (the
#: 10 s wall-clock default could stop before the optimum the tests expect when the machine is busy)
DET = SolveSettings(10.0, 2, 0, deterministic=True)

DAY = dt.date(2026, 12, 1)
GRID = TimeGrid(DAY, 1, 60, "Europe/Madrid")
LUNCH = Break("lunch", 60, False, 180, 300)  # starts 11:00-13:00 for an 08:00 shift
CONTRACT = {
    "FT": Contract("FT", 0, 7 * 600, 5, 6, min_rest_hours=11)
}  # a one-day grid: the week limit is pro-rated to 600 min


def hours(values: dict[int, int]) -> np.ndarray:
    out = np.zeros(GRID.n, dtype=np.int64)
    for h, v in values.items():
        out[h] = v
    return out


def row(agent: str, shift: str, queues: str, breaks: str = "") -> dict[str, object]:
    return {
        "agent_id": agent,
        "name": agent,
        "date": DAY.isoformat(),
        "day": 0,
        "shift": shift,
        "start": f"{DAY}T08:00:00+01:00",
        "end": f"{DAY}T16:00:00+01:00",
        "paid_minutes": 480 - (60 if breaks else 0),
        "breaks": breaks,
        "queues": queues,
        "activities": "",
    }


def sick(agent: str) -> tuple[NewAbsence, ...]:
    return (
        NewAbsence(
            agent,
            GRID.local_midnight(DAY),
            GRID.local_midnight(DAY + dt.timedelta(days=1)),
            "sick",
            f"{agent}:{DAY}",
        ),
    )


NOW = GRID.local_midnight(DAY)


def violations(
    problem: RosterProblem, absences: tuple[NewAbsence, ...], roster: pd.DataFrame
) -> list:
    prob = with_overtime(problem, CoverSettings(), set(roster["shift"]))
    prob = replace(
        prob,
        absences=prob.absences
        + tuple(Absence(a.agent_id, a.start, a.end, a.kind) for a in absences),
    )
    return check_roster(prob, roster)


def consistent(res: object) -> None:
    """The model's own count of unrestored agent-intervals is the one the result reports, and never
    above no action.
    """
    s = res.summary()  # type: ignore[attr-defined]
    assert res.status == "OPTIMAL"  # type: ignore[attr-defined]
    assert res.model_short == s["unrestored_agent_intervals_after"]  # type: ignore[attr-defined]
    assert s["unrestored_agent_intervals_after"] <= s["unrestored_agent_intervals_no_action"]
    assert s["short_agent_intervals_after"] <= s["short_agent_intervals_no_action"]


def lunch_case(required_13: int) -> tuple[RosterProblem, pd.DataFrame]:
    """A1-A3 (voice) on E 08:00-16:00 with a 60-min lunch starting 11:00-13:00; 2 agents needed
    08-16 except 13-14.
    """
    req = hours({h: 2 for h in range(8, 16)} | {13: required_13})
    problem = RosterProblem(
        GRID,
        tuple(Agent(a, a, "t", "FT", ("voice",)) for a in ("A1", "A2", "A3")),
        CONTRACT,
        (ShiftTemplate("E", 480, 480, 60, 480, (LUNCH,)),),
        plain_demand(("voice",), req[None, :]),
    )
    pub = roster_as_text(
        pd.DataFrame(
            [
                row("A1", "E", "voice", "lunch 13:00-14:00"),
                row("A2", "E", "voice", "lunch 11:00-12:00"),
                row("A3", "E", "voice", "lunch 12:00-13:00"),
            ]
        )
    )
    return problem, pub


def queue_case() -> tuple[RosterProblem, pd.DataFrame]:
    """V1 (voice), C1, C2 (chat), M1 (voice|chat) on E 08:00-16:00 without breaks; voice needs 1,
    chat 2, 08-16.
    """
    req = np.stack([hours({h: 1 for h in range(8, 16)}), hours({h: 2 for h in range(8, 16)})])
    agents = (
        Agent("C1", "C1", "t", "FT", ("chat",)),
        Agent("C2", "C2", "t", "FT", ("chat",)),
        Agent("M1", "M1", "t", "FT", ("voice", "chat")),
        Agent("V1", "V1", "t", "FT", ("voice",)),
    )
    problem = RosterProblem(
        GRID,
        agents,
        CONTRACT,
        (ShiftTemplate("E", 480, 480, 60, 480),),
        plain_demand(("voice", "chat"), req),
    )
    pub = roster_as_text(
        pd.DataFrame(
            [
                row("C1", "E", "chat"),
                row("C2", "E", "chat"),
                row("M1", "E", "voice|chat"),
                row("V1", "E", "voice"),
            ]
        )
    )
    return problem, pub
