"""Lexical BM25 over the catalog (and, optionally, the labelled history), embedded with bm25s.

Scores are squashed to [0, 1] with s / (s + SATURATION) so that a weak best hit stays weak:
a per-query max-normalisation would call every query's best hit a perfect match.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import bm25s
import numpy as np

from matcher.analysis import terms
from matcher.catalog import Part
from matcher.examples import Example
from matcher.query import Query
from matcher.signals.base import Hit, RebuildingSignal

SATURATION = 5.0


def squash(score: float) -> float:
    return score / (score + SATURATION) if score > 0 else 0.0


@dataclass(frozen=True)
class _Corpus:
    retriever: bm25s.BM25 | None
    # Document i belongs to part doc_skus[i]; history documents repeat their part's SKU.
    doc_skus: list[str]
    is_history: np.ndarray


class BM25Signal(RebuildingSignal[_Corpus]):
    """BM25 over each part's catalog text; with `history=True` also over its labelled texts."""

    name = "lexical"

    def __init__(self, history: bool = True, k1: float = 1.2, b: float = 0.75) -> None:
        super().__init__()
        self.history = history
        self.k1 = k1
        self.b = b

    def _build(self, parts: list[Part], examples: list[Example]) -> _Corpus:
        docs = [terms(p.catalog_text()) for p in parts]
        skus = [p.sku for p in parts]
        flags = [False] * len(parts)
        if self.history:
            for example in examples:
                if example.sku is not None:
                    docs.append(terms(example.text))
                    skus.append(example.sku)
                    flags.append(True)
        # bm25s cannot index an empty document list or an empty document.
        docs = [d or ["\x00"] for d in docs]
        if not docs:
            return _Corpus(None, [], np.zeros(0, dtype=bool))
        retriever = bm25s.BM25(k1=self.k1, b=self.b)
        retriever.index(docs, show_progress=False)
        return _Corpus(retriever, skus, np.asarray(flags, dtype=bool))

    def _search(self, state: _Corpus, query: Query, k: int) -> list[Hit]:
        query_terms = terms(f"{query.text} {query.vehicle}")
        if state.retriever is None or not query_terms:
            return []
        n_docs = len(state.doc_skus)
        # Over-fetch: several documents of one part collapse into one hit.
        docs, scores = state.retriever.retrieve(
            [query_terms], k=min(n_docs, max(k * 8, 50)), show_progress=False, n_threads=1
        )
        catalog_best: dict[str, float] = {}
        history_best: dict[str, float] = {}
        for doc, score in zip(docs[0].tolist(), scores[0].tolist(), strict=True):
            if score <= 0:
                continue
            target = history_best if state.is_history[doc] else catalog_best
            sku = state.doc_skus[doc]
            target[sku] = max(target.get(sku, 0.0), float(score))
        return lexical_hits(catalog_best, history_best, k)


def lexical_hits(catalog: Mapping[str, float], history: Mapping[str, float], k: int) -> list[Hit]:
    """One hit per part from its best raw BM25 score over catalog and history documents;
    every lexical backend reports the same features on the same scale."""
    hits = []
    for sku in catalog.keys() | history.keys():
        cat, hist = catalog.get(sku, 0.0), history.get(sku, 0.0)
        hits.append(
            Hit(
                sku,
                squash(max(cat, hist)),
                features={"bm25_catalog": squash(cat), "bm25_history": squash(hist)},
            )
        )
    hits.sort(key=lambda h: (-h.score, h.sku))
    return hits[:k]
