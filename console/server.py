"""`partmatch console`: build the console from settings and serve it with uvicorn."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette

from console.app import create_app
from console.backend import Backend
from console.login_limits import LoginLimits
from console.security import Staff
from console.sessions import SessionStore
from matcher.config import ConfigError, Settings


def build_console(
    settings: Settings, server: str = "", clock: Callable[[], float] = time.monotonic
) -> Starlette:
    """The console app talking to the gRPC server at `server` (default: settings.grpc_address).
    `clock` times sessions and login lockouts (tests pass a fake one)."""
    if not settings.console_secret:
        raise ConfigError(
            "PARTMATCH_CONSOLE_SECRET: required to run the console (keys its login forms and "
            "session fingerprints)"
        )
    staff = settings.staff
    if not staff:
        raise ConfigError(
            "PARTMATCH_STAFF_TOKENS / PARTMATCH_TOKENS: nobody has the staff role, so nobody "
            "could log in"
        )
    backend = Backend(server or settings.grpc_address, staff, settings)
    return create_app(
        backend,
        Staff(staff, settings.console_secret),
        secure_cookies=secure_cookies(settings),
        sessions=SessionStore(clock=clock),
        limits=LoginLimits(
            settings.console_login_max_failures, settings.console_lockout_s, clock=clock
        ),
    )


def secure_cookies(settings: Settings) -> bool:
    """Served over TLS, by uvicorn itself or by a proxy in front: cookies get Secure."""
    return bool(settings.console_tls_cert) or settings.console_secure_cookie


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """uvicorn.run's keyword arguments for these settings: where to listen, and TLS."""
    host, _, port = settings.console_address.rpartition(":")
    options: dict[str, Any] = {
        "host": host.strip("[]"),
        "port": int(port),
        "log_level": "info",
        # The login limits count per client address: a client must not choose its own.
        "proxy_headers": False,
    }
    if settings.console_tls_cert:
        options["ssl_certfile"] = settings.console_tls_cert
        options["ssl_keyfile"] = settings.console_tls_key
    return options


def console_url(settings: Settings) -> str:
    host, _, port = settings.console_address.rpartition(":")
    scheme = "https" if settings.console_tls_cert else "http"
    return f"{scheme}://{host}:{port}/"


def run_console(settings: Settings, server: str = "") -> None:
    import uvicorn

    app = build_console(settings, server)
    backend = server or settings.grpc_address
    print(f"partmatch console on {console_url(settings)} (server {backend})")
    uvicorn.run(app, **uvicorn_options(settings))
