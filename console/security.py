"""Logins, CSRF and cookies for the console.

Sessions are server-side (console/sessions.py): the session cookie holds only a random id.
Each session holds the staff name, a fingerprint of that person's token (never the token
itself) and a CSRF token; the fingerprint makes a session die when its token is changed in the
configuration.

Before login there is no session, yet the login form still needs a CSRF token (else another
site could log a reviewer in as the attacker). It is stateless: a random nonce in a cookie
and, in the form, an HMAC of that nonce under the console secret. Another site can neither
read the cookie nor compute the HMAC, and an anonymous visitor never adds server state.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from console.sessions import Session

CSRF_FIELD = "csrf_token"
SESSION_COOKIE = "partmatch_console"
LOGIN_COOKIE = "partmatch_console_login"
# The login nonce only has to outlive one visit to the login form.
LOGIN_COOKIE_MAX_AGE_S = 3600

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

    def owns(self, session: Session) -> bool:
        """Whether the session still belongs to a staff member with the same token."""
        return session.user in self._staff and hmac.compare_digest(
            session.key, self.fingerprint(session.user)
        )

    def login_token(self, nonce: str) -> str:
        """The login form's CSRF token for the nonce in the browser's login cookie."""
        return hmac.new(self._secret, f"login:{nonce}".encode(), hashlib.sha256).hexdigest()


class Cookies:
    """How the console sets its cookies. Always HttpOnly (no script reads them) and
    SameSite=Strict (no other site's page or form sends them); Secure when the console is
    reached over HTTPS, so the browser never sends them in clear text."""

    def __init__(self, secure: bool) -> None:
        self.secure = secure

    def set(self, response: Response, name: str, value: str, max_age: int) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="strict",
        )

    def delete(self, response: Response, name: str) -> None:
        response.delete_cookie(name, path="/", secure=self.secure, httponly=True, samesite="strict")


def same_secret(sent: object, expected: str) -> bool:
    return (
        isinstance(sent, str)
        and bool(sent)
        and hmac.compare_digest(sent.encode(), expected.encode())
    )


async def checked_form(request: Request, expected: str | None) -> FormData:
    """The POSTed form, once its CSRF token matches `expected`; 403 otherwise (and when there
    is nothing to expect: no session, or no login cookie)."""
    form = await request.form()
    if expected is None or not same_secret(form.get(CSRF_FIELD), expected):
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
