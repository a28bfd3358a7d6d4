import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from staffplan.errors import InputError
from staffplan.io.history import read_history

DATA = Path(__file__).resolve().parents[1] / "data" / "calls"
EXAMPLE = Path(__file__).resolve().parents[2] / "scenarios" / "example" / "data" / "history.csv"


def write(tmp_path: Path, text: str, name: str = "h.csv") -> Path:
    p = tmp_path / name
    p.write_text(text.strip() + "\n", encoding="utf-8")
    return p


def test_per_interval_fall_back_naive_times_resolved_by_order(tmp_path: Path) -> None:
    # 02:00 appears twice on 2026-10-25 in Madrid: first CEST, then CET
    p = write(
        tmp_path,
        """
interval_start,queue,offered,handled,aht_seconds
2026-10-25 01:45,a,3,3,100
2026-10-25 02:00,a,4,4,200
2026-10-25 02:00,a,5,5,300
2026-10-25 03:00,a,6,5,300
""",
    )
    h = read_history(p, timezone="Europe/Madrid", interval_min=15)
    f = h.frame
    assert len(f) == 100  # a 25-hour day
    assert f["offered"].sum() == 18
    got = f[f["offered"] > 0].set_index("interval_start")["offered"]
    assert got[pd.Timestamp("2026-10-25 02:00+02:00")] == 4
    assert got[pd.Timestamp("2026-10-25 02:00+01:00")] == 5


def test_spring_forward_day_has_92_quarter_hours(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "interval_start,offered\n2026-03-29T01:45:00+01:00,2\n2026-03-29T03:00:00+02:00,7\n",
    )
    h = read_history(p, timezone="Europe/Madrid", interval_min=15)
    assert len(h.frame) == 92
    assert h.frame["offered"].sum() == 9
    assert h.queues == ("all",)
    assert not h.has_aht


def test_coarser_aggregation_weights_aht_by_handled(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        """
interval_start,queue,offered,handled,aht_seconds,abandoned
2026-12-01 08:00,q,10,8,100,2
2026-12-01 08:15,q,5,2,400,3
2026-12-01 08:30,q,1,1,,0
""",
    )
    h = read_history(p, timezone="UTC", interval_min=60)
    row = h.frame[h.frame["interval_start"] == pd.Timestamp("2026-12-01 08:00", tz="UTC")].iloc[0]
    assert row["offered"] == 16 and row["handled"] == 11 and row["abandoned"] == 5
    assert row["aht_seconds"] == pytest.approx((8 * 100 + 2 * 400) / 10)
    assert np.isnan(h.frame["aht_seconds"]).sum() == 23


def test_per_contact_counts_abandons_and_aht(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        """
arrived_at,queue,handle_seconds,abandoned
2026-12-01 08:01:10,voice,100,false
2026-12-01 08:14:59,voice,300,no
2026-12-01 08:15:00,voice,,true
2026-12-01T07:20:00Z,voice,200,0
""",
    )
    h = read_history(p, timezone="Europe/Madrid", interval_min=15)
    f = h.frame.set_index("interval_start")
    assert h.shape == "per_contact"
    assert f.loc[pd.Timestamp("2026-12-01 08:00+01:00"), "offered"] == 2
    assert f.loc[pd.Timestamp("2026-12-01 08:00+01:00"), "aht_seconds"] == 200
    assert f.loc[pd.Timestamp("2026-12-01 08:15+01:00"), "abandoned"] == 1
    assert (
        f.loc[pd.Timestamp("2026-12-01 08:15+01:00"), "handled"] == 1
    )  # the Z contact: 08:20 local
    assert f["offered"].sum() == 4


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=3 * 86400 - 1), min_size=1, max_size=60),
    st.sampled_from([15, 30, 60]),
)
def test_counts_conserved_across_fall_back(seconds: list[int], interval: int) -> None:
    # contacts with UTC offsets over 24-26 Oct 2026 (fall-back in Madrid): every one counted once
    base = pd.Timestamp("2026-10-24 00:00", tz="Europe/Madrid").tz_convert("UTC")
    times = [(base + pd.Timedelta(seconds=s)).tz_convert("Europe/Madrid") for s in seconds]
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "c.csv"
        pd.DataFrame(
            {"arrived_at": [t.isoformat() for t in times], "queue": "q", "handle_seconds": 60}
        ).to_csv(p, index=False)
        h = read_history(p, timezone="Europe/Madrid", interval_min=interval)
    assert h.frame["offered"].sum() == len(seconds)
    # each contact sits in the interval that contains it (elapsed time from local midnight)
    starts = pd.DatetimeIndex(h.frame["interval_start"])
    for t in times:
        i = starts.searchsorted(t, side="right") - 1
        assert starts[i] <= t < starts[i] + pd.Timedelta(minutes=interval)
    per_day = h.frame.groupby(starts.tz_localize(None).date).size()
    expected = {dt.date(2026, 10, 24): 24, dt.date(2026, 10, 25): 25, dt.date(2026, 10, 26): 24}
    for day, n in per_day.items():
        assert n == expected[day] * 60 // interval


def test_example_history_dst_day_and_totals() -> None:
    raw = pd.read_csv(EXAMPLE)
    h = read_history(EXAMPLE, timezone="Europe/Madrid", interval_min=15)
    assert h.first_date == dt.date(2026, 7, 20) and h.last_date == dt.date(2026, 12, 6)
    assert h.gaps == () and h.unrecorded_weekdays == ()
    assert h.weeks == 20
    starts = pd.DatetimeIndex(h.frame["interval_start"])
    sizes = (
        h.frame[h.frame["queue"] == "email"]
        .groupby(starts[h.frame["queue"] == "email"].tz_localize(None).date)
        .size()
    )
    assert sizes[dt.date(2026, 10, 25)] == 100 and sizes[dt.date(2026, 10, 24)] == 96
    assert (
        h.frame.groupby("queue")["offered"].sum().to_dict()
        == raw.groupby("queue")["offered"].sum().astype(float).to_dict()
    )
    h60 = read_history(EXAMPLE, timezone="Europe/Madrid", interval_min=60)
    assert h60.frame["offered"].sum() == raw["offered"].sum()


def test_real_bank_data_gaps_reported_not_zero() -> None:
    h = read_history(DATA / "bank_calls_30min.csv", timezone="America/New_York", interval_min=30)
    assert h.queues == ("all",)
    assert h.unrecorded_weekdays == (5, 6)
    assert [str(d) for d in h.gaps] == [
        "2003-04-04",
        "2003-04-07",
        "2003-05-26",
        "2003-07-04",
        "2003-09-01",
        "2003-10-14",
    ]
    # every weekday from 2003-03-03 to 2003-10-24 (tests/data/calls/README.md) but the six gaps
    weekdays = pd.bdate_range(dt.date(2003, 3, 3), dt.date(2003, 10, 24))
    assert len(h.recorded_dates) == len(weekdays) - 6 == 164
    assert h.frame["offered"].sum() == pd.read_csv(DATA / "bank_calls_30min.csv")["calls"].sum()
    assert dt.date(2003, 4, 4) not in set(pd.DatetimeIndex(h.frame["interval_start"]).date)
    assert h.gap_report()["weekdays_never_recorded"] == ["Saturday", "Sunday"]


def test_column_mapping(tmp_path: Path) -> None:
    p = write(tmp_path, "when,team,n\n2026-12-01 08:00,sales,3\n")
    h = read_history(
        p,
        timezone="UTC",
        interval_min=15,
        columns={"interval_start": "when", "queue": "team", "offered": "n"},
    )
    assert h.queues == ("sales",) and h.frame["offered"].sum() == 3


@pytest.mark.parametrize(
    ("text", "row", "column", "words"),
    [
        (
            "interval_start,queue,offered\n2026-12-01 08:00,a,3\nyesterday,a,4\n",
            3,
            "interval_start",
            "date-time",
        ),
        ("interval_start,queue,offered\n2026-12-01 08:00,a,-3\n", 2, "offered", ">= 0"),
        (
            "interval_start,queue,offered,aht_seconds\n2026-12-01 08:00,a,3,-5\n",
            2,
            "aht_seconds",
            ">= 0",
        ),
        (
            "interval_start,queue,offered\n2026-12-01 08:00,a,3\n2026-12-01 "
            "08:15,a,1\n2026-12-01 08:00,a,2\n",
            4,
            "interval_start",
            "row 2",
        ),
        ("interval_start,queue,offered\n2026-12-01 08:00,a,2.5\n", 2, "offered", "whole number"),
        ("arrived_at,queue,handle_seconds\n2026-12-01 08:00,a,-1\n", 2, "handle_seconds", ">= 0"),
        (
            "arrived_at,queue,handle_seconds,abandoned\n2026-12-01 08:00,a,1,maybe\n",
            2,
            "abandoned",
            "true/false",
        ),
        (
            "arrived_at,queue,handle_seconds,wait_seconds\n2026-12-01 08:00,a,1,\n2026-12-01 "
            "08:01,a,1,-4\n",
            3,
            "wait_seconds",
            ">= 0",
        ),
    ],
)
def test_bad_values_name_row_and_column(
    tmp_path: Path, text: str, row: int, column: str, words: str
) -> None:
    p = write(tmp_path, text)
    with pytest.raises(InputError) as e:
        read_history(p, timezone="UTC", interval_min=15)
    assert e.value.row == row and e.value.column == column
    assert str(p) in str(e.value) and words in str(e.value)


def test_unknown_queue(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "interval_start,queue,offered\n2026-12-01 08:00,voice,3\n2026-12-01 08:00,sales,1\n",
    )
    with pytest.raises(InputError, match="unknown queue") as e:
        read_history(p, timezone="UTC", interval_min=15, queues=["voice"])
    assert e.value.row == 3 and e.value.found == "sales" and "history_name" in str(e.value)


def test_unknown_shape_and_coarse_history(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="shape"):
        read_history(write(tmp_path, "a,b\n1,2\n"), timezone="UTC", interval_min=15)
    with pytest.raises(InputError, match="coarser") as e:
        read_history(DATA / "bank_calls_30min.csv", timezone="UTC", interval_min=15)
    assert "30-minute" in str(e.value)
    with pytest.raises(InputError, match="no rows"):
        read_history(write(tmp_path, "interval_start,offered\n"), timezone="UTC", interval_min=15)
    with pytest.raises(InputError, match="not found"):
        read_history(tmp_path / "missing.csv", timezone="UTC", interval_min=15)


def test_patience_estimator_recovers_exponential_mean_under_censoring() -> None:
    """Patience ~ Exp(120 s), offered wait ~ Exp(60 s): a third abandon.

    The MLE m = T / A has standard error ≈ m / sqrt(A); with A ≈ 6,700
    abandonments that is ≈ 1.2 %, so 5 % is about four standard errors.
    """
    from scipy import optimize, stats

    from staffplan.io.history import patience_summary

    rng = np.random.Generator(np.random.PCG64(7))
    n, mean = 20_000, 120.0
    patience = rng.exponential(mean, n)
    offered = rng.exponential(60.0, n)
    abandoned = patience < offered
    wait = np.minimum(patience, offered)
    s = patience_summary(wait, abandoned)
    assert s.contacts == n and s.abandonments == int(abandoned.sum())
    assert s.time_at_risk_s == pytest.approx(wait.sum())
    assert s.mean_patience_s == pytest.approx(mean, rel=0.05)

    # independent oracle: maximise the censored log-likelihood numerically
    def nll(m: float) -> float:
        return -(
            stats.expon.logpdf(wait[abandoned], scale=m).sum()
            + stats.expon.logsf(wait[~abandoned], scale=m).sum()
        )

    best = optimize.minimize_scalar(
        nll, bounds=(1.0, 1000.0), method="bounded", options={"xatol": 1e-6}
    )
    assert s.mean_patience_s == pytest.approx(best.x, rel=1e-5)
    # the naive mean of the abandoned waits ignores censoring and is far off (~40 s)
    assert wait[abandoned].mean() < 0.5 * mean


def test_patience_zero_abandonments_and_unknown_waits() -> None:
    from staffplan.io.history import patience_summary

    s = patience_summary(np.array([5.0, np.nan, 7.0]), np.array([False, True, False]))
    assert (s.time_at_risk_s, s.abandonments, s.contacts) == (12.0, 0, 2)
    assert s.mean_patience_s == float("inf")


def test_read_history_carries_patience_summary(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        """
arrived_at,queue,handle_seconds,abandoned,wait_seconds
2026-12-07 08:00:10,a,100,false,20
2026-12-07 08:01:00,a,,true,30
2026-12-07 08:02:00,a,200,false,
2026-12-07 08:03:00,b,200,false,4
""",
    )
    h = read_history(p, timezone="Europe/Madrid", interval_min=15)
    assert h.patience is not None
    a, b = h.patience["a"], h.patience["b"]
    assert (a.time_at_risk_s, a.abandonments, a.contacts, a.mean_patience_s) == (50.0, 1, 2, 50.0)
    assert (b.abandonments, b.mean_patience_s) == (0, float("inf"))
    assert h.frame["offered"].sum() == 4  # the frame is unchanged by the summary
    no_wait = write(
        tmp_path, "arrived_at,queue,handle_seconds,abandoned\n2026-12-07 08:00,a,100,false", "n.csv"
    )
    assert read_history(no_wait, timezone="Europe/Madrid", interval_min=15).patience is None
    per_interval = write(
        tmp_path, "interval_start,queue,offered,abandoned\n2026-12-07 08:00,a,3,1", "i.csv"
    )
    assert read_history(per_interval, timezone="Europe/Madrid", interval_min=15).patience is None
