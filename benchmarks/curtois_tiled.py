"""A larger Curtois-format instance made by tiling one: K× the horizon, S× the staff (robustness
check).

The published set goes up to hundreds of staff and a year's horizon; the
instances here stop at 30 staff × 28 days. Tiling one keeps every rule of the
format: staff copies get new ids, days off and requests repeat every period,
horizon limits (max shifts per type, total minutes, weekends) scale by K and
cover requirements by S. The result has no published best value; it checks
that the engine returns a feasible, checker-confirmed roster in the time limit.

Usage:
    python benchmarks/curtois_tiled.py INSTANCE.txt K S OUT.txt
    python benchmarks/curtois.py --dir DIR_WITH_OUT --time-limit 60
"""

from __future__ import annotations

import argparse
from pathlib import Path


def _sections(text: str) -> dict[str, list[str]]:
    data: dict[str, list[str]] = {}
    sec = ""
    for line in text.splitlines():
        if line.startswith("SECTION_"):
            sec = line.strip()
            data[sec] = []
        elif line.strip() and not line.startswith("#") and sec:
            data[sec].append(line.strip())
    return data


def tile(text: str, k: int, s: int) -> str:
    """The instance ``text`` tiled ``k``× in time and ``s``× in staff, in the same format."""
    data = _sections(text)
    days = int(data["SECTION_HORIZON"][0])

    def sid(name: str, copy: int) -> str:
        return name if copy == 0 else f"{name}{copy}"

    out = [
        "SECTION_HORIZON",
        str(days * k),
        "",
        "SECTION_SHIFTS",
        *data["SECTION_SHIFTS"],
        "",
        "SECTION_STAFF",
    ]
    for c in range(s):
        for line in data["SECTION_STAFF"]:
            f = line.split(",")
            f[0] = sid(f[0], c)
            if f[1]:
                f[1] = "|".join(
                    f"{x.split('=')[0]}={int(x.split('=')[1]) * k}" for x in f[1].split("|")
                )
            f[2], f[3], f[7] = str(int(f[2]) * k), str(int(f[3]) * k), str(int(f[7]) * k)
            out.append(",".join(f))
    out += ["", "SECTION_DAYS_OFF"]
    for c in range(s):
        for line in data.get("SECTION_DAYS_OFF", []):
            f = line.split(",")
            out.append(
                ",".join(
                    [sid(f[0], c)] + [str(int(d) + r * days) for r in range(k) for d in f[1:] if d]
                )
            )
    for name in ("SECTION_SHIFT_ON_REQUESTS", "SECTION_SHIFT_OFF_REQUESTS"):
        out += ["", name]
        for c in range(s):
            for r in range(k):
                for line in data.get(name, []):
                    f = line.split(",")
                    out.append(",".join([sid(f[0], c), str(int(f[1]) + r * days), f[2], f[3]]))
    out += ["", "SECTION_COVER"]
    for r in range(k):
        for line in data["SECTION_COVER"]:
            f = line.split(",")
            out.append(",".join([str(int(f[0]) + r * days), f[1], str(int(f[2]) * s), f[3], f[4]]))
    return "\n".join(out) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("instance", type=Path)
    ap.add_argument("k", type=int, help="horizon copies")
    ap.add_argument("s", type=int, help="staff copies")
    ap.add_argument("out", type=Path)
    args = ap.parse_args()
    args.out.write_text(tile(args.instance.read_text(), args.k, args.s))


if __name__ == "__main__":
    main()
