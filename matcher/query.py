"""What a customer typed, normalised once and shared by every signal."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_WORD = re.compile(r"[a-z0-9]+")
# Part and model numbers such as 04465-33471, 1K0615301AA, dav-is50 or ezxs55w.
_CODE_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[-./_][A-Za-z0-9]+)*")
MIN_CODE_CHARS = 4
MAX_CODE_PIECES = 5


def fold(text: str) -> str:
    """Lowercase, strip accents, and collapse whitespace."""
    if text.isascii():
        return " ".join(text.lower().split())  # nothing to strip: most text, far faster
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(ascii_text.lower().split())


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def normalise_code(token: str) -> str:
    """Codes match whatever the case and separators: '04465 33471' == '0446533471'."""
    return re.sub(r"[^a-z0-9]", "", token.lower())


def extract_codes(text: str, join_adjacent: bool = True) -> set[str]:
    """Code-like tokens in a text, normalised. Customers split codes ("04465 33471", "1k0 638
    140 ac", "28364 AB8 003"), so runs of up to MAX_CODE_PIECES adjacent pieces are also tried
    joined; catalogs write them whole."""
    tokens = _CODE_TOKEN.findall(text)
    candidates = list(tokens)
    if join_adjacent:
        for start in range(len(tokens)):
            window = tokens[start : start + MAX_CODE_PIECES]
            for end in range(2, len(window) + 1):
                run = window[:end]
                if not _is_code_piece(run[-1]):
                    break
                if _is_code_piece(run[0]) and any(_has_digit(t) for t in run):
                    candidates.append("".join(run))
    codes = {normalise_code(c) for c in candidates}
    return {c for c in codes if len(c) >= MIN_CODE_CHARS and _looks_like_code(c)}


def _is_code_piece(token: str) -> bool:
    # A piece of a split code has a digit or is a short letter group ("ac", "ab8"); a model
    # year ("for a 2012 golf") is never one: joined to its neighbours it makes codes that
    # mean nothing.
    return not _is_year(token) and (_has_digit(token) or len(token) <= 3)


def _has_digit(token: str) -> bool:
    return any(c.isdigit() for c in token)


def _is_year(token: str) -> bool:
    return token.isdigit() and len(token) == 4 and token.startswith(("19", "20"))


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
