"""The one interface every signal implements, and a base for in-process signals."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from matcher.catalog import Part
from matcher.examples import Example
from matcher.query import Query


@dataclass(frozen=True)
class Hit:
    sku: str
    # In [0, 1]; comparable across queries for the same signal.
    score: float
    # Finer evidence for learned fusion and for explaining a match (e.g. matched terms).
    features: Mapping[str, float] = field(default_factory=dict)
    explanation: str = ""


class SignalUnavailable(RuntimeError):
    """A signal could not answer (its backend is down or too slow); the others still can."""


class Signal(Protocol):
    name: str

    def load(self, parts: Sequence[Part], examples: Sequence[Example]) -> None:
        """Replace everything the signal knows: active parts and labelled history."""

    def upsert(self, parts: Sequence[Part]) -> None: ...

    def retire(self, skus: Iterable[str]) -> None: ...

    def search(self, query: Query, k: int) -> list[Hit]:
        """The k best parts for a query, best first. May raise SignalUnavailable."""


State = TypeVar("State")


class RebuildingSignal(ABC, Generic[State]):
    """An in-process signal that rebuilds an immutable state on each change.

    Searches read `self._state` once, so a search never sees a half-applied change; builds
    are small (hundreds to thousands of parts) and changes are rare next to searches.
    """

    name = "signal"

    def __init__(self) -> None:
        self._parts: dict[str, Part] = {}
        self._examples: list[Example] = []
        self._lock = threading.Lock()
        self._state: State | None = None

    def load(self, parts: Sequence[Part], examples: Sequence[Example]) -> None:
        with self._lock:
            self._parts = {p.sku: p for p in parts if p.active}
            self._examples = list(examples)
            self._state = self._build(list(self._parts.values()), self._live_examples())

    def upsert(self, parts: Sequence[Part]) -> None:
        with self._lock:
            for part in parts:
                if part.active:
                    self._parts[part.sku] = part
                else:
                    self._parts.pop(part.sku, None)
            self._state = self._build(list(self._parts.values()), self._live_examples())

    def retire(self, skus: Iterable[str]) -> None:
        with self._lock:
            for sku in skus:
                self._parts.pop(sku, None)
            self._state = self._build(list(self._parts.values()), self._live_examples())

    def search(self, query: Query, k: int) -> list[Hit]:
        state = self._state
        if state is None:
            return []
        return self._search(state, query, k)

    def _live_examples(self) -> list[Example]:
        # History of a retired part stays stored (it may come back) but is not searched.
        return [e for e in self._examples if e.sku is None or e.sku in self._parts]

    @abstractmethod
    def _build(self, parts: list[Part], examples: list[Example]) -> State: ...

    @abstractmethod
    def _search(self, state: State, query: Query, k: int) -> list[Hit]: ...


def best_per_sku(pairs: Iterable[tuple[str, float]]) -> dict[str, float]:
    best: dict[str, float] = {}
    for sku, score in pairs:
        if score > best.get(sku, float("-inf")):
            best[sku] = score
    return best


def top_hits(scores: Mapping[str, float], k: int) -> list[Hit]:
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:k]
    return [Hit(sku, float(score)) for sku, score in ranked]
