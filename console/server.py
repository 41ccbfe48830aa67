"""`partmatch console`: build the console from settings and serve it with uvicorn."""

from __future__ import annotations

from starlette.applications import Starlette

from console.app import create_app
from console.backend import Backend
from console.security import Staff
from matcher.config import ConfigError, Settings


def build_console(settings: Settings, server: str = "") -> Starlette:
    """The console app talking to the gRPC server at `server` (default: settings.grpc_address)."""
    if not settings.console_secret:
        raise ConfigError("PARTMATCH_CONSOLE_SECRET: required to run the console (signs sessions)")
    staff = settings.staff
    if not staff:
        raise ConfigError("PARTMATCH_STAFF_TOKENS: no staff configured, so nobody could log in")
    backend = Backend(server or settings.grpc_address, staff)
    return create_app(backend, Staff(staff, settings.console_secret), settings.console_secret)


def run_console(settings: Settings, server: str = "") -> None:
    import uvicorn

    app = build_console(settings, server)
    host, _, port = settings.console_address.rpartition(":")
    print(f"partmatch console on http://{host}:{port}/ (server {server or settings.grpc_address})")
    uvicorn.run(app, host=host.strip("[]"), port=int(port), log_level="info", proxy_headers=False)
