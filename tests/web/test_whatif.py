"""The Compare page's what-if scenarios: the server's list of scenario files, comparisons run
through ``staffplan compare``'s own code path (one at a time, with progress), the same table and
cache as the command, and the page and API over them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient
from tests.scenario_kit import tiny_scenario
from tests.web.conftest import BASE, csrf_of

from staffplan.cli import cli
from staffplan.errors import InputError, StaffplanError
from staffplan.web.app import create_app
from staffplan.web.services import Workspace
from staffplan.web.whatif import scenario_choices


def what_if(folder: Path) -> Path:
    """Two tiny scenarios side by side, ``base`` (served) and ``busy`` (+30 % volume, extending
    it), and a file beside them that is not a scenario; returns base's scenario.toml.
    """
    served = tiny_scenario(folder / "base", name="base")
    (folder / "busy").mkdir()
    (folder / "busy" / "scenario.toml").write_text(
        'root = ".."\nextends = "../base/scenario.toml"\nname = "busy"\nvolume_multiplier = 1.3\n',
        encoding="utf-8",
    )
    (folder / "notes").mkdir()
    (folder / "notes" / "other.toml").write_text("title = 'not a scenario'\n", encoding="utf-8")
    return served


@pytest.fixture
def wws(tmp_path: Path) -> Workspace:
    return Workspace(what_if(tmp_path / "what"), compare_out=tmp_path / "out")


@pytest.fixture
def wclient(wws: Workspace) -> Iterator[TestClient]:
    with TestClient(create_app(wws), base_url=BASE) as c:
        yield c


def test_the_list_is_the_served_scenario_then_its_neighbours(tmp_path: Path) -> None:
    served = what_if(tmp_path / "w")
    ws = Workspace(served, compare_out=tmp_path / "out")
    assert [(c.name, c.path) for c in ws.compare_choices] == [
        ("base", served.resolve()),
        ("busy", (tmp_path / "w" / "busy" / "scenario.toml").resolve()),
    ]  # notes/other.toml does not load as a scenario: left out
    only = scenario_choices(ws.scenario, [served])  # --compare naming the served file itself
    assert [c.name for c in only] == ["base"]
    with pytest.raises(StaffplanError, match="unknown key"):
        scenario_choices(ws.scenario, [tmp_path / "w" / "notes" / "other.toml"])


def test_a_comparison_is_the_commands_table_and_cache(wws: Workspace, tmp_path: Path) -> None:
    """The page's comparison writes <out>/<name>/ as ``staffplan compare --out <out>`` does: the
    command run afterwards reuses every scenario (same fingerprint cache) and prints the same
    table.
    """
    job, started = TestClient(create_app(wws)).app.state.comparisons.start((0, 1))
    assert started
    assert job.finished.wait(timeout=600)
    p = job.progress()
    assert (p["state"], p["done"], p["scenarios"], p["error"]) == (
        "done",
        2,
        ["base", "busy"],
        None,
    )
    done = job.result
    assert [s["scenario"] for s in done.summaries] == ["base", "busy"]
    assert set(done.coverage) == set(done.service) == {"base", "busy"}
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        ["compare", *(str(c.path) for c in wws.compare_choices), "--out", str(out), "--json"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert all(s["reused"] for s in doc["scenarios"])
    assert doc["table"] == json.loads(done.table.to_json(orient="records"))
    fte = next(r for r in doc["table"] if r["metric"] == "required FTE")
    assert fte["busy"] > fte["base"]  # 30 % more contacts need more agents


def test_one_comparison_at_a_time(wws: Workspace) -> None:
    """While one comparison runs, starting another returns the running one (the first is held
    at its start by an event, so the order does not depend on speed).
    """
    release = threading.Event()
    entered = threading.Event()
    real = wws.compare_scenarios

    def held(chosen: tuple[int, ...], echo: object = None) -> object:
        entered.set()
        release.wait(timeout=600)
        return real(chosen, echo)  # type: ignore[arg-type]

    wws.compare_scenarios = held  # type: ignore[method-assign]
    comparisons = create_app(wws).state.comparisons
    first, started = comparisons.start((0,))
    assert started and entered.wait(timeout=600)
    second, again = comparisons.start((1, 0))
    assert second is first and not again
    assert first.progress()["state"] == "running"
    release.set()
    assert first.finished.wait(timeout=600) and first.progress()["state"] == "done"
    third, started = comparisons.start((1,))
    assert started and third is not first
    assert third.finished.wait(timeout=600)
    with pytest.raises(InputError, match="bad scenario choice"):
        comparisons.start((2,))
    with pytest.raises(InputError, match="bad scenario choice"):
        comparisons.start((0, 0))


def test_compare_page_and_api(wclient: TestClient) -> None:
    page = wclient.get("/compare")
    assert page.status_code == 200
    assert 'name="s" value="0"' in page.text and 'name="s" value="1"' in page.text
    assert "base" in page.text and "busy" in page.text and 'id="cjob"' not in page.text
    listed = wclient.get("/api/compare/scenarios").json()["scenarios"]
    assert [(s["index"], s["name"], s["file"]) for s in listed] == [
        (0, "base", "scenario.toml"),
        (1, "busy", "scenario.toml"),
    ]
    for body, status in (
        ({"scenarios": [5]}, 400),
        ({"scenarios": "0,1"}, 400),
        ({"scenarios": [0], "path": "/etc"}, 400),
        ({"scenarios": [True]}, 400),
    ):
        r = wclient.post("/api/compare", json=body)
        assert r.status_code == status and "error" in r.json(), body
    assert wclient.post("/compare", data={"s": "0"}).status_code == 403  # no CSRF token
    token = csrf_of(wclient, "/compare")
    r = wclient.post("/compare", data={"csrf": token, "s": ["1", "0"]}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/compare?job=")
    job_id = r.headers["location"].split("=", 1)[1]
    job = wclient.app.state.comparisons.get(job_id)  # type: ignore[attr-defined]
    assert job.chosen == (1, 0) and job.finished.wait(timeout=600)
    api = wclient.get(f"/api/compare/{job_id}").json()
    assert api["state"] == "done" and api["scenarios"] == ["busy", "base"]
    assert [s["scenario"] for s in api["summaries"]] == ["busy", "base"]
    done = wclient.get("/compare").text  # the newest comparison, shown again without a run
    assert 'id="compare"' in done and "Δ base" in done and done.count("data:image/png") == 2
    assert wclient.get("/api/compare/nope").status_code == 404
    assert wclient.get("/compare?job=nope").status_code == 404
