"""Generate the example contact history: ``data/history.csv`` (fixed seed, deterministic).

Twenty weeks of 15-minute history, Monday 2026-07-20 to Sunday 2026-12-06,
Europe/Madrid (DST ends 2026-10-25, a 25-hour day), for a center of about 60
agents with 30 % shrinkage:

- ``voice``: ~8,000 calls a week, AHT ~280 s; open Mon-Fri 08:00-21:00 and
  Sat 09:00-15:00, closed Sunday.
- ``chat``: ~3,000 sessions a week, AHT ~420 s (agents work 2 at once); same hours.
- ``email``: ~2,500 a week, AHT ~360 s; arrives around the clock with a daytime bias.

Volumes follow weekday and time-of-day shapes (a morning peak around 10:30
and a smaller one after lunch), a mild upward trend (+0.4 % a week) and
Poisson noise; handle times vary by time of day with gamma noise. Monday
2026-10-12 (Fiesta Nacional) is a holiday at 30 % of normal volume.

Only intervals where a queue can have contacts are written (voice and chat
rows in opening hours, email rows all day); timestamps carry their UTC
offset. Run: ``python scenarios/example/make_history.py`` (rewrites the file).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261207
TIMEZONE = "Europe/Madrid"
FIRST = dt.date(2026, 7, 20)
WEEKS = 20
INTERVAL_MIN = 15
HOLIDAYS = {dt.date(2026, 10, 12): 0.30}
TREND_PER_WEEK = 0.004

# weekly volume [contacts], mean AHT [s], share of the week per weekday (Mon..Sun, sums to 1)
QUEUES = {
    "voice": (8000.0, 280.0, (0.215, 0.185, 0.175, 0.170, 0.170, 0.085, 0.0)),
    "chat": (3000.0, 420.0, (0.190, 0.175, 0.170, 0.170, 0.175, 0.120, 0.0)),
    "email": (2500.0, 360.0, (0.190, 0.170, 0.160, 0.155, 0.150, 0.095, 0.080)),
}


def open_hours(queue: str, weekday: int) -> tuple[float, float] | None:
    """Opening hours [h, local clock] or None when closed."""
    if queue == "email":
        return (0.0, 24.0)
    if weekday < 5:
        return (8.0, 21.0)
    if weekday == 5:
        return (9.0, 15.0)
    return None


def intraday_shape(queue: str, hours: np.ndarray) -> np.ndarray:
    """Relative arrival rate at local clock time ``hours`` [h] (unnormalised)."""
    morning = np.exp(-0.5 * ((hours - 10.5) / 1.6) ** 2)
    afternoon = 0.75 * np.exp(-0.5 * ((hours - 16.0) / 2.0) ** 2)
    evening = 0.25 * np.exp(-0.5 * ((hours - 19.5) / 1.2) ** 2)
    if queue == "chat":
        afternoon *= 1.3
        evening *= 2.0
    if queue == "email":
        return 0.08 + morning + afternoon + 0.5 * evening
    return 0.05 + morning + afternoon + evening


def generate(seed: int = SEED) -> pd.DataFrame:
    """The history frame: interval_start (ISO with offset), queue, offered, handled, aht_seconds,
    abandoned.
    """
    rng = np.random.default_rng(seed)
    starts = pd.date_range(
        pd.Timestamp(FIRST).tz_localize(TIMEZONE),
        pd.Timestamp(FIRST + dt.timedelta(days=7 * WEEKS)).tz_localize(TIMEZONE),
        freq=f"{INTERVAL_MIN}min",
        inclusive="left",
    )
    local = starts.tz_localize(None)
    clock_h = (local.hour + local.minute / 60).to_numpy() + INTERVAL_MIN / 120
    dates = local.date
    weekday = local.day_of_week.to_numpy()
    day_no = np.array([(d - FIRST).days for d in dates])
    frames = []
    for queue, (weekly, aht_mean, day_share) in QUEUES.items():
        shape = intraday_shape(queue, clock_h)
        rate = np.zeros(len(starts))
        for w in range(7):
            hours = open_hours(queue, w)
            if hours is None:
                continue
            on = (weekday == w) & (clock_h >= hours[0]) & (clock_h < hours[1])
            # normalise each weekday's shape to its share of the week, per day
            for d in np.unique(day_no[on]):
                sel = on & (day_no == d)
                rate[sel] = weekly * day_share[w] * shape[sel] / shape[sel].sum()
        trend = 1.0 + TREND_PER_WEEK * day_no / 7
        holiday = np.array([HOLIDAYS.get(d, 1.0) for d in dates])
        mean = rate * trend * holiday
        offered = rng.poisson(mean)
        aband_p = 0.05 if queue == "voice" else (0.03 if queue == "chat" else 0.0)
        abandoned = rng.binomial(offered, aband_p)
        handled = offered - abandoned
        tod = 1.0 + 0.08 * np.cos(2 * np.pi * (clock_h - 11.0) / 24.0)
        k = 4.0 * np.maximum(handled, 1)  # mean of `handled` gamma(4) handle times
        aht = rng.gamma(k, aht_mean * tod / k)
        keep = rate > 0
        frames.append(
            pd.DataFrame(
                {
                    "interval_start": starts[keep]
                    .strftime("%Y-%m-%dT%H:%M:%S%z")
                    .str.replace(r"(\d\d)(\d\d)$", r"\1:\2", regex=True),
                    "queue": queue,
                    "offered": offered[keep],
                    "handled": handled[keep],
                    "aht_seconds": np.where(handled[keep] > 0, np.round(aht[keep], 1), np.nan),
                    "abandoned": abandoned[keep],
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["interval_start", "queue"], kind="stable").reset_index(drop=True)


def main() -> None:
    path = Path(__file__).resolve().parent / "data" / "history.csv"
    frame = generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, float_format="%.1f")
    print(f"wrote {len(frame)} rows to {path}")


if __name__ == "__main__":
    main()
