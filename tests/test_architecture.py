"""The package's shape: no import cycle between modules (function-level imports included, the
graph of ``docs/package_graph.py``), one module that makes a ``CpSolver``, no source file over 800
lines, ruff clean, and the package picture drawn from the current imports."""

from __future__ import annotations

import ast
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "staffplan"
MAX_LINES = 800


def _load_graph_script():  # type: ignore[no-untyped-def]
    path = ROOT / "docs" / "package_graph.py"
    spec = importlib.util.spec_from_file_location("package_graph", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


graph_script = _load_graph_script()
import_graph = graph_script.import_graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first = last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                return [*stack[stack.index(n) :], n]
            if n not in state and (found := visit(n)):
                return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (found := visit(m)):
            return found
    return None


def test_the_cycle_finder_finds_a_planted_cycle(tmp_path: Path) -> None:
    pkg = tmp_path / "staffplan"
    (pkg / "roster").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "roster" / "__init__.py").write_text("")
    (pkg / "roster" / "build.py").write_text("def f():\n    from staffplan.roster import rules\n")
    (pkg / "roster" / "rules.py").write_text("from .build import f\n")
    (pkg / "roster" / "other.py").write_text("import staffplan.roster.rules\n")
    graph = import_graph(pkg)
    assert graph["staffplan.roster.rules"] == {"staffplan.roster.build"}
    assert graph["staffplan.roster.build"] == {"staffplan.roster.rules"}
    cycle = find_cycle(graph)
    assert cycle is not None and set(cycle) == {"staffplan.roster.build", "staffplan.roster.rules"}


def test_no_import_cycle_between_modules() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, " -> ".join(cycle or [])


def test_the_rooms_of_the_picture_form_a_stack() -> None:
    """Rooms are drawn in columns by depth: that only reads right when no room imports, through
    other rooms, a room that imports it."""
    rooms = graph_script.room_graph(import_graph())
    cycle = find_cycle({r: rooms.get(r, set()) for r in set(rooms).union(*rooms.values())})
    assert cycle is None, " -> ".join(cycle or [])


def test_one_module_makes_cp_sat_solvers() -> None:
    makers = sorted(
        str(p.relative_to(SRC)) for p in SRC.rglob("*.py") if "CpSolver(" in p.read_text()
    )
    assert makers == ["roster/solver.py"]


def test_no_source_file_over_800_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in SRC.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def _given_without_deadline(text: str) -> list[str]:
    """Test functions decorated with Hypothesis's ``@given`` but no ``@settings(deadline=None)``:
    under the default 200 ms deadline they fail on a busy machine, not on a wrong answer."""
    bad = []
    for node in ast.walk(ast.parse(text)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        names = [ast.unparse(d.func if isinstance(d, ast.Call) else d) for d in node.decorator_list]
        if not any(n.endswith("given") for n in names):
            continue
        ok = any(
            isinstance(d, ast.Call)
            and ast.unparse(d.func).endswith("settings")
            and any(k.arg == "deadline" and ast.unparse(k.value) == "None" for k in d.keywords)
            for d in node.decorator_list
        )
        if not ok:
            bad.append(node.name)
    return bad


def test_every_given_has_no_deadline() -> None:
    planted = (
        "@given(st.integers())\ndef test_a(x): ...\n"
        "@settings(deadline=None)\n@given(st.integers())\ndef test_b(x): ...\n"
    )
    assert _given_without_deadline(planted) == ["test_a"]
    bad = {
        str(p.relative_to(ROOT)): names
        for p in (ROOT / "tests").rglob("*.py")
        if (names := _given_without_deadline(p.read_text(encoding="utf-8")))
    }
    assert bad == {}


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is installed by .[test]")
def test_ruff_is_clean() -> None:
    dirs = [str(ROOT / d) for d in ("src", "tests", "benchmarks", "scenarios")]
    out = subprocess.run(
        ["ruff", "check", "--no-cache", *dirs], capture_output=True, text=True, cwd=ROOT
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_package_picture_is_drawn_from_the_current_imports(tmp_path: Path) -> None:
    """docs/package_graph.svg is what the script draws now (run it after changing imports)."""
    pytest.importorskip("matplotlib")
    drawn = graph_script.draw(tmp_path / "graph.svg")
    assert drawn.read_bytes() == (ROOT / "docs" / "package_graph.svg").read_bytes()


def test_the_picture_does_not_depend_on_hash_order(tmp_path: Path) -> None:
    """Set iteration order changes with PYTHONHASHSEED; the drawing must not."""
    pytest.importorskip("matplotlib")
    script = ROOT / "docs" / "package_graph.py"
    out = []
    for seed in ("1", "2"):
        path = tmp_path / f"graph{seed}.svg"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, str(script), str(path)], check=True, env=env)
        out.append(path.read_bytes())
    assert out[0] == out[1] == (ROOT / "docs" / "package_graph.svg").read_bytes()
