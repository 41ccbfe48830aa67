"""Fuzzy string similarity (rapidfuzz) of the query to every part's name and aliases.

Catches typos ("alternater") and word order ("pads brake front") that BM25 misses.
"""

from __future__ import annotations

from rapidfuzz import fuzz, process, utils

from matcher.catalog_view import CatalogView
from matcher.query import Query
from matcher.signals.base import Hit, best_per_sku


class FuzzySignal:
    name = "fuzzy"

    def search(self, view: CatalogView, query: Query, k: int) -> list[Hit]:
        names = view.names
        text = utils.default_process(query.text)
        if not text or not names.choices:
            return []
        # WRatio mixes full, partial and token-order ratios: it scores "front brake pads" high
        # inside "hi need front brake pads for a 2012 golf" while penalising loose overlaps.
        matches = process.extract(
            text, names.choices, scorer=fuzz.WRatio, limit=max(k * 4, 20), score_cutoff=40
        )
        token_set = {i: fuzz.token_set_ratio(text, names.choices[i]) / 100.0 for _, _, i in matches}
        best = best_per_sku((names.skus[i], score / 100.0) for _, score, i in matches)
        best_set = best_per_sku((names.skus[i], token_set[i]) for _, _, i in matches)
        hits = [
            Hit(sku, score, features={"fuzzy_wratio": score, "fuzzy_token_set": best_set[sku]})
            for sku, score in best.items()
        ]
        hits.sort(key=lambda h: (-h.score, h.sku))
        return hits[:k]
