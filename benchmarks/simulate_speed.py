"""Speed of the roster simulation: one week, ~100,000 contacts, 150 agents, 3 queues.

Run: ``python benchmarks/simulate_speed.py [--replications 10] [--workers 2]``.
Synthetic but roster-like inputs: voice / chat (concurrency 2) / email with a
daytime profile, 150 agents on 8-hour shifts (5 days a week, one 30-minute
break), mixed skills with priorities. Prints wall time and the week KPIs.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from staffplan.evaluate.simulate import QueueSim, simulate_week

INTERVAL_MIN = 15
DAYS = 7
PER_DAY = 24 * 60 // INTERVAL_MIN


def inputs(
    total_contacts: float = 100_000, n_agents: int = 150, seed: int = 0
) -> tuple[np.ndarray, ...]:
    """Expected arrivals, AHT [s], on-phone matrix and skills for the benchmark week."""
    rng = np.random.default_rng(seed)
    nt = DAYS * PER_DAY
    hour = (np.arange(nt) % PER_DAY) * INTERVAL_MIN / 60.0
    profile = np.where(
        (hour >= 8) & (hour < 20),
        np.clip(np.sin(np.pi * (hour - 8) / 12), 0.0, 1.0) ** 0.7 + 0.2,
        0.0,
    )
    day_scale = np.repeat([1.0, 1.0, 0.95, 0.95, 0.9, 0.5, 0.35], PER_DAY)
    base = profile * day_scale
    mix = np.array([0.6, 0.25, 0.15])
    arrivals = mix[:, None] * base[None, :] / base.sum() * total_contacts
    aht = np.vstack([np.full(nt, 180.0), np.full(nt, 300.0), np.full(nt, 240.0)])
    on = np.zeros((n_agents, nt), dtype=bool)
    for a in range(n_agents):
        days_off = rng.choice(DAYS, size=2, replace=False)
        start_h = rng.choice([7.5, 8.0, 9.0, 10.0, 11.0, 12.0])
        for d in range(DAYS):
            if d in days_off:
                continue
            lo = d * PER_DAY + int(start_h * 60 / INTERVAL_MIN)
            hi = lo + 8 * 60 // INTERVAL_MIN
            on[a, lo:hi] = True
            brk = lo + int(rng.integers(12, 20))
            on[a, brk : brk + 2] = False
    skills = np.zeros((n_agents, 3), dtype=np.int64)
    kind = np.arange(n_agents) % 5
    skills[kind <= 2, 0] = 1  # voice first
    skills[kind == 1, 1] = 2
    skills[kind == 2, 2] = 2
    skills[kind == 3, 1] = 1  # chat first
    skills[kind == 3, 0] = 2
    skills[kind == 4, 2] = 1  # email first
    skills[kind == 4, 1] = 2
    return arrivals, aht, on, skills


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replications", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--contacts", type=float, default=100_000)
    args = parser.parse_args()
    arrivals, aht, on, skills = inputs(args.contacts)
    queues = [
        QueueSim("voice", "voice", answer_within_s=20, patience_s=180),
        QueueSim(
            "chat",
            "chat",
            answer_within_s=60,
            patience_s=600,
            concurrency=2,
            handle="lognormal",
            handle_cv=0.8,
        ),
        QueueSim("email", "email", answer_within_s=24 * 3600),
    ]
    t0 = time.perf_counter()
    result = simulate_week(
        arrivals,
        aht,
        INTERVAL_MIN,
        on,
        skills,
        queues,
        replications=args.replications,
        seed=0,
        workers=args.workers,
    )
    wall = time.perf_counter() - t0
    offered = result.week["offered"].sum()
    print(
        f"contacts per replication: {offered:,.0f}; agents: {on.shape[0]}; queues: 3; "
        f"replications: {args.replications}; workers: {args.workers}"
    )
    print(f"wall time: {wall:.2f} s")
    cols = [
        "queue",
        "offered",
        "service_level",
        "service_level_ci",
        "asa_s",
        "abandon_rate",
        "occupancy",
    ]
    print(result.week[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
