"""Jobs shipped as data: bundles carry the scenario document and file bytes, overrides apply to a
copy, the cache key covers every run option.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from staffplan.errors import ScenarioError
from staffplan.jobs import Job, RunOptions, _unpack, bundle, with_overrides
from staffplan.pipeline import fingerprint
from staffplan.scenario import from_document, load

ROOT = Path(__file__).resolve().parents[1]
FLU = ROOT / "scenarios" / "flu-week" / "scenario.toml"


def test_a_bundle_rebuilds_the_same_scenario_elsewhere(tmp_path: Path) -> None:
    sc = load(FLU)  # extends the example and adds an absences_extra list
    b = pickle.loads(pickle.dumps(bundle(sc)))  # shipped to another process or machine
    assert not any(str(ROOT) in str(v) for v in b.document["data"].values())
    doc = _unpack(b, tmp_path / "data")
    again = from_document(doc, tmp_path / "scenario.toml")
    assert again.name == "flu-week" and again.grid == sc.grid and again.queues == sc.queues
    assert (again.shrinkage, again.solver, again.weights) == (sc.shrinkage, sc.solver, sc.weights)
    assert sorted(again.data) == sorted(sc.data)
    for key in sc.data:
        mine, theirs = again.files(key), sc.files(key)
        assert len(mine) == len(theirs) >= 1
        assert [p.read_bytes() for p in mine] == [p.read_bytes() for p in theirs]
        assert all(tmp_path in p.parents for p in mine)
    assert isinstance(b.document["data"]["absences_extra"], list)


def test_a_missing_data_file_is_named_by_its_key(tmp_path: Path) -> None:
    p = tmp_path / "s.toml"
    p.write_text(
        'root = "/"\n'
        f'extends = "{(ROOT / "scenarios/example/scenario.toml").as_posix()}"\n'
        '[data]\npreferences = "nowhere.csv"\n'
    )
    with pytest.raises(ScenarioError) as exc:
        bundle(load(p))
    assert exc.value.key == "data.preferences"


def test_overrides_apply_to_a_copy() -> None:
    doc = {"queues": {"voice": {"service_level": 0.8}}, "hires": [{"count": 0}]}
    out = with_overrides(
        doc,
        [
            (("queues", "voice", "service_level"), 0.9),
            (("hires", 0, "count"), 4),
            (("solver", "seed"), 7),
            (("shrinkage",), 0.35),
        ],
    )
    assert out == {
        "queues": {"voice": {"service_level": 0.9}},
        "hires": [{"count": 4}],
        "solver": {"seed": 7},
        "shrinkage": 0.35,
    }
    assert doc == {"queues": {"voice": {"service_level": 0.8}}, "hires": [{"count": 0}]}
    assert with_overrides({"hires": {"count": 1}}, [(("hires", 0, "count"), 2)]) == {
        "hires": {"count": 2}
    }  # a single [hires] table is class 0


def test_every_run_option_is_in_the_cache_key() -> None:
    sc = load(FLU)
    keys = {
        fingerprint(sc, o.cache_key())
        for o in (
            RunOptions(),
            RunOptions(time_limit_s=5),
            RunOptions(workers=1),
            RunOptions(seed=1),
            RunOptions(deterministic=True),
            RunOptions(simulate=True),
        )
    }
    assert len(keys) == 6
    job = Job(0, ((("shrinkage",), 0.3),), RunOptions(deterministic=True))
    assert pickle.loads(pickle.dumps(job)) == job
