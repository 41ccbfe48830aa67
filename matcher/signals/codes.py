"""Part and model numbers matched exactly after normalising case and separators; the codes
of each part are the view's (matcher/catalog_view/code_index.py)."""

from __future__ import annotations

from matcher.catalog_view import CatalogView
from matcher.query import Query
from matcher.signals.base import Hit


class CodeSignal:
    name = "code"

    def search(self, view: CatalogView, query: Query, k: int) -> list[Hit]:
        scores: dict[str, float] = {}
        for code in query.codes:
            owners = view.codes.owners.get(code, {})
            for sku, weight in owners.items():
                # A code shared by many parts identifies none of them well.
                scores[sku] = max(scores.get(sku, 0.0), weight / len(owners) ** 0.5)
        hits = [Hit(sku, score) for sku, score in scores.items()]
        hits.sort(key=lambda h: (-h.score, h.sku))
        return hits[:k]
