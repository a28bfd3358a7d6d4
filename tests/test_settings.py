"""``solve_settings``: the scenario's ``[solver]`` table, then the command line, validated once."""

from __future__ import annotations

from pathlib import Path

import pytest

from staffplan.errors import InputError, LimitError
from staffplan.scenario import from_document
from staffplan.settings import SolveSettings, solve_settings


def _scenario(solver: dict[str, object]) -> object:
    doc = {
        "name": "s",
        "grid": {"start": "2026-12-07", "days": 1, "interval_minutes": 60},
        "queues": {"voice": {"service_level": 0.8, "answer_within_s": 20}},
        "solver": solver,
    }
    return from_document(doc, Path("s.toml"))


def test_the_scenario_table_then_the_command_line() -> None:
    sc = _scenario({"time_limit_s": 7, "workers": 1, "seed": 4, "lns_share": 0.25})
    assert solve_settings(sc) == SolveSettings(
        time_limit_s=7.0,
        workers=1,
        seed=4,
        deterministic=False,
        lp_bound=True,  # the [solver] defaults from here on
        improve_share=0.5,
        lns_share=0.25,
        colgen_share=0.4,
        search_share=0.7,
    )
    over = solve_settings(sc, {"time_limit_s": 2, "workers": None, "deterministic": True})
    assert (over.time_limit_s, over.workers, over.seed, over.deterministic) == (2.0, 1, 4, True)
    assert over.lns_share == 0.25


@pytest.mark.parametrize(
    ("overrides", "error", "words"),
    [
        ({"time_limit_s": 0}, InputError, ("--time-limit", "seconds > 0")),
        ({"time_limit_s": -3.0}, InputError, ("--time-limit", "seconds > 0")),
        ({"time_limit_s": float("inf")}, LimitError, ("--time-limit", "finite")),
        ({"time_limit_s": float("nan")}, LimitError, ("--time-limit", "finite")),
        ({"time_limit_s": True}, InputError, ("--time-limit",)),
        ({"workers": 0}, InputError, ("--workers", ">= 1")),
        ({"workers": 10_000}, LimitError, ("--workers", "STAFFPLAN_MAX_WORKERS")),
    ],
)
def test_bad_overrides_name_the_option(
    overrides: dict[str, object], error: type[Exception], words: tuple[str, ...]
) -> None:
    with pytest.raises(error) as info:
        solve_settings(_scenario({}), overrides)
    assert all(w in str(info.value) for w in words), str(info.value)


def test_an_unknown_override_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        solve_settings(_scenario({}), {"time_limit": 3})
