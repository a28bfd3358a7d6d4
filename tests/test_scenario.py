import datetime as dt
from pathlib import Path

import pytest

from staffplan.errors import ScenarioError
from staffplan.scenario import load
from staffplan.scenario_file import load_document

BASE = """
name = "base"
shrinkage = 0.3
[grid]
start = 2026-12-07
timezone = "Europe/Madrid"
[data]
history = "data/history.csv"
absences = "data/absences.csv"
absences_extra = ["data/more.csv"]
[queues.voice]
service_level = 0.8
answer_within_s = 20
patience_s = 120
[queues.email]
channel = "email"
deadline_hours = 24
[forecast]
holidays = [{ date = 2026-12-08, scale = 0.0, name = "closed" }]
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_load_defaults_and_paths(tmp_path: Path) -> None:
    s = load(write(tmp_path / "base" / "scenario.toml", BASE))
    assert s.name == "base"
    assert s.grid.start == dt.date(2026, 12, 7) and s.grid.interval_min == 15 and s.grid.days == 7
    assert [q.name for q in s.queues] == ["voice", "email"]
    assert s.queue("voice").skill == "voice" and s.queue("voice").patience_s == 120.0
    assert s.file("history") == (tmp_path / "base" / "data" / "history.csv").resolve()
    assert s.solver.time_limit_s == 60.0 and s.solver.workers == 2
    assert s.solver.search_share == 0.7 and s.solver.improve_share == 0.5
    assert s.solver.lns_share == 0.8 and s.solver.colgen_share == 0.4
    assert s.forecast.holidays[0].scale == 0.0
    assert s.file("agents", required=False) is None


def test_extends_merges_and_keeps_parent_paths(tmp_path: Path) -> None:
    write(tmp_path / "base" / "scenario.toml", BASE)
    child = write(
        tmp_path / "peak" / "scenario.toml",
        'root = ".."\nextends = "../base/scenario.toml"\nname = "peak"\nvolume_multiplier = 1.2\n'
        "shrinkage "
        "= 0.35\n"
        "[queues.voice]\nservice_level = 0.9\nanswer_within_s = 15\n"
        '[data]\nabsences_extra = "flu.csv"\n',
    )
    s = load(child)
    assert s.name == "peak" and s.shrinkage == 0.35
    v = s.queue("voice")
    assert (v.service_level, v.answer_within_s, v.patience_s) == (0.9, 15.0, 120.0)
    assert v.volume_multiplier == pytest.approx(1.2) and s.queue(
        "email"
    ).volume_multiplier == pytest.approx(1.2)
    assert s.file("history") == (tmp_path / "base" / "data" / "history.csv").resolve()
    assert s.files("absences_extra") == (
        (tmp_path / "base" / "data" / "more.csv").resolve(),
        (tmp_path / "peak" / "flu.csv").resolve(),
    )


@pytest.mark.parametrize(
    ("patch", "key", "words"),
    [
        ("[queues.voice]\nsevice_level = 0.8\n", "queues.voice.sevice_level", "unknown key"),
        ('[grid]\ndays = "seven"\n', "grid.days", "wrong type"),
        ("[queues.voice]\nservice_level = 1.5\n", "queues.voice.service_level", "out of range"),
        ("shrinkage = 1.0\n", "shrinkage", "out of range"),
        ('[queues.chat]\nchannel = "fax"\n', "queues.chat.channel", "unknown channel"),
        ('[queues.mail]\nchannel = "email"\n', "queues.mail.deadline_hours", "missing deadline"),
        ("[solver]\nworkers = 0\n", "solver.workers", "out of range"),
        ("[solver]\nimprove_share = 1.0\n", "solver.improve_share", "out of range"),
        ("[solver]\nsearch_share = -0.5\n", "solver.search_share", "out of range"),
        ("[solver]\nlns_share = 1\n", "solver.lns_share", "out of range"),
        ("[solver]\nlns_share = -0.1\n", "solver.lns_share", "out of range"),
        ("[solver]\ncolgen_share = 1.5\n", "solver.colgen_share", "out of range"),
        ('[forecast]\nmethod = "magic"\n', "forecast.method", "unknown forecast method"),
        ('colour = "red"\n', "colour", "unknown key"),
        ("[grid]\ninterval_minutes = 20\n", "grid.interval_minutes", "bad interval"),
        ("[weights]\nunder_coverage = true\n", "weights.under_coverage", "wrong type"),
    ],
)
def test_validation_errors_name_file_and_key(
    tmp_path: Path, patch: str, key: str, words: str
) -> None:
    write(tmp_path / "base" / "scenario.toml", BASE)
    child = write(
        tmp_path / "c" / "scenario.toml", 'root = ".."\nextends = "../base/scenario.toml"\n' + patch
    )
    with pytest.raises(ScenarioError) as exc:
        load(child)
    assert exc.value.key == key
    assert words in str(exc.value)
    assert "scenario.toml" in str(exc.value)


def test_circular_extends_and_missing_file(tmp_path: Path) -> None:
    write(tmp_path / "a.toml", 'extends = "b.toml"\n')
    write(tmp_path / "b.toml", 'extends = "a.toml"\n')
    with pytest.raises(ScenarioError, match="circular"):
        load(tmp_path / "a.toml")
    with pytest.raises(ScenarioError, match="not found"):
        load(tmp_path / "nope.toml")
    write(tmp_path / "bad.toml", "name = \n")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load(tmp_path / "bad.toml")


def test_example_scenario_loads() -> None:
    s = load(Path(__file__).parent.parent / "scenarios" / "example" / "scenario.toml")
    assert {q.channel for q in s.queues} == {"voice", "chat", "email"}


def test_data_files_may_declare_their_date_format(tmp_path: Path) -> None:
    from tests.scenario_kit import tiny_scenario

    sc = tiny_scenario(tmp_path / "sc", data_toml="")
    text = sc.read_text().replace(
        'absences = "data/absences.csv"',
        'absences = { path = "data/absences.csv", date_format = "%d/%m/%Y" }\n'
        'absences_extra = ["data/absences.csv"]',
    )
    sc.write_text(text)
    s = load(sc)
    absences = (tmp_path / "sc" / "data" / "absences.csv").resolve()
    assert s.files("absences") == (absences,)
    assert s.date_format(absences) == "%d/%m/%Y"
    assert s.date_format(s.file("agents")) is None


@pytest.mark.parametrize("name", ["peak season", "curtois-Instance1", "wk50 (draft)", "Año"])
def test_plain_names_are_accepted(tmp_path: Path, name: str) -> None:
    from tests.scenario_kit import tiny_scenario

    assert load(tiny_scenario(tmp_path / "sc", name=name)).name == name


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[data]\nagents = "../../etc/passwd"\n', "data.agents"),
        ('[data]\nagents = "/etc/passwd"\n', "data.agents"),
        ('[data]\nabsences = ["a.csv", "../x/b.csv"]\n', "data.absences[1]"),
        ('[data]\nabsences = { path = "../x.csv" }\n', "data.absences.path"),
        ('[store]\npath = "../../plans.sqlite"\n', "store.path"),
        ('[store]\npath = "~/plans.sqlite"\n', "store.path"),
        ('extends = "../base/scenario.toml"\n', "extends"),
        ('root = "../other"\n', "root"),
        ("root = 3\n", "root"),
    ],
)
def test_paths_stay_inside_the_scenario_root(tmp_path: Path, text: str, key: str) -> None:
    write(tmp_path / "base" / "scenario.toml", BASE)
    (tmp_path / "other").mkdir()
    child = write(tmp_path / "c" / "scenario.toml", text)
    with pytest.raises(ScenarioError) as exc:
        load(child)
    assert exc.value.key == key, str(exc.value)


def test_a_link_out_of_the_folder_is_refused_and_root_widens_it(tmp_path: Path) -> None:
    secret = write(tmp_path / "secret" / "agents.csv", "agent_id\n")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "agents.csv").symlink_to(secret)
    child = write(tmp_path / "c" / "scenario.toml", '[data]\nagents = "agents.csv"\n')
    with pytest.raises(ScenarioError, match="outside the scenario folder"):
        load(child)
    write(tmp_path / "c" / "scenario.toml", 'root = ".."\n[data]\nagents = "agents.csv"\n')
    assert load_document(child)["data"]["agents"] == str(secret.resolve())
    # a parent's root does not widen the scenario that is run
    write(tmp_path / "c" / "base.toml", 'root = "/"\n[data]\nagents = "agents.csv"\n')
    write(tmp_path / "c" / "scenario.toml", 'extends = "base.toml"\n')
    with pytest.raises(ScenarioError, match="outside the scenario folder"):
        load(child)
