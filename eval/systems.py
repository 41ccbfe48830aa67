"""The systems an evaluation compares, behind one small interface.

Each answers a text with its ranked SKUs, the confidence of its top answer, and whether it
says the text names no part. Single signals and baselines never say "no part" and have no
decision policy: metrics that need one are null for them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from matcher.decision import Decision
from matcher.engine import Matcher


@dataclass(frozen=True)
class Answer:
    ranked: list[str]
    confidence: float
    # None: the system has no decision; otherwise the Decision's value.
    decision: str | None = None


class System(Protocol):
    name: str

    def answer(self, text: str) -> Answer: ...


@dataclass
class ServiceSystem:
    """The full service: every signal, the learned fusion, calibration and decisions."""

    matcher: Matcher
    name: str = "service"

    def answer(self, text: str) -> Answer:
        result = self.matcher.match(text, top_k=10)
        ranked = [c.sku for c in result.candidates]
        if result.decision is Decision.NO_MATCH:
            return Answer(ranked, 0.0, result.decision.value)
        top = result.candidates[0].confidence if result.candidates else 0.0
        return Answer(ranked, top, result.decision.value)


@dataclass
class SignalSystem:
    """One signal of the service alone: its own ranking, its top score as confidence."""

    matcher: Matcher
    signal: str
    name: str

    def answer(self, text: str) -> Answer:
        hits, _ = self.matcher.hits(text)
        ranked = [h.sku for h in hits.get(self.signal, [])][:10]
        top = hits[self.signal][0].score if ranked else 0.0
        return Answer(ranked, float(top))


@dataclass
class RankingSystem:
    """Any ranker given as a function text -> [(sku, score)], with its own confidence."""

    rank: Callable[[str], list[tuple[str, float]]]
    confidence: Callable[[list[float]], float]
    name: str

    def answer(self, text: str) -> Answer:
        ranked = self.rank(text)
        return Answer([s for s, _ in ranked], self.confidence([score for _, score in ranked]))
