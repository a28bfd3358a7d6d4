"""The web workspace (``staffplan serve``) at scale: how long the week page takes to render and a
sick-call proposal to come back, and a screenshot of each page.

The scenario extends a base scenario (default the bundled example) in a work folder, with its
own plan store there, and adds ``[[hires]]`` until the team has ``--agents`` agents (volume
scaled alike; 0 keeps the base team): 150 agents = the example's 65 plus 35 voice+chat, 20
chat+voice, 15 email and 15 part-time voice agents. Steps, each through the command line:
``staffplan roster`` (``--roster-limit`` seconds), ``staffplan publish``, ``staffplan serve
--port 0``; then over HTTP:

- ``GET /week`` — the first render of the version (its KPIs computed) and ``--repeat`` more
  (KPIs kept in memory), in English and in Spanish;
- ``POST /edit/preview`` — one agent-day changed, validated and scored;
- ``POST /api/cover`` — one agent, then 5 % of the team, sick for the busiest weekday from
  07:00, against the server's cover time limit (``--cover-limit``, the ``cover`` default 10 s).

Times are wall-clock seconds on the machine as it is (shared cores): the numbers say what a user
would wait, not a comparison between versions of the code.

Run: ``python benchmarks/web_workspace.py`` (about 2 minutes), and
``python benchmarks/web_workspace.py --agents 0 --roster-limit 30 --screenshots benchmarks``
for the screenshots of the example.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "scenarios" / "example" / "scenario.toml"
CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: (count share of the added agents, prefix, team, contract, skills, hourly cost)
HIRES = (
    (35, "H", "Helix", "FT375", "voice:1|chat:2", 17.0),
    (20, "J", "Juno", "FT40", "chat:1|voice:2", 17.5),
    (15, "K", "Kappa", "FT375", "email:1", 16.5),
    (15, "Q", "Quanta", "PT25", "voice:1", 15.5),
)


def staffplan(*args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "staffplan", *args], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"staffplan {' '.join(args)} failed:\n{proc.stderr}")
    return proc.stdout


def make_scenario(work: Path, base: Path, agents: int) -> Path:
    """A scenario in ``work`` extending ``base``, with hires up to ``agents`` agents."""
    from staffplan.roster.validate import rules_problem
    from staffplan.scenario import load

    have = len(rules_problem(load(base)).agents)
    extra = max(agents - have, 0) if agents else 0
    common = Path(os.path.commonpath([work.resolve(), base.resolve().parent]))
    lines = [
        f'root = "{common.as_posix()}"',  # the base lives outside the work folder
        f'extends = "{base.resolve().as_posix()}"',
        f'name = "web-{agents or have}"',
    ]
    if extra:
        lines.append(f"volume_multiplier = {round((have + extra) / have, 3)}")
        total = sum(h[0] for h in HIRES)
        left = extra
        for i, (share, prefix, team, contract, skills, cost) in enumerate(HIRES):
            n = left if i == len(HIRES) - 1 else round(extra * share / total)
            left -= n
            lines.append(
                textwrap.dedent(
                    f"""
                    [[hires]]
                    count = {n}
                    prefix = "{prefix}"
                    team = "{team}"
                    contract = "{contract}"
                    skills = "{skills}"
                    hourly_cost = {cost}
                    """
                )
            )
    work.mkdir(parents=True, exist_ok=True)
    path = work / "scenario.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def start(scenario: Path, cover_limit: float) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "staffplan",
            "serve",
            str(scenario),
            "--port",
            "0",
            "--time-limit",
            str(cover_limit),
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        found = re.search(r"serving \S+ on (http://\S+)", line)
        if found:
            return proc, found.group(1).rstrip("/")
    raise SystemExit("staffplan serve did not start")


def timed(fn: object) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn()  # type: ignore[operator]
    return time.perf_counter() - t, out


def busiest_weekday(url: str) -> tuple[str, list[str]]:
    """The weekday with the most shifts in the latest version, and who works it (id order)."""
    rows = httpx.get(url + "/api/roster", timeout=60).json()["rows"]
    by_day: dict[str, list[str]] = {}
    for r in rows:
        if dt.date.fromisoformat(r["date"]).weekday() < 5:
            by_day.setdefault(r["date"], []).append(r["agent_id"])
    day = max(sorted(by_day), key=lambda d: len(by_day[d]))
    return day, sorted(by_day[day])


def screenshots(url: str, folder: Path, day: str, agents: list[str]) -> list[Path]:
    """A PNG of each page: week, sick call (proposal), edit (a rule break), versions, compare."""
    from playwright.sync_api import sync_playwright

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="en-US")
        page.set_default_timeout(120_000)

        def shot(name: str, full: bool = True) -> None:
            path = folder / f"web_{name}.png"
            page.screenshot(path=str(path), full_page=full)
            out.append(path)

        page.goto(url + "/week")
        shot("week", full=False)
        page.goto(url + "/sick-call")
        page.select_option("select[name=agent]", [agents[0]])
        page.fill("input[name=from]", day)
        page.fill("input[name=now]", f"{day}T07:00")
        page.get_by_role("button", name="Propose a cover").click()
        page.wait_for_selector("#phone")
        shot("sick_call")
        page.fill("input[name=author]", "lead")
        page.fill("input[name=note]", f"{agents[0]} sick")
        page.get_by_role("button", name="Apply as a new version").click()
        page.wait_for_selector("#new-version")
        shot("versions")
        sunday = dt.date.fromisoformat(day) + dt.timedelta(
            days=6 - dt.date.fromisoformat(day).weekday()
        )
        page.goto(url + f"/edit?agent={agents[1]}&date={sunday.isoformat()}")
        page.check("input[name=mode][value=work]")
        page.wait_for_selector("table#violations")
        shot("edit")
        page.goto(url + "/compare")
        shot("compare")
        es = browser.new_page(viewport={"width": 1400, "height": 900}, locale="es-ES")
        es.goto(url + "/week")
        path = folder / "web_week_es.png"
        es.screenshot(path=str(path))
        out.append(path)
        browser.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", type=Path, default=EXAMPLE, help="scenario to extend")
    ap.add_argument("--agents", type=int, default=150, help="team size (0: the base's)")
    ap.add_argument("--roster-limit", type=float, default=60.0, help="roster solve [s]")
    ap.add_argument("--cover-limit", type=float, default=10.0, help="sick-call repair [s]")
    ap.add_argument("--repeat", type=int, default=5, help="warm renders of the week")
    ap.add_argument("--work", type=Path, default=None, help="work folder (default: a temp dir)")
    ap.add_argument("--screenshots", type=Path, default=None, help="folder for page PNGs")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="staffplan-web-"))
    scen = make_scenario(work, args.base, args.agents)
    from staffplan.roster.validate import rules_problem
    from staffplan.scenario import load

    team = len(rules_problem(load(scen)).agents)
    t0 = time.perf_counter()
    staffplan(
        "roster",
        str(scen),
        "--time-limit",
        str(args.roster_limit),
        "--out",
        str(work / "roster"),
        "--quiet",
    )
    solve_s = time.perf_counter() - t0
    staffplan(
        "publish",
        str(scen),
        "--roster",
        str(work / "roster" / "roster.csv"),
        "--note",
        "benchmark week",
        "--author",
        "bench",
    )
    t0 = time.perf_counter()
    proc, url = start(scen, args.cover_limit)
    ready_s = time.perf_counter() - t0
    rows: list[tuple[str, str]] = []
    try:
        with httpx.Client(base_url=url, timeout=600) as c:
            n_agents = len({r["agent_id"] for r in c.get("/api/roster").json()["rows"]})
            cold, r = timed(lambda: c.get("/week"))
            assert r.status_code == 200, r.text[:300]  # type: ignore[attr-defined]
            warm = [timed(lambda: c.get("/week"))[0] for _ in range(args.repeat)]
            es = [
                timed(lambda: c.get("/week", headers={"Accept-Language": "es-ES"}))[0]
                for _ in range(args.repeat)
            ]
            size = len(r.content)  # type: ignore[attr-defined]
            day, working = busiest_weekday(url)
            page = c.get(f"/edit?agent={working[0]}&date={day}").text
            csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
            form = {"csrf": csrf, "version": "1", "agent": working[0], "date": day, "mode": "off"}
            preview = [timed(lambda: c.post("/edit/preview", data=form))[0] for _ in range(3)]
            covers = []
            for k in (1, max(1, round(0.05 * n_agents))):
                who = working[:: max(1, len(working) // k)][:k]
                body = {
                    "absent": [f"{a}:{day}" for a in who],
                    "now": f"{day}T07:00",
                    "base_version": 1,
                }
                wall, resp = timed(lambda body=body: c.post("/api/cover", json=body))
                doc = resp.json()  # type: ignore[attr-defined]
                covers.append((k, wall, doc))
        rows += [
            ("agents (with a shift in the published week)", f"{team} ({n_agents})"),
            ("roster solve (CLI, --time-limit)", f"{solve_s:.1f} s ({args.roster_limit:g} s)"),
            ("server ready (load scenario, forecast)", f"{ready_s:.1f} s"),
            ("GET /week, first render of the version", f"{cold:.3f} s ({size / 1e6:.2f} MB)"),
            (
                f"GET /week, warm (median / max of {args.repeat})",
                f"{statistics.median(warm):.3f} / {max(warm):.3f} s",
            ),
            (
                f"GET /week in Spanish (median / max of {args.repeat})",
                f"{statistics.median(es):.3f} / {max(es):.3f} s",
            ),
            ("POST /edit/preview (median of 3)", f"{statistics.median(preview):.3f} s"),
        ]
        for k, wall, doc in covers:
            rows.append(
                (
                    f"POST /api/cover, {k} agent(s) sick on {day} from 07:00",
                    f"{wall:.1f} s (limit {args.cover_limit:g} s; repair {doc['solve_seconds']}"
                    f" s; {doc['status']}, {doc['agents_changed']} changed, SL "
                    f"{doc['sl_no_action']} -> {doc['sl_after']})",
                )
            )
        if args.screenshots:
            for p in screenshots(url, args.screenshots, day, working):
                rows.append(
                    ("screenshot", str(p.relative_to(ROOT) if p.is_relative_to(ROOT) else p))
                )
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    width = max(len(k) for k, _ in rows)
    print(
        f"web workspace, {args.base.name} extended to {args.agents or 'its own'} agents; "
        f"work folder {work}"
    )
    print(f"{'measure':<{width}} | value")
    print(f"{'-' * width}-|------")
    for k, v in rows:
        print(f"{k:<{width}} | {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
