"""Draw staffplan's package graph from its imports: ``python docs/package_graph.py`` writes
``docs/package_graph.svg``.

Every ``import`` and ``from ... import`` in ``src/staffplan`` counts, function-level ones
included (:func:`import_graph`); modules are grouped into the rooms of the architecture
(:func:`room`). Rooms are placed in columns by their depth (a room sits right of every room it
imports), and an arrow goes from each room to the rooms it imports, except where a longer
chain of arrows already leads there (:func:`reduction`). ``tests/test_architecture.py`` uses
:func:`import_graph` to check that no module imports itself in a circle.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "staffplan"
OUT = ROOT / "docs" / "package_graph.svg"


def _module(path: Path, src: Path) -> str:
    parts = list(path.relative_to(src.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(src: Path = SRC) -> dict[str, set[str]]:
    """Module -> the modules of the package it imports, anywhere in its body (``from a.b import
    c`` counts as ``a.b.c`` when that is a module, else ``a.b``; relative imports resolved)."""
    files = {_module(p, src): p for p in sorted(src.rglob("*.py"))}
    graph: dict[str, set[str]] = {m: set() for m in files}
    for mod, path in files.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [
                    f"{base}.{a.name}" if f"{base}.{a.name}" in files else base for a in node.names
                ]
            for t in targets:
                while t and t not in files:
                    t = t.rpartition(".")[0]
                if t and t != mod:
                    graph[mod].add(t)
    return graph


def room(module: str) -> str | None:
    """The architecture room of a module: ``staffplan.roster.heuristics.lns`` ->
    ``roster.heuristics``, ``staffplan.roster.engine`` -> ``roster.engine`` (the stage sequence
    over the heuristics), ``staffplan.evaluate.kpis`` and ``staffplan.evaluate.plan_promise`` ->
    ``evaluate.kpis`` (the promised KPIs, which requirements and the roster's objective use too),
    ``staffplan.io.team`` -> ``io``;
    None for the package's own ``__init__`` and ``__main__`` (entry points only)."""
    parts = module.split(".")[1:]
    if not parts or parts[0] == "__main__":
        return None
    if parts[0] == "roster" and len(parts) > 1 and parts[1] in ("heuristics", "engine"):
        return f"roster.{parts[1]}"
    if parts[:2] in (["evaluate", "kpis"], ["evaluate", "plan_promise"]):
        return "evaluate.kpis"
    return parts[0]


def room_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The import graph between rooms (no self-loops)."""
    out: dict[str, set[str]] = defaultdict(set)
    for mod, deps in graph.items():
        r = room(mod)
        if r is None:
            continue
        out[r]
        for d in deps:
            rd = room(d)
            if rd is not None and rd != r:
                out[r].add(rd)
    return dict(out)


def reduction(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The graph without the edges a longer path also gives (its transitive reduction, for an
    acyclic graph): what the picture draws."""

    def reach(r: str, seen: set[str]) -> set[str]:
        for d in graph.get(r, ()):
            if d not in seen:
                seen.add(d)
                reach(d, seen)
        return seen

    out = {}
    for r, deps in graph.items():
        via = set().union(*(reach(d, set()) for d in deps)) if deps else set()
        out[r] = {d for d in deps if d not in via}
    return out


def depths(graph: dict[str, set[str]]) -> dict[str, int]:
    """Column of each room: 0 for rooms importing none, else one more than their deepest import
    (rooms in a circle share the column of the first one reached)."""
    out: dict[str, int] = {}

    def depth(r: str, seen: frozenset[str]) -> int:
        if r in out:
            return out[r]
        deps = sorted(d for d in graph.get(r, ()) if d not in seen)
        out[r] = 1 + max((depth(d, seen | {r}) for d in deps), default=-1)
        return out[r]

    for r in sorted(graph):
        depth(r, frozenset())
    return out


def draw(path: Path = OUT) -> Path:
    """Draw the room graph as an SVG (byte-identical for the same imports)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    graph = room_graph(import_graph())
    col = depths(graph)
    graph = reduction(graph)
    columns: dict[int, list[str]] = defaultdict(list)
    for r in sorted(graph, key=lambda r: (col[r], r)):
        columns[col[r]].append(r)
    height = max(len(v) for v in columns.values())
    gap = 3.0
    pos = {
        r: (gap * c, 1.2 * ((len(rooms) - 1) / 2 - i))
        for c, rooms in columns.items()
        for i, r in enumerate(rooms)
    }
    plt.rcParams["svg.hashsalt"] = "staffplan"
    fig, ax = plt.subplots(figsize=(1.6 * len(columns) + 1, 0.7 * height + 1.2))
    for r, deps in sorted(graph.items()):
        for d in sorted(deps):
            (x0, y0), (x1, y1) = pos[r], pos[d]
            ax.annotate(
                "",
                xy=(x1 + 0.9, y1),
                xytext=(x0 - 0.9, y0),
                arrowprops={
                    "arrowstyle": "->",
                    "color": "#6b7a90",
                    "lw": 0.7,
                    "connectionstyle": "arc3,rad=0.08",
                },
            )
    for r, (x, y) in pos.items():
        ax.text(
            x,
            y,
            r,
            ha="center",
            va="center",
            fontsize=8,
            bbox={"boxstyle": "round,pad=0.3", "fc": "#eef2f8", "ec": "#3b5b8c", "lw": 0.8},
        )
    ax.set_xlim(-1.4, gap * (len(columns) - 1) + 1.4)
    ax.set_ylim(-0.6 * height - 0.3, 0.6 * height + 0.3)
    ax.axis("off")
    ax.set_title(
        "staffplan's rooms, drawn from the imports by docs/package_graph.py\n"
        "(arrow: imports; an import a longer chain of arrows also gives is not drawn)",
        fontsize=8,
    )
    fig.savefig(path, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return path


if __name__ == "__main__":
    print(draw(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))
