"""What fusion hands to the decision: ranked candidates and the evidence about the query."""

from __future__ import annotations

from collections.abc import Container, Mapping
from dataclasses import dataclass, field, replace

# A candidate that explains at most this share of the request's words is held for review.
HOLD_COVERAGE = 0.5
# A candidate's stance on the attributes the customer stated: those it agrees with, and those
# it conflicts with (matcher/candidate_check).
Stance = tuple[frozenset[str], frozenset[str]]
NO_STANCE: Stance = (frozenset(), frozenset())


@dataclass(frozen=True)
class Ranked:
    sku: str
    confidence: float
    # The fusion's inputs for this candidate, each signal's score among them.
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

    def agreeing_first(self, stances: Mapping[str, Stance]) -> Ranking:
        """A candidate that conflicts with an attribute the customer stated (the left mirror
        for "right mirror") placed below every candidate that agrees on that attribute and
        conflicts with none, and no more confident than those. A candidate that says nothing
        about it (brake pads for "right tail light") promotes nothing. `stances`: each
        candidate's stance on the stated attributes (none: it says nothing about any)."""
        # Per candidate: what it contradicts, and, when that is nothing, what it agrees on.
        contested = [stances.get(c.sku, NO_STANCE)[1] for c in self.candidates]
        if not any(contested):
            return self  # the common case
        clean_agreements = [
            None if contested[i] else stances.get(c.sku, NO_STANCE)[0]
            for i, c in enumerate(self.candidates)
        ]
        place = [float(i) for i in range(len(self.candidates))]
        confidence = [c.confidence for c in self.candidates]
        for i in range(len(self.candidates)):
            if not contested[i]:
                continue  # it conflicts with nothing: it stays where it is
            for j in range(i + 1, len(self.candidates)):
                agreed = clean_agreements[j]
                if agreed is not None and contested[i] <= agreed:
                    place[i] = j + 0.5
                    confidence[i] = min(confidence[i], self.candidates[j].confidence)
        if place == sorted(place):
            return self
        order = sorted(range(len(place)), key=lambda i: place[i])
        ranked = [replace(self.candidates[i], confidence=confidence[i]) for i in order]
        return Ranking(ranked, self.nomatch_probability)


def conflicts(features: Mapping[str, float]) -> bool:
    return features.get("attr_conflict", 0.0) > 0


def held_for_review(features: Mapping[str, float]) -> bool:
    """A candidate never used without a person: it conflicts with what the customer stated,
    only a part number one character off points to it, it leaves most of the request
    unexplained (a related part: the tyre for "snow chains 205/55r16", the cabin filter for
    "oil filter camry"), or the request does not tell it from another candidate (the left
    and the right tail light for "corolla tail light": matcher/attributes/variants)."""
    return (
        conflicts(features)
        or features.get("code_near", 0.0) > 0
        or features.get("coverage", 1.0) <= HOLD_COVERAGE
        or features.get("undecided", 0.0) > 0
    )
