"""staffplan's queueing core against pyworkforce (the closest Python peer), in one run.

Run from the repository root with the project's Python:

    /root/.pyenv/versions/3.12.1/bin/python -m venv benchmarks/.venv-peers
    benchmarks/.venv-peers/bin/pip install pyworkforce
    python benchmarks/queueing_vs_peers.py [--write]

The script times staffplan in this process, then runs the same cases through
pyworkforce in the peer venv (a subprocess running this file with ``--peer``,
which imports only pyworkforce), compares agent counts and service levels,
probes the peer's known traps, and prints a Markdown table; ``--write`` puts
it into benchmarks/RESULTS.md under "## Queueing".
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PEER_PYTHON = HERE / ".venv-peers" / "bin" / "python"
N_QUEUES, N_INTERVALS, INTERVAL_MIN = 50, 672, 15
SL, T_S, PATIENCE_S = 0.8, 20.0, 180.0


def peer_main(case_file: str, out_file: str) -> None:
    """Runs inside the peer venv: pyworkforce only (times in minutes there)."""
    import importlib.metadata

    from pyworkforce.queuing import ErlangA, ErlangC

    cases = json.loads(Path(case_file).read_text())
    out: dict[str, object] = {
        "version": importlib.metadata.version("pyworkforce"),
        "python": sys.version.split()[0],
    }

    def erlang_c(volume: float, aht_s: float) -> tuple[int | None, str | None]:
        try:
            r = ErlangC(
                transactions=volume, aht=aht_s / 60, asa=T_S / 60, interval=INTERVAL_MIN
            ).required_positions(SL)
            return int(r["raw_positions"]), None
        except Exception as exc:  # noqa: BLE001 - record how the peer fails
            return None, f"{type(exc).__name__}: {exc}"

    t0 = time.perf_counter()
    res_c = [erlang_c(v, h) for v, h in zip(cases["volume"], cases["aht"], strict=True)]
    out["c_time_s"] = time.perf_counter() - t0
    out["c_agents"] = [r[0] for r in res_c]
    out["c_errors"] = sorted({r[1] for r in res_c if r[1]})
    out["c_sl_at"] = [
        ErlangC(transactions=v, aht=h / 60, asa=T_S / 60, interval=INTERVAL_MIN).service_level(n)
        if v > 0 and n > v * h / (INTERVAL_MIN * 60)
        else None
        for v, h, n in zip(cases["sl_volume"], cases["sl_aht"], cases["sl_agents"], strict=True)
    ]
    t0 = time.perf_counter()
    agents_a = []
    for v, h in zip(cases["a_volume"], cases["a_aht"], strict=True):
        try:
            agents_a.append(
                int(
                    ErlangA(
                        transactions=v,
                        aht=h / 60,
                        asa=T_S / 60,
                        interval=INTERVAL_MIN,
                        patience=PATIENCE_S / 60,
                    ).required_positions(SL)["raw_positions"]
                )
            )
        except Exception:  # noqa: BLE001
            agents_a.append(None)
    out["a_time_s"] = time.perf_counter() - t0
    out["a_agents"] = agents_a
    traps = {}
    for name, (v, h, p) in cases["a_traps"].items():
        e = ErlangA(
            transactions=v, aht=h / 60, asa=T_S / 60, interval=INTERVAL_MIN, patience=p / 60
        )
        traps[name] = {
            "agents": int(e.required_positions(SL)["raw_positions"]),
            "sl_at_staffplan": e.service_level(cases["a_trap_ours"][name], asa=T_S / 60),
        }
    out["a_traps"] = traps
    big = {}
    for load in cases["big_loads"]:
        agents, err = erlang_c(load * INTERVAL_MIN * 60 / 180.0, 180.0)
        big[str(load)] = agents if err is None else err
    out["big"] = big
    out["small"] = {
        str(load): int(
            ErlangC(
                transactions=load * INTERVAL_MIN * 2, aht=0.5, asa=2.0, interval=INTERVAL_MIN
            ).required_positions(SL)["raw_positions"]
        )
        for load in cases["small_loads"]
    }
    Path(out_file).write_text(json.dumps(out))


def week_cases(seed: int = 0) -> tuple[list[float], list[float]]:
    """50 queues x 672 intervals: a daily curve (closed 22:00-07:00), weekday scales, noise."""
    import numpy as np

    rng = np.random.default_rng(seed)
    minute = (np.arange(N_INTERVALS) % 96) * INTERVAL_MIN
    day = np.arange(N_INTERVALS) // 96
    shape = np.where(
        (minute >= 7 * 60) & (minute < 22 * 60),
        np.clip(np.sin(np.pi * (minute - 420) / 900), 0.0, 1.0) ** 0.7,
        0.0,
    )
    vols, ahts = [], []
    for _ in range(N_QUEUES):
        peak = rng.uniform(5, 250)  # contacts per 15 min at the daily peak
        scale = np.where(day >= 5, rng.uniform(0.3, 0.8), 1.0)
        v = np.round(peak * scale * shape * rng.uniform(0.85, 1.15, N_INTERVALS), 2)
        vols.append(v)
        ahts.append(np.full(N_INTERVALS, rng.uniform(150, 480)))
    return list(np.concatenate(vols)), list(np.concatenate(ahts))


def best_of(fn, repeats: int = 3) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    import numpy as np

    from staffplan.queueing import Target, kpis, required_agents

    vol, aht = week_cases()
    v, h = np.array(vol), np.array(aht)
    tc, ta = Target(SL, T_S), Target(SL, T_S, patience_s=PATIENCE_S)
    ours_c = required_agents(v, h, INTERVAL_MIN, tc)
    ours_a = required_agents(v, h, INTERVAL_MIN, ta)
    t_c = best_of(lambda: required_agents(v, h, INTERVAL_MIN, tc))
    t_a = best_of(lambda: required_agents(v, h, INTERVAL_MIN, ta))
    load = v * h / (INTERVAL_MIN * 60)
    # one queue-week for the peer's (slow) Erlang A: the 10th queue's intervals
    q = slice(9 * N_INTERVALS, 10 * N_INTERVALS)
    live_q = np.flatnonzero(v[q] > 0)
    t_a_one = best_of(lambda: required_agents(v[q], h[q], INTERVAL_MIN, ta))
    # SL agreement at identical agent counts: staffing - 1 .. + 1 on 2,000 live intervals
    rng = np.random.default_rng(1)
    pick = rng.choice(np.flatnonzero(v > 0), 2000, replace=False)
    sl_v = np.repeat(v[pick], 3)
    sl_h = np.repeat(h[pick], 3)
    sl_n = (np.repeat(ours_c[pick], 3) + np.tile([-1, 0, 1], 2000)).astype(int)
    ours_sl = kpis(sl_v, sl_h, INTERVAL_MIN, sl_n, tc)["service_level"].to_numpy()
    traps = {
        "load 100 E, AHT 300 s, patience 30 s": (100 * 900 / 300, 300.0, 30.0),
        "load 40 E, AHT 240 s, patience 60 s": (40 * 900 / 240, 240.0, 60.0),
    }
    trap_ours = {
        k: int(required_agents(tv, th, INTERVAL_MIN, Target(SL, T_S, patience_s=tp)))
        for k, (tv, th, tp) in traps.items()
    }
    big_loads = [1_000.0, 10_000.0, 10_000.6, 50_000.0]
    small_loads = [0.6, 3.4, 3.6, 10.4, 10.6, 55.7]  # with AHT 30 s and 80 % in 120 s
    cases = {
        "volume": vol,
        "aht": aht,
        "sl_volume": sl_v.tolist(),
        "sl_aht": sl_h.tolist(),
        "sl_agents": sl_n.tolist(),
        "a_volume": v[q][live_q].tolist(),
        "a_aht": h[q][live_q].tolist(),
        "a_traps": traps,
        "a_trap_ours": trap_ours,
        "big_loads": big_loads,
        "small_loads": small_loads,
    }
    with tempfile.TemporaryDirectory() as tmp:
        cf, of = Path(tmp) / "cases.json", Path(tmp) / "peer.json"
        cf.write_text(json.dumps(cases))
        if not PEER_PYTHON.exists():
            sys.exit(f"peer venv missing: create it with the commands in {__file__}'s docstring")
        subprocess.run([str(PEER_PYTHON), __file__, "--peer", str(cf), str(of)], check=True)
        peer = json.loads(of.read_text())

    pc = np.array([np.nan if a is None else a for a in peer["c_agents"]])
    live = v > 0
    crashed = int(np.isnan(pc).sum())
    ok = ~np.isnan(pc)
    diff = pc[ok] - ours_c[ok]
    frac = (load - np.floor(load))[ok]
    over_half = int(np.sum((diff == 1) & (frac > 0.5)))
    other = int(np.sum(diff != 0)) - over_half
    peer_sl = np.array([np.nan if s is None else s for s in peer["c_sl_at"]])
    both = ~np.isnan(peer_sl)
    sl_err = float(np.max(np.abs(peer_sl[both] - ours_sl[both])))
    pa = np.array([np.nan if a is None else a for a in peer["a_agents"]])
    oa = ours_a[q][live_q]
    a_over = int(np.sum(pa > oa))
    a_under = int(np.sum(pa < oa))
    n1667 = int(required_agents(1667 * 900 / 180, 180.0, INTERVAL_MIN, ta))
    big_ours = {
        str(b): int(required_agents(b * 900 / 180, 180.0, INTERVAL_MIN, tc)) for b in big_loads
    }

    lines = [
        "## Queueing",
        "",
        "`python benchmarks/queueing_vs_peers.py --write` — staffplan (Python 3.11, numpy "
        "vectorised) vs",
        f"pyworkforce {peer['version']} (Python {peer['python']}, own venv), same run, same "
        "2-core machine. Target 80 % in 20 s,",
        f"15-minute intervals; a week = {N_INTERVALS} intervals x {N_QUEUES} queues = "
        f"{N_INTERVALS * N_QUEUES:,} intervals ({int(live.sum()):,} open,",
        f"{int((~live).sum()):,} closed with zero volume); Erlang A patience {PATIENCE_S:.0f} "
        "s. Times are best of 3 (peer: one run).",
        "",
        "| measure | staffplan | pyworkforce | ratio |",
        "|---|---|---|---|",
        f"| Erlang C staffing, 50 queues x 1 week | {t_c:.3f} s | {peer['c_time_s']:.2f} s "
        f"(open intervals only) | {peer['c_time_s'] / t_c:,.0f}x |",
        f"| Erlang A staffing, 50 queues x 1 week | {t_a:.3f} s | not run (see next row) | |",
        f"| Erlang A staffing, 1 queue x 1 week ({live_q.size} open intervals) | {t_a_one:.4f} "
        f"s | {peer['a_time_s']:.2f} s | {peer['a_time_s'] / t_a_one:,.0f}x |",
        f"| zero-volume intervals | 0 agents ({int((~live).sum()):,}) | crash on {crashed:,}: "
        f"`{'; '.join(peer['c_errors'])[:80]}` | |",
        "| Erlang C agents, open intervals: same / peer +1 with frac(load) > .5 / other | "
        f"{int(np.sum(diff == 0)):,} / - / - | {int(np.sum(diff == 0)):,} / "
        f"{over_half:,} / {other:,} | |",
        "| Erlang C service level at equal agents (6,000 cases), max abs difference | | "
        f"{sl_err:.1e} | |",
        f"| Erlang A agents, 1 queue-week: peer more / fewer than staffplan | | {a_over} / "
        f"{a_under} of {live_q.size} | |",
    ]
    for name, r in peer["a_traps"].items():
        lines.append(
            f"| Erlang A trap, {name} | {trap_ours[name]} agents | {r['agents']} agents (its "
            f"own SL at {trap_ours[name]}: {r['sl_at_staffplan']:.3f}) | |"
        )
    small_ours = {
        str(x): int(required_agents(x * 900 / 30, 30.0, INTERVAL_MIN, Target(SL, 120.0)))
        for x in small_loads
    }
    lines.append(
        "| Erlang C trap, AHT 30 s, 80 % in 120 s, loads "
        + ", ".join(f"{x:g}" for x in small_loads)
        + " E | "
        + ", ".join(str(small_ours[str(x)]) for x in small_loads)
        + " | "
        + ", ".join(str(peer["small"][str(x)]) for x in small_loads)
        + " | |"
    )
    lines.append(
        f"| Erlang A, 1,667 Erlangs, AHT 180 s, patience 180 s | {n1667} agents | >= "
        f"{math.ceil(1667)} (search starts at ceil(load)) | "
        f"+{(1667 - n1667) / n1667:.1%} |"
    )
    for b in big_loads:
        lines.append(
            f"| Erlang C, {b:,.1f} Erlangs | {big_ours[str(b)]} | {peer['big'][str(b)]} | |"
        )
    lines += [
        "",
        "Reading: staffplan's counts are the smallest meeting the target (tests check them "
        "against mpmath and",
        "linear scans). The peer's Erlang C search starts at round(load + 1), one agent too "
        "high whenever",
        "frac(load) > .5 and floor(load) + 1 already meets the target; its Erlang A search "
        "starts at ceil(load),",
        "so it can never return fewer agents than the offered load even when its own service "
        "level says fewer",
        "suffice; its constructors reject zero volume, so closed intervals crash a plan unless "
        "filtered out.",
        "At 1,000-50,000 Erlangs this pyworkforce version agrees with staffplan (it now uses "
        "the Erlang B",
        "recursion, not factorials), so no overflow shows here; staffplan's own large-load "
        "values are checked",
        "against 60-digit mpmath in tests/queueing/test_erlang.py.",
        "",
    ]
    table = "\n".join(lines)
    print(table)
    if "--write" in sys.argv:
        path = HERE / "RESULTS.md"
        text = path.read_text() if path.exists() else "# Benchmark results\n"
        if "## Queueing\n" in text:
            start = text.index("## Queueing\n")
            nxt = text.find("\n## ", start + 5)
            text = text[:start] + table + (text[nxt + 1 :] if nxt != -1 else "")
        else:
            text = text.rstrip("\n") + "\n\n" + table
        path.write_text(text)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--peer":
        peer_main(sys.argv[2], sys.argv[3])
    else:
        main()
