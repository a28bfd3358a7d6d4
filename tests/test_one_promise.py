"""One definition: the KPIs, the report, compare, cover and simulate show the same promised figure
for the same roster and interval (they all call ``staffplan.evaluate.kpis``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from staffplan.cover.repair import repair
from staffplan.cover.settings import parse_absent, parse_now
from staffplan.evaluate.sim_scenario import simulate_scenario
from staffplan.io.roster_csv import roster_as_text
from staffplan.pipeline import compare_table, run, write_outputs
from staffplan.report.run_report import report_data
from staffplan.scenario import load
from staffplan.settings import SolveSettings

EXAMPLE = Path(__file__).resolve().parents[1] / "scenarios" / "example" / "scenario.toml"


@pytest.mark.slow
def test_every_command_shows_the_same_promised_service_level(tmp_path: Path) -> None:
    sc = load(EXAMPLE)
    result = run(sc, time_limit_s=2.0, workers=1, seed=0, deterministic=True)
    kp = result.kpis
    # Wednesday 11:00 voice, an interval with contacts and a promise below 1
    when = pd.Timestamp("2026-12-09T11:00", tz=sc.grid.zone)
    row = kp[(pd.to_datetime(kp["interval_start"]) == when) & (kp["queue"] == "voice")].iloc[0]
    figure = float(row["service_level"])
    assert 0.0 < figure < 1.0

    # kpis.csv as written
    write_outputs(result, tmp_path / "run")
    written = pd.read_csv(tmp_path / "run" / "kpis.csv")
    hit = written[
        (pd.to_datetime(written["interval_start"]) == when) & (written["queue"] == "voice")
    ]
    assert float(hit["service_level"].iloc[0]) == pytest.approx(figure, rel=1e-12)

    # the report's per-interval service frame (its chart) and its week table
    service = report_data(result).service
    at = service[(service["interval_start"] == when) & (service["queue"] == "voice")]
    assert float(at["service_level"].iloc[0]) == pytest.approx(figure, rel=1e-12)

    # compare: the table's week figure is the run's week figure; its charts read kpis.csv
    table = compare_table([result.summary]).set_index("metric")
    week_all = float(result.week.set_index("queue").loc["all", "service_level"])
    assert table.loc["service level (voice+chat, week)", sc.name] == pytest.approx(
        week_all, abs=1e-6
    )

    # cover: service before the absence, for the published roster
    published = roster_as_text(result.outcome.roster.roster)
    grid = sc.grid
    cover = repair(
        result.problem,
        published,
        (parse_absent("A05:2026-12-10", grid),),
        parse_now("2026-12-09T07:00", grid),
        solve_settings=SolveSettings(10.0, 1, 0, deterministic=True),
        scenario=sc,
    )
    sv = cover.service
    before = sv[(pd.to_datetime(sv["interval_start"]) == when) & (sv["queue"] == "voice")]
    assert float(before["sl_before"].iloc[0]) == pytest.approx(figure, rel=1e-12)

    # simulate: the promise beside the simulated figure
    sim = simulate_scenario(sc, published, forecast=result.forecast, replications=1, workers=1)
    si = sim.intervals
    pr = si[(pd.to_datetime(si["interval_start"]) == when) & (si["queue"] == "voice")]
    assert float(pr["promised_service_level"].iloc[0]) == pytest.approx(figure, rel=1e-12)
    # and the week promise of simulate is the run's week promise
    sw = sim.week.set_index("queue")
    rw = result.week.set_index("queue")
    assert sw.loc["voice", "promised_service_level"] == pytest.approx(
        rw.loc["voice", "service_level"], rel=1e-12
    )
    assert np.isfinite(sw.loc["chat", "promised_asa_s"])
