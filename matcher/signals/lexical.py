"""Lexical BM25 over the catalog (and, optionally, the labelled history), embedded with bm25s;
the index is the view's (matcher/catalog_view/lexical_index.py).

Scores are squashed to [0, 1] with s / (s + SATURATION) so that a weak best hit stays weak:
a per-query max-normalisation would call every query's best hit a perfect match.
"""

from __future__ import annotations

from collections.abc import Mapping

from matcher.analysis import terms
from matcher.catalog_view import CatalogView
from matcher.query import Query
from matcher.signals.base import Hit

SATURATION = 5.0


def squash(score: float) -> float:
    return score / (score + SATURATION) if score > 0 else 0.0


class BM25Signal:
    """BM25 over each part's catalog text and, when the view's index holds it, its history."""

    name = "lexical"

    def search(self, view: CatalogView, query: Query, k: int) -> list[Hit]:
        index = view.lexical
        query_terms = terms(f"{query.text} {query.vehicle}")
        if index is None or not query_terms:
            return []
        # Over-fetch: several documents of one part collapse into one hit.
        catalog_best, history_best = index.search(query_terms, max(k * 8, 50))
        return lexical_hits(catalog_best, history_best, k)


def lexical_hits(catalog: Mapping[str, float], history: Mapping[str, float], k: int) -> list[Hit]:
    """One hit per part from its best raw BM25 score over catalog and history documents;
    every lexical backend reports the same features on the same scale."""
    # squash is monotone: the k best raw scores are the k best hits, and only those are built.
    best = {
        sku: max(catalog.get(sku, 0.0), history.get(sku, 0.0))
        for sku in catalog.keys() | history.keys()
    }
    top = sorted(best.items(), key=lambda item: (-squash(item[1]), item[0]))[:k]
    return [
        Hit(
            sku,
            squash(raw),
            features={
                "bm25_catalog": squash(catalog.get(sku, 0.0)),
                "bm25_history": squash(history.get(sku, 0.0)),
            },
        )
        for sku, raw in top
    ]
