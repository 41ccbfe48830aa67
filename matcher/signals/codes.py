"""Part and model numbers matched after normalising case and separators; the codes of each
part are the view's (matcher/catalog_view/code_index.py).

A typed number one character off a catalog code (a typo, a misread O for 0) still proposes
that part, at a lower score and marked `code_near`: the decision never uses such an answer
without a person.
"""

from __future__ import annotations

from matcher.catalog_view import CatalogView
from matcher.query import Query
from matcher.signals.base import Hit

NEAR_MISS_WEIGHT = 0.5


class CodeSignal:
    name = "code"

    def search(self, view: CatalogView, query: Query, k: int) -> list[Hit]:
        scores: dict[str, float] = {}
        for code in query.codes:
            _score_owners(view, code, 1.0, scores)
        near: dict[str, float] = {}
        if not scores:
            for code in query.codes:
                for other in view.codes.near_misses(code):
                    _score_owners(view, other, NEAR_MISS_WEIGHT, near)
        hits = [Hit(sku, score) for sku, score in scores.items()]
        hits += [Hit(sku, score, {"code_near": 1.0}) for sku, score in near.items()]
        hits.sort(key=lambda h: (-h.score, h.sku))
        return hits[:k]


def _score_owners(view: CatalogView, code: str, weight: float, scores: dict[str, float]) -> None:
    owners = view.codes.owners.get(code, {})
    for sku, own_weight in owners.items():
        # A code shared by many parts identifies none of them well.
        score = weight * own_weight / len(owners) ** 0.5
        scores[sku] = max(scores.get(sku, 0.0), score)
