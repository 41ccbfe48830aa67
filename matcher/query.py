"""What a customer typed, normalised once and shared by every signal."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from itertools import pairwise

_WORD = re.compile(r"[a-z0-9]+")
# Part and model numbers such as 04465-33471, 1K0615301AA, dav-is50 or ezxs55w.
_CODE_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[-./_][A-Za-z0-9]+)*")
MIN_CODE_CHARS = 4


def fold(text: str) -> str:
    """Lowercase, strip accents, and collapse whitespace."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(ascii_text.lower().split())


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def normalise_code(token: str) -> str:
    """Codes match whatever the case and separators: '04465 33471' == '0446533471'."""
    return re.sub(r"[^a-z0-9]", "", token.lower())


def extract_codes(text: str, join_adjacent: bool = True) -> set[str]:
    """Code-like tokens in a text, normalised. Customers split codes ("04465 33471", "dav
    is50"), so adjacent tokens are also tried joined; catalogs write them whole."""
    tokens = _CODE_TOKEN.findall(text)
    candidates = list(tokens)
    if join_adjacent:
        candidates += [
            a + b
            for a, b in pairwise(tokens)
            if (_has_digit(a) or _has_digit(b)) and not (_is_year(a) or _is_year(b))
        ]
    codes = {normalise_code(c) for c in candidates}
    return {c for c in codes if len(c) >= MIN_CODE_CHARS and _looks_like_code(c)}


def _has_digit(token: str) -> bool:
    return any(c.isdigit() for c in token)


def _is_year(token: str) -> bool:
    # "for a 2012 golf": joining a model year to its neighbours makes codes that mean nothing.
    return token.isdigit() and len(token) in (2, 4)


def _looks_like_code(code: str) -> bool:
    # A code has digits; pure numbers must be long enough not to be years or quantities.
    has_digit = any(c.isdigit() for c in code)
    has_alpha = any(c.isalpha() for c in code)
    return has_digit and (has_alpha or len(code) >= 6)


@dataclass(frozen=True)
class Query:
    raw: str
    text: str
    codes: frozenset[str]
    vehicle: str = ""

    @classmethod
    def parse(cls, raw: str, vehicle: str = "") -> Query:
        return cls(raw=raw, text=fold(raw), codes=frozenset(extract_codes(raw)), vehicle=vehicle)
