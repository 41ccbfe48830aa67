"""The systems an evaluation compares, behind one small interface.

Each answers a text with its ranked SKUs, the confidence of its top answer, and whether it
says the text names no part. Single signals and baselines never say "no part" and have no
decision policy: metrics that need one are null for them. Each is handed the vehicle the
storefront would send with the text (empty when none); only the service reads it, as Match
does, and the others answer the text alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from matcher.catalog_view import CatalogView
from matcher.decision import Decision
from matcher.engine import Matcher
from matcher.query import Query
from matcher.signals.base import Signal


@dataclass(frozen=True)
class Answer:
    ranked: list[str]
    confidence: float
    # None: the system has no decision; otherwise the Decision's value.
    decision: str | None = None


class System(Protocol):
    name: str

    def answer(self, text: str, vehicle: str = "") -> Answer: ...


@dataclass
class ServiceSystem:
    """The full service: every signal, the learned fusion, calibration and decisions."""

    matcher: Matcher
    name: str = "service"

    def answer(self, text: str, vehicle: str = "") -> Answer:
        result = self.matcher.match(text, top_k=10, vehicle=vehicle)
        ranked = [c.sku for c in result.candidates]
        if result.decision is Decision.NO_MATCH:
            return Answer(ranked, 0.0, result.decision.value)
        top = result.candidates[0].confidence if result.candidates else 0.0
        return Answer(ranked, top, result.decision.value)


@dataclass
class SignalSystem:
    """One signal alone: its own ranking, its top score as confidence."""

    signal: Signal
    view: CatalogView
    name: str

    def answer(self, text: str, vehicle: str = "") -> Answer:
        # The text alone: a signal on its own is measured without the service's context.
        hits = self.signal.search(self.view, Query.parse(text), 10)
        return Answer([h.sku for h in hits], hits[0].score if hits else 0.0)


@dataclass
class RankingSystem:
    """Any ranker given as a function text -> [(sku, score)], with its own confidence."""

    rank: Callable[[str], list[tuple[str, float]]]
    confidence: Callable[[list[float]], float]
    name: str

    def answer(self, text: str, vehicle: str = "") -> Answer:
        ranked = self.rank(text)  # baselines take no vehicle
        return Answer([s for s, _ in ranked], self.confidence([score for _, score in ranked]))
