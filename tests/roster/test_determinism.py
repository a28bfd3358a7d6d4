"""``--deterministic`` gives the same bytes whatever the clock and the machine's load.

Each case is solved once as is (the reference), once with ``time.perf_counter`` and
``time.monotonic`` running five times too fast, and once with two CPU-bound processes
beside it: roster.csv and coverage.csv must be byte-identical. The cases reach every
stage: on interval coverage the local search in two forked chains, best responses, CP-SAT
with two interleaved workers, and the neighbourhood search with the LP bound beside it; on
a Curtois instance (day-level cover) best responses, column generation and the rounding of
its LP; and the cover repair of the interval case's roster after a sick call.
``STAFFPLAN_DETERMINISM_LOG`` (a file path), when set, receives the reference digests, so
that ``.ci/run`` can compare a second run of these tests under load with the first.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.cpu_hogs import cpu_hogs

from staffplan.cli import cli
from staffplan.cover.settings import parse_absent, parse_now
from staffplan.importers.curtois import parse_instance, to_scenario
from staffplan.io.roster_csv import read_roster_csv
from staffplan.pipeline import run_cover
from staffplan.scenario import load

pytestmark = pytest.mark.determinism

CURTOIS = Path(__file__).resolve().parents[1] / "data" / "curtois" / "Instance1.txt"
FILES = ("roster.csv", "coverage.csv")


MID = """name = "mid"
shrinkage = 0.0
[grid]
start = 2026-12-07
days = 5
interval_minutes = 60
timezone = "Europe/Madrid"
[data]
agents = "agents.csv"
contracts = "contracts.csv"
shifts = "shifts.csv"
requirements = "requirements.csv"
[queues.voice]
service_level = 0.8
answer_within_s = 20
[queues.chat]
channel = "chat"
service_level = 0.8
answer_within_s = 60
concurrency = 2
[weights]
under_coverage = 10
[solver]
search_share = 0.3
improve_share = 0.4
lns_share = 0.5
"""


def _interval_case(tmp: Path) -> tuple[Path, list[str]]:
    """14 agents (voice, chat, both), 5 days of hourly service-level-aware requirements: every
    interval-coverage stage runs within 5 deterministic seconds and none proves optimality."""
    skills = ("voice", "voice|chat", "chat", "voice")
    agents = [f"A{i:02d},Agent {i},T,FT,{skills[i % 4]},{18 + i % 3}" for i in range(14)]
    (tmp / "agents.csv").write_text("agent_id,name,team,contract,skills,hourly_cost\n"
                                    + "\n".join(agents) + "\n")  # fmt: skip
    (tmp / "contracts.csv").write_text(
        "contract,min_minutes_week,max_minutes_week,max_days_week,max_consecutive_days,"
        "min_rest_hours,templates\nFT,1200,2400,4,4,11,*\n"
    )
    (tmp / "shifts.csv").write_text(
        "template,earliest_start,latest_start,start_step_min,length_min,breaks,not_followed_by,"
        "late\nE,06:00,09:00,60,480,lunch:60:unpaid:180-300,,false\n"
        "L,12:00,14:00,60,480,lunch:60:unpaid:180-300,,true\n"
    )
    rows = []
    for d in range(5):
        for h in range(24):
            t = f"2026-12-{7 + d:02d}T{h:02d}:00"
            busy, peak = 8 <= h < 20, 10 <= h < 13 or 16 <= h < 18
            voice = 3 + peak + d % 2 if busy else 0
            chat = 1 + peak if busy else 0
            rows.append(f"{t},voice,{voice},{8 * voice},240")
            rows.append(f"{t},chat,{chat},{6 * chat},400")
    (tmp / "requirements.csv").write_text(
        "interval_start,queue,required,volume,aht_seconds\n" + "\n".join(rows) + "\n"
    )
    (tmp / "scenario.toml").write_text(MID)
    return tmp / "scenario.toml", ["--time-limit", "3", "--seed", "3"]


def _curtois_case(tmp: Path) -> tuple[Path, list[str]]:
    return to_scenario(parse_instance(CURTOIS), tmp / "curtois"), ["--time-limit", "30"]


CASES: dict[str, Callable[[Path], tuple[Path, list[str]]]] = {
    "interval": _interval_case,
    "curtois": _curtois_case,
}


def digests(scenario: Path, args: list[str], out: Path) -> dict[str, str]:
    """SHA-256 of roster.csv and coverage.csv of a ``--deterministic`` roster on 2 workers."""
    res = CliRunner().invoke(
        cli,
        ["roster", str(scenario), "--deterministic", "--workers", "2", "--quiet", "--json"]
        + ["--out", str(out), *args],
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout.strip().splitlines()[-1])["warnings"] == []
    return {f: hashlib.sha256((out / f).read_bytes()).hexdigest() for f in FILES}


def _log(name: str, digest: dict[str, str]) -> None:
    path = os.environ.get("STAFFPLAN_DETERMINISM_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"case": name, **digest}) + "\n")


#: reference solves of this module, by case: the cover test repairs the interval case's roster
#: instead of solving it again
_SOLVED: dict[str, tuple[Path, list[str], dict[str, str], Path]] = {}


def _solved(
    name: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, list[str], dict[str, str], Path]:
    """(scenario, args, digests, output folder) of the case's reference solve, once per module."""
    if name not in _SOLVED:
        tmp = tmp_path_factory.mktemp(name)
        scenario, args = CASES[name](tmp)
        digest = digests(scenario, args, tmp / "reference")
        _log(name, digest)
        _SOLVED[name] = (scenario, args, digest, tmp / "reference")
    return _SOLVED[name]


@pytest.fixture(scope="module", params=sorted(CASES))
def reference(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path, list[str], dict[str, str]]]:
    name = request.param
    scenario, args, digest, _ = _solved(name, tmp_path_factory)
    yield name, scenario, args, digest


def test_same_bytes_with_the_clock_five_times_too_fast(
    reference: tuple[str, Path, list[str], dict[str, str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, scenario, args, expected = reference
    real_pc, real_mono = time.perf_counter, time.monotonic
    p0, m0 = real_pc(), real_mono()
    monkeypatch.setattr(time, "perf_counter", lambda: p0 + 5 * (real_pc() - p0))
    monkeypatch.setattr(time, "monotonic", lambda: m0 + 5 * (real_mono() - m0))
    assert time.perf_counter() >= p0  # the patch is in place
    assert digests(scenario, args, tmp_path / "fast") == expected


def test_same_bytes_beside_two_cpu_bound_processes(
    reference: tuple[str, Path, list[str], dict[str, str]], tmp_path: Path
) -> None:
    _, scenario, args, expected = reference
    with cpu_hogs(2) as pids:
        assert len(pids) == 2
        got = digests(scenario, args, tmp_path / "loaded")
    assert got == expected


def _repair_bytes(scenario: Path, published: Path) -> bytes:
    """The repaired roster and phone list of one agent sick on the third day, deterministic."""
    sc = load(scenario)
    pub = read_roster_csv(published)
    day = "2026-12-09"
    sick = sorted(pub.loc[pub["date"] == day, "agent_id"])[0]
    absences = (parse_absent(f"{sick}:{day}", sc.grid),)
    res = run_cover(
        sc, pub, absences, parse_now(f"{day}T00:00", sc.grid), time_limit_s=3, deterministic=True
    )
    assert res.warnings == () and len(res.changes) > 0
    return res.roster.to_csv(index=False).encode() + res.changes.to_csv(index=False).encode()


def test_cover_repair_same_bytes_under_a_fast_clock_and_beside_cpu_hogs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario, _, _, out = _solved("interval", tmp_path_factory)
    published = out / "roster.csv"
    expected = _repair_bytes(scenario, published)
    _log("cover", {"repair": hashlib.sha256(expected).hexdigest()})
    with cpu_hogs(2):
        assert _repair_bytes(scenario, published) == expected
    real_pc, real_mono = time.perf_counter, time.monotonic
    p0, m0 = real_pc(), real_mono()
    monkeypatch.setattr(time, "perf_counter", lambda: p0 + 5 * (real_pc() - p0))
    monkeypatch.setattr(time, "monotonic", lambda: m0 + 5 * (real_mono() - m0))
    assert _repair_bytes(scenario, published) == expected
