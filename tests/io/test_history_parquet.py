"""Parquet history reads exactly like the same CSV (pandas reads Parquet through pyarrow)."""

from pathlib import Path

import pandas as pd
import pytest

from staffplan.errors import InputError
from staffplan.io.history import read_history

DATA = Path(__file__).resolve().parents[1] / "data" / "calls" / "bank_calls_30min.csv"


def test_parquet_equals_csv(tmp_path: Path) -> None:
    frame = pd.read_csv(DATA).head(28 * 30)
    csv = tmp_path / "h.csv"
    frame.to_csv(csv, index=False)
    pq = tmp_path / "h.parquet"
    frame.to_parquet(pq)
    a = read_history(csv, timezone="America/New_York", interval_min=30)
    b = read_history(pq, timezone="America/New_York", interval_min=30)
    pd.testing.assert_frame_equal(a.frame, b.frame)
    assert b.frame["offered"].sum() == frame["calls"].sum()


def test_parquet_with_typed_timestamps(tmp_path: Path) -> None:
    frame = pd.read_csv(DATA).head(56)
    frame["interval_start"] = pd.to_datetime(frame["interval_start"])
    pq = tmp_path / "typed.parquet"
    frame.to_parquet(pq)
    h = read_history(pq, timezone="America/New_York", interval_min=30)
    assert h.frame["offered"].sum() == frame["calls"].sum()


def test_negative_count_in_parquet_is_a_clear_error(tmp_path: Path) -> None:
    frame = pd.read_csv(DATA).head(10)
    frame.loc[3, "calls"] = -5
    pq = tmp_path / "bad.parquet"
    frame.to_parquet(pq)
    with pytest.raises(InputError) as exc:
        read_history(pq, timezone="America/New_York", interval_min=30)
    assert exc.value.row == 5 and "bad.parquet" in str(exc.value)
