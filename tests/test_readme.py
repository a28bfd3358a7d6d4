"""Every command line in the README's code blocks runs, in order, in a clean copy of the repo.

The README is parsed when the test runs, so commands added to it are tested
too. Solver time limits are cut to a few seconds (any command with a
``--time-limit`` option gets at most ``SHORT_LIMIT_S``) and simulations to two
replications; ``pip install`` and ``pytest`` are skipped (the test runs in the
installed environment, inside that very test suite).
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from staffplan.cli import cli

ROOT = Path(__file__).resolve().parents[1]
#: long enough that a loaded 2-core machine still finds a first roster (the example's takes
#: about 2 s there), short enough to keep the test a smoke test
SHORT_LIMIT_S = 10.0
SHORT_OPTIONS = {"--time-limit": SHORT_LIMIT_S, "--replications": 2}
SKIPPED_PROGRAMS = {"pip", "pip3", "pytest"}  # the environment and this very suite
#: commands that do not end by themselves (a server): started elsewhere, in their own tests
SKIPPED_COMMANDS = {"serve"}


def readme_commands(text: str) -> list[str]:
    """Command lines of the fenced code blocks, continuation lines joined."""
    out: list[str] = []
    in_block = False
    pending = ""
    for line in text.splitlines():
        if line.strip().startswith("```"):
            in_block = not in_block
            continue
        if not in_block:
            continue
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1].strip() + " "
            continue
        out.append(pending + stripped)
        pending = ""
    return out


def split_and(command: str) -> list[list[str]]:
    """``a && b`` -> [[a...], [b...]] (the README joins steps with ``&&``)."""
    parts: list[list[str]] = [[]]
    for token in shlex.split(command):
        if token == "&&":
            parts.append([])
        else:
            parts[-1].append(token)
    return [p for p in parts if p]


def options_of(name: str, sub: str | None) -> set[str]:
    ctx = click.Context(cli)
    command = cli.get_command(ctx, name)
    assert command is not None, f"README names an unknown command: staffplan {name}"
    if sub is not None and isinstance(command, click.Group):
        command = command.get_command(ctx, sub)
        assert command is not None, f"README names an unknown command: staffplan {name} {sub}"
    return {o for p in command.params for o in getattr(p, "opts", [])}


def shortened(argv: list[str]) -> list[str]:
    """``staffplan ...`` arguments with time limits and replications cut short."""
    name = argv[0]
    sub = argv[1] if len(argv) > 1 and not argv[1].startswith("-") else None
    known = options_of(name, sub)
    out = list(argv)
    for option, short in SHORT_OPTIONS.items():
        if option not in known:
            continue
        if option in out:
            i = out.index(option) + 1
            out[i] = str(min(float(out[i]), short)) if option == "--time-limit" else str(short)
        else:
            out += [option, str(short)]
    return out


def clean_copy(dest: Path) -> Path:
    """The files a fresh clone has (tracked, or new and not ignored), copied to ``dest``."""
    listing = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout.decode()
    for rel in filter(None, listing.split("\0")):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


def test_readme_parser_joins_lines_and_finds_the_examples() -> None:
    text = "x\n```\na --b \\\n  c\n# note\n\nd && e\n```\n```bash\nf\n```\n"
    assert readme_commands(text) == ["a --b c", "d && e", "f"]
    commands = readme_commands((ROOT / "README.md").read_text(encoding="utf-8"))
    assert any(c.startswith("staffplan compare") for c in commands)
    assert shortened(["roster", "s.toml", "--time-limit", "60"])[-1] == str(SHORT_LIMIT_S)
    assert shortened(["run", "s.toml"])[-2:] == ["--time-limit", str(SHORT_LIMIT_S)]


@pytest.mark.slow
def test_every_readme_command_runs_in_a_clean_copy(tmp_path: Path) -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs the git checkout to know which files a clone has")
    repo = clean_copy(tmp_path / "repo")
    commands = readme_commands((repo / "README.md").read_text(encoding="utf-8"))
    ran = []
    for command in commands:
        for argv in split_and(command):
            if argv[0] in SKIPPED_PROGRAMS:
                continue
            assert argv[0] == "staffplan", f"README command the test cannot run: {command}"
            if argv[1] in SKIPPED_COMMANDS:
                continue
            args = shortened(argv[1:])
            proc = subprocess.run(
                [sys.executable, "-m", "staffplan", *args],
                cwd=repo,
                capture_output=True,
                text=True,
                timeout=900,
            )
            assert proc.returncode == 0, f"{' '.join(argv)}\n{proc.stdout}\n{proc.stderr}"
            assert "Traceback" not in proc.stderr
            ran.append(argv[1])
    needed_commands = ("run", "compare", "sweep", "erlang", "roster", "simulate", "publish")
    for needed in (*needed_commands, "cover", "import"):
        assert needed in ran
