"""A small scenario for the web tests: eight agents over one week (Mon 7 - Sun 13 December
2026), hourly intervals, voice and chat queues with volumes and handle times (so every KPI is
defined), and a valid published roster.

Agents A1, A2, A6 work Mon-Fri early (E 07-15), A3, A4 Wed-Sun late (L 13-21), A5 Mon-Wed and
the weekend (vacation Thu-Fri), A7, A8 four days (Mon, Tue, Fri, Sat early): so on Wednesday A7
and A8 are free to be called in. Contract: 30-37.5 paid hours, at most 5 days a week and 5 in a
row, 11 h rest. A6 also serves chat.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd

DAYS = [f"2026-12-{d:02d}" for d in range(7, 14)]
COLS = [
    "agent_id",
    "name",
    "date",
    "day",
    "shift",
    "start",
    "end",
    "paid_minutes",
    "breaks",
    "queues",
]
WEEK = {
    "A1": (0, 1, 2, 3, 4),
    "A2": (0, 1, 2, 3, 4),
    "A3": (2, 3, 4, 5, 6),
    "A4": (2, 3, 4, 5, 6),
    "A5": (0, 1, 2, 5, 6),
    "A6": (0, 1, 2, 3, 4),
    "A7": (0, 1, 4, 5),
    "A8": (0, 1, 4, 5),
}
LATE = ("A3", "A4")


def agent_ids(copies: int = 1) -> list[str]:
    """The team's ids: A1..A8, then A1-2..A8-2 and so on for each further copy of the team."""
    return [f"A{i}" if c == 0 else f"A{i}-{c + 1}" for c in range(copies) for i in range(1, 9)]


def role(agent: str) -> str:
    """The kit agent (A1..A8) whose week ``agent`` copies."""
    return agent.split("-")[0]


def scenario(folder: Path, copies: int = 1) -> Path:
    """Write the scenario's files into ``folder`` (``copies`` times the eight agents, demand
    scaled alike); return the scenario.toml path.
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scenario.toml").write_text(
        textwrap.dedent(
            """
            name = "webkit"
            description = "Eight agents, voice and chat"
            [grid]
            start = 2026-12-07
            days = 7
            interval_minutes = 60
            timezone = "Europe/Madrid"
            [data]
            agents = "agents.csv"
            contracts = "contracts.csv"
            shifts = "shifts.csv"
            absences = "absences.csv"
            requirements = "requirements.csv"
            [queues.voice]
            service_level = 0.8
            answer_within_s = 20
            [queues.chat]
            channel = "chat"
            service_level = 0.8
            answer_within_s = 60
            [solver]
            workers = 1
            """
        )
    )
    pd.DataFrame(
        [
            {
                "agent_id": a,
                "name": f"Agent {a[1:]}",
                "team": "north" if int(role(a)[1:]) <= 4 else "south",
                "contract": "FT",
                "skills": "voice:1|chat:2" if role(a) == "A6" else "voice",
                "hourly_cost": 20,
            }
            for a in agent_ids(copies)
        ]
    ).to_csv(folder / "agents.csv", index=False)
    pd.DataFrame(
        [
            {
                "contract": "FT",
                "min_minutes_week": 1800,
                "max_minutes_week": 2250,
                "max_days_week": 5,
                "max_consecutive_days": 5,
                "min_rest_hours": 11,
                "templates": "*",
            }
        ]
    ).to_csv(folder / "contracts.csv", index=False)
    pd.DataFrame(
        [
            {
                "template": t,
                "earliest_start": s,
                "latest_start": e,
                "start_step_min": 60,
                "length_min": 480,
                "breaks": "lunch:30:unpaid:180-240",
            }
            for t, s, e in (("E", "07:00", "08:00"), ("L", "13:00", "13:00"))
        ]
    ).to_csv(folder / "shifts.csv", index=False)
    pd.DataFrame(
        [
            {"agent_id": a, "start": "2026-12-10", "end": "2026-12-11", "kind": "vacation"}
            for a in agent_ids(copies)
            if role(a) == "A5"
        ]
    ).to_csv(folder / "absences.csv", index=False)
    rows = []
    for d in DAYS:
        for h in range(7, 21):
            rows.append(
                {
                    "interval_start": f"{d}T{h:02d}:00",
                    "queue": "voice",
                    "required": 3 * copies,
                    "volume": 24 * copies,
                    "aht_seconds": 240,
                }
            )
            rows.append(
                {
                    "interval_start": f"{d}T{h:02d}:00",
                    "queue": "chat",
                    "required": copies,
                    "volume": 4 * copies,
                    "aht_seconds": 300,
                }
            )
    pd.DataFrame(rows).to_csv(folder / "requirements.csv", index=False)
    return folder / "scenario.toml"


def shift(agent: str, day: int, template: str = "E") -> list[object]:
    """One roster.csv row: E 07-15 or L 13-21 with a 30-minute unpaid lunch 3 h in."""
    d = DAYS[day]
    h = 7 if template == "E" else 13
    return [
        agent,
        f"Agent {agent[1:]}",
        d,
        day,
        template,
        f"{d}T{h:02d}:00:00+01:00",
        f"{d}T{h + 8:02d}:00:00+01:00",
        450,
        f"lunch {h + 3:02d}:00-{h + 3:02d}:30",
        "voice|chat" if role(agent) == "A6" else "voice",
    ]


def week(copies: int = 1) -> pd.DataFrame:
    """The valid week of :data:`WEEK` (each copy of an agent works its original's days)."""
    return pd.DataFrame(
        [
            shift(a, d, "L" if role(a) in LATE else "E")
            for a in agent_ids(copies)
            for d in WEEK[role(a)]
        ],
        columns=COLS,
    )


def published(folder: Path, copies: int = 1) -> Path:
    """The scenario with :func:`week` published as version 1 (through the CLI's own command)."""
    from click.testing import CliRunner

    from staffplan.cli import cli

    scen = scenario(folder, copies)
    week(copies).to_csv(folder / "roster.csv", index=False)
    result = CliRunner().invoke(
        cli,
        ["publish", str(scen), "--roster", str(folder / "roster.csv"), "--note", "week 50"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return scen
