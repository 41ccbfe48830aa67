"""The console's pages and actions (Starlette).

Every page needs a logged-in staff member (a server-side session, console/sessions.py); every
POST needs the session's CSRF token, or before login the login form's. Failed logins are
limited (console/login_limits.py). gRPC calls block, so they run on Starlette's thread pool,
never on the event loop.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import grpc
import jinja2
from partmatch.v1 import partmatch_pb2 as pb
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from console.backend import Backend
from console.login_limits import LoginLimits, retry_after_header
from console.security import (
    CSRF_FIELD,
    LOGIN_COOKIE,
    LOGIN_COOKIE_MAX_AGE_S,
    SESSION_COOKIE,
    Cookies,
    SecurityHeaders,
    Staff,
    checked_form,
)
from console.sessions import Session, SessionStore
from console.views import (
    candidate_views,
    default_candidate,
    queue_row,
    search_views,
    short,
    stated_attributes,
    when,
)

HERE = Path(__file__).parent
PAGE_SIZE = 50

T = TypeVar("T")


class LoginRequired(Exception):
    """Raised by a page when nobody (valid) is logged in; answered with a redirect."""


def templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        # Every template, whatever its name: customer text is never trusted as HTML.
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["when"] = when
    env.filters["short"] = short
    return Jinja2Templates(env=env)


class Console:
    def __init__(
        self,
        backend: Backend,
        staff: Staff,
        sessions: SessionStore,
        limits: LoginLimits,
        cookies: Cookies,
    ) -> None:
        self.backend = backend
        self.staff = staff
        self.sessions = sessions
        self.limits = limits
        self.cookies = cookies
        self.templates = templates()

    # -- helpers ---------------------------------------------------------------------------

    def session(self, request: Request) -> Session | None:
        """The request's live session, if its id is in the table and its token unchanged."""
        session_id = request.cookies.get(SESSION_COOKIE)
        if not session_id:
            return None
        session = self.sessions.get(session_id)
        if session is None:
            return None
        if not self.staff.owns(session):
            self.sessions.delete(session.id)
            return None
        return session

    def render(
        self, request: Request, name: str, context: dict[str, Any], status: int = 200
    ) -> Response:
        session = self.session(request)
        nonce = ""
        if session is None:
            nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)
        flash = session.flash if session else ""
        if session:
            session.flash = ""
        base = {
            "user": session.user if session else None,
            "csrf_field": CSRF_FIELD,
            "csrf_token": session.csrf if session else self.staff.login_token(nonce),
            "flash": flash,
        }
        response = self.templates.TemplateResponse(
            request, name, base | context, status_code=status
        )
        if nonce:
            # Set on every anonymous page, so an open login form keeps a fresh cookie.
            self.cookies.set(response, LOGIN_COOKIE, nonce, LOGIN_COOKIE_MAX_AGE_S)
        return response

    def user(self, request: Request) -> Session:
        session = self.session(request)
        if session is None:
            raise LoginRequired
        return session

    def to_login(self, request: Request) -> Response:
        response = RedirectResponse("/login", 303)
        if SESSION_COOKIE in request.cookies:
            self.cookies.delete(response, SESSION_COOKIE)
        return response

    async def call(self, function: Callable[..., T], *args: Any) -> T:
        return await run_in_threadpool(function, *args)

    # -- login -----------------------------------------------------------------------------

    async def login_form(self, request: Request) -> Response:
        if self.session(request):
            return RedirectResponse("/queue", 303)
        return self.render(request, "login.html", {"error": "", "name": ""})

    async def login(self, request: Request) -> Response:
        nonce = request.cookies.get(LOGIN_COOKIE)
        form = await checked_form(request, self.staff.login_token(nonce) if nonce else None)
        name = str(form.get("name", "")).strip()
        token = str(form.get("token", "")).strip()
        # The peer of the TCP connection (uvicorn runs without proxy headers, so a client
        # cannot pick its own address by sending X-Forwarded-For).
        address = request.client.host if request.client else ""
        wait = self.limits.retry_after(name, address)
        if wait > 0:
            # Checked before the token, so even the right token is refused while locked.
            context = {
                "error": "Too many failed logins for this name or from this address. "
                f"Try again in {retry_after_header(wait)} seconds.",
                "name": name,
            }
            response = self.render(request, "login.html", context, status=429)
            response.headers["retry-after"] = retry_after_header(wait)
            return response
        if not self.staff.check(name, token):
            self.limits.failed(name, address)
            context = {"error": "Unknown name or token.", "name": name}
            return self.render(request, "login.html", context, status=401)
        self.limits.succeeded(name)
        if old := request.cookies.get(SESSION_COOKIE):
            self.sessions.delete(old)
        session = self.sessions.create(name, self.staff.fingerprint(name))
        response = RedirectResponse("/queue", 303)
        self.cookies.set(response, SESSION_COOKIE, session.id, int(self.sessions.absolute_s))
        self.cookies.delete(response, LOGIN_COOKIE)
        return response

    async def logout(self, request: Request) -> Response:
        session = self.session(request)
        if session is not None:
            await checked_form(request, session.csrf)
            # Gone from the table: every copy of the cookie is now refused.
            self.sessions.delete(session.id)
        return self.to_login(request)

    # -- queue and items -------------------------------------------------------------------

    async def queue(self, request: Request) -> Response:
        user = self.user(request).user
        text = request.query_params.get("q", "").strip()
        sku = request.query_params.get("sku", "").strip()
        page_token = request.query_params.get("page", "")
        page = await self.call(self.backend.list_pending, user, PAGE_SIZE, page_token, text, sku)
        context = {
            "rows": [queue_row(i) for i in page.items],
            "total": page.total_pending,
            "next_page": page.next_page_token,
            "q": text,
            "sku": sku,
        }
        return self.render(request, "queue.html", context)

    async def item(self, request: Request, error: str = "", status: int = 200) -> Response:
        user = self.user(request).user
        review_id = request.path_params["review_id"]
        item = await self.call(self.backend.get, user, review_id)
        find = request.query_params.get("find", "").strip()
        candidates = await self.call(self._candidates, user, item)
        results = await self.call(self._search, user, item, find) if find else []
        default, no_default = default_candidate(candidates)
        context = {
            "item": item,
            "resolved": item.status == pb.RESOLVED,
            "candidates": candidates,
            "stated": stated_attributes(item),
            "default": default,
            "no_default": no_default,
            "find": find,
            "results": results,
            "error": error,
        }
        return self.render(request, "item.html", context, status=status)

    async def resolve(self, request: Request) -> Response:
        session = self.user(request)
        user = session.user
        form = await checked_form(request, session.csrf)
        review_id = request.path_params["review_id"]
        choice = form.get("choice")
        sku = str(form.get("sku", "")).strip()
        if choice not in ("sku", "no_part") or (choice == "sku" and not sku):
            raise HTTPException(400, "choose a part (sku) or 'names no part'")
        next_id = await self.call(self.backend.next_after, user, review_id)
        try:
            item = await self.call(
                self.backend.resolve, user, review_id, sku if choice == "sku" else None
            )
        except grpc.RpcError as exc:
            code = _code(exc)
            if code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION):
                status = 409 if code == grpc.StatusCode.FAILED_PRECONDITION else 400
                return await self.item(request, error=_details(exc), status=status)
            raise
        outcome = "names no part" if item.names_no_part else item.resolved_sku
        session.flash = f"Resolved “{short(item.text, 60)}” as {outcome}."
        target = f"/items/{next_id}" if next_id and next_id != review_id else "/queue"
        return RedirectResponse(target, 303)

    async def skip(self, request: Request) -> Response:
        user = self.user(request).user
        review_id = request.path_params["review_id"]
        next_id = await self.call(self.backend.next_after, user, review_id)
        target = f"/items/{next_id}" if next_id and next_id != review_id else "/queue"
        return RedirectResponse(target, 303)

    def _candidates(self, user: str, item: pb.ReviewItem) -> list[Any]:
        active = self.backend.active_parts(user)
        return candidate_views(
            item, lambda sku: self.backend.part(user, sku), lambda sku: sku in active
        )

    def _search(self, user: str, item: pb.ReviewItem, find: str) -> list[Any]:
        return search_views(item, list(self.backend.search(user, find)))

    # -- errors ----------------------------------------------------------------------------

    async def on_login_required(self, request: Request, exc: Exception) -> Response:
        return self.to_login(request)

    async def on_http_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return self.render(
            request,
            "error.html",
            {"status": exc.status_code, "message": exc.detail},
            status=exc.status_code,
        )

    async def on_rpc_error(self, request: Request, exc: Exception) -> Response:
        code = _code(exc)
        if code == grpc.StatusCode.UNAUTHENTICATED:
            # The server no longer accepts this person's token: make them log in again.
            if session_id := request.cookies.get(SESSION_COOKIE):
                self.sessions.delete(session_id)
            return self.to_login(request)
        status, message = {
            grpc.StatusCode.NOT_FOUND: (404, "No such review item."),
            grpc.StatusCode.INVALID_ARGUMENT: (400, _details(exc)),
            grpc.StatusCode.UNAVAILABLE: (
                503,
                f"The partmatch server at {self.backend.address} is unreachable.",
            ),
            grpc.StatusCode.DEADLINE_EXCEEDED: (
                503,
                f"The partmatch server at {self.backend.address} did not answer in time.",
            ),
        }.get(code, (502, f"The partmatch server answered {code.name}: {_details(exc)}"))
        return self.render(request, "error.html", {"status": status, "message": message}, status)


def _code(exc: Exception) -> grpc.StatusCode:
    code = getattr(exc, "code", None)
    return code() if callable(code) else grpc.StatusCode.UNKNOWN


def _details(exc: Exception) -> str:
    details = getattr(exc, "details", None)
    return str(details()) if callable(details) else str(exc)


async def home(request: Request) -> Response:
    return RedirectResponse("/queue", 303)


def create_app(
    backend: Backend,
    staff: Staff,
    *,
    secure_cookies: bool = False,
    sessions: SessionStore | None = None,
    limits: LoginLimits | None = None,
) -> Starlette:
    """The console app. `secure_cookies`: the browser reaches it over HTTPS (directly or
    through a TLS-terminating proxy), so its cookies are marked Secure."""
    console = Console(
        backend,
        staff,
        sessions if sessions is not None else SessionStore(),
        limits if limits is not None else LoginLimits(),
        Cookies(secure_cookies),
    )
    routes = [
        Route("/", home, methods=["GET"]),
        Route("/login", console.login_form, methods=["GET"]),
        Route("/login", console.login, methods=["POST"]),
        Route("/logout", console.logout, methods=["POST"]),
        Route("/queue", console.queue, methods=["GET"]),
        Route("/items/{review_id}", console.item, methods=["GET"]),
        Route("/items/{review_id}/resolve", console.resolve, methods=["POST"]),
        Route("/items/{review_id}/next", console.skip, methods=["GET"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    return Starlette(
        routes=routes,
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers={
            LoginRequired: console.on_login_required,
            HTTPException: console.on_http_error,
            grpc.RpcError: console.on_rpc_error,
        },
    )
