"""The transport both ends agree on: TLS credentials, message size limits, and the channel the
project's own clients (CLI, console, demo) open to the server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc

from matcher.config import Settings


def channel_options(settings: Settings) -> list[tuple[str, int]]:
    """The same message limit both ways, on the server and on every client of this project:
    an answer the server may send is one its clients accept."""
    size = settings.max_message_bytes
    return [("grpc.max_receive_message_length", size), ("grpc.max_send_message_length", size)]


def server_credentials(settings: Settings) -> grpc.ServerCredentials | None:
    """TLS when a certificate is configured (mTLS with a client CA); None: plaintext."""
    if not settings.tls_cert:
        return None
    pair = (Path(settings.tls_key).read_bytes(), Path(settings.tls_cert).read_bytes())
    client_ca = Path(settings.tls_client_ca).read_bytes() if settings.tls_client_ca else None
    return grpc.ssl_server_credentials(
        [pair], root_certificates=client_ca, require_client_auth=client_ca is not None
    )


def open_channel(address: str, settings: Settings) -> grpc.Channel:
    """A channel to the server: TLS when `server_ca` is set (with the client's certificate for
    mTLS when one is configured), plaintext otherwise."""
    options = channel_options(settings)
    if not settings.server_ca:
        return grpc.insecure_channel(address, options=options)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=Path(settings.server_ca).read_bytes(),
        private_key=Path(settings.client_key).read_bytes() if settings.client_key else None,
        certificate_chain=Path(settings.client_cert).read_bytes() if settings.client_cert else None,
    )
    return grpc.secure_channel(address, credentials, options=options)


def token_metadata(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),) if token else ()


class _TokenInterceptor(grpc.UnaryUnaryClientInterceptor):
    def __init__(self, token: str) -> None:
        self._metadata = token_metadata(token)

    def intercept_unary_unary(
        self,
        continuation: Callable[[grpc.ClientCallDetails, Any], Any],
        client_call_details: grpc.ClientCallDetails,
        request: Any,
    ) -> Any:
        metadata = list(client_call_details.metadata or ())
        # A call that names its own caller keeps it (the console acts for each person).
        if not any(key == "authorization" for key, _ in metadata):
            metadata += self._metadata
        # grpc's call details are a namedtuple.
        details = client_call_details._replace(metadata=metadata)  # type: ignore[attr-defined]
        return continuation(details, request)


def authorized(channel: grpc.Channel, token: str) -> grpc.Channel:
    """`channel` with `token` on every call that does not carry a token of its own."""
    return grpc.intercept_channel(channel, _TokenInterceptor(token))
