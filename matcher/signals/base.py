"""The one interface every signal implements, and the hits signals return."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import NamedTuple, Protocol

from matcher.catalog import Part
from matcher.catalog_view import CatalogView
from matcher.examples import Example
from matcher.query import Query


class Hit(NamedTuple):
    # A named tuple, not a frozen dataclass: a Match makes about 300 of them, and a frozen
    # dataclass's __init__ (a setattr per field) cost 2.5 times as much.
    sku: str
    # In [0, 1]; comparable across queries for the same signal.
    score: float
    # Finer evidence for learned fusion and for explaining a match (e.g. matched terms).
    features: Mapping[str, float] = MappingProxyType({})
    explanation: str = ""


class SignalUnavailable(RuntimeError):
    """A signal could not answer (its backend is down or too slow); the others still can."""


class Signal(Protocol):
    """A search function over a catalog view; it never changes the view."""

    name: str

    def search(self, view: CatalogView, query: Query, k: int) -> list[Hit]:
        """The k best parts for a query, best first. May raise SignalUnavailable."""


class RemoteIndex(Protocol):
    """An index outside the process (Elasticsearch) that a remote signal searches; the
    matcher hands it every catalog change, as it does to its own view."""

    def load(self, parts: Sequence[Part], examples: Sequence[Example]) -> None: ...

    def upsert(self, parts: Sequence[Part]) -> None: ...

    def retire(self, skus: Iterable[str]) -> None: ...


def best_per_sku(pairs: Iterable[tuple[str, float]]) -> dict[str, float]:
    best: dict[str, float] = {}
    for sku, score in pairs:
        if score > best.get(sku, float("-inf")):
            best[sku] = score
    return best


def top_hits(scores: Mapping[str, float], k: int) -> list[Hit]:
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:k]
    return [Hit(sku, float(score)) for sku, score in ranked]
