"""``staffplan import curtois``: CliRunner happy paths, exit code 2 through ``main``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from staffplan.cli import cli, main

DATA = Path(__file__).resolve().parents[1] / "data" / "curtois"


def test_import_writes_scenario(tmp_path: Path) -> None:
    out = tmp_path / "s"
    r = CliRunner().invoke(
        cli, ["import", "curtois", str(DATA / "Instance1.txt"), "--out", str(out)]
    )
    assert r.exit_code == 0, r.output
    assert "Instance1: 8 staff, 1 shift types, 14 days, 26 requests, 14 cover rows" in r.output
    assert (out / "scenario.toml").exists() and (out / "shift_cover.csv").exists()


def test_import_json(tmp_path: Path) -> None:
    out = tmp_path / "s"
    r = CliRunner().invoke(
        cli,
        [
            "import",
            "curtois",
            str(DATA / "Instance8.txt"),
            "--out",
            str(out),
            "--json",
            "--start",
            "2026-01-05",
            "--time-limit",
            "7.5",
            "--workers",
            "1",
        ],
    )
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert (doc["staff"], doc["shift_types"], doc["days"], doc["cover_rows"]) == (30, 4, 28, 112)
    assert doc["scenario"] == str(out / "scenario.toml")
    text = (out / "scenario.toml").read_text()
    assert "start = 2026-01-05" in text and "time_limit_s = 7.5" in text and "workers = 1" in text


def test_help_states_units() -> None:
    r = CliRunner().invoke(cli, ["import", "curtois", "--help"])
    assert r.exit_code == 0
    assert "[s]" in r.output and "[YYYY-MM-DD, a Monday]" in r.output


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--start", "2024-01-02"], "a Monday"),
        (["--start", "soon"], "bad --start date"),
    ],
)
def test_bad_options_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], needle: str
) -> None:
    with pytest.raises(SystemExit) as info:
        main(
            ["import", "curtois", str(DATA / "Instance1.txt"), "--out", str(tmp_path / "s"), *args]
        )
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and needle in err and err.count("\n") == 1
    assert not (tmp_path / "s").exists()


def test_non_empty_folder_and_bad_file_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "s"
    main_args = ["import", "curtois", str(DATA / "Instance1.txt"), "--out", str(out)]
    with pytest.raises(SystemExit) as info:
        main(main_args)
    assert info.value.code == 0
    with pytest.raises(SystemExit) as info:
        main(main_args)
    assert info.value.code == 2
    assert "not empty" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main([*main_args, "--force"])
    assert info.value.code == 0
    bad = tmp_path / "bad.txt"
    bad.write_text(
        "SECTION_HORIZON\n14\nSECTION_SHIFTS\nD,480,\nSECTION_STAFF\nA,D=14,4320,3360,5,2,2\n"
    )
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main(["import", "curtois", str(bad), "--out", str(tmp_path / "t")])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"{bad}, row 6: wrong number of fields" in err and "Traceback" not in err
