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
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc

if TYPE_CHECKING:
    from matcher.config import Settings

log = logging.getLogger(__name__)

ROLES = frozenset({"storefront", "catalog", "staff", "admin"})
ANY_CALLER = ROLES
MIN_TOKEN_CHARS = 16
_NAME = re.compile(r"[A-Za-z0-9._@-]{1,64}")
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


class TokenError(ValueError):
    """A token entry in the configuration that cannot be accepted."""


@dataclass(frozen=True)
class Principal:
    name: str
    roles: frozenset[str]
    token: str

    def __repr__(self) -> str:  # never the token, wherever a principal is printed
        return f"Principal({self.name!r}, roles={sorted(self.roles)})"


_CALLER: contextvars.ContextVar[Principal | None] = contextvars.ContextVar(
    "partmatch_caller", default=None
)


def current_caller() -> Principal | None:
    """The authenticated caller of the RPC being handled (None for an open RPC)."""
    return _CALLER.get()


def parse_entries(lines: Iterable[str], source: str) -> list[Principal]:
    """`name:role+role:token` entries; `source` names the variable or file in errors."""
    out: list[Principal] = []
    for number, line in enumerate(lines, start=1):
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        where = f"{source} entry {number}"
        name, roles_text, token = [*entry.split(":", 2), "", ""][:3]
        name, token = name.strip(), token.strip()
        roles = frozenset(r.strip() for r in roles_text.split("+") if r.strip())
        if not _NAME.fullmatch(name):
            raise TokenError(
                f"{where}: expected name:role+role:token with a name of 1-64 letters, "
                "digits or ._@-"
            )
        unknown = roles - ROLES
        if not roles or unknown:
            raise TokenError(
                f"{where} ({name}): roles must be some of {', '.join(sorted(ROLES))}"
                + (f"; unknown: {', '.join(sorted(unknown))}" if unknown else "")
            )
        _check_token(token, f"{where} ({name})")
        out.append(Principal(name, roles, token))
    return out


def _check_token(token: str, where: str) -> None:
    if len(token) < MIN_TOKEN_CHARS or not token.isprintable() or any(c in token for c in " ,"):
        raise TokenError(
            f"{where}: the token must be at least {MIN_TOKEN_CHARS} printable characters "
            "without spaces or commas"
        )


def principals(settings: Settings) -> list[Principal]:
    """Everyone the configuration knows; raises ConfigError naming the variable at fault."""
    from matcher.config import ConfigError, parse_staff_tokens

    found: list[Principal] = []
    try:
        found += parse_entries(settings.tokens.split(","), "PARTMATCH_TOKENS")
        if settings.tokens_file:
            text = Path(settings.tokens_file).read_text(encoding="utf-8")
            found += parse_entries(
                text.splitlines(), f"PARTMATCH_TOKENS_FILE {settings.tokens_file}"
            )
    except (TokenError, OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(exc)) from None
    for name, token in parse_staff_tokens(settings.staff_tokens).items():
        found.append(Principal(name, frozenset({"staff"}), token))
    # One entry per name and per token: a token names exactly one caller.
    names: set[str] = set()
    tokens: set[str] = set()
    for p in found:
        if p.name in names:
            raise ConfigError(f"caller {p.name!r} is configured twice (tokens, file or staff)")
        if p.token in tokens:
            raise ConfigError(f"caller {p.name!r} has a token that another caller has")
        names.add(p.name)
        tokens.add(p.token)
    return found


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
    return AccessInterceptor(TokenTable(principals(settings)), settings.match_requires_token)
