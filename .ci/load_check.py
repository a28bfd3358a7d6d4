"""The load check: the determinism tests run again with two CPU-bound processes beside them
(started and stopped by their pids, ``tests/cpu_hogs.py``); their roster.csv / coverage.csv /
repair digests must equal those of the first run.

Usage: python .ci/load_check.py FIRST.jsonl SECOND.jsonl (FIRST written by the first run through
``STAFFPLAN_DETERMINISM_LOG``; SECOND is written here).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def records(path: Path) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for line in path.read_text().splitlines():
        rec = json.loads(line)
        out[rec.pop("case")] = rec
    return out


def main(first: Path, second: Path) -> int:
    if not first.exists() or not records(first):
        print(f"load check: no digests from the first run in {first}", file=sys.stderr)
        return 1
    env = {**os.environ, "STAFFPLAN_DETERMINISM_LOG": str(second)}
    cmd = [sys.executable, "-m", "tests.cpu_hogs", "2", "--"]
    cmd += [sys.executable, "-m", "pytest", "-q", "-m", "determinism", "-p", "no:cacheprovider"]
    code = subprocess.call(cmd, cwd=ROOT, env=env)
    if code != 0:
        print("load check: the determinism tests failed beside two CPU hogs", file=sys.stderr)
        return code
    a, b = records(first), records(second)
    if a != b:
        for case in sorted(set(a) | set(b)):
            if a.get(case) != b.get(case):
                print(f"load check: {case}: {a.get(case)} != {b.get(case)}", file=sys.stderr)
        return 1
    print(f"load check: {len(a)} deterministic case(s) identical beside two CPU hogs")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
