"""The web workspace as a Starlette application: pages, acts, and the locks on the door.

* Only requests addressed to 127.0.0.1 or localhost are answered (a page elsewhere on the web cannot
  reach the workspace through a name that points at this machine).
* A random token per run: the URL ``qualcode serve`` prints carries it once; the answer sets it as
  a cookie (HttpOnly, SameSite=Strict) and sends the browser on to the same page without it. Every
  other request without the cookie is refused.
* Every state-changing request is a POST carrying the run's CSRF token (a form field or the
  ``X-CSRF-Token`` header) and, when the browser sends one, an Origin of this same address.
* Each request opens the project, does one thing (one page, or one library act) and closes it:
  commands run in a terminal at the same time wait for each other as they do for any command.
  An error is one readable message on the page, never a traceback.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..errors import BusyError, ChangedError, ConflictError, NotFoundError, QualcodeError
from . import pages
from .acts import ACTS

HOSTS = ("127.0.0.1", "localhost")
STATIC = Path(__file__).resolve().parent / "static"
ACTIVITY = "qualcode serve (the web workspace)"


class Workspace:
    """What one run of ``qualcode serve`` knows: the project, the coder, the two tokens."""

    def __init__(self, project: str | Path, *, coder: str, token: str | None = None):
        self.project = Path(project)
        self.coder = coder
        self.token = token or secrets.token_urlsafe(24)
        self.csrf = secrets.token_urlsafe(24)
        self.templates = Environment(loader=PackageLoader("qualcode.web", "templates"),
                                     autoescape=select_autoescape(default=True, default_for_string=True),
                                     trim_blocks=True, lstrip_blocks=True)
        self.templates.filters["tint"] = pages.tint

    def open(self):
        from ..store import Store

        store = Store.open(self.project)
        store.activity = ACTIVITY
        store.actor = self.coder  # every act of the workspace is in the history under its coder
        return store

    def run(self, fn, *args, **kwargs):
        """``fn(store, ...)`` on the project, opened for this call only."""
        store = self.open()
        try:
            return fn(store, *args, **kwargs)
        finally:
            store.close()

    def render(self, request: Request, name: str, context: dict, status: int = 200) -> HTMLResponse:
        q = request.query_params
        html = self.templates.get_template(name).render(
            **context, csrf=self.csrf, coder=self.coder, project=self.project.name, path=request.url.path,
            here=_here(request), flash=q.get("msg", ""), flash_error=q.get("err", ""))
        return HTMLResponse(html, status_code=status, headers=_NO_STORE)


_NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
             "X-Frame-Options": "DENY",
             "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self'; "
                                        "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'"}


def _here(request: Request) -> str:
    """This page's path and query (without a flash message), to come back to after an act."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in ("msg", "err", "token")]
    return request.url.path + ("?" + urlencode(query) if query else "")


def _status_of(exc: Exception) -> int:
    if isinstance(exc, BusyError):
        return 503
    if isinstance(exc, (ChangedError, ConflictError)):
        return 409
    if isinstance(exc, NotFoundError):
        return 404
    return 400


def _message(exc: Exception) -> tuple[str, int]:
    """The line a page shows for an error, and the HTTP status."""
    if isinstance(exc, QualcodeError):
        return str(exc), _status_of(exc)
    from ..store.core import DamagedFileError, DatabaseError

    if isinstance(exc, DatabaseError) and "locked" in str(exc):
        return ("the project file is busy (another qualcode command or program is writing to it); nothing was "
                "changed. Try again in a moment."), 503
    if isinstance(exc, DamagedFileError):
        return (f"the project file is damaged ({exc}); nothing was changed. Restore a backup with "
                "'qualcode backup restore'."), 500
    return (f"unexpected {type(exc).__name__}: {exc}. This is a bug in qualcode; nothing more was changed. Run "
            "'qualcode history' to see what was saved, and report it."), 500


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _local_path(value: str | None, default: str = "/") -> str:
    """``value`` if it is a path on this site, else ``default`` (never another site)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    return value


def _with(path: str, **params: str) -> str:
    path, _, fragment = path.partition("#")
    sep = "&" if "?" in path else "?"
    return path + sep + urlencode(params, quote_via=quote) + (f"#{fragment}" if fragment else "")


def create_app(project: str | Path, *, coder: str, token: str | None = None) -> Starlette:
    """The workspace for ``project``, acting as ``coder``. ``app.state.workspace`` holds its tokens."""
    ws = Workspace(project, coder=coder, token=token)

    def page(name: str, build, *param_names: str):
        async def endpoint(request: Request) -> Response:
            args = {p: request.query_params.get(p) or None for p in param_names}
            args.update(request.path_params)
            try:
                data = await run_in_threadpool(ws.run, _drawn_at(build), **args)
            except Exception as exc:  # a readable message, never a traceback
                msg, status = _message(exc)
                return ws.render(request, "error.html", {"message": msg}, status)
            return ws.render(request, name, data)
        return endpoint

    async def act(request: Request) -> Response:
        fn = ACTS.get(request.url.path)
        form = await _form(request)
        if form is None or not secrets.compare_digest(form.get("csrf", "") or request.headers.get("x-csrf-token", ""),
                                                      ws.csrf):
            return _refuse(request, ws, "this form is out of date or did not come from the workspace (its "
                                        "CSRF token is missing or wrong); reload the page and try again.", 403)
        back = _local_path(form.get("next"), "/")
        try:
            message = await run_in_threadpool(ws.run, fn, form, ws.coder)
        except Exception as exc:
            msg, status = _message(exc)
            if _wants_json(request):
                return JSONResponse({"ok": False, "error": msg}, status_code=status)
            return RedirectResponse(_with(back, err=msg), status_code=303)
        if _wants_json(request):
            return JSONResponse({"ok": True, "message": message})
        return RedirectResponse(_with(back, msg=message), status_code=303)

    async def as_of(request: Request) -> Response:
        try:
            return JSONResponse(await run_in_threadpool(ws.run, pages.latest_act), headers=_NO_STORE)
        except Exception as exc:
            msg, status = _message(exc)
            return JSONResponse({"ok": False, "error": msg}, status_code=status)

    routes = [
        Route("/", page("index.html", pages.index_page)),
        Route("/as-of", as_of),
        Route("/read/{source_ref}", page("read.html", _read_as(ws.coder), "code", "theme", "coder", "participant")),
        Route("/board", page("board.html", pages.board_page)),
        Route("/fragments", page("fragments.html", pages.fragments_page, "theme", "code")),
        Route("/review", page("review.html", pages.review_page)),
        Route("/supervisor", page("supervisor.html", pages.supervisor_page)),
        Route("/history", page("history.html", pages.history_page)),
        *[Route(path, act, methods=["POST"]) for path in ACTS],
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes)
    app.state.workspace = ws
    return _Guard(app, ws)


def _drawn_at(build):
    """``build`` plus ``as_of``: the newest act's number, read before the page's data, so that a page
    whose data is older than the project shows it (the page's script asks /as-of now and then)."""
    def wrapped(store, **args):
        seen = store.last_act_id()
        return {**build(store, **args), "as_of": seen}
    return wrapped


def _read_as(me: str):
    def build(store, source_ref, **filters):
        return pages.read_page(store, source_ref, me=me, **filters)
    return build


async def _form(request: Request) -> dict | None:
    """The fields of a POST (a form or a JSON object); None when it is neither."""
    body = await request.body()
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if kind == "application/json":
            data = json.loads(body.decode("utf-8") or "{}")
            return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else None
        if kind in ("application/x-www-form-urlencoded", ""):
            return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        return None
    return None


def _refuse(request: Request, ws: Workspace, message: str, status: int) -> Response:
    if _wants_json(request):
        return JSONResponse({"ok": False, "error": message}, status_code=status)
    html = ws.templates.get_template("refused.html").render(message=message)
    return HTMLResponse(html, status_code=status, headers=_NO_STORE)


class _Guard:
    """The door: host, token (then cookie) and, for POSTs, the Origin; see the module docstring."""

    def __init__(self, app: Starlette, ws: Workspace):
        self.app = app
        self.ws = ws
        self.state = app.state

    def cookie_name(self, request: Request) -> str:
        return f"qualcode_{request.url.port or 80}"

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        response = self.check(request)
        if response is None:
            await self.app(scope, receive, send)
        else:
            await response(scope, receive, send)

    def check(self, request: Request) -> Response | None:
        ws = self.ws
        if request.url.hostname not in HOSTS:
            return _refuse(request, ws, "the workspace answers only at 127.0.0.1 (this computer).", 400)
        if request.url.path.startswith("/static/"):
            return None
        given = request.query_params.get("token")
        if given is not None:
            if not secrets.compare_digest(given, ws.token):
                return _refuse(request, ws, "this link's token is not the one 'qualcode serve' printed for this "
                                            "run; open the link it printed.", 403)
            query = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            response = RedirectResponse(request.url.path + ("?" + urlencode(query) if query else ""), status_code=303)
            response.set_cookie(self.cookie_name(request), ws.token, httponly=True, samesite="strict", path="/")
            return response
        if not secrets.compare_digest(request.cookies.get(self.cookie_name(request), ""), ws.token):
            return _refuse(request, ws, "open the link 'qualcode serve' printed (with its token): the workspace "
                                        "opens only for the browser that has it.", 403)
        if request.method not in ("GET", "HEAD"):
            origin = request.headers.get("origin")
            if origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}":
                return _refuse(request, ws, f"a request from another site ({origin}) was refused.", 403)
        return None
