"""Who may call what: callers known by their tokens, a role per RPC, one interceptor.

Roles:
- `storefront`: Match and MatchBatch (when PARTMATCH_MATCH_REQUIRES_TOKEN is true; open
  otherwise), and Feedback (mappings it reports become training data);
- `catalog`: UpsertParts and RetireParts;
- `staff`: the Review service, and so the console;
- `admin`: the Admin service (model reloads cost a minute of CPU).
Catalog reads (GetPart, ListParts) need any known caller. Health and reflection are open.
An RPC of partmatch.v1 missing from RULES is refused to everyone: new RPCs fail closed.

Tokens come from PARTMATCH_TOKENS (`name:role+role:token,...`), PARTMATCH_TOKENS_FILE (the
same entries, one per line, `#` comments) and PARTMATCH_STAFF_TOKENS (`name:token`, role
staff). A token is looked up by comparing its SHA-256 with every known token's in constant
time, so neither a near miss nor which entry matched shows in the time taken; tokens are never
logged, only callers' names.
"""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import grpc

from matcher.principals import ROLES, Principal

if TYPE_CHECKING:
    from matcher.config import Settings

log = logging.getLogger(__name__)

ANY_CALLER = ROLES
_PACKAGE = "/partmatch.v1."


@dataclass(frozen=True)
class Rule:
    """The roles any one of which a caller needs; `open` needs no caller at all."""

    roles: frozenset[str]
    open: bool = False


OPEN = Rule(frozenset(), open=True)

RULES: dict[str, Rule] = {
    "/partmatch.v1.Matcher/Match": Rule(frozenset({"storefront"})),
    "/partmatch.v1.Matcher/MatchBatch": Rule(frozenset({"storefront"})),
    "/partmatch.v1.Catalog/UpsertParts": Rule(frozenset({"catalog"})),
    "/partmatch.v1.Catalog/RetireParts": Rule(frozenset({"catalog"})),
    "/partmatch.v1.Catalog/GetPart": Rule(ANY_CALLER),
    "/partmatch.v1.Catalog/ListParts": Rule(ANY_CALLER),
    "/partmatch.v1.Review/ListPending": Rule(frozenset({"staff"})),
    "/partmatch.v1.Review/GetReview": Rule(frozenset({"staff"})),
    "/partmatch.v1.Review/ResolveReview": Rule(frozenset({"staff"})),
    "/partmatch.v1.Feedback/ReportMapping": Rule(frozenset({"storefront"})),
    "/partmatch.v1.Admin/ReloadModel": Rule(frozenset({"admin"})),
}
_MATCH_METHODS = ("/partmatch.v1.Matcher/Match", "/partmatch.v1.Matcher/MatchBatch")
_CLOSED = Rule(frozenset())


_CALLER: contextvars.ContextVar[Principal | None] = contextvars.ContextVar(
    "partmatch_caller", default=None
)


def current_caller() -> Principal | None:
    """The authenticated caller of the RPC being handled (None for an open RPC)."""
    return _CALLER.get()


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


class TokenTable:
    def __init__(self, callers: Sequence[Principal]) -> None:
        self._entries = [(_digest(p.token), p) for p in callers]

    def __len__(self) -> int:
        return len(self._entries)

    def find(self, token: str) -> Principal | None:
        digest = _digest(token)
        found: Principal | None = None
        # Every entry is compared, always: the time taken says nothing about which matched.
        for expected, principal in self._entries:
            if hmac.compare_digest(digest, expected):
                found = principal
        return found


def bearer_token(metadata: Sequence[tuple[str, Any]] | None) -> str:
    for key, value in metadata or ():
        if key == "authorization" and isinstance(value, str):
            scheme, _, token = value.partition(" ")
            if scheme.lower() == "bearer":
                return token.strip()
    return ""


def rule_for(method: str, match_requires_token: bool) -> Rule:
    if not method.startswith(_PACKAGE):
        return OPEN  # health, reflection
    if method in _MATCH_METHODS and not match_requires_token:
        return OPEN
    return RULES.get(method, _CLOSED)


class AccessInterceptor(grpc.ServerInterceptor):
    """Authenticates and authorises every call before its handler runs."""

    def __init__(self, tokens: TokenTable, match_requires_token: bool = False) -> None:
        self._tokens = tokens
        self._match_requires_token = match_requires_token
        if not len(tokens):
            log.warning(
                "no callers configured (PARTMATCH_TOKENS, PARTMATCH_TOKENS_FILE, "
                "PARTMATCH_STAFF_TOKENS): only the open RPCs can be called"
            )

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        method: str = handler_call_details.method
        rule = rule_for(method, self._match_requires_token)
        if rule.open:
            return continuation(handler_call_details)
        token = bearer_token(handler_call_details.invocation_metadata)
        caller = self._tokens.find(token) if token else None
        short = method.removeprefix(_PACKAGE)
        if caller is None:
            return _refusal(
                grpc.StatusCode.UNAUTHENTICATED,
                f"{short} needs `authorization: Bearer <token>` metadata with a valid token",
            )
        if not caller.roles & rule.roles:
            log.warning("refused %s to %s (roles %s)", short, caller.name, sorted(caller.roles))
            needed = " or ".join(sorted(rule.roles)) or "a role nobody has"
            return _refusal(
                grpc.StatusCode.PERMISSION_DENIED,
                f"{caller.name} may not call {short}: needs {needed}",
            )
        handler = continuation(handler_call_details)
        return None if handler is None else _as_caller(handler, caller)


def _refusal(code: grpc.StatusCode, message: str) -> grpc.RpcMethodHandler:
    def refuse(request: bytes, context: grpc.ServicerContext) -> None:
        context.abort(code, message)

    # No deserializer: the request is never parsed for a caller who may not make it.
    return grpc.unary_unary_rpc_method_handler(refuse)


def _as_caller(handler: grpc.RpcMethodHandler, caller: Principal) -> grpc.RpcMethodHandler:
    behaviour = handler.unary_unary
    if behaviour is None:  # every partmatch RPC is unary; anything else passes as it is
        return handler

    def run(request: Any, context: grpc.ServicerContext) -> Any:
        reset = _CALLER.set(caller)
        try:
            return behaviour(request, context)
        finally:
            _CALLER.reset(reset)

    return handler._replace(unary_unary=run)  # type: ignore[attr-defined]


def interceptor_for(settings: Settings) -> AccessInterceptor:
    return AccessInterceptor(TokenTable(settings.principals), settings.match_requires_token)
