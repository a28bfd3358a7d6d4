"""Every command line in the README's code blocks runs, in order, in a clean copy of the repo.

The README is parsed when the test runs, so commands added to it are tested
too. Solver time limits become short deterministic ones (any command with a
``--time-limit`` option gets at most ``SHORT_LIMIT_S``, with ``--deterministic``
where the command has it: the same rosters on a quiet or a busy machine), one
worker, and simulations two replications; ``pip install`` and ``pytest`` are
skipped (the test runs in the installed environment, inside that very test
suite). The commands run in this process (Click's runner, in the clean copy as
the working folder), which saves an interpreter start and the imports per
command; ``test_cli.py`` and the command tests run ``python -m staffplan`` itself.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from staffplan.cli import cli

ROOT = Path(__file__).resolve().parents[1]
#: deterministic seconds: enough for a first roster of the example week, on any machine load
SHORT_LIMIT_S = 1.0
SHORT_OPTIONS = {"--time-limit": SHORT_LIMIT_S, "--replications": 2, "--workers": 1}
FLAGS = ("--deterministic",)  # added wherever the command has them
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
    return out + [f for f in FLAGS if f in known and f not in out]


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
    limit = str(SHORT_LIMIT_S)
    assert shortened(["roster", "s.toml", "--time-limit", "60"]) == [
        "roster", "s.toml", "--time-limit", limit, "--workers", "1", "--deterministic"
    ]  # fmt: skip
    assert shortened(["run", "s.toml"])[-5:] == [
        "--time-limit", limit, "--workers", "1", "--deterministic"
    ]  # fmt: skip
    assert shortened(["erlang", "--volume", "5"]) == ["erlang", "--volume", "5"]


@pytest.mark.slow
def test_every_readme_command_runs_in_a_clean_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs the git checkout to know which files a clone has")
    repo = clean_copy(tmp_path / "repo")
    monkeypatch.chdir(repo)
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
            result = CliRunner().invoke(cli, args, prog_name="staffplan")
            detail = f"{' '.join(args)}\n{result.output}"
            assert result.exit_code == 0, detail
            assert result.exception is None or isinstance(result.exception, SystemExit), detail
            ran.append(argv[1])
    needed_commands = ("run", "compare", "sweep", "erlang", "roster", "simulate", "publish")
    for needed in (*needed_commands, "cover", "import"):
        assert needed in ran
    # the files the README points to exist where it says
    assert (repo / "out" / "example" / "roster.csv").is_file()
    assert (repo / "out" / "curtois1" / "scenario.toml").is_file()
