"""Generate the example team: ``data/{agents,contracts,shifts,absences,preferences}.csv`` (fixed
seed).

Fifty-nine agents in three teams sized so that the contracts fit the example
demand (voice ~8,000 calls a week at ~280 s, chat ~3,000 sessions at ~420 s
with concurrency 2, email ~2,500 a week at ~360 s within 24 h; open Mon-Fri
08:00-21:00 and Sat 09:00-15:00, closed Sunday; 30 % shrinkage, of which the
breaks the roster places are about a tenth): the paid hours the promised
service levels need (about 1,950 h in week 50, with Tuesday a reduced-service
holiday) are within a few percent of what the contracts give, so a good
roster lands just above the targets with the available voice agents about
75 % busy — not 98 % service at 50 % occupancy:

- team ``Atlas`` (voice): 15 voice only, 6 voice+chat;
- team ``Boreal`` (chat): 7 chat only, 8 chat+voice, 5 voice+email;
- team ``Cierzo`` (email): 6 email only, 7 email+voice, 5 email+chat.

48 full-time agents (37.5 h or 40 h, 5 days; 8.5 h shifts with a 30-min
unpaid lunch and two paid 15-min coffee breaks: early, mid or late) and 11
part-time agents (20-25 h; 4-6 h shifts with one paid coffee break). Minimum
rest 11 h, at most 6 days in a row, full-timers work at most one weekend day
block in the week. Absences in the week of 2026-12-07: two full-week
vacations, two two-day vacations, a sick day, a 2-h training and a 1-h team
meeting. A few agents ask for a day off (preferences, soft).

Run: ``python scenarios/example/make_team.py`` (rewrites the files).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 4
DATA = Path(__file__).resolve().parent / "data"
FIRST_NAMES = (
    "Ana",
    "Luis",
    "Marta",
    "Javier",
    "Lucía",
    "Pablo",
    "Elena",
    "Diego",
    "Sara",
    "Hugo",
    "Irene",
    "Álvaro",
    "Noa",
    "Mario",
    "Carmen",
    "Raúl",
    "Julia",
    "Sergio",
    "Laura",
    "Adrián",
    "Paula",
    "Óscar",
    "Nerea",
    "Iván",
)
LAST_NAMES = (
    "García",
    "López",
    "Martín",
    "Sánchez",
    "Pérez",
    "Gómez",
    "Ruiz",
    "Díaz",
    "Moreno",
    "Álvarez",
    "Romero",
    "Navarro",
)

TEAMS = (
    ("Atlas", (("voice:1", 15), ("voice:1|chat:2", 6))),
    ("Boreal", (("chat:1", 7), ("chat:1|voice:2", 8), ("voice:1|email:2", 5))),
    ("Cierzo", (("email:1", 6), ("email:1|voice:2", 7), ("email:1|chat:2", 5))),
)

CONTRACTS = pd.DataFrame(
    [
        # contract, min/max paid minutes a week, max days, max consecutive, min consecutive, min
        # days off, rest [h], max weekends, templates
        ("FT40", 2400, 2400, 5, 6, 1, 1, 11, 1, "E8|M8|L8"),
        ("FT375", 2160, 2400, 5, 6, 1, 1, 11, 1, "E8|M8|L8"),
        ("PT25", 1200, 1500, 5, 6, 1, 1, 11, "", "P4|P5|P6"),
        ("PT20", 960, 1200, 4, 6, 1, 1, 11, "", "P4|P5|P6"),
    ],
    columns=[
        "contract",
        "min_minutes_week",
        "max_minutes_week",
        "max_days_week",
        "max_consecutive_days",
        "min_consecutive_days",
        "min_days_off_in_row",
        "min_rest_hours",
        "max_weekends",
        "templates",
    ],
)

FT_BREAKS = "coffee1:15:paid:60-150|lunch:30:unpaid:180-300|coffee2:15:paid:330-420"
SHIFTS = pd.DataFrame(
    [
        ("E8", "06:30", "09:00", 30, 510, FT_BREAKS, "", False),
        ("M8", "09:30", "11:30", 30, 510, FT_BREAKS, "", False),
        ("L8", "12:00", "12:30", 30, 510, FT_BREAKS, "E8", True),
        ("P4", "08:00", "17:00", 60, 240, "coffee:15:paid:90-150", "", False),
        ("P5", "08:00", "16:00", 60, 300, "coffee:15:paid:120-180", "", False),
        ("P6", "08:00", "15:00", 60, 360, "coffee:15:paid:150-210", "", False),
    ],
    columns=[
        "template",
        "earliest_start",
        "latest_start",
        "start_step_min",
        "length_min",
        "breaks",
        "not_followed_by",
        "late",
    ],
)


def agents(rng: np.random.Generator) -> pd.DataFrame:
    """59 agents; every fifth agent part-time (alternating PT25/PT20), full-timers alternate
    FT40/FT375.
    """
    rows = []
    k = 0
    for team, groups in TEAMS:
        for skills, count in groups:
            for _ in range(count):
                k += 1
                if k % 5 == 0:
                    contract = "PT25" if (k // 5) % 2 else "PT20"
                else:
                    contract = "FT40" if k % 2 else "FT375"
                name = (
                    f"{FIRST_NAMES[rng.integers(len(FIRST_NAMES))]} "
                    f"{LAST_NAMES[rng.integers(len(LAST_NAMES))]}"
                )
                rows.append(
                    (
                        f"A{k:02d}",
                        name,
                        team,
                        contract,
                        skills,
                        round(float(rng.uniform(16.0, 22.0)), 2),
                    )
                )
    return pd.DataFrame(
        rows, columns=["agent_id", "name", "team", "contract", "skills", "hourly_cost"]
    )


ABSENCES = pd.DataFrame(
    [
        ("A03", "2026-12-07", "2026-12-13", "vacation"),
        ("A27", "2026-12-07", "2026-12-13", "vacation"),
        ("A11", "2026-12-09", "2026-12-10", "vacation"),
        ("A45", "2026-12-10", "2026-12-11", "vacation"),
        ("A18", "2026-12-08", "2026-12-08", "sick"),
        ("A05", "2026-12-09 10:00", "2026-12-09 12:00", "training"),
        ("A06", "2026-12-09 10:00", "2026-12-09 12:00", "training"),
        ("A41", "2026-12-10 14:00", "2026-12-10 15:00", "meeting"),
        ("A42", "2026-12-10 14:00", "2026-12-10 15:00", "meeting"),
    ],
    columns=["agent_id", "start", "end", "kind"],
)

PREFERENCES = pd.DataFrame(
    [
        ("A02", "2026-12-11", "off", "", 5),
        ("A22", "2026-12-07", "off", "", 5),
        ("A33", "2026-12-12", "off", "", 3),
        ("A48", "2026-12-09", "not", "L8", 4),
    ],
    columns=["agent_id", "date", "kind", "template", "weight"],
)


def main() -> None:
    rng = np.random.default_rng(SEED)
    DATA.mkdir(parents=True, exist_ok=True)
    agents(rng).to_csv(DATA / "agents.csv", index=False)
    CONTRACTS.to_csv(DATA / "contracts.csv", index=False)
    SHIFTS.to_csv(DATA / "shifts.csv", index=False)
    ABSENCES.to_csv(DATA / "absences.csv", index=False)
    PREFERENCES.to_csv(DATA / "preferences.csv", index=False)


if __name__ == "__main__":
    main()
