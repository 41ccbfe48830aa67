"""The callers the configuration names: who they are, their roles and their tokens.

PARTMATCH_TOKENS holds `name:role+role:token` entries, PARTMATCH_TOKENS_FILE the same entries
one per line (`#` comments), PARTMATCH_STAFF_TOKENS `name:token` entries with the role staff.
Parsed here, below the settings that hold them (matcher/config.py validates with this at start)
and the interceptor that enforces them (matcher/access.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ROLES = frozenset({"storefront", "catalog", "staff", "admin"})
# Long enough that guessing is hopeless. Make one with:
#   python -c "import secrets; print(secrets.token_urlsafe())"
MIN_TOKEN_CHARS = 16
_NAME = re.compile(r"[A-Za-z0-9._@-]{1,64}")


class TokenError(ValueError):
    """A token entry in the configuration that cannot be accepted."""


@dataclass(frozen=True)
class Principal:
    name: str
    roles: frozenset[str]
    token: str

    def __repr__(self) -> str:  # never the token, wherever a principal is printed
        return f"Principal({self.name!r}, roles={sorted(self.roles)})"


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


def principals(tokens: str, tokens_file: str, staff_tokens: str) -> list[Principal]:
    """Everyone PARTMATCH_TOKENS, _TOKENS_FILE and _STAFF_TOKENS name; raises TokenError
    naming the variable at fault."""
    found: list[Principal] = []
    found += parse_entries(tokens.split(","), "PARTMATCH_TOKENS")
    if tokens_file:
        try:
            text = Path(tokens_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TokenError(f"PARTMATCH_TOKENS_FILE {tokens_file}: {exc}") from None
        found += parse_entries(text.splitlines(), f"PARTMATCH_TOKENS_FILE {tokens_file}")
    for name, token in parse_staff_tokens(staff_tokens).items():
        found.append(Principal(name, frozenset({"staff"}), token))
    # One entry per name and per token: a token names exactly one caller.
    seen_names: set[str] = set()
    seen_tokens: set[str] = set()
    for p in found:
        if p.name in seen_names:
            raise TokenError(f"caller {p.name!r} is configured twice (tokens, file or staff)")
        if p.token in seen_tokens:
            raise TokenError(f"caller {p.name!r} has a token that another caller has")
        seen_names.add(p.name)
        seen_tokens.add(p.token)
    return found


def parse_staff_tokens(raw: str) -> dict[str, str]:
    """`name:token,name:token` -> {name: token}; names and tokens must both be unique, so a
    token always identifies exactly one person."""
    staff: dict[str, str] = {}
    for index, entry in enumerate(e.strip() for e in raw.split(",") if e.strip()):
        name, sep, token = (s.strip() for s in entry.partition(":"))
        where = f"PARTMATCH_STAFF_TOKENS entry {index + 1}"
        if not sep or not _NAME.fullmatch(name):
            raise TokenError(f"{where}: expected name:token with a name of letters, digits, ._@-")
        if len(token) < MIN_TOKEN_CHARS:
            raise TokenError(
                f"{where} ({name}): the token must be at least {MIN_TOKEN_CHARS} characters"
            )
        if name in staff:
            raise TokenError(f"{where}: staff name {name!r} appears twice")
        if token in staff.values():
            raise TokenError(f"{where} ({name}): this token is already another staff member's")
        staff[name] = token
    return staff
