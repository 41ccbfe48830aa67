"""Fuzzy string similarity (rapidfuzz) of the query to the parts' names and aliases (all of
them, or in a large catalog those that share most character trigrams with it).

Catches typos ("alternater") and word order ("pads brake front") that BM25 misses.
"""

from __future__ import annotations

import numpy as np
from rapidfuzz import fuzz, process, utils

from matcher.catalog_view import CatalogView
from matcher.query import Query
from matcher.signals.base import Hit, best_per_sku


class FuzzySignal:
    name = "fuzzy"

    def search(self, view: CatalogView, query: Query, k: int) -> list[Hit]:
        names = view.names
        text = utils.default_process(query.text)
        if not text:
            return []
        # WRatio mixes full, partial and token-order ratios: it scores "front brake pads" high
        # inside "hi need front brake pads for a 2012 golf" while penalising loose overlaps.
        choices, skus = names.shortlist(text)
        # cdist, not extract: it scores without the GIL (extract holds it throughout), so a
        # concurrent request's Python, or the encoder's, runs meanwhile. The same scores, kept
        # as extract keeps them: the best max(4k, 20) at or above the cutoff, ties by position.
        scores = process.cdist(
            [text], choices, scorer=fuzz.WRatio, score_cutoff=40, dtype=np.float64, workers=1
        )[0]
        found = np.flatnonzero(scores)
        kept = found[np.lexsort((found, -scores[found]))][: max(k * 4, 20)].tolist()
        matches = [(choices[i], float(scores[i]), i) for i in kept]
        best = best_per_sku((skus[i], score / 100.0) for _, score, i in matches)
        top = sorted(best.items(), key=lambda item: (-item[1], item[0]))[:k]
        # The token-set score only of the parts kept, over each one's names among the matches.
        ours = {sku for sku, _ in top}
        best_set = best_per_sku(
            (skus[i], fuzz.token_set_ratio(text, name) / 100.0)
            for name, _, i in matches
            if skus[i] in ours
        )
        return [
            Hit(sku, score, features={"fuzzy_wratio": score, "fuzzy_token_set": best_set[sku]})
            for sku, score in top
        ]
