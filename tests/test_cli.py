"""The command line: every command is reachable, helps with units, and is documented."""

import re
import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

from staffplan.cli import COMMANDS, cli

ROOT = Path(__file__).resolve().parents[1]
#: option names that carry a physical quantity: their help must state its unit in brackets
QUANTITY = {"time", "seconds", "minutes", "hours", "limit", "aht", "within", "patience", "volume"}


def _leaf_commands() -> list[tuple[list[str], click.Command]]:
    ctx = click.Context(cli)
    out: list[tuple[list[str], click.Command]] = []

    def walk(group: click.Group, path: list[str]) -> None:
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            assert command is not None, path + [name]
            if isinstance(command, click.Group):
                walk(command, path + [name])
            else:
                out.append((path + [name], command))

    walk(cli, [])
    return out


def test_help_lists_every_command_with_its_summary() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    listed = result.output.split("Commands:", 1)[1]
    for name, (_, _, summary) in COMMANDS.items():
        assert re.search(rf"^\s+{re.escape(name)}\s", listed, re.M), name
        assert summary.split()[0] in listed, name


def test_every_command_has_help_with_units() -> None:
    runner = CliRunner()
    leaves = _leaf_commands()
    assert {path[0] for path, _ in leaves} == set(COMMANDS)  # every command loads
    for path, command in leaves:
        result = runner.invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert f"Usage: cli {' '.join(path)}" in result.output, path
        for p in command.params:
            if not isinstance(p, click.Option) or p.hidden:
                continue
            assert p.help, (path, p.opts)  # every option says what it is
            long = max(p.opts, key=len)
            if QUANTITY & set(long.strip("-").split("-")) and not p.is_flag:
                assert re.search(r"\[[^\]]+\]", p.help), (path, long, p.help)


def test_readme_names_every_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in COMMANDS:
        assert f"| `{name}` |" in readme or f"staffplan {name}" in readme, name


def test_unknown_command_exits_2() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "staffplan", "no-such-command"], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "No such command" in proc.stderr
