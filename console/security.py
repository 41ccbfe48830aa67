"""Logins, sessions and CSRF for the console.

The session is a cookie signed with the console secret (Starlette's SessionMiddleware). It
holds the staff name, a fingerprint of that person's token, and a CSRF token; never the token
itself. The fingerprint makes a session die when its token is changed in the configuration.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSRF_FIELD = "csrf_token"

# Scripts and styles from our own /static only: even if some text escaped its escaping, an
# inline <script> would not run.
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}


class Staff:
    def __init__(self, staff: Mapping[str, str], secret: str) -> None:
        self._staff = dict(staff)
        self._secret = secret.encode()

    def check(self, name: str, token: str) -> bool:
        expected = self._staff.get(name)
        # Compare even for an unknown name, so the time taken does not reveal who exists.
        ok = hmac.compare_digest(token.encode(), (expected or secrets.token_hex(16)).encode())
        return ok and expected is not None

    def fingerprint(self, name: str) -> str:
        token = self._staff.get(name, "")
        return hmac.new(self._secret, f"{name}:{token}".encode(), hashlib.sha256).hexdigest()[:32]

    def user(self, request: Request) -> str | None:
        """The logged-in staff name, if the session is valid for today's configuration."""
        name = request.session.get("user")
        if not isinstance(name, str) or name not in self._staff:
            return None
        key = request.session.get("key")
        if not isinstance(key, str) or not hmac.compare_digest(key, self.fingerprint(name)):
            return None
        return name

    def log_in(self, request: Request, name: str) -> None:
        request.session.clear()
        request.session.update({"user": name, "key": self.fingerprint(name)})
        new_csrf_token(request)


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    return token if isinstance(token, str) else new_csrf_token(request)


def new_csrf_token(request: Request) -> str:
    token = secrets.token_urlsafe(32)
    request.session["csrf"] = token
    return token


async def checked_form(request: Request) -> FormData:
    """The POSTed form, once its CSRF token matches the session's; 403 otherwise."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    expected = request.session.get("csrf")
    if not (
        isinstance(sent, str)
        and isinstance(expected, str)
        and hmac.compare_digest(sent.encode(), expected.encode())
    ):
        raise HTTPException(403, "The form is stale or was not sent by this console; reload it.")
    return form


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [
                    (k.encode(), v.encode())
                    for k, v in SECURITY_HEADERS.items()
                    if k.encode() not in present
                ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
