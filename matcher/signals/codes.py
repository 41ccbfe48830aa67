"""Part and model numbers matched exactly after normalising case and separators."""

from __future__ import annotations

from collections import defaultdict

from matcher.catalog import Part
from matcher.examples import Example
from matcher.query import Query, extract_codes, normalise_code
from matcher.signals.base import Hit, RebuildingSignal

# Attributes that hold a part's own numbers; codes found in free text count for less because
# a description may mention a compatible or superseded number.
CODE_ATTRIBUTES = ("part_number", "oem_number", "mpn", "model", "model_number")
FREE_TEXT_WEIGHT = 0.9


class CodeSignal(RebuildingSignal[dict[str, dict[str, float]]]):
    name = "code"

    def _build(self, parts: list[Part], examples: list[Example]) -> dict[str, dict[str, float]]:
        index: dict[str, dict[str, float]] = defaultdict(dict)
        for part in parts:
            for code in extract_codes(
                " ".join((*part.names(), part.description)), join_adjacent=False
            ):
                index[code].setdefault(part.sku, FREE_TEXT_WEIGHT)
            for attribute in CODE_ATTRIBUTES:
                value = part.attributes.get(attribute)
                if value and len(normalise_code(value)) >= 3:
                    index[normalise_code(value)][part.sku] = 1.0
        return dict(index)

    def _search(self, state: dict[str, dict[str, float]], query: Query, k: int) -> list[Hit]:
        scores: dict[str, float] = {}
        for code in query.codes:
            owners = state.get(code, {})
            for sku, weight in owners.items():
                # A code shared by many parts identifies none of them well.
                scores[sku] = max(scores.get(sku, 0.0), weight / len(owners) ** 0.5)
        hits = [Hit(sku, score) for sku, score in scores.items()]
        hits.sort(key=lambda h: (-h.score, h.sku))
        return hits[:k]
