"""The console's pages and actions (Starlette).

Every page needs a logged-in staff member; every POST needs the session's CSRF token. gRPC
calls block, so they run on Starlette's thread pool, never on the event loop.
"""

from __future__ import annotations

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
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from console.backend import Backend
from console.security import CSRF_FIELD, SecurityHeaders, Staff, checked_form, csrf_token
from console.views import candidate_views, queue_row, search_views, short, when

HERE = Path(__file__).parent
SESSION_COOKIE = "partmatch_console"
SESSION_MAX_AGE_S = 12 * 3600
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
    def __init__(self, backend: Backend, staff: Staff) -> None:
        self.backend = backend
        self.staff = staff
        self.templates = templates()

    # -- helpers ---------------------------------------------------------------------------

    def render(
        self, request: Request, name: str, context: dict[str, Any], status: int = 200
    ) -> Response:
        base = {
            "user": self.staff.user(request),
            "csrf_field": CSRF_FIELD,
            "csrf_token": csrf_token(request),
            "flash": request.session.pop("flash", ""),
        }
        return self.templates.TemplateResponse(request, name, base | context, status_code=status)

    def user(self, request: Request) -> str:
        user = self.staff.user(request)
        if user is None:
            raise LoginRequired
        return user

    async def call(self, function: Callable[..., T], *args: Any) -> T:
        return await run_in_threadpool(function, *args)

    # -- login -----------------------------------------------------------------------------

    async def login_form(self, request: Request) -> Response:
        if self.staff.user(request):
            return RedirectResponse("/queue", 303)
        return self.render(request, "login.html", {"error": "", "name": ""})

    async def login(self, request: Request) -> Response:
        form = await checked_form(request)
        name = str(form.get("name", "")).strip()
        token = str(form.get("token", "")).strip()
        if not self.staff.check(name, token):
            context = {"error": "Unknown name or token.", "name": name}
            return self.render(request, "login.html", context, status=401)
        self.staff.log_in(request, name)
        return RedirectResponse("/queue", 303)

    async def logout(self, request: Request) -> Response:
        await checked_form(request)
        request.session.clear()
        return RedirectResponse("/login", 303)

    # -- queue and items -------------------------------------------------------------------

    async def queue(self, request: Request) -> Response:
        user = self.user(request)
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
        user = self.user(request)
        review_id = request.path_params["review_id"]
        item = await self.call(self.backend.get, user, review_id)
        find = request.query_params.get("find", "").strip()
        candidates = await self.call(self._candidates, item)
        results = await self.call(self._search, item, find) if find else []
        context = {
            "item": item,
            "resolved": item.status == pb.RESOLVED,
            "candidates": candidates,
            "find": find,
            "results": results,
            "error": error,
        }
        return self.render(request, "item.html", context, status=status)

    async def resolve(self, request: Request) -> Response:
        user = self.user(request)
        form = await checked_form(request)
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
        request.session["flash"] = f"Resolved “{short(item.text, 60)}” as {outcome}."
        target = f"/items/{next_id}" if next_id and next_id != review_id else "/queue"
        return RedirectResponse(target, 303)

    async def skip(self, request: Request) -> Response:
        user = self.user(request)
        review_id = request.path_params["review_id"]
        next_id = await self.call(self.backend.next_after, user, review_id)
        target = f"/items/{next_id}" if next_id and next_id != review_id else "/queue"
        return RedirectResponse(target, 303)

    def _candidates(self, item: pb.ReviewItem) -> list[Any]:
        active = self.backend.active_parts()
        return candidate_views(item, self.backend.part, lambda sku: sku in active)

    def _search(self, item: pb.ReviewItem, find: str) -> list[Any]:
        return search_views(item, list(self.backend.search(find)))

    # -- errors ----------------------------------------------------------------------------

    async def on_login_required(self, request: Request, exc: Exception) -> Response:
        return RedirectResponse("/login", 303)

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
            request.session.clear()
            return RedirectResponse("/login", 303)
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


def create_app(backend: Backend, staff: Staff, secret: str, https_only: bool = False) -> Starlette:
    console = Console(backend, staff)
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
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(
            SessionMiddleware,
            secret_key=secret,
            session_cookie=SESSION_COOKIE,
            max_age=SESSION_MAX_AGE_S,
            same_site="strict",
            https_only=https_only,
        ),
    ]
    return Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={
            LoginRequired: console.on_login_required,
            HTTPException: console.on_http_error,
            grpc.RpcError: console.on_rpc_error,
        },
    )
