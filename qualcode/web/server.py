"""Serving the workspace on this computer only: ``qualcode serve``."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Callable

from ..errors import ProjectError, QualcodeError

HOST = "127.0.0.1"


def listen(port: int = 0) -> socket.socket:
    """A socket listening on 127.0.0.1 (never another address) at ``port`` (0: a free one)."""
    if not 0 <= port <= 65535:
        raise QualcodeError(f"--port must be between 1 and 65535 (or 0 for a free port), not {port}.")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, port))
        sock.listen(64)
    except OSError as exc:
        sock.close()
        raise QualcodeError(f"cannot listen on {HOST}:{port} ({exc.strerror or exc}); another program may use that "
                            "port: choose another with --port, or leave it out for a free one.") from None
    return sock


def prepare(project: str | Path, *, coder: str):
    """The application for ``project`` (checked to open as a qualcode project first)."""
    try:
        from .app import create_app
    except ImportError as exc:  # an installation without the web dependencies
        raise QualcodeError(f"the web workspace needs Starlette and uvicorn ({exc.name} is missing): "
                            "pip install 'qualcode[web]'.") from None
    from ..store import Store

    path = Path(project)
    if not path.exists():
        raise ProjectError(f"{path} does not exist. Give the project with -p PATH, or make one with 'qualcode init'.")
    Store.open(path).close()  # a damaged or newer project says so now, not on the first page
    return create_app(path, coder=coder)


def url_of(sock: socket.socket, token: str) -> str:
    return f"http://{HOST}:{sock.getsockname()[1]}/?token={token}"


def serve(app, sock: socket.socket, *, browser: bool = True, echo: Callable[[str], None] = print) -> None:
    """Answer requests on ``sock`` until Ctrl-C; open the browser at the token URL first."""
    import uvicorn

    url = url_of(sock, app.state.workspace.token)
    echo(f"qualcode workspace for {app.state.workspace.project.name}, coding as {app.state.workspace.coder}:")
    echo(f"  {url}")
    echo("Only this computer can open it, and only with this link. Ctrl-C stops it.")
    if browser:
        import webbrowser

        webbrowser.open(url)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
