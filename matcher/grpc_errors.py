"""Turning refusals into gRPC status codes, the same way in every servicer."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

import grpc

log = logging.getLogger(__name__)

Response = TypeVar("Response")
ErrorCodes = Sequence[tuple[type[Exception], grpc.StatusCode]]


def guard(
    context: grpc.ServicerContext, call: Callable[[], Response], what: str, codes: ErrorCodes
) -> Response:
    """Run a handler: a refusal listed in `codes` aborts with its code and its message;
    anything unexpected is logged and answered INTERNAL, never with a stack trace."""
    try:
        return call()
    except Exception as exc:
        for kind, code in codes:
            if isinstance(exc, kind):
                context.abort(code, str(exc))
        log.exception("%s failed", what)
        context.abort(grpc.StatusCode.INTERNAL, f"{what} failed; see the server log")
    raise AssertionError("unreachable: context.abort raises")
