"""``staffplan erlang``: agents needed for one interval, or the KPIs of N agents."""

from __future__ import annotations

import json
import math

import click

from staffplan import limits
from staffplan.errors import InputError
from staffplan.queueing import Target, kpis, offered_load, required_agents, scheduled_heads


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def _check_options(
    volume: float, interval_minutes: float, aht: float, shrinkage: float, agents: int | None
) -> None:
    rules = (
        ("--volume", volume, math.isfinite(volume) and volume >= 0, "contacts >= 0"),
        (
            "--interval-minutes",
            interval_minutes,
            math.isfinite(interval_minutes) and interval_minutes > 0,
            "minutes > 0",
        ),
        ("--aht", aht, math.isfinite(aht) and aht > 0, "seconds > 0"),
        ("--shrinkage", shrinkage, 0 <= shrinkage < 1, "a fraction in [0, 1)"),
    )
    for name, value, ok, expected in rules:
        if not ok:
            raise InputError("bad option value", column=name, expected=expected, found=value)
    if agents is not None and agents < 0:
        raise InputError(
            "bad option value",
            column="--agents",
            expected="a whole number of agents >= 0",
            found=agents,
        )
    if agents is not None:
        limits.check("agents", agents, column="--agents")
    limits.check(
        "offered_load",
        float(offered_load(volume, interval_minutes, aht)),
        column="--volume",
        context=f"{volume:g} contacts of {aht:g} s in {interval_minutes:g} min",
    )


def _target(
    service_level: float | None,
    answer_within: float | None,
    asa_max: float | None,
    abandon_max: float | None,
    max_occupancy: float | None,
    patience: float | None,
    concurrency: float,
) -> Target:
    checks = (
        ("--service-level", service_level, lambda v: 0 < v <= 1, "a fraction in (0, 1]"),
        ("--answer-within", answer_within, lambda v: v >= 0, "seconds >= 0"),
        ("--asa-max", asa_max, lambda v: v >= 0, "seconds >= 0"),
        ("--abandon-max", abandon_max, lambda v: 0 < v <= 1, "a fraction in (0, 1]"),
        ("--max-occupancy", max_occupancy, lambda v: 0 < v <= 1, "a fraction in (0, 1]"),
        ("--patience", patience, lambda v: v > 0, "seconds > 0"),
        ("--concurrency", concurrency, lambda v: v >= 1, "sessions per agent >= 1"),
    )
    for name, value, rule, expected in checks:
        if value is not None and not (math.isfinite(value) and rule(value)):
            raise InputError("bad option value", column=name, expected=expected, found=value)
    if service_level is not None and answer_within is None:
        raise InputError(
            "incomplete target",
            column="--answer-within",
            expected="seconds, since --service-level is set",
            hint="e.g. --service-level 0.8 --answer-within 20",
        )
    if abandon_max is not None and patience is None:
        raise InputError(
            "abandonment needs a patience",
            column="--abandon-max",
            expected="--patience SECONDS as well",
            hint="Erlang C has no abandonment; give the mean patience for Erlang A",
        )
    return Target(
        service_level, answer_within, asa_max, abandon_max, max_occupancy, patience, concurrency
    )


@click.command("erlang")
@click.option(
    "--volume", type=float, required=True, help="Contacts offered in the interval [contacts]."
)
@click.option(
    "--interval-minutes", type=float, default=30.0, show_default=True, help="Interval length [min]."
)
@click.option("--aht", type=float, required=True, help="Average handle time [s].")
@click.option(
    "--service-level",
    type=float,
    default=None,
    help="Target fraction answered within --answer-within [0-1], e.g. 0.8.",
)
@click.option(
    "--answer-within", type=float, default=None, help="Service-level threshold [s], e.g. 20."
)
@click.option("--asa-max", type=float, default=None, help="Cap on the average speed of answer [s].")
@click.option(
    "--abandon-max",
    type=float,
    default=None,
    help="Cap on the abandonment rate [0-1] (needs --patience).",
)
@click.option(
    "--max-occupancy", type=float, default=None, help="Cap on agent occupancy [0-1], e.g. 0.85."
)
@click.option(
    "--patience",
    type=float,
    default=None,
    help="Mean customer patience [s]: switches to Erlang A (abandonment).",
)
@click.option(
    "--concurrency",
    type=float,
    default=1.0,
    show_default=True,
    help="Sessions an agent handles at once [sessions] (chat).",
)
@click.option(
    "--shrinkage",
    type=float,
    default=0.0,
    show_default=True,
    help="Paid time off the phones [0-1): scheduled = ceil(agents / (1 - shrinkage)).",
)
@click.option(
    "--agents",
    type=int,
    default=None,
    help="Evaluate this many agents [agents] instead of finding the requirement.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON object (times [s], fractions [0-1], load [Erlangs]).",
)
def erlang(
    volume: float,
    interval_minutes: float,
    aht: float,
    service_level: float | None,
    answer_within: float | None,
    asa_max: float | None,
    abandon_max: float | None,
    max_occupancy: float | None,
    patience: float | None,
    concurrency: float,
    shrinkage: float,
    agents: int | None,
    as_json: bool,
) -> None:
    """Agents needed for one interval (Erlang C, or Erlang A with --patience), or the KPIs of
    --agents N.
    """
    _check_options(volume, interval_minutes, aht, shrinkage, agents)
    if agents is None and service_level is None and answer_within is not None:
        raise InputError(
            "incomplete target",
            column="--service-level",
            expected="a fraction in (0, 1] with --answer-within",
            hint="e.g. --service-level 0.8 --answer-within 20",
        )
    target = _target(
        service_level, answer_within, asa_max, abandon_max, max_occupancy, patience, concurrency
    )
    mode = "evaluate" if agents is not None else "required"
    n = (
        agents
        if agents is not None
        else int(required_agents(volume, aht, interval_minutes, target))
    )
    k = kpis(volume, aht, interval_minutes, n, target).iloc[0]
    result: dict[str, object] = {
        "mode": mode,
        "model": "erlang_a" if patience is not None else "erlang_c",
        "agents": n,
        "scheduled_agents": int(scheduled_heads(n, shrinkage)),
        "offered_load": round(float(offered_load(volume, interval_minutes, aht)), 6),
        "service_level": round(float(k["service_level"]), 6),
        "answer_within_seconds": target.sl_within_s,
        "asa_seconds": _finite(round(float(k["asa_s"]), 6)),
        "occupancy": round(float(k["occupancy"]), 6),
        "p_wait": round(float(k["p_wait"]), 6),
    }
    if patience is not None:
        result["abandon_rate"] = round(float(k["abandon_rate"]), 6)
    if concurrency != 1.0:
        result["concurrency"] = concurrency
    if as_json:
        click.echo(json.dumps(result))
        return
    label = "Agents required" if mode == "required" else "Agents evaluated"
    asa = result["asa_seconds"]
    lines = [
        f"{label:<26}{n}",
        f"{'Scheduled (shrinkage)':<26}{result['scheduled_agents']}  ({shrinkage:.0%} shrinkage)",
        f"{'Offered load':<26}{result['offered_load']:.2f} Erlangs  "
        f"({'Erlang A' if patience is not None else 'Erlang C'})",
        f"{'Service level':<26}{float(k['service_level']):.1%} answered within "
        f"{target.sl_within_s:g} s",
        f"{'Average speed of answer':<26}"
        f"{'unbounded (too few agents)' if asa is None else f'{asa:.1f} s'}",
        f"{'Probability of waiting':<26}{float(k['p_wait']):.1%}",
        f"{'Occupancy':<26}{float(k['occupancy']):.1%}",
    ]
    if patience is not None:
        lines.append(f"{'Abandonment':<26}{float(k['abandon_rate']):.1%}")
    click.echo("\n".join(lines))
