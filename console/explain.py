"""Why a candidate was proposed, in words a reviewer can check at a glance, and part search.

Terms are compared the way the lexical signal compares them (folded, stemmed, stopwords
dropped), so "pads" in the text lights up "Pad" in a part name.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from rapidfuzz import fuzz, process

from matcher.analysis import terms
from matcher.query import fold

_WORD = re.compile(r"\w+")


class NamedPart(Protocol):
    @property
    def sku(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def aliases(self) -> Sequence[str]: ...


P = TypeVar("P", bound=NamedPart)


@dataclass(frozen=True)
class Segment:
    text: str
    matched: bool


def highlight(text: str, wanted: set[str]) -> list[Segment]:
    """`text` cut into segments, the words whose term is in `wanted` marked; the template
    wraps marked ones in <mark> and escapes every segment, so no HTML is built here."""
    segments: list[Segment] = []
    position = 0
    for word in _WORD.finditer(text):
        if word.start() > position:
            segments.append(Segment(text[position : word.start()], False))
        segments.append(Segment(word.group(), bool(set(terms(word.group())) & wanted)))
        position = word.end()
    if position < len(text):
        segments.append(Segment(text[position:], False))
    return segments


def matched_words(query: str, names: Sequence[str]) -> list[str]:
    """The words of the query that also occur in any of the names, in the query's order."""
    known = {t for name in names for t in terms(name)}
    found: dict[str, None] = {}
    for word in _WORD.findall(query):
        if set(terms(word)) & known:
            found.setdefault(fold(word), None)
    return list(found)


def search_parts(parts: Sequence[P], query: str, limit: int) -> list[P]:
    """Parts whose SKU, name or alias resembles the query; an exact SKU comes first."""
    wanted = fold(query)
    if not wanted:
        return []
    exact = [p for p in parts if fold(p.sku) == wanted]
    choices: list[str] = []
    owners: list[int] = []
    for index, part in enumerate(parts):
        for name in (part.sku, part.name, *part.aliases):
            choices.append(fold(name))
            owners.append(index)
    # WRatio tolerates typos and word order, as staff type quickly.
    matches = process.extract(wanted, choices, scorer=fuzz.WRatio, limit=limit * 5, score_cutoff=60)
    best: dict[int, float] = {}
    for _, score, i in matches:
        best[owners[i]] = max(best.get(owners[i], 0.0), float(score))
    ranked = sorted(best, key=lambda i: (-best[i], parts[i].sku))
    found = exact + [parts[i] for i in ranked if parts[i] not in exact]
    return found[:limit]
