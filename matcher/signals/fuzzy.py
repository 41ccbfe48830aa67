"""Fuzzy string similarity (rapidfuzz) of the query to every part's name and aliases.

Catches typos ("alternater") and word order ("pads brake front") that BM25 misses.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz, process, utils

from matcher.catalog import Part
from matcher.examples import Example
from matcher.query import Query
from matcher.signals.base import Hit, RebuildingSignal, best_per_sku


@dataclass(frozen=True)
class _Names:
    choices: list[str]
    skus: list[str]


class FuzzySignal(RebuildingSignal[_Names]):
    name = "fuzzy"

    def _build(self, parts: list[Part], examples: list[Example]) -> _Names:
        choices, skus = [], []
        for part in parts:
            for name in part.names():
                choices.append(utils.default_process(name))
                skus.append(part.sku)
        return _Names(choices, skus)

    def _search(self, state: _Names, query: Query, k: int) -> list[Hit]:
        text = utils.default_process(query.text)
        if not text or not state.choices:
            return []
        # WRatio mixes full, partial and token-order ratios: it scores "front brake pads" high
        # inside "hi need front brake pads for a 2012 golf" while penalising loose overlaps.
        matches = process.extract(
            text, state.choices, scorer=fuzz.WRatio, limit=max(k * 4, 20), score_cutoff=40
        )
        token_set = {i: fuzz.token_set_ratio(text, state.choices[i]) / 100.0 for _, _, i in matches}
        best = best_per_sku((state.skus[i], score / 100.0) for _, score, i in matches)
        best_set = best_per_sku((state.skus[i], token_set[i]) for _, _, i in matches)
        hits = [
            Hit(sku, score, features={"fuzzy_wratio": score, "fuzzy_token_set": best_set[sku]})
            for sku, score in best.items()
        ]
        hits.sort(key=lambda h: (-h.score, h.sku))
        return hits[:k]
