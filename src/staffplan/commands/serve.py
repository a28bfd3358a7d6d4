"""``staffplan serve``: the web workspace over a scenario's plan store (``staffplan.web``)."""

from __future__ import annotations

import errno
import socket
from pathlib import Path

import click

from staffplan.errors import InputError


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host``:``port`` (0: any free port); :class:`InputError` if the
    address cannot be had.
    """
    try:
        family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
        sock.listen(128)
    except OSError as exc:
        taken = exc.errno == errno.EADDRINUSE
        raise InputError(
            "port already in use" if taken else f"cannot listen there ({exc.strerror})",
            column="--port" if taken else "--host",
            expected="a free port" if taken else "an address of this machine",
            found=f"{host}:{port}",
            hint="choose another --port (0 picks a free one)" if taken else None,
        ) from None
    return sock


@click.command("serve")
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; anything but this machine's loopback needs --token.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="TCP port (0: any free port, printed when serving).",
)
@click.option(
    "--token",
    envvar="STAFFPLAN_TOKEN",
    default=None,
    help="Access token (at least 16 characters; or $STAFFPLAN_TOKEN): every request then needs "
    "'Authorization: Bearer TOKEN' or a browser login.",
)
@click.option(
    "--lang",
    default=None,
    help="Language of every page (en, es ...; default: each browser's Accept-Language).",
)
@click.option(
    "--time-limit",
    "time_limit_s",
    type=float,
    default=10.0,
    show_default=True,
    help="Wall-clock budget of one sick-call repair [s] (as 'staffplan cover --time-limit').",
)
@click.option(
    "--deterministic",
    is_flag=True,
    help="Deterministic repairs [flag]: the same proposal for the same inputs on any load.",
)
@click.option(
    "--compare",
    "compare",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A scenario file the Compare page may run beside SCENARIO (repeat for several; "
    "default: the other scenario files in SCENARIO's folder and the folders next to it).",
)
@click.option(
    "--compare-out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out") / "compare",
    show_default=True,
    help="Folder of the compared scenarios' outputs, <folder>/<name>/ (as 'staffplan compare "
    "--out'; earlier outputs with unchanged inputs are reused).",
)
def serve(
    scenario: Path,
    host: str,
    port: int,
    token: str | None,
    lang: str | None,
    time_limit_s: float,
    deterministic: bool,
    compare: tuple[Path, ...],
    compare_out: Path,
) -> None:
    """Serve a web workspace for SCENARIO's plan store: the week, sick calls, edits, versions
    and comparisons, for people in a browser and scripts through a JSON API.

    Reads the scenario (forecast and requirements) once at start; stop with Ctrl-C.
    """
    import uvicorn

    from staffplan.i18n import check_language
    from staffplan.web.app import ServeConfig, create_app
    from staffplan.web.security import check_binding
    from staffplan.web.services import Workspace

    check_binding(host, token)
    if lang is not None:
        check_language(lang)
    sock = bind(host, port)
    actual = sock.getsockname()[1]
    click.echo(f"loading {scenario} (forecast, requirements, team) ...", err=True)
    ws = Workspace(
        scenario,
        cover_time_limit_s=time_limit_s,
        deterministic=deterministic,
        compare=compare,
        compare_out=compare_out,
    )
    app = create_app(ws, ServeConfig(host=host, port=actual, token=token, lang=lang))
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{actual}/"

    class _Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            click.echo(f"serving {ws.scenario.name} on {url} (Ctrl-C to stop)", err=True)

    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    _Server(config).run(sockets=[sock])
