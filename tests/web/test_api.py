"""The JSON API through an HTTP test client (and, for the race, a real server): every endpoint,
its 400s, 401s and 409s, and two leads applying covers of the same version at once.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx
import pandas as pd
from click.testing import CliRunner
from starlette.testclient import TestClient
from tests.web import kit
from tests.web.conftest import BASE, Server

from staffplan.cli import cli
from staffplan.store import PlanStore
from staffplan.web.app import ServeConfig, create_app
from staffplan.web.services import Workspace

SICK = {"absent": ["A1:2026-12-09"], "now": "2026-12-09T06:00", "base_version": 1}
TIMINGS = {"solve_seconds", "build_seconds", "solver_seconds"}


def test_versions_lists_who_when_why(client: TestClient) -> None:
    r = client.get("/api/versions")
    assert r.status_code == 200
    (v,) = r.json()["versions"]
    assert (v["version"], v["parent"], v["note"], v["kind"]) == (1, None, "week 50", "publish")
    assert v["author"] and v["created"].endswith("+00:00")


def test_roster_returns_the_stored_rows(client: TestClient, scen: Path) -> None:
    r = client.get("/api/roster", params={"version": 1})
    assert r.status_code == 200 and r.json()["version"] == 1
    stored = PlanStore(scen.parent / "plans.sqlite").roster(1)
    assert r.json()["rows"] == stored.to_dict(orient="records")
    assert client.get("/api/roster").json()["version"] == 1  # default: the latest


def test_roster_bad_version_is_400_with_one_line(client: TestClient) -> None:
    for value in ("99", "abc"):
        r = client.get("/api/roster", params={"version": value})
        assert r.status_code == 400, r.text
        error = r.json()["error"]
        assert "\n" not in error and "Traceback" not in error
    assert "no such version" in client.get("/api/roster?version=99").json()["error"]


def test_validate_finds_the_engines_violations(client: TestClient) -> None:
    rows = kit.week().to_dict(orient="records")
    r = client.post("/api/validate", json={"rows": rows})
    assert r.status_code == 200 and r.json()["violations"] == [] and r.json()["ok"] is True
    sunday = dict(zip(kit.COLS, kit.shift("A1", 6), strict=True))  # a sixth day for A1
    r = client.post("/api/validate", json={"rows": [*rows, sunday]})
    found = r.json()["violations"]
    assert r.status_code == 200 and not r.json()["ok"]
    assert {(v["agent_id"], v["rule"]) for v in found} >= {("A1", "max days per week")}
    assert set(found[0]) == {"agent_id", "date", "rule", "found", "allowed"}


def test_validate_bad_input_is_400(client: TestClient) -> None:
    rows = kit.week().to_dict(orient="records")
    cases = [
        ({"rows": rows, "extra": 1}, "unknown key 'extra'"),
        ({}, "missing key 'rows'"),
        ({"rows": "A1"}, "expected list"),
        ({"rows": [{"agent_id": "A1"}]}, "row without its columns"),
        ({"rows": [*rows, rows[0]]}, "two shifts for one agent on one day"),
    ]
    for body, message in cases:
        r = client.post("/api/validate", json=body)
        assert r.status_code == 400 and message in r.json()["error"], (body, r.text)
    r = client.post(
        "/api/validate", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 400 and "not JSON" in r.json()["error"]
    r = client.post("/api/validate", content=json.dumps({"rows": rows}))  # no content type
    assert r.status_code == 400 and "application/json" in r.json()["error"]


def test_cover_gives_the_object_cover_json_prints(client: TestClient, scen: Path) -> None:
    cli_run = CliRunner().invoke(
        cli,
        [
            "cover",
            str(scen),
            "--absent",
            "A1:2026-12-09",
            "--now",
            "2026-12-09T06:00",
            "--deterministic",
            "--json",
        ],
        catch_exceptions=False,
    )
    assert cli_run.exit_code == 0, cli_run.output
    expected = json.loads(cli_run.output)
    r = client.post("/api/cover", json=SICK)
    assert r.status_code == 200, r.text
    got = r.json()
    assert set(got) == set(expected)  # not applied: no "version"
    drop = TIMINGS
    assert {k: v for k, v in got.items() if k not in drop} == {
        k: v for k, v in expected.items() if k not in drop
    }
    assert got["changes"] and got["changes"][0]["action"] == "call in"
    assert got["sl_no_action"] < got["sl_after"]


def test_cover_apply_makes_a_version_then_a_stale_base_is_409(client: TestClient) -> None:
    r = client.post("/api/cover", json={**SICK, "apply": True, "author": "ana", "note": "flu"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["version"] == 2 and body["applied"]["parent"] == 1
    assert body["applied"]["kind"] == "cover" and body["applied"]["author"] == "ana"
    assert body["applied"]["absences"] == 1  # the absence is recorded with the version
    (v2,) = [v for v in client.get("/api/versions").json()["versions"] if v["version"] == 2]
    assert v2["note"] == "flu"
    again = client.post("/api/cover", json={**SICK, "apply": True, "author": "ben"})
    assert again.status_code == 409
    assert "version 2" in again.json()["error"] and "nothing was written" in again.json()["error"]
    assert [v["version"] for v in client.get("/api/versions").json()["versions"]] == [1, 2]


def test_cover_bad_input_is_400(client: TestClient) -> None:
    cases = [
        ({**SICK, "absent": ["A1"]}, "bad absence"),
        ({**SICK, "absent": ["A99:2026-12-09"]}, "unknown agent"),
        ({**SICK, "absent": ["A1:2027-03-01"]}, "outside the planning horizon"),
        ({**SICK, "absent": []}, "no absence"),
        ({**SICK, "absent": [3]}, "list of 'AGENT:DATE' strings"),
        ({**SICK, "now": "yesterday"}, "bad time"),
        ({**SICK, "base_version": 7}, "no such version"),
        ({**SICK, "base_version": "1"}, "expected int"),
        ({**SICK, "apply": "yes"}, "expected bool"),
        ({**SICK, "kind": "lunch"}, "unknown absence kind"),
        ({**SICK, "time_limit_s": 0}, "bad time limit"),
        ({**SICK, "oops": 1}, "unknown key 'oops'"),
        ({"now": "2026-12-09T06:00"}, "missing key 'absent'"),
    ]
    for body, message in cases:
        r = client.post("/api/cover", json=body)
        assert r.status_code == 400, (body, r.text)
        assert message in r.json()["error"], (body, r.json())


def test_job_endpoint_404_for_an_unknown_job(client: TestClient) -> None:
    r = client.get("/api/jobs/nope")
    assert r.status_code == 404 and r.json() == {"error": "no such job"}


def test_a_token_guards_every_endpoint(ws: Workspace) -> None:
    token = "t0ken-for-the-tests-only"
    app = create_app(ws, ServeConfig(token=token))
    with TestClient(app, base_url=BASE) as c:
        for method, path in (
            ("GET", "/api/versions"),
            ("GET", "/api/roster"),
            ("POST", "/api/validate"),
            ("POST", "/api/cover"),
            ("GET", "/api/jobs/x"),
        ):
            r = c.request(method, path, json={})
            assert r.status_code == 401, (path, r.text)
            assert r.headers["www-authenticate"] == "Bearer" and "unauthorised" in r.json()["error"]
        wrong = c.get("/api/versions", headers={"Authorization": "Bearer not-the-token"})
        assert wrong.status_code == 401
        ok = c.get("/api/versions", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200 and ok.json()["versions"][0]["version"] == 1
        page = c.get("/week")
        assert page.status_code == 401 and 'name="token"' in page.text  # the login form


def test_two_leads_applying_covers_of_one_version_at_once(server: Server) -> None:
    """Both requests are released together (a barrier); the repairs run one after the other,
    so exactly one of them publishes version 2 and the other is refused with 409.
    """
    barrier = threading.Barrier(2)
    results: list[httpx.Response] = []
    lock = threading.Lock()

    def lead(name: str) -> None:
        with httpx.Client(base_url=server.url, timeout=120) as c:
            barrier.wait()
            r = c.post("/api/cover", json={**SICK, "apply": True, "author": name})
            with lock:
                results.append(r)

    threads = [threading.Thread(target=lead, args=(n,)) for n in ("ana", "ben")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 409], [r.text for r in results]
    winner = next(r for r in results if r.status_code == 200).json()
    loser = next(r for r in results if r.status_code == 409).json()
    assert winner["version"] == 2 and "version 2" in loser["error"]
    versions = httpx.get(server.url + "/api/versions").json()["versions"]
    assert [v["version"] for v in versions] == [1, 2]
    rows = httpx.get(server.url + "/api/roster", params={"version": 2}).json()["rows"]
    assert pd.DataFrame(rows).query("agent_id == 'A1' and date == '2026-12-09'").empty
