"""The pages through an HTTP test client: what each shows, forms and their CSRF tokens, logins,
escaping, headers, downloads, and one-line errors instead of tracebacks.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from starlette.testclient import TestClient
from tests.html_tags import Tags
from tests.web import kit
from tests.web.conftest import BASE, csrf_of

from staffplan.web.app import ServeConfig, create_app
from staffplan.web.services import Workspace


def texts(html: str) -> str:
    p = Tags()
    p.feed(html)
    return " ".join(p.text)


def test_week_shows_every_agent_day_and_queue(client: TestClient) -> None:
    r = client.get("/week")
    assert r.status_code == 200
    page = r.text
    text = texts(page)
    for a in kit.WEEK:
        assert f'data-agent="{a}"' in page
    for day in ("Mon, Dec 7", "Sun, Dec 13"):
        assert day in text
    assert "vacation" in text  # A5 Thursday and Friday
    assert page.count("<svg") == 4  # agents and service level, voice and chat
    assert "Queue voice" in text and "Queue chat" in text
    assert "Version 1" in text and "week 50" in text
    assert text.count("E 07:00–15:00") == 0  # shift and times sit in their own elements
    assert len(re.findall(r"<b>E</b> 07:00–15:00", page)) == sum(
        1 for a, days in kit.WEEK.items() for _ in days if a not in kit.LATE
    )


def test_week_cards_are_the_summary_numbers(client: TestClient, ws: Workspace) -> None:
    s = ws.kpis(1).summary
    text = texts(client.get("/week").text)
    assert f"{s['service_level']:.1%}" in text
    assert f"{s['paid_hours']:,.1f}" in text


def test_week_applies_pending_absences(client: TestClient, ws: Workspace) -> None:
    """An absence recorded with ``staffplan absent`` and not yet covered: the week says so under
    "Pending absences", shows it in A1's Wednesday cell, and its cards are the KPIs with A1 off
    the phones (fewer scheduled voice agent-hours on Wednesday by A1's 7 on-phone hours).
    """
    from staffplan.store import AbsenceRecord

    before = ws.kpis(1).days
    assert 'id="pending"' not in client.get("/week").text
    day = ws.grid.local_midnight(ws.grid.dates()[2])
    ws.store.record_absence(
        AbsenceRecord("A1", day, day + pd.Timedelta(days=1), "sick", "flu"), author="ana"
    )
    page = client.get("/week").text
    notice = re.search(r'<section class="panel warn" id="pending">.*?</section>', page, re.S)
    assert notice is not None and "Pending absences" in texts(notice.group(0))
    text = texts(page)
    assert "A1 sick 2026-12-09 00:00-2026-12-10 00:00" in text
    assert "sick" in texts(re.search(r'<tr data-agent="A1">.*?</tr>', page, re.S).group(0))
    after = ws.kpis(1)
    wed = {
        q: (
            before.query("queue == @q and date == @kit.DAYS[2]")["scheduled_hours"].item(),
            after.days.query("queue == @q and date == @kit.DAYS[2]")["scheduled_hours"].item(),
        )
        for q in ("voice", "chat")
    }
    assert wed["voice"][0] - wed["voice"][1] == 7.0 and wed["chat"][0] == wed["chat"][1]
    assert f"{after.summary['service_level']:.1%}" in text


def test_unknown_version_is_a_one_line_error(client: TestClient) -> None:
    r = client.get("/week?version=9")
    assert r.status_code == 400 and "no such version" in r.text and "Traceback" not in r.text
    assert client.get("/week?version=x").status_code == 400
    assert client.get("/nowhere").status_code == 404


def test_forms_need_their_csrf_token(client: TestClient) -> None:
    form = {"agent": "A1", "from": kit.DAYS[2], "now": "2026-12-09T06:00", "base_version": "1"}
    r = client.post("/sick-call", data=form, follow_redirects=False)
    assert r.status_code == 403 and "expired" in r.text
    token = csrf_of(client)
    r = client.post("/sick-call", data={**form, "csrf": "forged"}, follow_redirects=False)
    assert r.status_code == 403
    r = client.post("/sick-call", data={**form, "csrf": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/sick-call/")


def test_sick_call_from_form_to_new_version(client: TestClient, ws: Workspace) -> None:
    token = csrf_of(client)
    form = {
        "csrf": token,
        "agent": "A1",
        "from": kit.DAYS[2],
        "to": "",
        "kind": "sick",
        "now": "2026-12-09T06:00",
        "base_version": "1",
    }
    r = client.post("/sick-call", data=form, follow_redirects=False)
    job_id = r.headers["location"].rsplit("/", 1)[1]
    job = client.app.state.jobs.get(job_id)  # type: ignore[attr-defined]
    assert job.finished.wait(timeout=600)
    page = client.get(f"/sick-call/{job_id}")
    text = texts(page.text)
    assert page.status_code == 200 and "call in" in text and "Phone, in this order" in text
    assert client.get(f"/api/jobs/{job_id}").json()["state"] == "done"
    r = client.post(
        f"/sick-call/{job_id}/apply",
        data={"csrf": token, "author": "ana", "note": "flu"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/versions?new=2"
    versions = texts(client.get("/versions?new=2").text)
    assert "Published version 2." in versions and "flu" in versions and "ana" in versions
    assert "Wed, Dec 9 00:00 Thu, Dec 10 00:00 sick flu ana 2" in versions  # the recorded absence
    assert ws.store.latest().kind == "cover"  # type: ignore[union-attr]
    again = client.post(
        f"/sick-call/{job_id}/apply", data={"csrf": token, "author": "ben"}, follow_redirects=False
    )
    assert again.headers["location"] == "/versions?new=2"  # applied once, not twice
    assert len(ws.versions()) == 2


def test_sick_call_form_errors_stay_on_the_form(client: TestClient) -> None:
    token = csrf_of(client)
    r = client.post("/sick-call", data={"csrf": token, "base_version": "1", "now": "x"})
    assert r.status_code == 400 and "Choose at least one agent" in texts(r.text)
    r = client.post(
        "/sick-call",
        data={
            "csrf": token,
            "agent": "A1",
            "from": "2027-01-01",
            "now": "2026-12-09T06:00",
            "base_version": "1",
        },
        follow_redirects=False,
    )
    job_id = r.headers["location"].rsplit("/", 1)[1]
    job = client.app.state.jobs.get(job_id)  # type: ignore[attr-defined]
    assert job.finished.wait(timeout=600)
    page = texts(client.get(f"/sick-call/{job_id}").text)
    assert "outside the planning horizon" in page


def test_edit_preview_and_publish(client: TestClient, ws: Workspace) -> None:
    page = client.get(f"/edit?version=1&agent=A1&date={kit.DAYS[6]}")
    assert page.status_code == 200 and "No hard rule is broken." in texts(page.text)
    token = csrf_of(client, f"/edit?version=1&agent=A1&date={kit.DAYS[6]}")
    form = {
        "csrf": token,
        "version": "1",
        "agent": "A1",
        "date": kit.DAYS[6],
        "mode": "work",
        "template": "E",
        "start": "07:00",
        "queues": "voice",
    }
    preview = texts(client.post("/edit/preview", data=form).text)
    assert "max days per week" in preview and "new with this change" in preview
    refused = client.post(
        "/edit/publish", data={**form, "author": "ana", "note": "sixth day"}, follow_redirects=False
    )
    assert refused.status_code == 400 and "nothing was published" in texts(refused.text)
    assert len(ws.versions()) == 1
    forced = client.post(
        "/edit/publish",
        data={**form, "author": "ana", "note": "sixth day", "force": "on"},
        follow_redirects=False,
    )
    assert forced.status_code == 303 and forced.headers["location"] == "/versions?new=2"
    assert ws.store.latest().n_violations >= 1  # type: ignore[union-attr]
    stale = client.post(
        "/edit/publish",
        data={**form, "mode": "off", "author": "ben", "note": "late"},
        follow_redirects=False,
    )
    assert stale.status_code == 409 and "version 2" in stale.text


def test_versions_diff_and_downloads(client: TestClient, ws: Workspace) -> None:
    base = ws.base(1)
    draft = ws.edit(base.roster, "A7", kit.DAYS[6], template="E", start="07:00")
    ws.publish(draft, base_version=1, author="ana", note="A7 on Sunday")
    text = texts(client.get("/versions").text)
    assert "From version 1 to version 2:" in text and "off -> E 07:00-15:00" in text
    assert "No differences." in texts(client.get("/versions?a=2&b=2").text)
    r = client.get("/versions/2/export/csv")
    assert r.status_code == 200
    assert r.headers["content-disposition"] == 'attachment; filename="webkit-v2.csv"'
    assert r.content == ws.export(2, "csv")[1]
    assert client.get("/versions/2/export/ics").headers["content-type"] == "application/zip"
    assert client.get("/versions/2/export/passwd").status_code == 400
    assert client.get("/versions/2/export/..%2F..%2Fetc%2Fpasswd").status_code in (400, 404)


def test_compare_page(client: TestClient, ws: Workspace) -> None:
    base = ws.base(1)
    ws.publish(
        ws.edit(base.roster, "A7", kit.DAYS[6], template="E", start="07:00"),
        base_version=1,
        author="ana",
        note="A7 on Sunday",
    )
    page = client.get("/compare?v=1&v=2")  # the versions tab
    text = texts(page.text)
    assert page.status_code == 200 and "paid hours" in text and "Δ v2" in text
    assert "Δ v1" not in texts(client.get("/compare/versions?v=2&v=1").text)  # v1 is the base
    one = texts(client.get("/compare/versions?v=2").text)
    assert "v2" in one and "Δ v2" not in one  # the chosen versions, not the last two
    assert page.text.count("data:image/png;base64,") == 2
    assert "solver gap to bound" not in text  # not a property of a published version


def test_every_value_is_escaped(tmp_path: Path) -> None:
    scen = kit.scenario(tmp_path / "x")
    agents = pd.read_csv(tmp_path / "x" / "agents.csv")
    agents.loc[0, "name"] = "<script>alert(1)</script>"
    agents.to_csv(tmp_path / "x" / "agents.csv", index=False)
    kit.week().to_csv(tmp_path / "x" / "roster.csv", index=False)
    ws = Workspace(scen)
    ws.store.publish(kit.week(), note='<img src=x onerror="alert(2)">', author="<b>ana</b>")
    with TestClient(create_app(ws), base_url=BASE) as c:
        for path in ("/week", "/versions", "/sick-call", f"/edit?agent=A1&date={kit.DAYS[0]}"):
            page = c.get(path).text
            assert "<script>alert" not in page and "<img src=x" not in page, path
            assert "<b>ana</b>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in c.get("/week").text


def test_security_headers_and_host_check(client: TestClient) -> None:
    r = client.get("/week")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY" and r.headers["cache-control"] == "no-store"
    assert "samesite=strict" in r.headers["set-cookie"].lower()
    rebound = client.get("/week", headers={"host": "evil.example"})
    assert rebound.status_code == 400


def test_login_with_the_token(ws: Workspace) -> None:
    token = "t0ken-for-the-tests-only"
    with TestClient(create_app(ws, ServeConfig(token=token)), base_url=BASE) as c:
        login = c.get("/login?next=/versions")
        assert login.status_code == 200
        csrf = re.search(r'name="csrf" value="([^"]+)"', login.text).group(1)  # type: ignore[union-attr]
        bad = c.post("/login", data={"csrf": csrf, "token": "nope", "next": "/versions"})
        assert bad.status_code == 401 and "That token is not right." in texts(bad.text)
        assert c.get("/versions").status_code == 401
        ok = c.post(
            "/login",
            data={"csrf": csrf, "token": token, "next": "https://evil.example/"},
            follow_redirects=False,
        )
        assert ok.status_code == 303 and ok.headers["location"] == "/week"  # never off-site
        assert "httponly" in ok.headers["set-cookie"].lower()
        assert c.get("/versions").status_code == 200  # the session cookie lets the browser in
        assert c.get("/api/versions").status_code == 200
        out = c.post("/logout", data={"csrf": csrf}, follow_redirects=False)
        assert out.status_code == 303
        assert c.get("/versions").status_code == 401


@pytest.mark.parametrize("path", ["/week", "/sick-call", "/edit", "/versions", "/compare/versions"])
def test_an_empty_store_says_what_to_do(tmp_path: Path, path: str) -> None:
    ws = Workspace(kit.scenario(tmp_path / "empty"))
    with TestClient(create_app(ws), base_url=BASE) as c:
        r = c.get(path)
        assert r.status_code == 200 and "No published roster yet" in texts(r.text)


def test_a_second_proposal_from_the_same_version_is_refused_at_apply(client: TestClient) -> None:
    token = csrf_of(client)
    form = {"csrf": token, "from": kit.DAYS[2], "now": "2026-12-09T06:00", "base_version": "1"}
    jobs = []
    for agent in ("A1", "A2"):
        r = client.post("/sick-call", data={**form, "agent": agent}, follow_redirects=False)
        job = client.app.state.jobs.get(r.headers["location"].rsplit("/", 1)[1])  # type: ignore[attr-defined]
        assert job.finished.wait(timeout=600) and job.proposal is not None
        jobs.append(job)
    first = client.post(
        f"/sick-call/{jobs[0].id}/apply",
        data={"csrf": token, "author": "ana"},
        follow_redirects=False,
    )
    assert first.status_code == 303
    stale = client.get(f"/sick-call/{jobs[1].id}")
    assert "applying it will be refused" in texts(stale.text)
    second = client.post(
        f"/sick-call/{jobs[1].id}/apply",
        data={"csrf": token, "author": "ben"},
        follow_redirects=False,
    )
    assert second.status_code == 409 and "nothing was written" in texts(second.text)
    assert client.get("/week").headers["vary"].startswith("Accept-Language")


def test_a_shift_is_marked_only_where_an_absence_keeps_the_agent_away(
    client: TestClient, ws: Workspace
) -> None:
    from staffplan.store import AbsenceRecord

    day = ws.grid.local_midnight(ws.grid.dates()[0])
    ws.store.record_absence(
        AbsenceRecord("A1", day, day + pd.Timedelta(days=1), "sick", "flu"), author="ana"
    )
    ws.store.record_absence(
        AbsenceRecord("A2", day + pd.Timedelta(hours=16), day + pd.Timedelta(hours=17), "meeting"),
        author="ana",
    )
    page = client.get("/week").text
    a1 = re.search(r'<tr data-agent="A1">(.*?)</tr>', page, re.S).group(1)  # type: ignore[union-attr]
    a2 = re.search(r'<tr data-agent="A2">(.*?)</tr>', page, re.S).group(1)  # type: ignore[union-attr]
    assert '<td class="clash">' in a1 and "sick" in a1  # the Monday shift meets the sick day
    assert '<td class="clash">' not in a2 and "meeting 16:00–17:00" in a2  # after the shift
