"""What fusion hands to the decision: ranked candidates and the evidence about the query."""

from __future__ import annotations

from collections.abc import Container, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Ranked:
    sku: str
    confidence: float
    # Score of each signal for this candidate, in [0, 1]; what the API reports.
    signals: Mapping[str, float]
    features: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Ranking:
    # Best first.
    candidates: list[Ranked]
    # P(the text names no part), when the fusion models it; None otherwise.
    nomatch_probability: float | None = None

    def restricted_to(self, skus: Container[str]) -> Ranking:
        """The same ranking without candidates outside `skus` (e.g. parts retired meanwhile)."""
        kept = [r for r in self.candidates if r.sku in skus]
        return Ranking(kept, self.nomatch_probability)
